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
import type { TenantProfile } from '../core/profile.js';
import { ingest } from '../ingest/ingest.js';
import { DsguardStore } from '../store/dsguard-store.js';
import type { TokenSource } from '../tenant/auth.js';
import { type GraphClient, GraphError, graphClient } from '../tenant/graph.js';
import { directSendHuntingQuery } from './hunting-query.js';

export type CollectSource = 'hunting' | 'message-trace';

export const HUNTING_PERMISSION =
  'the app needs the Microsoft Graph application permission ThreatHunting.Read.All (admin consent) for advanced hunting (docs/collect.md)';
export const TRACE_PERMISSION =
  'the app needs the Microsoft Graph application permission ExchangeMessageTrace.Read.All (admin consent), and the tenant needs the message trace service principal: New-MgServicePrincipal -AppId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373 (docs/collect.md)';

/** Advanced hunting: at most this many rows in a result (documented quota); a result this long is truncated. */
export const HUNTING_ROW_CAP = 100_000;
/** Advanced hunting reaches 30 days back. */
const HUNTING_REACH_MS = 30 * 86_400_000;
/** Message trace: windows of at most 10 days, starting at most 90 days back. */
const TRACE_WINDOW_MS = 10 * 86_400_000;
const TRACE_REACH_MS = 90 * 86_400_000;
const DAY_MS = 86_400_000;
/** A window is not split below this: a minute at the row cap is a failure, not a loop. */
const MIN_WINDOW_MS = 60_000;
const TRACE_MAX_PAGES = 10_000;

export interface CollectOptions {
  tenantId: string;
  tokens: TokenSource;
  /** Store path. */
  db: string;
  profile: TenantProfile;
  /** How far back a first run reads, in milliseconds. */
  sinceMs: number;
  /** Re-read this much before the checkpoint (late rows, changed status). */
  overlapMs: number;
  graphUrl?: string;
  /** Row cap of one hunting result (tests lower it). */
  rowCap?: number;
  /** Page size asked of message trace (`$top`, 1–5000). */
  tracePageSize?: number;
  now?: () => Date;
  onProgress?: (line: string) => void;
  /** Stop after the current window (SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

export interface CollectResult {
  tenant: string;
  status: 'ok' | 'error' | 'interrupted';
  source: CollectSource | null;
  /** Why message trace was read instead of hunting. */
  fallback: string | null;
  error: string | null;
  windows: number;
  /** Windows split because a result reached the row cap. */
  splits: number;
  requests: number;
  bytes: number;
  rows: number;
  stored: number;
  aggregated: number;
  rejected: number;
  duplicates: number;
  /** Read from (ISO) — the checkpoint minus the overlap, or `since`. */
  from: string | null;
  /** The checkpoint after the run (ISO). */
  checkpoint: string | null;
}

// ---- checkpoints -------------------------------------------------------------------------------------------

export function readCheckpoint(store: DsguardStore, tenant: string, source: CollectSource): Date | null {
  const r = store.db
    .prepare('SELECT until FROM collect_checkpoint WHERE tenant = ? AND source = ?')
    .get(tenant, source) as { until: string } | undefined;
  return r ? new Date(r.until) : null;
}

function writeCheckpoint(store: DsguardStore, tenant: string, source: CollectSource, until: Date, now: Date): void {
  store.db
    .prepare(
      'INSERT INTO collect_checkpoint (tenant, source, until, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, source) DO UPDATE SET until = excluded.until, updated_at = excluded.updated_at',
    )
    .run(tenant, source, until.toISOString(), now.toISOString());
}

// ---- the run -----------------------------------------------------------------------------------------------

class NoEmailTables extends Error {}

/** Names safe in a file name: the tenant id is a GUID or a domain, but never trust it. */
const safeName = (s: string) => s.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 100);

/** One tenant's run: what the two sources share. */
interface Run {
  opts: CollectOptions;
  store: DsguardStore;
  graph: GraphClient;
  result: CollectResult;
  now: () => Date;
  progress: (line: string) => void;
  /** One API answer through the file path into the store. */
  absorb(doc: unknown, rows: number, label: string): Promise<void>;
  /** Where a source's run starts: `since` back, or the overlap before its checkpoint. */
  startFor(source: CollectSource, reach: number): Date;
}

/** A tenant's result before any request (the CLI also reports a tenant that failed before collecting with it). */
export function emptyResult(tenant: string): CollectResult {
  return {
    tenant,
    status: 'ok',
    source: null,
    fallback: null,
    error: null,
    windows: 0,
    splits: 0,
    requests: 0,
    bytes: 0,
    rows: 0,
    stored: 0,
    aggregated: 0,
    rejected: 0,
    duplicates: 0,
    from: null,
    checkpoint: null,
  };
}

/** Advanced hunting, oldest window first; one at the row cap is split in two and read again. */
async function readHunting(run: Run): Promise<void> {
  const { opts, graph, result, now, progress } = run;
  const cap = opts.rowCap ?? HUNTING_ROW_CAP;
  const end = now();
  const start = run.startFor('hunting', HUNTING_REACH_MS - 60_000);
  result.from = start.toISOString();
  const queue: { from: Date; to: Date }[] = [];
  for (let t = start.getTime(); t < end.getTime(); t += DAY_MS)
    queue.push({ from: new Date(t), to: new Date(Math.min(t + DAY_MS, end.getTime())) });
  while (queue.length > 0) {
    if (opts.signal?.aborted) {
      result.status = 'interrupted';
      return;
    }
    const w = queue.shift()!;
    const query = directSendHuntingQuery(w, opts.profile.acceptedDomains);
    let doc: unknown;
    try {
      doc = await graph.post('/v1.0/security/runHuntingQuery', { Query: query });
    } catch (error) {
      if (
        error instanceof GraphError &&
        error.status === 400 &&
        /failed to resolve (table|scalar|column)[^']*'?Email(Events|AttachmentInfo|UrlInfo)/i.test(error.serverText)
      )
        throw new NoEmailTables(error.serverText);
      throw error;
    }
    const rows = (doc as { results?: unknown } | null)?.results;
    if (!Array.isArray(rows)) throw new GraphError('bad-response', 'runHuntingQuery: the answer has no results[]');
    if (rows.length >= cap) {
      const span = w.to.getTime() - w.from.getTime();
      if (span <= MIN_WINDOW_MS)
        throw new GraphError(
          'bad-response',
          `runHuntingQuery: ${rows.length} rows (the ${cap}-row cap) in one minute from ${w.from.toISOString()}: too many to read without loss`,
        );
      const mid = new Date(w.from.getTime() + Math.floor(span / 2));
      queue.unshift({ from: w.from, to: mid }, { from: mid, to: w.to });
      result.splits++;
      progress(`${opts.tenantId} hunting: ${rows.length} rows at the cap: window split at ${mid.toISOString()}`);
      continue;
    }
    if (rows.length > 0) await run.absorb(doc, rows.length, `hunting-${w.from.getTime()}`);
    result.windows++;
    writeCheckpoint(run.store, opts.tenantId, 'hunting', w.to, now());
    result.checkpoint = w.to.toISOString();
    progress(
      `${opts.tenantId} hunting ${w.from.toISOString()} → ${w.to.toISOString()}: ${rows.length} rows, ${graph.requests} requests`,
    );
  }
}

/** Message trace: 10-day windows, every page of each (classified locally). */
async function readTrace(run: Run): Promise<void> {
  const { opts, graph, result, now, progress } = run;
  const end = now();
  const start = run.startFor('message-trace', TRACE_REACH_MS - 3_600_000);
  result.from = start.toISOString();
  const top = Math.max(1, Math.min(5000, opts.tracePageSize ?? 5000));
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  for (let t = start.getTime(); t < end.getTime(); t += TRACE_WINDOW_MS) {
    if (opts.signal?.aborted) {
      result.status = 'interrupted';
      return;
    }
    const to = new Date(Math.min(t + TRACE_WINDOW_MS, end.getTime()));
    const filter = `receivedDateTime ge ${iso(new Date(t))} and receivedDateTime le ${iso(to)}`;
    let next: string | null =
      `/v1.0/admin/exchange/tracing/messageTraces?$filter=${encodeURIComponent(filter)}&$top=${top}`;
    let pages = 0;
    let rows = 0;
    while (next !== null) {
      const doc = (await graph.get(next)) as { value?: unknown; '@odata.nextLink'?: unknown } | null;
      if (!doc || !Array.isArray(doc.value))
        throw new GraphError('bad-response', `messageTraces: page ${pages + 1} has no value[]`);
      pages++;
      rows += doc.value.length;
      if (doc.value.length > 0) await run.absorb(doc, doc.value.length, `trace-${t}-${pages}`);
      const link = doc['@odata.nextLink'];
      next = typeof link === 'string' && link !== '' ? graph.sameOrigin(link) : null;
      if (pages >= TRACE_MAX_PAGES && next !== null)
        throw new GraphError('bad-response', `messageTraces: more than ${TRACE_MAX_PAGES} pages in one window`);
    }
    result.windows++;
    writeCheckpoint(run.store, opts.tenantId, 'message-trace', to, now());
    result.checkpoint = to.toISOString();
    progress(
      `${opts.tenantId} message trace ${new Date(t).toISOString()} → ${to.toISOString()}: ${rows} rows in ${pages} page(s), ${graph.requests} requests`,
    );
  }
}

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
    async absorb(doc, rows, label) {
      seq++;
      const file = join(spool, `${String(seq).padStart(6, '0')}-${label}.json`);
      await writeFile(file, JSON.stringify(doc));
      try {
        const s = await ingest([file], { db: store, profile: opts.profile, reader: 'main' });
        result.rows += rows;
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
      await readHunting(run);
    } catch (error) {
      if (!(error instanceof NoEmailTables)) throw error;
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
