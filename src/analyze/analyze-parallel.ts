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

interface Slot {
  worker: Worker;
  job: AnalyzeJob | null;
}

/**
 * The workers, one message each at a time. A worker that dies is replaced; the input it held gets its error
 * record. Results land in `done` by sequence number; `failure` is set when the run must stop.
 */
class AnalysisPool {
  readonly done = new Map<number, AnalyzeResult>();
  inFlight = 0;
  failure: Error | null = null;
  /** Jobs read but not yet given to a worker, in input order. */
  private readonly queue: AnalyzeJob[] = [];
  private readonly slots: Slot[] = [];
  private wake: (() => void) | null = null;
  private deaths = 0;
  private replies = 0;
  private closing = false;

  constructor(
    private readonly jobs: number,
    private readonly config: AnalyzeWorkerConfig,
    private readonly workerUrl: URL,
  ) {
    for (let i = 0; i < jobs; i++) {
      const slot = { job: null } as unknown as Slot;
      this.slots.push(slot);
      this.start(slot);
    }
  }

  submit(job: AnalyzeJob): void {
    this.inFlight++;
    this.queue.push(job);
    this.dispatch();
  }

  waitForProgress(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const slot of this.slots) slot.job = null;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private finish(slot: Slot, result: AnalyzeResult): void {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    this.inFlight--;
    this.done.set(job.seq, result);
    this.dispatch();
    this.notify();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job, [job.bytes]);
    }
  }

  private start(slot: Slot): void {
    const w = new Worker(this.workerUrl, {
      workerData: this.config,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    slot.worker = w;
    let gone = false;
    const died = (why: string) => {
      if (gone || this.closing) return;
      gone = true;
      this.deaths++;
      if (this.deaths > this.jobs * 2 && this.replies === 0) {
        // Workers that die before ever answering are broken, not hurt by an input: stop the run.
        this.failure ??= new Error(`analysis workers keep stopping: ${why}`);
        this.notify();
        return;
      }
      // A fresh worker in its place (also when it died idle, so no job is ever posted to a dead one); the input
      // it was analysing gets its error record, and the run goes on with the rest.
      this.start(slot);
      const job = slot.job;
      if (job) this.finish(slot, { input: job.input, error: `analysis stopped on this input: ${why}` });
      else this.dispatch();
    };
    w.on('message', (reply: AnalyzeWorkerReply) => {
      if (slot.worker !== w) return;
      this.replies++;
      if ('fatal' in reply) {
        this.failure ??= new Error(reply.fatal);
        this.notify();
        return;
      }
      this.finish(slot, reply.result);
    });
    w.on('error', (error: Error & { code?: string }) =>
      died(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the worker ran out of its ${WORKER_HEAP_MB} MiB heap`
          : error.message,
      ),
    );
    w.on('exit', (code) => died(`the worker exited with code ${code}`));
  }
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
  const pool = new AnalysisPool(jobs, config, workerUrl);
  const { done } = pool;
  const maxInFlight = jobs * 4;
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
        while (pool.inFlight >= maxInFlight && pool.failure === null) {
          yield* drainReady();
          if (pool.inFlight >= maxInFlight) await pool.waitForProgress();
        }
        if (pool.failure) throw pool.failure;
        pool.submit({ seq, input: raw.input, bytes: ownBuffer(raw.bytes) });
      }
      yield* drainReady();
    }
    while (next < sent) {
      if (pool.failure) throw pool.failure;
      yield* drainReady();
      if (next < sent) await pool.waitForProgress();
    }
    if (pool.failure) throw pool.failure;
  } finally {
    await pool.close();
  }
}
