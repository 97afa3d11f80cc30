/**
 * The small SQL interface the store depends on (kysely style: the store never imports a driver). Any
 * synchronous SQLite binding with prepared statements and transactions fits; better-sqlite3.ts adapts
 * better-sqlite3 to it, and node:sqlite's DatabaseSync could be adapted the same way once Node 22 is the floor,
 * without touching the store's callers.
 * @module
 */

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

/** Opens a database for the store: a driver module provides one (better-sqlite3.ts is the one in use). */
export type OpenSqlDatabase = (path: string, opts?: OpenOptions) => SqlDatabase;
