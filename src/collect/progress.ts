/**
 * `collect`'s progress line (stderr, TTY only): tenant, source, window, rows, requests and an estimate of the time
 * left. A pure function of what the run counted, so it is tested as such; the CLI prints it only when stderr is a
 * terminal (io.progress), never into a pipe or a log.
 * @module
 */

export interface CollectProgress {
  tenant: string;
  /** `hunting`, `message-trace`, `daily totals`, `EmailAttachmentInfo`, … */
  source: string;
  /** The window just read (ISO instants), when there is one. */
  window?: { from: string; to: string };
  /** Rows of this step, and of the tenant's run so far. */
  rows: number;
  totalRows: number;
  requests: number;
  /** Units (windows, batches) done and known so far, for the estimate. */
  done: number;
  total: number;
  /** Milliseconds since the source started. */
  elapsedMs: number;
  /** Free text appended (a split, a fallback). */
  note?: string;
}

/** `12s`, `4m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The estimate of the time left: the mean time of a unit so far times the units left; `null` before the first. */
export function etaMs(p: Pick<CollectProgress, 'done' | 'total' | 'elapsedMs'>): number | null {
  if (p.done <= 0 || p.total < p.done) return null;
  return (p.elapsedMs / p.done) * (p.total - p.done);
}

const short = (iso: string) => iso.replace(/:\d{2}\.\d{3}Z$/, 'Z').replace('T', ' ');

export function formatProgress(p: CollectProgress): string {
  const eta = etaMs(p);
  const parts = [
    `${p.tenant} ${p.source}`,
    ...(p.window ? [`${short(p.window.from)} → ${short(p.window.to)}`] : []),
    `${p.rows} rows (${p.totalRows} in all)`,
    `${p.requests} requests`,
    `${p.done}/${p.total}`,
    eta === null ? 'ETA …' : `ETA ${formatDuration(eta)}`,
  ];
  return `${parts.join(' · ')}${p.note ? ` · ${p.note}` : ''}`;
}
