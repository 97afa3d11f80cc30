/**
 * `collect`: read a tenant's Direct Send evidence from Microsoft 365 into the store, through the same path as an
 * exported file. Each answer (a runHuntingQuery result, a message trace page) is written as the JSON document the
 * API returned into a spool folder beside the store, handed to {@link ingest} (format sniffing, the EmailEvents or
 * Graph message trace adapter, assess(), keyed deliveries) and removed. So there is one classifier, and
 * re-reading a window is idempotent: deliveries are keyed on message id + recipient, a document read completely
 * before (same sha256) is skipped.
 *
 * Sources: advanced hunting first (server-side filtered, windows of a day split in two while a result reaches the
 * row cap); a tenant whose hunting has no email tables (the API's "Failed to resolve table" answer) falls back to
 * Graph message trace (windows of at most 10 days, `$top` 5000, `@odata.nextLink` pages, classified locally).
 *
 * Incremental: after every complete window the source's checkpoint (tenant, source) → window end is written; the
 * next run starts `overlap` before it. A crash anywhere loses at most the window being read.
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ingest } from '../ingest/ingest.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { graphClient } from '../tenant/graph.js';
import { readDailyTotals, readFacts, readHunting } from './hunting.js';
import { formatProgress } from './progress.js';
import {
  type CollectOptions,
  type CollectResult,
  emptyResult,
  HUNTING_PERMISSION,
  HUNTING_REACH_MS,
  NoEmailTables,
  type Run,
  readCheckpoint,
  safeName,
  TRACE_PERMISSION,
} from './run.js';
import { readTrace } from './trace.js';

export { summarizeTotals } from '../report/mail-totals.js';
export { writeDailyTotals } from './hunting.js';
export {
  type CollectOptions,
  type CollectResult,
  type CollectSource,
  type DailyTotal,
  type DailyTotalsSummary,
  emptyResult,
  HUNTING_PERMISSION,
  HUNTING_ROW_CAP,
  readCheckpoint,
  TRACE_PERMISSION,
} from './run.js';

export async function collectTenant(opts: CollectOptions): Promise<CollectResult> {
  const now = opts.now ?? (() => new Date());
  const result = emptyResult(opts.tenantId);
  const opened = DsguardStore.open(opts.db);
  if (opened.status === 'error') return { ...result, status: 'error', error: opened.error };
  const store = opened.store;
  const spool = join(dirname(opts.db), `.dsguard-collect-${safeName(basename(opts.db))}-${safeName(opts.tenantId)}`);
  let permission = HUNTING_PERMISSION;
  const graph = graphClient({
    tokens: opts.tokens,
    ...(opts.graphUrl !== undefined ? { baseUrl: opts.graphUrl } : {}),
    permissionHint: () => permission,
  });
  let seq = 0;
  const run: Run = {
    opts,
    store,
    graph,
    result,
    now,
    progress: opts.onProgress ?? (() => {}),
    rawIds: new Map(),
    detailGroups: new Set(),
    step(p, startedMs) {
      if (!opts.onProgress) return;
      opts.onProgress(
        formatProgress({
          ...p,
          tenant: opts.tenantId,
          totalRows: result.rows,
          requests: graph.requests,
          elapsedMs: now().getTime() - startedMs,
        }),
      );
    },
    async absorb(doc, rows, label, counted = true) {
      seq++;
      const file = join(spool, `${String(seq).padStart(6, '0')}-${label}.json`);
      await writeFile(file, JSON.stringify(doc));
      try {
        const s = await ingest([file], { db: store, profile: opts.profile, reader: 'main' });
        if (counted) result.rows += rows;
        result.stored += s.stored;
        result.aggregated += s.aggregated;
        result.rejected += s.rejected;
        result.duplicates += s.duplicates;
        const failed = s.files.find((f) => f.status === 'error');
        if (failed) throw new Error(`${label}: the answer could not be read as an export: ${failed.error ?? ''}`);
      } finally {
        await rm(file, { force: true });
      }
    },
    startFor(source, reach) {
      const t = now().getTime();
      const floor = t - Math.min(opts.sinceMs, reach);
      const cp = readCheckpoint(store, opts.tenantId, source);
      return new Date(cp ? Math.max(floor, Math.min(cp.getTime(), t) - opts.overlapMs) : floor);
    },
  };
  try {
    await rm(spool, { recursive: true, force: true });
    await mkdir(spool, { recursive: true });
    try {
      result.source = 'hunting';
      const end = now();
      const start = run.startFor('hunting', HUNTING_REACH_MS - 60_000);
      result.from = start.toISOString();
      await readHunting(run, start, end);
      if (result.status === 'ok') await readDailyTotals(run, start, end);
      if (result.status === 'ok') await readFacts(run, start, end);
    } catch (error) {
      // Only the first inventory query decides the tenant has no email tables; later it is an error.
      if (!(error instanceof NoEmailTables) || result.windows > 0) throw error;
      result.fallback = `advanced hunting has no email tables in this tenant (Defender for Office 365 Plan 2 / E5 brings them): read message trace instead (server: ${opts.tokens.redactor.redact(error.message).slice(0, 200)})`;
      run.progress(`${opts.tenantId}: ${result.fallback}`);
      result.source = 'message-trace';
      result.from = null;
      result.checkpoint = null;
      permission = TRACE_PERMISSION;
      await readTrace(run);
    }
  } catch (error) {
    result.status = 'error';
    result.error = opts.tokens.redactor.redact(error instanceof Error ? error.message : String(error));
  } finally {
    result.requests = graph.requests;
    result.bytes = graph.bytes;
    store.close();
    await rm(spool, { recursive: true, force: true }).catch(() => {});
  }
  return result;
}
