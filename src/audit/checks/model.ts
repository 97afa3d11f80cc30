/**
 * The scorecard's shapes and the small helpers every control family shares: building a row, an `unknown` row,
 * a piece of evidence, reading connector and IP-range entries, and the {@link AuditContext} each family reads.
 * Pure.
 * @module
 */
import { normalizeDomain } from '../../core/domain-name.js';
import { type Cidr, ipInAny, parseCidr } from '../../core/net-address.js';
import type { DomainExposure } from '../../core/posture/exposure-audit.js';
import type { Cmdlet, ObjectOf, Objects, TenantConfig } from '../config.js';

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

export type Obj<C extends Cmdlet> = ObjectOf<C>;

export const MFA_VERIFY =
  'Check Entra ID: Conditional Access policies (Graph /identity/conditionalAccess/policies, Policy.Read.All) requiring MFA for all users, and the authentication methods registration report. The Exchange configuration does not hold them.';

export function row(
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

export function unknownRow(
  code: string,
  control: string,
  missing: Cmdlet[],
  subject: string | null = null,
): ControlRow {
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

export const ev = (object: string, property: string, value: unknown): ControlEvidence => ({
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
export function prefixOf(entry: string): number | null {
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

export function cidrsOf(entries: readonly string[]): Cidr[] {
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

/** Legitimate sources seen in the store that send from no IP an enabled connector matches by IP or certificate. */
export function sourcesWithoutConnector(
  store: StoreFacts,
  enabledInbound: readonly Obj<'Get-InboundConnector'>[],
): StoreFacts['legitimateSources'] {
  return store.legitimateSources.filter(
    (s) => !s.ips.some((ip) => enabledInbound.some((c) => ipInAny(ip, cidrsOf(matchesByIpOrCert(c).ips)))),
  );
}

export const SEED = {
  rejectDirectSend: 'Enable “Reject Direct Send” in the Exchange Admin Center',
  dmarc: 'Implement a strict DMARC policy (e.g., p=reject)',
  flagUnauth: 'Flag unauthenticated internal emails for review or quarantine',
  spfHardFail: 'Enforcing “SPF hardfail” within Exchange Online Protection (EOP)',
  antiSpoof: 'Use Anti-Spoofing policies',
  mfa: 'Enforce MFA on all users and have Conditional Access policies in place',
  staticIp: 'Enforce a static IP address in the SPF record to prevent unwanted send abuse',
} as const;

/** What every control family reads: the input and the facts derived from it once. */
export interface AuditContext {
  input: AuditInput;
  o: Objects;
  org: Obj<'Get-OrganizationConfig'> | null;
  /** Accepted domains, normalised and sorted. */
  domains: string[];
  accepted: Set<string>;
  /** `undefined`: Get-InboundConnector output is missing. */
  inbound: Obj<'Get-InboundConnector'>[] | undefined;
  enabledInbound: Obj<'Get-InboundConnector'>[];
}

export function auditContext(input: AuditInput): AuditContext {
  const o = input.config.objects;
  const org = o['Get-OrganizationConfig']?.[0] ?? null;
  const domains = (o['Get-AcceptedDomain'] ?? []).map((d) => normalizeDomain(d.DomainName)).sort();
  const accepted = new Set(domains);
  const inbound = o['Get-InboundConnector'];
  const enabledInbound = (inbound ?? []).filter((c) => c.Enabled);
  return { input, o, org, domains, accepted, inbound, enabledInbound };
}
