/**
 * Reader worker of ingest: reads, parses, adapts and classifies one CSV export, and hands the main thread
 * batches in which count-only rows are reduced to typed columns (see ingest-reader.ts). It builds its own
 * adapter, classifier and (read-only) store connection from the plain configuration it is given.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { profileFromPlain } from './core/profile.js';
import { isWorthy, RowClassifier } from './ingest-classify.js';
import {
  compactOf,
  MAX_BATCHES_IN_FLIGHT,
  type ReaderWholeRow,
  type ReaderWorkerConfig,
  type ReaderWorkerMessage,
} from './ingest-reader.js';
import { type ExportInfo, ExportReadError, type ReadProgress, readExportRows } from './sources/exports/read-export.js';
import { ADAPTERS } from './sources/exports/sniff-export.js';
import { openSqlite } from './store/db.js';

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

async function readAll(
  info: ExportInfo,
  classifier: RowClassifier,
  storedBefore: ((day: number, h: number) => boolean) | null,
): Promise<void> {
  const adapter = info.adapter;
  const progress: ReadProgress = { bytes: 0 };
  for await (const rows of readExportRows(config.path, info, {
    startAfter: config.startAfter,
    limits: config.limits,
    progress,
  })) {
    const n = rows.length;
    const isCompact = new Uint8Array(n);
    const day = new Int32Array(n);
    const h = new Float64Array(n);
    const channel = new Uint8Array(n);
    const whole: ReaderWholeRow[] = [];
    let c = 0;
    for (let i = 0; i < n; i++) {
      const raw = rows[i]!;
      const { compact: k, classification } = compactOf(raw, adapter, classifier, storedBefore);
      if (k === null) {
        const fields = (raw as unknown as { fields: string[] }).fields;
        const w: ReaderWholeRow = { row: raw.row, fields, classification };
        // A row kept in full is stored with its source row: serialize it here rather than on the main thread.
        if (classification && isWorthy(classification)) w.serialized = raw.serialize();
        whole.push(w);
        continue;
      }
      isCompact[i] = 1;
      day[c] = k.day;
      h[c] = k.h;
      channel[c] = k.channel;
      c++;
    }
    const days = day.slice(0, c);
    const hashes = h.slice(0, c);
    const channels = channel.slice(0, c);
    const m: ReaderWorkerMessage = {
      kind: 'batch',
      bytes: progress.bytes,
      count: n,
      lastRow: rows[n - 1]!.row,
      isCompact,
      day: days,
      h: hashes,
      channel: channels,
      whole,
    };
    inFlight++;
    post(m, [isCompact.buffer, days.buffer, hashes.buffer, channels.buffer]);
    while (inFlight >= MAX_BATCHES_IN_FLIGHT) {
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  }
  post({ kind: 'end', bytes: progress.bytes });
}

run().catch((error: unknown) => {
  post({
    kind: 'error',
    message: error instanceof Error ? error.message : String(error),
    readError: error instanceof ExportReadError,
  });
});
