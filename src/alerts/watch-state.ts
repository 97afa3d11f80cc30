/**
 * `dsguard watch`: a cycle's state (its sources and readiness, kept in the store as JSON) and the alerts that
 * the change from the previous cycle's state supports. Pure: the report, the previous state and the reference
 * time in, alerts and the new state out — no clock, no store.
 *
 * Alert kinds (docs/watch.md gives each id's derivation):
 * - `new-malicious-source`, `new-suspicious-source`, `new-source`: a Direct Send or internal-spoof source none of
 *   whose IPs the previous cycle knew (on the first cycle, every source), or a known one whose verdict became
 *   malicious/suspicious;
 * - `source-new-ip`: a legitimate source (declared, approved or likely legitimate) sends from an IP its identity
 *   (the profile's name, or a shared envelope sender) did not use at the previous cycle;
 * - `source-silent`: a legitimate source with a cadence (seen on 3 days or more) has sent nothing for longer than
 *   three times its mean gap between active days (at least two days), up to the reference time;
 * - `readiness-changed`: ready ↔ not ready, with the blockers added and removed;
 * - `direct-send-after-reject`: the profile says RejectDirectSend is on and Direct Send still got through.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Readiness, SourceEntry, TenantReport } from '../report/tenant-report.js';

export type AlertKind =
  | 'new-malicious-source'
  | 'new-suspicious-source'
  | 'new-source'
  | 'direct-send-after-reject'
  | 'source-new-ip'
  | 'source-silent'
  | 'readiness-changed';

export const ALERT_KINDS: readonly AlertKind[] = [
  'new-malicious-source',
  'new-suspicious-source',
  'direct-send-after-reject',
  'source-new-ip',
  'source-silent',
  'readiness-changed',
  'new-source',
];

export interface AlertSource {
  ips: string[];
  verdict: string;
  channel: string;
  messages: number;
  firstSeen: string | null;
  lastSeen: string;
  /** The profile's name for a declared or approved source (admin-written). */
  name?: string | null;
  /** Left out with --minimal. */
  senders?: string[];
  subjects?: string[];
  why?: string[];
}

export interface AlertBlocker {
  code: string;
  /** The blocker's sentence (it names sources by IP and name): left out with --minimal. */
  text?: string;
}

export interface Alert {
  id: string;
  kind: AlertKind;
  tenant: string;
  /** The watch cycle that raised it (1, 2, …: per tenant, kept in the store). */
  cycle: number;
  /** Link-free, one line. */
  text: string;
  /** The source it is about (every kind except `readiness-changed`). */
  source?: AlertSource;
  /** `source-new-ip`: the IPs the identity sent from before, and the new ones. */
  ipChange?: { identity: string; before: string[]; added: string[] };
  /** `source-silent`: when it last sent, its usual cadence and how long it has been quiet (hours). */
  silence?: { lastSeen: string; reference: string; meanGapHours: number; thresholdHours: number; silentHours: number };
  /** `readiness-changed`. */
  readiness?: { ready: boolean; was: boolean; added: AlertBlocker[]; removed: AlertBlocker[] };
}

/** One source as a cycle saw it. */
export interface SourceState {
  /** `name:<profile name>` or `ip:<lowest IP>` (or `id:<S…>` without IP). */
  key: string;
  name: string | null;
  ips: string[];
  /** A legitimate source's most frequent envelope senders (lower case, ≤ 10): its identity beside its name. */
  senders: string[];
  verdict: string;
  channel: string;
  legit: boolean;
}

export interface WatchState {
  version: 1;
  /** Evidence complete up to here (ISO): the collect checkpoint; `null` when unknown. */
  reference: string | null;
  ready: boolean;
  blockers: { key: string; code: string; text: string }[];
  sources: SourceState[];
}

/** Sources seen on fewer days have no cadence to go silent from. */
export const SILENCE_MIN_DAYS = 3;
/** Silent: quiet for longer than this many mean gaps … */
export const SILENCE_GAPS = 3;
/** … and never less than two days (a weekend is not silence). */
export const SILENCE_FLOOR_MS = 2 * 86_400_000;
const DAY_MS = 86_400_000;

export const alertId = (parts: readonly unknown[]) =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);

const BAD_RANK: Record<string, number> = { malicious: 2, suspicious: 1 };
const rank = (v: string) => BAD_RANK[v] ?? 0;

const isLegit = (s: SourceEntry) =>
  s.decision === 'declared' ||
  s.decision === 'approved' ||
  (s.decision !== 'denied' && (s.verdict === 'legitimate' || s.verdict === 'likely-legitimate'));

const ipsOf = (s: SourceEntry) => (s.ips.length > 0 ? s.ips : s.ip ? [s.ip] : []);

function keyOf(s: SourceEntry): string {
  if (s.name) return `name:${s.name}`;
  const ips = [...ipsOf(s)].sort();
  return ips[0] !== undefined ? `ip:${ips[0]}` : `id:${s.id}`;
}

const label = (s: { name?: string | null; ips: readonly string[] }, id = '') =>
  s.name ? `${s.name} (${s.ips.join(', ')})` : s.ips.join(', ') || id;

const hours = (ms: number) => Math.round(ms / 360_000) / 10;

/** The state a report leaves for the next cycle. */
export function stateOf(report: Pick<TenantReport, 'sources' | 'readiness'>, reference: string | null): WatchState {
  const keyById = new Map(report.sources.map((s) => [s.id, keyOf(s)]));
  return {
    version: 1,
    reference,
    ready: report.readiness.ready,
    blockers: blockerStates(report.readiness, keyById),
    sources: report.sources.map((s) => ({
      key: keyOf(s),
      name: s.name,
      ips: [...ipsOf(s)].sort(),
      // Only a legitimate source's senders are an identity (kept small for the thousands of spoof sources).
      senders: isLegit(s) ? s.senders.slice(0, 10).map((x) => x.address.toLowerCase()) : [],
      verdict: s.verdict,
      channel: s.channel,
      legit: isLegit(s),
    })),
  };
}

function blockerStates(r: Readiness, keyById: ReadonlyMap<string, string>): WatchState['blockers'] {
  return r.blockers.map((b) => ({
    key: `${b.code}:${(b.sourceIds ?? []).map((id) => keyById.get(id) ?? id).join(',')}`,
    code: b.code,
    text: b.text,
  }));
}

export interface WatchOptions {
  tenant: string;
  /** This cycle's number (the previous one's + 1). */
  cycle: number;
  /** Evidence complete up to here (ISO): silence is measured to it; `null` skips silence. */
  reference: string | null;
  minimal?: boolean;
  /**
   * On a first cycle (no previous state), take what the store holds as known: no `new-*` alerts (conditions —
   * silence, Direct Send after RejectDirectSend — are still raised).
   */
  baseline?: boolean;
}

/**
 * The alerts the change from `prev` (the last recorded cycle, `null` on the first) to `report` supports, and
 * the state to record. Deterministic order: by kind (ALERT_KINDS), then id.
 */
export function watchAlerts(
  report: Pick<TenantReport, 'sources' | 'readiness' | 'enforcement'>,
  prev: WatchState | null,
  opts: WatchOptions,
): { alerts: Alert[]; state: WatchState } {
  const state = stateOf(report, opts.reference);
  const { tenant, cycle } = opts;
  const out: Alert[] = [];
  const prevByIp = new Map<string, SourceState>();
  for (const p of prev?.sources ?? []) for (const ip of p.ips) prevByIp.set(ip, p);
  const prevKeys = new Set((prev?.sources ?? []).map((p) => p.key));
  const prevLegit = (prev?.sources ?? []).filter((p) => p.legit);

  for (const s of report.sources) {
    const ips = ipsOf(s);
    const source = alertSource(s, opts.minimal === true);
    const legit = isLegit(s);
    // A legitimate identity sending from an IP it did not use before.
    let newIp = false;
    if (legit && prev) {
      const senders = new Set(s.senders.slice(0, 10).map((x) => x.address.toLowerCase()));
      const same = prevLegit.filter((p) =>
        s.name ? p.name === s.name : p.channel === s.channel && p.senders.some((x) => senders.has(x)),
      );
      const before = [...new Set(same.flatMap((p) => p.ips))].sort();
      const added = ips.filter((ip) => !before.includes(ip)).sort();
      if (same.length > 0 && added.length > 0) {
        newIp = true;
        const identity = s.name ? `name:${s.name}` : same.map((p) => p.key).sort()[0]!;
        out.push({
          id: alertId([tenant, 'source-new-ip', identity, added]),
          kind: 'source-new-ip',
          tenant,
          cycle,
          text: `legitimate source sends from a new IP: ${s.name ?? identity.replace(/^\w+:/, '')} now also ${added.join(', ')} (before: ${before.join(', ')}); ${s.verdict} ${s.channel}`,
          source,
          ipChange: { identity, before, added },
        });
      }
    }
    // New (no IP known to the previous cycle), or a known source whose verdict got worse.
    const seen = ips.length > 0 ? ips.map((ip) => prevByIp.get(ip)).filter((p) => p !== undefined) : [];
    const known = prev !== null && (ips.length > 0 ? seen.length > 0 : prevKeys.has(keyOf(s)));
    const worse = known && rank(s.verdict) > Math.max(0, ...seen.map((p) => rank(p.verdict)));
    const quietStart = prev === null && opts.baseline === true;
    if (
      !quietStart &&
      (!known || worse) &&
      !(newIp && rank(s.verdict) === 0) &&
      !(s.channel === 'unknown' && rank(s.verdict) === 0)
    ) {
      const kind: AlertKind =
        s.verdict === 'malicious'
          ? 'new-malicious-source'
          : s.verdict === 'suspicious'
            ? 'new-suspicious-source'
            : 'new-source';
      const channel = s.channel === 'internal-spoof' ? 'internal spoof' : s.channel;
      out.push({
        id: alertId([tenant, kind, [...ips].sort()]),
        kind,
        tenant,
        cycle,
        text: `${kind.replace(/-/g, ' ')}: ${label({ name: s.name, ips }, s.id)}: ${s.verdict} ${channel}, ${s.messages} message(s) from ${s.firstSeen} to ${s.lastSeen}`,
        source,
      });
    }
    // Silence, measured from its own cadence.
    const silent = legit && opts.reference !== null ? silenceOf(s, Date.parse(opts.reference)) : null;
    if (silent) {
      out.push({
        id: alertId([tenant, 'source-silent', keyOf(s), s.lastSeen]),
        kind: 'source-silent',
        tenant,
        cycle,
        text: `legitimate source silent: ${label({ name: s.name, ips }, s.id)} sent nothing since ${s.lastSeen} (${silent.silentHours} h; it usually sends every ${silent.meanGapHours} h, silent past ${silent.thresholdHours} h)`,
        source,
        silence: { lastSeen: s.lastSeen, reference: opts.reference!, ...silent },
      });
    }
  }

  const flip = prev ? readinessAlert(prev, state, opts) : null;
  if (flip) out.push(flip);

  if (report.enforcement?.state === 'fails') {
    for (const s of report.enforcement.sources) {
      out.push({
        id: alertId([tenant, 'direct-send-after-reject', [...s.ips].sort()]),
        kind: 'direct-send-after-reject',
        tenant,
        cycle,
        text: `Direct Send delivered after RejectDirectSend was enabled: ${s.ips.join(', ')}: ${s.messages} message(s), last ${s.lastSeen}`,
        source: {
          ips: s.ips,
          verdict: s.verdict,
          channel: 'direct-send',
          messages: s.messages,
          firstSeen: null,
          lastSeen: s.lastSeen,
        },
      });
    }
  }
  const order = new Map(ALERT_KINDS.map((k, i) => [k, i]));
  const unique = new Map(out.map((a) => [a.id, a]));
  return {
    alerts: [...unique.values()].sort((a, b) => order.get(a.kind)! - order.get(b.kind)! || a.id.localeCompare(b.id)),
    state,
  };
}

/** `readiness-changed` when ready flipped between the two states, with the blockers added and removed. */
function readinessAlert(prev: WatchState, state: WatchState, opts: WatchOptions): Alert | null {
  if (prev.ready === state.ready) return null;
  const before = new Set(prev.blockers.map((b) => b.key));
  const now = new Set(state.blockers.map((b) => b.key));
  const view = (b: { code: string; text: string }): AlertBlocker =>
    opts.minimal ? { code: b.code } : { code: b.code, text: b.text };
  const added = state.blockers.filter((b) => !before.has(b.key)).map(view);
  const removed = prev.blockers.filter((b) => !now.has(b.key)).map(view);
  const codes = (l: AlertBlocker[]) => [...new Set(l.map((b) => b.code))].join(', ') || 'none';
  return {
    id: alertId([opts.tenant, 'readiness-changed', opts.cycle, state.ready]),
    kind: 'readiness-changed',
    tenant: opts.tenant,
    cycle: opts.cycle,
    text: state.ready
      ? `readiness changed: RejectDirectSend can now be enabled (blockers cleared: ${codes(removed)})`
      : `readiness changed: RejectDirectSend can no longer be enabled (new blockers: ${codes(added)})`,
    readiness: { ready: state.ready, was: prev.ready, added, removed },
  };
}

function alertSource(s: SourceEntry, minimal: boolean): AlertSource {
  const source: AlertSource = {
    ips: ipsOf(s),
    verdict: s.verdict,
    channel: s.channel,
    messages: s.messages,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    name: s.name,
  };
  if (!minimal) {
    source.senders = s.senders.map((x) => x.address).slice(0, 10);
    source.subjects = s.subjects.slice(0, 5);
    source.why = s.why.map((w) => w.code);
  }
  return source;
}

/**
 * A source is silent when it was seen on SILENCE_MIN_DAYS days or more and the time from its last message to
 * the reference exceeds max(SILENCE_GAPS × its mean gap between active days, SILENCE_FLOOR). The mean gap is
 * (last − first) / (days − 1), at least one day (days are the unit of "active").
 */
export function silenceOf(
  s: Pick<SourceEntry, 'firstSeen' | 'lastSeen' | 'days'>,
  reference: number,
): { meanGapHours: number; thresholdHours: number; silentHours: number } | null {
  const first = Date.parse(s.firstSeen);
  const last = Date.parse(s.lastSeen);
  if (s.days < SILENCE_MIN_DAYS || !Number.isFinite(first) || !Number.isFinite(last) || !Number.isFinite(reference))
    return null;
  const gap = Math.max(DAY_MS, (last - first) / (s.days - 1));
  const threshold = Math.max(SILENCE_GAPS * gap, SILENCE_FLOOR_MS);
  const quiet = reference - last;
  if (quiet <= threshold) return null;
  return { meanGapHours: hours(gap), thresholdHours: hours(threshold), silentHours: hours(quiet) };
}

/** A stored state, checked: `null` when it is not one this version wrote (the next cycle starts afresh). */
export function parseState(text: string): WatchState | null {
  try {
    const v = JSON.parse(text) as Partial<WatchState> | null;
    if (v?.version !== 1 || !Array.isArray(v.sources) || !Array.isArray(v.blockers)) return null;
    return v as WatchState;
  } catch {
    return null;
  }
}
