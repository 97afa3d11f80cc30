/**
 * The content sandbox: PDFs, image files and Outlook .msg containers are decoded in a child process started
 * with a V8 heap limit (`--max-old-space-size`). One request runs at a time. A request that passes the deadline
 * has its process killed (SIGKILL, never awaited) and the next request gets a fresh one; a process that runs
 * out of heap or dies takes only its request with it. A process, not a worker thread: V8 aborts the whole
 * process when a large allocation fails in a worker thread, whatever its `resourceLimits` (tested), so only a
 * separate process contains an out-of-memory decoder.
 *
 * The deadline is the last line of defence: the budgets that decide results count work (bytes, pages,
 * operators, pixels, sectors) and fire long before it on every hostile file we know of; when it does fire, the
 * caller records that the result is partial and why.
 *
 * Without the compiled entry (the library run from its TypeScript sources, as the unit tests do) requests run
 * in-process: the same work budgets, no deadline and no heap limit.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { positiveIntegerLimits } from '../core/limits.js';
import { exitedOutOfHeap } from './child-exit.js';
import type { DecoderStop } from './code-decoder.js';
import { runSandboxOp, type SandboxReplies, type SandboxRequest } from './sandbox-ops.js';

export interface SandboxOptions {
  /** Wall-clock deadline of one request (ms). */
  deadlineMs: number;
  /** V8 old-generation heap of the decoding process (MiB). */
  heapMb: number;
  /** The compiled entry script; `null` to run in-process. Defaults to `sandbox-worker.js` beside this module. */
  workerUrl?: URL | null;
}

export const DEFAULT_SANDBOX_OPTIONS: Required<Omit<SandboxOptions, 'workerUrl'>> = {
  deadlineMs: 15_000,
  heapMb: 512,
};

/** Why a request has no result: the deadline passed, the worker ran out of heap, or it died. */
export type SandboxStop = DecoderStop;

export type SandboxOutcome<T> = { status: 'done'; value: T } | ({ status: 'stopped' } & SandboxStop);

const DEFAULT_WORKER = new URL('./sandbox-worker.js', import.meta.url);

function compiledWorker(): URL | null {
  return DEFAULT_WORKER.protocol === 'file:' && existsSync(fileURLToPath(DEFAULT_WORKER)) ? DEFAULT_WORKER : null;
}

export class ContentSandbox {
  private child: ChildProcess | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly workerUrl: URL | null;
  readonly options: Required<Omit<SandboxOptions, 'workerUrl'>>;
  /** Processes started so far (a replaced one counts again); for tests and diagnostics. */
  started = 0;

  constructor(options: Partial<SandboxOptions> = {}) {
    const { workerUrl, ...limits } = options;
    this.options = positiveIntegerLimits('sandbox', DEFAULT_SANDBOX_OPTIONS, limits);
    this.workerUrl = workerUrl === undefined ? compiledWorker() : workerUrl;
  }

  /** Whether requests run in a killable process (false: in-process). */
  get isolated(): boolean {
    return this.workerUrl !== null;
  }

  run<K extends SandboxRequest['op']>(
    req: Extract<SandboxRequest, { op: K }>,
  ): Promise<SandboxOutcome<SandboxReplies[K]>> {
    const next = this.tail.then(() => this.once(this.workerUrl ? tight(req) : req));
    this.tail = next.catch(() => undefined);
    return next as Promise<SandboxOutcome<SandboxReplies[K]>>;
  }

  /** Stop the decoding process (if any). Requests after this start a new one. */
  close(): void {
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  private spawn(url: URL): ChildProcess {
    const c = fork(fileURLToPath(url), [], {
      execArgv: [`--max-old-space-size=${this.options.heapMb}`, '--max-semi-space-size=16'],
      serialization: 'advanced',
      // pdfjs and zxing may print warnings: never onto dsguard's stdout.
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    this.started++;
    // A process that dies between requests is simply forgotten; the next request starts another.
    c.on('exit', () => this.forget(c));
    c.on('error', () => this.forget(c));
    idle(c);
    return c;
  }

  private forget(c: ChildProcess): void {
    if (this.child === c) this.child = null;
  }

  private async once(req: SandboxRequest): Promise<SandboxOutcome<unknown>> {
    if (!this.workerUrl) {
      try {
        return { status: 'done', value: await runSandboxOp(req) };
      } catch (error) {
        return { status: 'stopped', cause: 'crash', detail: error instanceof Error ? error.message : String(error) };
      }
    }
    this.child ??= this.spawn(this.workerUrl);
    const c = this.child;
    busy(c);
    return new Promise((resolve) => {
      const settle = (outcome: SandboxOutcome<unknown>) => {
        clearTimeout(timer);
        c.off('message', onMessage);
        c.off('exit', onExit);
        c.off('error', onError);
        idle(c);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        // Killed, never awaited: a synchronous loop inside pdfjs or the .msg reader cannot delay us.
        this.forget(c);
        c.kill('SIGKILL');
        settle({
          status: 'stopped',
          cause: 'deadline',
          detail: `stopped at the ${this.options.deadlineMs} ms deadline`,
        });
      }, this.options.deadlineMs);
      const onMessage = (m: { value?: unknown; error?: string }) => {
        if (m.error !== undefined) settle({ status: 'stopped', cause: 'crash', detail: m.error });
        else settle({ status: 'done', value: m.value });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.forget(c);
        settle(
          exitedOutOfHeap(code, signal)
            ? { status: 'stopped', cause: 'memory', detail: `ran out of its ${this.options.heapMb} MiB heap` }
            : { status: 'stopped', cause: 'crash', detail: `decoder exited (${signal ?? `code ${code}`})` },
        );
      };
      const onError = (error: Error) => {
        this.forget(c);
        c.kill('SIGKILL');
        settle({ status: 'stopped', cause: 'crash', detail: error.message });
      };
      c.on('message', onMessage);
      c.on('exit', onExit);
      c.on('error', onError);
      c.send(req, (error) => {
        if (error) onError(error);
      });
    });
  }
}

/**
 * A typed array crosses to the process with its whole underlying buffer (V8's serializer): a TNEF member or an
 * attachment that is a view into a larger buffer is copied out first, so only its own bytes travel.
 */
function tight<R extends SandboxRequest>(req: R): R {
  const own = (b: Uint8Array | Uint8ClampedArray) =>
    b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
  if ('bytes' in req) return { ...req, bytes: own(req.bytes) };
  if (req.op === 'decodePixels') return { ...req, pixels: { ...req.pixels, data: own(req.pixels.data) } };
  return req;
}

/** An idle process must not keep dsguard alive; a busy one must. */
function idle(c: ChildProcess): void {
  c.unref();
  (c.channel as { unref?: () => void } | undefined)?.unref?.();
}
function busy(c: ChildProcess): void {
  c.ref();
  (c.channel as { ref?: () => void } | undefined)?.ref?.();
}

let shared: ContentSandbox | null = null;

/** The sandbox of this thread (one per thread: the main thread, or each analysis worker), each with its process. */
export function sharedSandbox(): ContentSandbox {
  shared ??= new ContentSandbox();
  return shared;
}
