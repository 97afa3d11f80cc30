#!/usr/bin/env node
// Where a whole `dsguard analyze --headers-only` process spends its time over a folder of N messages, against
// bench/analyze-bench.mjs's in-process figure (analyzeInputs alone, warm, no IP lookup, no output). Each step
// adds one thing the CLI does, measured in this process (first, cold round and best of the later rounds); then
// the whole CLI process, with the same options, in the same run.
//   npm run build && node bench/analyze-process.mjs [--files 2000] [--rounds 3]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAnalysisExtras } from '../dist/analyze/analysis-extras.js';
import { analyzeInputs } from '../dist/analyze/analyze.js';
import { renderMessageText } from '../dist/report/analyze-report.js';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
});
const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);
const DIR = `bench/.data/analyze-process-${FILES}`;

// The six sample messages (real-shaped headers, small bodies), repeated.
mkdirSync(DIR, { recursive: true });
if (readdirSync(DIR).length !== FILES) {
  const samples = readdirSync('samples/messages').map((f) => readFileSync(join('samples/messages', f)));
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(DIR, `m${String(i).padStart(5, '0')}.eml`), samples[i % samples.length]);
}

const sink = { bytes: 0 };
async function run(extras, render) {
  let n = 0;
  for await (const r of analyzeInputs([DIR], { profile: null, headersOnly: true, ...extras })) {
    if ('error' in r) throw new Error(r.error);
    n++;
    if (render === 'json') sink.bytes += JSON.stringify({ schemaVersion: 1, ...r }, null, 2).length;
    else if (render === 'table') sink.bytes += renderMessageText(r, { explain: false }).length;
  }
  if (n !== FILES) throw new Error(`analyzed ${n} of ${FILES}`);
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function rounds(fn) {
  const first = await timed(fn);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 1; r < ROUNDS; r++) best = Math.min(best, await timed(fn));
  return { first, best };
}

const noIp = { analyzers: [], extraRules: [] };
const t0 = performance.now();
const extrasResult = await buildAnalysisExtras({}, { content: false });
const extrasMs = performance.now() - t0;
const withIp = { analyzers: [], extraRules: extrasResult.extraRules };

const steps = [
  ['analyzeInputs, no IP lookup, no output (bench/)', () => run(noIp, null)],
  ['+ IP origin rules (bundled data)', () => run(withIp, null)],
  ['+ table text rendered', () => run(withIp, 'table')],
  ['+ JSON rendered', () => run(withIp, 'json')],
];
const us = (ms) => `${((ms / FILES) * 1000).toFixed(0).padStart(5)} µs`;
console.log(
  `node ${process.version}, ${FILES} messages, --headers-only; per message: first (cold) round, best of ${ROUNDS}`,
);
console.log(`loading the bundled IP data: ${extrasMs.toFixed(0)} ms (once)`);
for (const [name, fn] of steps) {
  const r = await rounds(fn);
  console.log(`${name.padEnd(48)} ${us(r.first)} cold ${us(r.best)} warm`);
}

const bin = 'bin/dsguard.js';
const whole = (args) => {
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const p = spawnSync(process.execPath, [bin, 'analyze', '--headers-only', ...args, DIR], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    if (p.status !== 0) throw new Error(`exit ${p.status}`);
    times.push(performance.now() - t);
  }
  return Math.min(...times);
};
const version = Math.min(
  ...Array.from({ length: ROUNDS }, () => {
    const t = performance.now();
    spawnSync(process.execPath, [bin, '--version'], { stdio: 'ignore' });
    return performance.now() - t;
  }),
);
for (const args of [['--no-geoip', '-f', 'json'], ['-f', 'json'], []]) {
  const ms = whole(args);
  console.log(
    `whole process ${`analyze --headers-only ${args.join(' ')}`.padEnd(40)} ${(ms / 1000).toFixed(2)} s = ${us(ms)} (${us(ms - version)} after a --version start)`,
  );
}
