/**
 * The message inputs of `dsguard analyze`: files, folders (recursive), mbox files (one result per message,
 * `file#n`), Outlook .msg, pasted header text, and stdin (`-`). Results stream in input order; a bad input
 * yields an error result naming it, never an exception.
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReaderLimits } from './limits.js';
import { evidenceFromMsg } from './outlook-msg.js';
import { type ContentAnalyzer, evidenceFromRfc822, type ParseResult } from './rfc822.js';
import { sniffKind } from './sniff.js';

export interface InputResult {
  input: string;
  result: ParseResult;
}

export interface ReadOptions {
  headersOnly: boolean;
  limits: ReaderLimits;
  analyzers?: readonly ContentAnalyzer[];
  /** Standard input, for `-` (injectable for tests). */
  stdin?: NodeJS.ReadableStream;
}

const SKIPPED_NAMES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

async function* walk(dir: string): AsyncGenerator<string> {
  const entries: { name: string; isDir: boolean; isFile: boolean }[] = [];
  const d = await opendir(dir);
  for await (const e of d) entries.push({ name: e.name, isDir: e.isDirectory(), isFile: e.isFile() });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') || SKIPPED_NAMES.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDir) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

async function readBounded(stream: NodeJS.ReadableStream, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += b.length;
    if (total > max) throw new InputError(`${what} exceeds ${max} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

class InputError extends Error {}

/** Read the first bytes of a file, up to the end of its header block (for --headers-only). */
async function readHead(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const size = 64 * 1024;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await fh.read(buf, 0, size, total);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      chunks.push(chunk);
      total += bytesRead;
      if (chunk.includes('\n\n') || chunk.includes('\r\n\r\n') || total > max) break;
      // A blank line can straddle two chunks: check the seam.
      if (chunks.length > 1) {
        const seam = Buffer.concat([chunks[chunks.length - 2]!.subarray(-3), chunk.subarray(0, 3)]);
        if (seam.includes('\n\n') || seam.includes('\r\n\r\n')) break;
      }
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}

async function parseOne(buf: Uint8Array, input: string, opts: ReadOptions, kindHint?: 'headers'): Promise<ParseResult> {
  const kind = sniffKind(buf.subarray(0, 8192));
  if (kind === 'msg') return evidenceFromMsg(buf, { input, headersOnly: opts.headersOnly, limits: opts.limits });
  if (kind === 'unknown') {
    return buf.length === 0
      ? { status: 'error', error: 'empty input' }
      : { status: 'error', error: 'not a mail message (no header fields; binary or unknown content)' };
  }
  return evidenceFromRfc822(buf, {
    input,
    sourceKind: kind === 'headers' || kindHint === 'headers' ? 'headers' : kind === 'mbox' ? 'mbox' : 'eml',
    headersOnly: opts.headersOnly,
    limits: opts.limits,
    ...(opts.analyzers ? { analyzers: opts.analyzers } : {}),
  });
}

/** Split an mbox stream into messages at `From ` lines that follow a blank line (or start the file). */
export async function* mboxMessages(stream: NodeJS.ReadableStream, maxMessage: number): AsyncGenerator<Buffer | Error> {
  let pending: Buffer = Buffer.alloc(0);
  let oversize = false;
  const emit = function* (msg: Buffer): Generator<Buffer | Error> {
    if (oversize) yield new InputError(`message exceeds ${maxMessage} bytes`);
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

export async function* readInputs(paths: readonly string[], opts: ReadOptions): AsyncGenerator<InputResult> {
  for (const p of paths) {
    if (p === '-') {
      const stdin = opts.stdin ?? process.stdin;
      let buf: Buffer;
      try {
        buf = await readBounded(stdin, opts.limits.maxMessageBytes, 'standard input');
      } catch (error) {
        yield { input: '-', result: { status: 'error', error: (error as Error).message } };
        continue;
      }
      if (sniffKind(buf.subarray(0, 8192)) === 'mbox') {
        yield* mboxResults(Readable.from([buf]), '-', opts);
      } else {
        yield { input: '-', result: await parseOne(buf, '-', opts) };
      }
      continue;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(p);
    } catch (error) {
      yield {
        input: p,
        result: {
          status: 'error',
          error: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        },
      };
      continue;
    }
    if (info.isDirectory()) {
      for await (const file of walk(p)) yield* readFile(file, opts);
    } else {
      yield* readFile(p, opts);
    }
  }
}

async function* mboxResults(
  stream: NodeJS.ReadableStream,
  input: string,
  opts: ReadOptions,
): AsyncGenerator<InputResult> {
  let n = 0;
  for await (const item of mboxMessages(stream, opts.limits.maxMessageBytes)) {
    n++;
    const name = `${input}#${n}`;
    if (item instanceof Error) yield { input: name, result: { status: 'error', error: item.message } };
    else yield { input: name, result: await parseOne(item, name, opts) };
  }
}

async function* readFile(path: string, opts: ReadOptions): AsyncGenerator<InputResult> {
  try {
    const info = await stat(path);
    const head = await readHead(path, 8192);
    const kind = sniffKind(head.subarray(0, 8192));
    if (kind === 'mbox') {
      yield* mboxResults(createReadStream(path, { highWaterMark: 1024 * 1024 }), path, opts);
      return;
    }
    if (kind === 'unknown') {
      yield {
        input: path,
        result: {
          status: 'error',
          error: info.size === 0 ? 'empty file' : 'not a mail message (no header fields; binary or unknown content)',
        },
      };
      return;
    }
    if (opts.headersOnly && kind !== 'msg') {
      const buf = await readHead(path, opts.limits.maxHeaderBytes + 4);
      yield { input: path, result: await parseOne(buf, path, opts) };
      return;
    }
    if (info.size > opts.limits.maxMessageBytes) {
      yield {
        input: path,
        result: {
          status: 'error',
          error: `file is ${info.size} bytes, over the ${opts.limits.maxMessageBytes}-byte limit`,
        },
      };
      return;
    }
    const buf = await readBounded(createReadStream(path), opts.limits.maxMessageBytes, 'file');
    yield { input: path, result: await parseOne(buf, path, opts) };
  } catch (error) {
    yield {
      input: path,
      result: {
        status: 'error',
        error: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      },
    };
  }
}

import { Readable } from 'node:stream';
