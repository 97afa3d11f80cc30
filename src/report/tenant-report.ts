/**
 * `tenantReport(store, options)`: what the ingested exports say about Direct Send in the tenant. Totals by channel
 * and source verdict, the daily timeline, the inventory of Direct Send sources (one printer or app per line, each
 * weighed over all its evidence), what RejectDirectSend would reject or stop today, whether it can be enabled now
 * (readiness) and the connector plan that must come first. Built in named pure steps over the report's queries.
 * Reads mostly aggregate tables: fast on stores of tens of millions of rows.
 * @module
 */

import { dayOf, dayText } from '../core/delivery-key.js';
import { connectorForIp, type TenantProfile } from '../core/profile.js';
import { ok, type Result } from '../core/result.js';
import { assessReadiness, type Readiness } from '../core/sources/readiness.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { type GroupClassRow, type IngestedFile, ReportQueries } from '../store/report-queries.js';
import { rebuildSourceStats, sourceStatsStale } from '../store/source-stats.js';
import { type ConnectorPlan, planConnectors, planInputOf, probeRecipientOf } from './connector-plan.js';
import { type Enforcement, enforcementOf } from './enforcement.js';
import { type DailyTotalsSummary, storedMailTotals } from './mail-totals.js';
import { buildRunbook, type Runbook } from './runbook.js';
import {
  buildSources,
  type InferredGroup,
  inferDirectSend,
  listBy,
  type SourceEntry,
  type SourceVerdict,
} from './source-inventory.js';

export type { Readiness, ReadinessBlocker } from '../core/sources/readiness.js';
export { cut, type Enforcement, enforcementText } from './enforcement.js';
export type { InferredFrom, SourceEntry, SourceVerdict } from './source-inventory.js';

/** Messages of Direct Send and P2-only spoof sources, by the verdict of their source. */
export interface VerdictCounts {
  malicious: number;
  suspicious: number;
  legitimate: number;
  likelyLegitimate: number;
  /** Of sources whose verdict is undetermined. */
  undetermined: number;
}

export interface Totals extends VerdictCounts {
  /** Deliveries (message × recipient) in the store. */
  messages: number;
  /** Proven and inferred Direct Send. */
  directSend: number;
  /** Summary rows counted as Direct Send because other rows prove their IP and sender (or the profile declares it). */
  inferredDirectSend: number;
  internalSpoof: number;
  /** Channel unknown (summary rows), internal sender to internal recipient, not inferred: detail data needed. */
  candidates: number;
  /** As stored (inferred rows stay `unknown` here). */
  byChannel: Record<string, number>;
}

export interface TimelineDay extends VerdictCounts {
  day: string;
  messages: number;
  directSend: number;
  inferredDirectSend: number;
  internalSpoof: number;
  candidates: number;
}

export interface Impact {
  wouldReject: { messages: number; legitimateMessages: number; spoofMessages: number; undeterminedMessages: number };
  /** Legitimate and likely-legitimate sources it would break. */
  legitimateSources: {
    id: string;
    name: string | null;
    verdict: SourceVerdict;
    ips: string[];
    senders: string[];
    messages: number;
  }[];
  stoppedSpoofs: { id: string; ips: string[]; verdict: SourceVerdict; messages: number }[];
  p2OnlySpoofs: { id: string; ips: string[]; verdict: SourceVerdict; messages: number }[];
  undetermined: { sources: number; messages: number };
}

export interface TenantReport {
  since: string | null;
  tenant: { name: string | null; domains: string[]; profile: boolean };
  files: IngestedFile[];
  /** Can RejectDirectSend be enabled now; if not, what is missing, most important first. */
  readiness: Readiness;
  totals: Totals;
  timeline: TimelineDay[];
  sources: SourceEntry[];
  impact: Impact;
  /** `null` unless the profile says RejectDirectSend is enabled. */
  enforcement: Enforcement | null;
  /** The connectors legitimate sources need, per source the choice and why (report/connector-plan.ts). */
  connectorPlan: ConnectorPlan;
  /** Connectors → soak → enable (only when ready) → verify → rollback (report/runbook.ts). */
  runbook: Runbook;
  notes: string[];
  /** All mail per day as `dsguard collect` counted it (mail-totals.ts); absent for a store of exports alone. */
  mailTotals?: DailyTotalsSummary;
}

export interface TenantReportOptions {
  profile: TenantProfile | null;
  /** Only days on or after this one (YYYY-MM-DD). */
  since?: string | null;
}

function sinceDay(since: string | null | undefined): number | null {
  if (!since) return null;
  return dayOf(Date.parse(`${since}T00:00:00Z`));
}

function emptyCounts(): VerdictCounts {
  return { malicious: 0, suspicious: 0, legitimate: 0, likelyLegitimate: 0, undetermined: 0 };
}

const VERDICT_KEY: Record<SourceVerdict, keyof VerdictCounts> = {
  malicious: 'malicious',
  suspicious: 'suspicious',
  legitimate: 'legitimate',
  'likely-legitimate': 'likelyLegitimate',
  undetermined: 'undetermined',
};

/**
 * Step: totals and the daily timeline from the count buckets, with inferred Direct Send moved from the
 * undetermined candidates to Direct Send, and Direct Send and spoofs split by the verdict of their source.
 */
export function totalsAndTimeline(
  q: ReportQueries,
  since: number | null,
  inferred: ReadonlyMap<number, InferredGroup>,
  sourceOf: ReadonlyMap<number, SourceEntry>,
): { totals: Totals; timeline: TimelineDay[] } {
  const totals: Totals = {
    messages: 0,
    directSend: 0,
    inferredDirectSend: 0,
    internalSpoof: 0,
    candidates: 0,
    byChannel: {},
    ...emptyCounts(),
  };
  const days = new Map<number, TimelineDay>();
  const dayOfNumber = (day: number): TimelineDay => {
    let d = days.get(day);
    if (!d) {
      d = {
        day: dayText(day),
        messages: 0,
        directSend: 0,
        inferredDirectSend: 0,
        internalSpoof: 0,
        candidates: 0,
        ...emptyCounts(),
      };
      days.set(day, d);
    }
    return d;
  };
  for (const b of q.buckets(since)) {
    const d = dayOfNumber(b.day);
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
  }
  for (const g of inferred.values()) {
    for (const [day, n] of g.byDay) {
      const d = dayOfNumber(day);
      for (const t of [totals, d]) {
        t.directSend += n;
        t.inferredDirectSend += n;
        t.candidates -= n;
      }
    }
  }
  // By source verdict: each source's Direct Send and spoofs day by day, then its inferred rows.
  const add = (grp: number, day: number, n: number) => {
    const s = sourceOf.get(grp);
    if (!s || n === 0) return;
    const key = VERDICT_KEY[s.verdict];
    totals[key] += n;
    dayOfNumber(day)[key] += n;
  };
  for (const r of q.groupDayChannels(since)) {
    if (r.channel === 'direct-send' || r.channel === 'internal-spoof') add(r.grp, r.day, r.messages);
  }
  for (const [grp, g] of inferred) for (const [day, n] of g.byDay) add(grp, day, n);
  return { totals, timeline: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)) };
}

/** Step: what RejectDirectSend would reject today, source by source. */
export function impactOf(sources: readonly SourceEntry[]): Impact {
  const impact: Impact = {
    wouldReject: { messages: 0, legitimateMessages: 0, spoofMessages: 0, undeterminedMessages: 0 },
    legitimateSources: [],
    stoppedSpoofs: [],
    p2OnlySpoofs: [],
    undetermined: { sources: 0, messages: 0 },
  };
  for (const s of sources) {
    const ds = s.counts.directSend;
    if (ds > 0) {
      impact.wouldReject.messages += ds;
      if (s.verdict === 'legitimate' || s.verdict === 'likely-legitimate') {
        impact.wouldReject.legitimateMessages += ds;
        impact.legitimateSources.push({
          id: s.id,
          name: s.name,
          verdict: s.verdict,
          ips: s.ips,
          senders: s.senders.map((x) => x.address),
          messages: ds,
        });
      } else if (s.verdict === 'malicious' || s.verdict === 'suspicious') {
        impact.wouldReject.spoofMessages += ds;
        impact.stoppedSpoofs.push({ id: s.id, ips: s.ips, verdict: s.verdict, messages: ds });
      } else impact.wouldReject.undeterminedMessages += ds;
    }
    if (s.counts.internalSpoof > 0) {
      impact.p2OnlySpoofs.push({ id: s.id, ips: s.ips, verdict: s.verdict, messages: s.counts.internalSpoof });
    }
    if (s.counts.undetermined > 0) {
      impact.undetermined.sources++;
      impact.undetermined.messages += s.counts.undetermined;
    }
  }
  return impact;
}

/** Step: readiness over the weighed sources, the days the exports cover and the files' rejected rows. */
export function readinessOf(
  q: ReportQueries,
  profile: TenantProfile | null,
  sources: readonly SourceEntry[],
  totals: Totals,
  rowsWithProfile: boolean,
  files: readonly IngestedFile[],
): Readiness {
  return assessReadiness({
    profile: profile !== null,
    rowsWithoutProfile: !rowsWithProfile,
    messages: totals.messages,
    days: q.daysPresent().map(dayText),
    sources: sources.map((s) => ({
      id: s.id,
      label: s.name ?? (s.ips.join(', ') || '(IP unknown)'),
      verdict: s.verdict,
      confirmed: s.confirmed,
      decision: s.decision,
      days: s.days,
      directSend: s.counts.directSend,
      undetermined: s.counts.undetermined,
      hasConnector: profile !== null && s.ips.length > 0 && s.ips.every((ip) => connectorForIp(profile, ip) !== null),
      ipKnown: s.ips.length > 0,
    })),
    rejectedRows: files.map((f) => ({ file: f.path, rejected: f.rejected })),
  });
}

/**
 * Step: the connector plan and the change runbook. The enable command only when ready (else the blockers); the
 * probe writes to a mailbox that received mail in the exports, never to a sender (senders are the attacker's).
 */
export function planAndRunbookOf(
  q: ReportQueries,
  since: number | null,
  profile: TenantProfile | null,
  sources: readonly SourceEntry[],
  readiness: Readiness,
  enforcement: Enforcement | null,
): { connectorPlan: ConnectorPlan; runbook: Runbook } {
  const domains = profile?.acceptedDomains ?? [];
  const connectorPlan = planConnectors(planInputOf(sources, profile));
  const runbook = buildRunbook({
    plan: connectorPlan,
    probeDomain: domains[0] ?? sources.flatMap((s) => s.senders)[0]?.address.split('@')[1] ?? null,
    probeRecipient: probeRecipientOf(
      q.groupSamples(since).map((x) => x.recipient),
      domains,
    ),
    enabled: enforcement !== null,
    ready: readiness.ready,
    blockers: readiness.blockers.map((b) => `${b.code} ${b.text}`),
  });
  return { connectorPlan, runbook };
}

/** Step: notes on what the report cannot see. */
export function notesOf(
  opts: TenantReportOptions,
  totals: Totals,
  impact: Impact,
  enforcement: Enforcement | null,
): string[] {
  const notes: string[] = [];
  if (impact.p2OnlySpoofs.length > 0) {
    notes.push(
      'Internal spoofs with an external envelope sender (P2 only) are not stopped by RejectDirectSend: publish DMARC p=reject for your domains and keep anti-spoofing on.',
    );
  }
  if (totals.inferredDirectSend > 0) {
    notes.push(
      `${totals.inferredDirectSend} message(s) from summary rows are counted as Direct Send (inferred): other rows prove their IP and internal sender to be anonymous Direct Send without a connector, or the profile declares the source (each source cites its proving rows).`,
    );
  }
  if (totals.candidates > 0) {
    notes.push(
      `${totals.candidates} message(s) from internal senders to internal recipients come from message trace summary rows, which cannot tell Direct Send from authenticated mail: ingest Get-MessageTraceDetailV2, a historical search or EmailEvents for them (dsguard powershell prints the commands).`,
    );
  }
  if (totals.messages === 0) {
    notes.unshift(
      `The store holds no messages${opts.since ? ` since ${opts.since}` : ''}: nothing here tells what RejectDirectSend would break. Ingest a month or more of message trace or a historical search first (dsguard powershell prints the commands).`,
    );
  }
  if (enforcement && enforcement.since === null) {
    notes.push(
      'The profile says RejectDirectSend is enabled but not since when: every Direct Send message counts against it (DS117). Say when (tenant.rejectDirectSend: the day, or the time as 2026-08-01T14:30:00Z) to tell older mail from a setting not in force.',
    );
  }
  if (!opts.profile) {
    notes.push(
      'No profile: accepted domains were inferred from each message’s recipients. Pass --profile dsguard.yml.',
    );
  }
  return notes;
}

export function buildTenantReport(store: DsguardStore, opts: TenantReportOptions): TenantReport {
  const q = new ReportQueries(store.db);
  const since = sinceDay(opts.since);
  const profile = opts.profile;
  const rowsWithProfile = q.assessedProfile() !== 'none';
  const classesByGroup = listBy(q.groupClasses(since));
  const ipsBy = listBy(q.groupIps());
  const inferred = inferDirectSend(q, profile, since, ipsBy);
  const { sources, sourceOf } = buildSources(q, profile, { classesByGroup, ipsBy, since }, inferred, rowsWithProfile);
  const { totals, timeline } = totalsAndTimeline(q, since, inferred, sourceOf);
  const impact = impactOf(sources);

  // Every source's classes over all days: the ones read above when there is no --since, else read on demand.
  let all: Map<number, GroupClassRow[]> | null = since === null ? classesByGroup : null;
  const allClasses = () => {
    all ??= listBy(q.groupClasses(null));
    return all;
  };
  const enforcement =
    profile?.rejectDirectSend === true ? enforcementOf(q, profile, sourceOf, ipsBy, q.dayRange(), allClasses) : null;
  const files = q.files();
  const readiness = readinessOf(q, profile, sources, totals, rowsWithProfile, files);
  const { connectorPlan, runbook } = planAndRunbookOf(q, since, profile, sources, readiness, enforcement);
  const domains = profile?.acceptedDomains ?? [];
  const mailTotals = storedMailTotals(store.db, opts.since ?? null);
  return {
    since: opts.since ?? null,
    tenant: { name: profile?.name ?? null, domains, profile: profile !== null },
    files,
    readiness,
    totals,
    timeline,
    sources,
    impact,
    enforcement,
    connectorPlan,
    runbook,
    notes: notesOf(opts, totals, impact, enforcement),
    ...(mailTotals !== null ? { mailTotals } : {}),
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
