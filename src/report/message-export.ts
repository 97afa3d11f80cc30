/**
 * One record per stored message for a SIEM's custom table or a Sentinel Logs Ingestion DCR: stable field names
 * (documented in docs/message-export.schema.json, with `schemaVersion`), as NDJSON or CSV. Records come in
 * receipt order; country and ASN come from dsguard's IP data when available (null otherwise).
 * @module
 */
import type { IpLookup } from '../core/rules/origin.js';
import type { DsguardStore } from '../store/dsguard-store.js';
import { storedCodes } from '../store/message-codes.js';
import { renderCsv } from './tabular.js';

export const MESSAGE_EXPORT_SCHEMA_VERSION = 1;

export interface MessageRecord {
  schemaVersion: number;
  /** Receipt time, ISO 8601 UTC. */
  time: string;
  /** The profile's tenant id (first), else null. */
  tenant: string | null;
  messageId: string | null;
  channel: string;
  verdict: string;
  risk: number;
  /** Envelope sender (P1, MAIL FROM). */
  p1: string | null;
  /** From header (P2). */
  p2: string | null;
  recipient: string | null;
  ip: string | null;
  country: string | null;
  asn: number | null;
  subject: string | null;
  findingCodes: string[];
  /** The file ledger id and row the message was stored from (`dsguard sources` / the store's file table). */
  sourceId: number;
  sourceRow: number;
}

export const MESSAGE_FIELDS: readonly (keyof MessageRecord)[] = [
  'schemaVersion',
  'time',
  'tenant',
  'messageId',
  'channel',
  'verdict',
  'risk',
  'p1',
  'p2',
  'recipient',
  'ip',
  'country',
  'asn',
  'subject',
  'findingCodes',
  'sourceId',
  'sourceRow',
];

interface Row {
  received_at: string;
  message_id: string | null;
  channel: string;
  verdict: string;
  risk: number;
  sender: string | null;
  header_from: string | null;
  recipient: string | null;
  ip: string | null;
  subject: string | null;
  codes: string;
  file_id: number;
  row: number;
}

/** The stored messages as records, in receipt order (a generator: a store of millions is never in memory). */
export function* messageRecords(
  store: DsguardStore,
  opts: { tenant: string | null; lookup: IpLookup | null },
): Generator<MessageRecord> {
  const rows = store.db
    .prepare(
      `SELECT received_at, message_id, channel, verdict, risk, sender, header_from, recipient, ip, subject, codes,
         file_id, row FROM message ORDER BY received_at, day, h`,
    )
    .iterate() as IterableIterator<Row>;
  for (const r of rows) {
    const codes = storedCodes(r.codes);
    const info = r.ip && opts.lookup ? opts.lookup(r.ip) : null;
    yield {
      schemaVersion: MESSAGE_EXPORT_SCHEMA_VERSION,
      time: r.received_at,
      tenant: opts.tenant,
      messageId: r.message_id,
      channel: r.channel,
      verdict: r.verdict,
      risk: r.risk,
      p1: r.sender,
      p2: r.header_from,
      recipient: r.recipient,
      ip: r.ip,
      country: info?.country ?? null,
      asn: info?.asn ?? null,
      subject: r.subject,
      findingCodes: codes,
      sourceId: r.file_id,
      sourceRow: r.row,
    };
  }
}

/** One NDJSON line (field order fixed; U+2028/2029 escaped so a line is a line everywhere). */
export function ndjsonLine(r: MessageRecord): string {
  const ordered: Record<string, unknown> = {};
  for (const f of MESSAGE_FIELDS) ordered[f] = r[f];
  return `${JSON.stringify(ordered)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')}\n`;
}

/** CSV of a batch of records; the header row only when `header`. */
export function csvBatch(records: readonly MessageRecord[], header: boolean): string {
  const text = renderCsv(
    records,
    MESSAGE_FIELDS.map((f) => ({
      header: f,
      value: (r: MessageRecord) => {
        const v = r[f];
        return Array.isArray(v) ? v.join(' ') : (v as string | number | null);
      },
    })),
  );
  return header ? text : text.slice(text.indexOf('\r\n') + 2);
}
