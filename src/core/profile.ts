/**
 * The tenant profile: who "we" are (tenant ids, accepted domains), which inbound connectors exist, which
 * Direct Send sources are known to be legitimate, and where the organisation normally sends from.
 * Loading and validating `dsguard.yml` happens at the edge (src/config); this module is pure.
 * @module
 */
import { isSameOrSubdomain, normalizeDomain } from './domain-name.js';
import { type Cidr, ipInAny, parseCidr, parseIp } from './net-address.js';

export interface InboundConnectorProfile {
  name: string;
  type: 'Partner' | 'OnPremises';
  senderIps: Cidr[];
  certificateNames: string[];
}

export interface KnownSourceProfile {
  name: string;
  ips: Cidr[];
  /** Envelope or header senders the source uses; empty means any. Lower-case; `*@domain` allowed. */
  senders: string[];
  /** A glob (`*` and `?`) the subject must match; `null` means any. */
  subject: string | null;
  /** Who answers for it (`dsguard sources approve --owner`), for the runbook. */
  owner?: string | null;
  /** Recorded by `dsguard sources approve` (the admin confirmed a source dsguard found), not declared by hand. */
  approved?: boolean;
}

export interface TenantProfile {
  name: string | null;
  tenantIds: string[];
  acceptedDomains: string[];
  connectors: InboundConnectorProfile[];
  knownSources: KnownSourceProfile[];
  /** Sources the admin denied (`dsguard sources deny`): never legitimate, whatever their evidence. */
  deniedSources?: KnownSourceProfile[];
  /** ISO 3166-1 alpha-2, upper-case. */
  homeCountries: string[];
  /** Whether RejectDirectSend is already enabled in the tenant (`null`: not stated). */
  rejectDirectSend: boolean | null;
  /**
   * When it was enabled, when the profile says: a day (`YYYY-MM-DD`, UTC: mail on that day may predate the switch)
   * or a time (`YYYY-MM-DDTHH:MM:SSZ`). See {@link enabledAfter}.
   */
  rejectDirectSendSince: string | null;
  /** True when the profile was inferred from a message rather than given by the user. */
  inferred: boolean;
}

export function emptyProfile(): TenantProfile {
  return {
    name: null,
    tenantIds: [],
    acceptedDomains: [],
    connectors: [],
    knownSources: [],
    homeCountries: [],
    rejectDirectSend: null,
    rejectDirectSendSince: null,
    inferred: false,
  };
}

/** Microsoft's consumer Outlook.com / Hotmail tenant, where accepted domains and Direct Send do not apply. */
export const CONSUMER_TENANT_ID = '84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa';

export function isAcceptedDomain(profile: TenantProfile, domain: string | null): boolean {
  if (!domain) return false;
  const d = normalizeDomain(domain);
  return profile.acceptedDomains.includes(d);
}

export function isOwnTenant(profile: TenantProfile, tenantId: string): boolean {
  return profile.tenantIds.includes(tenantId.toLowerCase());
}

export function connectorForIp(profile: TenantProfile, ip: string): InboundConnectorProfile | null {
  if (!profile.connectors.some((c) => c.senderIps.length > 0)) return null;
  // Parsed once for every connector's ranges.
  const parsed = parseIp(ip);
  if (parsed === null) return null;
  for (const c of profile.connectors) if (ipInAny(parsed, c.senderIps)) return c;
  return null;
}

/** Linear-time glob match (`*` any run, `?` one char), case-insensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

export function senderMatches(pattern: string, address: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('*@'))
    return address.endsWith(p.slice(1)) || isSameOrSubdomain(address.split('@')[1] ?? '', p.slice(2));
  return p === address;
}

export interface SourceMatchInput {
  ip: string | null;
  /** The senders, or how to get them: asked for only when a source in the IP's range names senders. */
  senders: readonly string[] | (() => readonly string[]);
  subject: string | null;
}

/** The known legitimate source this message belongs to, or `null`. IP is required; senders/subject narrow it. */
export function matchKnownSource(profile: TenantProfile, input: SourceMatchInput): KnownSourceProfile | null {
  if (!input.ip) return null;
  let senders: readonly string[] | null = typeof input.senders === 'function' ? null : input.senders;
  for (const s of profile.knownSources) {
    if (s.ips.length === 0 || !ipInAny(input.ip, s.ips)) continue;
    if (s.senders.length > 0) {
      senders ??= (input.senders as () => readonly string[])();
      if (!senders.some((a) => s.senders.some((p) => senderMatches(p, a)))) continue;
    }
    if (s.subject !== null && (input.subject === null || !globMatch(s.subject, input.subject))) continue;
    return s;
  }
  return null;
}

export function cidrs(texts: readonly string[]): { ok: Cidr[]; bad: string[] } {
  const ok: Cidr[] = [];
  const bad: string[] = [];
  for (const t of texts) {
    const c = parseCidr(t);
    if (c) ok.push(c);
    else bad.push(t);
  }
  return { ok, bad };
}

/** A known or denied source as plain data (its IP ranges as text). */
type PlainSource = Omit<KnownSourceProfile, 'ips'> & { ips: string[] };

/** A profile as plain data (IP ranges as text), to hand to a worker process; {@link profileFromPlain} undoes it. */
export interface PlainProfile extends Omit<TenantProfile, 'connectors' | 'knownSources' | 'deniedSources'> {
  connectors: (Omit<InboundConnectorProfile, 'senderIps'> & { senderIps: string[] })[];
  knownSources: PlainSource[];
  deniedSources?: PlainSource[];
}

export function profileToPlain(p: TenantProfile): PlainProfile {
  const { deniedSources, ...rest } = p;
  const plain = (k: KnownSourceProfile): PlainSource => ({ ...k, ips: k.ips.map((x) => x.text) });
  return {
    ...rest,
    connectors: p.connectors.map((c) => ({ ...c, senderIps: c.senderIps.map((x) => x.text) })),
    knownSources: p.knownSources.map(plain),
    // Ranges hold functions, which cannot cross to a worker: the denied sources' too (a profile with them made
    // every worker fail to start with "could not be cloned").
    ...(deniedSources ? { deniedSources: deniedSources.map(plain) } : {}),
  };
}

export function profileFromPlain(p: PlainProfile): TenantProfile {
  const cidrs = (list: string[]): Cidr[] =>
    list.map((t) => {
      const c = parseCidr(t);
      if (!c) throw new Error(`profile: "${t}" is not an IP address or CIDR`);
      return c;
    });
  const { deniedSources, ...rest } = p;
  const source = (k: PlainSource): KnownSourceProfile => ({ ...k, ips: cidrs(k.ips) });
  return {
    ...rest,
    connectors: p.connectors.map((c) => ({ ...c, senderIps: cidrs(c.senderIps) })),
    knownSources: p.knownSources.map(source),
    ...(deniedSources ? { deniedSources: deniedSources.map(source) } : {}),
  };
}

/**
 * When mail is certainly after RejectDirectSend was enabled: from the time given, or from the day after the day
 * given (mail on that day may predate the switch). `day`: the UTC day of the switch; `exact`: a time was given.
 */
export function enabledAfter(since: string): { from: number; day: string; exact: boolean } {
  if (since.length > 10) {
    const from = Date.parse(since);
    return { from, day: new Date(from).toISOString().slice(0, 10), exact: true };
  }
  const day = since.slice(0, 10);
  return { from: Date.parse(`${day}T00:00:00Z`) + 86_400_000, day, exact: false };
}
