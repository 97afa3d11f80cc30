/**
 * Source verdicts by weight of evidence (core/sources/weigh-source.ts) and readiness (core/sources/readiness.ts):
 * pure functions, so every rule of docs/sources.md is checked here directly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessReadiness, coverageOf, type ReadinessSource } from '../../src/core/sources/readiness.js';
import { type SourceFacts, subjectShape, weighSource } from '../../src/core/sources/weigh-source.js';

const DAYS = Array.from({ length: 20 }, (_, i) => `2026-06-${String(i + 1).padStart(2, '0')}`);

/** A scan-to-mail copier: one sender, every working day, templated subjects, office hours. */
function copier(over: Partial<SourceFacts> = {}): SourceFacts {
  return {
    ips: ['198.51.100.20'],
    helos: [],
    senderCount: 1,
    recipients: 8,
    messages: 40,
    days: DAYS,
    codes: new Map([
      ['DS208', 12],
      ['DS603', 12],
    ]),
    codeRows: new Map([['DS208', [{ file: 'events.csv', row: 3 }]]]),
    subjects: [
      { subject: 'Scan from MFP-2F, 3 page(s)', messages: 30 },
      { subject: 'Scan from MFP-2F, 12 page(s)', messages: 10 },
    ],
    subjectRows: 40,
    businessHours: 39,
    hoursTotal: 40,
    examples: [{ file: 'trace.csv', row: 1 }],
    decision: null,
    profile: true,
    homeCountries: false,
    ...over,
  };
}

const signals = (f: SourceFacts) => weighSource(f).signals.map((s) => `${s.effect}:${s.signal}`);

describe('weighSource', () => {
  it('calls an SPF-passing, regular single-sender source likely legitimate, with its evidence and rows', () => {
    const w = weighSource(copier());
    expect(w.verdict).toBe('likely-legitimate');
    expect(w.confirmed).toBe(false);
    expect(signals(copier())).toEqual([
      'for:auth-pass',
      'for:recurring',
      'for:stable-senders',
      'for:templated-subjects',
      'for:business-hours',
      'neutral:no-auth-data',
    ]);
    expect(w.signals[0]).toMatchObject({
      messages: 12,
      codes: ['DS208', 'DS603'],
      rows: [{ file: 'events.csv', row: 3 }],
    });
  });

  it('treats rows without authentication data as neutral: more summary rows never make it worse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), (extra) => {
        const w = weighSource(copier({ messages: 40 + extra, hoursTotal: 40, businessHours: 39 }));
        expect(w.verdict).toBe('likely-legitimate');
      }),
    );
  });

  it('needs stronger behaviour when no row carries authentication, and never vouches without a profile', () => {
    const none = copier({ codes: new Map(), codeRows: new Map() });
    expect(weighSource(none).verdict).toBe('likely-legitimate');
    expect(weighSource({ ...none, businessHours: 10 }).verdict).toBe('undetermined');
    expect(weighSource(copier({ profile: false })).verdict).toBe('undetermined');
    expect(signals(copier({ profile: false }))[0]).toBe('neutral:no-profile');
  });

  it('lets a single intent signal veto an SPF pass; two, or a campaign indicator, make it malicious', () => {
    const spoof = (codes: [string, number][], over: Partial<SourceFacts> = {}) =>
      weighSource(copier({ codes: new Map([['DS208', 12], ...codes]), ...over }));
    expect(spoof([['DS302', 3]]).verdict).toBe('suspicious');
    expect(spoof([['DS302', 3]]).summary).toBe('vetoed by script-client');
    // The Send-MailMessage spoof: System.Net.Mail, self-sent, fax lure, loopback HELO from a public VPS.
    const sendMailMessage = spoof(
      [
        ['DS302', 1],
        ['DS301', 1],
        ['DS401', 1],
      ],
      {
        ips: ['185.220.101.5'],
        helos: ['[127.0.0.1]'],
        messages: 1,
        recipients: 1,
        days: ['2026-06-01'],
        subjectRows: 1,
      },
    );
    expect(sendMailMessage.verdict).toBe('malicious');
    expect(sendMailMessage.signals.filter((s) => s.effect === 'veto').map((s) => s.signal)).toEqual([
      'script-client',
      'private-helo',
      'lure',
      'self-sent',
    ]);
    expect(spoof([['DS209', 1]]).verdict).toBe('malicious');
    // A loopback HELO from a private address is a device on the LAN, not a veto.
    expect(signals(copier({ ips: ['10.1.2.3'], helos: ['[127.0.0.1]'] }))).not.toContain('veto:private-helo');
    // Hosting abroad needs both: a cloud host at home is not a veto.
    expect(spoof([['DS503', 5]]).verdict).toBe('likely-legitimate');
    expect(
      spoof([
        ['DS503', 5],
        ['DS502', 5],
      ]).verdict,
    ).toBe('suspicious');
    // Many senders spoofed from one IP — unless the domain authorises it (an app sending as each of its users).
    const noAuth = new Map<string, number>();
    expect(weighSource(copier({ senderCount: 40, codes: noAuth })).verdict).toBe('suspicious');
    expect(weighSource(copier({ senderCount: 40, codes: new Map([['DS208', 40]]) })).verdict).toBe('likely-legitimate');
  });

  it('weighs a lure word in authenticated mail against, not as a veto; lure attachments and unauthenticated lures veto', () => {
    const order = copier({
      codes: new Map([
        ['DS208', 40],
        ['DS401', 40],
      ]),
    });
    expect(weighSource(order).verdict).toBe('likely-legitimate');
    expect(signals(order)).toContain('against:lure');
    expect(
      weighSource(
        copier({
          codes: new Map([
            ['DS208', 40],
            ['DS402', 1],
          ]),
        }),
      ).verdict,
    ).toBe('suspicious');
    expect(weighSource(copier({ codes: new Map([['DS401', 40]]) })).verdict).toBe('suspicious');
    // Lures to many recipients within a few days: a campaign.
    const burst = copier({ codes: new Map([['DS401', 30]]), recipients: 30, days: DAYS.slice(0, 2) });
    expect(weighSource(burst).verdict).toBe('malicious');
  });

  it('decides on failing authentication only with the rest of the evidence', () => {
    const fail = new Map([
      ['DS201', 30],
      ['DS203', 30],
    ]);
    // A helpdesk SaaS sending as the domain from its own servers: regular, but SPF fails — undetermined.
    expect(weighSource(copier({ codes: fail })).verdict).toBe('undetermined');
    // Nothing speaks for it: suspicious.
    const lone = copier({
      codes: fail,
      days: ['2026-06-01'],
      senderCount: 5,
      subjects: [],
      subjectRows: 0,
      businessHours: 0,
    });
    expect(weighSource(lone).verdict).toBe('suspicious');
  });

  it('takes the admin’s word: declared or approved is legitimate unless an intent signal contradicts it; denied never is', () => {
    const approved = copier({ decision: { kind: 'approved', name: 'Copier', owner: 'it@contoso.com' } });
    expect(weighSource(approved)).toMatchObject({ verdict: 'legitimate', confirmed: true });
    expect(weighSource(approved).signals[0]).toMatchObject({
      signal: 'approved',
      effect: 'decision',
      text: 'approved in the profile as "Copier" (owner it@contoso.com)',
    });
    const contradicted = weighSource({ ...approved, codes: new Map([['DS302', 1]]) });
    expect(contradicted).toMatchObject({ verdict: 'suspicious', confirmed: false });
    const denied = copier({ decision: { kind: 'denied', name: 'not ours', owner: null } });
    expect(weighSource(denied)).toMatchObject({ verdict: 'suspicious', confirmed: true });
  });

  it('never calls a source (likely) legitimate when a veto fired, whatever else is seen', () => {
    const vetoCodes = ['DS302', 'DS303', 'DS304', 'DS305', 'DS506', 'DS402', 'DS403', 'DS404', 'DS301', 'DS209'];
    fc.assert(
      fc.property(fc.constantFrom(...vetoCodes), fc.integer({ min: 1, max: 50 }), fc.boolean(), (code, n, declared) => {
        const f = copier({
          codes: new Map([
            ['DS208', 40],
            ['DS603', 40],
            [code, n],
          ]),
          decision: declared ? { kind: 'declared', name: 'x', owner: null } : null,
        });
        expect(['suspicious', 'malicious']).toContain(weighSource(f).verdict);
      }),
    );
  });

  it('folds the variable parts of subjects', () => {
    expect(subjectShape('Scan 0042 from MFP-2F')).toBe(subjectShape('Scan 0043 from MFP-2F'));
    expect(subjectShape('[Ticket #58012] Your request')).toBe('[ticket ##] your request');
  });
});

describe('assessReadiness', () => {
  const src = (over: Partial<ReadinessSource>): ReadinessSource => ({
    id: 'S1',
    label: '198.51.100.20',
    verdict: 'likely-legitimate',
    confirmed: false,
    decision: null,
    days: 10,
    directSend: 10,
    undetermined: 0,
    hasConnector: false,
    ...over,
  });
  const days = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2026, 5, 1 + i)).toISOString().slice(0, 10));
  const base = { profile: true, rowsWithoutProfile: false, messages: 100, days, rejectedRows: [] };

  it('is ready only when nothing is unconfirmed, every declared source has its connector and 30 days are covered', () => {
    const ready = assessReadiness({
      ...base,
      sources: [
        src({ id: 'S1', verdict: 'legitimate', confirmed: true, decision: 'approved', hasConnector: true }),
        src({ id: 'S2', verdict: 'malicious' }),
        // A one-day suspicious or undetermined source does not hold it up.
        src({ id: 'S3', verdict: 'suspicious', days: 1 }),
        src({ id: 'S4', verdict: 'undetermined', days: 1 }),
        // Denied: decided.
        src({ id: 'S5', verdict: 'suspicious', confirmed: true, decision: 'denied' }),
      ],
    });
    expect(ready).toMatchObject({ ready: true, blockers: [] });
  });

  it('lists what is missing per source, most important first', () => {
    const r = assessReadiness({
      ...base,
      days: ['2026-06-01', '2026-06-02', '2026-06-05', '2026-06-10'],
      rejectedRows: [
        { file: 'a.csv', rejected: 0 },
        { file: 'b.csv', rejected: 2 },
      ],
      sources: [
        src({ id: 'S9', verdict: 'undetermined', days: 3, directSend: 0, undetermined: 5 }),
        src({ id: 'S8', verdict: 'suspicious', days: 2 }),
        src({ id: 'S7', verdict: 'likely-legitimate', directSend: 3 }),
        src({ id: 'S6', verdict: 'likely-legitimate', directSend: 30 }),
        src({ id: 'S5', verdict: 'legitimate', confirmed: true, decision: 'declared' }),
        src({ id: 'S4', verdict: 'likely-legitimate', directSend: 0, undetermined: 0 }),
      ],
    });
    expect(r.ready).toBe(false);
    expect(r.blockers.map((b) => [b.code, b.sourceIds?.[0] ?? null])).toEqual([
      ['DS903', 'S5'],
      ['DS900', 'S6'],
      ['DS900', 'S7'],
      ['DS901', 'S8'],
      ['DS902', 'S9'],
      ['DS904', null],
    ]);
    expect(r.blockers.at(-1)!.text).toContain('no data on 2026-06-03 to 2026-06-04, 2026-06-06 to 2026-06-09');
    expect(r.rejectedRows).toEqual([{ file: 'b.csv', rejected: 2 }]);
    // Without a known IP there is nothing to approve: only richer data tells.
    const noIp = assessReadiness({ ...base, sources: [src({ verdict: 'undetermined', ipKnown: false })] });
    expect(noIp.blockers[0]!.text).not.toContain('sources approve');
  });

  it('says when there is no evidence or no profile', () => {
    const empty = assessReadiness({ ...base, messages: 0, days: [], sources: [] });
    expect(empty.blockers.map((b) => b.code)).toEqual(['DS906']);
    expect(empty.coverage).toBeNull();
    expect(assessReadiness({ ...base, profile: false, sources: [] }).blockers.map((b) => b.code)).toEqual(['DS905']);
    expect(assessReadiness({ ...base, rowsWithoutProfile: true, sources: [] }).blockers[0]!.text).toContain(
      'assessed without a profile',
    );
  });

  it('measures coverage from the first to the last day, gaps listed', () => {
    expect(coverageOf(['2026-06-03', '2026-06-01', '2026-06-01'])).toEqual({
      first: '2026-06-01',
      last: '2026-06-03',
      span: 3,
      gaps: [{ from: '2026-06-02', to: '2026-06-02', days: 1 }],
    });
  });
});
