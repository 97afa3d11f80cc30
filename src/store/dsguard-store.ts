/**
 * The dsguard store over the small SQL interface: the file ledger, count buckets, delivery keys, facts (source
 * rows kept in full with provenance), stored messages and the pending re-assessment queue. All writes of one
 * batch happen in one transaction together with the ledger's committed-row mark, so a crash or Ctrl-C leaves the
 * store consistent and a re-run resumes after the last committed row.
 * @module
 */
import { failure, ok, prefixed, type Result } from '../core/result.js';
import { openSqlite } from './better-sqlite3.js';
import type { SqlDatabase, SqlStatement } from './db.js';
import { FreshKeys } from './fresh-keys.js';
import { KEYS_PER_STATEMENT, KeyBuffer } from './key-buffer.js';
import { migrate } from './migrations.js';
import { checkIntegrity } from './store-integrity.js';

export interface FileRecord {
  id: number;
  sha256: string;
  path: string;
  size: number;
  format: string;
  columns: string[] | null;
  status: 'partial' | 'complete';
  rowsRead: number;
  rowsStored: number;
  rowsAggregated: number;
  rowsRejected: number;
  rowsDuplicate: number;
  /** How the file's numeric dates were read (day or month first); `null` before schema 5, or without any. */
  dateOrder: 'mdy' | 'dmy' | null;
}

export interface BucketKey {
  day: number;
  channel: string;
  verdict: string;
  candidate: boolean;
}

export interface MessageRow {
  day: number;
  h: number;
  msgH: number;
  messageId: string | null;
  receivedAt: string;
  recipient: string | null;
  sender: string | null;
  headerFrom: string | null;
  ip: string | null;
  helo: string | null;
  tls: boolean | null;
  subject: string | null;
  channel: string;
  verdict: string;
  risk: number;
  rejectBlocks: boolean | null;
  candidate: boolean;
  /** JSON array of the finding codes. */
  codes: string;
  bucket: number;
  fileId: number;
  row: number;
  /** Export format and raw data of the row the message was stored from. */
  format: string;
  data: string;
}

export interface FactRow {
  id: number;
  day: number;
  h: number;
  msgH: number;
  fileId: number;
  row: number;
  format: string;
  data: string;
}

/** The store, or why not: `io` (cannot open, a migration failed) or `input` (not a dsguard store, too new). */
export type StoreOpenResult = Result<{ store: DsguardStore }>;

const boolInt = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);

/*
 * A delivery's rows are looked for on its day and the days either side (sources stamp slightly different times)
 * with `day IN (…)`, never `BETWEEN` — a range on an index's first column would scan every entry of three days
 * for each lookup: quadratic on a re-read export (200,000 rows: 28 s instead of 4) — and by the delivery, never
 * by the message alone — one message to 4,000 recipients read all of its 8,000 detail rows once per recipient
 * (63 s); a message's own facts (h = 0) are read once for all its deliveries re-assessed together. Each is
 * index seeks: a test holds the query plans to it.
 */
/** Queue one stored delivery (the message id hash is checked too). */
export const PENDING_FOR_DELIVERY_SQL =
  'INSERT OR IGNORE INTO pending (day, h) SELECT day, h FROM message WHERE day IN (?, ?, ?) AND h = ? AND msg_h = ?';
/** Queue every stored delivery of a message (a fact about the message, not one recipient). */
export const PENDING_FOR_MESSAGE_SQL =
  'INSERT OR IGNORE INTO pending (day, h) SELECT day, h FROM message WHERE day IN (?, ?, ?) AND msg_h = ?';
/** The facts of one delivery (h), through the fact key's index. */
export const FACTS_OF_DELIVERY_SQL =
  'SELECT id, day, h, msg_h AS msgH, file_id AS fileId, row, format, data FROM fact WHERE day IN (?, ?, ?) AND h = ? AND msg_h = ? ORDER BY id';
/** The facts of a whole message (h = 0: attachment and URL rows, for every recipient). */
export const FACTS_OF_MESSAGE_SQL =
  'SELECT id, day, h, msg_h AS msgH, file_id AS fileId, row, format, data FROM fact WHERE day IN (?, ?, ?) AND h = 0 AND msg_h = ? ORDER BY id';

/**
 * A key the store took for certainly new was there after all: another connection wrote deliveries of a day
 * this one had seen empty. Thrown from deep inside the store's writes to unwind them, and never seen outside
 * it: {@link DsguardStore.keysInStep} turns it into its `null`.
 */
class KeysOutOfStep extends Error {
  constructor() {
    super('delivery keys written by another connection meanwhile');
  }
}

export class DsguardStore {
  private readonly bucketIds = new Map<string, number>();
  private readonly bucketChannels = new Map<number, string>();
  private readonly st: Record<string, SqlStatement>;
  /** Days that may hold delivery keys written before this connection was opened. */
  private readonly daysBefore: ReadonlySet<number>;
  /** Made at the first key (or sized by {@link expectDeliveries}); `false` once keys went out of step. */
  /** The filter of certainly-new keys: made on first use, dropped for good by {@link exactKeysOnly}. */
  private freshKeys: FreshKeys | null = null;
  /** Set once keys went out of step: every key is asked of SQLite from then on. */
  private keysExactOnly = false;
  private readonly keys = new KeyBuffer();
  /** Certainly-new keys this connection has written, per day (see {@link KeyBuffer.order}). */
  private readonly keysPerDay = new Map<number, number>();

  /** `path`: the database file, when there is one other connections can open (worker threads read it). */
  constructor(
    readonly db: SqlDatabase,
    readonly path: string | null = null,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      insDelivery: p('INSERT OR IGNORE INTO delivery (day, h, bucket, stored) VALUES (?, ?, ?, ?)'),
      insDeliveries: p(
        `INSERT OR IGNORE INTO delivery (day, h, bucket, stored) VALUES ${Array(KEYS_PER_STATEMENT).fill('(?, ?, ?, ?)').join(', ')}`,
      ),
      getDelivery: p('SELECT bucket, stored FROM delivery WHERE day = ? AND h = ?'),
      setDelivery: p('UPDATE delivery SET bucket = ?, stored = ? WHERE day = ? AND h = ?'),
      insFact: p(
        'INSERT OR IGNORE INTO fact (day, h, msg_h, file_id, row, format, data, data_h) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertMessage: p(`INSERT INTO message (day, h, msg_h, message_id, received_at, recipient, sender, header_from, ip,
          helo, tls, subject, channel, verdict, risk, reject_blocks, candidate, codes, bucket, file_id, row)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (day, h) DO UPDATE SET message_id = excluded.message_id, received_at = excluded.received_at,
          recipient = excluded.recipient, sender = excluded.sender, header_from = excluded.header_from, ip = excluded.ip,
          helo = excluded.helo, tls = excluded.tls, subject = excluded.subject, channel = excluded.channel,
          verdict = excluded.verdict, risk = excluded.risk, reject_blocks = excluded.reject_blocks,
          candidate = excluded.candidate, codes = excluded.codes, bucket = excluded.bucket`),
      getMessage: p(
        'SELECT m.*, d.format, d.data FROM message m JOIN message_data d ON d.day = m.day AND d.h = m.h WHERE m.day = ? AND m.h = ?',
      ),
      insData: p('INSERT OR IGNORE INTO message_data (day, h, format, data) VALUES (?, ?, ?, ?)'),
      getSource: p(
        'SELECT m.file_id AS fileId, d.format, d.data FROM message m JOIN message_data d ON d.day = m.day AND d.h = m.h WHERE m.day = ? AND m.h = ?',
      ),
      addPending: p('INSERT OR IGNORE INTO pending (day, h) VALUES (?, ?)'),
      pendingForDelivery: p(PENDING_FOR_DELIVERY_SQL),
      pendingForMessage: p(PENDING_FOR_MESSAGE_SQL),
      takePending: p('SELECT day, h FROM pending LIMIT ?'),
      delPending: p('DELETE FROM pending WHERE day = ? AND h = ?'),
      factsOfDelivery: p(FACTS_OF_DELIVERY_SQL),
      factsOfMessage: p(FACTS_OF_MESSAGE_SQL),
      bucketAdd: p('UPDATE bucket SET messages = messages + ? WHERE id = ?'),
      bucketInsert: p(
        'INSERT INTO bucket (day, channel, verdict, candidate) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      bucketGet: p('SELECT id FROM bucket WHERE day = ? AND channel = ? AND verdict = ? AND candidate = ?'),
      fileBySha: p('SELECT * FROM file WHERE sha256 = ?'),
      fileById: p('SELECT * FROM file WHERE id = ?'),
      fileInsert: p(
        "INSERT INTO file (sha256, path, size, format, columns, date_order, status, started_at) VALUES (?, ?, ?, ?, ?, ?, 'partial', ?)",
      ),
      fileProgress:
        p(`UPDATE file SET rows_read = ?, rows_stored = rows_stored + ?, rows_aggregated = rows_aggregated + ?,
          rows_rejected = rows_rejected + ?, rows_duplicate = rows_duplicate + ? WHERE id = ?`),
      fileDone: p("UPDATE file SET status = 'complete', finished_at = ? WHERE id = ?"),
      fileRestart: p('UPDATE file SET path = ?, format = ?, columns = ? WHERE id = ?'),
      metaGet: p('SELECT value FROM meta WHERE key = ?'),
      metaSet: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      holdsMessages: p('SELECT EXISTS (SELECT 1 FROM message) AS x'),
      joinFactsExist: p(
        "SELECT EXISTS (SELECT 1 FROM fact WHERE format IN ('message-trace-detail', 'email-attachment-info', 'email-url-info')) AS x",
      ),
    };
    // Every delivery key is counted in a bucket of its own day, and buckets are never deleted: the days of the
    // buckets are the days that may hold keys.
    this.daysBefore = this.reloadBuckets();
  }

  static open(path: string, opts: { readonly?: boolean; cacheMiB?: number } = {}): StoreOpenResult {
    let db: SqlDatabase;
    try {
      db = openSqlite(path, opts);
    } catch (error) {
      return failure('io', `${path}: cannot open store: ${(error as Error).message}`);
    }
    // A store that fails SQLite's integrity check is neither written to nor read from: what it would give is not
    // what was ingested, and writes could spread the damage.
    const integrity = checkIntegrity(db, opts.readonly === true ? 'read' : 'write');
    if (integrity !== null) {
      db.close();
      return failure('io', `${path}: ${integrity}`);
    }
    if (opts.readonly !== true) {
      const m = migrate(db);
      if (m.status === 'error') {
        db.close();
        return prefixed(path, m);
      }
    } else {
      try {
        db.prepare('SELECT 1 FROM bucket LIMIT 1').get();
      } catch {
        db.close();
        return failure('input', `${path}: not a dsguard store (run dsguard ingest first)`);
      }
    }
    return ok({ store: new DsguardStore(db, path === ':memory:' || path === '' ? null : path) });
  }

  close(): void {
    this.db.close();
  }

  /**
   * Open a transaction the caller ends with {@link commit} or {@link rollback}, for work spread over several calls
   * (an ingest's batches); delivery keys waiting for their statement are written or dropped with it.
   */
  begin(): void {
    this.db.exec('BEGIN');
  }

  commit(): void {
    this.flushDeliveries();
    this.db.exec('COMMIT');
  }

  /** Take the open transaction back (SQLite may have done so already after an I/O error). */
  rollback(): void {
    this.discardDeliveries();
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  transaction<R>(fn: () => R): R {
    // Keys waiting from an enclosing transaction are written first: a rollback here only takes back its own.
    this.flushDeliveries();
    try {
      return this.db.transaction(() => {
        const r = fn();
        this.flushDeliveries();
        return r;
      })();
    } catch (error) {
      this.discardDeliveries();
      throw error;
    }
  }

  meta(key: string): string | null {
    const r = this.st.metaGet!.get(key) as { value: string } | undefined;
    return r ? r.value : null;
  }

  setMeta(key: string, value: string): void {
    this.st.metaSet!.run(key, value);
  }

  // ---- file ledger

  fileBySha(sha256: string): FileRecord | null {
    const r = this.st.fileBySha!.get(sha256) as Record<string, unknown> | undefined;
    return r ? toFile(r) : null;
  }

  fileById(id: number): FileRecord | null {
    const r = this.st.fileById!.get(id) as Record<string, unknown> | undefined;
    return r ? toFile(r) : null;
  }

  /** Register a file (or find the partial one with the same content: it keeps the date order it started with). */
  startFile(
    sha256: string,
    path: string,
    size: number,
    format: string,
    columns: string[] | null,
    dateOrder: 'mdy' | 'dmy' | null,
    now: string,
  ) {
    const existing = this.fileBySha(sha256);
    if (existing) {
      this.st.fileRestart!.run(path, format, columns ? JSON.stringify(columns) : null, existing.id);
      return { ...existing, path };
    }
    const cols = columns ? JSON.stringify(columns) : null;
    const r = this.st.fileInsert!.run(sha256, path, size, format, cols, dateOrder, now);
    return this.fileById(Number(r.lastInsertRowid))!;
  }

  fileProgress(
    id: number,
    rowsRead: number,
    d: { stored: number; aggregated: number; rejected: number; duplicate: number },
  ) {
    this.st.fileProgress!.run(rowsRead, d.stored, d.aggregated, d.rejected, d.duplicate, id);
  }

  finishFile(id: number, now: string): void {
    this.st.fileDone!.run(now, id);
  }

  // ---- buckets

  bucketId(k: BucketKey): number {
    const key = `${k.day}|${k.channel}|${k.verdict}|${k.candidate ? 1 : 0}`;
    const id = this.bucketIds.get(key);
    if (id !== undefined) return id;
    const c = k.candidate ? 1 : 0;
    this.st.bucketInsert!.run(k.day, k.channel, k.verdict, c);
    const row = this.st.bucketGet!.get(k.day, k.channel, k.verdict, c) as { id: number };
    this.bucketIds.set(key, row.id);
    this.bucketChannels.set(row.id, k.channel);
    return row.id;
  }

  bucketChannel(id: number): string | undefined {
    return this.bucketChannels.get(id);
  }

  addToBuckets(deltas: Map<number, number>): void {
    for (const [id, n] of deltas) if (n !== 0) this.st.bucketAdd!.run(n, id);
  }

  /** (Re)load the bucket dictionary: at open, and after a rolled-back transaction. Returns the buckets' days. */
  reloadBuckets(): Set<number> {
    const days = new Set<number>();
    this.bucketIds.clear();
    this.bucketChannels.clear();
    for (const r of this.db.prepare('SELECT id, day, channel, verdict, candidate FROM bucket').all() as {
      id: number;
      day: number;
      channel: string;
      verdict: string;
      candidate: number;
    }[]) {
      this.bucketIds.set(`${r.day}|${r.channel}|${r.verdict}|${r.candidate}`, r.id);
      this.bucketChannels.set(r.id, r.channel);
      days.add(r.day);
    }
    return days;
  }

  // ---- deliveries, facts, messages

  /**
   * Insert a delivery key; `true` when it is new. A key that is certainly new (see {@link FreshKeys}) is
   * written with others later in the same transaction, before it commits ({@link transaction} and {@link commit}
   * see to it) or dropped when it rolls back ({@link rollback}).
   */
  insertDelivery(day: number, h: number, bucket: number, stored: boolean): boolean {
    if (!this.keysExactOnly) this.freshKeys ??= new FreshKeys(this.daysBefore);
    const fresh = this.freshKeys?.claim(day, h) === true;
    // Outside a transaction nothing would write a waiting key: it goes to SQLite at once.
    if (fresh && this.db.inTransaction) {
      this.keys.push(day, h, bucket, stored ? 1 : 0);
      return true;
    }
    this.flushDeliveries();
    return this.st.insDelivery!.run(day, h, bucket, stored ? 1 : 0).changes === 1;
  }

  /**
   * Write the waiting certainly-new keys, in key order; when one of them was there, throws what
   * {@link keysInStep} turns into `null`.
   * Done before the transaction commits, and before any read of keys.
   */
  flushDeliveries(): void {
    const k = this.keys;
    if (k.count === 0) return;
    const order = k.order(this.keysPerDay);
    let written = 0;
    for (let from = 0; from < order.length; ) {
      const n = k.fill(order, from);
      from += n;
      if (n === KEYS_PER_STATEMENT) written += this.st.insDeliveries!.run(...k.args).changes;
      else {
        const a = k.args;
        for (let i = 0; i < n * 4; i += 4)
          written += this.st.insDelivery!.run(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!).changes;
      }
    }
    const expected = k.count;
    k.count = 0;
    if (written !== expected) {
      // From now on every key is asked of SQLite: this connection's picture of the days is out of date.
      this.exactKeysOnly();
      throw new KeysOutOfStep();
    }
  }

  /** After a rollback: the waiting keys went with it. */
  private discardDeliveries(): void {
    this.keys.count = 0;
  }

  /**
   * `fn()`, or `null` when the delivery keys went out of step with another connection while it ran (a key taken
   * for certainly new was there). The open transaction then holds counts made on that belief: the caller rolls
   * it back and goes on; from then on every key is asked of SQLite ({@link exactKeysOnly}).
   */
  keysInStep<T>(fn: () => T): T | null {
    try {
      return fn();
    } catch (error) {
      if (error instanceof KeysOutOfStep) return null;
      throw error;
    }
  }

  /** After keys went out of step (see {@link keysInStep}): ask SQLite for every key from now on. */
  exactKeysOnly(): void {
    this.keysExactOnly = true;
    this.freshKeys = null;
  }

  /** How many delivery keys this connection will likely write (before the first one: sizes the key filter). */
  expectDeliveries(keys: number): void {
    if (!this.keysExactOnly) this.freshKeys ??= new FreshKeys(this.daysBefore, keys);
  }

  delivery(day: number, h: number): { bucket: number; stored: boolean } | null {
    this.flushDeliveries();
    const r = this.st.getDelivery!.get(day, h) as { bucket: number; stored: number } | undefined;
    return r ? { bucket: r.bucket, stored: r.stored === 1 } : null;
  }

  setDelivery(day: number, h: number, bucket: number, stored: boolean): void {
    this.flushDeliveries();
    this.st.setDelivery!.run(bucket, stored ? 1 : 0, day, h);
  }

  /** Keep a source row in full; `false` when the identical row is already there. */
  insertFact(f: Omit<FactRow, 'id'>, dataHash: number): boolean {
    return this.st.insFact!.run(f.day, f.h, f.msgH, f.fileId, f.row, f.format, f.data, dataHash).changes === 1;
  }

  upsertMessage(m: MessageRow): void {
    this.st.upsertMessage!.run(
      m.day,
      m.h,
      m.msgH,
      m.messageId,
      m.receivedAt,
      m.recipient,
      m.sender,
      m.headerFrom,
      m.ip,
      m.helo,
      boolInt(m.tls),
      m.subject,
      m.channel,
      m.verdict,
      m.risk,
      boolInt(m.rejectBlocks),
      m.candidate ? 1 : 0,
      m.codes,
      m.bucket,
      m.fileId,
      m.row,
    );
    this.st.insData!.run(m.day, m.h, m.format, m.data);
  }

  message(day: number, h: number): MessageRow | null {
    const r = this.st.getMessage!.get(day, h) as Record<string, unknown> | undefined;
    return r ? toMessage(r) : null;
  }

  /** The source row a stored delivery's message was made from: its file, export format and raw data. */
  messageSource(day: number, h: number): { fileId: number; format: string; data: string } | null {
    return (this.st.getSource!.get(day, h) as { fileId: number; format: string; data: string } | undefined) ?? null;
  }

  addPending(day: number, h: number): void {
    this.st.addPending!.run(day, h);
  }

  /** Queue re-assessment of every stored Direct Send delivery. */
  queueDirectSend(): void {
    this.db
      .prepare("INSERT OR IGNORE INTO pending (day, h) SELECT day, h FROM message WHERE channel = 'direct-send'")
      .run();
  }

  /** Queue re-assessment of the stored deliveries of a message (all recipients when `h` is 0). */
  pendingForMessage(day: number, msgH: number, h: number): void {
    if (h === 0) this.st.pendingForMessage!.run(day - 1, day, day + 1, msgH);
    else this.st.pendingForDelivery!.run(day - 1, day, day + 1, h, msgH);
  }

  takePending(limit: number): { day: number; h: number }[] {
    return this.st.takePending!.all(limit) as { day: number; h: number }[];
  }

  donePending(day: number, h: number): void {
    this.st.delPending!.run(day, h);
  }

  /** Facts of one delivery, in the order they came (±1 day: sources stamp slightly different times). */
  factsOfDelivery(day: number, msgH: number, h: number): FactRow[] {
    return this.st.factsOfDelivery!.all(day - 1, day, day + 1, h, msgH) as FactRow[];
  }

  /** Facts about a whole message (every recipient's), in the order they came (±1 day). */
  factsOfMessage(day: number, msgH: number): FactRow[] {
    return this.st.factsOfMessage!.all(day - 1, day, day + 1, msgH) as FactRow[];
  }

  /**
   * The files of the ledger that had rows rejected (unreadable records: malformed quoting, a wrong number of
   * fields, a JSON element that is no object; or values that make no sense), with how many of how many read, in
   * the order they were ingested: what a report lists so rows skipped are never skipped without a word.
   */
  filesWithRejectedRows(): { path: string; sha256: string; format: string; read: number; rejected: number }[] {
    return this.db
      .prepare(
        `SELECT path, sha256, format, rows_read AS read, rows_rejected AS rejected FROM file
         WHERE rows_rejected > 0 ORDER BY id`,
      )
      .all() as { path: string; sha256: string; format: string; read: number; rejected: number }[];
  }

  holdsMessages(): boolean {
    return (this.st.holdsMessages!.get() as { x: number }).x === 1;
  }

  joinFactsExist(): boolean {
    return (this.st.joinFactsExist!.get() as { x: number }).x === 1;
  }
}

function toFile(r: Record<string, unknown>): FileRecord {
  return {
    id: r.id as number,
    sha256: r.sha256 as string,
    path: r.path as string,
    size: r.size as number,
    format: r.format as string,
    columns: typeof r.columns === 'string' ? (JSON.parse(r.columns) as string[]) : null,
    status: r.status as 'partial' | 'complete',
    rowsRead: r.rows_read as number,
    rowsStored: r.rows_stored as number,
    rowsAggregated: r.rows_aggregated as number,
    rowsRejected: r.rows_rejected as number,
    rowsDuplicate: r.rows_duplicate as number,
    dateOrder: r.date_order === 'dmy' || r.date_order === 'mdy' ? r.date_order : null,
  };
}

function intBool(v: unknown): boolean | null {
  return v === null || v === undefined ? null : v === 1;
}

export function toMessage(r: Record<string, unknown>): MessageRow {
  return {
    day: r.day as number,
    h: r.h as number,
    msgH: r.msg_h as number,
    messageId: (r.message_id as string | null) ?? null,
    receivedAt: r.received_at as string,
    recipient: (r.recipient as string | null) ?? null,
    sender: (r.sender as string | null) ?? null,
    headerFrom: (r.header_from as string | null) ?? null,
    ip: (r.ip as string | null) ?? null,
    helo: (r.helo as string | null) ?? null,
    tls: intBool(r.tls),
    subject: (r.subject as string | null) ?? null,
    channel: r.channel as string,
    verdict: r.verdict as string,
    risk: r.risk as number,
    rejectBlocks: intBool(r.reject_blocks),
    candidate: r.candidate === 1,
    codes: r.codes as string,
    bucket: r.bucket as number,
    fileId: r.file_id as number,
    row: r.row as number,
    format: r.format as string,
    data: r.data as string,
  };
}
