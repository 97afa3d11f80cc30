/**
 * Readiness and inferred Direct Send over real stores: rows the readers rejected are never counted (and are
 * listed), summary rows count as Direct Send only with a proving row or a declared source, rows assessed without
 * a profile hold readiness back, and `dsguard sources` refuses what it cannot record.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport, type TenantReport } from '../../src/report/tenant-report.js';
import { renderTenantHtml } from '../../src/report/tenant-report-html.js';
import { renderTenantMarkdown, renderTenantText } from '../../src/report/tenant-report-text.js';
import { runCli } from '../helpers/cli.js';
import { openStore, tempDir } from '../ingest/helpers.js';

const PROFILE_YAML = `tenant:
  domains: [contoso.com]
directSendSources:
  - name: Label printer
    ips: [198.51.100.77]
`;

function profileOf(text: string): TenantProfile {
  const r = parseProfile(text, 'dsguard.yml');
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
}

const HEADER = '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject","MessageId"\r\n';

/** A Get-MessageTraceV2 export of the given rows (`when` is the Received text as written). */
function traceFile(path: string, rows: { when: string; sender: string; to: string; ip: string; subject: string }[]) {
  const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
  writeFileSync(
    path,
    HEADER +
      rows
        .map((r, i) =>
          [
            `a1000001-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
            r.when,
            r.sender,
            r.to,
            r.ip,
            r.subject,
            `<m${i}@x>`,
          ]
            .map(q)
            .join(','),
        )
        .join('\r\n') +
      '\r\n',
  );
}

/** A historical search row (UTF-16) that proves anonymous, connector-less Direct Send. */
function historicalFile(path: string, rows: { at: string; sender: string; to: string; ip: string; subject: string }[]) {
  const head =
    '"origin_timestamp_utc","sender_address","Recipient_status","message_subject","total_bytes","message_id","network_message_id","original_client_ip","directionality","connector_id","delivery_priority"';
  const lines = rows.map((r, i) =>
    [
      r.at,
      r.sender,
      `${r.to}##Receive, Deliver`,
      r.subject,
      '1000',
      `<h${i}@x>`,
      `c30000010000400080000000000${i}`,
      r.ip,
      'Incoming',
      '',
      'Normal',
    ]
      .map((v) => `"${v}"`)
      .join(','),
  );
  writeFileSync(
    path,
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${[head, ...lines].join('\r\n')}\r\n`, 'utf16le')]),
  );
}

let tmp: ReturnType<typeof tempDir>;
let db: string;
let trace: string;
const profile = profileOf(PROFILE_YAML);

function report(path: string, p: TenantProfile | null, since?: string): TenantReport {
  const store = openStore(path);
  try {
    return buildTenantReport(store, since ? { profile: p, since } : { profile: p });
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  tmp = tempDir();
  db = join(tmp.dir, 'r.db');
  trace = join(tmp.dir, 'trace.csv');
  const hist = join(tmp.dir, 'hist.csv');
  traceFile(trace, [
    // Proven by the historical row below (same IP and sender): inferred Direct Send.
    {
      when: '7/20/2026 8:15:02 AM',
      sender: 'app@contoso.com',
      to: 'ann@contoso.com',
      ip: '203.0.113.5',
      subject: 'Report 1',
    },
    {
      when: '7/21/2026 8:15:02 AM',
      sender: 'app@contoso.com',
      to: 'ann@contoso.com',
      ip: '203.0.113.5',
      subject: 'Report 2',
    },
    // Same IP, another sender nothing proves: stays undetermined.
    {
      when: '7/21/2026 9:00:00 AM',
      sender: 'bob@contoso.com',
      to: 'ann@contoso.com',
      ip: '203.0.113.5',
      subject: 'hi',
    },
    // A rejected row (no such date) from the same IP and sender: never counted.
    {
      when: '31/31/2026 1:10:00 PM',
      sender: 'app@contoso.com',
      to: 'ann@contoso.com',
      ip: '203.0.113.5',
      subject: 'bad',
    },
    // The profile declares this printer: its summary rows are Direct Send, inferred from the profile.
    {
      when: '7/22/2026 10:00:00 AM',
      sender: 'labels@contoso.com',
      to: 'ann@contoso.com',
      ip: '198.51.100.77',
      subject: 'Label',
    },
  ]);
  historicalFile(hist, [
    {
      at: '2026-07-19T08:00:00.0000000Z',
      sender: 'app@contoso.com',
      to: 'ann@contoso.com',
      ip: '203.0.113.5',
      subject: 'Report 0',
    },
  ]);
  await ingest([trace, hist], { db, profile });
});
afterAll(() => tmp.cleanup());

describe('inferred Direct Send and rejected rows', () => {
  it('counts summary rows as Direct Send only with a proving row or a declared source, citing it', () => {
    const r = report(db, profile);
    const app = r.sources.find((s) => s.ips.includes('203.0.113.5'))!;
    expect(app.counts).toMatchObject({ directSend: 3, inferred: 2, undetermined: 1 });
    expect(app.inferredFrom).toEqual([
      {
        ip: '203.0.113.5',
        sender: 'app@contoso.com',
        messages: 2,
        file: expect.stringContaining('hist.csv'),
        row: 1,
        declared: null,
      },
    ]);
    const printer = r.sources.find((s) => s.ips.includes('198.51.100.77'))!;
    expect(printer).toMatchObject({ name: 'Label printer', verdict: 'legitimate', channel: 'direct-send' });
    expect(printer.inferredFrom).toEqual([
      {
        ip: '198.51.100.77',
        sender: 'labels@contoso.com',
        messages: 1,
        file: null,
        row: null,
        declared: 'Label printer',
      },
    ]);
    expect(r.totals).toMatchObject({ directSend: 4, inferredDirectSend: 3, candidates: 1 });
    expect(r.timeline.find((d) => d.day === '2026-07-21')).toMatchObject({
      directSend: 1,
      inferredDirectSend: 1,
      candidates: 1,
    });
    expect(r.impact.wouldReject.messages).toBe(4);
    // Without the declaration, the printer's row proves nothing.
    const bare = report(db, profileOf('tenant:\n  domains: [contoso.com]\n'));
    expect(bare.totals).toMatchObject({ directSend: 3, inferredDirectSend: 2, candidates: 2 });
    // Once a connector in the profile covers the IP, its summary rows are no longer inferred Direct Send.
    const withConnector = profileOf(
      `${PROFILE_YAML}connectors:\n  - name: App\n    type: OnPremises\n    senderIps: [203.0.113.5]\n`,
    );
    expect(report(db, withConnector).totals).toMatchObject({ directSend: 2, inferredDirectSend: 1 });
    // --since counts only the period's inferred rows.
    expect(report(db, profile, '2026-07-21').totals).toMatchObject({ directSend: 2, inferredDirectSend: 2 });
  });

  it('never counts a rejected row, and lists it per file next to the readiness verdict', () => {
    const r = report(db, profile);
    const app = r.sources.find((s) => s.ips.includes('203.0.113.5'))!;
    expect(app.messages).toBe(4);
    expect(app.subjects).not.toContain('bad');
    expect(r.readiness.rejectedRows).toEqual([{ file: trace, rejected: 1 }]);
    const text = renderTenantText(r, { limit: 50 });
    const readiness = text.slice(text.indexOf('Readiness:'), text.indexOf('Messages '));
    expect(readiness).toContain(`${trace}: 1 row(s) rejected by the reader (not counted in any source or total)`);
    expect(renderTenantMarkdown(r, { limit: 50 })).toContain('1 row(s) rejected by the reader');
    const html = renderTenantHtml(r, { limit: 50 });
    expect(html).toContain('<h2>Readiness</h2>\n<p><b class="malicious">NOT READY: ');
    expect(html).toContain('1 row(s) rejected by the reader');
    expect(html).toContain('<h3>Why each verdict</h3>');
  });

  it('never cuts a blocker in text or Markdown, however long the names in it', () => {
    const long = `Label printer ${'x'.repeat(180)}`;
    const r = report(db, profileOf(PROFILE_YAML.replace('Label printer', long)));
    const blocker = r.readiness.blockers.find((b) => b.code === 'DS903')!;
    expect(blocker.text.length).toBeGreaterThan(300);
    expect(renderTenantText(r, { limit: 50 })).toContain(`  DS903 ${blocker.text}\n`);
    expect(renderTenantMarkdown(r, { limit: 50 })).toContain(long);
  });

  it('holds readiness back when the stored rows were assessed without a profile', async () => {
    const noProfileDb = join(tmp.dir, 'noprofile.db');
    await ingest([trace], { db: noProfileDb, profile: null });
    const r = report(noProfileDb, profile);
    expect(r.readiness.blockers[0]!.code).toBe('DS905');
    // Nothing is vouched for on evidence weighed without a profile; only the admin's own word (declared) stands.
    for (const s of r.sources.filter((x) => x.decision === null)) {
      expect(['undetermined', 'suspicious', 'malicious']).toContain(s.verdict);
    }
    expect(r.sources.some((s) => s.decision === null)).toBe(true);
    expect(report(db, null).readiness.blockers.map((b) => b.code)).toContain('DS905');
  });
});

describe('dsguard sources', () => {
  it('refuses what it cannot record, and records an IP not in the store as given', async () => {
    const yml = join(tmp.dir, 'p.yml');
    writeFileSync(yml, PROFILE_YAML);
    const base = ['--profile', yml, '--db', db];
    expect((await runCli(['sources', 'approve', 'S999', ...base, '--name', 'x'])).code).toBe(2);
    expect((await runCli(['sources', 'approve', 'S1', ...base])).code).toBe(2);
    expect((await runCli(['sources', 'approve', 'printer', ...base, '--name', 'x'])).code).toBe(2);
    expect((await runCli(['sources', 'approve', 'S1', ...base, '--name', 'a\nb'])).code).toBe(2);
    expect((await runCli(['sources', 'deny', '198.51.100.77', ...base])).code).toBe(2);
    expect(readFileSync(yml, 'utf8')).toBe(PROFILE_YAML);
    const missing = await runCli(['sources', 'deny', '1.2.3.4', '--profile', join(tmp.dir, 'none.yml'), '--db', db]);
    expect(missing.code).toBe(3);
    const given = await runCli(['sources', 'deny', '192.0.2.66', ...base]);
    expect(given).toMatchObject({ code: 0 });
    expect(given.stderr).toContain('192.0.2.66 is not a source in');
    expect(readFileSync(yml, 'utf8')).toBe(
      `${PROFILE_YAML}deniedSources:\n  - name: denied 192.0.2.66\n    ips: [192.0.2.66]\n`,
    );
    // The next report re-assesses: a denied source is never legitimate.
    const app = report(db, profileOf(readFileSync(yml, 'utf8')));
    expect(app.sources.every((s) => s.decision !== 'denied')).toBe(true);
    const id = report(db, profile).sources.find((s) => s.ips.includes('203.0.113.5'))!.id;
    expect((await runCli(['sources', 'deny', id, ...base])).code).toBe(0);
    const denied = report(db, profileOf(readFileSync(yml, 'utf8'))).sources.find((s) => s.id === id)!;
    expect(denied).toMatchObject({ decision: 'denied', confirmed: true });
    expect(['suspicious', 'malicious']).toContain(denied.verdict);
  });
});
