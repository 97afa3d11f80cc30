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
import { messageHash, normalizeMessageId } from '../core/delivery-key.js';
import {
  dailyTotalsQuery,
  type FactTable,
  factQuery,
  inventoryBody,
  messageFactsBatches,
} from '../core/kql/windowed.js';
import type { TenantProfile } from '../core/profile.js';
import { ingest } from '../ingest/ingest.js';
import { DsguardStore } from '../store/dsguard-store.js';
import type { TokenSource } from '../tenant/auth.js';
import { type GraphClient, GraphError, graphClient } from '../tenant/graph.js';
import { type CollectProgress, formatProgress } from './progress.js';
import { detailGroup, detailsPath, TraceDetailPlanner, type TraceRowFields } from './trace-detail-plan.js';

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
  /** A progress line (see progress.ts); the CLI prints it on stderr when that is a terminal. */
  onProgress?: (line: string) => void;
  /** Most getDetailsByRecipient calls in one run (documented throttle: 100 requests per 5 minutes); default 1,000. */
  maxTraceDetails?: number;
  /** Largest text of one EmailAttachmentInfo / EmailUrlInfo query (tests lower it to force batches). */
  factQueryChars?: number;
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
  /** Per-day totals read this run (hunting only), summed; `null` when not read. */
  totals: DailyTotalsSummary | null;
  /** Flagged messages whose EmailAttachmentInfo / EmailUrlInfo rows were asked for, and the rows that came. */
  facts: { messages: number; queries: number; attachments: number; urls: number } | null;
  /**
   * Message trace: getDetailsByRecipient for the rows whose detail can change a verdict (trace-detail-plan.ts):
   * planned this run, asked, events stored, and left for the next run (over the per-run budget).
   */
  details: { planned: number; asked: number; events: number; deferred: number } | null;
}

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
  absorb(doc: unknown, rows: number, label: string, counted?: boolean): Promise<void>;
  /** NetworkMessageId as served, by the store's message hash of it: the fact queries name ids exactly as Defender does. */
  rawIds: Map<number, ServedMessage>;
  /** Emit a progress line for a step of `source`. */
  step(p: Omit<CollectProgress, 'tenant' | 'totalRows' | 'requests' | 'elapsedMs'>, startedMs: number): void;
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
    totals: null,
    facts: null,
    details: null,
  };
}

class AtRowCap extends Error {}

/** One `runHuntingQuery`: its `results[]` (a tenant without email tables throws {@link NoEmailTables}). */
async function hunt(run: Run, query: string, what: string): Promise<{ doc: unknown; rows: unknown[] }> {
  let doc: unknown;
  try {
    doc = await run.graph.post('/v1.0/security/runHuntingQuery', { Query: query });
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
  if (!Array.isArray(rows))
    throw new GraphError('bad-response', `runHuntingQuery (${what}): the answer has no results[]`);
  return { doc, rows };
}

/** Advanced hunting, oldest window first; one at the row cap is split in two and read again. */
async function readHunting(run: Run, start: Date, end: Date): Promise<void> {
  const { opts, result } = run;
  const cap = opts.rowCap ?? HUNTING_ROW_CAP;
  const began = run.now().getTime();
  const queue: { from: Date; to: Date }[] = [];
  for (let t = start.getTime(); t < end.getTime(); t += DAY_MS)
    queue.push({ from: new Date(t), to: new Date(Math.min(t + DAY_MS, end.getTime())) });
  let total = queue.length;
  while (queue.length > 0) {
    if (opts.signal?.aborted) {
      result.status = 'interrupted';
      return;
    }
    const w = queue.shift()!;
    const window = { from: w.from.toISOString(), to: w.to.toISOString() };
    const { doc, rows } = await hunt(run, inventoryBody(opts.profile, window), 'inventory');
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
      total++;
      run.step(
        {
          source: 'hunting',
          window,
          rows: rows.length,
          done: result.windows,
          total,
          note: `at the ${cap}-row cap: split at ${mid.toISOString()}`,
        },
        began,
      );
      continue;
    }
    for (const r of rows) {
      const o = (r ?? {}) as { NetworkMessageId?: unknown; AttachmentCount?: unknown; UrlCount?: unknown };
      if (typeof o.NetworkMessageId !== 'string' || o.NetworkMessageId === '') continue;
      // A count of 0 says there is nothing to ask for; a missing or unreadable count asks anyway.
      const some = (v: unknown) => !(v === 0 || v === '0');
      const h = messageHash(normalizeMessageId(o.NetworkMessageId));
      const had = run.rawIds.get(h);
      run.rawIds.set(h, {
        id: o.NetworkMessageId,
        attachments: (had?.attachments ?? false) || some(o.AttachmentCount),
        urls: (had?.urls ?? false) || some(o.UrlCount),
      });
    }
    if (rows.length > 0) await run.absorb(doc, rows.length, `hunting-${w.from.getTime()}`);
    result.windows++;
    writeCheckpoint(run.store, opts.tenantId, 'hunting', w.to, run.now());
    result.checkpoint = w.to.toISOString();
    run.step({ source: 'hunting', window, rows: rows.length, done: result.windows, total }, began);
  }
}

const UTC_DAY = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Per-day totals over whole UTC days from the day `start` falls in to `end`: one query (at most 31 rows),
 * stored per tenant and day. A day is complete when the query covered it whole (inside the 30-day reach) and
 * it was over; a partial count never replaces a complete one.
 */
async function readDailyTotals(run: Run, start: Date, end: Date): Promise<void> {
  const { opts, result } = run;
  const began = run.now().getTime();
  const reachFloor = end.getTime() - HUNTING_REACH_MS;
  const from = Math.floor(start.getTime() / DAY_MS) * DAY_MS;
  const window = { from: new Date(from).toISOString(), to: end.toISOString() };
  const { rows } = await hunt(run, dailyTotalsQuery(opts.profile, window), 'daily totals');
  const totals: DailyTotal[] = [];
  const num = (v: unknown) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  };
  for (const [i, r] of rows.entries()) {
    const o = (r ?? {}) as Record<string, unknown>;
    const dayMs = typeof o.Day === 'string' ? Date.parse(o.Day) : Number.NaN;
    const values = [o.Total, o.Inbound, o.NoConnector, o.DirectSend, o.InternalSpoof].map(num);
    if (!Number.isFinite(dayMs) || dayMs % DAY_MS !== 0 || values.some((v) => v === null)) {
      run.progress(`${opts.tenantId} daily totals: row ${i + 1} is not a day of counts: skipped`);
      result.rejected++;
      continue;
    }
    const [total, inbound, noConnector, directSend, internalSpoof] = values as number[];
    totals.push({
      day: UTC_DAY(dayMs),
      total: total!,
      inbound: inbound!,
      noConnector: noConnector!,
      directSend: directSend!,
      internalSpoof: internalSpoof!,
      complete: dayMs >= from && dayMs >= reachFloor && dayMs + DAY_MS <= end.getTime(),
    });
  }
  writeDailyTotals(run.store, opts.tenantId, totals, run.now());
  result.totals = summarizeTotals(totals);
  run.step({ source: 'daily totals', window, rows: rows.length, done: 1, total: 1 }, began);
}

export function writeDailyTotals(store: DsguardStore, tenant: string, totals: readonly DailyTotal[], now: Date): void {
  const up = store.db.prepare(
    `INSERT INTO collect_daily_total (tenant, day, total, inbound, no_connector, direct_send, internal_spoof, complete, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant, day) DO UPDATE SET total = excluded.total, inbound = excluded.inbound,
       no_connector = excluded.no_connector, direct_send = excluded.direct_send, internal_spoof = excluded.internal_spoof,
       complete = excluded.complete, updated_at = excluded.updated_at
     WHERE excluded.complete = 1 OR collect_daily_total.complete = 0`,
  );
  store.db.transaction(() => {
    for (const t of totals)
      up.run(
        tenant,
        t.day,
        t.total,
        t.inbound,
        t.noConnector,
        t.directSend,
        t.internalSpoof,
        t.complete ? 1 : 0,
        now.toISOString(),
      );
  })();
}

export function readDailyTotalsFromStore(store: DsguardStore, tenant?: string): DailyTotal[] {
  const sql = `SELECT day, total, inbound, no_connector AS noConnector, direct_send AS directSend,
      internal_spoof AS internalSpoof, complete FROM collect_daily_total ${tenant !== undefined ? 'WHERE tenant = ?' : ''} ORDER BY day`;
  const rows = (tenant !== undefined ? store.db.prepare(sql).all(tenant) : store.db.prepare(sql).all()) as (Omit<
    DailyTotal,
    'complete'
  > & { complete: number })[];
  return rows.map((r) => ({ ...r, complete: r.complete === 1 }));
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

/** A message as hunting served it: its NetworkMessageId verbatim, and whether EmailEvents counts attachments / URLs. */
interface ServedMessage {
  id: string;
  attachments: boolean;
  urls: boolean;
}

/** The messages read this run that the assessment calls malicious or suspicious. */
function flaggedMessages(run: Run, since: Date): ServedMessage[] {
  const rows = run.store.db
    .prepare(
      `SELECT DISTINCT msg_h AS id FROM message
       WHERE verdict IN ('malicious', 'suspicious') AND channel IN ('direct-send', 'internal-spoof') AND received_at >= ?`,
    )
    .all(since.toISOString()) as { id: number }[];
  const out: ServedMessage[] = [];
  for (const r of rows) {
    const m = run.rawIds.get(r.id);
    if (m !== undefined) out.push(m);
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * `EmailAttachmentInfo` and `EmailUrlInfo` rows of the flagged messages, batched into `NetworkMessageId in (…)`
 * queries under the text budget; a batch at the row cap is halved and read again. The rows go through ingest
 * as facts of their messages (attachment names and hashes, URLs incl. QR codes), which re-assesses them.
 */
async function readFacts(run: Run, start: Date, end: Date): Promise<void> {
  const { opts, result } = run;
  const cap = opts.rowCap ?? HUNTING_ROW_CAP;
  const flagged = flaggedMessages(run, start);
  const facts = { messages: flagged.length, queries: 0, attachments: 0, urls: 0 };
  result.facts = facts;
  if (flagged.length === 0) return;
  const began = run.now().getTime();
  // Fact rows carry their own Timestamp, at or just after the message's: an hour's margin either side.
  const window = {
    from: new Date(Math.max(start.getTime() - 3_600_000, end.getTime() - HUNTING_REACH_MS + 60_000)).toISOString(),
    to: new Date(end.getTime() + 3_600_000).toISOString(),
  };
  const tables: FactTable[] = ['EmailAttachmentInfo', 'EmailUrlInfo'];
  const queue: { table: FactTable; ids: string[] }[] = [];
  for (const table of tables) {
    // Only messages EmailEvents says have attachments (AttachmentCount) or URLs (UrlCount).
    const ids = flagged.filter((m) => (table === 'EmailAttachmentInfo' ? m.attachments : m.urls)).map((m) => m.id);
    for (const b of messageFactsBatches(table, window, ids, opts.factQueryChars)) queue.push({ table, ids: b.ids });
  }
  let total = queue.length;
  let done = 0;
  while (queue.length > 0) {
    if (opts.signal?.aborted) {
      result.status = 'interrupted';
      return;
    }
    const b = queue.shift()!;
    const { doc, rows } = await hunt(run, factQuery(b.table, window, b.ids), b.table);
    facts.queries++;
    if (rows.length >= cap) {
      if (b.ids.length <= 1) throw new AtRowCap(`${b.table}: ${rows.length} rows for one message (the row cap)`);
      const half = Math.ceil(b.ids.length / 2);
      queue.unshift({ table: b.table, ids: b.ids.slice(0, half) }, { table: b.table, ids: b.ids.slice(half) });
      total++;
      continue;
    }
    if (rows.length > 0) await run.absorb(doc, rows.length, `${b.table}-${facts.queries}`, false);
    if (b.table === 'EmailAttachmentInfo') facts.attachments += rows.length;
    else facts.urls += rows.length;
    done++;
    run.step({ source: b.table, window, rows: rows.length, done, total }, began);
  }
}

/** Message trace: 10-day windows, every page of each (classified locally). */
async function readTrace(run: Run): Promise<void> {
  const { opts, graph, result, now } = run;
  const began = now().getTime();
  const end = now();
  const start = run.startFor('message-trace', TRACE_REACH_MS - 3_600_000);
  result.from = start.toISOString();
  const top = Math.max(1, Math.min(5000, opts.tracePageSize ?? 5000));
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  const windows = Math.ceil((end.getTime() - start.getTime()) / TRACE_WINDOW_MS);
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
    const planner = new TraceDetailPlanner<TraceRowFields>(opts.profile.acceptedDomains);
    while (next !== null) {
      const doc = (await graph.get(next)) as { value?: unknown; '@odata.nextLink'?: unknown } | null;
      if (!doc || !Array.isArray(doc.value))
        throw new GraphError('bad-response', `messageTraces: page ${pages + 1} has no value[]`);
      pages++;
      rows += doc.value.length;
      if (doc.value.length > 0) await run.absorb(doc, doc.value.length, `trace-${t}-${pages}`);
      planner.add(doc.value.filter(isTraceRow));
      const link = doc['@odata.nextLink'];
      next = typeof link === 'string' && link !== '' ? graph.sameOrigin(link) : null;
      if (pages >= TRACE_MAX_PAGES && next !== null)
        throw new GraphError('bad-response', `messageTraces: more than ${TRACE_MAX_PAGES} pages in one window`);
    }
    await readTraceDetails(run, planner.result());
    if (result.status !== 'ok') return;
    result.windows++;
    writeCheckpoint(run.store, opts.tenantId, 'message-trace', to, now());
    result.checkpoint = to.toISOString();
    run.step(
      {
        source: 'message trace',
        window: { from: new Date(t).toISOString(), to: to.toISOString() },
        rows,
        done: result.windows,
        total: windows,
        note: `${pages} page(s)`,
      },
      began,
    );
  }
}

function isTraceRow(v: unknown): v is TraceRowFields {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return ['id', 'receivedDateTime', 'senderAddress', 'recipientAddress', 'fromIP'].every(
    (k) => typeof o[k] === 'string',
  );
}

/**
 * getDetailsByRecipient for the planned rows not asked before (collect_trace_detail), within the run's budget.
 * Each answer becomes the rows `dsguard powershell`'s script exports (Date, Event, Action, Detail, Data,
 * MessageId, MessageTraceId, RecipientAddress, SenderAddress) and goes through ingest with them.
 */
async function readTraceDetails(run: Run, planned: readonly TraceRowFields[]): Promise<void> {
  const { opts, result, store } = run;
  const d = result.details ?? { planned: 0, asked: 0, events: 0, deferred: 0 };
  result.details = d;
  const asked = store.db.prepare('SELECT 1 FROM collect_trace_detail WHERE tenant = ? AND grp = ?');
  const mark = store.db.prepare(
    'INSERT OR IGNORE INTO collect_trace_detail (tenant, grp, trace_id, recipient, fetched_at) VALUES (?, ?, ?, ?, ?)',
  );
  const todo = planned.filter((r) => asked.get(opts.tenantId, detailGroup(r)) === undefined);
  d.planned += todo.length;
  const budget = opts.maxTraceDetails ?? 1000;
  const began = run.now().getTime();
  let done = 0;
  for (const r of todo) {
    if (opts.signal?.aborted) {
      result.status = 'interrupted';
      return;
    }
    if (d.asked >= budget) {
      d.deferred++;
      continue;
    }
    const doc = (await run.graph.get(detailsPath(r.id, r.recipientAddress))) as { value?: unknown } | null;
    if (!doc || !Array.isArray(doc.value))
      throw new GraphError('bad-response', 'getDetailsByRecipient: the answer has no value[]');
    d.asked++;
    const events = doc.value
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        Date: e.dateTime ?? null,
        Event: e.event ?? null,
        Action: e.action ?? null,
        Detail: e.description ?? null,
        Data: e.data ?? null,
        MessageId: e.messageId ?? null,
        MessageTraceId: r.id,
        RecipientAddress: r.recipientAddress,
        SenderAddress: r.senderAddress,
      }));
    if (events.length > 0) await run.absorb({ value: events }, events.length, `detail-${d.asked}`, false);
    d.events += events.length;
    mark.run(opts.tenantId, detailGroup(r), r.id, r.recipientAddress.toLowerCase(), run.now().toISOString());
    done++;
    run.step({ source: 'trace detail', rows: events.length, done, total: Math.min(todo.length, budget) }, began);
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
    rawIds: new Map(),
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
