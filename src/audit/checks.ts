/**
 * The scorecard: the seed's prevention checklist (and the connector, filter and rule controls that decide
 * whether Direct Send and internal spoofs get through) scored over a {@link TenantConfig}, the DNS posture of
 * the accepted domains and, optionally, the sources seen in the store. Pure: no I/O, same input → same rows.
 *
 * Each row: a stable code, the seed's wording as its name, pass / fail / unknown / info, the evidence (object,
 * property, value) and the commands that fix it. A control whose input is missing is `unknown` and names the
 * cmdlet to dump; MFA and Conditional Access are always `unknown`: nothing here can verify them.
 * @module
 */
import { normalizeDomain } from '../core/domain-name.js';
import { type Cidr, ipInAny, parseCidr } from '../core/net-address.js';
import type { DomainExposure } from '../core/posture/exposure-audit.js';
import { psList, psQuote } from '../core/quote/powershell.js';
import type { Cmdlet, ObjectOf, TenantConfig } from './config.js';

export type ControlStatus = 'pass' | 'fail' | 'unknown' | 'info';

export interface ControlEvidence {
  object: string;
  property: string;
  value: string;
}

export interface ControlRow {
  code: string;
  /** The control, in the seed's wording where the seed names it. */
  control: string;
  /** What this row is about (a connector, a domain, a policy), or `null` for the tenant. */
  subject: string | null;
  status: ControlStatus;
  /** One or two sentences: why this status. */
  detail: string;
  evidence: ControlEvidence[];
  /** PowerShell or DNS changes that fix it, each complete; empty when nothing is to change. */
  fix: string[];
  /** Cmdlet outputs this row needed and did not have. */
  missing: Cmdlet[];
}

export interface StoreFacts {
  /** Sources the report calls legitimate (or likely) that RejectDirectSend would reject. */
  legitimateSources: { id: string; name: string | null; ips: string[]; messages: number }[];
  directSendMessages: number;
}

export interface AuditInput {
  config: TenantConfig;
  /** The DNS posture of each accepted domain; `null`: DNS was not consulted. */
  dns: ReadonlyMap<string, DomainExposure> | null;
  store: StoreFacts | null;
  /** Sources confirmed legitimate (the profile's directSendSources): excepted from the transport rule. */
  knownSources: { name: string; ips: string[] }[];
}

export interface Scorecard {
  tenant: { name: string | null; id: string | null; domains: string[] };
  controls: ControlRow[];
  summary: Record<ControlStatus, number>;
  /** Problems reading the configuration (DS790–DS793), one line each. */
  problems: string[];
}

type Obj<C extends Cmdlet> = ObjectOf<C>;

const MFA_VERIFY =
  'Check Entra ID: Conditional Access policies (Graph /identity/conditionalAccess/policies, Policy.Read.All) requiring MFA for all users, and the authentication methods registration report. The Exchange configuration does not hold them.';

function row(
  code: string,
  control: string,
  subject: string | null,
  status: ControlStatus,
  detail: string,
  evidence: ControlEvidence[] = [],
  fix: string[] = [],
  missing: Cmdlet[] = [],
): ControlRow {
  return { code, control, subject, status, detail, evidence, fix, missing };
}

function unknownRow(code: string, control: string, missing: Cmdlet[], subject: string | null = null): ControlRow {
  return row(
    code,
    control,
    subject,
    'unknown',
    `Not scored: ${missing.join(', ')} output is missing (dump it with dsguard powershell --config).`,
    [],
    [],
    missing,
  );
}

const ev = (object: string, property: string, value: unknown): ControlEvidence => ({
  object,
  property,
  value:
    value === null || value === undefined
      ? '(not set)'
      : Array.isArray(value)
        ? value.length
          ? value.join(', ')
          : '(empty)'
        : String(value),
});

/** `smtp:*;1` → `*`, `smtp:contoso.com;1` → `contoso.com`. */
export function senderDomain(entry: string): string {
  return entry
    .replace(/^smtp:/i, '')
    .replace(/;\d+$/, '')
    .trim()
    .toLowerCase();
}

/** IPv4 CIDR prefix length of an entry (`1.2.3.0/24` → 24, a single address → 32, a range → by size). */
function prefixOf(entry: string): number | null {
  const range = /^(\d+\.\d+\.\d+\.\d+)\s*-\s*(\d+\.\d+\.\d+\.\d+)$/.exec(entry.trim());
  if (range) {
    const n = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const size = n(range[2]!) - n(range[1]!) + 1;
    return size <= 0 ? null : 32 - Math.ceil(Math.log2(size));
  }
  const m = /\/(\d{1,3})$/.exec(entry.trim());
  if (m) return Number(m[1]);
  return parseCidr(entry) ? (entry.includes(':') ? 128 : 32) : null;
}

function cidrsOf(entries: readonly string[]): Cidr[] {
  return entries.map((e) => parseCidr(e)).filter((c): c is Cidr => c !== null);
}

/** Connectors that exempt mail from RejectDirectSend: matched by sender IP or certificate. */
export function matchesByIpOrCert(c: Obj<'Get-InboundConnector'>): { ips: string[]; certificate: string | null } {
  const cert = c.TlsSenderCertificateName;
  if (c.ConnectorType === 'OnPremises') return { ips: c.SenderIPAddresses, certificate: cert };
  return {
    ips: c.RestrictDomainsToIPAddresses === true ? c.SenderIPAddresses : [],
    certificate: cert !== null && cert !== '' ? cert : null,
  };
}

// -------------------------------------------------------------------------------------------------
// Which anti-phishing / anti-spam policy applies to whom (presets over custom over default)

interface Applied<P> {
  /** `Strict preset`, `Standard preset`, `rule <name>`, `default policy`. */
  layer: string;
  policy: P | null;
  policyName: string;
  /** `all recipients` or the rule's conditions. */
  scope: string;
  /** The preset's fixed settings apply (no policy object to read). */
  preset: 'Strict' | 'Standard' | null;
}

function scopeOf(r: { SentTo: string[]; SentToMemberOf: string[]; RecipientDomainIs: string[] }): string {
  const parts: string[] = [];
  if (r.SentTo.length) parts.push(`SentTo ${r.SentTo.join(', ')}`);
  if (r.SentToMemberOf.length) parts.push(`SentToMemberOf ${r.SentToMemberOf.join(', ')}`);
  if (r.RecipientDomainIs.length) parts.push(`RecipientDomainIs ${r.RecipientDomainIs.join(', ')}`);
  return parts.length ? parts.join('; ') : 'all recipients';
}

function presetKind(r: { Name: string; Identity?: string | null }): 'Strict' | 'Standard' | null {
  const n = `${r.Name} ${r.Identity ?? ''}`;
  return /strict/i.test(n) ? 'Strict' : /standard/i.test(n) ? 'Standard' : null;
}

/**
 * The policies that apply to someone, in precedence order. A layer that covers all recipients hides every
 * layer below it. `policyOf` names the policy a rule points to.
 */
function appliedPolicies<P extends { Name: string; IsDefault: boolean | null }>(
  presets: Obj<'Get-EOPProtectionPolicyRule'>[],
  rules: Obj<'Get-AntiPhishRule'>[],
  policies: P[],
  policyOf: (r: { HostedContentFilterPolicy: string | null; AntiPhishPolicy: string | null }) => string | null,
): Applied<P>[] {
  const out: Applied<P>[] = [];
  const byName = new Map(policies.map((p) => [p.Name.toLowerCase(), p]));
  const enabled = (s: string | null) => s === null || s === 'Enabled';
  const layers: { layer: string; name: string | null; scope: string; preset: 'Strict' | 'Standard' | null }[] = [];
  const presetRules = presets
    .filter((r) => enabled(r.State))
    .map((r) => ({ r, kind: presetKind(r) }))
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'Strict' ? -1 : 1));
  for (const { r, kind } of presetRules)
    layers.push({
      layer: `${kind ?? 'Preset'} preset (${r.Name})`,
      name: policyOf(r),
      scope: scopeOf(r),
      preset: kind,
    });
  for (const r of [...rules].filter((x) => enabled(x.State)).sort((a, b) => (a.Priority ?? 0) - (b.Priority ?? 0)))
    layers.push({ layer: `rule ${r.Name}`, name: policyOf(r), scope: scopeOf(r), preset: null });
  const def = policies.find((p) => p.IsDefault === true) ?? null;
  layers.push({ layer: 'default policy', name: def?.Name ?? null, scope: 'everyone not covered above', preset: null });
  for (const l of layers) {
    const policy = l.name ? (byName.get(l.name.toLowerCase()) ?? null) : l.layer === 'default policy' ? def : null;
    if (l.layer === 'default policy' && policy === null) continue;
    out.push({
      layer: l.layer,
      policy,
      policyName: l.name ?? policy?.Name ?? '(unnamed)',
      scope: l.scope,
      preset: l.preset,
    });
    if (l.scope === 'all recipients') break;
  }
  return out;
}

// -------------------------------------------------------------------------------------------------

const SEED = {
  rejectDirectSend: 'Enable “Reject Direct Send” in the Exchange Admin Center',
  dmarc: 'Implement a strict DMARC policy (e.g., p=reject)',
  flagUnauth: 'Flag unauthenticated internal emails for review or quarantine',
  spfHardFail: 'Enforcing “SPF hardfail” within Exchange Online Protection (EOP)',
  antiSpoof: 'Use Anti-Spoofing policies',
  mfa: 'Enforce MFA on all users and have Conditional Access policies in place',
  staticIp: 'Enforce a static IP address in the SPF record to prevent unwanted send abuse',
} as const;

export function auditTenant(input: AuditInput): Scorecard {
  const o = input.config.objects;
  const rows: ControlRow[] = [];
  const org = o['Get-OrganizationConfig']?.[0] ?? null;
  const domains = (o['Get-AcceptedDomain'] ?? []).map((d) => normalizeDomain(d.DomainName)).sort();
  const accepted = new Set(domains);
  const inbound = o['Get-InboundConnector'];
  const enabledInbound = (inbound ?? []).filter((c) => c.Enabled);

  // DS740 — RejectDirectSend
  if (!org) rows.push(unknownRow('DS740', SEED.rejectDirectSend, ['Get-OrganizationConfig']));
  else if (org.RejectDirectSend === true)
    rows.push(
      row(
        'DS740',
        SEED.rejectDirectSend,
        null,
        'pass',
        'RejectDirectSend is on: anonymous mail whose P1 MAIL FROM is an accepted domain and that matches no IP- or certificate-based connector is rejected (550 5.7.68).',
        [ev('OrganizationConfig', 'RejectDirectSend', true)],
      ),
    );
  else if (org.RejectDirectSend === null)
    rows.push(
      row(
        'DS740',
        SEED.rejectDirectSend,
        null,
        'unknown',
        'The OrganizationConfig object has no RejectDirectSend property (a dump from an older module, or a tenant the setting has not reached): re-dump with a current ExchangeOnlineManagement module, or check Get-OrganizationConfig | Select RejectDirectSend.',
        [ev('OrganizationConfig', 'RejectDirectSend', '(absent)')],
      ),
    );
  else {
    const breaking = input.store
      ? input.store.legitimateSources.filter(
          (s) => !s.ips.some((ip) => enabledInbound.some((c) => ipInAny(ip, cidrsOf(matchesByIpOrCert(c).ips)))),
        )
      : null;
    const evidence = [ev('OrganizationConfig', 'RejectDirectSend', false)];
    let detail =
      'RejectDirectSend is off: anyone can send mail as your accepted domains to your mailboxes through the smart host.';
    if (breaking) {
      detail +=
        breaking.length === 0
          ? ' The store shows no legitimate Direct Send source left without a connector: enabling it breaks nothing seen.'
          : ` Enabling it now would break ${breaking.length} legitimate source(s) seen in the store (${breaking.reduce((n, s) => n + s.messages, 0)} message(s)): give them a connector first (dsguard report shows the plan).`;
      for (const s of breaking.slice(0, 20)) evidence.push(ev(`source ${s.name ?? s.id}`, 'ips', s.ips));
    } else detail += ' Run with --db to see which legitimate sources it would break.';
    rows.push(
      row(
        'DS740',
        SEED.rejectDirectSend,
        null,
        'fail',
        detail,
        evidence,
        breaking && breaking.length > 0 ? [] : ['Set-OrganizationConfig -RejectDirectSend $true'],
      ),
    );
  }

  // Inbound connectors
  if (!inbound) {
    for (const [code, name] of [
      ['DS741', 'Partner connectors restrict their sender domains to IPs or a certificate'],
      ['DS742', 'No connector accepts any sender domain (*) from broad IP ranges'],
      ['DS743', 'OnPremises connectors do not make outside mail internal'],
      ['DS745', 'RestrictDomainsToIPAddresses on an accepted domain: what it rejects'],
    ] as const)
      rows.push(unknownRow(code, name, ['Get-InboundConnector']));
  } else {
    if (inbound.length === 0)
      rows.push(
        row(
          'DS741',
          'Inbound connectors',
          null,
          'info',
          'No inbound connector: every message from outside arrives without one, so RejectDirectSend applies to all anonymous mail claiming an accepted domain.',
          [ev('InboundConnector', '(count)', 0)],
        ),
      );
    for (const c of inbound) {
      const subject = `inbound connector ${c.Name}`;
      const obj = `InboundConnector ${c.Name}`;
      const domainsOf = c.SenderDomains.map(senderDomain);
      if (!c.Enabled) {
        rows.push(
          row('DS741', 'Inbound connector state', subject, 'info', 'Disabled: it matches no mail.', [
            ev(obj, 'Enabled', false),
          ]),
        );
        continue;
      }
      if (c.ConnectorType === 'Partner') {
        const m = matchesByIpOrCert(c);
        const restricted = c.RestrictDomainsToIPAddresses === true || c.RestrictDomainsToCertificate === true;
        const evidence = [
          ev(obj, 'SenderDomains', domainsOf),
          ev(obj, 'SenderIPAddresses', c.SenderIPAddresses),
          ev(obj, 'RestrictDomainsToIPAddresses', c.RestrictDomainsToIPAddresses),
          ev(obj, 'RestrictDomainsToCertificate', c.RestrictDomainsToCertificate),
          ev(obj, 'TlsSenderCertificateName', c.TlsSenderCertificateName),
        ];
        if (restricted)
          rows.push(
            row(
              'DS741',
              'Partner connectors restrict their sender domains to IPs or a certificate',
              subject,
              'pass',
              `Mail from ${domainsOf.join(', ')} is accepted only from ${m.ips.length ? m.ips.join(', ') : `the certificate ${m.certificate}`}.`,
              evidence,
            ),
          );
        else {
          const fix: string[] = [];
          if (c.SenderIPAddresses.length > 0)
            fix.push(
              `Set-InboundConnector -Identity ${psQuote(c.Name)} -RestrictDomainsToIPAddresses $true  # rejects mail from its SenderDomains that does not come from ${c.SenderIPAddresses.join(', ')}`,
            );
          else if (c.TlsSenderCertificateName)
            fix.push(
              `Set-InboundConnector -Identity ${psQuote(c.Name)} -RestrictDomainsToCertificate $true  # rejects mail from its SenderDomains not sent with the certificate ${c.TlsSenderCertificateName}`,
            );
          rows.push(
            row(
              'DS741',
              'Partner connectors restrict their sender domains to IPs or a certificate',
              subject,
              'fail',
              `Matched by sender domain only (${domainsOf.join(', ')}): anyone can claim those domains, and the connector neither identifies nor restricts the partner. It does not exempt mail from RejectDirectSend either.${fix.length === 0 ? ' It lists no IP or certificate: ask the partner for its sending IPv4 addresses or certificate name, then set SenderIPAddresses with RestrictDomainsToIPAddresses $true (or TlsSenderCertificateName with RestrictDomainsToCertificate $true).' : ''}`,
              evidence,
              fix,
            ),
          );
        }
      }
      // DS742 — SenderDomains * with broad IP ranges
      if (domainsOf.includes('*')) {
        const broad = c.SenderIPAddresses.filter((e) => {
          const p = prefixOf(e);
          return p !== null && p < 24;
        });
        rows.push(
          broad.length > 0
            ? row(
                'DS742',
                'No connector accepts any sender domain (*) from broad IP ranges',
                subject,
                'fail',
                `Accepts every sender domain from ranges wider than /24 (${broad.join(', ')}): any host in them — other tenants of a cloud or hosting provider included — is treated as this connector's sender.`,
                [ev(obj, 'SenderDomains', domainsOf), ev(obj, 'SenderIPAddresses', c.SenderIPAddresses)],
                c.SenderIPAddresses.some((e) => !broad.includes(e))
                  ? [
                      `Set-InboundConnector -Identity ${psQuote(c.Name)} -SenderIPAddresses ${psList(c.SenderIPAddresses.filter((e) => !broad.includes(e)))}  # replaces the list with its /24-or-narrower entries: add the exact hosts that really send from the broad ranges`,
                    ]
                  : [],
              )
            : row(
                'DS742',
                'No connector accepts any sender domain (*) from broad IP ranges',
                subject,
                'pass',
                c.SenderIPAddresses.length
                  ? `Every range is /24 or narrower (${c.SenderIPAddresses.join(', ')}).`
                  : 'Matched by certificate, not by IP ranges.',
                [ev(obj, 'SenderIPAddresses', c.SenderIPAddresses)],
              ),
        );
      }
      // DS743 — OnPremises connectors that make outside mail internal
      if (c.ConnectorType === 'OnPremises') {
        const evidence = [
          ev(obj, 'ConnectorType', c.ConnectorType),
          ev(obj, 'SenderIPAddresses', c.SenderIPAddresses),
          ev(obj, 'TlsSenderCertificateName', c.TlsSenderCertificateName),
          ev(obj, 'TreatMessagesAsInternal', c.TreatMessagesAsInternal),
        ];
        const broad = c.SenderIPAddresses.filter((e) => (prefixOf(e) ?? 32) < 24);
        if (c.TreatMessagesAsInternal === true || broad.length > 0)
          rows.push(
            row(
              'DS743',
              'OnPremises connectors do not make outside mail internal',
              subject,
              'fail',
              c.TreatMessagesAsInternal === true
                ? 'TreatMessagesAsInternal is on: everything this connector matches is handled as internal mail (no spoof or anti-spam verdicts as for outside mail). Keep it only for a hybrid on-premises organisation that really sends through it.'
                : `Matches by IP ranges wider than /24 (${broad.join(', ')}): hosts that are not your mail servers are relayed as your organisation.`,
              evidence,
              c.TreatMessagesAsInternal === true
                ? [
                    `Set-InboundConnector -Identity ${psQuote(c.Name)} -TreatMessagesAsInternal $false  # mail through it is no longer treated as internal`,
                  ]
                : [],
            ),
          );
        else
          rows.push(
            row(
              'DS743',
              'OnPremises connectors do not make outside mail internal',
              subject,
              'info',
              `OnPremises: mail it matches (${c.SenderIPAddresses.length ? c.SenderIPAddresses.join(', ') : `certificate ${c.TlsSenderCertificateName ?? '(none)'}`}) is relayed as your organisation's; make sure only your own servers match.`,
              evidence,
            ),
          );
      }
      // DS745 — RestrictDomainsToIPAddresses on an accepted domain
      const ownDomains = domainsOf.filter((d) => accepted.has(d));
      if (c.ConnectorType === 'Partner' && c.RestrictDomainsToIPAddresses === true && ownDomains.length > 0)
        rows.push(
          row(
            'DS745',
            'RestrictDomainsToIPAddresses on an accepted domain: what it rejects',
            subject,
            'info',
            `Mail claiming ${ownDomains.join(', ')} from any IP other than ${c.SenderIPAddresses.join(', ') || '(none)'} is rejected — Direct Send spoofs of those domains included, and also any legitimate sender of those domains that is not listed (SaaS senders, printers).`,
            [
              ev(obj, 'SenderDomains', domainsOf),
              ev(obj, 'RestrictDomainsToIPAddresses', true),
              ev(obj, 'SenderIPAddresses', c.SenderIPAddresses),
            ],
          ),
        );
    }
  }

  // DS744 — legitimate Direct Send sources not covered by any connector
  if (!inbound)
    rows.push(unknownRow('DS744', 'Connectors cover every legitimate Direct Send source', ['Get-InboundConnector']));
  else if (!input.store)
    rows.push(
      row(
        'DS744',
        'Connectors cover every legitimate Direct Send source',
        null,
        'unknown',
        'Not scored: needs the sources seen in mail (run with --db after dsguard ingest).',
      ),
    );
  else {
    const uncovered = input.store.legitimateSources.filter(
      (s) => !s.ips.some((ip) => enabledInbound.some((c) => ipInAny(ip, cidrsOf(matchesByIpOrCert(c).ips)))),
    );
    rows.push(
      uncovered.length === 0
        ? row(
            'DS744',
            'Connectors cover every legitimate Direct Send source',
            null,
            'pass',
            `${input.store.legitimateSources.length} legitimate source(s) in the store; none is left without a matching connector.`,
          )
        : row(
            'DS744',
            'Connectors cover every legitimate Direct Send source',
            null,
            'fail',
            `${uncovered.length} legitimate Direct Send source(s) send from IPs no enabled connector matches: RejectDirectSend would reject them. dsguard report prints the connector for each.`,
            uncovered.slice(0, 20).map((s) => ev(`source ${s.name ?? s.id}`, 'ips', s.ips)),
          ),
    );
  }

  // Anti-phishing: spoof intelligence, HonorDmarcPolicy, unauthenticated sender indicators
  const phish = o['Get-AntiPhishPolicy'];
  const phishRules = o['Get-AntiPhishRule'];
  const eop = o['Get-EOPProtectionPolicyRule'];
  const phishMissing = [
    ...(phish ? [] : ['Get-AntiPhishPolicy' as const]),
    ...(phishRules ? [] : ['Get-AntiPhishRule' as const]),
    ...(eop ? [] : ['Get-EOPProtectionPolicyRule' as const]),
  ];
  const phishSettings = [
    [
      'DS746',
      SEED.antiSpoof,
      'EnableSpoofIntelligence',
      'spoof intelligence',
      'Without it, spoofed senders (your own domains included) are not acted on as spoofs.',
    ],
    [
      'DS747',
      'Anti-phishing honours the sender domain’s DMARC policy',
      'HonorDmarcPolicy',
      'honouring DMARC p=quarantine/reject',
      'Mail failing DMARC of a domain at p=reject is not rejected/quarantined as the owner asked.',
    ],
    [
      'DS748',
      'Unauthenticated sender indicators are shown',
      'EnableUnauthenticatedSender',
      'the unverified-sender indicator (“?” in Outlook)',
      'Users get no visual cue that the sender could not be verified.',
    ],
  ] as const;
  if (phishMissing.length > 0)
    for (const [code, name] of phishSettings) rows.push(unknownRow(code, name, phishMissing));
  else {
    const applied = appliedPolicies(eop!, phishRules!, phish!, (r) => r.AntiPhishPolicy);
    for (const [code, name, prop, what, risk] of phishSettings) {
      const off: string[] = [];
      const evidence: ControlEvidence[] = [];
      const fix: string[] = [];
      for (const a of applied) {
        // Preset policies fix these settings to On (Microsoft's Standard and Strict presets).
        const value = a.policy ? a.policy[prop] : a.preset ? true : null;
        evidence.push(
          ev(
            `AntiPhishPolicy ${a.policyName} (${a.layer}; ${a.scope})`,
            prop,
            value ?? (a.preset ? 'On (preset)' : '(not set)'),
          ),
        );
        if (value === false) {
          off.push(`${a.policyName} (${a.scope})`);
          if (!a.preset)
            fix.push(`Set-AntiPhishPolicy -Identity ${psQuote(a.policyName)} -${prop} $true  # turns on ${what}`);
        }
      }
      rows.push(
        off.length === 0
          ? row(
              code,
              name,
              null,
              'pass',
              `On in every anti-phishing policy that applies (${applied.map((a) => a.layer).join(' → ')}).`,
              evidence,
            )
          : row(code, name, null, 'fail', `Off in ${off.join('; ')}. ${risk}`, evidence, fix),
      );
    }
  }

  // DS749 — Tenant Allow/Block spoof allow entries covering the tenant's own domains
  const spoof = o['Get-TenantAllowBlockListSpoofItems'];
  if (!spoof || !o['Get-AcceptedDomain'])
    rows.push(
      unknownRow('DS749', 'No spoof allow entry covers your own domains', [
        ...(spoof ? [] : ['Get-TenantAllowBlockListSpoofItems' as const]),
        ...(o['Get-AcceptedDomain'] ? [] : ['Get-AcceptedDomain' as const]),
      ]),
    );
  else {
    const own = spoof.filter((s) => {
      if (s.Action !== 'Allow') return false;
      const d = normalizeDomain(s.SpoofedUser.includes('@') ? s.SpoofedUser.split('@').pop()! : s.SpoofedUser);
      return [...accepted].some((a) => d === a || d.endsWith(`.${a}`));
    });
    rows.push(
      own.length === 0
        ? row(
            'DS749',
            'No spoof allow entry covers your own domains',
            null,
            'pass',
            `${spoof.filter((s) => s.Action === 'Allow').length} spoof allow entr(ies), none for an accepted domain.`,
          )
        : row(
            'DS749',
            'No spoof allow entry covers your own domains',
            null,
            'fail',
            'A spoof allow entry lets mail claiming your own domain through from that infrastructure even when authentication fails (“Tenant Allow/Block List spoof allowed”) — a Direct Send spoof from it included.',
            own.map((s) =>
              ev(
                `spoof entry ${s.SpoofedUser} / ${s.SendingInfrastructure}`,
                'Action',
                `${s.Action} (${s.SpoofType ?? 'type not set'})`,
              ),
            ),
            own.filter((s) => s.Identity).length
              ? [
                  `Remove-TenantAllowBlockListSpoofItems -Identity Default -Ids ${psList(own.map((s) => s.Identity!).filter(Boolean))}  # deletes these spoof allow entries`,
                ]
              : [],
          ),
    );
  }

  // DS750 — connection filter IPAllowList
  const conn = o['Get-HostedConnectionFilterPolicy'];
  if (!conn)
    rows.push(
      unknownRow('DS750', 'The connection filter IP Allow List is empty', ['Get-HostedConnectionFilterPolicy']),
    );
  else
    for (const p of conn) {
      rows.push(
        p.IPAllowList.length === 0
          ? row(
              'DS750',
              'The connection filter IP Allow List is empty',
              `connection filter ${p.Name}`,
              'pass',
              'No IP skips spam filtering.',
              [ev(`HostedConnectionFilterPolicy ${p.Name}`, 'IPAllowList', [])],
            )
          : row(
              'DS750',
              'The connection filter IP Allow List is empty',
              `connection filter ${p.Name}`,
              'fail',
              'Mail from these IPs skips spam filtering (IPV:CAL): a spoof from any of them — a shared cloud or hosting range included — lands in the inbox. Allow a partner with a connector or an allow entry scoped to it instead.',
              [ev(`HostedConnectionFilterPolicy ${p.Name}`, 'IPAllowList', p.IPAllowList)],
              [
                `Set-HostedConnectionFilterPolicy -Identity ${psQuote(p.Name)} -IPAllowList @{Remove=${psList(p.IPAllowList)}}  # removes these addresses from the IP Allow List`,
              ],
            ),
      );
    }

  // DS751 — transport rules that set SCL -1 by sender domain or IP range
  const rules = o['Get-TransportRule'];
  if (!rules)
    rows.push(
      unknownRow('DS751', 'No transport rule bypasses spam filtering by sender domain or IP', ['Get-TransportRule']),
    );
  else {
    const bypass = rules.filter(
      (r) =>
        r.SetSCL === -1 &&
        r.State !== 'Disabled' &&
        (r.SenderDomainIs.length > 0 ||
          r.SenderIpRanges.length > 0 ||
          r.FromAddressMatchesPatterns.length > 0 ||
          r.From.length > 0),
    );
    if (bypass.length === 0)
      rows.push(
        row(
          'DS751',
          'No transport rule bypasses spam filtering by sender domain or IP',
          null,
          'pass',
          `${rules.length} transport rule(s); none sets SCL -1 on a sender domain or IP condition.`,
        ),
      );
    for (const r of bypass)
      rows.push(
        row(
          'DS751',
          'No transport rule bypasses spam filtering by sender domain or IP',
          `transport rule ${r.Name}`,
          'fail',
          'Sets SCL -1 (bypass spam filtering) for mail matched by sender domain or IP: a sender domain is trivially spoofed — your own included — and an IP range may hold other senders.',
          [
            ev(`TransportRule ${r.Name}`, 'SetSCL', -1),
            ev(`TransportRule ${r.Name}`, 'SenderDomainIs', r.SenderDomainIs),
            ev(`TransportRule ${r.Name}`, 'SenderIpRanges', r.SenderIpRanges),
            ev(`TransportRule ${r.Name}`, 'FromAddressMatchesPatterns', r.FromAddressMatchesPatterns),
          ],
          [
            `Disable-TransportRule -Identity ${psQuote(r.Name)} -Confirm:$false  # stops the bypass; review, then remove it or replace the condition with a connector`,
          ],
        ),
      );
  }

  // DS752/DS753 — MarkAsSpam ASF options (advisory: Microsoft recommends Off)
  const hcf = o['Get-HostedContentFilterPolicy'];
  for (const [code, prop, header] of [
    ['DS752', 'MarkAsSpamSpfRecordHardFail', 'SPF Record Fail'],
    ['DS753', 'MarkAsSpamFromAddressAuthFail', 'SPF From Record Fail'],
  ] as const) {
    const name =
      code === 'DS752'
        ? SEED.spfHardFail
        : 'Mark as spam when the From address fails authentication (advanced spam filter)';
    if (!hcf) {
      rows.push(unknownRow(code, name, ['Get-HostedContentFilterPolicy']));
      continue;
    }
    const on = hcf.filter((p) => p[prop] === 'On' || p[prop] === 'Test');
    rows.push(
      on.length === 0
        ? row(
            code,
            name,
            null,
            'pass',
            `Off in every anti-spam policy, as Microsoft recommends once anti-spoofing (spoof intelligence, DMARC) is on: the anti-spoofing verdicts already cover it.`,
            hcf.map((p) => ev(`HostedContentFilterPolicy ${p.Name}`, prop, p[prop])),
          )
        : row(
            code,
            name,
            null,
            'info',
            `On in ${on.map((p) => p.Name).join(', ')}: mail is marked high-confidence spam (X-CustomSpam: ${header}). Microsoft lists this advanced spam filter option as not recommended: it can catch legitimate mail, and anti-spoofing covers it. The seed's advice to enforce SPF hard fail predates that guidance; keep it only if you have measured it.`,
            on.map((p) => ev(`HostedContentFilterPolicy ${p.Name}`, prop, p[prop])),
            on.map(
              (p) =>
                `Set-HostedContentFilterPolicy -Identity ${psQuote(p.Name)} -${prop} Off  # turns the advanced spam filter option off`,
            ),
          ),
    );
  }

  // DS754 — MX at a third-party gateway: lock-down connector
  if (!input.dns)
    rows.push(
      row(
        'DS754',
        'Mail cannot bypass the gateway through the smart host',
        null,
        'unknown',
        'Not scored: DNS was not consulted (MX records decide whether a gateway is in front).',
      ),
    );
  else {
    const gated = domains.filter((d) => input.dns!.get(d)?.gatewayBypass === true);
    if (gated.length === 0)
      rows.push(
        row(
          'DS754',
          'Mail cannot bypass the gateway through the smart host',
          null,
          'pass',
          'No accepted domain has its MX at a third-party gateway (or DNS could not tell): there is no gateway to bypass.',
          domains.map((d) => ev(`MX ${d}`, 'gatewayBypass', input.dns!.get(d)?.gatewayBypass ?? '(not looked up)')),
        ),
      );
    else if (!inbound)
      rows.push(unknownRow('DS754', 'Mail cannot bypass the gateway through the smart host', ['Get-InboundConnector']));
    else {
      const lock = enabledInbound.filter(
        (c) =>
          c.ConnectorType === 'Partner' &&
          c.SenderDomains.map(senderDomain).includes('*') &&
          ((c.RestrictDomainsToIPAddresses === true && c.SenderIPAddresses.length > 0) ||
            (c.RestrictDomainsToCertificate === true && c.TlsSenderCertificateName)),
      );
      const gw = gated.map((d) => `${d} → ${input.dns!.get(d)?.gateway ?? 'gateway'}`);
      // An equivalent: an enforcing transport rule that rejects or deletes outside mail unless it comes from listed IPs.
      const ruleLock = (rules ?? []).filter(
        (r) =>
          r.State !== 'Disabled' &&
          (r.Mode ?? 'Enforce') === 'Enforce' &&
          r.FromScope === 'NotInOrganization' &&
          r.ExceptIfSenderIpRanges.length > 0 &&
          (!!r.RejectMessageReasonText || r.DeleteMessage === true),
      );
      if (lock.length === 0 && ruleLock.length > 0)
        rows.push(
          row(
            'DS754',
            'Mail cannot bypass the gateway through the smart host',
            null,
            'pass',
            `MX at a gateway (${gw.join('; ')}); no lock-down connector, but transport rule(s) ${ruleLock.map((r) => r.Name).join(', ')} reject outside mail that does not come from ${ruleLock.flatMap((r) => r.ExceptIfSenderIpRanges).join(', ')} — an equivalent. A connector rejects earlier (in the SMTP session) and is Microsoft's documented way.`,
            ruleLock.map((r) => ev(`TransportRule ${r.Name}`, 'ExceptIfSenderIpRanges', r.ExceptIfSenderIpRanges)),
          ),
        );
      else
        rows.push(
          lock.length > 0
            ? row(
                'DS754',
                'Mail cannot bypass the gateway through the smart host',
                null,
                'pass',
                `MX at a gateway (${gw.join('; ')}) and a lock-down connector accepts mail only from it (${lock.map((c) => c.Name).join(', ')}).`,
                lock.map((c) => ev(`InboundConnector ${c.Name}`, 'SenderIPAddresses', c.SenderIPAddresses)),
              )
            : row(
                'DS754',
                'Mail cannot bypass the gateway through the smart host',
                null,
                'fail',
                `MX at a gateway (${gw.join('; ')}) but no Partner connector with SenderDomains * restricted to the gateway's IPs: anyone can connect to the smart host directly and skip the gateway's filtering. Fill $GatewayIPs from the gateway vendor's published outbound IPv4 ranges before running the command.`,
                gated.map((d) => ev(`MX ${d}`, 'host', input.dns!.get(d)?.mx.map((m) => m.host) ?? [])),
                [
                  `$GatewayIPs = @()  # the gateway's published outbound IPv4 addresses or /24–/32 ranges`,
                  `New-InboundConnector -Name 'Gateway lock-down' -ConnectorType Partner -SenderDomains '*' -SenderIPAddresses $GatewayIPs -RestrictDomainsToIPAddresses $true -RequireTls $true  # rejects mail for any sender domain that does not come from the gateway`,
                ],
              ),
        );
    }
  }

  // DS755 — a transport rule that flags or quarantines unauthenticated mail claiming an accepted domain
  if (!rules || !o['Get-AcceptedDomain'])
    rows.push(
      unknownRow('DS755', SEED.flagUnauth, [
        ...(rules ? [] : ['Get-TransportRule' as const]),
        ...(o['Get-AcceptedDomain'] ? [] : ['Get-AcceptedDomain' as const]),
      ]),
    );
  else {
    const claims = (r: Obj<'Get-TransportRule'>) =>
      r.SenderDomainIs.some((d) => accepted.has(normalizeDomain(d))) ||
      r.FromAddressMatchesPatterns.some((p) =>
        domains.some((d) => p.toLowerCase().includes(d.replace(/\./g, '\\.')) || p.toLowerCase().includes(d)),
      );
    const checksAuth = (r: Obj<'Get-TransportRule'>) =>
      /authentication-results/i.test(r.HeaderMatchesMessageHeader ?? '') ||
      /authentication-results/i.test(r.HeaderContainsMessageHeader ?? '');
    const acts = (r: Obj<'Get-TransportRule'>) =>
      r.Quarantine === true ||
      (r.SetSCL !== null && r.SetSCL >= 5) ||
      !!r.PrependSubject ||
      !!r.SetHeaderName ||
      !!r.ApplyHtmlDisclaimerText ||
      r.RedirectMessageTo.length > 0 ||
      !!r.RejectMessageReasonText ||
      r.DeleteMessage === true;
    const found = rules.filter((r) => r.State !== 'Disabled' && claims(r) && checksAuth(r) && acts(r));
    const enforced = found.filter((r) => (r.Mode ?? 'Enforce') === 'Enforce');
    const certSources = enabledInbound.filter(
      (c) => matchesByIpOrCert(c).certificate !== null && matchesByIpOrCert(c).ips.length === 0,
    );
    const exceptIps = [...new Set(input.knownSources.flatMap((s) => s.ips).filter((ip) => !ip.includes(':')))].sort();
    const fixLines = [
      `New-TransportRule -Name 'dsguard: unauthenticated mail claiming our domains' -SenderAddressLocation HeaderOrEnvelope -SenderDomainIs ${psList(domains)} -HeaderMatchesMessageHeader 'Authentication-Results' -HeaderMatchesPatterns 'compauth=fail','dmarc=fail' ${exceptIps.length ? `-ExceptIfSenderIpRanges ${psList(exceptIps)} ` : ''}-PrependSubject '[Unverified sender] ' -SetSCL 6 -Mode Audit -Comments 'dsguard: P1 or P2 in an accepted domain that failed authentication'  # creates the rule in audit mode: it only logs matches`,
      `Set-TransportRule -Identity 'dsguard: unauthenticated mail claiming our domains' -Mode Enforce  # after reviewing the audit matches: tags the subject and sends matches to Junk`,
    ];
    const certNote = certSources.length
      ? ` Transport rules have no inbound-connector condition, so mail from these certificate-matched connectors cannot be excepted by IP and would be tagged if it fails authentication: ${certSources.map((c) => `${c.Name} (${c.TlsSenderCertificateName})`).join(', ')}.`
      : '';
    if (enforced.length > 0)
      rows.push(
        row(
          'DS755',
          SEED.flagUnauth,
          null,
          'pass',
          `Rule(s) ${enforced.map((r) => r.Name).join(', ')} act on mail claiming an accepted domain that fails authentication.`,
          enforced.map((r) => ev(`TransportRule ${r.Name}`, 'Mode', r.Mode ?? 'Enforce')),
        ),
      );
    else if (found.length > 0)
      rows.push(
        row(
          'DS755',
          SEED.flagUnauth,
          null,
          'fail',
          `Rule(s) ${found.map((r) => r.Name).join(', ')} exist but only audit (Mode ${found.map((r) => r.Mode).join(', ')}): nothing is flagged yet.${certNote}`,
          found.map((r) => ev(`TransportRule ${r.Name}`, 'Mode', r.Mode)),
          found.map(
            (r) =>
              `Set-TransportRule -Identity ${psQuote(r.Name)} -Mode Enforce  # the rule starts acting on the mail it matched in audit`,
          ),
        ),
      );
    else
      rows.push(
        row(
          'DS755',
          SEED.flagUnauth,
          null,
          'fail',
          `No enabled transport rule acts on unauthenticated mail claiming ${domains.join(', ') || 'an accepted domain'}. The rule below matches P1 or P2 (HeaderOrEnvelope) in an accepted domain whose Authentication-Results say compauth or DMARC failed${exceptIps.length ? `, except the confirmed sources ${exceptIps.join(', ')}` : ''}; it starts in audit mode.${certNote}`,
          [],
          domains.length ? fixLines : [],
        ),
      );
  }

  // Per accepted domain: SPF, DMARC, DKIM, static IPs
  const dkim = o['Get-DkimSigningConfig'];
  for (const d of domains) {
    const x = input.dns?.get(d) ?? null;
    if (!x) {
      rows.push(
        row(
          'DS756',
          'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
          d,
          'unknown',
          'Not scored: DNS was not consulted for this domain.',
        ),
      );
      rows.push(row('DS757', SEED.dmarc, d, 'unknown', 'Not scored: DNS was not consulted for this domain.'));
      rows.push(row('DS760', SEED.staticIp, d, 'unknown', 'Not scored: DNS was not consulted for this domain.'));
    } else {
      const spf = x.spf;
      const dm = x.dmarc;
      const enforcing = dm.policy === 'quarantine' || dm.policy === 'reject';
      const spfEv = [
        ev(`TXT ${d}`, 'SPF', spf.record),
        ev(`TXT ${d}`, 'all', spf.all),
        ev(`TXT ${d}`, 'DNS lookups', spf.dnsLookups),
        ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'p', dm.policy),
      ];
      if (spf.result === 'temperror')
        rows.push(
          row(
            'DS756',
            'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
            d,
            'unknown',
            `DNS failed: ${spf.error ?? 'temporary error'}.`,
            spfEv,
          ),
        );
      else if (spf.record === null)
        rows.push(
          row(
            'DS756',
            'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
            d,
            'fail',
            'No SPF record: receivers cannot tell which hosts may send as this domain.',
            spfEv,
            [
              `${d}. TXT "v=spf1 include:spf.protection.outlook.com -all"  # DNS: add the other hosts that send as ${d} before -all`,
            ],
          ),
        );
      else if (spf.dnsLookups > 10 || spf.result === 'permerror')
        rows.push(
          row(
            'DS756',
            'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
            d,
            'fail',
            `The record cannot be evaluated (${spf.error ?? `${spf.dnsLookups} DNS lookups, the limit is 10`}): receivers treat it as a permanent error.`,
            spfEv,
          ),
        );
      else if (spf.all === '-all' || (spf.all === '~all' && enforcing))
        rows.push(
          row(
            'DS756',
            'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
            d,
            'pass',
            spf.all === '-all'
              ? 'Hard fail (-all).'
              : `Soft fail (~all) with DMARC p=${dm.policy}: Microsoft's Direct Send guidance recommends soft fail for domains that use it, and DMARC enforcement decides.`,
            spfEv,
          ),
        );
      else
        rows.push(
          row(
            'DS756',
            'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
            d,
            'fail',
            `SPF ends in ${spf.all ?? 'no all term'} without DMARC enforcement: a spoof from any host only soft-fails. Microsoft's SPF setup page recommends -all; its Direct Send post recommends ~all for domains that use Direct Send — either is fine once DMARC is at quarantine or reject.`,
            spfEv,
            [
              `${d}. TXT "${(spf.record ?? '').replace(/\s[~?+]?all\s*$/i, '')} -all"  # DNS: replaces the SPF record's final term`,
            ],
          ),
        );
      // DMARC
      const dmEv = [
        ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'DMARC', dm.record),
        ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'p', dm.policy),
        ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'pct', dm.pct),
      ];
      const rua = dm.rua.length ? `; rua=${dm.rua.join(',')}` : '';
      if (dm.result === 'temperror')
        rows.push(row('DS757', SEED.dmarc, d, 'unknown', `DNS failed: ${dm.error ?? 'temporary error'}.`, dmEv));
      else if (dm.policy === 'reject' && (dm.pct ?? 100) === 100)
        rows.push(row('DS757', SEED.dmarc, d, 'pass', 'p=reject for all mail.', dmEv));
      else {
        const steps =
          dm.policy === null
            ? [
                `_dmarc.${d}. TXT "v=DMARC1; p=none"  # DNS step 1: monitor; add rua=mailto:<a mailbox you read> for the aggregate reports and read them for 2–4 weeks`,
                `_dmarc.${d}. TXT "v=DMARC1; p=quarantine; pct=100"  # step 2: failing mail to Junk (keep your rua)`,
                `_dmarc.${d}. TXT "v=DMARC1; p=reject"  # step 3: failing mail rejected (keep your rua)`,
              ]
            : dm.policy === 'none'
              ? [
                  `_dmarc.${dm.recordDomain ?? d}. TXT "v=DMARC1; p=quarantine; pct=100${rua}"  # DNS step 1: failing mail to Junk, once the reports show every legitimate sender aligned`,
                  `_dmarc.${dm.recordDomain ?? d}. TXT "v=DMARC1; p=reject${rua}"  # step 2: failing mail rejected`,
                ]
              : [
                  `_dmarc.${dm.recordDomain ?? d}. TXT "v=DMARC1; p=reject${rua}"  # DNS: failing mail rejected (after quarantine showed no legitimate loss)`,
                ];
        rows.push(
          row(
            'DS757',
            SEED.dmarc,
            d,
            'fail',
            (dm.policy === null
              ? 'No DMARC record: receivers apply no policy to mail spoofing this domain.'
              : `p=${dm.policy}${dm.pct !== null && dm.pct < 100 ? ` at pct=${dm.pct}` : ''}: not yet reject for all mail. The staged path follows.`) +
              (d.endsWith('.onmicrosoft.com')
                ? ' Microsoft hosts this zone: add the TXT record in the Microsoft 365 admin center (Settings → Domains → the onmicrosoft.com domain → DNS records).'
                : ''),
            dmEv,
            steps,
          ),
        );
      }
      // Static IPs
      rows.push(
        spf.ip4.length + spf.ip6.length > 0
          ? row(
              'DS760',
              SEED.staticIp,
              d,
              'pass',
              `Static addresses in the record: ${[...spf.ip4, ...spf.ip6].join(', ')}.`,
              [ev(`TXT ${d}`, 'ip4/ip6', [...spf.ip4, ...spf.ip6])],
            )
          : row(
              'DS760',
              SEED.staticIp,
              d,
              'info',
              'No ip4/ip6 term: the domain is authorised only through includes. Microsoft recommends (does not require) listing the static public IPs of devices and applications that send as the domain.',
              [ev(`TXT ${d}`, 'ip4/ip6', [])],
            ),
      );
    }
    // DKIM
    if (!dkim) rows.push(unknownRow('DS758', 'DKIM signing is enabled', ['Get-DkimSigningConfig'], d));
    else {
      const c = dkim.find((k) => normalizeDomain(k.Domain) === d);
      rows.push(
        c?.Enabled
          ? row('DS758', 'DKIM signing is enabled', d, 'pass', 'Exchange Online signs mail from this domain.', [
              ev(`DkimSigningConfig ${d}`, 'Enabled', true),
            ])
          : row(
              'DS758',
              'DKIM signing is enabled',
              d,
              'fail',
              c
                ? 'A signing configuration exists but is disabled: mail is signed with the onmicrosoft.com domain, so DMARC cannot pass by DKIM for this domain.'
                : 'No DKIM signing configuration for this domain.',
              [ev(`DkimSigningConfig ${d}`, 'Enabled', c ? c.Enabled : '(no configuration)')],
              [
                c
                  ? `Set-DkimSigningConfig -Identity ${psQuote(d)} -Enabled $true  # starts signing (publish the two selector CNAMEs first)`
                  : `New-DkimSigningConfig -DomainName ${psQuote(d)} -Enabled $false  # creates the keys; publish the selector CNAMEs it shows, then: Set-DkimSigningConfig -Identity ${psQuote(d)} -Enabled $true`,
              ],
            ),
      );
    }
  }
  if (!o['Get-AcceptedDomain'])
    rows.push(unknownRow('DS756', 'Accepted domains: SPF, DMARC and DKIM', ['Get-AcceptedDomain']));

  // DS761 — ARC trusted sealers (info)
  const arc = o['Get-ArcConfig'];
  if (arc)
    rows.push(
      row(
        'DS761',
        'Trusted ARC sealers',
        null,
        'info',
        arc.some((a) => a.ArcTrustedSealers.length)
          ? 'Mail sealed by these domains keeps the authentication result they recorded: trust only the intermediaries (gateways, list servers) you really route through.'
          : 'No trusted ARC sealer.',
        arc.map((a) => ev('ArcConfig', 'ArcTrustedSealers', a.ArcTrustedSealers)),
      ),
    );

  // DS759 — MFA and Conditional Access
  rows.push(row('DS759', SEED.mfa, null, 'unknown', `unknown — not verifiable from this data. ${MFA_VERIFY}`));

  const summary: Record<ControlStatus, number> = { pass: 0, fail: 0, unknown: 0, info: 0 };
  for (const r of rows) summary[r.status]++;
  const problems = input.config.problems.map((p) => `${p.code} ${p.message}`);
  for (const c of (Object.keys(MISSING_IMPACT) as Cmdlet[]).filter((k) => input.config.origins[k] === undefined))
    problems.push(`DS790 ${c} output is missing: ${MISSING_IMPACT[c]}`);
  return {
    tenant: {
      name: org?.DisplayName ?? (org?.Name || null),
      id: org?.ExternalDirectoryOrganizationId ?? null,
      domains,
    },
    controls: rows,
    summary,
    problems,
  };
}

/** Which controls each missing dump leaves unknown (said once per missing cmdlet). */
export const MISSING_IMPACT: Record<Cmdlet, string> = {
  'Get-OrganizationConfig': 'RejectDirectSend (DS740) unknown; the profile gets no tenant id or name',
  'Get-AcceptedDomain': 'accepted-domain controls (DS749, DS755, DS756–DS758, DS760) unknown; profile init needs it',
  'Get-InboundConnector': 'connector controls (DS741–DS745, DS754) unknown; the profile lists no connector',
  'Get-OutboundConnector': 'nothing is scored from it yet (read for completeness)',
  'Get-HostedContentFilterPolicy': 'MarkAsSpam advanced spam filter options (DS752, DS753) unknown',
  'Get-HostedContentFilterRule': 'nothing is scored from it yet (anti-spam scope is read from the policies)',
  'Get-HostedConnectionFilterPolicy': 'connection filter IP Allow List (DS750) unknown',
  'Get-AntiPhishPolicy': 'anti-spoofing controls (DS746–DS748) unknown',
  'Get-AntiPhishRule': 'anti-spoofing controls (DS746–DS748) unknown: which policy applies to whom',
  'Get-EOPProtectionPolicyRule': 'anti-spoofing controls (DS746–DS748) unknown: preset policies take precedence',
  'Get-ATPProtectionPolicyRule': 'nothing is scored from it yet (Defender preset scope)',
  'Get-TenantAllowBlockListSpoofItems': 'spoof allow entries for your own domains (DS749) unknown',
  'Get-TransportRule': 'SCL -1 bypass rules (DS751) and the unauthenticated-mail rule (DS755) unknown',
  'Get-DkimSigningConfig': 'DKIM signing (DS758) unknown',
  'Get-ArcConfig': 'trusted ARC sealers (DS761) not listed',
};
