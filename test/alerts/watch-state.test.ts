/**
 * The watch's comparison of a cycle with the last recorded one (pure): which alerts each change raises, their
 * ids (stable across cycles, distinct per occurrence), --minimal, and the silence rule at its boundary.
 */
import { describe, expect, it } from 'vitest';
import {
  type Alert,
  parseState,
  SILENCE_FLOOR_MS,
  silenceOf,
  stateOf,
  type WatchState,
  watchAlerts,
} from '../../src/alerts/watch-state.js';
import type { Readiness, SourceEntry, TenantReport } from '../../src/report/tenant-report.js';

const DAY = 86_400_000;
const T = Date.parse('2026-11-30T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function source(id: string, over: Partial<SourceEntry>): SourceEntry {
  const ips = over.ips ?? ['192.0.2.1'];
  return {
    id,
    name: null,
    owner: null,
    ip: ips[0] ?? null,
    ips,
    helo: null,
    helos: [],
    senders: [{ address: 'kate.ng@contoso.com', messages: 3 }],
    recipients: 2,
    messages: 3,
    subjects: ['Hello'],
    firstSeen: iso(T - 10 * DAY),
    lastSeen: iso(T - DAY),
    days: 3,
    tls: 'yes',
    channel: 'direct-send',
    verdict: 'undetermined',
    confirmed: false,
    decision: null,
    summary: '',
    signals: [],
    counts: {
      directSend: 3,
      inferred: 0,
      internalSpoof: 0,
      undetermined: 0,
      rows: { malicious: 0, suspicious: 0, legitimate: 0, unknown: 3 },
    },
    inferredFrom: [],
    rejectDirectSendBlocks: true,
    why: [{ code: 'DS101', title: 'x', messages: 3 }],
    examples: [],
    ...over,
  };
}

const readiness = (ready: boolean, blockers: Readiness['blockers'] = []): Readiness => ({
  ready,
  blockers,
  coverage: null,
  rejectedRows: [],
});

type Rep = Pick<TenantReport, 'sources' | 'readiness' | 'enforcement'>;
const rep = (sources: SourceEntry[], r = readiness(false)): Rep => ({ sources, readiness: r, enforcement: null });

const MFP = source('S1', {
  name: 'MFP 2nd floor',
  ips: ['198.51.100.20'],
  senders: [{ address: 'scanner@contoso.com', messages: 40 }],
  verdict: 'legitimate',
  decision: 'declared',
  confirmed: true,
  days: 10,
  firstSeen: iso(T - 10 * DAY),
  lastSeen: iso(T - 3_600_000),
});
const SPOOF = source('S2', { ips: ['45.14.71.10', '45.14.71.11'], verdict: 'malicious', channel: 'internal-spoof' });

function run(r: Rep, prev: WatchState | null, cycle = 1, minimal = false) {
  return watchAlerts(r, prev, { tenant: 'Contoso', cycle, reference: iso(T), minimal });
}
const kinds = (as: Alert[]) => as.map((a) => a.kind);

describe('watch alerts: the comparison with the last cycle', () => {
  it('first cycle: every source is new; the same report again raises nothing', () => {
    const first = run(rep([MFP, SPOOF]), null);
    expect(kinds(first.alerts)).toEqual(['new-malicious-source', 'new-source']);
    expect(first.alerts[0]!.text).toContain('internal spoof');
    const again = run(rep([MFP, SPOOF]), first.state, 2);
    expect(again.alerts).toEqual([]);
    // The state survives its JSON round trip (the store keeps it as text) and compares the same.
    const stored = parseState(JSON.stringify(first.state))!;
    expect(run(rep([MFP, SPOOF]), stored, 2).alerts).toEqual([]);
    expect(parseState('{"version":2}')).toBeNull();
    expect(parseState('not json')).toBeNull();
  });

  it('a new campaign from an unseen network is new; a known source whose verdict worsens is raised again', () => {
    const c1 = run(rep([MFP, SPOOF, source('S3', { ips: ['203.0.113.5'] })]), null);
    const camp = source('S4', { ips: ['203.0.113.66'], verdict: 'malicious' });
    const worse = source('S3', { ips: ['203.0.113.5'], verdict: 'suspicious' });
    const c2 = run(rep([MFP, SPOOF, worse, camp]), c1.state, 2);
    expect(kinds(c2.alerts)).toEqual(['new-malicious-source', 'new-suspicious-source']);
    expect(c2.alerts[0]!.source!.ips).toEqual(['203.0.113.66']);
    // Ids are derived, not counted: the same source raises the same id in any cycle.
    expect(c2.alerts[0]!.id).toBe(run(rep([camp]), null, 9).alerts[0]!.id);
  });

  it('a legitimate identity on a new IP: source-new-ip (by name, or by a shared envelope sender), not new-source', () => {
    const c1 = run(rep([MFP]), null);
    const moved = { ...MFP, ips: ['198.51.100.20', '198.51.100.21'] };
    const c2 = run(rep([moved]), c1.state, 2);
    expect(kinds(c2.alerts)).toEqual(['source-new-ip']);
    expect(c2.alerts[0]!.ipChange).toEqual({
      identity: 'name:MFP 2nd floor',
      before: ['198.51.100.20'],
      added: ['198.51.100.21'],
    });
    // A likely-legitimate SaaS seen from a new network under the same sender: its own group, same identity.
    const saas = source('S5', {
      ips: ['203.0.113.40'],
      verdict: 'likely-legitimate',
      senders: [{ address: 'Billing@contoso.com', messages: 9 }],
    });
    const d1 = run(rep([saas]), null);
    const saas2 = source('S6', {
      ips: ['192.0.2.200'],
      verdict: 'likely-legitimate',
      senders: [{ address: 'billing@contoso.com', messages: 2 }],
    });
    const d2 = run(rep([saas, saas2]), d1.state, 2);
    expect(kinds(d2.alerts)).toEqual(['source-new-ip']);
    expect(d2.alerts[0]!.ipChange!.identity).toBe('ip:203.0.113.40');
    // A spoof of the same sender is not a legitimate identity: it is a new malicious source.
    const spoof = source('S7', { ips: ['192.0.2.201'], verdict: 'malicious', senders: saas.senders });
    expect(kinds(run(rep([saas, spoof]), d1.state, 2).alerts)).toEqual(['new-malicious-source']);
  });

  it('silence: a cadence from the history, three mean gaps (at least two days) up to the reference', () => {
    const daily = { firstSeen: iso(T - 20 * DAY), lastSeen: iso(T - 10 * DAY), days: 11 }; // gap 1 day
    expect(silenceOf(daily, T)).toEqual({ meanGapHours: 24, thresholdHours: 72, silentHours: 240 });
    const lastAt = (ms: number) => ({ firstSeen: iso(ms - 10 * DAY), lastSeen: iso(ms), days: 11 });
    expect(silenceOf(lastAt(T - 3 * DAY), T)).toBeNull(); // exactly three gaps: not yet
    expect(silenceOf(lastAt(T - 3 * DAY - 1000), T)).not.toBeNull();
    const weekly = { firstSeen: iso(T - 35 * DAY), lastSeen: iso(T - 14 * DAY), days: 4 }; // gap 7 days
    expect(silenceOf(weekly, T)).toBeNull();
    // 4 days over 13: a mean gap of 13/3 days, silent past 13 days.
    expect(silenceOf({ ...weekly, lastSeen: iso(T - 22 * DAY) }, T)!.thresholdHours).toBe(13 * 24);
    // Many messages on one afternoon: the floor, not three hours.
    expect(silenceOf({ firstSeen: iso(T - 3 * DAY), lastSeen: iso(T - 2 * DAY - 1), days: 3 }, T)).toBeNull();
    expect(SILENCE_FLOOR_MS).toBe(2 * DAY);
    expect(silenceOf({ ...daily, days: 2 }, T)).toBeNull(); // no cadence yet

    const quiet = { ...MFP, lastSeen: iso(T - 5 * DAY) };
    const c1 = run(rep([MFP]), null);
    const c2 = run(rep([quiet]), c1.state, 2);
    expect(kinds(c2.alerts)).toEqual(['source-silent']);
    expect(c2.alerts[0]!.silence).toMatchObject({ lastSeen: quiet.lastSeen, reference: iso(T) });
    // Once per silence: the same id next cycle (de-duplicated at delivery); it resumes, then a new silence.
    expect(run(rep([quiet]), c2.state, 3).alerts[0]!.id).toBe(c2.alerts[0]!.id);
    // Malicious sources are not expected to keep sending: no silence for them; no reference, no silence.
    expect(kinds(run(rep([{ ...SPOOF, lastSeen: iso(T - 9 * DAY) }]), c1.state, 2).alerts)).toEqual([
      'new-malicious-source',
    ]);
    expect(watchAlerts(rep([quiet]), c1.state, { tenant: 'C', cycle: 2, reference: null }).alerts).toEqual([]);
  });

  it('readiness: ready ↔ not ready with the blockers that changed; ids distinct per flip', () => {
    const blocker = {
      code: 'DS900' as const,
      text: 'S3 203.0.113.5 is likely legitimate (4 Direct Send message(s) on 3 day(s)), unconfirmed',
      sourceIds: ['S3'],
    };
    const saas = source('S3', { ips: ['203.0.113.5'], verdict: 'likely-legitimate' });
    const c1 = run(rep([saas], readiness(false, [blocker])), null);
    expect(kinds(c1.alerts)).toEqual(['new-source']); // no previous cycle: no change to report
    const approved = { ...saas, decision: 'approved' as const, verdict: 'legitimate' as const, name: 'Billing' };
    const c2 = run(rep([approved], readiness(true)), c1.state, 2);
    expect(kinds(c2.alerts)).toEqual(['readiness-changed']);
    expect(c2.alerts[0]!.readiness).toEqual({
      ready: true,
      was: false,
      added: [],
      removed: [{ code: 'DS900', text: blocker.text }],
    });
    const c3 = run(
      rep([approved], readiness(false, [{ code: 'DS904', text: 'Evidence covers 12 days' }])),
      c2.state,
      3,
    );
    expect(c3.alerts[0]!.readiness!.added).toEqual([{ code: 'DS904', text: 'Evidence covers 12 days' }]);
    const c4 = run(rep([approved], readiness(true)), c3.state, 4);
    expect(new Set([c2, c3, c4].map((c) => c.alerts[0]!.id)).size).toBe(3);
    // Still not ready with other blockers: no alert (only the flip is one).
    expect(run(rep([approved], readiness(false, [])), c3.state, 4).alerts).toEqual([]);
  });

  it('--minimal leaves out subjects, senders, finding codes and blocker sentences', () => {
    const full = run(rep([SPOOF]), null).alerts[0]!;
    expect(full.source!.subjects).toEqual(['Hello']);
    const min = run(rep([SPOOF]), null, 1, true).alerts[0]!;
    expect(min.id).toBe(full.id);
    expect(min.source).not.toHaveProperty('subjects');
    expect(min.source).not.toHaveProperty('senders');
    expect(min.source).not.toHaveProperty('why');
    expect(JSON.stringify(min)).not.toContain('kate.ng');
    const b = run(
      rep([], readiness(true)),
      stateOf(rep([], readiness(false, [{ code: 'DS906', text: 'none' }])), null),
      2,
      true,
    );
    expect(b.alerts[0]!.readiness!.removed).toEqual([{ code: 'DS906' }]);
  });

  it('--baseline: a first cycle raises no new-* alert, still the silence; the second compares as usual', () => {
    const quiet = { ...MFP, lastSeen: iso(T - 5 * DAY) };
    const opts = { tenant: 'Contoso', cycle: 1, reference: iso(T), baseline: true };
    const first = watchAlerts(rep([quiet, SPOOF]), null, opts);
    expect(kinds(first.alerts)).toEqual(['source-silent']);
    const camp = source('S4', { ips: ['203.0.113.66'], verdict: 'malicious' });
    const second = watchAlerts(rep([quiet, SPOOF, camp]), first.state, { ...opts, cycle: 2 });
    expect(kinds(second.alerts)).toEqual(['new-malicious-source', 'source-silent']);
    expect(second.alerts[0]!.source!.ips).toEqual(['203.0.113.66']);
  });

  it('the order of the report does not change the alerts', () => {
    const a = run(rep([MFP, SPOOF, source('S9', { ips: ['203.0.113.9'], verdict: 'suspicious' })]), null);
    const b = run(rep([source('S9', { ips: ['203.0.113.9'], verdict: 'suspicious' }), SPOOF, MFP]), null);
    expect(b.alerts).toEqual(a.alerts);
  });
});
