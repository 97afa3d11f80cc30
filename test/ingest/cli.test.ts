/** The ingest, report and powershell commands in-process: output streams and exit codes. */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fixtureFiles, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const PROFILE = 'test/fixtures/exports/dsguard.yml';

describe('dsguard ingest / report / powershell', () => {
  it('ingests, reports bad rows on stderr with file and row, and exits 0: rejected rows are no failure', async () => {
    const db = join(tmp.dir, 'x.db');
    const r = await runCli(['ingest', ...fixtureFiles(), '--db', db, '--profile', PROFILE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'test/fixtures/exports/messagetrace-v2.csv: row 10: Received "31/31/2026 1:10:00 PM" is not a date',
    );
    expect(r.stderr).toContain(
      'dsguard: 4 row(s) rejected in 4 file(s) (listed above); the other rows were ingested (exit 0: rejected rows are not a failure)\n',
    );
    expect(r.stdout).toMatch(/44 row\(s\) read = 31 stored \+ 9 aggregated \+ 4 rejected/);
    const again = await runCli(['ingest', ...fixtureFiles(), '--db', db, '--profile', PROFILE, '--format', 'json']);
    expect(again.code).toBe(0);
    const s = JSON.parse(again.stdout);
    expect(s.files.every((f: { status: string }) => f.status === 'skipped')).toBe(true);
    expect(again.stderr).toBe('');
  });

  it('rejects a malformed CSV record with file, row and line, keeps the others, exits 0; a failed file still exits 3', async () => {
    const path = join(tmp.dir, 'trace.csv');
    const header = '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject","Status","Size"';
    const row = (i: number, subject: string) =>
      `"a1000001-0000-4000-8000-08dee900000${i}","7/20/2026 8:15:02 AM","a@contoso.com","b@contoso.com","198.51.100.20",${subject},"Delivered","1${i}"`;
    writeFileSync(path, `${header}\r\n${row(1, '"ok"')}\r\n${row(2, '"Invoice')}\r\n${row(3, '"ok"')}\r\n`);
    const db = join(tmp.dir, 'z.db');
    const r = await runCli(['ingest', path, '--db', db, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${path}: row 2: malformed CSV on line 3: "D" after a closing quote\n`);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ read: 3, rejected: 1, status: 'ingested' });
    const missing = await runCli(['ingest', path.replace('trace', 'none'), '--db', db]);
    expect(missing.code).toBe(3);
  });

  it('exits 0 when every row of every file was read', async () => {
    const r = await runCli(['ingest', 'test/fixtures/exports/messagetrace-v1.csv', '--db', join(tmp.dir, 'y.db')]);
    expect(r.code).toBe(0);
  });

  it('takes --date-order dmy|mdy|auto for numeric dates, and refuses anything else with exit 2', async () => {
    const file = join(tmp.dir, 'one-day.csv');
    writeFileSync(
      file,
      '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject"\r\n' +
        '"a1000001-0000-4000-8000-0000000000c1","05/07/2026 08:15:02","x@fabrikam.com","b@contoso.com","203.0.113.9","hi"\r\n',
    );
    const bad = await runCli(['ingest', file, '--db', join(tmp.dir, 'd.db'), '--date-order', 'ymd']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--date-order must be one of auto, mdy, dmy (got "ymd")');
    const given = await runCli(['ingest', file, '--db', join(tmp.dir, 'd.db'), '--date-order', 'dmy', '-f', 'json']);
    expect(given.code).toBe(0);
    expect(JSON.parse(given.stdout).files[0].dateOrder).toEqual({ order: 'dmy', how: 'given', why: '--date-order' });
    // Without it, a file that cannot tell is read month-first, and the warning says so.
    const auto = await runCli(['ingest', file, '--db', join(tmp.dir, 'e.db'), '-f', 'json']);
    expect(JSON.parse(auto.stdout).files[0].dateOrder).toMatchObject({ order: 'mdy', how: 'assumed' });
    expect(auto.stderr).toMatch(/dsguard: warning: [^\n]*one-day\.csv: dates like 05\/07\/2026 read either way/);
  });

  it('passes over files in a folder that are not exports, but refuses one named on its own', async () => {
    const dir = join(tmp.dir, 'exports');
    mkdirSync(dir);
    copyFileSync('samples/exports/messagetrace-v2.csv', join(dir, 'trace.csv'));
    writeFileSync(join(dir, 'README.txt'), 'Exports pulled on Monday.\n');
    const r = await runCli(['ingest', dir, '--db', join(tmp.dir, 'f.db'), '--no-geoip']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped [^\n]*README\.txt: unrecognised/);
    const named = await runCli(['ingest', join(dir, 'README.txt'), '--db', join(tmp.dir, 'g.db'), '--no-geoip']);
    expect(named.code).toBe(3);
    expect(named.stderr).toMatch(/README\.txt: unrecognised/);
  });

  it('reports in every format; json on stdout only', async () => {
    const db = join(tmp.dir, 'x.db');
    await runCli(['ingest', ...fixtureFiles(), '--db', db, '--profile', PROFILE]);
    const json = await runCli(['report', '--db', db, '--profile', PROFILE, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const report = JSON.parse(json.stdout);
    expect(Object.keys(report.totals)).toEqual(
      expect.arrayContaining(['messages', 'directSend', 'internalSpoof', 'malicious', 'suspicious', 'legitimate']),
    );
    expect(report.sources[0]).toEqual(
      expect.objectContaining({ ip: expect.any(String), senders: expect.any(Array), verdict: expect.any(String) }),
    );
    expect(Object.keys(report.impact)).toEqual(
      expect.arrayContaining(['wouldReject', 'legitimateSources', 'p2OnlySpoofs']),
    );
    expect(report.connectorPlan[0]).toEqual(
      expect.objectContaining({ name: expect.any(String), ips: expect.any(Array), command: expect.any(String) }),
    );
    for (const format of ['table', 'md', 'csv', 'html']) {
      const r = await runCli(['report', '--db', db, '--format', format, '--since', '2026-07-20']);
      expect(r.code, format).toBe(0);
      expect(r.stdout.length, format).toBeGreaterThan(100);
    }
  });

  it('rejects bad flags with exit 2 and a missing store with exit 3', async () => {
    expect((await runCli(['report', '--db', join(tmp.dir, 'none.db')])).code).toBe(3);
    expect((await runCli(['report', '--since', 'last week'])).code).toBe(2);
    expect((await runCli(['report', '--format', 'pdf'])).code).toBe(2);
    expect((await runCli(['ingest', 'x.csv', '--format', 'xml'])).code).toBe(2);
    expect((await runCli(['powershell'])).code).toBe(2);
    expect((await runCli(['powershell', '--profile', PROFILE, '--days', '120'])).code).toBe(2);
    expect((await runCli(['powershell', '--profile', PROFILE, '--notify', 'not an address'])).code).toBe(2);
  });

  it('prints the collection commands for the profile', async () => {
    const r = await runCli(['powershell', '--profile', PROFILE, '--days', '30']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("$Domains = @('contoso.com','contoso.co.uk')");
    expect(r.stdout).toContain('$Start = $End.AddDays(-30)');
  });
});

describe('progress and envelopes', () => {
  it('draws a progress bar on stderr only when it is a terminal', async () => {
    const run = (progress: boolean) =>
      runCli(
        ['ingest', 'test/fixtures/exports/messagetrace-v1.csv', '--db', join(tmp.dir, `${progress}.db`)],
        '',
        {},
        {
          progress,
        },
      );
    const tty = await run(true);
    expect(tty.stderr).toMatch(/\r\[#+\] 100% messagetrace-v1\.csv 1 rows/);
    expect(tty.stdout).not.toContain('\r');
    expect((await run(false)).stderr).toBe('');
  });

  it('reads streaming-API records wrapped in records[] and a bare record', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const { sniffExportFile } = await import('../../src/ingest/exports/read-export.js');
    // The captured streaming-API record (first line of the NDJSON fixture).
    const record = JSON.parse(
      readFileSync('test/fixtures/exports/streaming-emailevents.ndjson', 'utf8').split('\n')[0]!,
    );
    const wrapped = join(tmp.dir, 'records.json');
    writeFileSync(wrapped, JSON.stringify({ records: [record] }));
    const bare = join(tmp.dir, 'bare.json');
    writeFileSync(bare, JSON.stringify(record));
    for (const f of [wrapped, bare]) {
      const s = await sniffExportFile(f);
      expect(s.status === 'ok' && s.info.adapter.format).toBe('email-events');
    }
  });
});
