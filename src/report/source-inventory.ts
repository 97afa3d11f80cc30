/**
 * The report's source inventory: each Direct Send source (grouped at ingest, store/source-stats.ts) with its
 * counts, its inferred Direct Send and its verdict weighed over all its evidence (core/sources/weigh-source.ts).
 * Every step here reads the report's queries and hands plain data to the pure core.
 * @module
 */

import { dayText } from '../core/delivery-key.js';
import { bySeverityDescending } from '../core/finding.js';
import { ipInAny } from '../core/net-address.js';
import { connectorForIp, isAcceptedDomain, matchKnownSource, type TenantProfile } from '../core/profile.js';
import { RULES } from '../core/rules/catalog.js';
import {
  type RowRef,
  type SourceFacts,
  type SourceSignal,
  type SourceVerdict,
  weighSource,
} from '../core/sources/weigh-source.js';
import type { GroupClassRow, ReportQueries } from '../store/report-queries.js';
import { LISTED_SENDERS } from '../store/source-stats.js';

export type { SourceVerdict } from '../core/sources/weigh-source.js';

/** A summary row's claim to Direct Send: the row that proves its IP and sender, or the profile's entry. */
export interface InferredFrom {
  ip: string;
  sender: string;
  messages: number;
  /** The proving row (anonymous, no connector, same IP and internal envelope sender), or `null`. */
  file: string | null;
  row: number | null;
  /** The profile's name for a declared source that makes it Direct Send, or `null`. */
  declared: string | null;
}

export interface SourceEntry {
  id: string;
  /** The profile's name for a declared or approved source (or a denied one), when it matches. */
  name: string | null;
  owner: string | null;
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
  /** Distinct days it sent on. */
  days: number;
  tls: 'yes' | 'no' | 'mixed' | 'unknown';
  channel: 'direct-send' | 'internal-spoof' | 'unknown';
  /** Weighed over all its evidence (docs/sources.md). */
  verdict: SourceVerdict;
  /** The admin decided on it in the profile (declared, approved or denied). */
  confirmed: boolean;
  decision: 'declared' | 'approved' | 'denied' | null;
  /** Why this verdict, in one line; `signals` says which evidence, from which rows. */
  summary: string;
  signals: SourceSignal[];
  /**
   * `directSend` includes the `inferred` summary rows; `undetermined` is what is left of the internal summary
   * rows; `rows` counts the per-message verdicts as assessed (for reference: the source verdict is weighed).
   */
  counts: {
    directSend: number;
    inferred: number;
    internalSpoof: number;
    undetermined: number;
    rows: { malicious: number; suspicious: number; legitimate: number; unknown: number };
  };
  /** The rows that prove its inferred Direct Send (first few). */
  inferredFrom: InferredFrom[];
  /** Would RejectDirectSend reject this source's messages: true, false (P2-only spoof), null (unknown). */
  rejectDirectSendBlocks: boolean | null;
  why: { code: string; title: string; messages: number }[];
  examples: { file: string; sha256: string; row: number; receivedAt: string; subject: string; sender: string | null }[];
}

/** Inferred Direct Send of one source group: per day, and the proofs. */
export interface InferredGroup {
  total: number;
  byDay: Map<number, number>;
  from: InferredFrom[];
}

const VERDICT_RANK: Record<SourceVerdict, number> = {
  malicious: 0,
  suspicious: 1,
  undetermined: 2,
  'likely-legitimate': 3,
  legitimate: 4,
};
/** Info findings that say nothing a reader needs in "why". */
const QUIET = new Set(['DS100', 'DS101', 'DS102', 'DS103', 'DS104', 'DS109', 'DS111', 'DS114', 'DS116', 'DS604']);
/** Subjects per source handed to the weighing (the most frequent ones). */
const SUBJECTS_WEIGHED = 50;
const PROOFS_LISTED = 5;

/** Rows by source group, in the order they come. */
export function listBy<T extends { grp: number }>(rows: readonly T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) {
    const list = m.get(r.grp) ?? [];
    list.push(r);
    m.set(r.grp, list);
  }
  return m;
}

/**
 * Inferred Direct Send: undetermined internal summary rows (message trace, whose rows cannot tell Direct Send
 * from authenticated mail) from an IP and internal envelope sender that a stored row proves to be anonymous,
 * connector-less Direct Send — or from a source the profile declares, with a sender of an accepted domain — unless
 * a connector in the profile covers the IP.
 */
export function inferDirectSend(
  q: ReportQueries,
  profile: TenantProfile | null,
  since: number | null,
  ipsBy: ReadonlyMap<number, readonly { grp: number; ip: string }[]>,
) {
  const out = new Map<number, InferredGroup>();
  const proofList = q.directSendProofs();
  const proofs = new Map(proofList.map((p) => [`${p.ip}\u0001${p.sender}`, p]));
  // Only IPs that can prove anything are read: those of a proven row, and those a declared source covers.
  const grpOf = new Map<string, number>();
  for (const list of ipsBy.values()) for (const r of list) grpOf.set(r.ip, r.grp);
  const ips = new Set(proofList.map((p) => p.ip));
  if (profile && profile.knownSources.length > 0) {
    for (const ip of grpOf.keys()) {
      if (ip !== '' && profile.knownSources.some((k) => ipInAny(ip, k.ips) !== null)) ips.add(ip);
    }
  }
  const candidates = q
    .candidateRows(since, [...ips].sort())
    .map((c) => ({ ...c, grp: grpOf.get(c.ip) ?? -1 }))
    .filter((c) => c.grp >= 0);
  for (const c of candidates) {
    if (c.ip === '' || c.sender === '') continue;
    // An IP a connector in the profile covers sends through it now: its summary rows prove nothing about
    // Direct Send (the connector may be newer than the proving row).
    if (profile && connectorForIp(profile, c.ip) !== null) continue;
    const proof = proofs.get(`${c.ip}\u0001${c.sender}`);
    const declared =
      proof === undefined && profile && isAcceptedDomain(profile, c.sender.split('@')[1] ?? null)
        ? matchKnownSource(profile, { ip: c.ip, senders: [c.sender], subject: null })
        : null;
    if (proof === undefined && !declared) continue;
    let g = out.get(c.grp);
    if (!g) {
      g = { total: 0, byDay: new Map(), from: [] };
      out.set(c.grp, g);
    }
    g.total += c.messages;
    g.byDay.set(c.day, (g.byDay.get(c.day) ?? 0) + c.messages);
    const cited = g.from.find((f) => f.ip === c.ip && f.sender === c.sender);
    if (cited) cited.messages += c.messages;
    else {
      g.from.push({
        ip: c.ip,
        sender: c.sender,
        messages: c.messages,
        file: proof?.file ?? null,
        row: proof?.row ?? null,
        declared: proof ? null : (declared?.name ?? null),
      });
    }
  }
  for (const g of out.values()) {
    g.from.sort((a, b) => b.messages - a.messages || a.ip.localeCompare(b.ip) || a.sender.localeCompare(b.sender));
    g.from.length = Math.min(g.from.length, PROOFS_LISTED);
  }
  return out;
}

interface GroupReads {
  classesByGroup: Map<number, GroupClassRow[]>;
  ipsBy: Map<number, { grp: number; ip: string }[]>;
  since: number | null;
}

/** The profile's word on a source: declared, approved or denied. */
function decisionOf(
  profile: TenantProfile | null,
  input: Parameters<typeof matchKnownSource>[1],
): { kind: 'declared' | 'approved' | 'denied'; name: string; owner: string | null } | null {
  if (!profile) return null;
  const denied = profile.deniedSources?.length
    ? matchKnownSource({ ...profile, knownSources: profile.deniedSources }, input)
    : null;
  if (denied) return { kind: 'denied', name: denied.name, owner: denied.owner ?? null };
  const known = matchKnownSource(profile, input);
  if (!known) return null;
  return { kind: known.approved ? 'approved' : 'declared', name: known.name, owner: known.owner ?? null };
}

/**
 * The per-source tables of the period. With --since, the period's recipients, findings and samples; a source's
 * IPs, HELO names and senders stay those of all the data (its identity, and what a connector for it must cover).
 */
function groupDetails(q: ReportQueries, since: number | null) {
  const daysBy = new Map<number, Set<number>>();
  for (const r of q.groupDayChannels(since)) {
    const set = daysBy.get(r.grp) ?? new Set<number>();
    set.add(r.day);
    daysBy.set(r.grp, set);
  }
  return {
    helosBy: listBy(q.groupHelos()),
    sendersBy: listBy(q.groupSenders()),
    codesBy: listBy(q.groupCodes(since)),
    codeRowsBy: listBy(q.groupCodeRows(since)),
    samplesBy: listBy(q.groupSamples(since)),
    rhythmBy: listBy(q.groupSubjectRhythm(since)),
    daysBy,
    recipientsBy: new Map(q.groupInfo(since).map((i) => [i.grp, i.recipients])),
  };
}

/** A source's counts over its classes, with its inferred Direct Send moved from undetermined. */
function classTotals(classes: readonly GroupClassRow[], inf: InferredGroup | undefined) {
  const rowVerdicts = { malicious: 0, suspicious: 0, legitimate: 0, unknown: 0 };
  const counts = { directSend: 0, inferred: 0, internalSpoof: 0, undetermined: 0, rows: rowVerdicts };
  let [tlsYes, tlsNo, messages, first, last] = [0, 0, 0, '', ''];
  for (const c of classes) {
    messages += c.messages;
    if (c.channel === 'direct-send') counts.directSend += c.messages;
    else if (c.channel === 'internal-spoof') counts.internalSpoof += c.messages;
    else counts.undetermined += c.messages;
    const v = c.verdict;
    if (c.channel !== 'unknown' && (v === 'malicious' || v === 'suspicious' || v === 'legitimate')) {
      rowVerdicts[v] += c.messages;
    } else rowVerdicts.unknown += c.messages;
    tlsYes += c.tlsYes;
    tlsNo += c.tlsNo;
    if (first === '' || c.firstSeen < first) first = c.firstSeen;
    if (c.lastSeen > last) last = c.lastSeen;
  }
  if (inf) {
    counts.inferred = inf.total;
    counts.directSend += inf.total;
    counts.undetermined -= inf.total;
  }
  return { counts, tlsYes, tlsNo, messages, first, last };
}

/**
 * Every source of the period with its verdict weighed, sorted worst first (then by messages). Ids are the
 * source groups' numbers (S1…), stable whatever the profile says or the period.
 * `rowsWithProfile`: whether the stored rows were assessed with a profile.
 */
export function buildSources(
  q: ReportQueries,
  profile: TenantProfile | null,
  reads: GroupReads,
  inferred: ReadonlyMap<number, InferredGroup>,
  rowsWithProfile: boolean,
): { sources: SourceEntry[]; sourceOf: Map<number, SourceEntry> } {
  const { classesByGroup, ipsBy, since } = reads;
  const { helosBy, sendersBy, codesBy, codeRowsBy, samplesBy, rhythmBy, daysBy, recipientsBy } = groupDetails(q, since);
  const sources: SourceEntry[] = [];
  const sourceOf = new Map<number, SourceEntry>();
  for (const [grp, classes] of classesByGroup) {
    const ips = (ipsBy.get(grp) ?? []).map((r) => r.ip).filter((i) => i !== '');
    const inf = inferred.get(grp);
    const { counts, tlsYes, tlsNo, messages, first, last } = classTotals(classes, inf);
    const senderList = (sendersBy.get(grp) ?? []).map((x) => ({ address: x.sender, messages: x.messages }));
    const codes = codesBy.get(grp) ?? [];
    const samples = samplesBy.get(grp) ?? [];
    const helos = (helosBy.get(grp) ?? []).map((h) => h.helo);
    const decision = ips[0]
      ? decisionOf(profile, {
          ip: ips[0],
          // The listed senders are the most frequent ones: a known source may be named by a rarer one (read only
          // when a known source in its range names senders).
          senders: senderList.length < LISTED_SENDERS ? senderList.map((x) => x.address) : () => q.groupAllSenders(grp),
          subject: samples[0]?.subject ?? null,
        })
      : null;
    const rhythm = rhythmBy.get(grp) ?? [];
    const codeRows = new Map<string, RowRef[]>();
    for (const r of codeRowsBy.get(grp) ?? []) {
      const list = codeRows.get(r.code) ?? [];
      list.push({ file: r.file, row: r.row });
      codeRows.set(r.code, list);
    }
    const days = [...(daysBy.get(grp) ?? [])].sort((a, b) => a - b).map(dayText);
    const facts: SourceFacts = {
      ips,
      helos,
      // group_sender lists the most frequent senders (LISTED_SENDERS): the count is exact below that, and at
      // LISTED_SENDERS "that many or more" (well past every threshold of the weighing).
      senderCount: senderList.length,
      sendersCapped: senderList.length >= LISTED_SENDERS,
      recipients: recipientsBy.get(grp) ?? 0,
      messages,
      days,
      codes: new Map(codes.map((c) => [c.code, c.messages])),
      codeRows,
      subjects: rhythm
        .filter((r) => r.subject !== null)
        .slice(0, SUBJECTS_WEIGHED)
        .map((r) => ({ subject: r.subject!, messages: r.messages })),
      subjectRows: rhythm.reduce((n, r) => n + (r.subject !== null ? r.messages : 0), 0),
      businessHours: rhythm.reduce((n, r) => n + r.business, 0),
      hoursTotal: rhythm.reduce((n, r) => n + r.messages, 0),
      examples: samples.map((x) => ({ file: x.file, row: x.row })),
      decision,
      profile: profile !== null && rowsWithProfile,
      homeCountries: (profile?.homeCountries.length ?? 0) > 0,
    };
    const weighed = weighSource(facts);
    const entry: SourceEntry = {
      // The group's number: stable across profiles, decisions and --since (groups are numbered by their first
      // IP at ingest), so an id read in one report still names the same source after `sources approve`.
      id: `S${grp}`,
      name: decision?.name ?? null,
      owner: decision?.owner ?? null,
      ip: ips[0] ?? null,
      ips,
      helo: helos[0] ?? null,
      helos,
      senders: senderList,
      recipients: recipientsBy.get(grp) ?? 0,
      messages,
      subjects: [...new Set(samples.map((x) => x.subject))],
      firstSeen: first,
      lastSeen: last,
      days: days.length,
      tls: tlsYes > 0 && tlsNo > 0 ? 'mixed' : tlsYes > 0 ? 'yes' : tlsNo > 0 ? 'no' : 'unknown',
      channel: counts.directSend > 0 ? 'direct-send' : counts.internalSpoof > 0 ? 'internal-spoof' : 'unknown',
      verdict: weighed.verdict,
      confirmed: weighed.confirmed,
      decision: decision?.kind ?? null,
      summary: weighed.summary,
      signals: weighed.signals,
      counts,
      inferredFrom: inf?.from ?? [],
      rejectDirectSendBlocks: counts.directSend > 0 ? true : counts.internalSpoof > 0 ? false : null,
      why: whyOf(codes),
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

  return { sources, sourceOf };
}

function whyOf(codes: readonly { code: string; messages: number }[]): SourceEntry['why'] {
  return codes
    .filter((c) => !QUIET.has(c.code) && RULES.has(c.code))
    .sort(
      (a, b) =>
        bySeverityDescending(RULES.get(a.code)!.severity, RULES.get(b.code)!.severity) ||
        b.messages - a.messages ||
        a.code.localeCompare(b.code),
    )
    .slice(0, 6)
    .map((c) => ({ code: c.code, title: RULES.get(c.code)!.title, messages: c.messages }));
}
