/**
 * The connector plan: which inbound connector each legitimate Direct Send source needs before RejectDirectSend is
 * enabled, chosen so that creating it rejects nothing by surprise. Pure: it takes a narrow description of the
 * sources (see {@link PlanInput}) and returns connectors with their commands, what each starts allowing and
 * rejecting, and per source the choice made and why.
 *
 * Microsoft's documented semantics it follows (New-InboundConnector parameter reference, quoted in
 * docs/connector-plan.md):
 * - A Partner connector's `SenderIPAddresses` apply "only if the value of the RestrictDomainsToIPAddresses
 *   parameter is $true", and that switch rejects every message from the `SenderDomains` whose source IP is not
 *   listed. `RestrictDomainsToCertificate $true` is the same trap for mail without the certificate.
 * - A Partner connector's `RequireTls` defaults to `$true`: a source that sends without TLS is rejected.
 * - An OnPremises connector (Microsoft's SMTP-relay option for devices and applications) matches by IP or
 *   certificate without rejecting anyone else, but grants relay to what it matches.
 * So: an address of the organisation's own network gets an OnPremises connector by IP; a service on shared
 * infrastructure gets a Partner connector by its certificate when it presents one, else by IP (which also admits
 * the provider's other customers); a restricting connector is planned only when no other legitimate sender of its
 * domains is known, and one accepted domain is never restricted by two connectors.
 * @module
 */
import { shCommand } from '../core/quote/posix.js';
import { checkValue } from '../core/quote/values.js';
import {
  build,
  command,
  connectorLabel,
  connectorName,
  coveredBy,
  type Draft,
  domainOf,
  isIpv4,
  list,
} from './connector-build.js';
import type {
  ConnectorMatch,
  ConnectorPlan,
  PlanInput,
  PlannedCommand,
  PlannedConnector,
  PlanSourceInput,
  SourceChoice,
  SourcePlan,
} from './connector-plan-types.js';

export { connectorLabel, connectorName } from './connector-build.js';
export type { PlanProfileLike, ReportSourceLike } from './connector-plan-input.js';
export { infrastructureOf, planInputOf, probeRecipientOf } from './connector-plan-input.js';
export type * from './connector-plan-types.js';

interface Ctx {
  input: PlanInput;
  decisions: Map<string, SourcePlan>;
  drafts: Draft[];
  /** Sources for a restricting Partner connector, and how each is matched. */
  partnerBy: Map<string, ConnectorMatch>;
  domainsOf: (s: PlanSourceInput) => string[];
}

function decide(ctx: Ctx, s: PlanSourceInput, choice: SourceChoice, why: string[], commands: PlannedCommand[] = []) {
  ctx.decisions.set(s.id, { source: s.id, name: s.name, owner: s.owner, choice, connectors: [], why, commands });
}

/** A source not confirmed yet: the line that records the admin's decision. */
function awaiting(ctx: Ctx, s: PlanSourceInput): void {
  // By IP when it has one (report ids are positions, they change between reports).
  const byIp = s.ips.length === 1 && isIpv4(s.ips[0]!);
  const approve = shCommand('dsguard', [
    'sources',
    'approve',
    byIp ? { kind: 'ipv4', value: s.ips[0]! } : { kind: 'name', value: s.id },
    '--name',
    // A starting name from what the evidence shows (its HELO, else its sender's local part): the admin's to improve.
    {
      kind: 'name',
      value: connectorLabel(s.name ?? s.helos[0] ?? s.senders[0]?.split('@')[0] ?? s.id) || s.id,
    },
    ...(s.owner === null ? [] : ['--owner', { kind: 'name' as const, value: s.owner }]),
  ]);
  decide(
    ctx,
    s,
    'awaiting-confirmation',
    [
      `${s.verdict}: not yet confirmed, so no connector is planned for it. If it is yours, approve it (give it a real --name, and an --owner); if not, deny it (dsguard sources deny).`,
    ],
    [
      command(
        approve,
        'Records in the profile that this source is legitimate; the next report plans its connector.',
        false,
        'posix',
      ),
    ],
  );
}

/** On a provider's shared infrastructure: a restricting Partner connector, by certificate or IP (settled later). */
function decideShared(ctx: Ctx, s: PlanSourceInput, why: string[], v4: string[], v6: string[], cert: string | null) {
  const { partnerBy } = ctx;
  if (cert !== null) {
    partnerBy.set(s.id, 'certificate');
    why.push(`It presents a certificate for ${cert}: matched by that certificate, not by the provider's shared IPs.`);
    decide(ctx, s, 'partner-certificate', why);
  } else if (v4.length > 0) {
    partnerBy.set(s.id, 'ip');
    why.push(
      'It presents no certificate the exports show: matched by IP, which also admits the provider’s other customers sending from those addresses. Ask the provider for the certificate name its servers present.',
    );
    decide(ctx, s, 'partner-ip', why);
  } else {
    decide(ctx, s, 'no-connector', [
      ...why,
      `It sends over IPv6 only (${list(v6)}) and no certificate of it is known: a connector can match neither. Ask the provider for the certificate name its servers present, or have it send with its own envelope domain.`,
    ]);
  }
}

/** The organisation's own network, or unknown: OnPremises, which rejects no one. */
function decideOwn(
  ctx: Ctx,
  s: PlanSourceInput,
  why: string[],
  domains: string[],
  v4: string[],
  v6: string[],
  cert: string | null,
): void {
  const { drafts } = ctx;
  if (v4.length > 0) {
    if (s.infrastructure.kind === 'unknown') {
      why.push(
        `dsguard cannot tell whether ${list(v4)} is your own address. An OnPremises connector lets whatever sends from it relay through your tenant: confirm it is a static address of your network (if it belongs to a hosting or SaaS provider, record that and match its certificate instead).`,
      );
    }
    why.push(
      'OnPremises connector by IP (Microsoft’s SMTP relay option for devices and applications): it matches the address without rejecting any other sender of your domains.',
    );
    drafts.push({
      type: 'OnPremises',
      match: 'ip',
      sources: [s],
      domains,
      ips: v4,
      certificate: null,
      label: s.name ?? s.helos[0] ?? s.senders[0]?.split('@')[0] ?? s.id,
      suffix: v4.length === 1 && !v4[0]!.includes('/') ? v4[0]! : s.id,
    });
    decide(ctx, s, 'onpremises-ip', why);
  } else if (cert !== null) {
    why.push(
      `It sends over IPv6 (${list(v6)}), which connectors cannot match: matched by its certificate ${cert} on an OnPremises connector.`,
    );
    drafts.push({
      type: 'OnPremises',
      match: 'certificate',
      sources: [s],
      domains,
      ips: [],
      certificate: cert,
      label: s.name ?? s.id,
      suffix: s.id,
    });
    decide(ctx, s, 'onpremises-certificate', why);
  } else {
    decide(ctx, s, 'no-connector', [
      ...why,
      `It sends over IPv6 only (${list(v6) || 'no IP known'}): connectors match IPv4 addresses or a certificate. Make it send over IPv4, or configure a certificate on it and list that name.`,
    ]);
  }
}

/** One confirmed source's choice. */
function decideSource(ctx: Ctx, s: PlanSourceInput): void {
  const domains = ctx.domainsOf(s);
  if (domains.length === 0) {
    decide(ctx, s, 'not-needed', [
      'None of its envelope senders is in an accepted domain: RejectDirectSend does not apply to its mail, so it needs no connector.',
    ]);
    return;
  }
  const existing = coveredBy(s, ctx.input.existingConnectors);
  if (existing) {
    decide(ctx, s, 'covered', [
      existing.type === 'OnPremises'
        ? `Already matched by the OnPremises connector ${existing.name} (per the profile).`
        : `Listed in the Partner connector ${existing.name} (per the profile): it matches only if that connector has RestrictDomainsToIPAddresses $true (SenderIPAddresses of a Partner connector take effect only then). Check with Get-InboundConnector.`,
    ]);
    return;
  }
  const v4 = s.ips.filter(isIpv4);
  const v6 = s.ips.filter((ip) => !isIpv4(ip));
  const cert = s.certificateNames.find((c) => checkValue('domain-pattern', c).ok) ?? null;
  const why = [`${s.infrastructure.kind === 'unknown' ? 'Network unknown' : 'Network'}: ${s.infrastructure.why}.`];
  if (v6.length > 0 && v4.length > 0 && cert === null) {
    why.push(
      `It also sent over IPv6 (${list(v6)}): connectors match IPv4 addresses only, so that mail matches no connector and will be rejected once RejectDirectSend is on. Make it send over IPv4, or present a certificate.`,
    );
  }
  if (s.infrastructure.kind === 'shared') decideShared(ctx, s, why, v4, v6, cert);
  else decideOwn(ctx, s, why, domains, v4, v6, cert);
}

/**
 * Restricting (Partner) connectors: one per accepted domain, holding every planned sender of that domain, and
 * only when nothing else is known to send as that domain. A source left out for one domain is another sender of
 * its other domains: repeat until no more is left out.
 */
function restrictions(ctx: Ctx): { byDomain: Map<string, PlanSourceInput[]>; blocked: Map<string, string[]> } {
  const { input, partnerBy, domainsOf } = ctx;
  const byId = new Map(input.sources.map((s) => [s.id, s]));
  const active = new Set(partnerBy.keys());
  const blocked = new Map<string, string[]>();
  let byDomain = new Map<string, PlanSourceInput[]>();
  for (let changed = true; changed; ) {
    changed = false;
    byDomain = new Map();
    for (const id of active) {
      const s = byId.get(id)!;
      for (const d of domainsOf(s)) byDomain.set(d, [...(byDomain.get(d) ?? []), s]);
    }
    for (const [domain, members] of [...byDomain].sort((a, b) => a[0].localeCompare(b[0]))) {
      const ids = new Set(members.map((m) => m.id));
      const others: string[] = [];
      for (const s of input.sources) {
        if (ids.has(s.id) || !domainsOf(s).includes(domain)) continue;
        if (/^(malicious|suspicious)$/.test(s.verdict) && !s.confirmed) continue;
        others.push(`${s.id} (${list(s.ips) || 'IP unknown'}, ${s.confirmed ? 'legitimate' : s.verdict})`);
      }
      for (const o of input.otherSenders) if (o.domain.toLowerCase() === domain) others.push(o.what);
      const matches = new Set(members.map((m) => partnerBy.get(m.id)));
      const certs = new Set(members.map((m) => m.certificateNames[0] ?? ''));
      let reason: string | null = null;
      if (others.length > 0) {
        reason = `Restricting ${domain} to it would reject the other senders of ${domain}: ${list(others)}. No restricting connector is planned for ${domain}.`;
      } else if (matches.size > 1 || (matches.has('certificate') && certs.size > 1)) {
        reason = `The senders of ${domain} need different matches (IPs and certificates): one connector cannot restrict ${domain} to all of them, and several would each reject the others' mail. No restricting connector is planned for ${domain}.`;
      }
      if (reason === null) continue;
      for (const id of ids) {
        blocked.set(id, [...(blocked.get(id) ?? []), reason]);
        active.delete(id);
      }
      changed = true;
      break;
    }
  }
  return { byDomain, blocked };
}

function partnerDrafts(ctx: Ctx, byDomain: Map<string, PlanSourceInput[]>): Draft[] {
  const { partnerBy } = ctx;
  const partnerDrafts: Draft[] = [];
  for (const [domain, sources] of [...byDomain].sort((a, b) => a[0].localeCompare(b[0]))) {
    const match = partnerBy.get(sources[0]!.id)!;
    partnerDrafts.push({
      type: 'Partner',
      match,
      sources,
      domains: [domain],
      ips: match === 'ip' ? [...new Set(sources.flatMap((s) => s.ips.filter(isIpv4)))] : [],
      certificate: match === 'certificate' ? (sources[0]!.certificateNames[0] ?? null) : null,
      label: sources.length === 1 ? (sources[0]!.name ?? sources[0]!.helos[0] ?? sources[0]!.id) : 'Partner',
      suffix: domain,
    });
  }
  return partnerDrafts;
}

/** Restricted sources: why, and for those no restriction can serve, an OnPremises connector instead. */
function settleRestricted(ctx: Ctx, blocked: Map<string, string[]>): void {
  const { input, partnerBy, decisions, drafts, domainsOf } = ctx;
  const byId = new Map(input.sources.map((s) => [s.id, s]));
  for (const id of partnerBy.keys()) {
    const d = decisions.get(id)!;
    const reasons = blocked.get(id);
    if (reasons) {
      // No restriction is safe: match it without rejecting anyone (OnPremises), by its certificate when one is
      // known, else by IP, and say what that admits.
      const s = byId.get(id)!;
      const cert = s.certificateNames.find((c) => checkValue('domain-pattern', c).ok) ?? null;
      const v4 = s.ips.filter(isIpv4);
      d.why.push(...reasons);
      d.choice = cert !== null ? 'onpremises-certificate' : 'onpremises-ip';
      d.why.push(
        cert !== null
          ? `OnPremises connector by its certificate ${cert} instead: it rejects no one, but any server presenting that certificate (the provider's other customers too, if it is the provider's) matches it and may relay through your tenant.`
          : `OnPremises connector by IP instead: it rejects no one, but IP matching also admits the provider's other customers sending from ${list(v4)}, and an OnPremises connector lets them relay through your tenant. Safer, when the provider offers it: its own envelope domain (then RejectDirectSend does not apply), SMTP AUTH or Microsoft Graph, or the certificate its servers present.`,
      );
      drafts.push({
        type: 'OnPremises',
        match: cert !== null ? 'certificate' : 'ip',
        sources: [s],
        domains: domainsOf(s),
        ips: cert !== null ? [] : v4,
        certificate: cert,
        label: s.name ?? s.helos[0] ?? s.id,
        suffix: cert === null && v4.length === 1 && !v4[0]!.includes('/') ? v4[0]! : s.id,
        shared: true,
      });
    } else {
      d.why.push(
        `Partner connector restricted to it: no other sender of ${list(domainsOf(byId.get(id)!))} is known from the exports, so the restriction rejects no known legitimate mail.`,
      );
    }
  }
}

/** Connectors in source order, each named (names unique, never one the profile's connectors hold). */
function nameConnectors(ctx: Ctx, partner: Draft[]): PlannedConnector[] {
  const { input, decisions, drafts } = ctx;
  const partnerDrafts = partner;
  // Connectors in source order; names unique.
  const ordered: Draft[] = [];
  const seen = new Set<Draft>();
  for (const s of input.sources) {
    for (const d of [...drafts, ...partnerDrafts]) {
      if (!seen.has(d) && d.sources[0] === s) {
        seen.add(d);
        ordered.push(d);
      }
    }
  }
  // Names already taken by the connectors the profile lists: New-InboundConnector refuses a duplicate.
  const names = new Set<string>(input.existingConnectors.map((c) => c.name));
  const connectors = ordered.map((d) => {
    let name = connectorName(d.label, d.suffix);
    if (names.has(name)) name = connectorName(d.label, `${d.suffix} ${d.sources[0]!.id}`);
    names.add(name);
    const c = build(d, name);
    for (const id of c.sources) decisions.get(id)?.connectors.push(name);
    return c;
  });
  return connectors;
}

/**
 * The plan. Deterministic: the same input gives the same plan (sources in input order, connectors in the order
 * their first source comes, names made unique by source id).
 */
export function planConnectors(input: PlanInput): ConnectorPlan {
  const accepted = new Set(input.acceptedDomains.map((d) => d.toLowerCase()));
  const ctx: Ctx = {
    input,
    decisions: new Map(),
    drafts: [],
    partnerBy: new Map(),
    domainsOf: (s) =>
      [...new Set(s.senders.map(domainOf).filter((d) => accepted.size === 0 || accepted.has(d)))].sort(),
  };
  for (const s of input.sources) {
    if (s.confirmed) decideSource(ctx, s);
    else if (s.directSend && /^(likely-legitimate|undetermined|unknown)$/.test(s.verdict)) awaiting(ctx, s);
  }
  const { byDomain, blocked } = restrictions(ctx);
  const partner = partnerDrafts(ctx, byDomain);
  settleRestricted(ctx, blocked);
  const connectors = nameConnectors(ctx, partner);
  const sources = input.sources.flatMap((s) => ctx.decisions.get(s.id) ?? []);
  return { connectors, sources };
}

/** Pairs of restricting connectors that restrict one domain (each would reject the other's senders). */
export function restrictionConflicts(plan: ConnectorPlan): { domain: string; connectors: [string, string] }[] {
  const out: { domain: string; connectors: [string, string] }[] = [];
  const r = plan.connectors.filter((c) => c.restricts);
  for (let i = 0; i < r.length; i++) {
    for (let j = i + 1; j < r.length; j++) {
      for (const d of r[i]!.senderDomains) {
        if (r[j]!.senderDomains.includes(d)) out.push({ domain: d, connectors: [r[i]!.name, r[j]!.name] });
      }
    }
  }
  return out;
}
