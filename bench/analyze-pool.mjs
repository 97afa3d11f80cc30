#!/usr/bin/env node
// What the analyze pool costs a whole process: `dsguard analyze --jobs 2` over a folder of N messages (the six
// sample messages repeated; full analysis, as users run it) against `--jobs 1` (no pool), interleaved in the same
// run so that a busy machine slows both alike. Prints min/median/max wall time of each over the runs.
// `--bin` adds another build's bin/dsguard.js (e.g. a checkout from before the pool moved from worker threads to
// worker processes), measured in the same interleaving.
//   npm run build && node bench/analyze-pool.mjs [--files 200] [--runs 7] [--bin /path/to/other/bin/dsguard.js]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stats, timeNode } from './process-time.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '200' },
    runs: { type: 'string', default: '7' },
    bin: { type: 'string', multiple: true, default: [] },
  },
});
const FILES = Number(values.files);
const RUNS = Number(values.runs);
const DIR = join(root, `bench/.data/analyze-pool-${FILES}`);

mkdirSync(DIR, { recursive: true });
if (readdirSync(DIR).length !== FILES) {
  const samples = readdirSync(join(root, 'samples/messages')).map((f) =>
    readFileSync(join(root, 'samples/messages', f)),
  );
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(DIR, `m${String(i).padStart(5, '0')}.eml`), samples[i % samples.length]);
}

const bins = [['this build', join(root, 'bin/dsguard.js')], ...values.bin.map((b) => [b, b])];
const cases = bins.flatMap(([label, bin]) => [
  { name: `${label}: analyze --jobs 1`, argv: [bin, 'analyze', DIR, '--jobs', '1', '--format', 'json'] },
  { name: `${label}: analyze --jobs 2`, argv: [bin, 'analyze', DIR, '--jobs', '2', '--format', 'json'] },
]);

// CPU time (user + system, the process and its workers) too where GNU time is installed: on a shared machine it
// varies less than wall time. Exit 1 (findings) is a normal result here.
const measure = (argv) => {
  const { wall, cpu, stdout } = timeNode(argv, { stdout: 'pipe', okStatus: [0, 1], env: process.env });
  return { wall, cpu, out: stdout };
};

const times = cases.map(() => []);
const cpus = cases.map(() => []);
const outputs = cases.map(() => new Set());
for (let run = 0; run < RUNS; run++) {
  cases.forEach((c, i) => {
    const { wall, cpu, out } = measure(c.argv);
    times[i].push(wall);
    cpus[i].push(cpu);
    outputs[i].add(out);
  });
}

const fmt = (ms) => `${Math.round(ms).toLocaleString('en-US')} ms`;
console.log(`${FILES} messages, ${RUNS} runs each (interleaved), node ${process.version}`);
console.log('| command | wall min | wall median | wall max | CPU median |');
console.log('| --- | --- | --- | --- | --- |');
cases.forEach((c, i) => {
  const { min, median, max } = stats(times[i]);
  console.log(`| ${c.name} | ${fmt(min)} | ${fmt(median)} | ${fmt(max)} | ${fmt(stats(cpus[i]).median)} |`);
});
// Every case must print the same records (--jobs changes scheduling only).
const distinct = new Set(outputs.flatMap((o) => [...o]));
if (distinct.size !== 1) {
  console.error(`outputs differ between cases or runs (${distinct.size} distinct)`);
  process.exitCode = 1;
}
