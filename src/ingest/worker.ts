/**
 * Reader worker of ingest: reads, parses, adapts and classifies one CSV export, and hands the main thread
 * batches in which count-only rows are reduced to typed columns (see ingest-reader.ts). It builds its own
 * adapter, classifier and (read-only) store connection from the plain configuration it is given.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { profileFromPlain } from '../core/profile.js';
import { openSqlite } from '../store/better-sqlite3.js';
import { isWorthy, RowClassifier } from './classify.js';
import { headerIndex } from './exports/export-row.js';
import { batchFull, type CsvRecord, type ExportInfo, type ReadProgress, streamCsvRows } from './exports/read-export.js';
import { ADAPTERS } from './exports/sniff-export.js';
import {
  compactOf,
  compactOut,
  MAX_BATCHES_IN_FLIGHT,
  type ReaderWholeRow,
  type ReaderWorkerConfig,
  type ReaderWorkerMessage,
} from './reader.js';

const config = workerData as ReaderWorkerConfig;
const port = parentPort;
if (!port) throw new Error('ingest-worker must run in a worker thread');

let inFlight = 0;
let wake: (() => void) | null = null;
port.on('message', () => {
  inFlight--;
  const w = wake;
  wake = null;
  w?.();
});

function post(m: ReaderWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

async function run(): Promise<void> {
  const adapter = ADAPTERS[config.info.format];
  const { format: _format, ...rest } = config.info;
  const info: ExportInfo = { ...rest, adapter };
  const classifier = new RowClassifier({ profile: config.profile ? profileFromPlain(config.profile) : null });
  let storedBefore: ((day: number, h: number) => boolean) | null = null;
  const db = config.storePath === null ? null : openSqlite(config.storePath, { readonly: true, cacheMiB: 4 });
  if (db) {
    const st = db.prepare('SELECT stored FROM delivery WHERE day = ? AND h = ?');
    storedBefore = (day, h) => (st.get(day, h) as { stored: number } | undefined)?.stored === 1;
  }
  try {
    await readAll(info, classifier, storedBefore);
  } finally {
    db?.close();
  }
}

/** The batch being filled: per-row flags, the count columns of compact rows, the whole rows. */
class BatchBuilder {
  count = 0;
  compact = 0;
  lastRow = 0;
  isCompact: Uint8Array;
  day: Int32Array;
  h: Float64Array;
  channel: Uint8Array;
  whole: ReaderWholeRow[] = [];

  constructor(private capacity: number) {
    this.isCompact = new Uint8Array(capacity);
    this.day = new Int32Array(capacity);
    this.h = new Float64Array(capacity);
    this.channel = new Uint8Array(capacity);
  }

  /** Room for one more row (a chunk of short records can overrun the batch size). */
  reserve(): void {
    if (this.count < this.capacity) return;
    this.capacity *= 2;
    const grow = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(this.capacity);
      b.set(a);
      return b;
    };
    this.isCompact = grow(this.isCompact, (n) => new Uint8Array(n));
    this.day = grow(this.day, (n) => new Int32Array(n));
    this.h = grow(this.h, (n) => new Float64Array(n));
    this.channel = grow(this.channel, (n) => new Uint8Array(n));
  }

  message(bytes: number): { m: ReaderWorkerMessage; transfer: ArrayBuffer[] } {
    const isCompact = this.isCompact.slice(0, this.count);
    const day = this.day.slice(0, this.compact);
    const h = this.h.slice(0, this.compact);
    const channel = this.channel.slice(0, this.compact);
    return {
      m: {
        kind: 'batch',
        bytes,
        count: this.count,
        lastRow: this.lastRow,
        isCompact,
        day,
        h,
        channel,
        whole: this.whole,
      },
      transfer: [isCompact.buffer, day.buffer, h.buffer, channel.buffer],
    };
  }

  reset(): void {
    this.count = 0;
    this.compact = 0;
    this.isCompact.fill(0);
    this.whole = [];
  }
}

async function readAll(
  info: ExportInfo,
  classifier: RowClassifier,
  storedBefore: ((day: number, h: number) => boolean) | null,
): Promise<void> {
  const adapter = info.adapter;
  const fast =
    adapter.fastCounter?.(headerIndex(info.columns ?? [], info.dateOrder?.order), (ip) => classifier.ipToken(ip)) ??
    null;
  const out = compactOut();
  const progress: ReadProgress = { bytes: 0 };
  const batchRows = config.limits.batchRows;
  const b = new BatchBuilder(batchRows * 2);
  // Each record is reduced as soon as it is parsed: only the whole ones stay alive until the batch is handed on.
  const take = (raw: CsvRecord) => {
    b.reserve();
    const i = b.count++;
    b.lastRow = raw.row;
    if (!compactOf(raw, adapter, classifier, storedBefore, fast, out)) {
      const classification = out.classification;
      const w: ReaderWholeRow = { row: raw.row, fields: raw.fields as string[], classification };
      // A row kept in full is stored with its source row: serialize it here rather than on the main thread.
      if (classification && isWorthy(classification)) w.serialized = raw.serialize();
      if (raw.error !== undefined) w.error = raw.error;
      b.whole.push(w);
      return;
    }
    b.isCompact[i] = 1;
    const c = b.compact++;
    b.day[c] = out.day;
    b.h[c] = out.h;
    b.channel[c] = out.channel;
  };
  const send = async () => {
    const { m, transfer } = b.message(progress.bytes);
    b.reset();
    inFlight++;
    post(m, transfer);
    while (inFlight >= MAX_BATCHES_IN_FLIGHT) {
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  };
  const opts = { startAfter: config.startAfter, limits: config.limits, progress };
  // A batch ends at batchRows or at batchBytes of input, whichever comes first (long rows: bounded memory).
  let sentAt = 0;
  for await (const stop of streamCsvRows(config.path, info, opts, take)) {
    if (stop) {
      // A read error stops the file: the main thread takes back what it holds of it.
      post({ kind: 'error', message: stop.error, readError: true });
      return;
    }
    if (batchFull(b.count, progress.bytes - sentAt, config.limits)) {
      sentAt = progress.bytes;
      await send();
    }
  }
  if (b.count > 0) await send();
  post({ kind: 'end', bytes: progress.bytes });
}

run().catch((error: unknown) => {
  post({
    kind: 'error',
    message: error instanceof Error ? error.message : String(error),
    readError: false,
  });
});
