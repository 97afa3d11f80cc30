/**
 * The tenant's Exchange Online configuration as dsguard reads it: the objects of fifteen Get-* cmdlets, each
 * validated with zod (only the properties the checks use; the rest is ignored), whether they came from JSON
 * files dumped with PowerShell or from the admin API. Pure: text/objects in, {@link TenantConfig} out.
 *
 * A batch of objects is recognised by its content (marker properties), not by a file name: a dump made by
 * `dsguard powershell --config` also says which cmdlet wrote it (`{"Cmdlet":"Get-…","Value":[…]}`).
 * A malformed object names the source, the object and the property; the other objects are still used.
 * @module
 */
import { z } from 'zod';

export const CMDLETS = [
  'Get-OrganizationConfig',
  'Get-AcceptedDomain',
  'Get-InboundConnector',
  'Get-OutboundConnector',
  'Get-HostedContentFilterPolicy',
  'Get-HostedContentFilterRule',
  'Get-HostedConnectionFilterPolicy',
  'Get-AntiPhishPolicy',
  'Get-AntiPhishRule',
  'Get-EOPProtectionPolicyRule',
  'Get-ATPProtectionPolicyRule',
  'Get-TenantAllowBlockListSpoofItems',
  'Get-TransportRule',
  'Get-DkimSigningConfig',
  'Get-ArcConfig',
] as const;
export type Cmdlet = (typeof CMDLETS)[number];

export function isCmdlet(s: string): s is Cmdlet {
  return (CMDLETS as readonly string[]).includes(s);
}

/** Multi-valued properties arrive as arrays, a single string, or null. */
const strList = z
  .union([z.array(z.union([z.string(), z.number()])), z.string(), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : v === '' ? [] : [v]));
/** A property that may be missing or null (both read as `null`); `error` replaces zod's message for a bad value. */
function orNull<T extends z.ZodType>(schema: T, error?: string) {
  return z
    .union([schema, z.null()], error === undefined ? undefined : { error })
    .optional()
    .transform((v) => v ?? null);
}
const optStr = orNull(z.string());
const optBool = orNull(z.boolean());
/** The name of a policy, rule or connector: required. */
const objectName = z.string().min(1).max(256);
const name = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => v ?? '');
/**
 * Enum properties are read by name. Windows PowerShell 5.1's ConvertTo-Json can write an enum as its number; the
 * numbering is not documented, so a number is reported as malformed (with what to do) rather than guessed.
 */
const ENUM_HINT = 'a number here means the dump wrote the enum value: re-dump with PowerShell 7 (pwsh)';
const onOff = orNull(z.enum(['Off', 'On', 'Test']), `expected Off, On or Test; ${ENUM_HINT}`);
const ruleState = orNull(z.enum(['Enabled', 'Disabled']), `expected Enabled or Disabled; ${ENUM_HINT}`);
const priority = orNull(z.number().int());

export const organizationSchema = z.object({
  Name: name,
  DisplayName: optStr,
  ExternalDirectoryOrganizationId: optStr,
  RejectDirectSend: optBool,
});
export const acceptedDomainSchema = z.object({
  Name: name,
  DomainName: z.string().min(1).max(253),
  DomainType: optStr,
  Default: optBool,
  InitialDomain: optBool,
});
export const inboundConnectorSchema = z.object({
  Name: objectName,
  Enabled: z.boolean(),
  ConnectorType: z.enum(['Partner', 'OnPremises']),
  SenderIPAddresses: strList,
  SenderDomains: strList,
  AssociatedAcceptedDomains: strList,
  RestrictDomainsToIPAddresses: optBool,
  RestrictDomainsToCertificate: optBool,
  TlsSenderCertificateName: optStr,
  RequireTls: optBool,
  TreatMessagesAsInternal: optBool,
  CloudServicesMailEnabled: optBool,
  EFSkipIPs: strList,
  EFSkipLastIP: optBool,
});
export const outboundConnectorSchema = z.object({
  Name: objectName,
  Enabled: optBool,
  ConnectorType: optStr,
  SmartHosts: strList,
  RecipientDomains: strList,
  UseMXRecord: optBool,
});
export const contentFilterPolicySchema = z.object({
  Name: objectName,
  IsDefault: optBool,
  MarkAsSpamSpfRecordHardFail: onOff,
  MarkAsSpamFromAddressAuthFail: onOff,
  RecommendedPolicyType: optStr,
});
/** The policy a rule applies and the recipients it applies it to (filter rules and preset policy rules alike). */
const ruleTarget = {
  HostedContentFilterPolicy: optStr,
  AntiPhishPolicy: optStr,
  SentTo: strList,
  SentToMemberOf: strList,
  RecipientDomainIs: strList,
};
export const policyRuleSchema = z.object({
  Name: objectName,
  State: ruleState,
  Priority: priority,
  ...ruleTarget,
});
export const connectionFilterPolicySchema = z.object({
  Name: objectName,
  IPAllowList: strList,
  EnableSafeList: optBool,
});
export const antiPhishPolicySchema = z.object({
  Name: objectName,
  IsDefault: optBool,
  Enabled: optBool,
  EnableSpoofIntelligence: optBool,
  HonorDmarcPolicy: optBool,
  EnableUnauthenticatedSender: optBool,
  AuthenticationFailAction: optStr,
  RecommendedPolicyType: optStr,
});
export const presetRuleSchema = z.object({
  Name: objectName,
  Identity: optStr,
  State: ruleState,
  Priority: priority,
  ...ruleTarget,
});
export const spoofItemSchema = z.object({
  Identity: optStr,
  SpoofedUser: z.string().min(1).max(512),
  SendingInfrastructure: z.string().max(512),
  SpoofType: optStr,
  Action: z.enum(['Allow', 'Block']),
});
export const transportRuleSchema = z.object({
  Name: objectName,
  State: ruleState,
  Mode: optStr,
  Priority: priority,
  SetSCL: z
    .union([z.number().int(), z.string(), z.null()])
    .optional()
    .transform((v) => (v === undefined || v === null || v === '' ? null : Number(v))),
  SenderDomainIs: strList,
  SenderIpRanges: strList,
  FromAddressMatchesPatterns: strList,
  FromAddressContainsWords: strList,
  From: strList,
  SenderAddressLocation: optStr,
  HeaderMatchesMessageHeader: optStr,
  HeaderMatchesPatterns: strList,
  HeaderContainsMessageHeader: optStr,
  HeaderContainsWords: strList,
  FromScope: optStr,
  ExceptIfSenderIpRanges: strList,
  Quarantine: optBool,
  PrependSubject: optStr,
  SetHeaderName: optStr,
  ApplyHtmlDisclaimerText: optStr,
  RedirectMessageTo: strList,
  RejectMessageReasonText: optStr,
  DeleteMessage: optBool,
});
export const dkimSchema = z.object({
  Domain: z.string().min(1).max(253),
  Enabled: z.boolean(),
  Status: optStr,
});
export const arcSchema = z.object({
  ArcTrustedSealers: strList,
});

export const SCHEMAS = {
  'Get-OrganizationConfig': organizationSchema,
  'Get-AcceptedDomain': acceptedDomainSchema,
  'Get-InboundConnector': inboundConnectorSchema,
  'Get-OutboundConnector': outboundConnectorSchema,
  'Get-HostedContentFilterPolicy': contentFilterPolicySchema,
  'Get-HostedContentFilterRule': policyRuleSchema,
  'Get-HostedConnectionFilterPolicy': connectionFilterPolicySchema,
  'Get-AntiPhishPolicy': antiPhishPolicySchema,
  'Get-AntiPhishRule': policyRuleSchema,
  'Get-EOPProtectionPolicyRule': presetRuleSchema,
  'Get-ATPProtectionPolicyRule': presetRuleSchema,
  'Get-TenantAllowBlockListSpoofItems': spoofItemSchema,
  'Get-TransportRule': transportRuleSchema,
  'Get-DkimSigningConfig': dkimSchema,
  'Get-ArcConfig': arcSchema,
} as const satisfies Record<Cmdlet, z.ZodType>;

export type ObjectOf<C extends Cmdlet> = z.output<(typeof SCHEMAS)[C]>;
export type Objects = { [C in Cmdlet]?: ObjectOf<C>[] };

/** Where each batch came from (a file path, or `admin API`). */
export type Origins = { [C in Cmdlet]?: string };

export interface ConfigProblem {
  /** DS790 missing, DS791 malformed, DS792 unrecognised, DS793 read failure. */
  code: 'DS790' | 'DS791' | 'DS792' | 'DS793';
  source: string;
  message: string;
}

export interface TenantConfig {
  objects: Objects;
  origins: Origins;
  problems: ConfigProblem[];
}

/** Marker properties: an object with all of one entry's keys is that cmdlet's output. Most specific first. */
const MARKERS: [Cmdlet, string[]][] = [
  ['Get-EOPProtectionPolicyRule', ['HostedContentFilterPolicy', 'AntiPhishPolicy', 'MalwareFilterPolicy']],
  ['Get-ATPProtectionPolicyRule', ['SafeAttachmentPolicy', 'SafeLinksPolicy']],
  ['Get-HostedContentFilterRule', ['HostedContentFilterPolicy', 'Priority']],
  ['Get-AntiPhishRule', ['AntiPhishPolicy', 'Priority']],
  ['Get-HostedContentFilterPolicy', ['MarkAsSpamSpfRecordHardFail']],
  ['Get-AntiPhishPolicy', ['EnableSpoofIntelligence']],
  ['Get-HostedConnectionFilterPolicy', ['IPAllowList', 'EnableSafeList']],
  ['Get-TenantAllowBlockListSpoofItems', ['SpoofedUser', 'SendingInfrastructure']],
  ['Get-InboundConnector', ['ConnectorType', 'SenderIPAddresses', 'RestrictDomainsToIPAddresses']],
  ['Get-OutboundConnector', ['SmartHosts', 'RecipientDomains']],
  ['Get-TransportRule', ['SetSCL', 'Mode']],
  ['Get-DkimSigningConfig', ['Selector1CNAME']],
  ['Get-ArcConfig', ['ArcTrustedSealers']],
  ['Get-AcceptedDomain', ['DomainName', 'DomainType']],
  ['Get-OrganizationConfig', ['RejectDirectSend']],
  ['Get-OrganizationConfig', ['ExternalDirectoryOrganizationId', 'IsDehydrated']],
];

export function recognise(obj: unknown): Cmdlet | null {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  for (const [cmdlet, keys] of MARKERS) if (keys.every((k) => k in obj)) return cmdlet;
  return null;
}

/** Drop OData/PowerShell serialisation noise: `@odata.*` keys and `<Prop>@data.type` / `@odata.type` sidecars. */
export function stripNoise(obj: unknown): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!k.includes('@')) out[k] = v;
  return out;
}

function label(obj: unknown, i: number): string {
  if (typeof obj === 'object' && obj !== null) {
    const o = obj as Record<string, unknown>;
    for (const k of ['Name', 'DomainName', 'Domain', 'SpoofedUser', 'Identity']) {
      const v = o[k];
      if (typeof v === 'string' && v !== '') return `object ${i + 1} (${v.slice(0, 80)})`;
    }
  }
  return `object ${i + 1}`;
}

/** Validate one batch; a bad object is a problem naming the property, the rest of the batch is kept. */
export function parseBatch<C extends Cmdlet>(
  cmdlet: C,
  rows: readonly unknown[],
  source: string,
): { objects: ObjectOf<C>[]; problems: ConfigProblem[] } {
  const schema = SCHEMAS[cmdlet] as unknown as z.ZodType<ObjectOf<C>>;
  const objects: ObjectOf<C>[] = [];
  const problems: ConfigProblem[] = [];
  rows.forEach((raw, i) => {
    const r = schema.safeParse(stripNoise(raw));
    if (r.success) objects.push(r.data);
    else {
      const issue = r.error.issues[0]!;
      const prop = issue.path.length > 0 ? issue.path.join('.') : '(object)';
      problems.push({
        code: 'DS791',
        source,
        message: `${source}: ${cmdlet} ${label(raw, i)}: property ${prop}: ${issue.message}; this object is left out`,
      });
    }
  });
  return { objects, problems };
}

export function emptyConfig(): TenantConfig {
  return { objects: {}, origins: {}, problems: [] };
}

/** Add a batch to the configuration (two sources of one cmdlet: the later is a problem, the first is kept). */
export function addBatch(config: TenantConfig, cmdlet: Cmdlet, rows: readonly unknown[], source: string): void {
  if (config.origins[cmdlet] !== undefined) {
    config.problems.push({
      code: 'DS792',
      source,
      message: `${source}: holds ${cmdlet} output already read from ${config.origins[cmdlet]}; this one is ignored`,
    });
    return;
  }
  const r = parseBatch(cmdlet, rows, source);
  (config.objects as Record<string, unknown[]>)[cmdlet] = r.objects;
  config.origins[cmdlet] = source;
  config.problems.push(...r.problems);
}

/**
 * One JSON document (a dump file's content): `{"Cmdlet","Value"}` from `dsguard powershell --config`, an array of
 * objects, or one object. Objects of several cmdlets in one array are split by content.
 */
export function addDocument(config: TenantConfig, doc: unknown, source: string): void {
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'Cmdlet' in doc && 'Value' in doc) {
    const c = String((doc as { Cmdlet: unknown }).Cmdlet);
    const v = (doc as { Value: unknown }).Value;
    if (!isCmdlet(c)) {
      config.problems.push({
        code: 'DS792',
        source,
        message: `${source}: Cmdlet "${c.slice(0, 60)}" is not one dsguard reads`,
      });
      return;
    }
    addBatch(config, c, v === null ? [] : Array.isArray(v) ? v : [v], source);
    return;
  }
  let rows: unknown[] = Array.isArray(doc) ? doc : [doc];
  // `Get-X | ConvertTo-Json` of an OData response keeps its envelope: unwrap `value`.
  if (
    !Array.isArray(doc) &&
    typeof doc === 'object' &&
    doc !== null &&
    Array.isArray((doc as { value?: unknown }).value)
  )
    rows = (doc as { value: unknown[] }).value;
  if (rows.length === 0) {
    config.problems.push({
      code: 'DS792',
      source,
      message: `${source}: an empty list, and nothing says which cmdlet wrote it (dump with dsguard powershell --config)`,
    });
    return;
  }
  const byCmdlet = new Map<Cmdlet, unknown[]>();
  const unrecognised: unknown[] = [];
  for (const row of rows) {
    const c = recognise(row);
    if (c === null) unrecognised.push(row);
    else byCmdlet.set(c, [...(byCmdlet.get(c) ?? []), row]);
  }
  // A file of one cmdlet's objects: an object that lost its marker properties is that cmdlet's too, so its
  // validation error names the property instead of "not recognised".
  const only = byCmdlet.size === 1 ? [...byCmdlet.keys()][0]! : null;
  if (only !== null && unrecognised.length > 0) byCmdlet.get(only)!.push(...unrecognised.splice(0));
  const unknown = unrecognised.length;
  if (unknown > 0)
    config.problems.push({
      code: 'DS792',
      source,
      message: `${source}: ${unknown} object(s) not recognised as the output of any cmdlet dsguard reads`,
    });
  for (const [c, list] of byCmdlet) addBatch(config, c, list, source);
}
