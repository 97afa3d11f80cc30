/**
 * Timing of whole processes for the benchmarks that run the CLI as users do (startup.mjs, analyze-pool.mjs,
 * ingest-process.mjs): wall time, and where GNU time is installed CPU time (user + system, the process and the
 * children it waited for) and peak RSS; min / median / max of a series.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** GNU time, or `null` where it is not installed (then CPU and RSS are NaN). */
export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Run `node argv…` and time it. `stdout`: `'pipe'` to keep it, `'ignore'` otherwise; `okStatus`: the exit codes
 * that are not a failure (any other throws with the end of stderr).
 */
export function timeNode(argv, { stdout = 'ignore', okStatus = [0], env = { ...process.env, NO_COLOR: '1' } } = {}) {
  const t = process.hrtime.bigint();
  const [cmd, full] = GNU_TIME
    ? [GNU_TIME, ['-f', '@@ %U %S %M', process.execPath, ...argv]]
    : [process.execPath, argv];
  const r = spawnSync(cmd, full, { stdio: ['ignore', stdout, 'pipe'], env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (!okStatus.includes(r.status)) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const m = /@@ ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  return {
    wall,
    cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN,
    rssMiB: m ? Number(m[3]) / 1024 : Number.NaN,
    stdout: r.stdout ?? '',
    stderr: r.stderr,
  };
}

/** Min, median and max of a series. */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}
