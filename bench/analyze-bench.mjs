// Benchmark: `dsguard analyze` on a folder of .eml files, against postal-mime's full parse of the same
// files measured in the same run. Prints the ratios the foundation issue sets as targets:
//   --headers-only analysis ≥ 20× faster than a full postal-mime parse;
//   full parse and core rules (as `--no-content --no-geoip`: the optional content and IP-origin families are
//   benchmarked apart, in content-bench.mjs) no slower than postal-mime's full parse alone.
// Usage: npm run build && node bench/analyze-bench.mjs [--files 2000] [--rounds 3]
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import PostalMime from 'postal-mime';
import { analyzeInputs } from '../dist/analyze/analyze.js';
import { analyzeInputsParallel } from '../dist/analyze/analyze-parallel.js';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
});
const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);
const DIR = 'bench/.data/analyze';
const FIXTURES = 'test/fixtures/analyze';

function prepare() {
  mkdirSync(DIR, { recursive: true });
  if (readdirSync(DIR).length === FILES) return;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const sources = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(FIXTURES, f), 'latin1'));
  // A realistic export: headers as delivered plus a 60-200 KB attachment (typical PDF/image lure size).
  for (let i = 0; i < FILES; i++) {
    const src = sources[i % sources.length];
    const [head] = src.split('\r\n\r\n');
    const size = 60_000 + ((i * 7919) % 140_000);
    const payload = Buffer.alloc(size);
    for (let j = 0; j < size; j++) payload[j] = (j * 31 + i) & 0xff;
    const b64 = payload.toString('base64').replace(/.{76}/g, '$&\r\n');
    const headNoCt = head
      .split('\r\n')
      .filter((l) => !/^(content-type|mime-version):/i.test(l) && !/^\s+boundary=/i.test(l))
      .join('\r\n');
    const msg = `${headNoCt}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYou have a new voice message.\r\n--b${i}\r\nContent-Type: application/pdf; name="VM_${i}.pdf"\r\nContent-Disposition: attachment; filename="VM_${i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b${i}--\r\n`;
    writeFileSync(join(DIR, `m${String(i).padStart(6, '0')}.eml`), msg, 'latin1');
  }
}

async function postalMimeFull(files) {
  for (const f of files) await PostalMime.parse(await readFile(f));
}

async function dsguard(headersOnly) {
  let n = 0;
  for await (const r of analyzeInputs([DIR], { profile: null, headersOnly })) if (!('error' in r)) n++;
  if (n !== FILES) throw new Error(`analyzed ${n} of ${FILES}`);
}

const JOBS = Math.min(availableParallelism(), 4);

async function dsguardParallel() {
  let n = 0;
  const config = { profile: null, headersOnly: false, limits: {}, extras: null };
  for await (const r of analyzeInputsParallel([DIR], config, { jobs: JOBS })) if (!('error' in r)) n++;
  if (n !== FILES) throw new Error(`analyzed ${n} of ${FILES}`);
}

/** Best wall time and best CPU time (this process, all threads) over ROUNDS runs, in ms. */
async function best(fn) {
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall = Math.min(wall, performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

prepare();
const files = readdirSync(DIR)
  .sort()
  .map((f) => join(DIR, f));
const bytes = files.reduce((s, f) => s + readFileSync(f).length, 0);
// Warm up every subject first: the figures are for a long export, not for the JIT's first minutes.
await postalMimeFull(files);
await dsguard(true);
await dsguard(true);
await dsguard(false);
await dsguardParallel();
const ref = await best(() => postalMimeFull(files));
const fast = await best(() => dsguard(true));
const full = await best(() => dsguard(false));
const parallel = await best(() => dsguardParallel());
const mb = bytes / 1024 / 1024;
const line = (name, ms) =>
  `${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms  ${((FILES / ms) * 1000).toFixed(0).padStart(7)} msg/s  ${(mb / (ms / 1000)).toFixed(1).padStart(7)} MB/s`;
console.log(`analyze bench: ${FILES} .eml files, ${mb.toFixed(1)} MB, best of ${ROUNDS}`);
console.log(line('reference: postal-mime full parse', ref.wall));
console.log(line('dsguard analyze --headers-only', fast.wall));
console.log(line('dsguard analyze (core rules, one thread)', full.wall));
console.log(line(`dsguard analyze (core rules, --jobs ${JOBS})`, parallel.wall));
// Targets are judged on wall time, what a user waits for. CPU time (this process, all threads: it includes
// V8's concurrent GC threads) is printed too, as a check when other work shares the machine's two cores.
const r = (a, b) => (a / b).toFixed(2);
console.log(
  `cpu time (ms): reference ${ref.cpu.toFixed(0)}, headers-only ${fast.cpu.toFixed(0)}, full one thread ${full.cpu.toFixed(0)}`,
);
const speedupWall = ref.wall / fast.wall;
const speedupCpu = ref.cpu / fast.cpu;
console.log(
  `headers-only speed-up vs postal-mime: ${speedupWall.toFixed(1)}x wall, ${speedupCpu.toFixed(1)}x cpu (target >= 20x wall) ${speedupWall >= 20 ? 'OK' : 'MISSED'}`,
);
console.log(
  `core-rule analysis, one thread / postal-mime: ${r(full.wall, ref.wall)} wall, ${r(full.cpu, ref.cpu)} cpu`,
);
const fullRatio = parallel.wall / ref.wall;
console.log(
  `core-rule analysis on the default worker pool (--jobs ${JOBS}) / postal-mime: ${fullRatio.toFixed(2)} wall (target <= 1.00) ${fullRatio <= 1 ? 'OK' : 'MISSED'}`,
);
