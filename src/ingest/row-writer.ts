/**
 * One batch of a file's rows into the store, in the open transaction. Two kinds of row: compact rows, which
 * the reader worker reduced to a count (day, delivery key, channel), and whole rows, which are adapted,
 * classified and — when worth it — assessed and stored in full; fact rows (URLs, attachments, detail events)
 * join the messages they are about. Delivery keys make every row idempotent.
 * @module
 */
import { type AssessOptions, assess } from '../core/assess.js';
import type { Assessment, Channel } from '../core/assessment.js';
import { dayOf, deliveryHash, hash53, messageHash } from '../core/delivery-key.js';
import type { MessageEvidence } from '../core/evidence.js';
import type { DsguardStore, FileRecord } from '../store/dsguard-store.js';
import { markSourceStatsStale } from '../store/source-stats.js';
import { channelOfCode, isCandidate, isWorthy, keepsRowsAsFacts, RowClassifier } from './classify.js';
import type { AdaptedRow, ExportAdapter } from './exports/export-adapter.js';
import type { RowPlace } from './exports/export-row.js';
import type { RawRow } from './exports/read-export.js';
import type { RowCounts } from './file-transaction.js';
import type { CompactRows, PreparedBatch } from './reader.js';
import { candidacyOf, type IngestedFiles, type MessageWrites, messageRow } from './stored-messages.js';

export interface RowError {
  file: string;
  row: number;
  error: string;
}

/** Bucket count changes of a batch, written once at its end. */
type Deltas = Map<number, number>;

function add(deltas: Deltas, id: number, n: number): void {
  deltas.set(id, (deltas.get(id) ?? 0) + n);
}

/** The batch and file a whole row is written for. */
interface RowContext {
  adapter: ExportAdapter;
  file: FileRecord;
  path: string;
  counts: RowCounts;
  deltas: Deltas;
}

/** A whole row being written: its adapted form, keys, and its record serialized once, when first needed. */
class WholeRow {
  private serialized: string | null = null;
  readonly day: number;
  readonly msgH: number;

  constructor(
    readonly raw: RawRow,
    readonly a: AdaptedRow & { messageId: string },
  ) {
    this.day = dayOf(a.receivedMs);
    this.msgH = messageHash(a.messageId);
  }

  get data(): string {
    this.serialized ??= this.raw.serialize();
    return this.serialized;
  }
}

export class RowWriter {
  private readonly classifier: RowClassifier;
  /** Whether the store holds fact rows (a stored message then queues itself for their join). */
  private joinFacts: boolean;
  /** Bucket of a count-only row by day and channel (numeric cache: the string-keyed lookup is per row otherwise). */
  private readonly countBuckets = new Map<number, number>();
  /** Last row whose error was reported (per file), so a re-read after a fallback does not report it twice. */
  private reportedRow = 0;

  constructor(
    private readonly store: DsguardStore,
    private readonly assessOptions: AssessOptions,
    private readonly messages: MessageWrites,
    private readonly files: IngestedFiles,
    private readonly onRowError: ((e: RowError) => void) | undefined,
  ) {
    this.classifier = new RowClassifier(assessOptions);
    this.joinFacts = store.joinFactsExist();
  }

  /** A new file begins: its rows' errors are reported afresh. */
  startFile(): void {
    this.reportedRow = 0;
  }

  /**
   * Write one batch in the open transaction. `null` when a count-only row turns out to be about a delivery
   * stored in full, or when delivery keys went out of step with another connection (the caller rolls back and
   * reads the rest on the main thread, where every row is whole and every key is checked).
   */
  writeBatch(batch: PreparedBatch, adapter: ExportAdapter, file: FileRecord, path: string): RowCounts | null {
    return this.store.keysInStep(() => this.writeRows(batch, adapter, file, path));
  }

  /**
   * Write the delivery keys the store holds back until the commit (in key order); `false` when they went out of
   * step with another connection, as {@link writeBatch} can find out too.
   */
  flushKeys(): boolean {
    return this.store.keysInStep(() => this.store.flushDeliveries()) !== null;
  }

  /** After a rollback: bucket rows created in it are gone. */
  forgetBuckets(): void {
    this.store.reloadBuckets();
    this.countBuckets.clear();
  }

  private writeRows(batch: PreparedBatch, adapter: ExportAdapter, file: FileRecord, path: string): RowCounts | null {
    const counts: RowCounts = { stored: 0, aggregated: 0, rejected: 0, duplicate: 0 };
    const ctx: RowContext = { adapter, file, path, counts, deltas: new Map() };
    const { isCompact, compact } = batch;
    let ci = 0;
    let wi = 0;
    for (let i = 0; i < batch.count; i++) {
      if (isCompact !== null && compact !== null && isCompact[i] === 1) {
        if (!this.writeCompact(compact, ci++, ctx)) return null;
      } else this.writeWhole(batch.whole[wi++]!, ctx);
    }
    this.store.addToBuckets(ctx.deltas);
    if (this.messages.storedAny) markSourceStatsStale(this.store.db);
    this.store.fileProgress(file.id, batch.lastRow, counts);
    return counts;
  }

  /**
   * What {@link writeWhole} does for a counted single-recipient delivery, on the worker's columns; `false` when
   * the delivery was stored in full earlier in this file (the worker could not see it).
   */
  private writeCompact(compact: CompactRows, i: number, ctx: RowContext): boolean {
    const day = compact.day[i]!;
    const h = compact.h[i]!;
    const channel = compact.channel[i]!;
    const bucket = this.countBucket(day, channel);
    ctx.counts.aggregated++;
    if (this.store.insertDelivery(day, h, bucket, false)) {
      add(ctx.deltas, bucket, 1);
      return true;
    }
    ctx.counts.duplicate++;
    const old = this.store.delivery(day, h)!;
    if (old.stored) return false;
    this.recount(day, h, old.bucket, bucket, channelOfCode(channel), ctx.deltas);
    return true;
  }

  private reject(raw: RawRow, ctx: RowContext, error: string): void {
    ctx.counts.rejected++;
    // Rows re-read after a fallback to the main thread were reported already.
    if (raw.row <= this.reportedRow) return;
    this.reportedRow = raw.row;
    this.onRowError?.({ file: ctx.path, row: raw.row, error });
  }

  /** Adapt, classify and write one whole row (a bad one is reported and counted as rejected). */
  private writeWhole(raw: RawRow, ctx: RowContext): void {
    if (raw.error !== undefined) {
      this.reject(raw, ctx, raw.error);
      return;
    }
    const place: RowPlace = { file: ctx.path, row: raw.row };
    let res: ReturnType<ExportAdapter['adapt']>;
    try {
      res = ctx.adapter.adapt(raw.data, place);
    } catch (error) {
      this.reject(raw, ctx, `unreadable row: ${(error as Error).message}`);
      return;
    }
    if (res.status === 'error') {
      this.reject(raw, ctx, res.error);
      return;
    }
    const a = res.row;
    if (a.messageId === null) {
      this.reject(raw, ctx, 'no message id');
      return;
    }
    const row = new WholeRow(raw, a as AdaptedRow & { messageId: string });
    if (a.role === 'fact') this.writeFactRow(row, ctx);
    else this.writeDeliveryRow(row, ctx);
  }

  /** Keep the row as a fact of delivery `h` (once: `false` when the same fact is there). */
  private fact(row: WholeRow, ctx: RowContext, h: number): boolean {
    const data = row.data;
    return this.store.insertFact(
      { day: row.day, h, msgH: row.msgH, fileId: ctx.file.id, row: row.raw.row, format: ctx.adapter.format, data },
      hash53(data),
    );
  }

  /** A fact row (URL, attachment, detail event): kept, and the messages it is about queued for a join. */
  private writeFactRow(row: WholeRow, ctx: RowContext): void {
    const { a } = row;
    const hs = a.recipients.length > 0 ? a.recipients.map((r) => deliveryHash(a.messageId, r)) : [0];
    let fresh = false;
    for (const h of hs) {
      // A fact already there was joined when it came (or its message, coming later, queued itself).
      if (!this.fact(row, ctx, h)) continue;
      fresh = true;
      this.store.pendingForMessage(row.day, row.msgH, h);
    }
    this.joinFacts = true;
    ctx.counts.stored++;
    if (!fresh) ctx.counts.duplicate++;
  }

  /** A delivery row: classified; assessed and stored in full when worth it, else counted in its bucket. */
  private writeDeliveryRow(row: WholeRow, ctx: RowContext): void {
    const { a, day } = row;
    const cls = row.raw.classification ?? this.classifier.classify(a);
    const worthy = isWorthy(cls);
    let evidence: MessageEvidence | null = null;
    let assessment: Assessment | null = null;
    if (worthy) {
      evidence = a.evidence();
      assessment = assess(evidence, this.assessOptions);
    }
    const verdict = assessment?.verdict ?? 'not-applicable';
    const candidate = assessment ? isCandidate(evidence!, candidacyOf(assessment)) : false;
    const bucket = this.store.bucketId({ day, channel: assessment?.channel ?? cls.channel, verdict, candidate });
    const keepFacts = keepsRowsAsFacts(ctx.adapter.format);
    const message = (h: number, recipient: string) => {
      // Never a replacement: a delivery gets its message row once (stored = 1), and later only through a join.
      const source = { file: ctx.file, row: row.raw.row, format: ctx.adapter.format, data: row.data };
      this.messages.write(
        messageRow(day, h, row.msgH, recipient, evidence!, assessment!, candidate, bucket, source),
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
        add(ctx.deltas, bucket, 1);
        if (worthy) message(h, recipient);
        else if (keepFacts) this.fact(row, ctx, h);
        storedRow ||= worthy || keepFacts;
        continue;
      }
      const old = this.store.delivery(day, h)!;
      if (old.stored) {
        // The row its message was made from, read again (an overlapping export, a re-run over a copy) tells
        // nothing new: no fact, no re-assessment. Anything else joins the message's evidence.
        if (!this.isMessageSource(day, h, ctx, row.data) && this.fact(row, ctx, h)) this.store.addPending(day, h);
        storedRow = true;
      } else if (worthy && (this.store.bucketChannel(old.bucket) === 'unknown' || cls.channel !== 'unknown')) {
        // An earlier row that knew the channel (EmailEvents, historical search) outranks a summary row.
        message(h, recipient);
        this.store.setDelivery(day, h, bucket, true);
        add(ctx.deltas, old.bucket, -1);
        add(ctx.deltas, bucket, 1);
        storedRow = true;
      } else {
        if (keepFacts) {
          this.fact(row, ctx, h);
          storedRow = true;
        }
        this.recount(day, h, old.bucket, bucket, cls.channel, ctx.deltas);
      }
    }
    if (storedRow) ctx.counts.stored++;
    else ctx.counts.aggregated++;
    if (!newDelivery) ctx.counts.duplicate++;
  }

  private countBucket(day: number, channel: number): number {
    const key = day * 16 + channel;
    let id = this.countBuckets.get(key);
    if (id === undefined) {
      id = this.store.bucketId({ day, channel: channelOfCode(channel), verdict: 'not-applicable', candidate: false });
      this.countBuckets.set(key, id);
    }
    return id;
  }

  /** A counted row that knows the channel replaces a count made without knowing it (never the other way round). */
  private recount(day: number, h: number, oldBucket: number, bucket: number, channel: Channel, deltas: Deltas): void {
    if (channel === 'unknown' || this.store.bucketChannel(oldBucket) !== 'unknown') return;
    this.store.setDelivery(day, h, bucket, false);
    add(deltas, oldBucket, -1);
    add(deltas, bucket, 1);
  }

  /** Whether a row is the very one a stored delivery's message was made from (same format, columns and values). */
  private isMessageSource(day: number, h: number, ctx: RowContext, data: string): boolean {
    const { file } = ctx;
    const src = this.store.messageSource(day, h);
    if (src === null || src.format !== ctx.adapter.format || src.data !== data) return false;
    const a = src.fileId === file.id ? file.columns : this.files.get(src.fileId).record.columns;
    const b = file.columns;
    return a === b || (a !== null && b !== null && a.length === b.length && a.every((c, i) => c === b[i]));
  }
}
