/**
 * `tenantReport(store, options)`: what the ingested exports say about Direct Send in the tenant. Totals by channel
 * and verdict, the daily timeline, the inventory of Direct Send sources (one printer or app per line), what
 * RejectDirectSend would reject or stop today, and the connector plan that must come first.
 * Reads only aggregate tables: fast on stores of tens of millions of rows.
 * @module
 */
import { bySeverityDescending } from '../core/finding.js';
import { enabledAfter, matchKnownSource, type TenantProfile } from '../core/profile.js';
import { ok, type Result } from '../core/result.js';
import { RULES } from '../core/rules/catalog.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { dayOf, dayText } from '../store/keys.js';
import { type GroupClassRow, type IngestedFile, ReportQueries } from '../store/report-queries.js';
import {
  LISTED_SENDERS,
  rebuildSourceStats,
  type SourceVerdict,
  sourceStatsStale,
  worstVerdict,
} from '../store/source-stats.js';
import { type ConnectorPlan, planConnectors, planInputOf, probeRecipientOf } from './connector-plan.js';
import { buildRunbook, type Runbook } from './runbook.js';

/** Days of traffic below which the report warns that the plan may miss sources that send now and then. */
const MIN_PLAN_DAYS = 30;

export interface Totals {
  /** Deliveries (message × recipient) in the store. */
  messages: number;
  directSend: number;
  internalSpoof: number;
  malicious: number;
  suspicious: number;
  legitimate: number;
  /** Channel unknown (summary rows), internal sender to internal recipient: detail data needed. */
  candidates: number;
  byChannel: Record<string, number>;
}

export interface TimelineDay {
  day: string;
  messages: number;
  directSend: number;
  internalSpoof: number;
  legitimate: number;
  suspicious: number;
  malicious: number;
  candidates: number;
}

export interface SourceEntry {
  id: string;
  /** The profile's name for a known legitimate source, when it matches. */
  name: string | null;
  ip: string | null;
  ips: string[];
  helo: string | null;
  helos: string[];
  senders: { address: string; messages: number }[];
  recipients: number;
  messages: number;
  subjects: string[];
  firstSeen: string;
  lastSeen: string;
  tls: 'yes' | 'no' | 'mixed' | 'unknown';
  channel: 'direct-send' | 'internal-spoof' | 'unknown';
  verdict: SourceVerdict;
  counts: { directSend: number; internalSpoof: number; undetermined: number } & Record<SourceVerdict, number>;
  /** Would RejectDirectSend reject this source's messages: true, false (P2-only spoof), null (unknown). */
  rejectDirectSendBlocks: boolean | null;
  why: { code: string; title: string; messages: number }[];
  examples: { file: string; sha256: string; row: number; receivedAt: string; subject: string; sender: string | null }[];
}

export interface Impact {
  wouldReject: { messages: number; legitimateMessages: number; spoofMessages: number; undeterminedMessages: number };
  legitimateSources: { id: string; name: string | null; ips: string[]; senders: string[]; messages: number }[];
  stoppedSpoofs: { id: string; ips: string[]; verdict: SourceVerdict; messages: number }[];
  p2OnlySpoofs: { id: string; ips: string[]; verdict: SourceVerdict; messages: number }[];
  undetermined: { sources: number; messages: number };
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

export interface TenantReport {
  since: string | null;
  tenant: { name: string | null; domains: string[]; profile: boolean };
  files: IngestedFile[];
  totals: Totals;
  timeline: TimelineDay[];
  sources: SourceEntry[];
  impact: Impact;
  /** `null` unless the profile says RejectDirectSend is enabled. */
  enforcement: Enforcement | null;
  /** The connectors legitimate sources need, per source the choice and why (report/connector-plan.ts). */
  connectorPlan: ConnectorPlan;
  /** Connectors → soak → enable → verify → rollback (report/runbook.ts). */
  runbook: Runbook;
  notes: string[];
}

export interface TenantReportOptions {
  profile: TenantProfile | null;
  /** Only days on or after this one (YYYY-MM-DD). */
  since?: string | null;
}

const ABUSE_VERDICTS: readonly SourceVerdict[] = ['malicious', 'suspicious', 'legitimate'];
const VERDICT_RANK: Record<SourceVerdict, number> = { malicious: 0, suspicious: 1, unknown: 2, legitimate: 3 };

/** Rows by source group, in the order they come. */
function listBy<T extends { grp: number }>(rows: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) {
    const list = m.get(r.grp) ?? [];
    list.push(r);
    m.set(r.grp, list);
  }
  return m;
}

/** Info findings that say nothing a reader needs in "why". */
const QUIET = new Set(['DS100', 'DS101', 'DS102', 'DS103', 'DS104', 'DS109', 'DS111', 'DS114', 'DS116', 'DS604']);

function sinceDay(since: string | null | undefined): number | null {
  if (!since) return null;
  return dayOf(Date.parse(`${since}T00:00:00Z`));
}

/** Direct Send, undetermined internal mail and P2-only spoofs after RejectDirectSend was enabled. */
function enforcementOf(
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
    const switchDay = sinceDay(after.day)!;
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
  const verdictOf = (grp: number) => worstVerdict(allClasses().get(grp) ?? []);
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

export function buildTenantReport(store: DsguardStore, opts: TenantReportOptions): TenantReport {
  const q = new ReportQueries(store.db);
  const since = sinceDay(opts.since);
  const profile = opts.profile;
  const notes: string[] = [];

  // Totals and timeline from the count buckets.
  const totals: Totals = {
    messages: 0,
    directSend: 0,
    internalSpoof: 0,
    malicious: 0,
    suspicious: 0,
    legitimate: 0,
    candidates: 0,
    byChannel: {},
  };
  const days = new Map<number, TimelineDay>();
  for (const b of q.buckets(since)) {
    let d = days.get(b.day);
    if (!d) {
      d = {
        day: dayText(b.day),
        messages: 0,
        directSend: 0,
        internalSpoof: 0,
        legitimate: 0,
        suspicious: 0,
        malicious: 0,
        candidates: 0,
      };
      days.set(b.day, d);
    }
    const n = b.messages;
    totals.messages += n;
    d.messages += n;
    totals.byChannel[b.channel] = (totals.byChannel[b.channel] ?? 0) + n;
    if (b.channel === 'direct-send') {
      totals.directSend += n;
      d.directSend += n;
    } else if (b.channel === 'internal-spoof') {
      totals.internalSpoof += n;
      d.internalSpoof += n;
    } else if (b.channel === 'unknown' && b.candidate) {
      totals.candidates += n;
      d.candidates += n;
    }
    if (b.channel === 'direct-send' || b.channel === 'internal-spoof') {
      if (b.verdict === 'malicious' || b.verdict === 'suspicious' || b.verdict === 'legitimate') {
        totals[b.verdict] += n;
        d[b.verdict] += n;
      }
    }
  }
  const timeline = [...days.values()].sort((a, b) => a.day.localeCompare(b.day));

  // Sources: grouped at ingest time (store/source-stats.ts); here only their tables are read.
  const classesByGroup = listBy(q.groupClasses(since));
  // With --since, the period's recipients, findings and samples; a source's IPs, HELO names and senders stay
  // those of all the data (its identity, and what a connector for it must cover).
  const ipsBy = listBy(q.groupIps());
  const helosBy = listBy(q.groupHelos());
  const sendersBy = listBy(q.groupSenders());
  const codesBy = listBy(q.groupCodes(since));
  const samplesBy = listBy(q.groupSamples(since));
  const infoBy = new Map(q.groupInfo(since).map((i) => [i.grp, i]));

  const sources: SourceEntry[] = [];
  const sourceOf = new Map<number, SourceEntry>();
  for (const [grp, classes] of classesByGroup) {
    const ips = (ipsBy.get(grp) ?? []).map((r) => r.ip);
    const counts = {
      directSend: 0,
      internalSpoof: 0,
      undetermined: 0,
      malicious: 0,
      suspicious: 0,
      legitimate: 0,
      unknown: 0,
    };
    let tlsYes = 0;
    let tlsNo = 0;
    let first = '';
    let last = '';
    let messages = 0;
    for (const c of classes) {
      messages += c.messages;
      if (c.channel === 'direct-send') counts.directSend += c.messages;
      else if (c.channel === 'internal-spoof') counts.internalSpoof += c.messages;
      else counts.undetermined += c.messages;
      if (c.channel !== 'unknown' && (ABUSE_VERDICTS as readonly string[]).includes(c.verdict)) {
        counts[c.verdict as SourceVerdict] += c.messages;
      } else counts.unknown += c.messages;
      tlsYes += c.tlsYes;
      tlsNo += c.tlsNo;
      if (first === '' || c.firstSeen < first) first = c.firstSeen;
      if (c.lastSeen > last) last = c.lastSeen;
    }
    const senderList = (sendersBy.get(grp) ?? []).map((x) => ({ address: x.sender, messages: x.messages }));
    const why = (codesBy.get(grp) ?? [])
      .filter((c) => !QUIET.has(c.code) && RULES.has(c.code))
      .sort(
        (a, b) =>
          bySeverityDescending(RULES.get(a.code)!.severity, RULES.get(b.code)!.severity) ||
          b.messages - a.messages ||
          a.code.localeCompare(b.code),
      )
      .slice(0, 6)
      .map((c) => ({ code: c.code, title: RULES.get(c.code)!.title, messages: c.messages }));
    const samples = samplesBy.get(grp) ?? [];
    const helos = (helosBy.get(grp) ?? []).map((h) => h.helo);
    const channel: SourceEntry['channel'] =
      counts.directSend > 0 ? 'direct-send' : counts.internalSpoof > 0 ? 'internal-spoof' : 'unknown';
    const realIps = ips.filter((i) => i !== '');
    const known =
      profile && realIps[0]
        ? matchKnownSource(profile, {
            ip: realIps[0],
            // The listed senders are the most frequent ones: a known source may be named by a rarer one (read only
            // when a known source in its range names senders).
            senders:
              senderList.length < LISTED_SENDERS ? senderList.map((x) => x.address) : () => q.groupAllSenders(grp),
            subject: samples[0]?.subject ?? null,
          })
        : null;
    const entry: SourceEntry = {
      id: '',
      name: known?.name ?? null,
      ip: realIps[0] ?? null,
      ips: realIps,
      helo: helos[0] ?? null,
      helos,
      senders: senderList,
      recipients: infoBy.get(grp)?.recipients ?? 0,
      messages,
      subjects: [...new Set(samples.map((x) => x.subject))],
      firstSeen: first,
      lastSeen: last,
      tls: tlsYes > 0 && tlsNo > 0 ? 'mixed' : tlsYes > 0 ? 'yes' : tlsNo > 0 ? 'no' : 'unknown',
      channel,
      verdict: worstVerdict(classes),
      counts,
      rejectDirectSendBlocks: counts.directSend > 0 ? true : counts.internalSpoof > 0 ? false : null,
      why,
      examples: samples.map((x) => ({
        file: x.file,
        sha256: x.sha256,
        row: x.row,
        receivedAt: x.receivedAt,
        subject: x.subject,
        sender: x.sender,
      })),
    };
    sources.push(entry);
    sourceOf.set(grp, entry);
  }
  sources.sort(
    (a, b) =>
      VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] ||
      b.messages - a.messages ||
      (a.ip ?? '').localeCompare(b.ip ?? ''),
  );
  sources.forEach((s, i) => {
    s.id = `S${i + 1}`;
  });

  // RejectDirectSend impact.
  const impact: Impact = {
    wouldReject: { messages: 0, legitimateMessages: 0, spoofMessages: 0, undeterminedMessages: 0 },
    legitimateSources: [],
    stoppedSpoofs: [],
    p2OnlySpoofs: [],
    undetermined: { sources: 0, messages: 0 },
  };
  for (const s of sources) {
    if (s.counts.directSend > 0) {
      impact.wouldReject.messages += s.counts.directSend;
      if (s.verdict === 'legitimate') {
        impact.wouldReject.legitimateMessages += s.counts.directSend;
        impact.legitimateSources.push({
          id: s.id,
          name: s.name,
          ips: s.ips,
          senders: s.senders.map((x) => x.address),
          messages: s.counts.directSend,
        });
      } else if (s.verdict === 'malicious' || s.verdict === 'suspicious') {
        impact.wouldReject.spoofMessages += s.counts.directSend;
        impact.stoppedSpoofs.push({ id: s.id, ips: s.ips, verdict: s.verdict, messages: s.counts.directSend });
      } else impact.wouldReject.undeterminedMessages += s.counts.directSend;
    }
    if (s.counts.internalSpoof > 0) {
      impact.p2OnlySpoofs.push({ id: s.id, ips: s.ips, verdict: s.verdict, messages: s.counts.internalSpoof });
    }
    if (s.counts.undetermined > 0) {
      impact.undetermined.sources++;
      impact.undetermined.messages += s.counts.undetermined;
    }
  }

  // Every source's classes over all days: the ones read above when there is no --since, else read on demand.
  let all: Map<number, GroupClassRow[]> | null = since === null ? classesByGroup : null;
  const allClasses = () => {
    all ??= listBy(q.groupClasses(null));
    return all;
  };
  const range = q.dayRange();
  const enforcement =
    profile?.rejectDirectSend === true ? enforcementOf(q, profile, sourceOf, ipsBy, range, allClasses) : null;

  const domains = profile?.acceptedDomains ?? [];
  const connectorPlan = planConnectors(planInputOf(sources, profile));
  const runbook = buildRunbook({
    plan: connectorPlan,
    probeDomain: domains[0] ?? sources.flatMap((s) => s.senders)[0]?.address.split('@')[1] ?? null,
    // A mailbox that received mail (never a sender: senders are the attacker's choice).
    probeRecipient: probeRecipientOf(
      [...samplesBy.values()].flat().map((x) => x.recipient),
      domains,
    ),
    enabled: enforcement !== null,
    ready: null,
    blockers: [],
  });
  if (impact.p2OnlySpoofs.length > 0) {
    notes.push(
      'Internal spoofs with an external envelope sender (P2 only) are not stopped by RejectDirectSend: publish DMARC p=reject for your domains and keep anti-spoofing on.',
    );
  }
  if (totals.candidates > 0) {
    notes.push(
      `${totals.candidates} message(s) from internal senders to internal recipients come from message trace summary rows, which cannot tell Direct Send from authenticated mail: ingest Get-MessageTraceDetailV2, a historical search or EmailEvents for them (dsguard powershell prints the commands).`,
    );
  }
  // The plan says what enabling would break only for the traffic the exports hold (all of it, whatever --since).
  if (totals.messages === 0) {
    notes.unshift(
      `The store holds no messages${opts.since ? ` since ${opts.since}` : ''}: nothing here tells what RejectDirectSend would break. Ingest a month or more of message trace or a historical search first (dsguard powershell prints the commands).`,
    );
  } else if (range && !enforcement) {
    const [first, last] = [dayText(range.first), dayText(range.last)];
    const span = range.last - range.first + 1;
    if (span < MIN_PLAN_DAYS) {
      notes.push(
        `The exports cover ${span} day(s) (${first} to ${last}): a source that sends weekly or monthly (payroll, invoices, reports) may not be in them. Cover ${MIN_PLAN_DAYS} days or more before enabling RejectDirectSend (a historical search reaches 90 days back).`,
      );
    }
  }
  if (enforcement && enforcement.since === null) {
    notes.push(
      'The profile says RejectDirectSend is enabled but not since when: every Direct Send message counts against it (DS117). Say when (tenant.rejectDirectSend: the day, or the time as 2026-08-01T14:30:00Z) to tell older mail from a setting not in force.',
    );
  }
  if (!profile) {
    notes.push(
      'No profile: accepted domains were inferred from each message’s recipients. Pass --profile dsguard.yml.',
    );
  }
  return {
    since: opts.since ?? null,
    tenant: { name: profile?.name ?? null, domains, profile: profile !== null },
    files: q.files(),
    totals,
    timeline,
    sources,
    impact,
    enforcement,
    connectorPlan,
    runbook,
    notes,
  };
}

/**
 * Open a store and build its report. Read-only, unless an interrupted ingest left the source aggregates stale:
 * then they are rebuilt first.
 */
export function tenantReportFromFile(path: string, opts: TenantReportOptions): Result<{ report: TenantReport }> {
  let r = DsguardStore.open(path, { readonly: true });
  if (r.status === 'error') return r;
  if (sourceStatsStale(r.store.db)) {
    r.store.close();
    r = DsguardStore.open(path);
    if (r.status === 'error') return r;
    const store = r.store;
    store.transaction(() => rebuildSourceStats(store.db));
  }
  try {
    return ok({ report: buildTenantReport(r.store, opts) });
  } finally {
    r.store.close();
  }
}
