#!/usr/bin/env node
/**
 * `npm run fuzz -- --minutes N [--runs R] [--seed S]`: the property tests of test/fuzz run again and again with
 * new seeds and more runs until N minutes (of wall-clock time: this is a session length, not a budget any result
 * depends on) are up. Each round is one `vitest run test/fuzz` with DSGUARD_FUZZ_SEED, DSGUARD_FUZZ_RUNS and
 * DSGUARD_FUZZ_GROWTH_RUNS set; a failing round prints its seed and the command that replays it, and the script
 * exits 1. The CI run (`npm test`) runs the same properties once with the fixed seed and small run counts of
 * test/fuzz/harness.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`fuzz: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

const minutes = option('minutes', 1);
const runs = option('runs', 2000);
let seed = option('seed', randomInt(1, 2 ** 31 - 1));
const end = Date.now() + minutes * 60_000;
let round = 0;
do {
  round++;
  const env = {
    ...process.env,
    DSGUARD_FUZZ_SEED: String(seed),
    DSGUARD_FUZZ_RUNS: String(runs),
    DSGUARD_FUZZ_GROWTH_RUNS: String(Math.max(3, Math.round(runs / 200))),
  };
  process.stdout.write(`fuzz round ${round}: seed ${seed}, ${runs} runs per property\n`);
  const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz', '--reporter=dot'], { env, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(
      `fuzz: round ${round} failed. Replay: DSGUARD_FUZZ_SEED=${seed} DSGUARD_FUZZ_RUNS=${runs} npx vitest run test/fuzz\n`,
    );
    process.exit(1);
  }
  seed = (seed * 48271) % 2147483647;
} while (Date.now() < end);
process.stdout.write(`fuzz: ${round} round(s), no failure\n`);
