/**
 * The small SQL interface the store depends on (kysely style: the store never imports a driver), and the
 * better-sqlite3 implementation. Any synchronous SQLite binding with prepared statements and transactions
 * fits (node:sqlite's DatabaseSync, for one, once Node 22 is the floor).
 * @module
 */
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';

export type SqlValue = string | number | bigint | null | Uint8Array;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  iterate(...params: SqlValue[]): IterableIterator<unknown>;
}

export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  /** Wrap `fn` in BEGIN/COMMIT (ROLLBACK when it throws). */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  /** Whether a transaction is open (SQLite ends one on its own after some errors: ROLLBACK would then fail). */
  readonly inTransaction: boolean;
  close(): void;
}

export interface OpenOptions {
  readonly?: boolean;
  /**
   * Page cache in MiB (default 16). Ingest writes keys in day order, so a small cache holds the pages it
   * touches; a larger one only raises the peak memory (measured: 64 MiB cost ~100 MiB of RSS, no speed).
   */
  cacheMiB?: number;
}

/** Open (create) a SQLite database file in WAL mode. */
export function openSqlite(path: string, opts: OpenOptions = {}): SqlDatabase {
  const db = new Database(path, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
  if (opts.readonly !== true) {
    // 16 KiB pages for a new store (an existing one keeps its own; WAL fixes the size once the file is made):
    // ingest inserts keys at random places within a day, and larger pages split less often. Measured on 1M
    // trace rows: 7.4-7.6 s instead of 8.0-8.5 s with 4 KiB pages, same store size.
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a crash can lose the last transactions but never corrupts or half-writes one.
    db.pragma('synchronous = NORMAL');
    // Checkpoint every 8,192 pages of WAL (128 MiB with 16 KiB pages; 32 MiB in a store made with 4 KiB pages)
    // rather than 1,000: fewer, larger copies during bulk ingest (2,048 measured the same on 1M rows).
    db.pragma('wal_autocheckpoint = 8192');
  }
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = -${(opts.cacheMiB ?? 16) * 1024}`);
  // Sorts of the post-ingest aggregation spill to temporary files rather than growing the heap, and a sort that
  // spills is merged on up to 2 helper threads (10M-row store: the source GROUP BYs take a third less time;
  // in-memory sorts are unaffected).
  db.pragma('temp_store = FILE');
  db.pragma(`threads = ${Math.min(2, Math.max(0, availableParallelism() - 1))}`);
  db.pragma('busy_timeout = 5000');
  return db as unknown as SqlDatabase;
}
