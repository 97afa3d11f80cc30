/**
 * The watch cycles in the store (migration 9): the last recorded cycle per tenant and its state, and the record
 * of a new one — its state and the alerts it raised written in one transaction, so after a crash or a signal a
 * cycle is either recorded with its alerts queued or not recorded at all (the next one compares with the last).
 * @module
 */
import type { DsguardStore } from '../store/dsguard-store.js';
import { enqueue } from './delivery.js';
import { type Alert, parseState, type WatchState } from './watch-state.js';

export interface RecordedCycle {
  seq: number;
  at: string;
  /** `null`: unreadable (written by another version): compared as a first cycle. */
  state: WatchState | null;
}

export function lastCycle(store: DsguardStore, tenant: string): RecordedCycle | null {
  const r = store.db.prepare('SELECT seq, at, state FROM watch_cycle WHERE tenant = ?').get(tenant) as
    | { seq: number; at: string; state: string }
    | undefined;
  return r ? { seq: r.seq, at: r.at, state: parseState(r.state) } : null;
}

export function recordCycle(
  store: DsguardStore,
  tenant: string,
  cycle: { seq: number; at: string; state: WatchState; alerts: readonly Alert[] },
): void {
  store.transaction(() => {
    enqueue(store, cycle.alerts, cycle.at);
    store.db
      .prepare(
        'INSERT INTO watch_cycle (tenant, seq, at, state) VALUES (?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, at = excluded.at, state = excluded.state',
      )
      .run(tenant, cycle.seq, cycle.at, JSON.stringify(cycle.state));
  });
}

/** Evidence complete up to here: the latest collect checkpoint of the tenant (ISO), or `null`. */
export function evidenceUntil(store: DsguardStore, tenantId: string): string | null {
  const r = store.db.prepare('SELECT max(until) AS until FROM collect_checkpoint WHERE tenant = ?').get(tenantId) as
    | { until: string | null }
    | undefined;
  return r?.until ?? null;
}
