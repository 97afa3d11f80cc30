/**
 * Export-Csv writes numeric dates in the session's culture: `7/20/2026 8:15:02 AM` on en-US, `20/07/2026 08:15:02`
 * on en-GB, `20.07.2026 08:15:02` on de-DE. Each file's order is decided once, from dates sampled through it, so
 * the same traffic gives the same store and report whichever machine exported it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport } from '../../src/report/tenant-report.js';
import { FIXTURE_DIR, fixtureProfile, openStore, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const US_DATE = /"(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)"/g;
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The en-US export moved 17 days earlier in July (18–27 July become 1–10 July: dates that read both ways), as
 * en-US writes it or, with `sep`, as another culture does (day first, 24-hour clock). Other dates stay.
 */
function rewrite(text: string, sep: '/' | '.' | null): string {
  return text.replace(US_DATE, (m, mo, d, y, h, mi, s, ap) => {
    if (mo !== '7') return m;
    const day = Number(d) - 17;
    if (sep === null) return `"${mo}/${day}/${y} ${h}:${mi}:${s} ${ap}"`;
    const h24 = (Number(h) % 12) + (ap === 'PM' ? 12 : 0);
    return `"${pad(day)}${sep}${pad(Number(mo))}${sep}${y} ${pad(h24)}:${mi}:${s}"`;
  });
}

const TRACE = join(FIXTURE_DIR, 'messagetrace-v2.csv');
const DETAIL = join(FIXTURE_DIR, 'messagetrace-detail-v2.csv');

async function reportWithoutFiles(db: string) {
  const store = openStore(db);
  try {
    const { files: _files, ...rest } = buildTenantReport(store, { profile: await fixtureProfile() });
    // Provenance names the file each example came from: the rewritten copy has its own path and sha256.
    return JSON.parse(JSON.stringify(rest, (k, v) => (k === 'file' || k === 'sha256' ? undefined : v)));
  } finally {
    store.close();
  }
}

const H = '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject","Status"\r\n';
/** A trace export of internal mail (kept in full) with the given Received values, one row each. */
function traceOf(dates: string[], idPrefix = 'a2000001'): string {
  return (
    H +
    dates
      .map(
        (d, i) =>
          `"${idPrefix}-0000-4000-8000-${String(i).padStart(12, '0')}","${d}","printer@contoso.com","anna.smith@contoso.com","198.51.100.20","Scan ${i}, page one of the quarterly report","Delivered"\r\n`,
      )
      .join('')
  );
}

/** A trace export in tmp.dir (ids from `idPrefix`, so files of one run hold different deliveries). */
function writeTrace(name: string, dates: string[], idPrefix?: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, traceOf(dates, idPrefix));
  return path;
}

/** An en-GB export whose own dates tell: 14/07 can only be day-first. */
const dayFirstTrace = () => writeTrace('a-trace.csv', ['14/07/2026 08:15:02', '05/07/2026 09:00:00']);

function days(db: string): string[] {
  const store = openStore(db);
  try {
    return (
      store.db.prepare('SELECT DISTINCT substr(received_at, 1, 10) AS d FROM message ORDER BY 1').all() as {
        d: string;
      }[]
    ).map((r) => r.d);
  } finally {
    store.close();
  }
}

describe('numeric date order', () => {
  it.each([
    ['en-GB', '/'],
    ['de-DE', '.'],
  ] as const)('gives an %s export the store and report of the en-US one, joins included', async (_c, sep) => {
    const profile = await fixtureProfile();
    const write = (name: string, from: string, s: '/' | '.' | null) => {
      const path = join(tmp.dir, name);
      writeFileSync(path, rewrite(readFileSync(from, 'utf8'), s));
      return path;
    };
    const us = join(tmp.dir, 'us.db');
    const u = await ingest([write('us-trace.csv', TRACE, null), write('us-detail.csv', DETAIL, null)], {
      db: us,
      profile,
    });
    expect(u.files.map((f) => f.dateOrder?.order)).toEqual(['mdy', 'mdy']);
    const trace = write('trace.csv', TRACE, sep);
    expect(readFileSync(trace, 'utf8')).toContain(`"03${sep}07${sep}2026 08:15:02"`);
    const db = join(tmp.dir, 'other.db');
    const s = await ingest([trace, write('detail.csv', DETAIL, sep)], { db, profile });
    expect(s.files.map((f) => f.dateOrder?.order)).toEqual(['dmy', 'dmy']);
    expect(s.files.map((f) => f.dateOrder?.how)).toEqual(['found', 'found']);
    expect(s.warnings).toEqual([]);
    expect(await reportWithoutFiles(db)).toEqual(await reportWithoutFiles(us));
  });

  it('takes the order the other exports of the run tell for a file whose own dates cannot', async () => {
    const profile = await fixtureProfile();
    const trace = dayFirstTrace();
    // A one-day export: 06/07 reads both ways and nothing else in it tells.
    const oneDay = writeTrace('b-one-day.csv', ['06/07/2026 10:00:00', '06/07/2026 11:00:00'], 'a3000001');
    const alone = await ingest([oneDay], { db: join(tmp.dir, 'alone.db'), profile });
    expect(alone.files[0]!.dateOrder).toMatchObject({ order: 'mdy', how: 'assumed' });
    const db = join(tmp.dir, 'run.db');
    // In the same run, whichever comes first (a JSON export, which writes ISO dates, has no say).
    const s = await ingest([oneDay, join(FIXTURE_DIR, 'graph-messagetrace-page1.json'), trace], { db, profile });
    expect(s.files[0]!.dateOrder).toEqual({
      order: 'dmy',
      how: 'found',
      why: `as ${trace} of the same run (14/07/2026 is day-first)`,
    });
    expect(s.warnings).toEqual([]);
    // The one-day file's 06/07 is 6 July, not 7 June.
    expect(days(db)).toEqual(expect.arrayContaining(['2026-07-05', '2026-07-06', '2026-07-14']));
    expect(days(db)).not.toContain('2026-06-07');
  });

  it('leaves a file whose own dates contradict each other to the user, whatever the run says', async () => {
    const profile = await fixtureProfile();
    const trace = dayFirstTrace();
    // Appended to by an en-GB and an en-US session.
    const mixed = writeTrace('b-mixed.csv', ['13/07/2026 10:00:00', '7/15/2026 11:00:00 AM'], 'a3000001');
    const s = await ingest([trace, mixed], { db: join(tmp.dir, 'a.db'), profile });
    expect(s.files[1]!.dateOrder).toMatchObject({ how: 'assumed' });
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(
      /b-mixed\.csv: both 13\/07\/2026 \(day-first, 1 such\) and 7\/15\/2026 \(month-first, 1 such\) appear/,
    );
  });

  it('reads dates only from the date columns: a date-like subject decides nothing', async () => {
    // An en-US export of 1-10 July (every date reads both ways) with one subject an attacker wrote.
    const dates = Array.from({ length: 10 }, (_, i) => `7/${10 - i}/2026 9:00:00 AM`);
    const file = join(tmp.dir, 'us.csv');
    writeFileSync(file, traceOf(dates).replace('Scan 3, page one of the quarterly report', '31/12/2026'));
    expect(readFileSync(file, 'utf8')).toContain('"31/12/2026"');
    const db = join(tmp.dir, 'a.db');
    const s = await ingest([file], { db, profile: await fixtureProfile() });
    expect(s.files[0]!.dateOrder).toMatchObject({ order: 'mdy', how: 'found' });
    expect(days(db)).toEqual(Array.from({ length: 10 }, (_, i) => `2026-07-${pad(i + 1)}`));
  });

  it('samples the last line of a small file that has no line end', async () => {
    const file = join(tmp.dir, 'gb.csv');
    writeFileSync(file, traceOf(['05/07/2026 08:15:02', '14/07/2026 09:00:00']).trimEnd());
    const db = join(tmp.dir, 'a.db');
    const s = await ingest([file], { db, profile: await fixtureProfile() });
    expect(s.files[0]!.dateOrder).toMatchObject({ order: 'dmy', how: 'found', why: '14/07/2026 is day-first' });
    expect(days(db)).toEqual(['2026-07-05', '2026-07-14']);
  });

  it('finds the order from dates deep in a large file when its head reads both ways', async () => {
    // 3,000 rows: the first 2,000 (well over the 256 KiB head) all on 5 July, the rest from 6 to 14 July.
    const dates = Array.from({ length: 3000 }, (_, i) =>
      i < 2000 ? '05/07/2026 08:15:02' : `${pad(6 + Math.floor((i - 2000) / 112))}/07/2026 09:30:00`,
    );
    const file = join(tmp.dir, 'gb.csv');
    writeFileSync(file, traceOf(dates));
    const db = join(tmp.dir, 'a.db');
    const s = await ingest([file], { db, profile: await fixtureProfile() });
    expect(s.files[0]!.dateOrder).toMatchObject({ order: 'dmy', how: 'found' });
    expect(days(db)).toEqual(Array.from({ length: 10 }, (_, i) => `2026-07-${pad(5 + i)}`));
  });

  it('warns when no date tells, and reads the order given', async () => {
    const file = join(tmp.dir, 'one-day.csv');
    writeFileSync(file, traceOf(['05/07/2026 08:15:02', '05/07/2026 09:00:00']));
    const profile = await fixtureProfile();
    const guessed = join(tmp.dir, 'guessed.db');
    const s = await ingest([file], { db: guessed, profile });
    expect(s.files[0]!.dateOrder).toMatchObject({ order: 'mdy', how: 'assumed' });
    expect(s.warnings).toEqual([
      `${file}: dates like 05/07/2026 read either way and none tells which: read month-first (if the export was written day-first, ingest it into a new store with --date-order dmy)`,
    ]);
    expect(days(guessed)).toEqual(['2026-05-07']);
    const given = join(tmp.dir, 'given.db');
    const t = await ingest([file], { db: given, profile, dateOrder: 'dmy' });
    expect(t.files[0]!.dateOrder).toMatchObject({ order: 'dmy', how: 'given' });
    expect(t.warnings).toEqual([]);
    expect(days(given)).toEqual(['2026-07-05']);
  });

  it('warns when a file resumed in the order it was started in looks the other way', async () => {
    const file = dayFirstTrace();
    const profile = await fixtureProfile();
    const db = join(tmp.dir, 'a.db');
    const controller = new AbortController();
    await ingest([file], {
      db,
      profile,
      limits: { batchRows: 1 },
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    // As a store written before schema 5 left it: no order recorded (read month-first then).
    const store = openStore(db);
    store.db.prepare('UPDATE file SET date_order = NULL').run();
    store.close();
    const s = await ingest([file], { db, profile });
    expect(s.files[0]).toMatchObject({ status: 'resumed', dateOrder: { order: 'mdy', how: 'resumed' } });
    expect(s.warnings).toEqual([
      `${file}: resumed reading dates month-first as it was started, but they look the other way (14/07/2026 is day-first): ingest it into a new store`,
    ]);
  });

  it('resumes a file in the order it was started in', async () => {
    const file = join(tmp.dir, 'gb.csv');
    writeFileSync(
      file,
      traceOf(['14/07/2026 08:15:02', '05/07/2026 09:00:00', '06/07/2026 10:00:00', '07/07/2026 11:00:00']),
    );
    const profile = await fixtureProfile();
    const db = join(tmp.dir, 'a.db');
    const controller = new AbortController();
    const first = await ingest([file], {
      db,
      profile,
      limits: { batchRows: 1 },
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(first.files[0]).toMatchObject({ status: 'interrupted', dateOrder: { order: 'dmy', how: 'found' } });
    const second = await ingest([file], { db, profile, dateOrder: 'mdy' });
    expect(second.files[0]).toMatchObject({ status: 'resumed', dateOrder: { order: 'dmy', how: 'resumed' } });
    expect(days(db)).toEqual(['2026-07-05', '2026-07-06', '2026-07-07', '2026-07-14']);
  });
});
