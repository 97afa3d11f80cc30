/**
 * `ingest(files, options)`: stream message trace, trace detail, historical search, Defender EmailEvents (+
 * attachment and URL rows) and Graph message trace exports into the store. Every row becomes a MessageEvidence
 * and gets an Assessment from assess(); Direct Send, internal-spoof and candidate deliveries are stored in full
 * with provenance (file, sha256, row), everything else is counted by day and classification.
 *
 * Guarantees: idempotent (deliveries are keyed on message id + recipient, identical fact rows are kept once,
 * a file whose sha256 is in the ledger as complete is skipped); one transaction per batch, with the ledger's
 * committed-row mark inside it, so a crash or Ctrl-C leaves the store consistent and a re-run resumes; bad rows
 * are reported with file and row, counted and skipped; for every file read = stored + aggregated + rejected.
 * @module
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { AssessOptions, MessageRule } from '../core/assess.js';
import { hash53 } from '../core/delivery-key.js';
import { positiveIntegerLimits } from '../core/limits.js';
import type { TenantProfile } from '../core/profile.js';
import { ioErrorText } from '../sources/io-error.js';
import { DsguardStore, type FileRecord } from '../store/dsguard-store.js';
import { rebuildSourceStats, type SourceStatsDelta, sourceStatsStale } from '../store/source-stats.js';
import type { DateOrder } from './exports/export-dates.js';
import {
  DEFAULT_EXPORT_LIMITS,
  type ExportInfo,
  type ExportReaderLimits,
  type ReadProgress,
  sniffExportFile,
} from './exports/read-export.js';
import { DateOrderResolver, type FileDateOrder } from './file-date-order.js';
import { FileTransaction } from './file-transaction.js';
import { type ReaderMode, useWorker, wholeBatches, workerBatches } from './reader.js';
import { Reassessor } from './reassess.js';
import { type RowError, RowWriter } from './row-writer.js';
import { IngestedFiles, MessageWrites } from './stored-messages.js';

/** Rows per transaction. */
export const DEFAULT_COMMIT_ROWS = 50_000;

export interface IngestProgress {
  file: string;
  bytes: number;
  totalBytes: number;
  rows: number;
}

export type { RowError } from './row-writer.js';

export interface IngestOptions {
  /** Store path (created when missing) or an open store. */
  db: string | DsguardStore;
  profile: TenantProfile | null;
  /** Extra rule families (IP origin, …) passed through to assess(). */
  extraRules?: readonly MessageRule[];
  onProgress?: (p: IngestProgress) => void;
  onRowError?: (e: RowError) => void;
  /** Stop after the current batch commits (Ctrl-C). */
  signal?: AbortSignal;
  limits?: Partial<ExportReaderLimits>;
  /** Rows per transaction (default 50,000): a crash loses at most this much work, never consistency. */
  commitRows?: number;
  /** Clock for ledger timestamps (tests). */
  now?: () => Date;
  /**
   * Where large CSV exports are parsed and classified: `auto` (a worker thread for files of 4 MiB and more,
   * when the compiled worker is there), `worker`, or `main` (this thread). The store is the same either way.
   */
  reader?: ReaderMode;
  /**
   * How numeric dates are written (`7/5/2026`: July 5 month-first, May 7 day-first) in new files; by default
   * each CSV file's own order is found from dates sampled through it. A resumed file keeps its order.
   */
  dateOrder?: DateOrder;
  /**
   * Distinct per-IP source entries a run holds before writing them out with the batch (default 50,000): bounds
   * the memory of a long run into a store that already holds messages.
   */
  sourceDeltaEntries?: number;
  /**
   * Leave the per-IP source tables stale (marked so, in the transactions that change messages) instead of
   * bringing them up to date at the end: for a caller that ingests many small files in a row (`collect`, an
   * answer at a time) and rebuilds once when done. A report rebuilds stale tables itself, so a caller that
   * dies first leaves a consistent store.
   */
  deferSourceStats?: boolean;
}

export interface FileIngestSummary {
  file: string;
  sha256: string | null;
  format: string | null;
  /**
   * `skipped`: ingested completely before; `not-an-export`: a file met while walking a folder whose content is
   * no known export (a README, a picture): passed over and said so. A file named on its own that is not an
   * export is an `error`.
   */
  status: 'ingested' | 'resumed' | 'skipped' | 'not-an-export' | 'interrupted' | 'error';
  error?: string;
  /** Rows read in this run (after the resume point). */
  read: number;
  stored: number;
  aggregated: number;
  rejected: number;
  /** Rows whose deliveries were already in the store (counted in stored or aggregated). */
  duplicates: number;
  /** Rows skipped because an earlier run committed them. */
  resumedAfter: number;
  /**
   * Where the rows were parsed and classified: `worker` (a second thread), `main`, `worker, then main` (a counted
   * row met a delivery stored earlier in the same file, and the rest was read on the main thread); `null` when
   * the file was not read.
   */
  reader: 'worker' | 'main' | 'worker, then main' | null;
  /** How the file's numeric dates were read (see {@link FileDateOrder}). */
  dateOrder: FileDateOrder;
}

export interface IngestSummary {
  files: FileIngestSummary[];
  read: number;
  stored: number;
  aggregated: number;
  rejected: number;
  duplicates: number;
  /** Stored deliveries re-assessed after a join brought new facts. */
  reassessed: number;
  warnings: string[];
  interrupted: boolean;
}

/**
 * The profile settings stored assessments depend on, as one value: a store keeps one profile. RejectDirectSend
 * is left out: enabling it is the point of the exercise, and the stored Direct Send rows are re-assessed when it
 * changes (see {@link rejectSetting}). `legacyReject` gives the form stores were stamped with before, which held
 * it (`rejectDirectSend: null | false | true`).
 */
function profileFingerprint(profile: TenantProfile | null, legacyReject?: boolean | null): string {
  if (!profile) return 'none';
  return String(
    hash53(
      JSON.stringify({
        d: profile.acceptedDomains,
        t: profile.tenantIds,
        c: profile.connectors.map((c) => [c.name, c.senderIps.map((x) => x.text), c.certificateNames]),
        k: profile.knownSources.map((k) => [k.name, k.ips.map((x) => x.text), k.senders, k.subject]),
        r: legacyReject,
      }),
    ),
  );
}

/** Whether a store's stamp is this profile's, in the current form or the one stores were stamped with before. */
function sameProfile(stamp: string, profile: TenantProfile | null): boolean {
  return (
    stamp === profileFingerprint(profile) ||
    (profile !== null && [null, false, true].some((r) => stamp === profileFingerprint(profile, r)))
  );
}

/** What DS117 depends on: whether and since when RejectDirectSend is enabled. */
function rejectSetting(profile: TenantProfile | null): string {
  return JSON.stringify([profile?.rejectDirectSend ?? null, profile?.rejectDirectSendSince ?? null]);
}

/**
 * The file's SHA-256, read through one reused 4 MiB buffer. It is on the critical path before any row is read:
 * a read stream of 1 MiB pieces (a new Buffer each) took 340–530 ms on a 311 MB export, this 220–285 ms.
 */
async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return h.digest('hex');
}

/** Where and how one file is being read: what a pass over its rows needs. */
interface FileRead {
  path: string;
  info: ExportInfo;
  size: number;
  limits: ExportReaderLimits;
  progress: ReadProgress;
  tx: FileTransaction;
  summary: FileIngestSummary;
  /** The file's ledger row. */
  record: FileRecord;
  /** Ledger timestamps. */
  now: () => string;
}

/** How a pass over a file's rows ended. */
type PassEnd = 'done' | 'interrupted' | 'conflict' | { error: string };

function emptyFileSummary(path: string): FileIngestSummary {
  return {
    file: path,
    sha256: null,
    format: null,
    status: 'ingested',
    read: 0,
    stored: 0,
    aggregated: 0,
    rejected: 0,
    duplicates: 0,
    resumedAfter: 0,
    reader: null,
    dateOrder: null,
  };
}

/**
 * The ingest of one store's files, over its parts: the rows of a batch (RowWriter), the joins (Reassessor), the
 * message rows and source counts both write (MessageWrites), the files' ledger rows (IngestedFiles), each
 * file's date order (DateOrderResolver) and transactions (FileTransaction).
 */
class Ingestor {
  private readonly messages: MessageWrites;
  private readonly files: IngestedFiles;
  private readonly rows: RowWriter;
  private readonly joins: Reassessor;
  private readonly dates: DateOrderResolver;
  /** Warnings about files, for the run's summary. */
  readonly warnings: string[] = [];

  constructor(
    private readonly store: DsguardStore,
    private readonly opts: IngestOptions,
    /** Every file of the run, in order (the date order of a file that does not tell is sought in the others). */
    runPaths: readonly string[],
  ) {
    const assessOptions: AssessOptions = opts.extraRules
      ? { profile: opts.profile, extraRules: opts.extraRules }
      : { profile: opts.profile };
    this.messages = new MessageWrites(store, opts.sourceDeltaEntries);
    this.files = new IngestedFiles(store);
    this.rows = new RowWriter(store, assessOptions, this.messages, this.files, opts.onRowError);
    this.joins = new Reassessor(store, assessOptions, this.messages, this.files, opts.signal);
    this.dates = new DateOrderResolver(runPaths, opts.dateOrder, this.warnings);
  }

  /** Stored deliveries re-assessed after joins so far. */
  get reassessed(): number {
    return this.joins.reassessed;
  }

  /** The source tables' share of this run (see MessageWrites.sources); `null`: rebuild them. */
  get sources(): SourceStatsDelta | null {
    return this.messages.sources;
  }

  reassessPending(): number {
    return this.joins.reassessPending();
  }

  async ingestFile(path: string): Promise<FileIngestSummary> {
    const summary = emptyFileSummary(path);
    const limits = positiveIntegerLimits('export reader', DEFAULT_EXPORT_LIMITS, this.opts.limits);
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) return { ...summary, status: 'error', error: 'not a file' };
      size = s.size;
    } catch (error) {
      return { ...summary, status: 'error', error: `cannot read: ${ioErrorText(error)}` };
    }
    const sniff = await sniffExportFile(path, limits);
    if (sniff.status === 'error') return { ...summary, status: 'not-an-export', error: sniff.error };
    const info = sniff.info;
    summary.format = info.description;
    summary.sha256 = await sha256File(path);
    const existing = this.store.fileBySha(summary.sha256);
    if (existing?.status === 'complete') return { ...summary, status: 'skipped' };
    summary.dateOrder = await this.dates.resolve(path, info, existing);
    return this.readFile(path, info, size, limits, summary);
  }

  /** Read a file (from where an earlier run stopped) in transactions of `commitRows` rows. */
  private async readFile(
    path: string,
    info: ExportInfo,
    size: number,
    limits: ExportReaderLimits,
    summary: FileIngestSummary,
  ): Promise<FileIngestSummary> {
    const now = () => (this.opts.now?.() ?? new Date()).toISOString();
    const db = this.store.db;
    const tx = new FileTransaction(this.store, summary, {
      // A long run writes its source counts out as it goes (with the batch, so a rollback takes both back).
      beforeCommit: () => {
        if (this.messages.sources?.large) this.messages.sources.flush(db);
      },
      // The source counts made in a rolled-back transaction go too (rebuilt at the end); so do its buckets.
      afterTakeBack: (rolledBack) => {
        if (rolledBack) this.messages.rolledBack();
        this.rows.forgetBuckets();
      },
    });
    // The file's ledger row goes with its first rows, and its end with its last: one commit for a small file
    // (a Graph collection saves thousands of pages of a few hundred rows each).
    tx.begin();
    let record: FileRecord;
    try {
      record = this.startFile(path, info, size, summary, now);
    } catch (error) {
      tx.abandon();
      throw error;
    }
    if (record.rowsRead > 0) {
      summary.status = 'resumed';
      summary.resumedAfter = record.rowsRead;
    }
    const read: FileRead = { path, info, size, limits, progress: { bytes: 0 }, tx, summary, record, now };
    this.rows.startFile();
    // The worker checks count-only rows against the committed store; it needs a file to open for that.
    const holdsMessages = this.store.holdsMessages();
    let inWorker = useWorker(this.opts.reader ?? 'auto', info, size) && !(holdsMessages && this.store.path === null);
    summary.reader = inWorker ? 'worker' : 'main';
    for (;;) {
      const end = await this.readPass(read, inWorker, holdsMessages);
      if (end === 'done') return summary;
      if (end === 'interrupted') return { ...summary, status: 'interrupted' };
      if (end !== 'conflict') return { ...summary, status: 'error', error: end.error };
      // A count-only row met a delivery this file stored in full a few rows earlier (the worker cannot see
      // uncommitted rows): take back the open transaction and read the rest of the file on this thread.
      tx.takeBack();
      // The ledger row went back with the rows when none had been committed yet.
      const committed = this.store.fileById(read.record.id);
      tx.begin();
      read.record = committed ?? this.startFile(path, info, size, summary, now);
      if (inWorker) summary.reader = 'worker, then main';
      inWorker = false;
    }
  }

  /** The file's ledger row (new, or as an earlier run left it), in the open transaction. */
  private startFile(
    path: string,
    info: ExportInfo,
    size: number,
    summary: FileIngestSummary,
    now: () => string,
  ): FileRecord {
    const order = summary.dateOrder?.order ?? null;
    const r = this.store.startFile(summary.sha256!, path, size, info.adapter.format, info.columns, order, now());
    this.files.started(r, info.columns, order);
    return r;
  }

  /**
   * One pass over the file's rows after the ledger's committed row, in the worker or on this thread: `done`
   * when the file is complete, `interrupted` (Ctrl-C: what was read is committed when it can be), `conflict`
   * (read the rest on this thread) or a read error (what the open transaction held is taken back).
   */
  private async readPass(read: FileRead, inWorker: boolean, holdsMessages: boolean): Promise<PassEnd> {
    const { path, info, size, tx, progress } = read;
    // Small parse batches keep short-lived rows out of the old generation (peak RSS); a transaction spans
    // several of them (commitRows) so commits stay few. The ledger's committed row is written in each one.
    const commitRows = this.opts.commitRows ?? DEFAULT_COMMIT_ROWS;
    const readOpts = { startAfter: read.record.rowsRead, limits: read.limits, progress };
    const batches = inWorker
      ? workerBatches(path, info, {
          ...readOpts,
          profile: this.opts.profile,
          storePath: holdsMessages ? this.store.path : null,
        })
      : wholeBatches(path, info, readOpts);
    try {
      for await (const batch of batches) {
        if ('status' in batch) {
          tx.takeBack();
          return { error: batch.error };
        }
        tx.ensureOpen();
        const counts = this.rows.writeBatch(batch, info.adapter, read.record, path);
        if (counts === null) return 'conflict';
        tx.add(batch.count, counts);
        const aborted = this.opts.signal?.aborted === true;
        if (tx.full(commitRows) || aborted) {
          if (!this.rows.flushKeys()) return 'conflict';
          tx.commit();
        }
        this.opts.onProgress?.({
          file: path,
          bytes: Math.min(progress.bytes, size),
          totalBytes: size,
          rows: batch.lastRow,
        });
        if (aborted || this.opts.signal?.aborted) {
          // Keys out of step now: what the transaction held is read again by the next run.
          if (tx.isOpen && this.rows.flushKeys()) tx.commit();
          else tx.takeBack();
          return 'interrupted';
        }
      }
      if (!this.rows.flushKeys()) return 'conflict';
      tx.ensureOpen();
      this.store.finishFile(read.record.id, read.now());
      tx.commit();
      return 'done';
    } catch (error) {
      tx.takeBack();
      throw error;
    }
  }
}

/** Folders stand for the files in them (recursively, in name order, hidden entries skipped). */
async function expandPaths(paths: readonly string[]): Promise<{ path: string; walked: boolean }[]> {
  const out: { path: string; walked: boolean }[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      out.push({ path: p, walked: false });
      continue;
    }
    // Hidden entries, and the advanced-hunting queries `dsguard powershell` saves beside the exports, are passed
    // over without a word.
    const entries = (await readdir(p, { recursive: true, withFileTypes: true }))
      .filter(
        (e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.') && !e.name.toLowerCase().endsWith('.kql'),
      )
      .map((e) => join(e.parentPath, e.name))
      .filter(
        (f) =>
          !relative(p, f)
            .split(sep)
            .some((part) => part.startsWith('.')),
      )
      .sort();
    out.push(...entries.map((path) => ({ path, walked: true })));
  }
  return out;
}

/** Export bytes a delivery, on the low side (a trace V2 row is ~300): sizes the store's key filter. */
const BYTES_PER_DELIVERY_GUESS = 256;

async function totalSize(paths: readonly string[]): Promise<number> {
  let n = 0;
  for (const p of paths)
    n += await stat(p).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
  return n;
}

/**
 * Ingest export files into the store. Never throws for a bad file or row: they are reported in the summary
 * (and through `onRowError`); throws only for store I/O failures.
 */
export async function ingest(paths: readonly string[], opts: IngestOptions): Promise<IngestSummary> {
  let store: DsguardStore;
  let own = false;
  if (typeof opts.db === 'string') {
    const r = DsguardStore.open(opts.db);
    if (r.status === 'error') throw new Error(r.error);
    store = r.store;
    own = true;
  } else store = opts.db;
  const summary: IngestSummary = {
    files: [],
    read: 0,
    stored: 0,
    aggregated: 0,
    rejected: 0,
    duplicates: 0,
    reassessed: 0,
    warnings: [],
    interrupted: false,
  };
  try {
    const fp = profileFingerprint(opts.profile);
    const previous = store.meta('profile');
    const same = previous === null || sameProfile(previous, opts.profile);
    if (!same) {
      summary.warnings.push(
        'the store holds rows assessed with another profile: keep one profile per store (or start a new --db)',
      );
    }
    const reject = rejectSetting(opts.profile);
    const rejectBefore = store.meta('reject-direct-send') ?? rejectSetting(null);
    store.transaction(() => {
      store.setMeta('profile', fp);
      // RejectDirectSend enabled, or its day or time changed, in the store's own profile: the stored Direct Send
      // rows' DS117 changes with it. Never under another profile (or none): that would re-assess them wrongly,
      // and rows that left Direct Send would not come back.
      if (same && opts.profile !== null) {
        store.setMeta('reject-direct-send', reject);
        if (reject !== rejectBefore) store.queueDirectSend();
      }
    });
    const inputs = await expandPaths(paths);
    const ingestor = new Ingestor(
      store,
      opts,
      inputs.map((i) => i.path),
    );
    ingestor.reassessPending();
    store.expectDeliveries((await totalSize(inputs.map((i) => i.path))) / BYTES_PER_DELIVERY_GUESS);
    for (const { path, walked } of inputs) {
      const f = await ingestor.ingestFile(path);
      summary.warnings.push(...ingestor.warnings.splice(0));
      if (f.status === 'not-an-export' && !walked) f.status = 'error';
      summary.files.push(f);
      summary.read += f.read;
      summary.stored += f.stored;
      summary.aggregated += f.aggregated;
      summary.rejected += f.rejected;
      summary.duplicates += f.duplicates;
      ingestor.reassessPending();
      if (f.status === 'interrupted' || opts.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
    }
    summary.reassessed = ingestor.reassessed;
    if (!summary.interrupted && opts.deferSourceStats !== true && sourceStatsStale(store.db)) {
      store.transaction(() => {
        if (ingestor.sources) ingestor.sources.merge(store.db);
        else rebuildSourceStats(store.db);
      });
    }
  } finally {
    if (own) store.close();
  }
  return summary;
}

export { DsguardStore };
