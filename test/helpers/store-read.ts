/** Read a store the CLI wrote, from a test: a read-only connection, closed whatever happens. */
import Database from 'better-sqlite3';

export function readStore<T>(db: string, read: (d: Database.Database) => T): T {
  const d = new Database(db, { readonly: true });
  try {
    return read(d);
  } finally {
    d.close();
  }
}

/** All rows of `sql` in the store at `db`. */
export function queryStore<T>(db: string, sql: string, ...params: unknown[]): T[] {
  return readStore(db, (d) => d.prepare(sql).all(...params) as T[]);
}
