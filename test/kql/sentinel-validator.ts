/**
 * The rules of Azure-Sentinel's analytics-template validator (`.script/tests/detectionTemplateSchemaValidation`),
 * restated for the fields a Scheduled rule of `dsguard kql --target sentinel` uses, over the YAML parsed as the
 * validator parses it (YAML → JSON object). Sources, in that folder: `Models/AnalyticsTemplateInternalModelBase.cs`
 * (id, kind, name ≤ 256, description ≤ 5,000), `Models/ScheduledTemplateInternalModel.cs` (required fields,
 * severity, query 1–10,000, frequency and period 5 minutes – 14 days, threshold 0–10,000, 1–5 entity mappings of
 * 1–3 fields), `Models/AlertRuleKind.cs`, `Models/AttackTactic.cs`, `Models/ScheduledTemplateTriggerOperatorConverter.cs`,
 * `Models/ScheduledTemplateTimeSpanConverter.cs`, `ModelValidationAttributes/QueryBasedTemplateVersionValidator.cs`
 * (X.Y.Z), `…/PeriodGreaterThanOrEqualFrequencyAttribute.cs`, `FrequencyLimitationForLongPeriodQuery` (period ≥ 2
 * days → frequency ≥ 1 hour), `…/ValidEntityMappingsAttribute.cs` and `Models/EntityMappingIdentifiers.cs` (each
 * identifier valid for its entity type, unique, one required combination present, column `^[a-zA-Z_]+\w*$` ≤ 500),
 * `…/NoTechniquesWithoutMatchingTactics.cs` (a technique's tactic listed), `Models/DataConnectorInternalModel.cs`
 * (`dataTypes` required). The entity types and identifiers agree with Microsoft's "Microsoft Sentinel entity types
 * reference" (MicrosoftDocs/azure-docs `articles/sentinel/entities-reference.md`, "Entity types and identifiers").
 */

/** Per entity type: the identifiers a mapping may use, and the combinations of which one must be present. */
export const ENTITY_IDENTIFIERS: Readonly<Record<string, { identifiers: readonly string[]; required: string[][] }>> = {
  Account: {
    identifiers: [
      'Name',
      'FullName',
      'NTDomain',
      'DnsDomain',
      'UPNSuffix',
      'Sid',
      'AadTenantId',
      'AadUserId',
      'PUID',
      'IsDomainJoined',
      'DisplayName',
      'ObjectGuid',
    ],
    required: [['FullName'], ['Sid'], ['Name'], ['AadUserId'], ['PUID'], ['ObjectGuid']],
  },
  AzureResource: { identifiers: ['ResourceId'], required: [['ResourceId']] },
  CloudApplication: { identifiers: ['AppId', 'Name', 'InstanceName'], required: [['AppId'], ['Name']] },
  DNS: { identifiers: ['DomainName'], required: [['DomainName']] },
  File: { identifiers: ['Directory', 'Name'], required: [['Name']] },
  FileHash: { identifiers: ['Algorithm', 'Value'], required: [['Algorithm', 'Value']] },
  Host: {
    identifiers: [
      'DnsDomain',
      'NTDomain',
      'HostName',
      'FullName',
      'NetBiosName',
      'AzureID',
      'OMSAgentID',
      'OSFamily',
      'OSVersion',
      'IsDomainJoined',
    ],
    required: [['FullName'], ['HostName'], ['NetBiosName'], ['AzureID'], ['OMSAgentID']],
  },
  IP: { identifiers: ['Address'], required: [['Address']] },
  Mailbox: {
    identifiers: ['MailboxPrimaryAddress', 'DisplayName', 'Upn', 'ExternalDirectoryObjectId', 'RiskLevel'],
    required: [['MailboxPrimaryAddress']],
  },
  MailMessage: {
    identifiers: [
      'Recipient',
      'Urls',
      'Threats',
      'Sender',
      'P1Sender',
      'P1SenderDisplayName',
      'P1SenderDomain',
      'SenderIP',
      'P2Sender',
      'P2SenderDisplayName',
      'P2SenderDomain',
      'ReceivedDate',
      'NetworkMessageId',
      'InternetMessageId',
      'Subject',
      'BodyFingerprintBin1',
      'BodyFingerprintBin2',
      'BodyFingerprintBin3',
      'BodyFingerprintBin4',
      'BodyFingerprintBin5',
      'AntispamDirection',
      'DeliveryAction',
      'DeliveryLocation',
      'Language',
      'ThreatDetectionMethods',
    ],
    required: [['NetworkMessageId'], ['Recipient']],
  },
  URL: { identifiers: ['Url'], required: [['Url']] },
};

const KINDS = ['Scheduled', 'NRT'];
const SEVERITIES = ['Informational', 'Low', 'Medium', 'High'];
const TRIGGER_OPERATORS = ['gt', 'lt', 'eq', 'ne', 'GreaterThan', 'LessThan', 'Equal', 'NotEqual'];
const TACTICS = [
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'Exfiltration',
  'CommandAndControl',
  'Impact',
  'Reconnaissance',
  'ResourceDevelopment',
  'ImpairProcessControl',
  'InhibitResponseFunction',
];
/** MITRE ATT&CK: the tactics of the techniques dsguard's rules name (T1566 Phishing: Initial Access). */
const TECHNIQUE_TACTICS: Readonly<Record<string, string[]>> = { T1566: ['InitialAccess'] };
/** Connector ids the rules name, as listed in the validator's `ValidConnectorIds.json`. */
const CONNECTOR_IDS = ['MicrosoftThreatProtection'];

/** `<n>m|h|d` → minutes (the converter also takes .NET TimeSpan text; dsguard writes the short form). */
function minutes(v: unknown): number | null {
  const m = typeof v === 'string' ? /^(\d+)([mhd])$/.exec(v) : null;
  return m ? Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'] : null;
}

/** Every rule the validator applies to a Scheduled template that this one breaks (empty: valid). */
export function sentinelTemplateErrors(t: Record<string, unknown>): string[] {
  const e: string[] = [];
  for (const f of [
    'id',
    'kind',
    'name',
    'description',
    'requiredDataConnectors',
    'severity',
    'query',
    'queryFrequency',
    'queryPeriod',
    'triggerOperator',
    'triggerThreshold',
  ]) {
    if (!(f in t)) e.push(`${f}: required`);
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(str(t.id) ?? ''))
    e.push('id: not a GUID');
  if (!KINDS.includes(str(t.kind) ?? '')) e.push(`kind: ${String(t.kind)}`);
  if ((str(t.name)?.length ?? 0) > 256) e.push('name: over 256');
  if ((str(t.description)?.length ?? 0) > 5000) e.push('description: over 5000');
  if (!SEVERITIES.includes(str(t.severity) ?? '')) e.push(`severity: ${String(t.severity)}`);
  const q = str(t.query) ?? '';
  if (q.length < 1 || q.length > 10_000) e.push('query: length');
  if (t.version !== undefined && !/^(\d+\.)(\d+\.)(\d+)$/.test(str(t.version) ?? '')) e.push('version: not X.Y.Z');
  const freq = minutes(t.queryFrequency);
  const period = minutes(t.queryPeriod);
  for (const [n, v] of [
    ['queryFrequency', freq],
    ['queryPeriod', period],
  ] as const) {
    if (v === null || v < 5 || v > 14 * 1440) e.push(`${n}: outside 5m–14d`);
  }
  if (freq !== null && period !== null) {
    if (period < freq) e.push('queryPeriod < queryFrequency');
    if (period >= 2 * 1440 && freq < 60) e.push('queryPeriod ≥ 2d needs queryFrequency ≥ 1h');
  }
  if (!TRIGGER_OPERATORS.includes(str(t.triggerOperator) ?? ''))
    e.push(`triggerOperator: ${String(t.triggerOperator)}`);
  const th = t.triggerThreshold;
  if (typeof th !== 'number' || !Number.isInteger(th) || th < 0 || th > 10_000) e.push('triggerThreshold: 0–10000');
  const tactics = Array.isArray(t.tactics) ? (t.tactics as unknown[]) : [];
  for (const x of tactics) if (!TACTICS.includes(String(x))) e.push(`tactics: ${String(x)}`);
  for (const tech of Array.isArray(t.relevantTechniques) ? (t.relevantTechniques as unknown[]) : []) {
    const base = String(tech).split('.')[0]!;
    const needed = TECHNIQUE_TACTICS[base];
    if (!needed?.every((x) => tactics.includes(x))) e.push(`relevantTechniques: ${String(tech)} without its tactic`);
  }
  const connectors = Array.isArray(t.requiredDataConnectors)
    ? (t.requiredDataConnectors as Record<string, unknown>[])
    : [];
  for (const c of connectors) {
    if (!Array.isArray(c.dataTypes)) e.push('requiredDataConnectors: dataTypes required');
    if (!CONNECTOR_IDS.includes(String(c.connectorId))) e.push(`connectorId: ${String(c.connectorId)}`);
  }
  if (t.entityMappings !== undefined) e.push(...entityMappingErrors(t.entityMappings));
  return e;
}

export function entityMappingErrors(value: unknown): string[] {
  const e: string[] = [];
  const maps = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  if (maps.length < 1 || maps.length > 5) e.push(`entityMappings: ${maps.length} (1–5)`);
  for (const m of maps) {
    const type = String(m.entityType);
    const known = ENTITY_IDENTIFIERS[type];
    if (!known) {
      e.push(`entityType: ${type}`);
      continue;
    }
    const fields = Array.isArray(m.fieldMappings) ? (m.fieldMappings as Record<string, unknown>[]) : [];
    if (fields.length < 1 || fields.length > 3) e.push(`${type}: ${fields.length} field mappings (1–3)`);
    const used = new Set<string>();
    for (const f of fields) {
      const id = String(f.identifier);
      const col = String(f.columnName);
      if (!known.identifiers.includes(id)) e.push(`${type}: identifier ${id}`);
      if (used.has(id)) e.push(`${type}: identifier ${id} twice`);
      if (col.length > 500 || !/^[a-zA-Z_]+\w*$/.test(col)) e.push(`${type}: column ${col}`);
      used.add(id);
    }
    if (!known.required.some((combo) => combo.every((id) => used.has(id))))
      e.push(`${type}: no required identifier (${known.required.map((c) => c.join('+')).join(' | ')})`);
  }
  return e;
}
