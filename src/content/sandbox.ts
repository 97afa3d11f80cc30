/**
 * The content sandbox: PDFs, image files and Outlook .msg containers are decoded in a worker thread started
 * with V8 heap limits (`resourceLimits`). One request runs at a time. A request that passes the deadline has
 * its worker terminated — never awaited — and the next request gets a fresh worker; a worker that runs out of
 * heap or dies takes only its request with it. The deadline is the last line of defence: the budgets that
 * decide results count work (bytes, pages, operators, pixels, sectors) and fire long before it on any hostile
 * file we know of; when it does fire, the caller records that the result is partial and why.
 *
 * Without the compiled worker (the library run from its TypeScript sources, as the unit tests do) requests run
 * in-process: the same work budgets, no deadline and no heap limit.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecoderStop } from './code-decoder.js';
import { runSandboxOp, type SandboxReplies, type SandboxRequest } from './sandbox-ops.js';

export interface SandboxOptions {
  /** Wall-clock deadline of one request (ms). */
  deadlineMs: number;
  /** V8 old-generation heap of the worker (MiB). */
  heapMb: number;
  /** The compiled worker script; `null` to run in-process. Defaults to `sandbox-worker.js` beside this module. */
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
  private worker: Worker | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly workerUrl: URL | null;
  /** Workers started so far (a replaced worker counts again); for tests and diagnostics. */
  started = 0;

  constructor(readonly options: SandboxOptions = DEFAULT_SANDBOX_OPTIONS) {
    this.workerUrl = options.workerUrl === undefined ? compiledWorker() : options.workerUrl;
  }

  /** Whether requests run in a killable worker (false: in-process). */
  get isolated(): boolean {
    return this.workerUrl !== null;
  }

  run<K extends SandboxRequest['op']>(
    req: Extract<SandboxRequest, { op: K }>,
  ): Promise<SandboxOutcome<SandboxReplies[K]>> {
    const next = this.tail.then(() => this.once(req));
    this.tail = next.catch(() => undefined);
    return next as Promise<SandboxOutcome<SandboxReplies[K]>>;
  }

  /** Stop the worker (if any). Requests after this start a new one. */
  close(): void {
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate().catch(() => undefined);
  }

  private spawn(url: URL): Worker {
    const w = new Worker(url, {
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb, maxYoungGenerationSizeMb: 32 },
      stdout: false,
      stderr: false,
    });
    this.started++;
    w.unref();
    // A worker that dies between requests is simply forgotten; the next request starts another.
    w.on('error', () => this.forget(w));
    w.on('exit', () => this.forget(w));
    return w;
  }

  private forget(w: Worker): void {
    if (this.worker === w) this.worker = null;
  }

  private async once(req: SandboxRequest): Promise<SandboxOutcome<unknown>> {
    if (!this.workerUrl) {
      try {
        return { status: 'done', value: await runSandboxOp(req) };
      } catch (error) {
        return { status: 'stopped', cause: 'crash', detail: error instanceof Error ? error.message : String(error) };
      }
    }
    this.worker ??= this.spawn(this.workerUrl);
    const w = this.worker;
    w.ref();
    return new Promise((resolve) => {
      const settle = (outcome: SandboxOutcome<unknown>) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        w.unref();
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        // Terminated, never awaited: a synchronous loop inside pdfjs or the .msg reader cannot delay us.
        this.forget(w);
        void w.terminate().catch(() => undefined);
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
      const onError = (error: Error & { code?: string }) => {
        this.forget(w);
        settle(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? { status: 'stopped', cause: 'memory', detail: `ran out of its ${this.options.heapMb} MiB heap` }
            : { status: 'stopped', cause: 'crash', detail: error.message },
        );
      };
      const onExit = (code: number) => {
        this.forget(w);
        settle({ status: 'stopped', cause: 'crash', detail: `decoder worker exited with code ${code}` });
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(req);
    });
  }
}

let shared: ContentSandbox | null = null;

/** The sandbox of this thread (one per thread: the main thread, or each analysis worker). */
export function sharedSandbox(): ContentSandbox {
  shared ??= new ContentSandbox();
  return shared;
}
