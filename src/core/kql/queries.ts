/**
 * The four KQL queries of `dsguard kql`, over Defender's `EmailEvents` (+ `EmailUrlInfo`), generated from the
 * tenant profile through the {@link Condition} definitions of selection.ts, so they select what `ingest` +
 * `report` select on an exported EmailEvents file:
 * - `inventory`: every Direct Send and internal-spoof message, with SPF / DKIM / DMARC / CompAuth parsed from
 *   `AuthenticationDetails` (30 days: hunting only);
 * - `abuse`: those that carry a signal of the local engine EmailEvents has (authentication failed, self-sent,
 *   lure subject, Exchange phish/malware verdict, connecting country outside the home countries, a QR-code URL),
 *   declared sources excluded;
 * - `readiness`: Direct Send grouped by connecting IP with first/last seen and volume, as `report` seeds its
 *   sources (30 days: hunting only);
 * - `after-enable`: Direct Send that still got through (after RejectDirectSend, when the profile says since when).
 * @module
 */
import { enabledAfter, type TenantProfile } from '../profile.js';
import { type Condition, toKql } from './condition.js';
import { kqlComment, kqlStringList } from './escape.js';
import { abuseSignals, afterEnableCondition, channelConditions, knownSourceCondition } from './selection.js';
import { inventoryBody } from './windowed.js';

export const QUERY_NAMES = ['inventory', 'abuse', 'readiness', 'after-enable'] as const;
export type QueryName = (typeof QUERY_NAMES)[number];
export type KqlTarget = 'hunting' | 'detection' | 'sentinel';

export interface KqlQuery {
  name: QueryName;
  title: string;
  description: string;
  /** Needs more look-back than a detection rule has: emitted for advanced hunting only. */
  huntingOnly: boolean;
  /** The look-back in the query (`30d`, `4h`, `1h`). */
  lookback: string;
  kql: string;
}

/** Look-back per target: hunting keeps 30 days; a 1-hour custom detection looks back 4 hours; Sentinel 1 hour. */
export const LOOKBACK: Record<KqlTarget, string> = { hunting: '30d', detection: '4h', sentinel: '1h' };

const CHANNEL = (p1: Condition) => `iff(${toKql(p1)}, "direct-send", "internal-spoof")`;

/** Country names for `geo_info_from_ip_address()` from ISO 3166-1 alpha-2 codes (CLDR English names). */
export function countryNames(codes: readonly string[]): string[] {
  const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  const out: string[] = [];
  for (const c of codes) {
    if (!/^[A-Z]{2}$/.test(c)) continue;
    const n = names.of(c);
    if (n) out.push(n);
  }
  return out;
}

function header(title: string, lines: readonly string[]): string {
  return [`// dsguard: ${kqlComment(title)}`, ...lines.map((l) => `// ${kqlComment(l)}`)].join('\n');
}

/** The connecting IP, IPv4 or IPv6 (`coalesce` skips an empty string): what the rules' IP entity maps. */
const SENDER_IP = 'SenderIP = coalesce(SenderIPv4, SenderIPv6)';

const HUNTING_ONLY_LINE = 'Hunting only: needs a 30-day look-back (a detection rule looks back at most hours).';

/** `EmailEvents` within the look-back: how every query but the inventory starts. */
function emailEventsSince(lookback: string): string {
  return `EmailEvents
| where Timestamp > ago(${lookback})`;
}

/** A query with its header comment (title, description, the accepted domains, then `notes`) above `body`. */
function query(
  c: QueryContext,
  name: QueryName,
  title: string,
  description: string,
  notes: readonly string[],
  body: string,
): KqlQuery {
  const { huntingOnly, lookback, domainsLine } = c;
  const kql = `${header(title, [description, domainsLine, ...notes])}\n${body}`;
  return { name, title, description, huntingOnly, lookback, kql };
}

interface QueryContext {
  profile: TenantProfile;
  ch: ReturnType<typeof channelConditions>;
  known: Condition;
  lookback: string;
  huntingOnly: boolean;
  domainsLine: string;
  notKnown: string[];
}

function inventoryQuery(c: QueryContext): KqlQuery {
  const { lookback, huntingOnly, domainsLine } = c;
  const name = 'inventory' as const;
  const title = 'Direct Send and internal-spoof inventory';
  const description =
    'Every inbound message that matched no connector and whose envelope (P1) or From (P2) domain is an accepted domain.';
  return {
    name,
    title,
    description,
    huntingOnly,
    lookback,
    // The same builder as the query `dsguard collect` sends: only the window differs (windowed.ts).
    kql: `${header(title, [description, domainsLine, 'Hunting only: needs a 30-day look-back (a detection rule looks back at most hours).'])}
${inventoryBody(c.profile, { lookback })}`,
  };
}

function abuseQuery(c: QueryContext): KqlQuery {
  const { profile, ch, lookback, notKnown } = c;
  const signals = abuseSignals();
  const countries = countryNames(profile.homeCountries);
  const extend = signals.map((s) => `${s.name} = ${toKql(s.condition)}`);
  const foreign = countries.length > 0 ? `isnotempty(Country) and Country !in (${kqlStringList(countries)})` : 'false';
  const geo = [
    '| extend Country = tostring(geo_info_from_ip_address(SenderIP).country)',
    `| extend ForeignCountry = ${foreign}`,
  ];
  const names = [...signals.map((s) => s.name), 'ForeignCountry', 'QrCode'];
  return query(
    c,
    'abuse',
    'Direct Send and internal-spoof abuse',
    'Direct Send / internal-spoof messages with a signal of abuse, sources declared in the profile excluded.',
    [`Home countries: ${countries.join(', ') || '(none in the profile)'}`],
    `let QrMessages = EmailUrlInfo
    | where Timestamp > ago(${lookback}) and UrlLocation == "QRCode"
    | summarize QrUrls = make_set(Url, 10) by NetworkMessageId;
${emailEventsSince(lookback)}
| where ${toKql(ch.inventory)}
${[...notKnown, ''].join('\n')}| extend Channel = ${CHANNEL(ch.p1Internal)}, ${SENDER_IP}
${extend.map((e) => `| extend ${e}`).join('\n')}
${geo.join('\n')}
| join kind=leftouter QrMessages on NetworkMessageId
| extend QrCode = isnotnull(QrUrls)
| where ${names.join(' or ')}
| project Timestamp, ReportId, NetworkMessageId, RecipientEmailAddress, Channel, SenderMailFromAddress, SenderFromAddress,
    SenderIP, Country, Subject, ThreatTypes, ${names.join(', ')}, QrUrls`,
  );
}

function readinessQuery(c: QueryContext): KqlQuery {
  const { ch, lookback, known } = c;
  return query(
    c,
    'readiness',
    'Direct Send sources before RejectDirectSend',
    'Direct Send grouped by connecting IP, with first and last seen, volume and senders: what RejectDirectSend would reject.',
    [HUNTING_ONLY_LINE],
    `${emailEventsSince(lookback)}
| where ${toKql(ch.directSend)}
| extend Source = coalesce(SenderIPv4, SenderIPv6)
| extend Declared = ${toKql(known)}
| summarize FirstSeen = min(Timestamp), LastSeen = max(Timestamp), Messages = dcount(NetworkMessageId),
    Recipients = dcount(RecipientEmailAddress), Days = dcount(bin(Timestamp, 1d)), DeclaredMessages = countif(Declared),
    Senders = make_set(SenderMailFromAddress, 20), Subjects = make_set(Subject, 5) by Source
| order by Messages desc, Source asc`,
  );
}

function afterEnableQuery(c: QueryContext): KqlQuery {
  const { profile, lookback } = c;
  const since =
    profile.rejectDirectSend === true && profile.rejectDirectSendSince !== null
      ? enabledAfter(profile.rejectDirectSendSince)
      : null;
  const description =
    since !== null
      ? `Direct Send received after RejectDirectSend was certainly enabled (from ${new Date(since.from).toISOString()}${since.exact ? '' : `, the day after ${since.day}`}): it should not exist.`
      : 'Direct Send that got through (the profile does not say since when RejectDirectSend is enabled).';
  return query(
    c,
    'after-enable',
    'Direct Send after RejectDirectSend',
    description,
    [],
    `${emailEventsSince(lookback)}
| where ${toKql(afterEnableCondition(profile))}
| extend ${SENDER_IP}
| project Timestamp, ReportId, NetworkMessageId, RecipientEmailAddress, SenderMailFromAddress, SenderFromAddress,
    SenderIP, Subject, DeliveryAction, DeliveryLocation, ThreatTypes`,
  );
}

const BUILDERS: Record<QueryName, (c: QueryContext) => KqlQuery> = {
  inventory: inventoryQuery,
  abuse: abuseQuery,
  readiness: readinessQuery,
  'after-enable': afterEnableQuery,
};

export function buildQuery(name: QueryName, profile: TenantProfile, target: KqlTarget): KqlQuery {
  const ch = channelConditions(profile);
  const known = knownSourceCondition(profile);
  const lookback = name === 'inventory' || name === 'readiness' ? '30d' : LOOKBACK[target];
  const huntingOnly = name === 'inventory' || name === 'readiness';
  const tenant = profile.name ? ` (${profile.name})` : '';
  const domainsLine = `Accepted domains${tenant}: ${profile.acceptedDomains.join(', ')}`;
  const notKnown = known.op === 'any' && known.of.length === 0 ? [] : [`| where not(${toKql(known)})`];
  return BUILDERS[name]({ profile, ch, known, lookback, huntingOnly, domainsLine, notKnown });
}
