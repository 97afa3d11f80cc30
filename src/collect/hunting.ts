/**
 * Advanced hunting for `collect`: the inventory in day windows (split at the row cap), the per-day totals, and
 * `EmailAttachmentInfo` / `EmailUrlInfo` for the flagged messages — every query text from
 * src/core/kql/windowed.ts, the builder `dsguard kql` prints from.
 * @module
 */
import { messageHash, normalizeMessageId } from '../core/delivery-key.js';
import { dailyTotalsQuery, type FactTable, factsOfInventoryQuery, inventoryBody } from '../core/kql/windowed.js';
import { type DailyTotal, summarizeTotals } from '../report/mail-totals.js';
import type { DsguardStore } from '../store/dsguard-store.js';
import { GraphError } from '../tenant/graph.js';
import {
  DAY_MS,
  HUNTING_REACH_MS,
  HUNTING_ROW_CAP,
  MIN_WINDOW_MS,
  NoEmailTables,
  type Run,
  writeCheckpoint,
} from './run.js';

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
export async function readHunting(run: Run, start: Date, end: Date): Promise<void> {
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
export async function readDailyTotals(run: Run, start: Date, end: Date): Promise<void> {
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

/** The messages read this run that the assessment calls malicious or suspicious (Direct Send or spoof), by message hash. */
function flaggedMessages(run: Run, since: Date): Set<number> {
  const rows = run.store.db
    .prepare(
      `SELECT DISTINCT msg_h AS h FROM message
       WHERE verdict IN ('malicious', 'suspicious') AND channel IN ('direct-send', 'internal-spoof') AND received_at >= ?`,
    )
    .all(since.toISOString()) as { h: number }[];
  return new Set(rows.map((r) => r.h));
}

/**
 * The rows of a fact answer that belong to a flagged message. A row without a readable NetworkMessageId is kept:
 * ingest reports it as a bad row rather than it vanishing here.
 */
function ofFlagged(rows: readonly unknown[], flagged: ReadonlySet<number>): unknown[] {
  return rows.filter((r) => {
    const id = (r as { NetworkMessageId?: unknown } | null)?.NetworkMessageId;
    if (typeof id !== 'string' || id === '') return true;
    return flagged.has(messageHash(normalizeMessageId(id)));
  });
}

/**
 * `EmailAttachmentInfo` and `EmailUrlInfo` rows of the inventory's messages with attachments / URLs over the
 * whole run window, one query per table ({@link factsOfInventoryQuery}: the server does the semi-join); a result
 * at the row cap has its message window halved and read again. The server's selection is a superset of what
 * the local assessment flags; the rows of the flagged messages go through ingest as facts of their messages
 * (attachment names and hashes, URLs incl. QR codes), which re-assesses them. The others (a scanner's PDFs…)
 * are counted and left out: re-assessing every message with an attachment would cost more local work than all
 * the rest of the run, for the messages the issue does not ask facts of.
 */
export async function readFacts(run: Run, start: Date, end: Date): Promise<void> {
  const { opts, result } = run;
  const cap = opts.rowCap ?? HUNTING_ROW_CAP;
  const flagged = flaggedMessages(run, start);
  const facts = { messages: flagged.size, queries: 0, received: 0, attachments: 0, urls: 0 };
  result.facts = facts;
  const began = run.now().getTime();
  // Fact rows carry their own Timestamp, at or just after the message's: an hour's margin either side, inside
  // the 30-day reach.
  const factWindow = (from: number, to: number) => ({
    from: new Date(Math.max(from - 3_600_000, end.getTime() - HUNTING_REACH_MS + 60_000)).toISOString(),
    to: new Date(to + 3_600_000).toISOString(),
  });
  const tables: FactTable[] = ['EmailAttachmentInfo', 'EmailUrlInfo'];
  const queue = tables.map((table) => ({ table, from: start.getTime(), to: end.getTime() }));
  let total = queue.length;
  let done = 0;
  while (queue.length > 0) {
    if (opts.signal?.aborted) {
      result.status = 'interrupted';
      return;
    }
    const b = queue.shift()!;
    const messages = { from: new Date(b.from).toISOString(), to: new Date(b.to).toISOString() };
    const window = factWindow(b.from, b.to);
    const { doc, rows } = await hunt(run, factsOfInventoryQuery(opts.profile, b.table, messages, window), b.table);
    facts.queries++;
    if (rows.length >= cap) {
      if (b.to - b.from <= MIN_WINDOW_MS)
        throw new GraphError(
          'bad-response',
          `${b.table}: ${rows.length} rows (the row cap) for the messages of one minute from ${messages.from}`,
        );
      const mid = b.from + Math.floor((b.to - b.from) / 2);
      queue.unshift({ table: b.table, from: b.from, to: mid }, { table: b.table, from: mid, to: b.to });
      total++;
      continue;
    }
    facts.received += rows.length;
    const kept = ofFlagged(rows, flagged);
    if (kept.length > 0)
      await run.absorb({ ...(doc as object), results: kept }, kept.length, `${b.table}-${facts.queries}`, false);
    if (b.table === 'EmailAttachmentInfo') facts.attachments += kept.length;
    else facts.urls += kept.length;
    done++;
    run.step({ source: b.table, window: messages, rows: rows.length, done, total }, began);
  }
}
