/**
 * The tenant report over a store built from the fixture exports: golden JSON, every renderer, escaping of
 * hostile values, and the PowerShell it prints.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, parseProfile } from '../../src/config/profile-file.js';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport, type TenantReport } from '../../src/report/tenant-report.js';
import { renderTenantHtml } from '../../src/report/tenant-report-html.js';
import {
  collectionScript,
  connectorLabel,
  newInboundConnectorCommand,
  psQuote,
} from '../../src/report/tenant-report-powershell.js';
import { renderTenantCsv, renderTenantMarkdown, renderTenantText } from '../../src/report/tenant-report-text.js';
import { LISTED_SENDERS } from '../../src/store/source-stats.js';
import { expectGolden, expectGoldenText } from '../helpers/golden.js';
import { fixtureFiles, fixtureProfile, openStore, tempDir, writeTraceRow } from '../ingest/helpers.js';

let tmp: ReturnType<typeof tempDir>;
let report: TenantReport;
let db: string;

beforeAll(async () => {
  tmp = tempDir();
  db = join(tmp.dir, 'report.db');
  await ingest(fixtureFiles(), { db, profile: await fixtureProfile() });
  const store = openStore(db);
  report = buildTenantReport(store, { profile: await fixtureProfile() });
  store.close();
});
afterAll(() => tmp.cleanup());

describe('tenant report', () => {
  it('matches the golden report of the fixture exports', () => {
    expectGolden('test/fixtures/exports/report.expected.json', report);
  });

  it('says when the exports are too short or too thin to plan RejectDirectSend on', async () => {
    const profile = await fixtureProfile();
    // The fixtures cover ten days: weekly or monthly senders may be missing (a readiness blocker, gaps listed).
    expect(report.readiness.blockers.at(-1)).toEqual({
      code: 'DS904',
      text: 'The evidence covers 10 day(s) (2026-07-18 to 2026-07-27; no data on 2026-07-19): cover 30 days or more (a historical search reaches 90 days back)',
    });
    expect(report.readiness.ready).toBe(false);
    const noMessages = (r: TenantReport, since?: string) => {
      expect(r.totals.messages).toBe(0);
      expect(r.notes[0]).toBe(
        `The store holds no messages${since ? ` since ${since}` : ''}: nothing here tells what RejectDirectSend would break. Ingest a month or more of message trace or a historical search first (dsguard powershell prints the commands).`,
      );
    };
    for (const [path, since] of [
      [join(tmp.dir, 'empty.db'), undefined],
      [db, '2026-07-28'],
    ] as const) {
      const store = openStore(path);
      try {
        noMessages(buildTenantReport(store, since ? { profile, since } : { profile }), since);
      } finally {
        store.close();
      }
    }
    // Thirty days or more: no warning.
    const long = join(tmp.dir, 'long.db');
    for (const [i, day] of ['1', '30'].entries()) {
      const f = join(tmp.dir, `day${day}.csv`);
      writeTraceRow(f, {
        id: `a1000001-0000-4000-8000-0000000000${i}0`,
        sender: 'x@fabrikam.com',
        fromIp: '203.0.113.9',
        subject: 'hi',
      });
      writeFileSync(f, readFileSync(f, 'utf8').replace('7/20/2026', `7/${day}/2026`));
      await ingest([f], { db: long, profile });
    }
    const store = openStore(long);
    try {
      const long30 = buildTenantReport(store, { profile });
      expect(long30.readiness.blockers.some((b) => b.code === 'DS904')).toBe(false);
      expect(long30.readiness.coverage).toMatchObject({ first: '2026-07-01', last: '2026-07-30', span: 30 });
      expect(long30.readiness.coverage?.gaps).toEqual([{ from: '2026-07-02', to: '2026-07-29', days: 28 }]);
    } finally {
      store.close();
    }
  });

  it('says whether RejectDirectSend holds when the profile says it is enabled', async () => {
    const base = await fixtureProfile();
    expect(report.enforcement).toBeNull();
    const store = openStore(db);
    const at = (since: string | null, s = store, extra: { since?: string } = {}) =>
      buildTenantReport(s, { profile: { ...base, rejectDirectSend: true, rejectDirectSendSince: since }, ...extra });
    try {
      // Enabled on 22 July (no time): Direct Send kept arriving from the 23rd on, so it is not in force; what came
      // on the 22nd may predate the switch and is counted apart.
      const fails = at('2026-07-22');
      expect(fails.enforcement).toEqual({
        state: 'fails',
        since: '2026-07-22',
        dataUntil: '2026-07-27',
        directSend: 4,
        sources: [
          { id: 'S3', ips: ['45.14.71.10'], verdict: 'malicious', messages: 2, lastSeen: '2026-07-23T05:40:00Z' },
          { id: 'S1', ips: ['198.51.100.20'], verdict: 'legitimate', messages: 1, lastSeen: '2026-07-24T07:00:00Z' },
          { id: 'S5', ips: ['5.188.206.14'], verdict: 'malicious', messages: 1, lastSeen: '2026-07-25T18:02:11Z' },
        ],
        undetermined: 3,
        onEnablingDay: 3,
        p2OnlySpoofs: 1,
      });
      const text = renderTenantText(fails, { limit: null });
      expect(text).toContain(
        'RejectDirectSend is enabled since 2026-07-22 (per the profile):\n  FAILS: 4 Direct Send message(s) delivered since 2026-07-22',
      );
      expect(text).toContain('3 Direct Send message(s) on 2026-07-22, the day it was enabled, may predate the switch');
      expect(text).toContain(
        'Had RejectDirectSend been in force over all these exports:\n  it would have rejected 13 message(s)',
      );
      expect(text).toContain('# 2. RejectDirectSend is enabled (per the profile); check that it is in force:');
      expect(text).not.toContain('Set-OrganizationConfig -RejectDirectSend $true');
      expect(renderTenantMarkdown(fails, { limit: null })).toContain('**FAILS: 4 Direct Send');
      expect(renderTenantHtml(fails, { limit: null })).toContain(
        '<p><b class="malicious">FAILS: 4 Direct Send message(s) delivered since 2026-07-22',
      );
      // --limit cuts the sources that got through as it cuts the inventory, and says what it left out.
      const cut = renderTenantText(fails, { limit: 1 });
      expect(cut).toContain('    S3 45.14.71.10 (malicious): 2 message(s), last 2026-07-23T05:40:00Z\n');
      expect(cut).not.toContain('S5 5.188.206.14 (malicious): 1 message(s), last');
      expect(cut).toContain('    2 more source(s), 2 message(s) (raise --limit, or --format json for all)\n');
      expect(renderTenantMarkdown(fails, { limit: 1 })).toContain('- 2 more source(s), 2 message(s)');
      expect(renderTenantHtml(fails, { limit: 1 })).toContain('<li>2 more source(s), 2 message(s)');
      expect(renderTenantText(fails, { limit: 3 })).not.toContain('more source(s)');
      // So are the spoofs it stops (a botnet is thousands of sources); the sources it breaks never are.
      expect(cut).toContain(
        '  STOPS   S3 45.14.71.10 (malicious): 5 message(s)\n  STOPS   2 more source(s), 2 message(s)',
      );
      expect(cut).toContain('  BREAKS  S1 ');
      expect(renderTenantMarkdown(fails, { limit: 1 })).toContain('- **Stops** 2 more source(s), 2 message(s)');
      expect(renderTenantHtml(fails, { limit: 1 })).toContain('<b class="malicious">Stops</b> 2 more source(s)');
      // With the time, that day counts from it: at 03:00 all three of the 22nd (03:14, 03:20, 03:31), at 03:25
      // only the last.
      const timed = at('2026-07-22T03:00:00Z');
      expect(timed.enforcement).toMatchObject({ state: 'fails', directSend: 7, onEnablingDay: 0 });
      expect(at('2026-07-22T03:25:00Z').enforcement).toMatchObject({ directSend: 5 });
      // The report's --since does not change what the check reads (a source is named and judged as the report
      // lists it, over the --since window, or without an id when the window leaves it out).
      const noIds = (r: TenantReport) => ({
        ...r.enforcement,
        // Ties in messages are ordered by id, which a source out of the window lacks: compare them by IP.
        sources: r
          .enforcement!.sources.map((x) => ({ ...x, id: '', verdict: '' }))
          .sort((a, b) => b.messages - a.messages || a.ips.join().localeCompare(b.ips.join())),
      });
      expect(noIds(at('2026-07-22', store, { since: '2026-07-26' }))).toEqual(noIds(fails));
      // No Direct Send since the 26th, but internal mail from summary rows that cannot tell.
      const undetermined = at('2026-07-26');
      expect(undetermined.enforcement).toMatchObject({ state: 'undetermined', directSend: 0, undetermined: 2 });
      expect(renderTenantText(undetermined, { limit: null })).toContain(
        'UNDETERMINED: no Direct Send seen since 2026-07-26',
      );
      // Enabled after the exports end: they cannot tell — also when they end on that day, before its time.
      expect(at('2026-08-01').enforcement).toMatchObject({ state: 'not-covered', directSend: 0, sources: [] });
      expect(at('2026-07-27T23:59:00Z').enforcement).toMatchObject({ state: 'not-covered' });
      expect(at('2026-07-27T07:00:00Z').enforcement).toMatchObject({ state: 'undetermined', undetermined: 1 });
      // Enabled, day not given: every Direct Send counts, and the report asks when.
      const undated = at(null);
      expect(undated.enforcement).toMatchObject({ state: 'unclear', since: null, directSend: 10 });
      expect(
        undated.notes.some((n) => n.startsWith('The profile says RejectDirectSend is enabled but not since when')),
      ).toBe(true);
    } finally {
      store.close();
    }
    // An empty store says nothing either way.
    const empty = openStore(join(tmp.dir, 'enforcement-empty.db'));
    try {
      expect(at(null, empty).enforcement).toMatchObject({ state: 'not-covered', dataUntil: null });
    } finally {
      empty.close();
    }
    // Only external mail after the switch: it holds.
    const quiet = join(tmp.dir, 'quiet.db');
    const f = join(tmp.dir, 'quiet.csv');
    writeTraceRow(f, {
      id: 'a1000001-0000-4000-8000-0000000000f1',
      sender: 'x@fabrikam.com',
      fromIp: '203.0.113.9',
      subject: 'hi',
    });
    await ingest([f], { db: quiet, profile: base });
    const q = openStore(quiet);
    try {
      const holds = at('2026-07-19', q);
      expect(holds.enforcement).toMatchObject({
        state: 'holds',
        directSend: 0,
        undetermined: 0,
        dataUntil: '2026-07-20',
      });
      expect(renderTenantText(holds, { limit: null })).toContain(
        'HOLDS: no Direct Send delivered since 2026-07-19 (exports up to 2026-07-20)',
      );
    } finally {
      q.close();
    }
  });

  it('re-assesses the stored Direct Send when the profile starts saying RejectDirectSend is enabled', async () => {
    const base = await fixtureProfile();
    const store = join(tmp.dir, 'enabled.db');
    await ingest(fixtureFiles(), { db: store, profile: base });
    const ds117 = () => {
      const s = openStore(store);
      try {
        return (
          s.db
            .prepare("SELECT received_at AS at, codes FROM message WHERE channel = 'direct-send' ORDER BY 1")
            .all() as {
            at: string;
            codes: string;
          }[]
        ).map((r) => [r.at.slice(0, 10), JSON.parse(r.codes).includes('DS117')]);
      } finally {
        s.close();
      }
    };
    expect(ds117().every(([, has]) => has === false)).toBe(true);
    // The files are ingested already: only the stored Direct Send rows are assessed again, without a warning.
    const again = await ingest(fixtureFiles(), {
      db: store,
      profile: { ...base, rejectDirectSend: true, rejectDirectSendSince: '2026-07-22' },
    });
    expect(again.warnings).toEqual([]);
    expect(again.reassessed).toBeGreaterThan(0);
    const after = ds117();
    expect(after.filter(([day]) => (day as string) > '2026-07-22').every(([, has]) => has)).toBe(true);
    expect(after.filter(([day]) => (day as string) <= '2026-07-22').some(([, has]) => has)).toBe(false);
    expect(after.some(([, has]) => has)).toBe(true);
    // A run without the profile re-assesses nothing (it would do so under the wrong profile), and the next run
    // with it finds the setting unchanged.
    const other = join(tmp.dir, 'other-trace.csv');
    writeTraceRow(other, {
      id: 'a1000001-0000-4000-8000-0000000000d1',
      sender: 'x@fabrikam.com',
      fromIp: '203.0.113.9',
      subject: 'hi',
    });
    const bare = await ingest([other], { db: store, profile: null });
    expect(bare.reassessed).toBe(0);
    const back = await ingest(fixtureFiles(), {
      db: store,
      profile: { ...base, rejectDirectSend: true, rejectDirectSendSince: '2026-07-22' },
    });
    expect(back.reassessed).toBe(0);
    expect(ds117()).toEqual(after);
  });

  it('takes a store stamped before RejectDirectSend left the profile stamp for the same profile', async () => {
    const base = await fixtureProfile();
    const store = join(tmp.dir, 'stamped.db');
    await ingest(fixtureFiles(), { db: store, profile: base });
    // The stamp earlier versions wrote for the fixture profile (rejectDirectSend false in it), pinned as a
    // literal: it must never change, and computing it here would only test the code against itself.
    const legacy = '2860516332554380';
    const s = openStore(store);
    s.transaction(() => {
      s.setMeta('profile', legacy);
      s.db.prepare("DELETE FROM meta WHERE key = 'reject-direct-send'").run();
    });
    s.close();
    const enabled = await ingest(fixtureFiles(), {
      db: store,
      profile: { ...base, rejectDirectSend: true, rejectDirectSendSince: null },
    });
    expect(enabled.warnings).toEqual([]);
    expect(enabled.reassessed).toBeGreaterThan(0);
  });

  it('tells legitimate sources from spoofs and lists P2-only spoofs apart', () => {
    const byIp = (ip: string) => report.sources.find((s) => s.ips.includes(ip))!;
    expect(byIp('198.51.100.20')).toMatchObject({
      name: 'MFP 2nd floor',
      channel: 'direct-send',
      verdict: 'legitimate',
    });
    // One message that passes SPF and compauth, with a lure word in its subject ("Purchase order"): the evidence
    // does not decide either way (a lure word alone does not veto authenticated mail; one message is no rhythm).
    expect(byIp('203.0.113.45')).toMatchObject({ channel: 'direct-send', verdict: 'undetermined', tls: 'yes' });
    expect(byIp('203.0.113.45').signals.map((g) => [g.signal, g.effect])).toEqual([
      ['lure', 'against'],
      ['auth-pass', 'for'],
    ]);
    expect(byIp('45.14.71.10')).toMatchObject({ verdict: 'malicious', helo: 'WIN-3K2J1QO7P5L' });
    expect(byIp('91.92.246.5')).toMatchObject({ channel: 'internal-spoof', rejectDirectSendBlocks: false });
    expect(report.impact.legitimateSources.map((s) => s.ips[0])).toEqual(['198.51.100.20']);
    expect(report.impact.p2OnlySpoofs.map((s) => s.ips[0])).toEqual(['91.92.246.5']);
    expect(report.impact.stoppedSpoofs.map((s) => s.ips[0]).sort()).toEqual([
      '45.14.71.10',
      '45.14.71.11',
      '5.188.206.14',
    ]);
    expect(report.impact.wouldReject.undeterminedMessages).toBe(1);
    // Partner-connector and authenticated mail are counted, never listed as Direct Send sources.
    expect(report.totals.byChannel).toMatchObject({ connector: 1, authenticated: 1 });
    expect(report.sources.some((s) => s.ips.includes('192.0.2.25'))).toBe(false);
    // Every example points at a file and row.
    for (const s of report.sources) for (const e of s.examples) expect(e.row).toBeGreaterThan(0);
  });

  it('plans a Partner connector per legitimate source, restricted to its IP and sender domains', () => {
    expect(report.connectorPlan).toHaveLength(1);
    for (const c of report.connectorPlan) {
      expect(c.command).toMatch(/^New-InboundConnector -Name '[^']+' -ConnectorType Partner /);
      expect(c.command).toContain("-SenderDomains 'contoso.com'");
      expect(c.command).toContain('-RestrictDomainsToIPAddresses $true');
      expect(c.command).not.toMatch(/SenderDomains\s+'?\*/);
    }
    // Not ready (a declared source without its connector, ten days of evidence): the enable command is not given.
    expect(report.enableSteps).not.toContain('Set-OrganizationConfig -RejectDirectSend $true');
    expect(report.enableSteps[1]).toBe(
      '# 2. NOT READY to enable RejectDirectSend: 2 blocker(s) first (see Readiness): DS903, DS904',
    );
  });

  it('filters by day with since', () => {
    const store = openStore(db);
    const r = buildTenantReport(store, { profile: null, since: '2026-07-24' });
    store.close();
    expect(r.timeline.map((d) => d.day)).toEqual(['2026-07-24', '2026-07-25', '2026-07-26', '2026-07-27']);
    expect(r.totals.messages).toBe(r.timeline.reduce((n, d) => n + d.messages, 0));
    // Sources count only what they sent since then; a source quiet since then is not listed. Their recipients,
    // findings and samples are the period's; their IPs and senders stay the group's whole history (its identity,
    // and a connector is planned for every address a source uses).
    const active = report.sources.filter((s) => s.lastSeen >= '2026-07-24').map((s) => s.ips.join(','));
    expect(r.sources.map((s) => s.ips.join(',')).sort()).toEqual(active.sort());
    expect(r.sources.length).toBeLessThan(report.sources.length);
    for (const s of r.sources) {
      const all = report.sources.find((x) => x.ips.join(',') === s.ips.join(','))!;
      expect(s.firstSeen >= '2026-07-24').toBe(true);
      expect(s.messages).toBeLessThanOrEqual(all.messages);
      expect(s.ips).toEqual(all.ips);
      expect(s.senders).toEqual(all.senders);
      // A delivery has one recipient: a source cannot reach more recipients than it delivered messages.
      expect(s.recipients).toBeLessThanOrEqual(s.messages);
      for (const w of s.why) expect(w.messages).toBeLessThanOrEqual(s.messages);
      for (const e of s.examples) expect(e.receivedAt >= '2026-07-24').toBe(true);
    }
    // The period's findings and examples are there (the loops above must have something to check).
    expect(r.sources.map((s) => [s.ip, s.why.length, s.examples.length])).toEqual([
      ['45.14.71.10', 2, 1],
      ['5.188.206.14', 6, 1],
      ['198.51.100.20', 1, 3],
    ]);
    const s1 = r.sources.find((s) => s.ip === '45.14.71.10')!;
    expect(s1.messages).toBe(1);
    expect(s1.recipients).toBe(1);
    expect(report.sources.find((s) => s.ip === '45.14.71.10')!.recipients).toBe(4);
  });

  it('renders text, markdown and csv', () => {
    expectGoldenText('test/fixtures/exports/report.expected.txt', renderTenantText(report, { limit: 50 }));
    expectGoldenText('test/fixtures/exports/report.expected.md', renderTenantMarkdown(report, { limit: 50 }));
    const csv = renderTenantCsv(report);
    expect(csv.split('\r\n')[0]).toMatch(/^id,name,ips,helo,senders/);
    expect(csv.split('\r\n').filter((l) => l.length > 0)).toHaveLength(report.sources.length + 1);
  });

  it('renders one self-contained HTML page with a strict CSP', () => {
    const html = renderTenantHtml(report, { limit: 50 });
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(html).toContain(`style-src 'sha256-${hash}'`);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|\bsrc=|<link|url\(/i);
    expect(html).toContain('MFP 2nd floor');
  });
});

describe('hostile values', () => {
  it('escapes attacker-controlled subjects, senders and HELO in every format', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'evil.csv');
      const evilSubject = "<script>alert(1)</script> =cmd|' /C calc'!A0 ``` | # **x**";
      writeTraceRow(path, {
        id: 'a1000001-0000-4000-8000-08dee9000009',
        sender: "o'brien&x=1@contoso.com",
        fromIp: '198.51.100.99',
        subject: evilSubject,
      });
      const evilDb = join(t.dir, 'evil.db');
      const profile = await fixtureProfile();
      await ingest([path], { db: evilDb, profile });
      const store = openStore(evilDb);
      const r = buildTenantReport(store, { profile });
      store.close();
      expect(r.sources[0]!.subjects[0]).toBe(evilSubject);
      const html = renderTenantHtml(r, { limit: 50 });
      expect(html).not.toContain('<script>');
      expect(html).toContain('&#60;script&#62;');
      expect(html).toContain('o&#39;brien&#38;x=1@contoso.com');
      const csv = renderTenantCsv(r);
      expect(csv).not.toMatch(/(^|,)"?=/m);
      const md = renderTenantMarkdown(r, { limit: 50 });
      expect(md).not.toContain('<script>');
      const text = renderTenantText(r, { limit: 50 });
      expect(text).not.toMatch(/\u001b/);
    } finally {
      t.cleanup();
    }
  });

  it('quotes every value put into PowerShell', () => {
    expect(psQuote("it's")).toBe("'it''s'");
    expect(psQuote('a\u2019b')).toBe("'a\u2019\u2019b'");
    expect(psQuote('x\r\n$(Remove-Item C:\\)')).toBe("'x$(Remove-Item C:\\)'");
    expect(connectorLabel("evil'; Remove-Item -Recurse C:\\ #\n")).toMatch(/^[A-Za-z0-9 ._()-]{1,64}$/);
    const cmd = newInboundConnectorCommand({
      name: "a'b",
      ipv4: ['198.51.100.20'],
      certificate: null,
      senderDomains: ["contoso.com'; Set-OrganizationConfig -RejectDirectSend $false; '"],
      requireTls: false,
      comment: 'c',
    });
    expect(cmd).toContain("-SenderDomains 'contoso.com''; Set-OrganizationConfig -RejectDirectSend $false; '''");
  });

  it('prints the collection commands for a profile, quoting its values', () => {
    const p = parseProfile('tenant:\n  name: "Contoso\'s \\nlab"\n  domains: [contoso.com, contoso.co.uk]\n', 'x.yml');
    if (p.status !== 'ok') throw new Error(p.error);
    const ps = collectionScript({
      tenantName: p.profile.name,
      domains: p.profile.acceptedDomains,
      days: 90,
      notifyAddress: "admin'@contoso.com",
      outDir: '.\\dsguard-exports',
    });
    expectGoldenText('test/fixtures/exports/collection.expected.ps1', ps);
    expect(ps).toContain("$Domains = @('contoso.com','contoso.co.uk')");
    expect(ps).toContain("-NotifyAddress 'admin''@contoso.com'");
    expect(ps).toContain('-ConnectorType NoConnector');
    expect(ps).toContain('StartingRecipientAddress');
    expect(ps).toContain('Get-MessageTraceDetailV2');
    expect(ps.split('\n')[0]).toBe("# dsguard collection commands for Contoso's lab");
  });

  it('prints hunting queries whose exports ingest reads as the tables they query', async () => {
    const ps = collectionScript({
      tenantName: null,
      domains: ['contoso.com', 'x"); drop'],
      days: 30,
      notifyAddress: null,
      outDir: '.',
    });
    const queries = [...ps.matchAll(/^ {2}'([a-z-]+)' = @'\n([\s\S]*?)\n'@$/gm)].map((m) => ({
      name: m[1]!,
      kql: m[2]!,
    }));
    expect(queries.map((q) => q.name)).toEqual([
      'hunting-emailevents',
      'hunting-urls',
      'hunting-attachments',
      'hunting-intraorg',
    ]);
    // A value that is no domain name never reaches the query text (the PowerShell list quotes it).
    for (const q of queries) expect(q.kql).not.toContain('drop');
    expect(queries[0]!.kql).toContain('SenderMailFromDomain in~ ("contoso.com")');
    // The portal's CSV export of each query: its projected columns, and rows with values for them.
    const values: Record<string, string>[] = [
      {
        Timestamp: '2026-07-20T08:15:02Z',
        NetworkMessageId: 'a1000001-0000-4000-8000-0000000000e1',
        SenderMailFromAddress: 'scanner@contoso.com',
        SenderMailFromDomain: 'contoso.com',
        SenderFromAddress: 'scanner@contoso.com',
        SenderFromDomain: 'contoso.com',
        SenderIPv4: '198.51.100.20',
        RecipientEmailAddress: 'anna.smith@contoso.com',
        Subject: 'Scan',
        EmailDirection: 'Inbound',
        DeliveryAction: 'Delivered',
        Connectors: '',
        Url: 'https://contoso.example/qr',
        UrlDomain: 'contoso.example',
        UrlLocation: 'QRCode',
        FileName: 'scan.pdf',
        FileType: 'pdf',
      },
    ];
    // The same message through the partner's connector.
    values.push({
      ...values[0]!,
      NetworkMessageId: 'a1000001-0000-4000-8000-0000000000e2',
      SenderIPv4: '192.0.2.5',
      Connectors: 'Fabrikam Partner',
    });
    const db = join(tmp.dir, 'hunting.db');
    const formats: string[] = [];
    for (const q of queries) {
      const columns = q.kql
        .slice(q.kql.lastIndexOf('| project ') + '| project '.length)
        .split(',')
        .map((c) => c.trim());
      const file = join(tmp.dir, `${q.name}.csv`);
      // The Intra-org query: the tenant's own authenticated mail (other messages).
      const of = (v: Record<string, string>) =>
        q.name === 'hunting-intraorg'
          ? {
              ...v,
              NetworkMessageId: v.NetworkMessageId!.replace('-0000000000e', '-0000000000f'),
              EmailDirection: 'Intra-org',
            }
          : v;
      const rows = values.map((v) => columns.map((c) => `"${of(v)[c] ?? ''}"`).join(','));
      writeFileSync(file, `${columns.join(',')}\r\n${rows.join('\r\n')}\r\n`);
      const s = await ingest([file], { db, profile: await fixtureProfile() });
      expect(s.files[0]!.status, q.name).toBe('ingested');
      expect(s.files[0]!.rejected, q.name).toBe(0);
      formats.push(s.files[0]!.format!);
    }
    expect(formats).toEqual([
      'Defender EmailEvents CSV (UTF-8)',
      'Defender EmailUrlInfo CSV (UTF-8)',
      'Defender EmailAttachmentInfo CSV (UTF-8)',
      'Defender EmailEvents CSV (UTF-8)',
    ]);
    // Connectors tells the partner's message from the Direct Send one; Intra-org mail is the tenant's own.
    const store = openStore(db);
    try {
      const r = buildTenantReport(store, { profile: await fixtureProfile() });
      expect(r.totals.byChannel).toEqual({ authenticated: 2, connector: 1, 'direct-send': 1 });
    } finally {
      store.close();
    }
  });
});

describe('known sources', () => {
  it('names a source by a sender that is not among the ones it lists', async () => {
    const t = tempDir();
    try {
      // 22 senders from one device address: the rarest one, the only one the profile names, is not listed.
      const q = (v: string) => `"${v}"`;
      let csv = '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject"\r\n';
      let n = 0;
      for (let s = 0; s < 22; s++) {
        const sender = s === 21 ? 'device@contoso.com' : `user${s}@contoso.com`;
        for (let k = 0; k < (s === 21 ? 1 : 30 - s); k++) {
          n++;
          const id = `a1000001-0000-4000-8000-${String(n).padStart(12, '0')}`;
          csv += `${[id, '7/20/2026 8:15:02 AM', sender, 'b@contoso.com', '198.51.100.77', 'Scan'].map(q).join(',')}\r\n`;
        }
      }
      writeFileSync(join(t.dir, 'many.csv'), csv);
      const yml = join(t.dir, 'p.yml');
      writeFileSync(
        yml,
        'tenant:\n  domains: [contoso.com]\ndirectSendSources:\n  - name: Lab device\n    ips: [198.51.100.77]\n    senders: [device@contoso.com]\n',
      );
      const loaded = await loadProfile(yml);
      if (loaded.status !== 'ok') throw new Error(loaded.error);
      const db = join(t.dir, 'k.db');
      await ingest([join(t.dir, 'many.csv')], { db, profile: loaded.profile });
      const store = openStore(db);
      const r = buildTenantReport(store, { profile: loaded.profile });
      store.close();
      const source = r.sources.find((s) => s.ip === '198.51.100.77')!;
      expect(source.senders).toHaveLength(LISTED_SENDERS);
      expect(source.senders.map((s) => s.address)).not.toContain('device@contoso.com');
      expect(source.name).toBe('Lab device');
    } finally {
      t.cleanup();
    }
  });
});
