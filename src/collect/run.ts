/**
 * What a tenant's collect run shares between its sources: options, result, the per-run state ({@link Run}),
 * the quotas, the checkpoints.
 * @module
 */
import type { TenantProfile } from '../core/profile.js';
import type { DailyTotalsSummary } from '../report/mail-totals.js';
import type { DsguardStore } from '../store/dsguard-store.js';
import type { TokenSource } from '../tenant/auth.js';
import type { GraphClient } from '../tenant/graph.js';
import type { CollectProgress } from './progress.js';

export type CollectSource = 'hunting' | 'message-trace';

export const HUNTING_PERMISSION =
  'the app needs the Microsoft Graph application permission ThreatHunting.Read.All (admin consent) for advanced hunting (docs/collect.md)';
export const TRACE_PERMISSION =
  'the app needs the Microsoft Graph application permission ExchangeMessageTrace.Read.All (admin consent), and the tenant needs the message trace service principal: New-MgServicePrincipal -AppId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373 (docs/collect.md)';

/** Advanced hunting: at most this many rows in a result (documented quota); a result this long is truncated. */
export const HUNTING_ROW_CAP = 100_000;
/** Advanced hunting reaches 30 days back. */
export const HUNTING_REACH_MS = 30 * 86_400_000;
/** Message trace: windows of at most 10 days, starting at most 90 days back. */
export const TRACE_WINDOW_MS = 10 * 86_400_000;
export const TRACE_REACH_MS = 90 * 86_400_000;
export const DAY_MS = 86_400_000;
/** A window is not split below this: a minute at the row cap is a failure, not a loop. */
export const MIN_WINDOW_MS = 60_000;
export const TRACE_MAX_PAGES = 10_000;

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

export type { DailyTotal, DailyTotalsSummary } from '../report/mail-totals.js';

// ---- checkpoints -------------------------------------------------------------------------------------------

export function readCheckpoint(store: DsguardStore, tenant: string, source: CollectSource): Date | null {
  const r = store.db
    .prepare('SELECT until FROM collect_checkpoint WHERE tenant = ? AND source = ?')
    .get(tenant, source) as { until: string } | undefined;
  return r ? new Date(r.until) : null;
}

export function writeCheckpoint(
  store: DsguardStore,
  tenant: string,
  source: CollectSource,
  until: Date,
  now: Date,
): void {
  store.db
    .prepare(
      'INSERT INTO collect_checkpoint (tenant, source, until, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, source) DO UPDATE SET until = excluded.until, updated_at = excluded.updated_at',
    )
    .run(tenant, source, until.toISOString(), now.toISOString());
}

// ---- the run -----------------------------------------------------------------------------------------------

export class NoEmailTables extends Error {}

/** Names safe in a file name: the tenant id is a GUID or a domain, but never trust it. */
export const safeName = (s: string) => s.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 100);

/** One tenant's run: what the two sources share. */
export interface Run {
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
  /** Trace detail groups planned this run (trace.ts). */
  detailGroups: Set<string>;
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

/** A message as hunting served it: its NetworkMessageId verbatim, and whether EmailEvents counts attachments / URLs. */
export interface ServedMessage {
  id: string;
  attachments: boolean;
  urls: boolean;
}
