/**
 * The hunting queries with a time window: one builder for the text `dsguard kql` prints (a look-back,
 * `ago(30d)`) and the text `dsguard collect` sends (datetime bounds `[from, to)`), so the two never drift — the
 * window clause is their only difference. Built from the {@link channelConditions} of selection.ts, like every
 * other query:
 * - {@link inventoryBody}: every Direct Send and internal-spoof row, with the columns the EmailEvents reader
 *   needs (an exported result of `dsguard kql`'s inventory ingests like a collected one);
 * - {@link dailyTotalsQuery}: per UTC day, all mail, inbound, inbound without a connector, Direct Send and
 *   internal spoof (rows: one per message and recipient), so a report can say what share of the mail is Direct
 *   Send;
 * - {@link messageFactsQueries}: `EmailAttachmentInfo` / `EmailUrlInfo` rows of given NetworkMessageIds, batched
 *   under a query-text budget.
 * @module
 */
import type { TenantProfile } from '../profile.js';
import { toKql } from './condition.js';
import { kqlDatetime, kqlStringList } from './escape.js';
import { channelConditions } from './selection.js';

/** A look-back (`30d`, `4h`) or an interval `[from, to)` of ISO 8601 instants. */
export type QueryWindow = { lookback: string } | { from: string; to: string };

/** The `where` clause of a window: `Timestamp > ago(30d)`, or `Timestamp >= datetime(…) and Timestamp < datetime(…)`. */
export function windowClause(w: QueryWindow): string {
  if ('lookback' in w) {
    if (!/^\d{1,5}[dhm]$/.test(w.lookback)) throw new Error(`not a KQL timespan: ${w.lookback}`);
    return `Timestamp > ago(${w.lookback})`;
  }
  const from = kqlDatetime(w.from);
  const to = kqlDatetime(w.to);
  if (from === null || to === null) throw new Error(`not an ISO 8601 window: ${w.from} – ${w.to}`);
  return `Timestamp >= ${from} and Timestamp < ${to}`;
}

/**
 * Columns of the inventory: what an admin reads, plus what the EmailEvents reader of `ingest` needs to classify
 * a row again (direction, connectors, the authentication JSON, the P1/P2 domains, Defender's verdict fields).
 */
export const INVENTORY_COLUMNS = [
  'Timestamp',
  'ReportId',
  'NetworkMessageId',
  'InternetMessageId',
  'Channel',
  'SenderMailFromAddress',
  'SenderFromAddress',
  'SenderDisplayName',
  'SenderMailFromDomain',
  'SenderFromDomain',
  'SenderIPv4',
  'SenderIPv6',
  'RecipientEmailAddress',
  'Subject',
  'EmailDirection',
  'Connectors',
  'DeliveryAction',
  'DeliveryLocation',
  'ThreatTypes',
  'DetectionMethods',
  'ConfidenceLevel',
  'BulkComplaintLevel',
  'AttachmentCount',
  'UrlCount',
  'EmailLanguage',
  'OrgLevelAction',
  'UserLevelAction',
  'AuthenticationDetails',
  'SPF',
  'DKIM',
  'DMARC',
  'CompAuth',
] as const;

/** `a, b, c,\n    d, …`: a column list wrapped at ~110 characters. */
function columnList(cols: readonly string[]): string {
  const lines: string[] = [];
  let line = '';
  for (const c of cols) {
    const next = line === '' ? c : `${line}, ${c}`;
    if (next.length > 108 && line !== '') {
      lines.push(`${line},`);
      line = c;
    } else line = next;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n    ');
}

/**
 * The inventory query (no header comment): every inbound message that matched no connector and whose P1 or P2
 * domain is an accepted domain, in a stable order (Timestamp, NetworkMessageId, recipient) so a result cut at
 * the row cap is a prefix of the window.
 */
export function inventoryBody(profile: TenantProfile, window: QueryWindow): string {
  const ch = channelConditions(profile);
  return `EmailEvents
| where ${windowClause(window)}
| where ${toKql(ch.inventory)}
| extend Channel = iff(${toKql(ch.p1Internal)}, "direct-send", "internal-spoof")
| extend Auth = parse_json(AuthenticationDetails)
| extend SPF = tostring(Auth.SPF), DKIM = tostring(Auth.DKIM), DMARC = tostring(Auth.DMARC), CompAuth = tostring(Auth.CompAuth)
| project ${columnList(INVENTORY_COLUMNS)}
| order by Timestamp asc, NetworkMessageId asc, RecipientEmailAddress asc`;
}

/** The columns of a per-day totals row, in order. */
export const DAILY_TOTAL_COLUMNS = ['Day', 'Total', 'Inbound', 'NoConnector', 'DirectSend', 'InternalSpoof'] as const;

/**
 * Per UTC day: all rows, inbound rows, inbound rows that matched no connector, Direct Send and internal spoof
 * (the inventory split by channel). Rows are message × recipient, as in EmailEvents. At most one row a day.
 */
export function dailyTotalsQuery(profile: TenantProfile, window: QueryWindow): string {
  const ch = channelConditions(profile);
  return `EmailEvents
| where ${windowClause(window)}
| summarize Total = count(), Inbound = countif(${toKql(ch.inbound)}),
    NoConnector = countif(${toKql({ op: 'all', of: [ch.inbound, ch.noConnector] })}),
    DirectSend = countif(${toKql(ch.directSend)}),
    InternalSpoof = countif(${toKql(ch.internalSpoof)}) by Day = bin(Timestamp, 1d)
| order by Day asc`;
}

export type FactTable = 'EmailAttachmentInfo' | 'EmailUrlInfo';

export const FACT_COLUMNS: Record<FactTable, readonly string[]> = {
  EmailAttachmentInfo: [
    'Timestamp',
    'NetworkMessageId',
    'SenderFromAddress',
    'RecipientEmailAddress',
    'FileName',
    'FileType',
    'SHA256',
    'FileSize',
    'ThreatTypes',
    'ThreatNames',
    'DetectionMethods',
    'ReportId',
  ],
  EmailUrlInfo: ['Timestamp', 'NetworkMessageId', 'Url', 'UrlDomain', 'UrlLocation', 'ReportId'],
};

/** Longest query text {@link messageFactsQueries} builds (characters). */
export const FACT_QUERY_MAX_CHARS = 8_000;

export function factQuery(table: FactTable, window: QueryWindow, ids: readonly string[]): string {
  return `${table}
| where ${windowClause(window)}
| where NetworkMessageId in (${kqlStringList(ids)})
| project ${columnList(FACT_COLUMNS[table])}
| order by Timestamp asc, NetworkMessageId asc`;
}

/**
 * `EmailAttachmentInfo` / `EmailUrlInfo` rows of the given NetworkMessageIds, in as few queries as the text budget
 * allows (each at most `maxChars`; ids de-duplicated and sorted, so the same ids give the same queries).
 */
export function messageFactsBatches(
  table: FactTable,
  window: QueryWindow,
  networkMessageIds: readonly string[],
  maxChars = FACT_QUERY_MAX_CHARS,
): { ids: string[]; query: string }[] {
  const ids = [...new Set(networkMessageIds)].sort();
  const out: { ids: string[]; query: string }[] = [];
  const empty = factQuery(table, window, []).length;
  let batch: string[] = [];
  let size = empty;
  const flush = () => {
    out.push({ ids: batch, query: factQuery(table, window, batch) });
    batch = [];
    size = empty;
  };
  for (const id of ids) {
    const add = kqlStringList([id]).length + 2;
    if (empty + add > maxChars) throw new Error('a NetworkMessageId is too long for one query');
    if (size + add > maxChars && batch.length > 0) flush();
    batch.push(id);
    size += add;
  }
  if (batch.length > 0) flush();
  return out;
}
