/**
 * All the tenant's mail per UTC day, as `dsguard collect` reads it from advanced hunting (`collect_daily_total`,
 * migration 8): the denominator that says what share of inbound mail is Direct Send. Only a store that collect
 * wrote has it; a store of exports alone has none (`null`).
 * @module
 */
import type { SqlDatabase } from '../store/db.js';

export interface DailyTotal {
  day: string;
  total: number;
  inbound: number;
  noConnector: number;
  directSend: number;
  internalSpoof: number;
  complete: boolean;
}

export interface DailyTotalsSummary {
  days: number;
  /** Days the query covered whole (the others: the first and the current day). */
  completeDays: number;
  total: number;
  inbound: number;
  noConnector: number;
  directSend: number;
  internalSpoof: number;
  /** Direct Send rows per 100 inbound rows (two decimals), `null` without inbound mail. */
  directSendPercentOfInbound: number | null;
}

export function summarizeTotals(totals: readonly DailyTotal[]): DailyTotalsSummary {
  const sum = (k: 'total' | 'inbound' | 'noConnector' | 'directSend' | 'internalSpoof') =>
    totals.reduce((a, t) => a + t[k], 0);
  const inbound = sum('inbound');
  const directSend = sum('directSend');
  return {
    days: totals.length,
    completeDays: totals.filter((t) => t.complete).length,
    total: sum('total'),
    inbound,
    noConnector: sum('noConnector'),
    directSend,
    internalSpoof: sum('internalSpoof'),
    directSendPercentOfInbound: inbound > 0 ? Math.round((directSend / inbound) * 10_000) / 100 : null,
  };
}

/**
 * The stored per-day totals on or after `since` (YYYY-MM-DD), summed; `null` when there are none (or the store
 * predates the table).
 */
export function storedMailTotals(db: SqlDatabase, since: string | null): DailyTotalsSummary | null {
  // A store opened read-only is not migrated: one written before migration 8 has no such table. Only its absence
  // means "no totals"; any other SQLite error is a real failure and propagates.
  if (
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'collect_daily_total'").get() === undefined
  )
    return null;
  const rows = db
    .prepare(
      `SELECT day, sum(total) AS total, sum(inbound) AS inbound, sum(no_connector) AS noConnector,
         sum(direct_send) AS directSend, sum(internal_spoof) AS internalSpoof, min(complete) AS complete
       FROM collect_daily_total WHERE day >= ? GROUP BY day ORDER BY day`,
    )
    .all(since ?? '') as (Omit<DailyTotal, 'complete'> & { complete: number })[];
  if (rows.length === 0) return null;
  return summarizeTotals(rows.map((r) => ({ ...r, complete: r.complete === 1 })));
}
