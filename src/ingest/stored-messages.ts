/**
 * What a run writes about whole messages, shared by the row writer and the re-assessment of joins: the message
 * rows (with the source tables' share of them, see {@link MessageWrites.sources}) and the ledger rows of the
 * files they came from.
 * @module
 */
import type { Assessment, Channel } from '../core/assessment.js';
import { dayStartIso } from '../core/delivery-key.js';
import type { MessageEvidence } from '../core/evidence.js';
import type { DsguardStore, FileRecord, MessageRow } from '../store/dsguard-store.js';
import { SourceStatsDelta, sourceStatsStale } from '../store/source-stats.js';
import type { DateOrder } from './exports/export-dates.js';
import { type ColumnIndex, headerIndex } from './exports/export-row.js';

/** A message row with its finding codes as a list (the source tables count them). */
export type StoredMessage = MessageRow & { codeList: readonly string[] };

export function candidacyOf(a: Assessment): { channel: Channel; domains: readonly string[] } {
  return { channel: a.channel, domains: a.tenant.domains };
}

/** Where a stored message came from: its file, row, export format and the raw record. */
export interface MessageSource {
  file: FileRecord;
  row: number;
  format: string;
  data: string;
}

export function messageRow(
  day: number,
  h: number,
  msgH: number,
  recipient: string,
  ev: MessageEvidence,
  a: Assessment,
  candidate: boolean,
  bucket: number,
  source: MessageSource,
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
    fileId: source.file.id,
    row: source.row,
    format: source.format,
    data: source.data,
  };
}

/** The message rows a run writes, and what the source tables need to follow them. */
export class MessageWrites {
  /** Whether this run stored or re-assessed a message (the source aggregates are then brought up to date). */
  storedAny = false;
  /**
   * The source tables' share of what this run adds, merged at the end instead of a rebuild over every stored
   * message. `null` when a rebuild is needed anyway or costs no more: the store held no message when the run
   * began (the rebuild then reads only this run's messages, and set-based SQL does that fastest), the tables
   * were stale (an interrupted run), a stored message was changed (a join re-assessed it), or added work was
   * rolled back.
   */
  private delta: SourceStatsDelta | null;

  constructor(
    private readonly store: DsguardStore,
    deltaEntries: number | undefined,
  ) {
    // Stale tables (left by an interrupted run) miss that run's messages: only a rebuild is exact then.
    this.delta = sourceStatsStale(store.db) || !store.holdsMessages() ? null : new SourceStatsDelta(deltaEntries);
  }

  get sources(): SourceStatsDelta | null {
    return this.delta;
  }

  /** `replaces`: the message was stored before (re-assessed after a join). */
  write(m: StoredMessage, replaces: boolean): void {
    this.store.upsertMessage(m);
    this.storedAny = true;
    if (replaces) this.delta = null;
    else this.delta?.add(m, m.codeList);
  }

  /** Work was rolled back: the delta counted some of it, so the tables are rebuilt at the end instead. */
  rolledBack(): void {
    this.delta = null;
  }
}

export interface IngestedFile {
  record: FileRecord;
  /** The header index of a CSV file (how its rows are read back), `null` for JSON. */
  index: ColumnIndex | null;
}

/** The ledger rows of the files whose rows are read or read back in this run, cached by id. */
export class IngestedFiles {
  private readonly files = new Map<number, IngestedFile>();

  constructor(private readonly store: DsguardStore) {}

  /** A file the run just started (or resumed), read with these columns and date order. */
  started(record: FileRecord, columns: readonly string[] | null, order: DateOrder | null): void {
    this.files.set(record.id, { record, index: columns ? headerIndex(columns, order ?? 'mdy') : null });
  }

  get(id: number): IngestedFile {
    let f = this.files.get(id);
    if (!f) {
      const record = this.store.fileById(id)!;
      f = { record, index: record.columns ? headerIndex(record.columns, record.dateOrder ?? 'mdy') : null };
      this.files.set(id, f);
    }
    return f;
  }
}
