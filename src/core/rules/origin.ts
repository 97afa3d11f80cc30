/**
 * Origin rules (DS501–DS507): country and network of the connecting IP, hosting / VPN / cloud networks,
 * a loopback or private HELO from a public address, and known campaign addresses. Pure: the IP database is
 * injected as a lookup function (src/enrich opens it at the edge), so the same rule serves messages and
 * export rows (FromIP, SenderIPv4, original_client_ip all land in `connectingIp`).
 * @module
 */
import type { MessageRule } from '../assess.js';
import type { MessageEvidence } from '../evidence.js';
import type { EvidenceRef, Finding } from '../finding.js';
import { type Cidr, ipKind, normalizeIp, parseCidr, parseIp } from '../net-address.js';
import { hostingNetwork, NETWORK_SOURCES } from './hosting-networks.js';
import { finding } from './make-finding.js';

/** What an IP database knows about an address. */
export interface IpInfo {
  /** ISO 3166-1 alpha-2, upper-case. */
  country: string | null;
  asn: number | null;
  asOrg: string | null;
  /** Which database answered (shown in the evidence). */
  source: string;
}

export type IpLookup = (ip: string) => IpInfo | null;

/** An address or range published as a sender of a Direct Send campaign. */
export interface CampaignIndicator {
  cidr: string;
  campaign: string;
  /** Where it was published. */
  source: string;
}

/**
 * Bundled campaign indicators. Only addresses published in full with a named source belong here. The
 * write-ups behind the seed (Varonis, Proofpoint and the summaries quoting them) describe the senders only
 * as "VPS" and "Ukraine-based 139.28.X.X": a truncated address is not an indicator, so it is not listed.
 * Users add their own with `--indicators <file>` (one address or CIDR a line, optional `,source`).
 */
export const DIRECT_SEND_CAMPAIGN_INDICATORS: readonly CampaignIndicator[] = [];

export interface OriginRuleOptions {
  indicators?: readonly CampaignIndicator[];
}

interface ParsedIndicator extends CampaignIndicator {
  range: Cidr;
}

function parseIndicators(list: readonly CampaignIndicator[]): ParsedIndicator[] {
  const out: ParsedIndicator[] = [];
  for (const i of list) {
    const range = parseCidr(i.cidr);
    if (range) out.push({ ...i, range });
  }
  return out;
}

function heloIsLocal(helo: string): string | null {
  const bare = helo.trim().replace(/^\[|\]$/g, '');
  if (/^localhost(\.localdomain)?$/i.test(bare)) return 'localhost';
  if (!parseIp(bare)) return null;
  const kind = ipKind(bare);
  return kind === 'loopback' || kind === 'private' || kind === 'link-local' || kind === 'unspecified' ? bare : null;
}

/** The origin rule family over an injected IP lookup. */
export function createOriginRule(lookup: IpLookup | null, opts: OriginRuleOptions = {}): MessageRule {
  const indicators = parseIndicators([...DIRECT_SEND_CAMPAIGN_INDICATORS, ...(opts.indicators ?? [])]);
  return (ev, ctx) =>
    originFindings(ev, ctx.profile.homeCountries, lookup, indicators, ctx.channel === 'authenticated');
}

function originFindings(
  ev: MessageEvidence,
  homeCountries: readonly string[],
  lookup: IpLookup | null,
  indicators: readonly ParsedIndicator[],
  authenticated: boolean,
): Finding[] {
  const cip = ev.connectingIp;
  if (!cip) return [];
  const ip = normalizeIp(cip.value);
  if (!ip || ipKind(ip) !== 'public') return [];
  const out: Finding[] = [];
  const info = lookup ? lookup(ip) : null;
  const ipRef: EvidenceRef = cip.ref;

  const described: string[] = [];
  if (info?.country) described.push(info.country);
  if (info?.asn) described.push(`AS${info.asn}${info.asOrg ? ` ${info.asOrg}` : ''}`);
  if (info && described.length > 0) {
    out.push(
      finding('DS501', `${ip}: ${described.join(', ')}`, [
        ipRef,
        { source: info.source, field: 'IP database', value: `${ip} ${described.join(', ')}` },
      ]),
    );
  }

  const exchangeCountry = ev.antispam.ctry?.value.trim().toUpperCase() || null;
  const country = info?.country ?? exchangeCountry;
  const countryRef: EvidenceRef | null = info?.country
    ? { source: info.source, field: 'IP database country', value: `${ip} ${info.country}` }
    : exchangeCountry && ev.antispam.ctry
      ? ev.antispam.ctry.ref
      : null;
  const home = homeCountries.map((c) => c.toUpperCase());
  if (country && home.length > 0 && !home.includes(country)) {
    out.push(finding('DS502', `${ip} is in ${country}, outside ${home.join(', ')}`, [ipRef, countryRef]));
  }

  if (info?.asn) {
    const net = hostingNetwork(info.asn);
    if (net) {
      const code = net.kind === 'vpn' ? 'DS504' : net.kind === 'cloud' ? 'DS505' : 'DS503';
      const what =
        net.kind === 'vpn' ? 'a VPN network' : net.kind === 'cloud' ? 'a public cloud' : 'a hosting / VPS network';
      out.push(
        finding(code, `${ip} is in AS${net.asn} ${net.org}, ${what}`, [
          ipRef,
          { source: info.source, field: 'IP database ASN', value: `AS${info.asn} ${info.asOrg ?? ''}`.trim() },
          {
            source: net.sources.map((s) => NETWORK_SOURCES[s]).join('; '),
            field: 'network list',
            value: `AS${net.asn} ${net.org}`,
          },
        ]),
      );
    }
  }

  // A private HELO in an authenticated client submission is a mail client behind a home or office router, not a
  // script on a rented server: no DS506 (assess notes it as DS125).
  if (ev.helo && !authenticated) {
    const local = heloIsLocal(ev.helo.value);
    if (local) {
      out.push(finding('DS506', `HELO ${local} from the public address ${ip}`, [ev.helo.ref, ipRef]));
    }
  }

  for (const ind of indicators) {
    if (!ind.range.matches(ip)) continue;
    out.push(
      finding('DS507', `${ip} is a known sender of ${ind.campaign}`, [
        ipRef,
        { source: ind.source, field: 'campaign indicator', value: `${ind.cidr} ${ind.campaign}` },
      ]),
    );
    break;
  }
  return out;
}
