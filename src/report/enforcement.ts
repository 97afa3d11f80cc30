/**
 * Whether RejectDirectSend holds when the profile says it is enabled: Direct Send, undetermined internal mail and
 * P2-only spoofs after the switch, and the block's plain-text lines for every renderer.
 * @module
 */

import { dayOf, dayText } from '../core/delivery-key.js';
import { enabledAfter, type TenantProfile } from '../core/profile.js';
import type { GroupClassRow, ReportQueries } from '../store/report-queries.js';
import { worstVerdict } from '../store/source-stats.js';
import type { SourceEntry, SourceVerdict } from './source-inventory.js';

function sinceDay(since: string): number {
  return dayOf(Date.parse(`${since}T00:00:00Z`));
}

/**
 * Whether RejectDirectSend holds, when the profile says it is enabled. Mail it rejects (550 5.7.68) never reaches
 * message trace or EmailEvents, so Direct Send delivered after the switch means it is not in force; P2-only
 * spoofs still get through (not its to stop). Read over everything ingested, whatever the report's --since.
 */
export interface Enforcement {
  /**
   * `holds`: no Direct Send delivered since; `fails`: some was (the setting is not in force); `undetermined`: none
   * seen, but internal mail since comes from summary rows that cannot tell; `not-covered`: the exports end
   * before it was enabled (or hold nothing); `unclear`: Direct Send was delivered and the profile does not say
   * since when it is enabled.
   */
  state: 'holds' | 'fails' | 'undetermined' | 'not-covered' | 'unclear';
  /** As the profile says: a day (mail on it may predate the switch), a time (UTC), or `null`: not given. */
  since: string | null;
  /** The last day the exports hold (`null`: none). */
  dataUntil: string | null;
  /** Direct Send deliveries after the switch (every one when `since` is `null`). */
  directSend: number;
  /** Their sources (`id` empty for a source the report's --since leaves out). */
  sources: { id: string; ips: string[]; verdict: SourceVerdict; messages: number; lastSeen: string }[];
  /** Internal-to-internal summary rows after the switch: Direct Send or authenticated mail, detail data tells. */
  undetermined: number;
  /** Direct Send on the day given as the switch's (no time given): it may predate the switch. */
  onEnablingDay: number;
  /** P2-only spoofs after the switch (not RejectDirectSend's to stop). */
  p2OnlySpoofs: number;
}

/** A source the report's --since leaves out is not weighed: its rows' verdicts say what they can. */
function unweighedVerdict(classes: readonly GroupClassRow[]): SourceVerdict {
  const v = worstVerdict(classes);
  return v === 'unknown' ? 'undetermined' : v === 'legitimate' ? 'likely-legitimate' : v;
}

/** Direct Send, undetermined internal mail and P2-only spoofs after RejectDirectSend was enabled. */
export function enforcementOf(
  q: ReportQueries,
  profile: TenantProfile,
  sourceOf: ReadonlyMap<number, SourceEntry>,
  ipsOf: ReadonlyMap<number, { ip: string }[]>,
  range: { first: number; last: number } | null,
  allClasses: () => Map<number, GroupClassRow[]>,
): Enforcement {
  const since = profile.rejectDirectSendSince;
  const out: Enforcement = {
    state: 'holds',
    since,
    dataUntil: range ? dayText(range.last) : null,
    directSend: 0,
    sources: [],
    undetermined: 0,
    onEnablingDay: 0,
    p2OnlySpoofs: 0,
  };
  // What is certainly after the switch: whole days from the aggregates, and with a time given, the rest of its
  // day from that day's stored messages (every Direct Send, spoof and candidate message is stored).
  const rows: { grp: number; channel: string; candidate: boolean; messages: number; lastSeen: string }[] = [];
  let coveredAfter = range !== null;
  if (since === null) for (const list of allClasses().values()) rows.push(...list);
  else {
    const after = enabledAfter(since);
    const switchDay = sinceDay(after.day);
    rows.push(...q.groupClasses(switchDay + 1));
    const fromIso = `${new Date(after.from).toISOString().slice(0, 19)}Z`;
    if (after.exact) rows.push(...q.sourceMessagesFrom(switchDay, fromIso));
    else {
      for (const c of q.groupClassesOn(switchDay)) if (c.channel === 'direct-send') out.onEnablingDay += c.messages;
    }
    // Exports that end on the day of the switch cover what came after it only if a message of theirs did (the
    // aggregates know days, not times: the stored messages of that day tell).
    coveredAfter =
      range !== null &&
      (range.last > switchDay || (after.exact && range.last === switchDay && q.messageOnDayFrom(switchDay, fromIso)));
  }
  const byGroup = new Map<number, { messages: number; lastSeen: string }>();
  for (const c of rows) {
    if (c.channel === 'internal-spoof') out.p2OnlySpoofs += c.messages;
    else if (c.channel === 'unknown' && c.candidate) out.undetermined += c.messages;
    if (c.channel !== 'direct-send') continue;
    const g = byGroup.get(c.grp) ?? { messages: 0, lastSeen: '' };
    g.messages += c.messages;
    if (c.lastSeen > g.lastSeen) g.lastSeen = c.lastSeen;
    byGroup.set(c.grp, g);
  }
  // A source the report's --since leaves out has no id here, and its verdict is over its whole history (read
  // only when there is such a source).
  const verdictOf = (grp: number) => unweighedVerdict(allClasses().get(grp) ?? []);
  for (const [grp, g] of byGroup) {
    const s = sourceOf.get(grp);
    out.directSend += g.messages;
    out.sources.push({
      id: s?.id ?? '',
      ips: s?.ips ?? (ipsOf.get(grp) ?? []).map((r) => r.ip).filter((ip) => ip !== ''),
      verdict: s?.verdict ?? verdictOf(grp),
      messages: g.messages,
      lastSeen: g.lastSeen,
    });
  }
  out.sources.sort((a, b) => b.messages - a.messages || a.id.localeCompare(b.id, 'en', { numeric: true }));
  if (!coveredAfter) out.state = 'not-covered';
  else if (out.directSend > 0) out.state = since === null ? 'unclear' : 'fails';
  else if (out.undetermined > 0) out.state = 'undetermined';
  return out;
}

/**
 * The first `limit` entries of a list of spoofing sources (a botnet can be thousands), and what the rest add up to.
 * Sources that need an action (BREAKS, the connector plan) are never cut.
 */
export function cut<T extends { messages: number }>(
  list: readonly T[],
  limit: number | null,
): { shown: readonly T[]; more: string | null } {
  if (limit === null || list.length <= limit) return { shown: list, more: null };
  const rest = list.slice(limit);
  const messages = rest.reduce((n, x) => n + x.messages, 0);
  return {
    shown: list.slice(0, limit),
    more: `${rest.length} more source(s), ${messages} message(s) (raise --limit, or --format json for all)`,
  };
}

/**
 * The enforcement block as plain text lines, for every renderer to escape its own way. `limit`: most sources
 * listed (the report's `--limit`); the rest are counted in one line.
 */
export function enforcementText(
  en: Enforcement,
  limit: number | null = null,
): {
  title: string;
  verdict: string;
  lines: string[];
} {
  const since = en.since;
  const n = en.directSend;
  const after = since ? ` since ${since}` : '';
  const verdict = {
    holds: `HOLDS: no Direct Send delivered${since ? after : ' in these exports'} (exports up to ${en.dataUntil})`,
    fails: `FAILS: ${n} Direct Send message(s) delivered${after}: it is not in force (check Get-OrganizationConfig | Format-List RejectDirectSend, then run dsguard probe)`,
    undetermined: `UNDETERMINED: no Direct Send seen${after}, but ${en.undetermined} internal message(s)${since ? ' since then' : ''} come from message trace summary rows, which cannot tell Direct Send from authenticated mail: ingest detail data for them`,
    'not-covered': since
      ? `NOT SEEN: the exports ${en.dataUntil ? `end on ${en.dataUntil}` : 'hold no message'}, before it was enabled (${since}): ingest newer exports`
      : 'NOT SEEN: the exports hold no message',
    unclear: `UNCLEAR: ${n} Direct Send message(s) in these exports, maybe from before it was enabled (say when in the profile: tenant.rejectDirectSend: YYYY-MM-DD, or the time)`,
  }[en.state];
  const listed = cut(en.sources, limit);
  const lines = listed.shown.map(
    (s) =>
      `${s.id || '-'} ${s.ips.join(', ') || '(IP unknown)'} (${s.verdict}): ${s.messages} message(s), last ${s.lastSeen}`,
  );
  if (listed.more) lines.push(listed.more);
  if (en.state === 'fails' && en.undetermined > 0) {
    lines.push(`${en.undetermined} more internal message(s) since then need detail data to tell`);
  }
  if (en.onEnablingDay > 0) {
    lines.push(
      `${en.onEnablingDay} Direct Send message(s) on ${since}, the day it was enabled, may predate the switch (give the time to tell: tenant.rejectDirectSend: ${since}T14:30:00Z)`,
    );
  }
  if (en.p2OnlySpoofs > 0) {
    lines.push(
      `${en.p2OnlySpoofs} P2-only spoof(s)${since ? ' since then' : ''}: RejectDirectSend does not stop these (DMARC p=reject and anti-spoofing do)`,
    );
  }
  return { title: `RejectDirectSend is enabled${after} (per the profile)`, verdict, lines };
}
