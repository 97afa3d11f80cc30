/**
 * One input never takes a batch down: a worker process that exits or exhausts its heap while analysing one
 * input costs that input an error record (and the run exit 3); every other input still gets its result, in
 * order. The crash is real (test/analyze/crashing-worker.mjs wraps the compiled worker and dies on cue) and
 * so is the out-of-heap abort: V8 runs out of the heap the pool gave the process. The pool uses processes, not
 * worker threads, because on Node 24 a worker thread out of heap aborts the whole process: this test runs on
 * Node 20 here and on Node 24 in .ci/run (scripts/test-node-lts.sh).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnalyzeResult } from '../../src/analyze/analyze.js';
import { analyzeInputsParallel, processCpuMs } from '../../src/analyze/analyze-parallel.js';
import { distIsCurrent } from '../ingest/helpers.js';

const DIR = 'test/fixtures/analyze';
const tmp = mkdtempSync(join(tmpdir(), 'dsguard-crash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small heap, so that exhausting it costs this machine little; the good messages need far less. */
const HEAP_MB = 96;

async function run(names: string[], jobs: number, cpuMs?: number): Promise<AnalyzeResult[]> {
  const dir = join(tmp, `batch-${jobs}-${cpuMs ?? 'default'}`);
  mkdirSync(dir, { recursive: true });
  for (const n of names) copyFileSync(join(DIR, 'powershell-spoof-foreign-vps.eml'), join(dir, n));
  const out: AnalyzeResult[] = [];
  for await (const r of analyzeInputsParallel(
    [dir],
    { profile: null, headersOnly: false, limits: {}, extras: null },
    {
      jobs,
      heapMb: HEAP_MB,
      workerUrl: new URL('./crashing-worker.mjs', import.meta.url),
      ...(cpuMs === undefined ? {} : { cpuMs }),
    },
  )) {
    // Named by file only, everywhere in the record (evidence refs name their source too).
    const file = r.input.slice(dir.length + 1);
    out.push(JSON.parse(JSON.stringify(r).replaceAll(JSON.stringify(r.input).slice(1, -1), file)) as AnalyzeResult);
  }
  return out;
}

describe('a worker process that dies takes only its input with it', () => {
  const names = [
    'a-good.eml',
    'b-exit-me.eml',
    'c-good.eml',
    'd-oom-me.eml',
    'e-good.eml',
    'f-good.eml',
    'g-exit-me.eml',
    'h-good.eml',
  ];

  it.each([1, 2])(
    'exit and out-of-heap become error records; the rest keep their results, in order (--jobs %i)',
    async (jobs) => {
      expect(distIsCurrent(), 'dist/ is older than src/: build first').toBe(true);
      const out = await run(names, jobs);
      expect(out.map((r) => r.input)).toEqual(names);
      expect(out.filter((r) => 'error' in r).map((r) => [r.input, 'error' in r && r.error])).toEqual([
        ['b-exit-me.eml', 'analysis stopped on this input: the worker exited with code 7'],
        ['d-oom-me.eml', `analysis stopped on this input: the worker ran out of its ${HEAP_MB} MiB heap`],
        ['g-exit-me.eml', 'analysis stopped on this input: the worker exited with code 7'],
      ]);
      const good = out.filter((r) => !('error' in r));
      expect(good).toHaveLength(5);
      for (const r of good) expect(r).toMatchObject({ channel: 'direct-send' });
      // The same message gives the same result whichever process analysed it, before or after a crash.
      expect(new Set(good.map((r) => JSON.stringify(r).replaceAll(r.input, ''))).size).toBe(1);
    },
    120_000,
  );
});

describe('a worker that spins on one input is stopped by its own CPU time, not the clock', () => {
  it.skipIf(processCpuMs(process.pid) === null)(
    'the spinning input gets an error record naming the CPU limit; the others keep their results, in order',
    async () => {
      expect(distIsCurrent(), 'dist/ is older than src/: build first').toBe(true);
      const names = ['a-good.eml', 'b-loop-me.eml', 'c-good.eml', 'd-good.eml'];
      const out = await run(names, 2, 1_000);
      expect(out.map((r) => r.input)).toEqual(names);
      expect(out.filter((r) => 'error' in r).map((r) => [r.input, 'error' in r && r.error])).toEqual([
        ['b-loop-me.eml', 'analysis stopped on this input: the worker used more than 1 s of CPU time on it'],
      ]);
    },
    120_000,
  );

  it('reads a process CPU time from /proc, and it grows with the work done', () => {
    const mine = processCpuMs(process.pid);
    if (mine === null) return; // not Linux: the limit is documented as not applied
    let x = 0;
    const until = process.cpuUsage();
    while (process.cpuUsage(until).user < 300_000) x = (x * 31 + 7) % 1_000_003;
    expect(x).toBeGreaterThanOrEqual(0);
    expect(processCpuMs(process.pid)!).toBeGreaterThanOrEqual(mine + 250);
  });
});
