/**
 * better-sqlite3 behind the store's {@link SqlDatabase} interface: the pragmas a store is opened with, and a
 * thin adapter object (statements are better-sqlite3's own, so rows cost nothing extra). The only module that
 * imports the driver.
 * @module
 */
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import type { OpenSqlDatabase, SqlDatabase, SqlStatement, SqlValue } from './db.js';

/** The driver's database seen through the interface: every member checked by the compiler, no cast. */
function adapt(db: Database.Database): SqlDatabase {
  return {
    prepare: (sql: string): SqlStatement => db.prepare<SqlValue[]>(sql),
    exec: (sql: string): void => {
      db.exec(sql);
    },
    transaction: (fn) => db.transaction(fn),
    get inTransaction(): boolean {
      return db.inTransaction;
    },
    close: (): void => {
      db.close();
    },
  };
}

/** Open (create) a SQLite database file in WAL mode. */
export const openSqlite: OpenSqlDatabase = (path, opts = {}) => {
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
  return adapt(db);
};
