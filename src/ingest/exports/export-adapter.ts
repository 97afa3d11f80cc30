/**
 * What every export adapter produces for a row: the delivery identity (message id, recipients, receive time),
 * a class key for the assessment cache, and the full {@link MessageEvidence} built on demand.
 * @module
 */

import { normalizeMessageId } from '../../core/delivery-key.js';
import { toMailAddress } from '../../core/domain-name.js';
import type { MailAddress, MessageEvidence, SourceKind } from '../../core/evidence.js';
import { normalizeIp } from '../../core/net-address.js';
import type { Observed } from '../../core/observed.js';
import { failure, type Result } from '../../core/result.js';
import { isoSeconds, parseExportDate } from './export-dates.js';
import { type ColumnIndex, cell, type ExportRow, type RowPlace } from './export-row.js';

export type ExportFormat =
  | 'message-trace'
  | 'message-trace-detail'
  | 'historical-search'
  | 'email-events'
  | 'email-attachment-info'
  | 'email-url-info'
  | 'graph-message-trace';

/**
 * `delivery`: the row describes a message to a recipient (counted once per delivery);
 * `fact`: the row only adds facts (attachments, URLs, trace events without a recipient) to a delivery described
 * elsewhere; it is joined on the message id (and the recipient, when it has one) and never counted as a message.
 */
export type RowRole = 'delivery' | 'fact';

export interface AdaptedRow {
  role: RowRole;
  /** Canonical Exchange message id (network message id / message trace id), `null` when the row has none. */
  messageId: string | null;
  /** Receive time (ms since epoch). */
  receivedMs: number;
  /** Lower-case recipient addresses this row speaks for (deliveries); may be empty for message-level facts. */
  recipients: string[];
  /**
   * Everything in the row that can decide the channel (sender/recipient domains, connecting IP, HELO, TLS,
   * connector, direction and authentication columns), and nothing that only feeds content rules (subject,
   * file names, URLs) or provenance. Rows with equal keys get the same channel from assess().
   */
  classKey: string;
  /**
   * The connecting IP of the row, when the adapter keeps it out of `classKey` (which then ends where the IP
   * would go): the classifier appends what of it the channel rules can tell apart (see RowClassifier.ipToken),
   * so rows from a hundred thousand IPs share a handful of classes.
   */
  classIp?: string;
  /** The full evidence record (built on demand: most rows never need it). */
  evidence(): MessageEvidence;
}

/** A row adapted, or an `input` failure naming what is wrong with it (the row is reported and skipped). */
export type AdaptResult = Result<{ row: AdaptedRow }>;

/** What counting a delivery needs, written by a {@link FastCounter}. */
export interface CountKey {
  /** dayOf(receivedMs). */
  day: number;
  /** deliveryHash(messageId, recipient). */
  h: number;
  /** hashPair(classKey). */
  classKey: number;
  classCheck: number;
}

/**
 * The count key of a CSV record read straight from its fields, equal to what adapt() gives for the same record
 * (one delivery to one recipient, with a message id) without building the adapted row, its evidence or any of
 * the key texts. `false`: the record is not in the plain shape the counter handles; the caller adapts it.
 */
export type FastCounter = (fields: readonly string[], out: CountKey) => boolean;

/** The classifier's token for a row's connecting IP text (see AdaptedRow.classIp). */
export type IpToken = (ip: string) => string;

export interface ExportAdapter {
  format: ExportFormat;
  sourceKind: SourceKind;
  /** The columns (lower-case) a row's time is read from, in order: the ones a file's date order is sampled in. */
  dateColumns: readonly string[];
  adapt(row: ExportRow, place: RowPlace): AdaptResult;
  /** A {@link FastCounter} for CSV records under this header index, when the format has one. */
  fastCounter?(index: ColumnIndex, ipToken: IpToken): FastCounter | null;
}

export function fail(error: string): AdaptResult {
  return failure('input', error);
}

/** Parse a date column; the error names the column and the value. */
export function dateOf(row: ExportRow, keys: readonly string[]): { ms: number } | { error: string } {
  for (const k of keys) {
    const v = row.get(k);
    if (v === null) continue;
    const ms = parseExportDate(v, row.dateOrder);
    if (ms === null) return { error: `${row.name(k)} "${v.slice(0, 60)}" is not a date` };
    return { ms };
  }
  return { error: `no ${keys.map((k) => row.name(k)).join(' / ')} value` };
}

export function receivedIso(ms: number): string {
  return isoSeconds(ms);
}

export function addressOf(row: ExportRow, place: RowPlace, key: string): Observed<MailAddress> | null {
  const v = row.get(key);
  if (v === null) return null;
  const a = toMailAddress(v);
  return a ? cell(row, place, key, a, v) : null;
}

export function ipOf(row: ExportRow, place: RowPlace, key: string): Observed<string> | null {
  const v = row.get(key);
  if (v === null) return null;
  // A canonical dotted quad is its own normal form (normalizeIp skips the full parse).
  const ip = normalizeIp(v);
  return ip ? cell(row, place, key, ip, v) : null;
}

/** Domain of an address as the evidence will hold it (same normalisation as toMailAddress). */
export function domainKey(address: string | null): string {
  if (address === null) return '';
  return toMailAddress(address)?.domain ?? '';
}

export function recipientKey(address: string | null): string {
  if (address === null) return '';
  return toMailAddress(address)?.address ?? '';
}

export function messageIdOf(...values: (string | null)[]): string | null {
  for (const v of values) if (v !== null && v.length > 0) return normalizeMessageId(v);
  return null;
}

/**
 * The delivery id of a row without a network message id: `imid:` and the lower-cased Internet Message-ID
 * (a row with the network id does not join it: the two stay apart).
 */
export function internetIdKey(internetId: string | null): string | null {
  return internetId ? `imid:${internetId.toLowerCase()}` : null;
}
