/**
 * `dsguard export --format parquet --out DIR`: the message export ({@link MessageRecord}) as Parquet, partitioned
 * Hive-style by tenant and UTC day: `DIR/tenant=<id>/day=<YYYY-MM-DD>/part-0.parquet`. The `tenant` and `day`
 * columns live in the path (as Hive, Spark and DuckDB write and read them); every other field of the NDJSON / CSV
 * export is a typed column. The writer is DuckDB (`@duckdb/node-api`), an optional package loaded only here, on
 * first use (docs/dependencies.md says why).
 *
 * The tenant id is a path component: it is percent-encoded (every byte outside `A–Z a–z 0–9 _ -`, and a leading
 * or lone `.`), which Hive readers decode, so no tenant id can climb out of DIR, name a hidden folder or add a
 * partition level. The day comes from the stored receipt time and must be `YYYY-MM-DD`; a record whose time is
 * not ISO 8601 UTC is reported and skipped. A tenant's folder is replaced whole, so days no longer in the store
 * do not linger, and a failed export leaves the previous one in place.
 * @module
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageRecord } from './message-export.js';

/** The Parquet columns, in the export's field order (tenant is in the path). DuckDB SQL types. */
export const PARQUET_COLUMNS: readonly (readonly [keyof MessageRecord, string])[] = [
  ['schemaVersion', 'INTEGER'],
  ['time', 'TIMESTAMPTZ'],
  ['messageId', 'VARCHAR'],
  ['channel', 'VARCHAR'],
  ['verdict', 'VARCHAR'],
  ['risk', 'INTEGER'],
  ['p1', 'VARCHAR'],
  ['p2', 'VARCHAR'],
  ['recipient', 'VARCHAR'],
  ['ip', 'VARCHAR'],
  ['country', 'VARCHAR'],
  ['asn', 'BIGINT'],
  ['subject', 'VARCHAR'],
  ['findingCodes', 'VARCHAR[]'],
  ['sourceId', 'BIGINT'],
  ['sourceRow', 'BIGINT'],
];

/** Longest tenant id taken (a GUID is 36, a domain at most 253). */
const MAX_TENANT = 253;
const MAX_COMPONENT = 240;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * A tenant id as one Hive path component: percent-encoded except `A–Z a–z 0–9 _ -` and a `.` that is neither
 * first nor the whole name; null when empty or too long (over 253 characters, or over 240 bytes encoded).
 */
export function tenantPathComponent(tenant: string): string | null {
  if (tenant.length === 0 || tenant.length > MAX_TENANT) return null;
  let out = '';
  for (const b of new TextEncoder().encode(tenant)) {
    const ch = String.fromCharCode(b);
    const keep = /[A-Za-z0-9_-]/.test(ch) || (ch === '.' && out.length > 0);
    out += keep ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // `tenant=` + the component must stay one file name (255 bytes on common file systems).
  return out.length <= MAX_COMPONENT ? out : null;
}

/** A real instant whose day is `day` (no 30 February, no hour 25: DuckDB's cast would refuse the whole file). */
function validTime(time: string, day: string): boolean {
  const t = Date.parse(time);
  const d = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) && Number.isFinite(d) && new Date(d).toISOString().slice(0, 10) === day;
}

export class ParquetUnavailable extends Error {}

type DuckDb = typeof import('@duckdb/node-api');
type DuckDbValue = import('@duckdb/node-api').DuckDBValue;
type DuckDbConnection = import('@duckdb/node-api').DuckDBConnection;
/** Rows per appended data chunk (DuckDB's vector size). */
const CHUNK_ROWS = 2048;

/** Load DuckDB, or say how to get it. */
export async function loadDuckDb(): Promise<DuckDb> {
  try {
    return await import('@duckdb/node-api');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ParquetUnavailable(
        '--format parquet needs the optional package @duckdb/node-api: install it beside dsguard (npm install @duckdb/node-api)',
      );
    }
    throw new ParquetUnavailable(
      `--format parquet: @duckdb/node-api did not load (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

export interface ParquetResult {
  /** One entry per file written, by day. */
  files: { day: string; path: string; rows: number }[];
  /** Records not written, with the reason (their source file id and row). */
  skipped: { sourceId: number; sourceRow: number; reason: string }[];
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The staging table and its appender: one day's records at a time, appended a data chunk at a time. */
async function stagingTable(con: DuckDbConnection, duckdb: DuckDb) {
  // The time is staged as text and cast when written (full precision, DuckDB's own ISO parser).
  const staged = PARQUET_COLUMNS.map(([name, type]) => [name, type === 'TIMESTAMPTZ' ? 'VARCHAR' : type] as const);
  await con.run(`CREATE TABLE m (ord BIGINT, ${staged.map(([name, type]) => `"${name}" ${type}`).join(', ')})`);
  const { BIGINT, INTEGER, LIST, VARCHAR, DuckDBDataChunk, listValue } = duckdb;
  const typeOf = { BIGINT, INTEGER, VARCHAR, 'VARCHAR[]': LIST(VARCHAR) } as const;
  const types = [BIGINT, ...staged.map(([, t]) => typeOf[t as keyof typeof typeOf])];
  const select = PARQUET_COLUMNS.map(([name, type]) =>
    type === 'TIMESTAMPTZ' ? `CAST("${name}" AS TIMESTAMPTZ) AS "${name}"` : `"${name}"`,
  ).join(', ');
  let app = await con.createAppender('m');
  let columns: DuckDbValue[][] = types.map(() => []);
  let rows = 0;
  let ord = 0n;
  const flush = () => {
    if (columns[0]!.length === 0) return;
    const chunk = DuckDBDataChunk.create(types, columns[0]!.length);
    chunk.setColumns(columns);
    app.appendDataChunk(chunk);
    columns = types.map(() => []);
  };
  return {
    get rows() {
      return rows;
    },
    add(r: MessageRecord) {
      columns[0]!.push(ord++);
      staged.forEach(([name, type], k) => {
        const v = r[name];
        columns[k + 1]!.push(
          v === null
            ? null
            : type === 'VARCHAR[]'
              ? listValue(v as string[])
              : type === 'BIGINT'
                ? BigInt(v as number)
                : (v as string | number),
        );
      });
      rows++;
      if (columns[0]!.length === CHUNK_ROWS) flush();
    },
    /** Write the staged rows to `file` in the order they came, and empty the table. */
    async writeTo(file: string) {
      flush();
      app.closeSync();
      await con.run(
        `COPY (SELECT ${select} FROM m ORDER BY ord) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      await con.run('DELETE FROM m');
      app = await con.createAppender('m');
      rows = 0;
    },
    close() {
      app.closeSync();
    },
  };
}

/**
 * Write `records` (one tenant's, in receipt order) under `out`: a day is written when the next begins, so memory
 * holds one day (a day met again out of order gets `part-1.parquet`, and so on). The tenant folder is built
 * beside the final one and swapped in at the end.
 */
export async function writeMessageParquet(
  records: Iterable<MessageRecord>,
  opts: { out: string; tenant: string; duckdb: DuckDb },
): Promise<ParquetResult> {
  const component = tenantPathComponent(opts.tenant);
  if (component === null) throw new Error(`tenant id must be 1–${MAX_TENANT} characters`);
  const final = join(opts.out, `tenant=${component}`);
  const partial = join(opts.out, `.tenant=${component}.partial-${process.pid}`);
  const old = join(opts.out, `.tenant=${component}.old-${process.pid}`);
  const result: ParquetResult = { files: [], skipped: [] };
  const instance = await opts.duckdb.DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    // One thread: the same row groups and bytes whatever the machine (deterministic output).
    await con.run('SET threads = 1');
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const stage = await stagingTable(con, opts.duckdb);
    const parts = new Map<string, number>();
    let day: string | null = null;
    const writeDay = async () => {
      if (day === null || stage.rows === 0) return;
      const part = parts.get(day) ?? 0;
      parts.set(day, part + 1);
      const name = join(`day=${day}`, `part-${part}.parquet`);
      mkdirSync(join(partial, `day=${day}`), { recursive: true });
      const rows = stage.rows;
      await stage.writeTo(join(partial, name));
      result.files.push({ day, rows, path: join(final, name) });
    };
    for (const r of records) {
      const d = ISO_TIME.exec(r.time)?.[1];
      if (d === undefined || !validTime(r.time, d)) {
        result.skipped.push({
          sourceId: r.sourceId,
          sourceRow: r.sourceRow,
          reason: 'receipt time is not ISO 8601 UTC',
        });
        continue;
      }
      if (d !== day) {
        await writeDay();
        day = d;
      }
      stage.add(r);
    }
    await writeDay();
    stage.close();
    const hadOld = existsSync(final);
    if (hadOld) renameSync(final, old);
    try {
      renameSync(partial, final);
    } catch (e) {
      if (hadOld) renameSync(old, final);
      throw e;
    }
    rmSync(old, { recursive: true, force: true });
    return result;
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
