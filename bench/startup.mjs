#!/usr/bin/env node
// Start-up time of whole `dsguard` processes against a bare `node -e 0` measured in the same run (interleaved,
// so a busy machine slows both alike). Prints min/median/max wall time of each and the ratio of medians.
// Targets (issue #12): --version and --help within 2× node -e 0; analyze of one message --headers-only within 3×.
//   node bench/startup.mjs [--runs 15]            (needs `npm run build`)
//   node bench/startup.mjs --batch 2000           (also: analyze --headers-only over 2,000 messages, one process)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stats, timeNode } from './process-time.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'dsguard.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const runs = flag('--runs', 15);
const batch = flag('--batch', 0);
const sample = join(root, 'samples', 'messages', 'powershell-spoof-foreign-vps.eml');

const cases = [
  { name: 'node -e 0', argv: ['-e', '0'], limit: null },
  { name: 'dsguard --version', argv: [bin, '--version'], limit: 2 },
  { name: 'dsguard --help', argv: [bin, '--help'], limit: 2 },
  { name: 'dsguard analyze --headers-only (1 message)', argv: [bin, 'analyze', '--headers-only', sample], limit: 3 },
  { name: 'dsguard analyze (1 message, full)', argv: [bin, 'analyze', sample], limit: null },
];

// CPU time (user + system) too where GNU time is installed: on a shared machine it varies less than wall time.
const measure = (argv) => timeNode(argv);
const once = (argv) => measure(argv).wall;

const f = (ms) => `${ms.toFixed(0).padStart(5)} ms`;

for (const c of cases) once(c.argv); // warm the file cache
const times = cases.map(() => []);
const cpus = cases.map(() => []);
for (let i = 0; i < runs; i++) {
  cases.forEach((c, k) => {
    const m = measure(c.argv);
    times[k].push(m.wall);
    cpus[k].push(m.cpu);
  });
}
const base = stats(times[0]).median;
const cpuBase = stats(cpus[0]).median;
console.log(
  `node ${process.version}, ${runs} runs each, interleaved; min / median / max wall time of the whole process`,
);
let failed = false;
cases.forEach((c, k) => {
  const s = stats(times[k]);
  const ratio = s.median / base;
  const verdict =
    c.limit === null ? '' : ratio <= c.limit ? ` (target ≤ ${c.limit}×: ok)` : ` (target ≤ ${c.limit}×: MISSED)`;
  if (c.limit !== null && ratio > c.limit) failed = true;
  const cs = stats(cpus[k]);
  const cpuText = Number.isNaN(cs.median) ? '' : `; CPU ${f(cs.median)} ${(cs.median / cpuBase).toFixed(2)}×`;
  console.log(`${c.name.padEnd(44)} ${f(s.min)} ${f(s.median)} ${f(s.max)}  ${ratio.toFixed(2)}×${verdict}${cpuText}`);
});

if (batch > 0) {
  // N messages in a folder, analysed by one process with --headers-only: the per-message cost as users see it.
  const dir = join(root, 'bench', '.data', `startup-batch-${batch}`);
  mkdirSync(dir, { recursive: true });
  const text = readFileSync(sample);
  for (let i = 0; i < batch; i++) writeFileSync(join(dir, `m${String(i).padStart(5, '0')}.eml`), text);
  const argv = [bin, 'analyze', '--headers-only', '--format', 'json', dir];
  once(argv);
  const ts = [];
  const tc = [];
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const m = measure(argv);
    ts.push(m.wall);
    tc.push(m.cpu);
  }
  const s = stats(ts);
  const one = stats(times[3]).median;
  const c = stats(tc);
  const cpuOne = stats(cpus[3]).median;
  console.log(
    `analyze --headers-only, ${batch} messages, one process: ${f(s.min)} ${f(s.median)} ${f(s.max)}; ` +
      `${(((s.median - one) / (batch - 1)) * 1000).toFixed(0)} µs a message after start-up` +
      (Number.isNaN(c.median)
        ? ''
        : `; CPU ${f(c.min)} ${f(c.median)} ${f(c.max)}, ${(((c.median - cpuOne) / (batch - 1)) * 1000).toFixed(0)} µs a message`),
  );
}
process.exitCode = failed ? 1 : 0;
