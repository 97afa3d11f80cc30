/**
 * Message trace for `collect` (tenants without hunting): 10-day windows paged through `@odata.nextLink`,
 * classified locally, and getDetailsByRecipient where the detail can change a verdict (trace-detail-plan.ts).
 * @module
 */
import { GraphError } from '../tenant/graph.js';
import { type Run, TRACE_MAX_PAGES, TRACE_REACH_MS, TRACE_WINDOW_MS, writeCheckpoint } from './run.js';
import { detailGroup, detailsPath, TraceDetailPlanner, type TraceRowFields } from './trace-detail-plan.js';

/** Message trace: 10-day windows, every page of each (classified locally). */
export async function readTrace(run: Run): Promise<void> {
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
  // A group is planned once a run (a day can straddle two windows) and once ever (collect_trace_detail).
  const todo = planned.filter((r) => {
    const g = detailGroup(r);
    if (run.detailGroups.has(g) || asked.get(opts.tenantId, g) !== undefined) return false;
    run.detailGroups.add(g);
    return true;
  });
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
