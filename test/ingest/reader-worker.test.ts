/**
 * Large CSV exports are parsed and classified in a worker thread that hands over count-only rows as typed
 * columns. The store must be the same, table for table, as when every row is read whole on the main thread:
 * on a plain trace, when later files meet deliveries stored in full before (the worker asks the committed
 * store), when a count-only row meets a delivery stored earlier in the same file (rollback and re-read on the
 * main thread, errors reported once), and on a read error. Runs the compiled library (the worker is dist/).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM module of the benchmark (no types); the same generator the benchmark uses.
import { generateTrace } from '../../bench/ingest-bench-data.mjs';
import { parseProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import type * as IngestModule from '../../src/ingest/ingest.js';
import { distIsCurrent, openStore, tempDir } from './helpers.js';

const built = distIsCurrent();

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const TABLES: Record<string, string> = {
  bucket: 'SELECT day, channel, verdict, candidate, messages FROM bucket',
  delivery:
    'SELECT d.day, d.h, b.day AS bday, b.channel, b.verdict, b.candidate, d.stored FROM delivery d JOIN bucket b ON b.id = d.bucket',
  message:
    'SELECT day, h, msg_h, message_id, received_at, recipient, sender, ip, subject, channel, verdict, risk, candidate, codes, row FROM message',
  message_data: 'SELECT day, h, format, data FROM message_data',
  fact: 'SELECT day, h, msg_h, row, format, data FROM fact',
  pending: 'SELECT * FROM pending',
  file: 'SELECT sha256, format, status, rows_read, rows_stored, rows_aggregated, rows_rejected, rows_duplicate FROM file',
  source_stat: 'SELECT * FROM source_stat',
  source_candidate: 'SELECT * FROM source_candidate',
  source_sample: 'SELECT ip, subject, received_at, sender, recipient, row FROM source_sample',
  group_total: 'SELECT * FROM group_total',
};

function tables(db: string): Record<string, string[]> {
  const store = openStore(db);
  try {
    const out: Record<string, string[]> = {};
    for (const [name, sql] of Object.entries(TABLES)) {
      out[name] = store.db
        .prepare(sql)
        .all()
        .map((r) => JSON.stringify(r))
        .sort();
    }
    return out;
  } finally {
    store.close();
  }
}

const profile = (): TenantProfile => {
  const r = parseProfile('tenant:\n  domains: [contoso.com, contoso.co.uk]\n', 'bench.yml');
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
};

type Ingest = typeof IngestModule.ingest;
/** The compiled library (a variable specifier: the type checker reads the sources' types, not dist's). */
const DIST_INGEST = '../../dist/ingest/ingest.js';
const lib = async (): Promise<Ingest> => ((await import(DIST_INGEST)) as typeof IngestModule).ingest;

/** Ingest the files (in order, one run each) both ways; returns both stores' tables and the summaries. */
async function bothWays(files: string[], errors?: string[][], limits?: { maxRecordBytes: number }) {
  const ingest = await lib();
  const out: Record<string, { tables: Record<string, string[]>; summaries: unknown[]; readers: (string | null)[] }> =
    {};
  for (const [i, reader] of (['main', 'worker'] as const).entries()) {
    const db = join(tmp.dir, `${reader}.db`);
    const summaries: unknown[] = [];
    const readers: (string | null)[] = [];
    for (const f of files) {
      const s = await ingest([f], {
        db,
        profile: profile(),
        reader,
        onRowError: (e) => errors?.[i]?.push(`${e.row}: ${e.error}`),
        ...(limits ? { limits } : {}),
      });
      summaries.push({ ...s, files: s.files.map(({ file: _f, reader: _r, ...rest }) => rest) });
      readers.push(...s.files.map((f) => f.reader));
    }
    out[reader] = { tables: tables(db), summaries, readers };
  }
  return out;
}

const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\r\n');

/** Ingest both ways; the stores, the summaries and the row errors reported must be the same. */
async function sameBothWays(files: string[]) {
  const errors: string[][] = [[], []];
  const r = await bothWays(files, errors);
  expect(r.worker!.tables).toEqual(r.main!.tables);
  expect(r.worker!.summaries).toEqual(r.main!.summaries);
  expect(errors[1]).toEqual(errors[0]);
  return { main: r.main!, worker: r.worker!, errors: errors[0]! };
}

describe('reader worker build', () => {
  it('runs the compiled worker (without it the suite below is skipped and proves nothing)', () => {
    expect(built, 'dist/ is missing or older than src/: build first (npm test does)').toBe(true);
  });
});

describe.skipIf(!built)('reader worker', () => {
  it('stores a trace export exactly as the main-thread reader does', async () => {
    const file = join(tmp.dir, 'trace.csv');
    await generateTrace(20_000, file, 11);
    const r = await sameBothWays([file]);
    expect(r.main!.tables.message!.length).toBeGreaterThan(2000);
    expect(r.main!.readers).toEqual(['main']);
    expect(r.worker!.readers).toEqual(['worker']);
    // `auto` hands a file of 4 MiB or more to the worker (this one is 6 MB), and keeps a small one.
    const ingest = await lib();
    const auto = await ingest([file], { db: join(tmp.dir, 'auto.db'), profile: profile() });
    expect(auto.files[0]!.reader).toBe('worker');
    const small = join(tmp.dir, 'small.csv');
    await generateTrace(1_000, small, 15);
    const few = await ingest([small], { db: join(tmp.dir, 'auto.db'), profile: profile() });
    expect(few.files[0]!.reader).toBe('main');
    expect(r.main!.tables.bucket!.length).toBe(2); // one day; counted and candidate rows
  });

  it('takes a profile with denied sources to the worker (their ranges crossed the thread as functions before)', async () => {
    const r = parseProfile(
      'tenant:\n  domains: [contoso.com, contoso.co.uk]\ndeniedSources:\n  - name: printer\n    ips: [203.0.113.0/24]\n',
      'denied.yml',
    );
    if (r.status !== 'ok') throw new Error(r.error);
    expect(r.profile.deniedSources?.length).toBe(1);
    const file = join(tmp.dir, 'trace.csv');
    await generateTrace(3_000, file, 16);
    const ingest = await lib();
    const stores: Record<string, string[]>[] = [];
    for (const reader of ['main', 'worker'] as const) {
      const db = join(tmp.dir, `denied-${reader}.db`);
      const s = await ingest([file], { db, profile: r.profile, reader });
      expect(s.files[0]).toMatchObject({ status: 'ingested', reader, read: 3_000 });
      stores.push(tables(db));
    }
    expect(stores[1]).toEqual(stores[0]);
  });

  it('turns rows about deliveries stored by an earlier file into facts, as the main thread does', async () => {
    const a = join(tmp.dir, 'a.csv');
    await generateTrace(6_000, a, 12);
    // The same deliveries again, now from an outside sender (counted, not candidates): facts of stored ones.
    const [header, ...rows] = lines(a);
    const again = rows.map((l) =>
      l.replace(/"[^"@]*@contoso\.(com|co\.uk)","([^"]*)","/, '"x@partner.example","$2","'),
    );
    const b = join(tmp.dir, 'b.csv');
    writeFileSync(b, `${[header, ...again].join('\r\n')}\r\n`);
    const r = await sameBothWays([a, b]);
    expect(r.main!.tables.fact!.length).toBeGreaterThan(500);
    // The worker asked the store: the rows about stored deliveries came whole, no fallback was needed.
    expect(r.worker!.readers).toEqual(['worker', 'worker']);
  });

  it('falls back to the main thread when a counted row meets a delivery stored earlier in the same file', async () => {
    const file = join(tmp.dir, 'dup.csv');
    await generateTrace(8_000, file, 13);
    const [header, ...rows] = lines(file);
    // A bad row early, then, far below, a copy of an early internal row with an outside sender.
    const internalRow = rows.findIndex((l) => /^(?:"[^"]*",){6}"[^"]*@contoso\.com","[^"]*@contoso\.com"/.test(l));
    expect(internalRow).toBeGreaterThanOrEqual(0);
    rows[3] = rows[3]!.replace(/"\d+\/\d+\/\d{4} [^"]*"/, '"not a date"');
    const copy = rows[internalRow]!.replace(/"[^"@]*@contoso\.com","([^"]*@contoso\.com)"/, '"x@partner.example","$1"');
    rows.splice(7_000, 0, copy);
    writeFileSync(file, `${[header, ...rows].join('\r\n')}\r\n`);
    const r = await sameBothWays([file]);
    expect(r.errors).toHaveLength(1);
    expect(r.main!.tables.fact!.length).toBe(1);
    expect(r.worker!.readers).toEqual(['worker, then main']);
  });

  it('reports malformed lines (one field, a short unquoted line) by row, as the main thread does', async () => {
    const file = join(tmp.dir, 'broken.csv');
    await generateTrace(12_000, file, 16);
    const [header, ...rows] = lines(file);
    rows.splice(9_000, 0, '"lonely"');
    rows.splice(10_500, 0, '"x",broken');
    writeFileSync(file, `${[header, ...rows].join('\r\n')}\r\n`);
    const r = await sameBothWays([file]);
    expect(r.errors).toEqual([
      '9001: wrong column count on line 9002: 1 field(s) where the header has 13',
      '10501: wrong column count on line 10502: 2 field(s) where the header has 13',
    ]);
    const f = (r.main!.summaries[0] as { files: { read: number; rejected: number }[] }).files[0]!;
    expect(f).toMatchObject({ read: 12_002, rejected: 2 });
    expect(r.worker!.readers).toEqual(['worker']);
  });

  it('reads day-first dates in the worker as the main thread does, to the days of the en-US export', async () => {
    const generated = join(tmp.dir, 'generated.csv');
    await generateTrace(20_000, generated, 15);
    // The generated rows span hours of one day: spread them over 1-9 July (dates that read both ways), written
    // once as en-US does and once as en-GB does.
    const pad = (n: string | number) => String(n).padStart(2, '0');
    const US_DATE = /"(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)"/g;
    const text = readFileSync(generated, 'utf8');
    const us = join(tmp.dir, 'us.csv');
    const gb = join(tmp.dir, 'gb.csv');
    writeFileSync(
      us,
      text.replace(
        US_DATE,
        (_m, mo, _d, y, h, mi, sec, ap) => `"${mo}/${1 + (Number(h) % 9)}/${y} ${h}:${mi}:${sec} ${ap}"`,
      ),
    );
    writeFileSync(
      gb,
      text.replace(
        US_DATE,
        (_m, mo, _d, y, h, mi, sec, ap) =>
          `"${pad(1 + (Number(h) % 9))}/${pad(mo)}/${y} ${pad((Number(h) % 12) + (ap === 'PM' ? 12 : 0))}:${mi}:${sec}"`,
      ),
    );
    const usDb = join(tmp.dir, 'us.db');
    await (await lib())([us], { db: usDb, profile: profile() });
    const r = await sameBothWays([gb]);
    const want = tables(usDb);
    for (const t of ['bucket', 'delivery', 'message', 'source_stat']) expect(r.worker.tables[t], t).toEqual(want[t]);
    expect(r.worker.readers).toEqual(['worker']);
  });

  it('rejects a cut last record in the worker as the main thread does', async () => {
    const file = join(tmp.dir, 'cut.csv');
    await generateTrace(3_000, file, 14);
    writeFileSync(file, `${readFileSync(file, 'utf8')}"open quote,never closed\r\n`);
    const { errors } = await sameBothWays([file]);
    expect(errors).toEqual([
      '3001: malformed CSV on line 3002: a quoted field is not closed at the end of the file (a cut export?)',
    ]);
  });

  it('reports a read error in the worker as the main thread does', async () => {
    const file = join(tmp.dir, 'stray.csv');
    await generateTrace(3_000, file, 14);
    // A record over the size limit (what a stray quote early in a file makes): the file stops there.
    const text = lines(file);
    text[100] = `${text[100]!.slice(0, -1)}${'x'.repeat(30_000)}"`;
    writeFileSync(file, `${text.join('\r\n')}\r\n`);
    const r = await bothWays([file], undefined, { maxRecordBytes: 20_000 });
    expect(r.worker!.summaries).toEqual(r.main!.summaries);
    const f = (r.main!.summaries[0] as { files: { status: string; error: string }[] }).files[0]!;
    expect(f.status).toBe('error');
    expect(f.error).toBe('row 100: line 101: record longer than 20000 bytes (unterminated quote?)');
  });
});
