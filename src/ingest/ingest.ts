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
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type AssessOptions, assess, type MessageRule } from '../core/assess.js';
import type { Assessment, Channel } from '../core/assessment.js';
import type { MessageEvidence } from '../core/evidence.js';
import { positiveIntegerLimits } from '../core/limits.js';
import type { TenantProfile } from '../core/profile.js';
import { DsguardStore, type FactRow, type FileRecord, KeysOutOfStep, type MessageRow } from '../store/dsguard-store.js';
import { dayOf, dayStartIso, deliveryHash, hash53, messageHash } from '../store/keys.js';
import { markSourceStatsStale, rebuildSourceStats, SourceStatsDelta, sourceStatsStale } from '../store/source-stats.js';
import { channelOfCode, isCandidate, isWorthy, keepsRowsAsFacts, RowClassifier } from './classify.js';
import type { ExportAdapter } from './exports/export-adapter.js';
import type { DateOrder } from './exports/export-dates.js';
import { type ColumnIndex, CsvRow, type ExportRow, headerIndex, JsonRow, type RowPlace } from './exports/export-row.js';
import { mergeEvidence } from './exports/merge-evidence.js';
import {
  DEFAULT_EXPORT_LIMITS,
  type ExportInfo,
  ExportReadError,
  type ExportReaderLimits,
  type ReadProgress,
  sniffCsvDateOrder,
  sniffExportFile,
} from './exports/read-export.js';
import { ADAPTERS } from './exports/sniff-export.js';
import { type PreparedBatch, type ReaderMode, useWorker, wholeBatches, workerBatches } from './reader.js';

/** Rows per transaction. */
export const DEFAULT_COMMIT_ROWS = 50_000;

export interface IngestProgress {
  file: string;
  bytes: number;
  totalBytes: number;
  rows: number;
}

export interface RowError {
  file: string;
  row: number;
  error: string;
}

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
  /**
   * How the file's numeric dates were read: `given` (the dateOrder option), `resumed` (the order the file was
   * started with), `found` (a sampled date that reads one way only, or the days the dates span), `assumed` (every
   * sampled date reads both ways: the usual order for the separator — a warning says so); `null` when the file
   * has no numeric dates (ISO, JSON) or was not read.
   */
  dateOrder: { order: DateOrder; how: 'given' | 'resumed' | 'found' | 'assumed'; why: string } | null;
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

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Everything the ingest of one store needs across files. */
class Ingestor {
  private readonly classifier: RowClassifier;
  private readonly assessOptions: AssessOptions;
  private joinFacts: boolean;
  private readonly files = new Map<number, { record: FileRecord; index: ColumnIndex | null }>();
  reassessed = 0;
  /** Warnings about files, for the run's summary. */
  readonly warnings: string[] = [];
  /** Last row whose error was reported (per file), so a re-read after a fallback does not report it twice. */
  private reportedRow = 0;

  constructor(
    private readonly store: DsguardStore,
    private readonly opts: IngestOptions,
  ) {
    this.assessOptions = opts.extraRules
      ? { profile: opts.profile, extraRules: opts.extraRules }
      : { profile: opts.profile };
    this.classifier = new RowClassifier(this.assessOptions);
    this.joinFacts = store.joinFactsExist();
    // Stale tables (left by an interrupted run) miss that run's messages: only a rebuild is exact then.
    this.sources =
      sourceStatsStale(store.db) || !store.holdsMessages() ? null : new SourceStatsDelta(opts.sourceDeltaEntries);
  }

  /** `replaces`: the message was stored before (re-assessed after a join). */
  private storeMessage(m: StoredMessage, replaces: boolean): void {
    this.store.upsertMessage(m);
    this.storedAny = true;
    if (replaces) this.sources = null;
    else this.sources?.add(m, m.codeList);
  }

  /** Whether this run stored or re-assessed a message (the source aggregates are then brought up to date). */
  storedAny = false;
  /**
   * The source tables' share of what this run adds, merged at the end instead of a rebuild over every stored
   * message. `null` when a rebuild is needed anyway or costs no more: the store held no message when the run
   * began (the rebuild then reads only this run's messages, and set-based SQL does that fastest), the tables
   * were stale (an interrupted run), a stored message was changed (a join re-assessed it), or added work was
   * rolled back.
   */
  sources: SourceStatsDelta | null;

  private assess(ev: MessageEvidence): Assessment {
    return assess(ev, this.assessOptions);
  }

  async ingestFile(path: string): Promise<FileIngestSummary> {
    const summary: FileIngestSummary = {
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
    const limits = positiveIntegerLimits('export reader', DEFAULT_EXPORT_LIMITS, this.opts.limits);
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) return { ...summary, status: 'error', error: 'not a file' };
      size = s.size;
    } catch (error) {
      return { ...summary, status: 'error', error: `cannot read: ${(error as NodeJS.ErrnoException).code ?? error}` };
    }
    const sniff = await sniffExportFile(path, limits);
    if (sniff.status === 'error') return { ...summary, status: 'not-an-export', error: sniff.error };
    const info = sniff.info;
    summary.format = info.description;
    summary.sha256 = await sha256File(path);
    const now = () => (this.opts.now?.() ?? new Date()).toISOString();
    const existing = this.store.fileBySha(summary.sha256);
    if (existing?.status === 'complete') return { ...summary, status: 'skipped' };
    const guess = info.dateOrder;
    if (this.runDateOrder === undefined && !existing && !this.opts.dateOrder && guess && !guess.decided) {
      this.runDateOrder = guess.conflict ? undefined : await runDateOrder(this.runPaths);
    }
    summary.dateOrder = this.dateOrder(path, info, existing);
    if (summary.dateOrder) {
      const { order, how, why } = summary.dateOrder;
      info.dateOrder = { order, decided: how !== 'assumed', why };
    }
    if (summary.dateOrder?.how === 'assumed') {
      this.warnings.push(
        `${path}: ${summary.dateOrder.why} (if the export was written day-first, ingest it into a new store with --date-order dmy)`,
      );
    }
    const order = summary.dateOrder?.order ?? null;
    // The file's ledger row goes with its first rows, and its end with its last: one commit for a small file
    // (a Graph collection saves thousands of pages of a few hundred rows each).
    let open = false;
    const begin = () => {
      this.store.begin();
      open = true;
    };
    const startFile = () => {
      const r = this.store.startFile(summary.sha256!, path, size, info.adapter.format, info.columns, order, now());
      this.files.set(r.id, { record: r, index: info.columns ? headerIndex(info.columns, order ?? 'mdy') : null });
      return r;
    };
    begin();
    let record: FileRecord;
    try {
      record = startFile();
    } catch (error) {
      this.store.rollback();
      throw error;
    }
    const startAfter = record.rowsRead;
    if (startAfter > 0) {
      summary.status = 'resumed';
      summary.resumedAfter = startAfter;
    }
    const progress: ReadProgress = { bytes: 0 };
    // Small parse batches keep short-lived rows out of the old generation (peak RSS); a transaction spans
    // several of them (commitRows) so commits stay few. The ledger's committed row is written in each one.
    const commitRows = this.opts.commitRows ?? DEFAULT_COMMIT_ROWS;
    const db = this.store.db;
    let inGroup = 0;
    const group = { read: 0, stored: 0, aggregated: 0, rejected: 0, duplicate: 0 };
    const clearGroup = () => {
      group.read = group.stored = group.aggregated = group.rejected = group.duplicate = 0;
    };
    const commit = () => {
      // A long run writes its source counts out as it goes (with the batch, so a rollback takes both back).
      if (this.sources?.large) this.sources.flush(db);
      this.store.commit();
      open = false;
      inGroup = 0;
      summary.read += group.read;
      summary.stored += group.stored;
      summary.aggregated += group.aggregated;
      summary.rejected += group.rejected;
      summary.duplicates += group.duplicate;
      clearGroup();
    };
    /** Take back what the open transaction holds (the source counts made in it go too: rebuilt at the end). */
    const takeBack = () => {
      if (open) {
        this.store.rollback();
        this.sources = null;
      }
      open = false;
      inGroup = 0;
      clearGroup();
      this.forgetBuckets();
    };
    this.reportedRow = 0;
    // The worker checks count-only rows against the committed store; it needs a file to open for that.
    const holdsMessages = this.store.holdsMessages();
    let inWorker = useWorker(this.opts.reader ?? 'auto', info, size) && !(holdsMessages && this.store.path === null);
    summary.reader = inWorker ? 'worker' : 'main';
    let from = startAfter;
    for (;;) {
      const readOpts = { startAfter: from, limits, progress };
      const batches = inWorker
        ? workerBatches(path, info, {
            ...readOpts,
            profile: this.opts.profile,
            storePath: holdsMessages ? this.store.path : null,
          })
        : wholeBatches(path, info, readOpts);
      let conflict = false;
      try {
        for await (const batch of batches) {
          if (!open) begin();
          const counts = this.writeBatch(batch, info.adapter, record, path);
          if (counts === null) {
            conflict = true;
            break;
          }
          group.read += batch.count;
          group.stored += counts.stored;
          group.aggregated += counts.aggregated;
          group.rejected += counts.rejected;
          group.duplicate += counts.duplicate;
          inGroup += batch.count;
          const aborted = this.opts.signal?.aborted === true;
          if (inGroup >= commitRows || aborted) {
            if (!this.flushKeys()) {
              conflict = true;
              break;
            }
            commit();
          }
          this.opts.onProgress?.({
            file: path,
            bytes: Math.min(progress.bytes, size),
            totalBytes: size,
            rows: batch.lastRow,
          });
          if (aborted || this.opts.signal?.aborted) {
            // Keys out of step now: what the group held is read again by the next run.
            if (open && this.flushKeys()) commit();
            else takeBack();
            summary.status = 'interrupted';
            return summary;
          }
        }
        if (!conflict && !this.flushKeys()) conflict = true;
        if (!conflict) {
          if (!open) begin();
          this.store.finishFile(record.id, now());
          commit();
        }
      } catch (error) {
        takeBack();
        if (error instanceof ExportReadError) {
          return { ...summary, status: 'error', error: error.message };
        }
        throw error;
      }
      if (!conflict) break;
      // A count-only row met a delivery this file stored in full a few rows earlier (the worker cannot see
      // uncommitted rows): take back the open transaction and read the rest of the file on this thread.
      takeBack();
      // The ledger row went back with the rows when none had been committed yet.
      const committed = this.store.fileById(record.id);
      begin();
      record = committed ?? startFile();
      from = record.rowsRead;
      if (inWorker) summary.reader = 'worker, then main';
      inWorker = false;
    }
    return summary;
  }

  /** How a file's numeric dates are read: as it was started, as given, or as its sampled dates tell. */
  private dateOrder(path: string, info: ExportInfo, existing: FileRecord | null): FileIngestSummary['dateOrder'] {
    const guess = info.dateOrder;
    if (existing) {
      // A resumed file goes on as it started (files recorded before schema 5 were read month-first).
      const order = existing.dateOrder ?? 'mdy';
      if (guess?.decided && guess.order !== order) {
        this.warnings.push(
          `${path}: resumed reading dates ${order === 'mdy' ? 'month' : 'day'}-first as it was started, but they look the other way (${guess.why}): ingest it into a new store`,
        );
      }
      return guess || existing.dateOrder ? { order, how: 'resumed', why: 'as the file was started' } : null;
    }
    // JSON exports write ISO dates (JsonRow reads a numeric one month-first): the option is for CSV.
    if (this.opts.dateOrder && info.container === 'csv') {
      return { order: this.opts.dateOrder, how: 'given', why: '--date-order' };
    }
    if (!guess) return null;
    if (guess.decided) return { order: guess.order, how: 'found', why: guess.why };
    // Nothing in this file tells (a one-day detail export, say): the other exports of the run do. Not when its
    // own dates contradict each other: that is for the user to sort out (the warning says so).
    if (this.runDateOrder && !guess.conflict) {
      const { order, file, why } = this.runDateOrder;
      return { order, how: 'found', why: `as ${file} of the same run (${why})` };
    }
    return { order: guess.order, how: 'assumed', why: guess.why };
  }

  /**
   * The order the run's CSV files agree on, from those whose own dates tell (see {@link runDateOrder}): sought
   * only when a file needs it (`undefined` until then), over `runPaths`.
   */
  runDateOrder: { order: DateOrder; file: string; why: string } | null | undefined = undefined;
  runPaths: readonly string[] = [];

  /** Bucket of a count-only row (numeric cache: the string-keyed lookup is per row otherwise). */
  private countBucket(day: number, channel: number): number {
    const key = day * 16 + channel;
    let id = this.countBuckets.get(key);
    if (id === undefined) {
      id = this.store.bucketId({ day, channel: channelOfCode(channel), verdict: 'not-applicable', candidate: false });
      this.countBuckets.set(key, id);
    }
    return id;
  }

  private readonly countBuckets = new Map<number, number>();

  /** After a rollback: bucket rows created in it are gone. */
  private forgetBuckets(): void {
    this.store.reloadBuckets();
    this.countBuckets.clear();
  }

  /** A counted row that knows the channel replaces a count made without knowing it (never the other way round). */
  private recount(
    day: number,
    h: number,
    oldBucket: number,
    bucket: number,
    channel: Channel,
    add: (id: number, n: number) => void,
  ): void {
    if (channel === 'unknown' || this.store.bucketChannel(oldBucket) !== 'unknown') return;
    this.store.setDelivery(day, h, bucket, false);
    add(oldBucket, -1);
    add(bucket, 1);
  }

  /**
   * Write one batch in the open transaction. `null` when a count-only row turns out to be about a delivery stored
   * in full, or when delivery keys went out of step with another connection (the caller rolls back and reads the
   * rest on the main thread, where every row is whole and every key is checked).
   */
  private writeBatch(batch: PreparedBatch, adapter: ExportAdapter, file: FileRecord, path: string) {
    return keysInStep(() => this.writeRows(batch, adapter, file, path));
  }

  /**
   * Write the delivery keys the store holds back until the commit (in key order); `false` when they went out of
   * step with another connection, as {@link writeBatch} can find out too.
   */
  private flushKeys(): boolean {
    return keysInStep(() => this.store.flushDeliveries()) !== null;
  }

  private writeRows(batch: PreparedBatch, adapter: ExportAdapter, file: FileRecord, path: string) {
    const counts = { stored: 0, aggregated: 0, rejected: 0, duplicate: 0 };
    const deltas = new Map<number, number>();
    const add = (id: number, n: number) => deltas.set(id, (deltas.get(id) ?? 0) + n);
    const { isCompact, compact } = batch;
    let ci = 0;
    let wi = 0;
    for (let i = 0; i < batch.count; i++) {
      if (isCompact !== null && compact !== null && isCompact[i] === 1) {
        // What the whole-row path below does for a counted single-recipient delivery, on the worker's columns.
        const day = compact.day[ci]!;
        const h = compact.h[ci]!;
        const channel = compact.channel[ci]!;
        ci++;
        const bucket = this.countBucket(day, channel);
        counts.aggregated++;
        if (this.store.insertDelivery(day, h, bucket, false)) {
          add(bucket, 1);
          continue;
        }
        counts.duplicate++;
        const old = this.store.delivery(day, h)!;
        if (old.stored) return null;
        this.recount(day, h, old.bucket, bucket, channelOfCode(channel), add);
        continue;
      }
      const raw = batch.whole[wi++]!;
      const place: RowPlace = { file: path, row: raw.row };
      const reject = (error: string) => {
        counts.rejected++;
        // Rows re-read after a fallback to the main thread were reported already.
        if (raw.row <= this.reportedRow) return;
        this.reportedRow = raw.row;
        this.opts.onRowError?.({ file: path, row: raw.row, error });
      };
      if (raw.error !== undefined) {
        reject(raw.error);
        continue;
      }
      let res: ReturnType<ExportAdapter['adapt']>;
      try {
        res = adapter.adapt(raw.data, place);
      } catch (error) {
        reject(`unreadable row: ${(error as Error).message}`);
        continue;
      }
      if (res.status === 'error') {
        reject(res.error);
        continue;
      }
      const a = res.row;
      if (a.messageId === null) {
        reject('no message id');
        continue;
      }
      const day = dayOf(a.receivedMs);
      const msgH = messageHash(a.messageId);
      let data: string | null = null;
      const fact = (h: number): boolean => {
        data ??= raw.serialize();
        return this.store.insertFact(
          { day, h, msgH, fileId: file.id, row: raw.row, format: adapter.format, data },
          hash53(data),
        );
      };

      if (a.role === 'fact') {
        const hs = a.recipients.length > 0 ? a.recipients.map((r) => deliveryHash(a.messageId!, r)) : [0];
        let fresh = false;
        for (const h of hs) {
          // A fact already there was joined when it came (or its message, coming later, queued itself).
          if (!fact(h)) continue;
          fresh = true;
          this.store.pendingForMessage(day, msgH, h);
        }
        this.joinFacts = true;
        counts.stored++;
        if (!fresh) counts.duplicate++;
        continue;
      }

      const cls = raw.classification ?? this.classifier.classify(a);
      const worthy = isWorthy(cls);
      let evidence: MessageEvidence | null = null;
      let assessment: Assessment | null = null;
      if (worthy) {
        evidence = a.evidence();
        assessment = this.assess(evidence);
      }
      const verdict = assessment?.verdict ?? 'not-applicable';
      const candidate = assessment ? isCandidate(evidence!, candidacyOf(assessment)) : false;
      const bucket = this.store.bucketId({ day, channel: assessment?.channel ?? cls.channel, verdict, candidate });
      const keepFacts = keepsRowsAsFacts(adapter.format);
      const message = (h: number, recipient: string) => {
        data ??= raw.serialize();
        // Never a replacement: a delivery gets its message row once (stored = 1), and later only through a join.
        this.storeMessage(
          messageRow(
            day,
            h,
            msgH,
            recipient,
            evidence!,
            assessment!,
            candidate,
            bucket,
            file,
            raw.row,
            adapter.format,
            data,
          ),
          false,
        );
        if (this.joinFacts) this.store.addPending(day, h);
      };
      let storedRow = false;
      let newDelivery = false;
      for (const recipient of a.recipients) {
        const h = deliveryHash(a.messageId, recipient);
        if (this.store.insertDelivery(day, h, bucket, worthy)) {
          newDelivery = true;
          add(bucket, 1);
          if (worthy) message(h, recipient);
          else if (keepFacts) fact(h);
          storedRow ||= worthy || keepFacts;
          continue;
        }
        const old = this.store.delivery(day, h)!;
        if (old.stored) {
          // The row its message was made from, read again (an overlapping export, a re-run over a copy) tells
          // nothing new: no fact, no re-assessment. Anything else joins the message's evidence.
          data ??= raw.serialize();
          if (!this.isMessageSource(day, h, adapter.format, file, data) && fact(h)) this.store.addPending(day, h);
          storedRow = true;
        } else if (worthy && (this.store.bucketChannel(old.bucket) === 'unknown' || cls.channel !== 'unknown')) {
          // An earlier row that knew the channel (EmailEvents, historical search) outranks a summary row.
          message(h, recipient);
          this.store.setDelivery(day, h, bucket, true);
          add(old.bucket, -1);
          add(bucket, 1);
          storedRow = true;
        } else {
          if (keepFacts) {
            fact(h);
            storedRow = true;
          }
          this.recount(day, h, old.bucket, bucket, cls.channel, add);
        }
      }
      if (storedRow) counts.stored++;
      else counts.aggregated++;
      if (!newDelivery) counts.duplicate++;
    }
    this.store.addToBuckets(deltas);
    if (this.storedAny) markSourceStatsStale(this.store.db);
    this.store.fileProgress(file.id, batch.lastRow, counts);
    return counts;
  }

  /** Whether a row is the very one a stored delivery's message was made from (same format, columns and values). */
  private isMessageSource(day: number, h: number, format: string, file: FileRecord, data: string): boolean {
    const src = this.store.messageSource(day, h);
    if (src === null || src.format !== format || src.data !== data) return false;
    const a = src.fileId === file.id ? file.columns : this.fileInfo(src.fileId).record.columns;
    const b = file.columns;
    return a === b || (a !== null && b !== null && a.length === b.length && a.every((c, i) => c === b[i]));
  }

  /** Re-assess stored deliveries whose facts changed (joins across rows and files). */
  reassessPending(): number {
    let total = 0;
    for (;;) {
      const keys = this.store.takePending(2000);
      if (keys.length === 0) break;
      this.store.transaction(() => {
        const deltas = new Map<number, number>();
        this.messageFacts.clear();
        for (const k of keys) {
          this.reassessOne(k.day, k.h, deltas);
          this.store.donePending(k.day, k.h);
        }
        this.store.addToBuckets(deltas);
        markSourceStatsStale(this.store.db);
      });
      total += keys.length;
      if (this.opts.signal?.aborted) break;
    }
    this.reassessed += total;
    return total;
  }

  private fileInfo(id: number) {
    let f = this.files.get(id);
    if (!f) {
      const record = this.store.fileById(id)!;
      f = { record, index: record.columns ? headerIndex(record.columns, record.dateOrder ?? 'mdy') : null };
      this.files.set(id, f);
    }
    return f;
  }

  /** Evidence of a stored fact, rebuilt by its adapter from the raw row (provenance: file, column, row). */
  evidenceOfFact(f: FactRow): MessageEvidence | null {
    const adapter = ADAPTERS[f.format as keyof typeof ADAPTERS];
    if (!adapter) return null;
    const { record, index } = this.fileInfo(f.fileId);
    let row: ExportRow;
    try {
      const parsed: unknown = JSON.parse(f.data);
      row =
        index && Array.isArray(parsed)
          ? new CsvRow(index, record.columns ?? [], parsed as string[])
          : new JsonRow(parsed as Record<string, unknown>);
    } catch {
      return null;
    }
    const res = adapter.adapt(row, { file: record.path, row: f.row });
    return res.status === 'ok' ? res.row.evidence() : null;
  }

  /**
   * The facts about whole messages (URL and attachment rows, h = 0) with their evidence, for the batch of
   * deliveries being re-assessed: a message to thousands of recipients reads and adapts them once, not once each.
   */
  private readonly messageFacts = new Map<string, { fact: FactRow; evidence: MessageEvidence | null }[]>();

  private factsOfMessage(day: number, msgH: number) {
    const key = `${day}|${msgH}`;
    let list = this.messageFacts.get(key);
    if (list === undefined) {
      list = this.store.factsOfMessage(day, msgH).map((fact) => ({ fact, evidence: this.evidenceOfFact(fact) }));
      this.messageFacts.set(key, list);
    }
    return list;
  }

  private reassessOne(day: number, h: number, deltas: Map<number, number>): void {
    const m = this.store.message(day, h);
    if (!m) return;
    const own: FactRow = { id: 0, day, h, msgH: m.msgH, fileId: m.fileId, row: m.row, format: m.format, data: m.data };
    const facts = [
      ...this.factsOfMessage(day, m.msgH),
      ...this.store.factsOfDelivery(day, m.msgH, h).map((fact) => ({ fact, evidence: this.evidenceOfFact(fact) })),
    ]
      .filter(({ fact: f }) => !(f.fileId === m.fileId && f.row === m.row))
      .sort((a, b) => a.fact.id - b.fact.id);
    const evidences = [this.evidenceOfFact(own), ...facts.map((f) => f.evidence)].filter(
      (e): e is MessageEvidence => e !== null,
    );
    if (evidences.length === 0) return;
    const merged = mergeEvidence(evidences);
    const a = this.assess(merged);
    const candidate = isCandidate(merged, candidacyOf(a));
    const bucket = this.store.bucketId({ day, channel: a.channel, verdict: a.verdict, candidate });
    if (bucket !== m.bucket) {
      deltas.set(m.bucket, (deltas.get(m.bucket) ?? 0) - 1);
      deltas.set(bucket, (deltas.get(bucket) ?? 0) + 1);
      this.store.setDelivery(day, h, bucket, true);
    }
    const next = messageRow(
      day,
      h,
      m.msgH,
      m.recipient ?? '',
      merged,
      a,
      candidate,
      bucket,
      this.fileInfo(m.fileId).record,
      m.row,
      m.format,
      m.data,
    );
    this.storeMessage(next, true);
  }
}

function candidacyOf(a: Assessment): { channel: Channel; domains: readonly string[] } {
  return { channel: a.channel, domains: a.tenant.domains };
}

/** `fn()`, or `null` when delivery keys went out of step with another connection (see {@link KeysOutOfStep}). */
function keysInStep<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (error) {
    if (error instanceof KeysOutOfStep) return null;
    throw error;
  }
}

/** A message row with its finding codes as a list (the source tables count them). */
type StoredMessage = MessageRow & { codeList: readonly string[] };

function messageRow(
  day: number,
  h: number,
  msgH: number,
  recipient: string,
  ev: MessageEvidence,
  a: Assessment,
  candidate: boolean,
  bucket: number,
  file: FileRecord,
  row: number,
  format: string,
  data: string,
): StoredMessage {
  const codeList = [...new Set(a.findings.map((f) => f.code))];
  return {
    day,
    h,
    msgH,
    messageId: ev.messageId ?? ev.networkMessageId,
    receivedAt: ev.receivedAt ?? dayStartIso(day),
    recipient,
    sender: ev.envelopeFrom?.value.address ?? null,
    headerFrom: ev.headerFrom?.value.address ?? null,
    ip: ev.connectingIp?.value ?? null,
    helo: ev.helo?.value ?? null,
    tls: ev.tls?.value ?? null,
    subject: ev.subject ? ev.subject.value.slice(0, 300) : null,
    channel: a.channel,
    verdict: a.verdict,
    risk: a.risk,
    rejectBlocks: a.rejectDirectSendBlocks,
    candidate,
    codes: JSON.stringify(codeList),
    codeList,
    bucket,
    fileId: file.id,
    row,
    format,
    data,
  };
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
      .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.toLowerCase().endsWith('.kql'))
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

/**
 * The numeric date order the run's CSV exports agree on: each decided by its own dates, all the same way (one
 * session exported them). `null` when none tells, or two disagree.
 */
async function runDateOrder(paths: readonly string[]): Promise<{ order: DateOrder; file: string; why: string } | null> {
  let found: { order: DateOrder; file: string; why: string } | null = null;
  for (const path of paths) {
    const guess = await sniffCsvDateOrder(path);
    if (!guess?.decided) continue;
    if (found && found.order !== guess.order) return null;
    found ??= { order: guess.order, file: path, why: guess.why };
  }
  return found;
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
    const ingestor = new Ingestor(store, opts);
    ingestor.reassessPending();
    const inputs = await expandPaths(paths);
    ingestor.runPaths = inputs.map((i) => i.path);
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
    if (!summary.interrupted && sourceStatsStale(store.db)) {
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
