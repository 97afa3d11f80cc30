/**
 * The connector plan's input from a tenant report and its profile (structural types: no import of the report),
 * whose network a source is on, and the mailbox the verification probe writes to. Pure.
 * @module
 */
import { checkValue } from '../core/quote/values.js';
import { domainOf } from './connector-build.js';
import type { Infrastructure, PlanInput, PlanSourceInput } from './connector-plan-types.js';

/** Origin codes that put an address on a provider's network: hosting/VPS, VPN, public cloud. */
const SHARED_NETWORK_CODES = new Set(['DS503', 'DS504', 'DS505']);

/**
 * Whose network the source is on, from its HELO names and the origin findings of its messages (the only identity
 * the exports give). A HELO name in an accepted domain wins (the organisation's own server, even in a cloud).
 */
export function infrastructureOf(
  helos: readonly string[],
  acceptedDomains: readonly string[],
  codes: readonly string[] = [],
): { kind: Infrastructure; why: string } {
  const names = helos.map((h) => h.toLowerCase()).filter((h) => checkValue('domain', h).ok);
  const own = names.find((h) => acceptedDomains.some((d) => h === d || h.endsWith(`.${d}`)));
  if (own) return { kind: 'organisation', why: `its HELO name ${own} is in your domain` };
  const network = codes.filter((c) => SHARED_NETWORK_CODES.has(c));
  if (network.length > 0) {
    return {
      kind: 'shared',
      why: `it sends from a hosting, VPN or public cloud network (${[...new Set(network)].sort().join(', ')}), whose addresses serve many customers`,
    };
  }
  const other = names[0];
  if (other) {
    return {
      kind: 'shared',
      why: `its HELO name ${other} is not in your domains: a provider's server, likely shared with its other customers`,
    };
  }
  return { kind: 'unknown', why: 'no HELO name tells whose network it is' };
}

/** What the plan reads of a report source (structural: the report's SourceEntry has these fields). */
export interface ReportSourceLike {
  id: string;
  name: string | null;
  ips: readonly string[];
  helos: readonly string[];
  senders: readonly { address: string }[];
  tls: PlanSourceInput['tls'];
  channel: string;
  verdict: string;
  counts: { directSend: number };
  /** The findings behind its verdict (origin codes tell a hosting or cloud network). */
  why?: readonly { code: string }[];
  /** Declared or approved by the admin (and not denied), when the report says so. */
  confirmed?: boolean;
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

/** The profile's part of the plan input. */
export interface PlanProfileLike {
  acceptedDomains: readonly string[];
  connectors: readonly {
    name: string;
    type: 'Partner' | 'OnPremises';
    senderIps: readonly { text: string }[];
    certificateNames: readonly string[];
  }[];
  knownSources: readonly {
    name: string;
    owner?: string | null;
    ips: readonly { text: string }[];
    senders: readonly string[];
  }[];
}

/**
 * The plan input from the report's sources and the profile. A source is confirmed when the profile declares it
 * (or the admin approved it) and the evidence does not call it abuse; certificate names come only from evidence
 * (none of the exports carries one today), never from a HELO name.
 */
export function planInputOf(sources: readonly ReportSourceLike[], profile: PlanProfileLike | null): PlanInput {
  const accepted = profile?.acceptedDomains ?? [];
  const owners = new Map((profile?.knownSources ?? []).map((k) => [k.name, k.owner ?? null]));
  const seen = new Set(sources.map((s) => s.name));
  const unseen = (profile?.knownSources ?? []).filter((k) => !seen.has(k.name));
  return {
    acceptedDomains: accepted,
    existingConnectors: (profile?.connectors ?? []).map((c) => ({
      name: c.name,
      type: c.type,
      senderIps: c.senderIps.map((x) => x.text),
      certificateNames: c.certificateNames,
    })),
    otherSenders: [],
    sources: [
      ...sources.map((s) => ({
        id: s.id,
        name: s.name,
        owner: s.name === null ? null : (owners.get(s.name) ?? null),
        ips: s.ips,
        helos: s.helos,
        senders: s.senders.map((x) => x.address),
        tls: s.tls,
        certificateNames: [],
        verdict: s.verdict === 'unknown' ? 'undetermined' : s.verdict,
        confirmed:
          s.confirmed ??
          ((s.verdict === 'legitimate' && s.channel === 'direct-send') ||
            (s.name !== null && s.verdict !== 'malicious' && s.verdict !== 'suspicious')),
        directSend: s.counts.directSend > 0,
        infrastructure: infrastructureOf(
          s.helos,
          accepted,
          (s.why ?? []).map((w) => w.code),
        ),
        messages: s.messages,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
      })),
      // Declared in the profile but not seen in these exports (a monthly job, a device that was off): they need
      // their connector too, and they are other senders of their domains.
      ...unseen.map((k, i) => ({
        id: `D${i + 1}`,
        name: k.name,
        owner: k.owner ?? null,
        ips: k.ips.map((c) => c.text.replace(/\/32$/, '')),
        helos: [],
        senders: k.senders.length > 0 ? k.senders : accepted.map((d) => `*@${d}`),
        tls: 'unknown' as const,
        certificateNames: [],
        verdict: 'legitimate',
        confirmed: true,
        directSend: true,
        infrastructure: {
          kind: 'unknown' as const,
          why: 'declared in the profile but not seen in these exports (or the report period), so nothing tells whose network it is',
        },
        messages: 0,
        firstSeen: '',
        lastSeen: '',
      })),
    ],
  };
}

/**
 * The mailbox the probe writes to: the recipient in an accepted domain that received the most sampled mail (ties
 * by address), so the smart host cannot refuse it for not existing. Never a sender: senders are the attacker's
 * choice.
 */
export function probeRecipientOf(
  recipients: readonly (string | null)[],
  acceptedDomains: readonly string[],
): string | null {
  const counts = new Map<string, number>();
  for (const r of recipients) {
    if (!r) continue;
    const a = r.toLowerCase();
    if (acceptedDomains.length > 0 && !acceptedDomains.includes(domainOf(a))) continue;
    if (!checkValue('address', a).ok) continue;
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [a, n] of counts) {
    const b = best === null ? 0 : counts.get(best)!;
    if (n > b || (n === b && best !== null && a < best)) best = a;
  }
  return best;
}
