/**
 * `dsguard export --format parquet --out DIR`: the fixture store written as Hive-partitioned Parquet
 * (`tenant=<id>/day=<YYYY-MM-DD>/part-0.parquet`) and read back by DuckDB (`read_parquet(…, hive_partitioning =
 * true)`): every record equal to the NDJSON export's, typed columns, the same per-tenant/day/verdict counts as
 * the store and the same per-day Direct Send and internal-spoof counts as `report`; hostile tenant ids stay one
 * path component; a tenant's folder is replaced whole; without DuckDB installed, one clear error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import type { MessageRecord } from '../../src/report/message-export.js';
import {
  loadDuckDb,
  PARQUET_COLUMNS,
  tenantPathComponent,
  writeMessageParquet,
} from '../../src/report/message-parquet.js';
import { runCli } from '../helpers/cli.js';
import { distIsCurrent, fixtureFiles, fixtureProfile, openStore, tempDir } from '../ingest/helpers.js';

const PROFILE = 'test/fixtures/exports/dsguard.yml';
const TENANT = '4b8c18bd-2f9f-4227-af55-9f1061cf9c32';
let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir();
  db = join(tmp.dir, 'exp.db');
  await ingest(fixtureFiles(), { db, profile: await fixtureProfile() });
});
afterAll(() => tmp.cleanup());

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  try {
    return (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    con.closeSync();
    inst.closeSync();
  }
}

const readAll = (dir: string) =>
  `read_parquet('${join(dir, '**', '*.parquet').replace(/'/g, "''")}', hive_partitioning = true)`;

/** Every file under dir, relative, sorted. */
function tree(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tree(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

describe('dsguard export --format parquet', () => {
  it('writes tenant=/day= partitions that DuckDB reads back record for record, with typed columns', async () => {
    const out = join(tmp.dir, 'lake');
    const r = await runCli([
      'export',
      '--db',
      db,
      '--profile',
      PROFILE,
      '--no-enrich',
      '--format',
      'parquet',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = tree(out);
    expect(files.length).toBeGreaterThan(2);
    for (const f of files)
      expect(f).toMatch(new RegExp(`^tenant=${TENANT}/day=\\d{4}-\\d{2}-\\d{2}/part-0\\.parquet$`));
    // stdout lists each file with its row count.
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(files.length);

    const types = Object.fromEntries(
      (await query(`DESCRIBE SELECT * FROM ${readAll(out)}`)).map((c) => [c.column_name, c.column_type]),
    );
    expect(types).toEqual({
      schemaVersion: 'INTEGER',
      time: 'TIMESTAMP WITH TIME ZONE',
      messageId: 'VARCHAR',
      channel: 'VARCHAR',
      verdict: 'VARCHAR',
      risk: 'INTEGER',
      p1: 'VARCHAR',
      p2: 'VARCHAR',
      recipient: 'VARCHAR',
      ip: 'VARCHAR',
      country: 'VARCHAR',
      asn: 'BIGINT',
      subject: 'VARCHAR',
      findingCodes: 'VARCHAR[]',
      sourceId: 'BIGINT',
      sourceRow: 'BIGINT',
      day: 'DATE',
      tenant: 'VARCHAR',
    });

    // Record for record the same as the NDJSON export of `report --messages` (same order within a day).
    const nd = await runCli(['report', '--messages', '--db', db, '--profile', PROFILE, '--format', 'ndjson']);
    expect(nd.code).toBe(0);
    const ndjson = (await runCli(['export', '--db', db, '--profile', PROFILE, '--no-enrich'])).stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as MessageRecord);
    const back = await query(
      `SELECT tenant, strftime(day, '%Y-%m-%d') AS day, strftime(time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS iso, * EXCLUDE (tenant, day, time)
       FROM ${readAll(out)} ORDER BY day, filename, file_row_number`.replace(
        'hive_partitioning = true)',
        'hive_partitioning = true, filename = true, file_row_number = true)',
      ),
    );
    expect(back).toHaveLength(ndjson.length);
    // report --messages is the same export (enriched: country and ASN may be filled).
    const strip = (x: MessageRecord) => ({ ...x, country: null, asn: null });
    expect(
      nd.stdout
        .trimEnd()
        .split('\n')
        .map((l) => strip(JSON.parse(l) as MessageRecord)),
    ).toEqual(ndjson);
    back.forEach((b, i) => {
      const n = ndjson[i]!;
      expect(b.tenant).toBe(n.tenant);
      expect(b.day).toBe(n.time.slice(0, 10));
      expect(new Date(String(b.iso)).getTime()).toBe(new Date(n.time).getTime());
      for (const [name] of PARQUET_COLUMNS) {
        if (name === 'time') continue;
        const v = b[name];
        expect(typeof v === 'bigint' ? Number(v) : v, `${i} ${name}`).toEqual(n[name]);
      }
    });
  });

  it('counts the same messages per tenant, day and verdict as the store and the report', async () => {
    const out = join(tmp.dir, 'lake-counts');
    expect((await runCli(['export', '--db', db, '--profile', PROFILE, '--format', 'parquet', '--out', out])).code).toBe(
      0,
    );
    const fromParquet = await query(
      `SELECT tenant, strftime(day, '%Y-%m-%d') AS day, channel, verdict, count(*)::INTEGER AS n FROM ${readAll(out)}
       GROUP BY ALL ORDER BY ALL`,
    );
    const store = openStore(db);
    const stored = store.db
      .prepare(
        `SELECT ? AS tenant, substr(received_at, 1, 10) AS day, channel, verdict, count(*) AS n FROM message
         GROUP BY 2, 3, 4 ORDER BY 2, 3, 4`,
      )
      .all(TENANT);
    store.close();
    expect(fromParquet).toEqual(stored);
    const ndjson = (await runCli(['report', '--messages', '--db', db, '--profile', PROFILE])).stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as MessageRecord);
    const counts = new Map<string, number>();
    for (const r of ndjson) {
      const k = `${r.tenant}|${r.time.slice(0, 10)}|${r.channel}|${r.verdict}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(Object.fromEntries(fromParquet.map((x) => [`${x.tenant}|${x.day}|${x.channel}|${x.verdict}`, x.n]))).toEqual(
      Object.fromEntries(counts),
    );
    expect(fromParquet.filter((x) => x.channel === 'direct-send').length).toBeGreaterThan(1);

    // The report's timeline: proven Direct Send and internal spoofs per day are exactly the stored messages.
    const rep = JSON.parse((await runCli(['report', '--db', db, '--profile', PROFILE, '--format', 'json'])).stdout) as {
      timeline: { day: string; directSend: number; inferredDirectSend: number; internalSpoof: number }[];
    };
    const perDay = (channel: string) =>
      Object.fromEntries(
        Object.entries(
          fromParquet
            .filter((x) => x.channel === channel)
            .reduce<Record<string, number>>((a, x) => {
              a[String(x.day)] = (a[String(x.day)] ?? 0) + Number(x.n);
              return a;
            }, {}),
        ),
      );
    const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, n]) => n > 0));
    expect(Object.keys(perDay('direct-send')).length).toBeGreaterThan(1);
    expect(perDay('direct-send')).toEqual(
      nonZero(Object.fromEntries(rep.timeline.map((d) => [d.day, d.directSend - d.inferredDirectSend]))),
    );
    expect(perDay('internal-spoof')).toEqual(
      nonZero(Object.fromEntries(rep.timeline.map((d) => [d.day, d.internalSpoof]))),
    );
  });

  it('keeps a hostile tenant id one percent-encoded path component, read back as it was', async () => {
    const out = join(tmp.dir, 'lake-hostile');
    const hostile = ['../../escape', 'a/b=c', '.', '..', '.hidden', 'tenant=x/day=2020-01-01', 'x y%41\u202e'];
    for (const t of hostile) {
      const c = tenantPathComponent(t)!;
      expect(c).toMatch(/^[A-Za-z0-9_%-][A-Za-z0-9_.%-]*$/);
      const r = await runCli(['export', '--db', db, '--tenant', t, '--no-enrich', '--format', 'parquet', '--out', out]);
      expect(r.code, t).toBe(0);
    }
    expect(existsSync(join(tmp.dir, 'escape'))).toBe(false);
    const top = readdirSync(out).sort();
    expect(top).toHaveLength(hostile.length);
    for (const d of top) expect(d).toMatch(/^tenant=[A-Za-z0-9_%-][A-Za-z0-9_.%-]*$/);
    for (const f of tree(out)) expect(f.split('/')).toHaveLength(3);
    const tenants = (await query(`SELECT DISTINCT tenant FROM ${readAll(out)} ORDER BY tenant`)).map((x) => x.tenant);
    expect(tenants).toEqual([...hostile].sort());
    expect(tenantPathComponent('')).toBeNull();
    expect(tenantPathComponent('x'.repeat(254))).toBeNull();
    // Percent-encoding triples non-ASCII bytes: the folder name must still fit 255 bytes.
    expect(tenantPathComponent('é'.repeat(41))).toBeNull();
    expect(tenantPathComponent('é'.repeat(40))).toHaveLength(240);
  });

  it('replaces a tenant folder whole (no stale day left), and reports a record without an ISO time', async () => {
    const out = join(tmp.dir, 'lake-replace');
    const stale = join(out, `tenant=${TENANT}`, 'day=2001-01-01');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'part-0.parquet'), 'not parquet');
    const other = join(out, 'tenant=other', 'day=2001-01-01');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'keep'), 'x');
    expect((await runCli(['export', '--db', db, '--profile', PROFILE, '--format', 'parquet', '--out', out])).code).toBe(
      0,
    );
    expect(existsSync(stale)).toBe(false);
    // Deterministic: a second export writes the same bytes.
    const first = tree(out).map((f) => readFileSync(join(out, f)));
    expect((await runCli(['export', '--db', db, '--profile', PROFILE, '--format', 'parquet', '--out', out])).code).toBe(
      0,
    );
    expect(tree(out).map((f) => readFileSync(join(out, f)))).toEqual(first);
    expect(readFileSync(join(other, 'keep'), 'utf8')).toBe('x');
    expect(readdirSync(out).sort()).toEqual([`tenant=${TENANT}`, 'tenant=other']);

    const rec = (time: string, row: number): MessageRecord => ({
      schemaVersion: 1,
      time,
      tenant: 't',
      messageId: null,
      channel: 'direct-send',
      verdict: 'malicious',
      risk: 90,
      p1: null,
      p2: null,
      recipient: null,
      ip: null,
      country: null,
      asn: null,
      subject: "it's",
      findingCodes: [],
      sourceId: 1,
      sourceRow: row,
    });
    const out2 = join(tmp.dir, 'lake-bad');
    const r = await writeMessageParquet(
      [
        rec('2026-07-20T10:00:00.1234567Z', 1),
        rec('20/07/2026 10:00', 2),
        rec('2026-02-30T10:00:00Z', 3),
        rec('2026-07-20T25:00:00Z', 4),
      ],
      {
        out: out2,
        tenant: 't',
        duckdb: await loadDuckDb(),
      },
    );
    expect(r.skipped).toEqual(
      [2, 3, 4].map((sourceRow) => ({ sourceId: 1, sourceRow, reason: 'receipt time is not ISO 8601 UTC' })),
    );
    expect(r.files.map((f) => [f.day, f.rows])).toEqual([['2026-07-20', 1]]);
    const back = await query(`SELECT subject, findingCodes, epoch_us(time) AS us FROM ${readAll(out2)}`);
    expect(back).toEqual([{ subject: "it's", findingCodes: [], us: 1784541600123456n }]);
    // One day at a time; a day met again out of order gets another part file, nothing is lost.
    const out3 = join(tmp.dir, 'lake-order');
    const r3 = await writeMessageParquet(
      [rec('2026-07-20T10:00:00Z', 1), rec('2026-07-21T10:00:00Z', 2), rec('2026-07-20T11:00:00Z', 3)],
      { out: out3, tenant: 't', duckdb: await loadDuckDb() },
    );
    expect(r3.files.map((f) => [f.day, f.rows, f.path.slice(out3.length + 1)])).toEqual([
      ['2026-07-20', 1, 'tenant=t/day=2026-07-20/part-0.parquet'],
      ['2026-07-21', 1, 'tenant=t/day=2026-07-21/part-0.parquet'],
      ['2026-07-20', 1, 'tenant=t/day=2026-07-20/part-1.parquet'],
    ]);
    const rows3 = await query(
      `SELECT strftime(day, '%Y-%m-%d') AS day, sourceRow FROM ${readAll(out3)} ORDER BY sourceRow`,
    );
    expect(rows3).toEqual([
      { day: '2026-07-20', sourceRow: 1n },
      { day: '2026-07-21', sourceRow: 2n },
      { day: '2026-07-20', sourceRow: 3n },
    ]);
  });

  it('refuses parquet without --out or without a tenant, and --out with another format (exit 2)', async () => {
    const pq = ['export', '--db', db, '--format', 'parquet'];
    expect((await runCli([...pq, '--profile', PROFILE])).code).toBe(2);
    const noTenant = await runCli([...pq, '--out', join(tmp.dir, 'x')]);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toMatch(/partitions by tenant/);
    expect((await runCli(['export', '--db', db, '--out', join(tmp.dir, 'x')])).code).toBe(2);
  });

  it.runIf(distIsCurrent())('says to install @duckdb/node-api when it is not installed (exit 3)', () => {
    // A loader hook makes the package unresolvable, as in an install without the optional package.
    const hooks = join(tmp.dir, 'no-duckdb.mjs');
    writeFileSync(
      hooks,
      `export async function resolve(s, c, next) {
  if (s === '@duckdb/node-api') { const e = new Error('Cannot find package ' + s); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
  return next(s, c);
}\n`,
    );
    const reg = join(tmp.dir, 'no-duckdb-register.mjs');
    writeFileSync(reg, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        reg,
        resolve('bin/dsguard.js'),
        'export',
        '--db',
        db,
        '--tenant',
        't',
        '--format',
        'parquet',
        '--out',
        join(tmp.dir, 'y'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toMatch(/needs the optional package @duckdb\/node-api: install it/);
    expect(r.status).toBe(3);
    expect(existsSync(join(tmp.dir, 'y'))).toBe(false);
  });
});
