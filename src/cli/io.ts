/**
 * The CLI's world: streams and TTY facts, injectable so commands are testable in-process; and the one place
 * a failure's kind becomes an exit code.
 * @module
 */
import { type ErrorKind, type Failure, failure, type Ok, type Result } from '../core/result.js';
import { colourWanted } from './style.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Show progress on stderr (only when stderr is a TTY). */
  progress: boolean;
  env: NodeJS.ProcessEnv;
  /** Colour severities in text output (stdout a terminal, no NO_COLOR; or FORCE_COLOR). Default: no. */
  colour?: boolean;
  /** Width of the terminal stdout writes to; unset when stdout is not a terminal (tables are not fitted). */
  columns?: number;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: process.stdin builds a stream on first use, which a command reading files never needs.
    get stdin() {
      return process.stdin;
    },
    progress: process.stderr.isTTY === true,
    env: process.env,
    colour: colourWanted(process.env, process.stdout.isTTY === true),
    ...(process.stdout.isTTY && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
  };
}

/** Exit codes (DESIGN.md §6). */
export const EXIT = { ok: 0, findings: 1, usage: 2, failure: 3 } as const;

/** The exit code of a failure of this kind: 2 for `usage`, 3 for `input`, `io` and `remote`. */
export function exitCodeFor(kind: ErrorKind): number {
  return kind === 'usage' ? EXIT.usage : EXIT.failure;
}

/**
 * A {@link Failure} that ends a command: commander actions cannot return one, so they throw it and main()
 * prints its text and exits with {@link exitCodeFor} its kind.
 */
export class CommandFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.error);
  }
}

/** A bad flag or argument (kind `usage`, exit 2): shorthand for `new CommandFailure(failure('usage', …))`. */
export class UsageError extends CommandFailure {
  constructor(message: string) {
    super(failure('usage', message));
  }
}

/** The success of `r`, or throw its failure as a {@link CommandFailure}. */
export function orFail<T extends object>(r: Result<T>): Ok<T> {
  if (r.status === 'error') throw new CommandFailure(r);
  return r;
}

/** Throw a failure of `kind` with `message`. */
export function fail(kind: ErrorKind, message: string): never {
  throw new CommandFailure(failure(kind, message));
}

/** Write to a stream and wait for it to drain, so large outputs keep memory bounded. */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(text, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else stream.once('drain', resolve);
  });
}

/** A one-line progress indicator on stderr, throttled; a no-op when progress is off. */
export class Progress {
  private last = 0;
  private shown = false;
  constructor(
    private readonly io: CliIo,
    private readonly label: string,
  ) {}

  tick(done: number, total?: number): void {
    if (!this.io.progress) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const of = total ? `/${total}` : '';
    this.io.stderr.write(`\r${this.label}: ${done}${of}\u001b[K`);
  }

  done(): void {
    if (this.shown) this.io.stderr.write('\r\u001b[K');
  }
}
