/**
 * Parallel message analysis over worker processes, for large exports. The main process reads the inputs
 * (files, folders, mbox messages) in order and hands each message's bytes to a pool of workers; results come
 * back in any order and are yielded in input order. In-flight messages are bounded (memory stays flat on any
 * export size). The same readers, rules and results as the sequential path: only the scheduling differs.
 *
 * One message per worker at a time, so that a worker that dies (out of heap, a fatal error) takes exactly one
 * input with it: that input gets an error record, the worker is replaced, and every other input still gets its
 * result, in order. (Decoding of attachments runs one level further down, in each worker's content sandbox.)
 * Child processes started with `--max-old-space-size`, as the content sandbox is, not worker threads: on
 * Node 24 a worker thread that reaches its heap limit aborts the whole process, whatever its `resourceLimits`.
 *
 * A worker that spends more than {@link WORKER_CPU_MS} of **CPU time** (its own, read from the kernel, so another
 * job's load on the machine cannot trip it) on one input is stopped the same way: the analysis budgets count work
 * and no known input comes near it; it is the last line against a runaway loop. Where the kernel does not expose
 * a process's CPU time (`/proc`, i.e. outside Linux) this limit is not applied.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exitedOutOfHeap } from '../content/child-exit.js';
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
  bytes: Uint8Array;
}

/** What the pool sends a worker process: its settings once, first, then one job at a time. */
export type AnalyzeWorkerRequest = { config: AnalyzeWorkerConfig } | { job: AnalyzeJob };

/** `fatal`: the worker could not set itself up (a bad setting, not a bad input): the run stops. */
export type AnalyzeWorkerReply = { seq: number; result: AnalyzeResult } | { seq: number; fatal: string };

/** V8 heap of one analysis worker process (MiB): a message is at most 64 MiB; attachments decode in the sandbox. */
export const WORKER_HEAP_MB = 1024;

/** CPU time one worker may spend on one input (ms) before it is stopped and the input gets an error record. */
export const WORKER_CPU_MS = 120_000;
/** How often busy workers' CPU time is read (its cost: one small /proc read per busy worker). */
const CPU_POLL_MS = 250;

const WORKER_URL = new URL('./analyze-worker.js', import.meta.url);

/**
 * A process's CPU time (user + system, ms) from `/proc/<pid>/stat`, or `null` where that is not readable. The
 * command name (field 2) may hold spaces and parentheses: the fields are counted after its last `)`.
 */
export function processCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state (3) … utime (14), stime (15), in clock ticks (USER_HZ, 100 on Linux).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) * 10;
}

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

/** Copy a Buffer's bytes out of a shared pool, so only its own bytes cross to the worker process. */
function ownBytes(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
}

interface Slot {
  child: ChildProcess;
  job: AnalyzeJob | null;
  /** The worker's CPU time (ms) when its current job was sent; `null` where it cannot be read. */
  cpuAtStart: number | null;
  /** Why the pool stopped this worker itself (reported instead of the bare exit signal). */
  stoppedFor: string | null;
}

/**
 * The worker processes, one message each at a time. A process that dies is replaced; the input it held gets
 * its error record. Results land in `done` by sequence number; `failure` is set when the run must stop.
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
  private readonly cpuTimer: NodeJS.Timeout;

  constructor(
    private readonly jobs: number,
    private readonly config: AnalyzeWorkerConfig,
    private readonly workerUrl: URL,
    private readonly heapMb: number,
    private readonly cpuMs: number,
  ) {
    for (let i = 0; i < jobs; i++) {
      const slot: Slot = { child: this.spawn(), job: null, cpuAtStart: null, stoppedFor: null };
      this.slots.push(slot);
      this.watch(slot);
    }
    this.cpuTimer = setInterval(() => this.checkCpu(), CPU_POLL_MS);
    this.cpuTimer.unref();
  }

  /** Stop a worker whose current input has used more than its CPU time. */
  private checkCpu(): void {
    for (const slot of this.slots) {
      if (!slot.job || slot.cpuAtStart === null || slot.stoppedFor || slot.child.pid === undefined) continue;
      const now = processCpuMs(slot.child.pid);
      if (now === null || now - slot.cpuAtStart <= this.cpuMs) continue;
      slot.stoppedFor = `the worker used more than ${this.cpuMs / 1000} s of CPU time on it`;
      slot.child.kill('SIGKILL');
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

  /** Stop every worker process (SIGKILL: they hold nothing to save), and wait until each has gone. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.cpuTimer);
    await Promise.all(
      this.slots.map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        return gone;
      }),
    );
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
      const { child } = slot;
      slot.cpuAtStart = child.pid === undefined ? null : processCpuMs(child.pid);
      // A send that fails means the process is going: its exit event reports the input.
      child.send({ job } satisfies AnalyzeWorkerRequest, (error) => {
        if (error && slot.child === child) child.kill('SIGKILL');
      });
    }
  }

  private spawn(): ChildProcess {
    // Loaded here, not at the top: one message, or `--jobs 1`, never starts a worker, and loading
    // child_process costs a few milliseconds of every start-up (bench/startup.mjs).
    const { fork } = process.getBuiltinModule('node:child_process');
    const child = fork(fileURLToPath(this.workerUrl), [], {
      execArgv: [`--max-old-space-size=${this.heapMb}`],
      serialization: 'advanced',
      // Nothing a worker (or V8 dying in it) prints may reach dsguard's stdout or stderr.
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    child.send({ config: this.config } satisfies AnalyzeWorkerRequest, () => undefined);
    return child;
  }

  private watch(slot: Slot): void {
    const { child } = slot;
    let gone = false;
    const died = (why: string) => {
      if (gone || this.closing || slot.child !== child) return;
      gone = true;
      child.kill('SIGKILL');
      this.deaths++;
      if (this.deaths > this.jobs * 2 && this.replies === 0) {
        // Workers that die before ever answering are broken, not hurt by an input: stop the run.
        this.failure ??= new Error(`analysis workers keep stopping: ${why}`);
        this.notify();
        return;
      }
      // A fresh process in its place (also when it died idle, so no job is ever sent to a dead one); the input
      // it was analysing gets its error record, and the run goes on with the rest.
      slot.child = this.spawn();
      slot.stoppedFor = null;
      this.watch(slot);
      const job = slot.job;
      if (job) this.finish(slot, { input: job.input, error: `analysis stopped on this input: ${why}` });
      else this.dispatch();
    };
    child.on('message', (reply: AnalyzeWorkerReply) => {
      if (slot.child !== child) return;
      this.replies++;
      if ('fatal' in reply) {
        this.failure ??= new Error(reply.fatal);
        this.notify();
        return;
      }
      this.finish(slot, reply.result);
    });
    child.on('error', (error) => died(error.message));
    child.on('exit', (code, signal) =>
      died(
        slot.stoppedFor ??
          (exitedOutOfHeap(code, signal)
            ? `the worker ran out of its ${this.heapMb} MiB heap`
            : `the worker exited with ${signal ?? `code ${code}`}`),
      ),
    );
  }
}

export interface ParallelOptions {
  /** Worker processes (each analyses one message at a time). */
  jobs: number;
  stdin?: NodeJS.ReadableStream;
  onSkip?: (input: string, reason: string) => void;
  /** V8 old-generation heap of each worker process (MiB); default {@link WORKER_HEAP_MB}. */
  heapMb?: number;
  /** The worker script (tests substitute one that crashes on purpose). */
  workerUrl?: URL;
  /** CPU time one worker may spend on one input (ms); default {@link WORKER_CPU_MS}. */
  cpuMs?: number;
}

export async function* analyzeInputsParallel(
  paths: readonly string[],
  config: AnalyzeWorkerConfig,
  options: ParallelOptions,
): AsyncGenerator<AnalyzeResult> {
  const { jobs, stdin, onSkip, heapMb = WORKER_HEAP_MB, workerUrl = WORKER_URL, cpuMs = WORKER_CPU_MS } = options;
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new TypeError(`jobs must be a positive integer, got ${jobs}`);
  if (!Number.isSafeInteger(heapMb) || heapMb < 16)
    throw new TypeError(`heapMb must be an integer ≥ 16, got ${heapMb}`);
  if (!Number.isSafeInteger(cpuMs) || cpuMs < 100) throw new TypeError(`cpuMs must be an integer ≥ 100, got ${cpuMs}`);
  const pool = new AnalysisPool(jobs, config, workerUrl, heapMb, cpuMs);
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
        pool.submit({ seq, input: raw.input, bytes: ownBytes(raw.bytes) });
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
