/**
 * Parallel message analysis over worker threads, for large exports. The main thread reads the inputs (files,
 * folders, mbox messages) in order and hands each message's bytes to a pool of workers; results come back
 * in any order and are yielded in input order. In-flight messages are bounded (memory stays flat on any
 * export size). The same readers, rules and results as the sequential path: only the scheduling differs.
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PlainProfile } from '../core/profile.js';
import { loadInputs, sniffFile } from '../sources/inputs.js';
import { type ReaderLimits, readerLimits } from '../sources/limits.js';
import type { ExtrasFlags } from './analysis-extras.js';
import type { AnalyzeResult } from './analyze.js';

/** Everything a worker needs, as plain data (the profile is re-read from its file). */
export interface AnalyzeWorkerConfig {
  /** The profile the main thread loaded, as plain data (read once, not again per worker). */
  profile: PlainProfile | null;
  headersOnly: boolean;
  limits: Partial<ReaderLimits>;
  /** Content analysis / IP origin flags; `null` for the core rules only. */
  extras: ExtrasFlags | null;
}

export interface AnalyzeJob {
  seq: number;
  input: string;
  bytes: ArrayBuffer;
}

export type AnalyzeWorkerReply = { seq: number; result: AnalyzeResult } | { seq: number; fatal: string };

const WORKER_URL = new URL('./analyze-worker.js', import.meta.url);

/** Whether the compiled worker is available (it is not when running from the TypeScript sources). */
export function parallelAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/** An mbox this large holds enough messages to be worth starting the workers for (about 0.1 s each). */
export const PARALLEL_MBOX_BYTES = 4 * 1024 * 1024;

/**
 * Whether the inputs hold enough messages for the worker pool: several inputs, a folder, or one mbox file of
 * {@link PARALLEL_MBOX_BYTES} or more. Standard input is read on one thread.
 */
export function worthParallel(paths: readonly string[]): boolean {
  if (paths.includes('-')) return false;
  if (paths.length > 1) return true;
  const path = paths[0] ?? '';
  try {
    const s = statSync(path);
    if (s.isDirectory()) return true;
    return s.isFile() && s.size >= PARALLEL_MBOX_BYTES && sniffFile(path) === 'mbox';
  } catch {
    return false;
  }
}

/** Copy a Buffer's bytes into an ArrayBuffer of their own, so it can be transferred without detaching a pool. */
function ownBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  const copy = new ArrayBuffer(b.byteLength);
  new Uint8Array(copy).set(b);
  return copy;
}

export async function* analyzeInputsParallel(
  paths: readonly string[],
  config: AnalyzeWorkerConfig,
  jobs: number,
  stdin?: NodeJS.ReadableStream,
  onSkip?: (input: string, reason: string) => void,
): AsyncGenerator<AnalyzeResult> {
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new TypeError(`jobs must be a positive integer, got ${jobs}`);
  const workers = Array.from({ length: jobs }, () => new Worker(WORKER_URL, { workerData: config }));
  const busy = new Array<number>(jobs).fill(0);
  const done = new Map<number, AnalyzeResult>();
  const maxInFlight = jobs * 4;
  let inFlight = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  workers.forEach((w, i) => {
    w.on('message', (reply: AnalyzeWorkerReply) => {
      busy[i]!--;
      inFlight--;
      if ('fatal' in reply) failure ??= new Error(reply.fatal);
      else done.set(reply.seq, reply.result);
      notify();
    });
    w.on('error', (error) => {
      failure ??= error;
      notify();
    });
    w.on('exit', (code) => {
      if (code !== 0) failure ??= new Error(`analysis worker exited with code ${code}`);
      notify();
    });
  });
  const waitForProgress = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });

  let sent = 0;
  let next = 0;
  const drainReady = function* (): Generator<AnalyzeResult> {
    while (done.has(next)) {
      const r = done.get(next)!;
      done.delete(next);
      next++;
      yield r;
    }
  };
  try {
    for await (const raw of loadInputs(paths, {
      headersOnly: config.headersOnly,
      limits: readerLimits(config.limits),
      ...(stdin ? { stdin } : {}),
      ...(onSkip ? { onSkip } : {}),
    })) {
      const seq = sent++;
      if ('error' in raw) {
        done.set(seq, { input: raw.input, error: raw.error });
      } else {
        while (inFlight >= maxInFlight && failure === null) {
          yield* drainReady();
          if (inFlight >= maxInFlight) await waitForProgress();
        }
        if (failure) throw failure;
        let target = 0;
        for (let i = 1; i < jobs; i++) if (busy[i]! < busy[target]!) target = i;
        busy[target]!++;
        inFlight++;
        const bytes = ownBuffer(raw.bytes);
        const job: AnalyzeJob = { seq, input: raw.input, bytes };
        workers[target]!.postMessage(job, [bytes]);
      }
      yield* drainReady();
    }
    while (next < sent) {
      if (failure) throw failure;
      yield* drainReady();
      if (next < sent) await waitForProgress();
    }
    if (failure) throw failure;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
