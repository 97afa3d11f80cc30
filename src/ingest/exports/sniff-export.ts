/**
 * Tell an export's format by its content: the text encoding (BOM, or the NUL pattern of UTF-16 without one),
 * the container (CSV with its header row, a JSON document, NDJSON) and the columns or keys it has. File names
 * are never used.
 * @module
 */

import { EMAIL_ATTACHMENT_INFO_ADAPTER, EMAIL_EVENTS_ADAPTER, EMAIL_URL_INFO_ADAPTER } from './email-events.js';
import type { ExportAdapter, ExportFormat } from './export-adapter.js';
import { HISTORICAL_SEARCH_ADAPTER } from './historical-search.js';
import { GRAPH_MESSAGE_TRACE_ADAPTER, MESSAGE_TRACE_ADAPTER } from './message-trace.js';
import { TRACE_DETAIL_ADAPTER } from './trace-detail.js';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface EncodingInfo {
  encoding: TextEncoding;
  /** Bytes of BOM to skip. */
  bomLength: number;
}

export function detectEncoding(head: Uint8Array): EncodingInfo {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  // No BOM: ASCII text in UTF-16 has a NUL in every other byte.
  const n = Math.min(head.length, 512) & ~1;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) evenNul++;
    if (head[i + 1] === 0) oddNul++;
  }
  if (n >= 8 && oddNul > n / 4 && evenNul === 0) return { encoding: 'utf-16le', bomLength: 0 };
  if (n >= 8 && evenNul > n / 4 && oddNul === 0) return { encoding: 'utf-16be', bomLength: 0 };
  return { encoding: 'utf-8', bomLength: 0 };
}

export const ADAPTERS: Record<ExportFormat, ExportAdapter> = {
  'message-trace': MESSAGE_TRACE_ADAPTER,
  'graph-message-trace': GRAPH_MESSAGE_TRACE_ADAPTER,
  'message-trace-detail': TRACE_DETAIL_ADAPTER,
  'historical-search': HISTORICAL_SEARCH_ADAPTER,
  'email-events': EMAIL_EVENTS_ADAPTER,
  'email-attachment-info': EMAIL_ATTACHMENT_INFO_ADAPTER,
  'email-url-info': EMAIL_URL_INFO_ADAPTER,
};

/** The export format a set of column names (or JSON keys) belongs to, or `null`. Names are compared lower-case. */
export function formatOfColumns(names: Iterable<string>): ExportFormat | null {
  const s = new Set([...names].map((n) => n.trim().toLowerCase()));
  const has = (...ks: string[]) => ks.every((k) => s.has(k));
  if (has('networkmessageid')) {
    if (s.has('sendermailfromaddress') || s.has('emaildirection') || s.has('senderfromaddress')) {
      if (s.has('recipientemailaddress') && !s.has('filename')) return 'email-events';
    }
    if (has('filename') || (has('sha256') && has('filetype'))) return 'email-attachment-info';
    if (has('url') && (s.has('urllocation') || s.has('urldomain'))) return 'email-url-info';
  }
  if (has('event', 'data') && (s.has('messagetraceid') || s.has('messageid'))) return 'message-trace-detail';
  if (
    has('sender_address') &&
    ['origin_timestamp_utc', 'origin_timestamp', 'date_time_utc', 'date_time'].some((k) => s.has(k))
  )
    return 'historical-search';
  if (has('received', 'senderaddress', 'recipientaddress') && (s.has('messagetraceid') || s.has('messageid')))
    return 'message-trace';
  if (has('receiveddatetime', 'senderaddress', 'recipientaddress', 'id')) return 'graph-message-trace';
  return null;
}

export function describeColumns(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((n) => n.slice(0, 40));
  return shown.join(', ') + (names.length > 8 ? `, … (${names.length} columns)` : '');
}
