/**
 * Advanced hunting for the Microsoft emulator: `POST /v1.0/security/runHuntingQuery` answered from test rows.
 * It cannot run KQL. It recognises a query by building it again — the window read from the text, the fact ids
 * from its `in (…)` list — with dsguard's own builders (src/core/kql/windowed.ts) for the tenant's profile, and
 * answers only a text it rebuilt exactly; then it applies the same selection in test code: the
 * {@link channelConditions} evaluated by {@link matchesRow} (the local meaning of each condition), the window,
 * the projection (Channel, SPF… computed as the query computes them), the order, and the row cap. A tenant without
 * email tables gets the API's "Failed to resolve table" 400.
 * @module
 */
import { type EmailEventsRow, matchesRow } from '../../src/core/kql/condition.js';
import { EMAIL_EVENTS_COLUMNS } from '../../src/core/kql/schema.js';
import { channelConditions } from '../../src/core/kql/selection.js';
import {
  DAILY_TOTAL_COLUMNS,
  dailyTotalsQuery,
  FACT_COLUMNS,
  type FactTable,
  factQuery,
  INVENTORY_COLUMNS,
  inventoryBody,
  type QueryWindow,
} from '../../src/core/kql/windowed.js';
import type { TenantProfile } from '../../src/core/profile.js';

export type Row = Record<string, unknown>;

export interface HuntingTenant {
  profile: TenantProfile;
  /** EmailEvents rows (all of the tenant's mail in the test, not only what the query selects). */
  events: Row[];
  attachments?: Row[];
  urls?: Row[];
  rowCap: number;
}

export interface HuntingAnswer {
  status: number;
  body: unknown;
}

const ENVELOPE = 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults';

export function asEventsRow(o: Row): EmailEventsRow {
  const out: Record<string, string | null> = {};
  for (const k of Object.keys(EMAIL_EVENTS_COLUMNS)) {
    const v = o[k];
    out[k] = v === undefined || v === null ? null : typeof v === 'string' ? v : String(v);
  }
  return out;
}

const inWindow = (row: Row, from: number, to: number) => {
  const t = Date.parse(String(row.Timestamp));
  return t >= from && t < to;
};

export const huntingOrder = (a: Row, b: Row) =>
  String(a.Timestamp).localeCompare(String(b.Timestamp)) ||
  String(a.NetworkMessageId).localeCompare(String(b.NetworkMessageId)) ||
  String(a.RecipientEmailAddress ?? '').localeCompare(String(b.RecipientEmailAddress ?? ''));

function authOf(row: Row): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(String(row.AuthenticationDetails ?? ''));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The inventory selection of `[from, to)` for a profile, projected and ordered as the query does: every row the query returns, uncapped. */
export function inventoryRows(events: readonly Row[], profile: TenantProfile, from: number, to: number): Row[] {
  const ch = channelConditions(profile);
  return events
    .filter((r) => inWindow(r, from, to) && matchesRow(ch.inventory, asEventsRow(r)))
    .sort(huntingOrder)
    .map((r) => {
      const a = authOf(r);
      const computed: Row = {
        Channel: matchesRow(ch.p1Internal, asEventsRow(r)) ? 'direct-send' : 'internal-spoof',
        SPF: String(a.SPF ?? ''),
        DKIM: String(a.DKIM ?? ''),
        DMARC: String(a.DMARC ?? ''),
        CompAuth: String(a.CompAuth ?? ''),
      };
      const out: Row = {};
      for (const c of INVENTORY_COLUMNS) out[c] = c in computed ? computed[c] : (r[c] ?? null);
      return out;
    });
}

/** Per-day totals of `[from, to)`, as the totals query computes them. */
export function dailyTotalRows(events: readonly Row[], profile: TenantProfile, from: number, to: number): Row[] {
  const ch = channelConditions(profile);
  const noConn = { op: 'all', of: [ch.inbound, ch.noConnector] } as const;
  const days = new Map<string, number[]>();
  for (const r of events) {
    if (!inWindow(r, from, to)) continue;
    const day = `${String(r.Timestamp).slice(0, 10)}T00:00:00Z`;
    const e = asEventsRow(r);
    const c = days.get(day) ?? [0, 0, 0, 0, 0];
    c[0]!++;
    if (matchesRow(ch.inbound, e)) c[1]!++;
    if (matchesRow(noConn, e)) c[2]!++;
    if (matchesRow(ch.directSend, e)) c[3]!++;
    if (matchesRow(ch.internalSpoof, e)) c[4]!++;
    days.set(day, c);
  }
  return [...days.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, c]) => Object.fromEntries(DAILY_TOTAL_COLUMNS.map((k, i) => [k, i === 0 ? day : c[i - 1]])));
}

function factRows(rows: readonly Row[], table: FactTable, ids: readonly string[], from: number, to: number): Row[] {
  const want = new Set(ids);
  return rows
    .filter((r) => want.has(String(r.NetworkMessageId)) && inWindow(r, from, to))
    .sort(
      (a, b) =>
        String(a.Timestamp).localeCompare(String(b.Timestamp)) ||
        String(a.NetworkMessageId).localeCompare(String(b.NetworkMessageId)),
    )
    .map((r) => Object.fromEntries(FACT_COLUMNS[table].map((c) => [c, r[c] ?? null])));
}

const WINDOW = /Timestamp >= datetime\(([^)]+)\) and Timestamp < datetime\(([^)]+)\)/;

/** Values of the first `in (…)` list of string literals in a query (as KQL reads them). */
function idList(query: string): string[] | null {
  const m = /NetworkMessageId in \(((?:"(?:[^"\\]|\\.)*"(?:, )?)*)\)/.exec(query);
  if (!m) return null;
  return [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!.replace(/\\(.)/g, '$1'));
}

/** The answer to one `runHuntingQuery` body for a tenant (`null`: a tenant without email tables). */
export function answerHunting(tenant: HuntingTenant | null, query: string): HuntingAnswer {
  if (tenant === null)
    return {
      status: 400,
      body: {
        error: {
          code: 'BadRequest',
          message:
            "Query could not be parsed at 'EmailEvents' on line [1,0]: Failed to resolve table or column expression named 'EmailEvents'",
        },
      },
    };
  const unknown: HuntingAnswer = {
    status: 400,
    body: { error: { code: 'BadRequest', message: 'the emulator does not know this query' } },
  };
  const w = WINDOW.exec(query);
  if (!w) return unknown;
  const window: QueryWindow = { from: w[1]!, to: w[2]! };
  const from = Date.parse(w[1]!);
  const to = Date.parse(w[2]!);
  let results: Row[];
  let columns: readonly string[];
  if (query === inventoryBody(tenant.profile, window)) {
    results = inventoryRows(tenant.events, tenant.profile, from, to);
    columns = INVENTORY_COLUMNS;
  } else if (query === dailyTotalsQuery(tenant.profile, window)) {
    results = dailyTotalRows(tenant.events, tenant.profile, from, to);
    columns = DAILY_TOTAL_COLUMNS;
  } else {
    const table = query.startsWith('EmailAttachmentInfo\n')
      ? 'EmailAttachmentInfo'
      : query.startsWith('EmailUrlInfo\n')
        ? 'EmailUrlInfo'
        : null;
    const ids = idList(query);
    if (table === null || ids === null || query !== factQuery(table, window, ids)) return unknown;
    results = factRows(
      (table === 'EmailAttachmentInfo' ? tenant.attachments : tenant.urls) ?? [],
      table,
      ids,
      from,
      to,
    );
    columns = FACT_COLUMNS[table];
  }
  return {
    status: 200,
    body: {
      '@odata.context': ENVELOPE,
      schema: columns.map((name) => ({ name, type: 'String' })),
      results: results.slice(0, tenant.rowCap),
    },
  };
}

/** A runHuntingQuery result document of `rows`: what an admin's export of the same query holds. */
export function huntingDocument(rows: readonly Row[]): unknown {
  return { '@odata.context': ENVELOPE, results: rows };
}
