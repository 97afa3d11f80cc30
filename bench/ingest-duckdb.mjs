/**
 * The DuckDB reference of the ingest benchmarks (ingest-bench.mjs, ingest-process.mjs): one thread doing
 * read_csv + the classification dsguard makes of summary rows (internal sender and recipient, lure subject, day)
 * + GROUP BY, on the same generated Get-MessageTraceV2 CSV.
 * @module
 */
import { TENANT_DOMAINS } from './ingest-bench-data.mjs';

/** Subject keywords the query flags as lures. */
export const DUCK_LURES = [
  'voicemail',
  'voice mail',
  'missed fax',
  'fax-msg',
  'payroll',
  'invoice',
  'direct deposit',
  'password expir',
];

/** Run the query on `file` with one DuckDB thread; returns the query's time and the number of groups. */
export async function duckClassify(file, lures = DUCK_LURES) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await inst.connect();
  await con.run('SET threads = 1');
  const domains = TENANT_DOMAINS.map((d) => `'${d}'`).join(',');
  const sql = `
    WITH t AS (SELECT * FROM read_csv('${file.replace(/'/g, "''")}', header = true, all_varchar = true, quote = '"', escape = '"')),
    c AS (
      SELECT strptime(Received, '%m/%d/%Y %I:%M:%S %p')::DATE AS day,
        lower(split_part(SenderAddress, '@', 2)) IN (${domains}) AS p1_internal,
        lower(split_part(RecipientAddress, '@', 2)) IN (${domains}) AS rcpt_internal,
        FromIP,
        (${lures.map((l) => `contains(lower(Subject), '${l}')`).join(' OR ')}) AS lure
      FROM t)
    SELECT day, p1_internal AND rcpt_internal AS candidate, lure, FromIP, count(*) AS messages
    FROM c GROUP BY ALL`;
  const t = performance.now();
  const r = await con.runAndReadAll(sql);
  const ms = performance.now() - t;
  const groups = r.getRows().length;
  con.closeSync?.();
  return { ms, groups };
}
