/**
 * One way to fail: every expected failure is a value, `{ status: 'error', kind, error }`, next to the
 * `{ status: 'ok', … }` it replaces. `kind` says whose the problem is, and the CLI maps it to an exit code
 * (cli/io.ts `exitCodeFor`: `usage` → 2, the others → 3); nothing tells failures apart by their text.
 * Exceptions stay for programmer errors and the unrecoverable.
 * @module
 */

/**
 * - `usage`: the invocation is wrong — a flag, an argument, the profile or a file it names is invalid.
 * - `input`: the data read is bad — not an export, a malformed row, a message that is not mail.
 * - `io`: the machine failed us — a file that cannot be read or written, a store that cannot be opened.
 * - `remote`: another system failed or refused — DNS, an SMTP server, a Microsoft API.
 */
export type ErrorKind = 'usage' | 'input' | 'io' | 'remote';

export interface Failure {
  status: 'error';
  kind: ErrorKind;
  /** One line for a person: names the file, row, flag or host it is about. */
  error: string;
}

/** Success: `status: 'ok'` beside the fields of `T`. */
export type Ok<T extends object = object> = { status: 'ok' } & T;

export type Result<T extends object = object> = Ok<T> | Failure;

export function ok<T extends object>(value: T): Ok<T> {
  return { status: 'ok', ...value };
}

export function failure(kind: ErrorKind, error: string): Failure {
  return { status: 'error', kind, error };
}

/** The same failure with `prefix: ` in front of its text (a file name, a flag). */
export function prefixed(prefix: string, f: Failure): Failure {
  return { status: 'error', kind: f.kind, error: `${prefix}: ${f.error}` };
}
