/**
 * The integrity check a store passes before it is used: SQLite's `PRAGMA quick_check`, over the whole store when
 * it is opened for writing, over the tables a report reads when it is opened read-only.
 * @module
 */
import type { SqlDatabase } from './db.js';

/**
 * Tables a report never reads (delivery keys, joined facts, the re-assessment queue): the largest, left out of the
 * check made when a store is opened for reading only.
 */
const NOT_READ_BY_REPORTS = new Set(['delivery', 'fact', 'pending']);

/** Problems `PRAGMA quick_check` lists at most (the first is enough to refuse the store). */
const INTEGRITY_PROBLEMS = 3;

/**
 * `PRAGMA quick_check` over the store: a one-line error naming what is wrong, or `null` when it passes (or the
 * file is not a SQLite database, which the open itself reports). Opened for writing, the whole store is checked
 * (linear in its size: pages are read once); opened for reading (reports), only the tables a report reads, which
 * leaves out the delivery keys and facts, most of a store's pages.
 */
export function checkIntegrity(db: SqlDatabase, mode: 'read' | 'write'): string | null {
  const problems: string[] = [];
  const check = (sql: string) => {
    for (const r of db.prepare(sql).all() as Record<string, unknown>[]) {
      const v = String(Object.values(r)[0]);
      if (v !== 'ok') problems.push(v);
    }
  };
  try {
    if (mode === 'write') check(`PRAGMA quick_check(${INTEGRITY_PROBLEMS})`);
    else {
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[];
      for (const { name } of tables) {
        if (NOT_READ_BY_REPORTS.has(name)) continue;
        check(`PRAGMA quick_check("${name.replace(/"/g, '""')}")`);
        if (problems.length > 0) break;
      }
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Not a database at all: the migrator or the read-only probe says so in its own words.
    if (code === 'SQLITE_NOTADB') return null;
    return `store is damaged (SQLite integrity check: ${(error as Error).message.slice(0, 200)}); restore it from a backup or ingest the exports into a new store`;
  }
  if (problems.length === 0) return null;
  return `store is damaged (SQLite integrity check: ${problems.slice(0, INTEGRITY_PROBLEMS).join('; ').slice(0, 300)}); restore it from a backup or ingest the exports into a new store`;
}
