/**
 * The rows of one export as ingest consumes them: batches in which most rows are already reduced to what
 * counting them needs (day, delivery key, channel), the rest kept whole for the full path (assessment, storage,
 * joins). Large CSV exports are read, parsed, adapted and classified in a worker thread while the main thread
 * stores the previous batch; other files are read on the main thread, every row whole.
 *
 * A row is reduced (`compact`) only when the full path would just count it: one delivery to one recipient,
 * with a message id, a class that is not kept in full, not a trace-detail row (those are kept as facts), and —
 * checked against the committed store — not a delivery stored in full before (a later row about it is a fact).
 * Everything else (errors included) travels whole and takes exactly the main-thread path.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { dayOf, deliveryHash } from '../core/delivery-key.js';
import { type PlainProfile, profileToPlain, type TenantProfile } from '../core/profile.js';
import type { Failure } from '../core/result.js';
import { type Classification, channelCode, isWorthy, keepsRowsAsFacts, type RowClassifier } from './classify.js';
import type { CountKey, ExportAdapter, FastCounter } from './exports/export-adapter.js';
import { headerIndex } from './exports/export-row.js';
import {
  CsvRecord,
  type ExportInfo,
  type ExportReaderLimits,
  type RawRow,
  type ReadProgress,
  readExportRows,
} from './exports/read-export.js';

/** Rows reduced to their count: parallel columns, in the order they occur among the batch's compact rows. */
export interface CompactRows {
  day: Int32Array;
  h: Float64Array;
  channel: Uint8Array;
}

export interface PreparedBatch {
  /** Rows in the batch (compact and whole). */
  count: number;
  /** Record number of the batch's last row (the resume point once it commits). */
  lastRow: number;
  /** Per row, 1 when it is compact; `null` when every row is whole. */
  isCompact: Uint8Array | null;
  compact: CompactRows | null;
  /** The whole rows, in order. */
  whole: RawRow[];
}

/** Where {@link compactOf} writes a row's count (when it is compact) and its classification (when made). */
export interface CompactOut {
  day: number;
  h: number;
  channel: number;
  /** The classification, when it was made (the main thread then does not classify the row again). */
  classification: Classification | null;
}

export function compactOut(): CompactOut {
  return { day: 0, h: 0, channel: 0, classification: null };
}

const fastKey: CountKey = { day: 0, h: 0, classKey: 0, classCheck: 0 };

/**
 * Whether a row is reduced to its count (`true`: `out` holds day, delivery key and channel) or must take the full
 * path. A CSV record in the plain shape the adapter's fast counter reads, of a class already seen, is decided
 * without adapting it; any other row is adapted and classified.
 */
export function compactOf(
  raw: RawRow,
  adapter: ExportAdapter,
  classifier: RowClassifier,
  storedBefore: ((day: number, h: number) => boolean) | null,
  fast: FastCounter | null,
  out: CompactOut,
): boolean {
  out.classification = null;
  if (raw.error !== undefined || keepsRowsAsFacts(adapter.format)) return false;
  let day: number;
  let h: number;
  let cls: Classification | null = null;
  if (fast !== null && raw instanceof CsvRecord && fast(raw.fields, fastKey)) {
    cls = classifier.cached(fastKey.classKey, fastKey.classCheck);
  }
  if (cls !== null) {
    day = fastKey.day;
    h = fastKey.h;
    if (isWorthy(cls)) {
      out.classification = cls;
      return false;
    }
  } else {
    let res: ReturnType<ExportAdapter['adapt']>;
    try {
      res = adapter.adapt(raw.data, { file: '', row: raw.row });
    } catch {
      return false;
    }
    if (res.status === 'error') return false;
    const a = res.row;
    if (a.messageId === null) return false;
    cls = classifier.classify(a);
    if (a.role !== 'delivery' || a.recipients.length !== 1 || isWorthy(cls)) {
      out.classification = cls;
      return false;
    }
    day = dayOf(a.receivedMs);
    h = deliveryHash(a.messageId, a.recipients[0]!);
  }
  out.classification = cls;
  if (storedBefore?.(day, h)) return false;
  out.day = day;
  out.h = h;
  out.channel = channelCode(cls.channel);
  return true;
}

/** What the reader worker needs, as plain data (adapters, profiles and statements hold functions). */
export interface ReaderWorkerConfig {
  path: string;
  info: Omit<ExportInfo, 'adapter' | 'records'> & { format: ExportAdapter['format'] };
  startAfter: number;
  limits: ExportReaderLimits;
  profile: PlainProfile | null;
  /** The store to ask whether a delivery was stored in full before (`null`: the store holds no message). */
  storePath: string | null;
}

/** A whole row as the worker hands it over. */
export interface ReaderWholeRow {
  row: number;
  fields: string[];
  /** The worker's classification, when it made one (the main thread then does not classify again). */
  classification: Classification | null;
  /** The record serialized for storage, for rows the worker knows are kept in full. */
  serialized?: string;
  /** Why the record cannot be read (see CsvRecord.error). */
  error?: string;
}

export type ReaderWorkerMessage =
  | {
      kind: 'batch';
      bytes: number;
      count: number;
      lastRow: number;
      isCompact: Uint8Array;
      day: Int32Array;
      h: Float64Array;
      channel: Uint8Array;
      whole: ReaderWholeRow[];
    }
  | { kind: 'end'; bytes: number }
  | { kind: 'error'; message: string; readError: boolean };

/** Batches handed over before the worker waits for the main thread (bounds memory when storing is slower). */
export const MAX_BATCHES_IN_FLIGHT = 3;

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** Whether the compiled worker is available (it is not when running from the TypeScript sources). */
export function readerWorkerAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/** Files at least this large are read in the worker (below it, starting a thread costs more than it saves). */
export const WORKER_MIN_BYTES = 4 * 1024 * 1024;

export type ReaderMode = 'auto' | 'worker' | 'main';

export function useWorker(mode: ReaderMode, info: ExportInfo, size: number): boolean {
  if (mode === 'main' || info.container !== 'csv' || !readerWorkerAvailable()) return false;
  return mode === 'worker' || size >= WORKER_MIN_BYTES;
}

/** Every row whole, read on the main thread. */
export async function* wholeBatches(
  path: string,
  info: ExportInfo,
  opts: { startAfter: number; limits: ExportReaderLimits; progress: ReadProgress },
): AsyncGenerator<PreparedBatch | Failure> {
  for await (const rows of readExportRows(path, info, opts)) {
    if (!Array.isArray(rows)) {
      yield rows;
      return;
    }
    yield { count: rows.length, lastRow: rows[rows.length - 1]!.row, isCompact: null, compact: null, whole: rows };
  }
}

/**
 * Batches from the reader worker. The worker stops when the generator is closed early (an interrupted run or a
 * fallback to the main thread); a read error that stops the file ends them as a `Failure`, as from the main-thread
 * reader.
 */
export async function* workerBatches(
  path: string,
  info: ExportInfo,
  opts: {
    startAfter: number;
    limits: ExportReaderLimits;
    progress: ReadProgress;
    profile: TenantProfile | null;
    storePath: string | null;
  },
): AsyncGenerator<PreparedBatch | Failure> {
  const { adapter, records: _records, ...plainInfo } = info;
  const config: ReaderWorkerConfig = {
    path,
    info: { ...plainInfo, format: adapter.format },
    startAfter: opts.startAfter,
    limits: opts.limits,
    profile: opts.profile ? profileToPlain(opts.profile) : null,
    storePath: opts.storePath,
  };
  // Young generation of 24 MB (V8's default lets it grow to 48): measured on the CLI with 1M rows, peak RSS
  // 282-290 MiB instead of 307-308, same time. 8 MB was too small: the worker spent 20 % more CPU collecting.
  const worker = new Worker(WORKER_URL, { workerData: config, resourceLimits: { maxYoungGenerationSizeMb: 24 } });
  const queue: ReaderWorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on('message', (m: ReaderWorkerMessage) => {
    queue.push(m);
    notify();
  });
  worker.on('error', (e) => {
    failure = e;
    notify();
  });
  worker.on('exit', (code) => {
    if (code !== 0) failure ??= new Error(`ingest reader worker exited with code ${code}`);
    notify();
  });
  const header = info.columns ?? [];
  const index = headerIndex(header, info.dateOrder?.order);
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
      const m = queue.shift()!;
      if (m.kind === 'error') {
        if (!m.readError) throw new Error(m.message);
        yield { status: 'error', kind: 'input', error: m.message } satisfies Failure;
        return;
      }
      opts.progress.bytes = m.bytes;
      if (m.kind === 'end') return;
      worker.postMessage('ack');
      yield {
        count: m.count,
        lastRow: m.lastRow,
        isCompact: m.isCompact,
        compact: { day: m.day, h: m.h, channel: m.channel },
        whole: m.whole.map((w) => {
          const r = new CsvRecord(index, header, w.fields, w.row);
          if (w.classification) r.classification = w.classification;
          if (w.serialized !== undefined) r.serialized = w.serialized;
          if (w.error !== undefined) r.error = w.error;
          return r;
        }),
      };
    }
  } finally {
    await worker.terminate();
  }
}
