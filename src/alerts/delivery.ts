/**
 * Alert delivery: the outbox in the store, a token bucket per sink, retries with exponential backoff that honour
 * a webhook's 429 Retry-After. At least once: an alert is marked delivered to a sink (alert_sent) right after
 * the sink accepted it, and leaves the outbox once every configured sink has it; a crash between the two resends.
 * The clock and sleep are injected (tests run the bucket and the backoff without waiting).
 * @module
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DsguardStore } from '../store/dsguard-store.js';
import type { Alert } from './watch-state.js';

export type SendResult =
  | { status: 'ok' }
  | {
      status: 'error';
      /** One line, never the URL. */
      error: string;
      /** Worth trying again (429, 408, 5xx, network); otherwise the sink refuses this alert as it is. */
      retry: boolean;
      /** The sink asked to wait this long (Retry-After). */
      retryAfterMs?: number;
      /** The HTTP status the sink answered, when it answered. */
      httpStatus?: number;
    };

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: a burst of this many goes out at once. */
  burst: number;
}

export interface Sink {
  /** Stable name, for the de-duplication state (never the URL). */
  name: string;
  /** `null`: no limit (a local file). */
  rate: RateLimit | null;
  send(alert: Alert): Promise<SendResult>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)),
};

/** A token bucket on an injected clock: `take()` resolves when a token is free (waiting on `clock.sleep`). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {
    this.tokens = limit.burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.perSecond) / 1000);
    this.last = now;
  }

  /** The wait (ms) before the next token; 0 when one is free. */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.limit.perSecond);
  }

  async take(): Promise<void> {
    for (let w = this.wait(); w > 0; w = this.wait()) await this.clock.sleep(w);
    this.tokens -= 1;
  }
}

/** Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); `undefined` when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) && /[a-z]/i.test(v) ? Math.max(0, t - now) : undefined;
}

/**
 * POST a JSON body; 2xx is delivered. 429, 408 and 5xx (and network errors) are worth a retry, with the
 * Retry-After the server gave; other statuses are not. `detail` reads a short reason from a refusal's body (only
 * `[a-z_]` words: Slack's `invalid_payload`); nothing of the URL ever goes into the error.
 */
export function postJson(
  name: string,
  url: URL,
  body: unknown,
  opts: { now?: () => number; detail?: boolean } = {},
): Promise<SendResult> {
  const req = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const text = JSON.stringify(body);
  return new Promise<SendResult>((resolve) => {
    const r = req(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
        timeout: 30_000,
      },
      (res) => {
        let got = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (got.length < 200) got += c;
        });
        res.on('end', () => {
          const s = res.statusCode ?? 0;
          if (s >= 200 && s < 300) return resolve({ status: 'ok' });
          const word = opts.detail ? /^\s*([a-z_]{1,40})\s*$/.exec(got)?.[1] : undefined;
          const after = retryAfterMs(
            typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined,
            (opts.now ?? Date.now)(),
          );
          resolve({
            status: 'error',
            error: `${name}: the webhook answered ${s}${word ? ` (${word})` : ''}`,
            retry: s === 429 || s === 408 || s >= 500,
            httpStatus: s,
            ...(after !== undefined ? { retryAfterMs: after } : {}),
          });
        });
        res.on('error', () => resolve({ status: 'error', error: `${name}: the answer broke off`, retry: true }));
      },
    );
    r.on('timeout', () => r.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    r.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 'error', error: `${name}: ${e.code ?? 'network error'}`, retry: true }),
    );
    r.end(text);
  });
}

export interface DeliveryOptions {
  /** Tries per alert and sink within one cycle (default 4). */
  attempts?: number;
  /** First backoff (default 1 s), doubled each retry, at most `maxBackoffMs` (default 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A Retry-After longer than this (default 5 min) leaves the sink's alerts for the next cycle. */
  maxWaitMs?: number;
  clock?: Clock;
  /** Stop between alerts (SIGINT/SIGTERM): what is left stays in the outbox. */
  signal?: AbortSignal;
  /** Token buckets kept across cycles (per sink name). */
  buckets?: Map<string, TokenBucket>;
  /** Refusals (4xx other than 408/429), one per cycle, after which an alert is a dead letter for a sink (default 3). */
  maxRefusals?: number;
}

/** An alert a sink refused `refusals` times: no longer sent to it until `retryDead` clears it. */
export interface DeadLetter {
  sink: string;
  id: string;
  kind: string;
  tenant: string;
  /** The HTTP status of the last refusal (`null`: the sink gave none). */
  status: number | null;
  /** One line, never the URL. */
  error: string;
  refusals: number;
  deadAt: string;
}

export interface DeliveryResult {
  delivered: number;
  /** Already delivered to that sink (a restart, an alert raised again). */
  skipped: number;
  failed: { sink: string; id: string; error: string }[];
  /** Alerts that became dead letters in this delivery (reported once: later deliveries skip them). */
  dead: DeadLetter[];
  /** Alerts still to be delivered to some sink after this delivery (to be retried next cycle); dead letters are not. */
  pending: number;
}

/** Every dead letter in the store, oldest first. */
export function deadLetters(store: DsguardStore): DeadLetter[] {
  return store.db
    .prepare(
      `SELECT r.sink, r.id, o.kind, o.tenant, r.status, r.error, r.refusals, r.dead_at AS deadAt
       FROM alert_refusal r JOIN alert_outbox o ON o.id = r.id
       WHERE r.dead_at IS NOT NULL ORDER BY r.dead_at, o.seq, r.id, r.sink`,
    )
    .all() as DeadLetter[];
}

/** Clear every dead letter (or one sink's): the next delivery sends them again, with a fresh refusal count. */
export function retryDead(store: DsguardStore, sink?: string): number {
  const r =
    sink === undefined
      ? store.db.prepare('DELETE FROM alert_refusal WHERE dead_at IS NOT NULL').run()
      : store.db.prepare('DELETE FROM alert_refusal WHERE dead_at IS NOT NULL AND sink = ?').run(sink);
  return Number(r.changes);
}

/** Put a cycle's alerts in the outbox (an id already there is kept as it is). Runs in the caller's transaction. */
export function enqueue(store: DsguardStore, alerts: readonly Alert[], at: string): void {
  const put = store.db.prepare(
    'INSERT OR IGNORE INTO alert_outbox (id, tenant, seq, kind, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const a of alerts) put.run(a.id, a.tenant, a.cycle, a.kind, JSON.stringify(a), at);
}

/** The outbox, oldest cycle first, then kind and id. */
export function outbox(store: DsguardStore): Alert[] {
  const rows = store.db.prepare('SELECT body FROM alert_outbox ORDER BY seq, kind, id').all() as { body: string }[];
  return rows.map((r) => JSON.parse(r.body) as Alert);
}

/**
 * Send every outbox alert not yet delivered to each sink (sinks in parallel, alerts in order, each sink through
 * its token bucket). A failure that is worth a retry is retried with backoff (or the Retry-After asked for); when
 * the tries run out, or the wait asked for is too long, the sink is left alone until the next cycle. A refusal
 * (4xx) skips that alert for that sink this cycle and is counted in the store; at `maxRefusals` the alert is a
 * dead letter for that sink (reported in `dead` once, skipped afterwards, kept in the outbox for `retryDead`).
 * Delivered alerts leave the outbox once every sink has them.
 */
export async function deliverOutbox(
  store: DsguardStore,
  sinks: readonly Sink[],
  opts: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const clock = opts.clock ?? systemClock;
  const attempts = opts.attempts ?? 4;
  const base = opts.backoffMs ?? 1000;
  const maxBackoff = opts.maxBackoffMs ?? 60_000;
  const maxWait = opts.maxWaitMs ?? 300_000;
  const buckets = opts.buckets ?? new Map<string, TokenBucket>();
  const maxRefusals = opts.maxRefusals ?? 3;
  const alerts = outbox(store);
  const isDead = store.db.prepare('SELECT 1 FROM alert_refusal WHERE id = ? AND sink = ? AND dead_at IS NOT NULL');
  const refuse = store.db.prepare(
    `INSERT INTO alert_refusal (id, sink, refusals, status, error, last_at, dead_at) VALUES (?, ?, 1, ?, ?, ?, NULL)
     ON CONFLICT (id, sink) DO UPDATE SET refusals = refusals + 1, status = excluded.status, error = excluded.error,
       last_at = excluded.last_at
     RETURNING refusals`,
  );
  const bury = store.db.prepare('UPDATE alert_refusal SET dead_at = ? WHERE id = ? AND sink = ?');
  const forgive = store.db.prepare('DELETE FROM alert_refusal WHERE id = ? AND sink = ?');
  const sent = store.db.prepare('SELECT 1 FROM alert_sent WHERE id = ? AND sink = ?');
  const mark = store.db.prepare('INSERT OR IGNORE INTO alert_sent (id, sink, sent_at) VALUES (?, ?, ?)');
  const perSink = await Promise.all(
    sinks.map(async (sink) => {
      const r = { delivered: 0, skipped: 0, failed: [] as DeliveryResult['failed'], dead: [] as DeadLetter[] };
      let bucket = buckets.get(sink.name);
      if (!bucket && sink.rate) {
        bucket = new TokenBucket(sink.rate, clock);
        buckets.set(sink.name, bucket);
      }
      for (const a of alerts) {
        if (opts.signal?.aborted) break;
        if (sent.get(a.id, sink.name)) {
          r.skipped++;
          continue;
        }
        if (isDead.get(a.id, sink.name)) continue;
        let outcome: SendResult = { status: 'error', error: `${sink.name}: not sent`, retry: true };
        for (let i = 0; i < attempts; i++) {
          await bucket?.take();
          outcome = await sink.send(a);
          if (outcome.status === 'ok' || !outcome.retry || i + 1 === attempts) break;
          const wait = outcome.retryAfterMs ?? Math.min(maxBackoff, base * 2 ** i);
          if (wait > maxWait) {
            outcome = { ...outcome, error: `${outcome.error}; asked to wait ${Math.round(wait / 1000)} s` };
            break;
          }
          await clock.sleep(wait);
        }
        if (outcome.status === 'ok') {
          store.transaction(() => {
            mark.run(a.id, sink.name, new Date(clock.now()).toISOString());
            forgive.run(a.id, sink.name);
          });
          r.delivered++;
          continue;
        }
        if (!outcome.retry) {
          // A refusal: counted across cycles (one per delivery), a dead letter at maxRefusals.
          const at = new Date(clock.now()).toISOString();
          const status = outcome.httpStatus ?? null;
          const n = store.transaction(() => {
            const { refusals } = refuse.get(a.id, sink.name, status, outcome.error, at) as { refusals: number };
            if (refusals >= maxRefusals) bury.run(at, a.id, sink.name);
            return refusals;
          });
          if (n >= maxRefusals) {
            r.dead.push({
              sink: sink.name,
              id: a.id,
              kind: a.kind,
              tenant: a.tenant,
              status,
              error: outcome.error,
              refusals: n,
              deadAt: at,
            });
            continue;
          }
        }
        r.failed.push({ sink: sink.name, id: a.id, error: outcome.error });
        // Down or throttling hard: the rest waits for the next cycle (in the outbox) instead of timing out in turn.
        if (outcome.retry) break;
      }
      return r;
    }),
  );
  const names = sinks.map((s) => s.name);
  const drop = store.db.prepare('DELETE FROM alert_outbox WHERE id = ?');
  let pending = 0;
  store.transaction(() => {
    for (const a of alerts) {
      if (names.every((n) => sent.get(a.id, n))) drop.run(a.id);
      else if (!names.every((n) => sent.get(a.id, n) || isDead.get(a.id, n))) pending++;
    }
  });
  return {
    delivered: perSink.reduce((n, r) => n + r.delivered, 0),
    skipped: perSink.reduce((n, r) => n + r.skipped, 0),
    failed: perSink.flatMap((r) => r.failed),
    dead: perSink.flatMap((r) => r.dead),
    pending,
  };
}
