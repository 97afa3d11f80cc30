/**
 * Parallel message analysis over worker threads, for large exports. The main thread reads the inputs (files,
 * folders, mbox messages) in order and hands each message's bytes to a pool of workers; results come back
 * in any order and are yielded in input order. In-flight messages are bounded (memory stays flat on any
 * export size). The same readers, rules and results as the sequential path: only the scheduling differs.
 *
 * One message per worker at a time, so that a worker that dies (out of heap, a fatal error) takes exactly one
 * input with it: that input gets an error record, the worker is replaced, and every other input still gets its
 * result, in order. (Decoding of attachments runs one level further down, in each worker's content sandbox.)
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

/** `fatal`: the worker could not set itself up (a bad setting, not a bad input): the run stops. */
export type AnalyzeWorkerReply = { seq: number; result: AnalyzeResult } | { seq: number; fatal: string };

/** V8 heap of one analysis worker (MiB): a message is at most 64 MiB; attachments decode in the sandbox. */
const WORKER_HEAP_MB = 1024;

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
  /** The worker script (tests substitute one that crashes on purpose). */
  workerUrl: URL = WORKER_URL,
): AsyncGenerator<AnalyzeResult> {
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new TypeError(`jobs must be a positive integer, got ${jobs}`);
  const done = new Map<number, AnalyzeResult>();
  /** Jobs read but not yet given to a worker, in input order. */
  const queue: AnalyzeJob[] = [];
  const maxInFlight = jobs * 4;
  let inFlight = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let deaths = 0;
  let replies = 0;
  let closing = false;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  interface Slot {
    worker: Worker;
    job: AnalyzeJob | null;
  }
  const slots: Slot[] = [];
  const finish = (slot: Slot, result: AnalyzeResult) => {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    inFlight--;
    done.set(job.seq, result);
    dispatch();
    notify();
  };
  const start = (slot: Slot) => {
    const w = new Worker(workerUrl, {
      workerData: config,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    slot.worker = w;
    let gone = false;
    const died = (why: string) => {
      if (gone || closing) return;
      gone = true;
      deaths++;
      if (deaths > jobs * 2 && replies === 0) {
        // Workers that die before ever answering are broken, not hurt by an input: stop the run.
        failure ??= new Error(`analysis workers keep stopping: ${why}`);
        notify();
        return;
      }
      // A fresh worker in its place (also when it died idle, so no job is ever posted to a dead one); the input
      // it was analysing gets its error record, and the run goes on with the rest.
      start(slot);
      const job = slot.job;
      if (job) finish(slot, { input: job.input, error: `analysis stopped on this input: ${why}` });
      else dispatch();
    };
    w.on('message', (reply: AnalyzeWorkerReply) => {
      if (slot.worker !== w) return;
      replies++;
      if ('fatal' in reply) {
        failure ??= new Error(reply.fatal);
        notify();
        return;
      }
      finish(slot, reply.result);
    });
    w.on('error', (error: Error & { code?: string }) =>
      died(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the worker ran out of its ${WORKER_HEAP_MB} MiB heap`
          : error.message,
      ),
    );
    w.on('exit', (code) => died(`the worker exited with code ${code}`));
  };
  const dispatch = () => {
    for (const slot of slots) {
      if (slot.job || queue.length === 0) continue;
      const job = queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job, [job.bytes]);
    }
  };
  for (let i = 0; i < jobs; i++) {
    const slot = { job: null } as unknown as Slot;
    slots.push(slot);
    start(slot);
  }
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
        inFlight++;
        queue.push({ seq, input: raw.input, bytes: ownBuffer(raw.bytes) });
        dispatch();
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
    closing = true;
    for (const slot of slots) slot.job = null;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
