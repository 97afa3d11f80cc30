/**
 * The message inputs of `dsguard analyze`: files, folders (recursive), mbox files (one result per message,
 * `file#n`), Outlook .msg, pasted header text, and stdin (`-`). Results stream in input order; a bad input
 * yields an error result naming it, never an exception.
 * @module
 */
import {
  closeSync,
  createReadStream,
  type Dirent,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { type Failure, failure, ok, type Result } from '../core/result.js';
import { ioErrorText } from './io-error.js';
import type { ReaderLimits } from './limits.js';
import { type ContentAnalyzer, evidenceFromRfc822, headerEnd, type ParseResult } from './rfc822.js';
import { type MessageKind, sniffKind } from './sniff.js';

export interface InputResult {
  input: string;
  result: ParseResult;
}

export interface LoadOptions {
  headersOnly: boolean;
  limits: ReaderLimits;
  /** Standard input, for `-` (injectable for tests). */
  stdin?: NodeJS.ReadableStream;
  /** Told about files found in folders that are not messages (they are passed over, not errors). */
  onSkip?: (input: string, reason: string) => void;
}

export interface ReadOptions extends LoadOptions {
  analyzers?: readonly ContentAnalyzer[];
}

const SKIPPED_NAMES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

/** An entry of a folder that is passed over, and why (said on stderr: a folder never drops a file silently). */
interface WalkSkip {
  path: string;
  reason: string;
}

/**
 * Files below `dir`, recursively, in name order; hidden files and OS litter left out (documented). Anything else
 * that is not read — a symbolic link (not followed: it could lead out of the folder or round in a loop), a
 * device or socket, a folder that cannot be listed — is handed on as a {@link WalkSkip}.
 */
function* walk(dir: string): Generator<string | WalkSkip> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (error) {
    yield { path: dir, reason: `folder cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || SKIPPED_NAMES.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
    else if (e.isSymbolicLink()) yield { path: p, reason: 'symbolic link: not followed (name its target instead)' };
    else yield { path: p, reason: 'not a regular file' };
  }
}

/** All of a stream, or a failure: `input` when it holds more than `max` bytes, `io` when it cannot be read. */
async function readBounded(
  stream: NodeJS.ReadableStream,
  max: number,
  what: string,
): Promise<Result<{ bytes: Buffer }>> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += b.length;
      if (total > max) return failure('input', `${what} exceeds ${max} bytes`);
      chunks.push(b);
    }
  } catch (error) {
    return failure('io', (error as Error).message);
  }
  return ok({ bytes: Buffer.concat(chunks) });
}

const HEAD_CHUNK = 32 * 1024;
/** Reused for the first read of every file in --headers-only mode: the header bytes are copied out of it. */
const sharedHead = Buffer.allocUnsafe(HEAD_CHUNK);

/** What the read-ahead stage hands to the parser: bytes, a lazily streamed mbox, or an error. */
type Loaded =
  | { kind: 'bytes'; path: string; buf: Buffer }
  | { kind: 'mbox'; path: string }
  | { kind: 'error'; path: string; error: string }
  | { kind: 'skip'; path: string; reason: string };

/** The kind of a file by its first bytes; `unknown` when it cannot be read. */
export function sniffFile(path: string): MessageKind {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const n = readSync(fd, sharedHead, 0, 8192, 0);
    return sniffKind(sharedHead.subarray(0, n));
  } catch {
    return 'unknown';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * One open, one fstat, as few reads as possible: with --headers-only only the header block is read (an
 * Outlook .msg is read whole: its headers live inside the compound file); otherwise the whole file,
 * bounded by maxMessageBytes. Synchronous on purpose: for many small reads from local disks the thread
 * pool round trips of the async API cost more than the reads themselves.
 */
function load(path: string, opts: LoadOptions): Loaded {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    if (size === 0) return { kind: 'skip', path, reason: 'empty file' };
    const headRead = readSync(fd, sharedHead, 0, Math.min(size, HEAD_CHUNK), 0);
    const head = sharedHead.subarray(0, headRead);
    const kind = sniffKind(head.subarray(0, 8192));
    if (kind === 'mbox') return { kind: 'mbox', path };
    if (kind === 'unknown') {
      return { kind: 'skip', path, reason: 'not a mail message (no header fields; binary or unknown content)' };
    }
    if (!opts.headersOnly || kind === 'msg') {
      // The whole file, size checked before anything is allocated.
      if (size > opts.limits.maxMessageBytes) {
        return {
          kind: 'error',
          path,
          error: `file is ${size} bytes, over the ${opts.limits.maxMessageBytes}-byte limit`,
        };
      }
      const buf = Buffer.allocUnsafe(size);
      head.copy(buf, 0);
      let total = headRead;
      while (total < size) {
        const n = readSync(fd, buf, total, size - total, total);
        if (n === 0) break;
        total += n;
      }
      return { kind: 'bytes', path, buf: buf.subarray(0, total) };
    }
    // Header block only: usually complete within the first read, copied out of the shared buffer.
    const end = headerEnd(head);
    if (end > 0) return { kind: 'bytes', path, buf: Buffer.from(head.subarray(0, end)) };
    const target = Math.min(size, opts.limits.maxHeaderBytes + 4);
    const chunks = [Buffer.from(head)];
    let total = headRead;
    while (total < target && headerEnd(chunks[chunks.length - 1]!) < 0) {
      const next = Buffer.allocUnsafe(Math.min(HEAD_CHUNK, target - total));
      const n = readSync(fd, next, 0, next.length, total);
      if (n === 0) break;
      chunks.push(next.subarray(0, n));
      total += n;
    }
    return { kind: 'bytes', path, buf: Buffer.concat(chunks, total) };
  } catch (error) {
    return {
      kind: 'error',
      path,
      error: `cannot read: ${ioErrorText(error)}`,
    };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** A message's bytes as read, before parsing, or why it could not be read. */
export type RawInput = { input: string; bytes: Buffer } | { input: string; error: string };

async function* loadFiles(
  paths: Iterable<string | WalkSkip>,
  opts: LoadOptions,
  walked: boolean,
): AsyncGenerator<RawInput> {
  for (const path of paths) {
    if (typeof path !== 'string') {
      opts.onSkip?.(path.path, path.reason);
      continue;
    }
    const loaded = load(path, opts);
    if (loaded.kind === 'skip') {
      // A file found by walking a folder that is not a message (a README, a CSV, a picture) is passed over
      // and said so; one the user named is an error.
      if (walked) opts.onSkip?.(loaded.path, loaded.reason);
      else yield { input: loaded.path, error: loaded.reason };
    } else if (loaded.kind === 'error') yield { input: loaded.path, error: loaded.error };
    else if (loaded.kind === 'mbox') {
      yield* mboxInputs(createReadStream(loaded.path, { highWaterMark: 1024 * 1024 }), loaded.path, opts);
    } else yield { input: loaded.path, bytes: loaded.buf };
  }
}

/** Parse one message's bytes (an .eml, header text, or an Outlook .msg) into evidence. */
export async function parseMessageBytes(buf: Uint8Array, input: string, opts: ReadOptions): Promise<ParseResult> {
  const kind = sniffKind(buf.subarray(0, 8192));
  if (kind === 'msg') {
    // Imported on the first .msg only: it brings the content sandbox and its analysers (about 50 ms of start-up
    // CPU that `analyze --headers-only` of .eml files never needs).
    const { evidenceFromMsg } = await import('./outlook-msg.js');
    return evidenceFromMsg(buf, {
      input,
      headersOnly: opts.headersOnly,
      limits: opts.limits,
      ...(opts.analyzers ? { analyzers: opts.analyzers } : {}),
    });
  }
  if (kind === 'unknown') {
    return buf.length === 0
      ? { status: 'error', kind: 'input', error: 'empty input' }
      : { status: 'error', kind: 'input', error: 'not a mail message (no header fields; binary or unknown content)' };
  }
  return evidenceFromRfc822(buf, {
    input,
    sourceKind: kind === 'headers' ? 'headers' : kind === 'mbox' ? 'mbox' : 'eml',
    headersOnly: opts.headersOnly,
    limits: opts.limits,
    ...(opts.analyzers ? { analyzers: opts.analyzers } : {}),
  });
}

/** Split an mbox stream into messages at `From ` lines that follow a blank line (or start the file). */
export async function* mboxMessages(
  stream: NodeJS.ReadableStream,
  maxMessage: number,
): AsyncGenerator<Buffer | Failure> {
  let pending: Buffer = Buffer.alloc(0);
  let oversize = false;
  const emit = function* (msg: Buffer): Generator<Buffer | Failure> {
    if (oversize) yield failure('input', `message exceeds ${maxMessage} bytes`);
    else if (msg.length > 0) yield msg;
    oversize = false;
  };
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    pending = pending.length === 0 ? b : Buffer.concat([pending, b]);
    let searchFrom = 1;
    for (;;) {
      const idx = pending.indexOf('\nFrom ', searchFrom);
      if (idx < 0) break;
      const msg = pending.subarray(0, idx + 1);
      yield* emit(msg);
      pending = pending.subarray(idx + 1);
      searchFrom = 1;
    }
    if (pending.length > maxMessage) {
      // Keep only the tail that may hold the start of the next separator.
      oversize = true;
      pending = pending.subarray(pending.length - 6);
    }
  }
  yield* emit(pending);
}

/** Every message of the given paths as bytes, in order: files, folders (recursive), mbox messages, stdin. */
export async function* loadInputs(paths: readonly string[], opts: LoadOptions): AsyncGenerator<RawInput> {
  for (const p of paths) {
    if (p === '-') {
      const stdin = opts.stdin ?? process.stdin;
      const read = await readBounded(stdin, opts.limits.maxMessageBytes, 'standard input');
      if (read.status === 'error') {
        yield { input: '-', error: read.error };
        continue;
      }
      const buf = read.bytes;
      if (sniffKind(buf.subarray(0, 8192)) === 'mbox')
        yield* mboxInputs(process.getBuiltinModule('node:stream').Readable.from([buf]), '-', opts);
      else yield { input: '-', bytes: buf };
      continue;
    }
    let info: Stats;
    try {
      info = statSync(p);
    } catch (error) {
      yield { input: p, error: `cannot read: ${ioErrorText(error)}` };
      continue;
    }
    const dir = info.isDirectory();
    yield* loadFiles(dir ? walk(p) : [p], opts, dir);
  }
}

/** Load and parse every message of the given paths, in order. */
export async function* readInputs(paths: readonly string[], opts: ReadOptions): AsyncGenerator<InputResult> {
  for await (const raw of loadInputs(paths, opts)) {
    if ('error' in raw) yield { input: raw.input, result: { status: 'error', kind: 'io', error: raw.error } };
    else {
      let result: ParseResult;
      try {
        result = await parseMessageBytes(raw.bytes, raw.input, opts);
      } catch (error) {
        // One input never takes the batch down: its error record, and on with the rest.
        result = {
          status: 'error',
          kind: 'input',
          error: `analysis failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      yield { input: raw.input, result };
    }
  }
}

async function* mboxInputs(stream: NodeJS.ReadableStream, input: string, opts: LoadOptions): AsyncGenerator<RawInput> {
  let n = 0;
  for await (const item of mboxMessages(stream, opts.limits.maxMessageBytes)) {
    n++;
    const name = `${input}#${n}`;
    if (Buffer.isBuffer(item)) yield { input: name, bytes: item };
    else yield { input: name, error: item.error };
  }
}
