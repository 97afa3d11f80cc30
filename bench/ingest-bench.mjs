/**
 * Ingest benchmark: a generated Get-MessageTraceV2 CSV (quoted fields, commas, quotes and non-ASCII in
 * subjects), measured in one run against references on the same file:
 *   - raw read of the file (the I/O floor),
 *   - csv-parse (parse only), uDSV (parse only),
 *   - DuckDB, one thread, doing the same classification as read_csv + GROUP BY,
 *   - `dsguard ingest` end to end (parse, classify with the core rules, store in SQLite) in a child process,
 *     with its peak RSS, then `dsguard report` on the store it wrote.
 *
 * Usage (after `npm run build`):
 *   node bench/ingest-bench.mjs                      # 1,000,000 rows
 *   DSGUARD_BENCH_ROWS=10000000 node bench/ingest-bench.mjs   # the 10M-row run (minutes, ~3 GB of CSV)
 * Data is generated once into bench/.data/ (git-ignored).
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTrace, TENANT_DOMAINS } from './ingest-bench-data.mjs';
import { duckClassify } from './ingest-duckdb.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dataDir = join(here, '.data');

/** Child mode: run one measured step in a fresh process so RSS and timings are its own. */
async function child(step, args) {
  const t0 = performance.now();
  if (step === 'ingest') {
    const [file, db] = args;
    const { ingest } = await import(join(root, 'dist/ingest/ingest.js'));
    const { parseProfile } = await import(join(root, 'dist/config/profile-file.js'));
    const p = parseProfile(`tenant:\n  domains: [${TENANT_DOMAINS.join(', ')}]\n`, 'bench.yml');
    const s = await ingest([file], { db, profile: p.profile });
    const ms = performance.now() - t0;
    process.stdout.write(
      JSON.stringify({
        ms,
        read: s.read,
        stored: s.stored,
        aggregated: s.aggregated,
        rejected: s.rejected,
        maxRssMiB: process.resourceUsage().maxRSS / 1024,
      }),
    );
  } else if (step === 'report') {
    const [db] = args;
    const { tenantReportFromFile } = await import(join(root, 'dist/report/tenant-report.js'));
    const runs = [];
    let sources = 0;
    let messages = 0;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = tenantReportFromFile(db, { profile: null });
      runs.push(performance.now() - t);
      if (r.status === 'ok') {
        sources = r.report.sources.length;
        messages = r.report.totals.messages;
      }
    }
    process.stdout.write(JSON.stringify({ firstMs: runs[0], bestMs: Math.min(...runs), sources, messages }));
  }
}

function runChild(step, args) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', step, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${step} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function rawRead(file) {
  const t = performance.now();
  for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 })) {
    // read only
  }
  return performance.now() - t;
}

async function csvParse(file) {
  const { parse } = await import('csv-parse');
  const t = performance.now();
  let n = -1;
  for await (const _ of createReadStream(file).pipe(parse({ bom: true }))) n++;
  return { ms: performance.now() - t, rows: n };
}

async function udsvParse(file) {
  const { inferSchema, initParser } = await import('udsv');
  const t = performance.now();
  let n = 0;
  let parser = null;
  const dec = new TextDecoder();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const s = dec.decode(chunk, { stream: true });
    parser ??= initParser(inferSchema(s, { col: ',', row: '\r\n', encl: '"' }));
    parser.chunk(s, parser.stringArrs, () => {
      n++;
    });
  }
  parser.end();
  return { ms: performance.now() - t, rows: n };
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

async function main() {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv.slice(4));
  if (!existsSync(join(root, 'dist/ingest/ingest.js'))) {
    console.error('bench: build first (npm run build)');
    process.exit(2);
  }
  const rows = Number(process.env.DSGUARD_BENCH_ROWS ?? 1_000_000);
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `trace-v2-${rows}.csv`);
  if (!existsSync(file)) {
    const t = performance.now();
    await generateTrace(rows, file);
    console.log(`generated ${file} (${fmt(statSync(file).size / 1e6)} MB) in ${fmt(performance.now() - t)} ms`);
  }
  const size = statSync(file).size;
  console.log(
    `file: ${rows.toLocaleString('en-US')} rows, ${fmt(size / 1e6)} MB, node ${process.version}, ${execFileSync('nproc').toString().trim()} cores`,
  );

  const read = await rawRead(file);
  console.log(`raw read            ${fmt(read).padStart(8)} ms  ${fmt(size / 1e6 / (read / 1000))} MB/s`);
  const skipRefs = rows > 2_000_000 && process.env.DSGUARD_BENCH_REFS !== '1';
  let cp = null;
  let ud = null;
  let dk = null;
  if (!skipRefs) {
    cp = await csvParse(file);
    console.log(`csv-parse (parse)   ${fmt(cp.ms).padStart(8)} ms  ${fmt(cp.rows / (cp.ms / 1000))} rows/s`);
    ud = await udsvParse(file);
    console.log(`uDSV (parse)        ${fmt(ud.ms).padStart(8)} ms  ${fmt(ud.rows / (ud.ms / 1000))} rows/s`);
    dk = await duckClassify(file);
    console.log(
      `DuckDB 1 thread     ${fmt(dk.ms).padStart(8)} ms  ${fmt(rows / (dk.ms / 1000))} rows/s  (read_csv + classify + GROUP BY, ${fmt(dk.groups)} groups)`,
    );
  }
  const db = join(dataDir, `bench-${rows}.db`);
  for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
  const ing = runChild('ingest', [file, db]);
  const rate = ing.read / (ing.ms / 1000);
  console.log(
    `dsguard ingest      ${fmt(ing.ms).padStart(8)} ms  ${fmt(rate)} rows/s  (stored ${fmt(ing.stored)}, aggregated ${fmt(ing.aggregated)}, rejected ${ing.rejected}; peak RSS ${fmt(ing.maxRssMiB)} MiB; store ${fmt(statSync(db).size / 1e6)} MB)`,
  );
  const rep = runChild('report', [db]);
  console.log(
    `dsguard report      ${fmt(rep.firstMs).padStart(8)} ms  (best of 3: ${fmt(rep.bestMs)} ms; ${fmt(rep.messages)} messages, ${fmt(rep.sources)} sources)`,
  );
  console.log('');
  let missed = 0;
  const check = (ok) => {
    if (!ok) missed++;
    return ok ? 'ok' : 'MISSED';
  };
  if (dk && cp && ud) {
    const duck = rows / (dk.ms / 1000);
    const csvp = cp.rows / (cp.ms / 1000);
    console.log(
      `ingest / DuckDB single-thread: ${(rate / duck).toFixed(2)}x   target >= 0.30: ${check(rate / duck >= 0.3)}`,
    );
    console.log(
      `ingest / csv-parse parse-only: ${(rate / csvp).toFixed(2)}x   target >= 2.5: ${check(rate / csvp >= 2.5)}`,
    );
    console.log(`ingest / uDSV parse-only:      ${(rate / (ud.rows / (ud.ms / 1000))).toFixed(2)}x`);
  }
  // The memory and report targets are stated for 10,000,000 rows; smaller runs show the trend.
  const big = rows >= 10_000_000;
  console.log(
    `peak RSS ${fmt(ing.maxRssMiB)} MiB   target < 300 MiB at 10M rows: ${big ? check(ing.maxRssMiB < 300) : 'n/a'}`,
  );
  console.log(
    `report ${fmt(rep.firstMs)} ms   target < 1000 ms at 10M rows: ${big ? check(rep.firstMs < 1000) : 'n/a'}`,
  );
  process.exitCode = missed > 0 ? 1 : 0;
  if (process.env.DSGUARD_BENCH_KEEP !== '1') for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
}

await main();
