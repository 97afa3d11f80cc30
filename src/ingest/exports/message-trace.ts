/**
 * Message trace summary rows: `Get-MessageTraceV2` / `Get-MessageTrace` (V1) exported with Export-Csv, the same
 * records returned by the Exchange admin API (`value[]` of InvokeCommand), and Graph's
 * `/admin/exchange/tracing/messageTraces` items. One row per message and recipient.
 *
 * Summary rows carry no connector, authentication or direction facts: the core returns channel `unknown` for
 * them and the report says detail data is needed, unless a detail, historical or EmailEvents row for the same
 * message id is ingested too (the store joins them).
 * @module
 */

import { dayOf, pairCheck, pairKey, StreamHash53 } from '../../core/delivery-key.js';
import { isBareAddress, normalizeDomain, toMailAddress } from '../../core/domain-name.js';
import { emptyEvidence, type SourceKind } from '../../core/evidence.js';
import {
  type AdaptResult,
  dateOf,
  type ExportAdapter,
  type ExportFormat,
  type FastCounter,
  fail,
  type IpToken,
  internetIdKey,
  ipOf,
  messageIdOf,
  receivedIso,
} from './export-adapter.js';
import { parseExportDate } from './export-dates.js';
import { type ColumnIndex, cell, type ExportRow, type RowPlace } from './export-row.js';

interface TraceColumns {
  id: string;
  messageId: string;
  received: string;
  sender: string;
  recipient: string;
  fromIp: string;
  toIp: string;
  subject: string;
  status: string;
  size: string;
}

/** PowerShell (V1, V2) and admin API column names, lower-case. */
const POWERSHELL: TraceColumns = {
  id: 'messagetraceid',
  messageId: 'messageid',
  received: 'received',
  sender: 'senderaddress',
  recipient: 'recipientaddress',
  fromIp: 'fromip',
  toIp: 'toip',
  subject: 'subject',
  status: 'status',
  size: 'size',
};

/** Graph exchangeMessageTrace properties, lower-case. */
const GRAPH: TraceColumns = { ...POWERSHELL, id: 'id', received: 'receiveddatetime' };

/**
 * Hash the domain of an address as toMailAddress() holds it (normalizeDomain of the text after the last `@`;
 * nothing when there is no `@`). Plain ASCII is lower-cased char by char; anything else takes normalizeDomain.
 */
function hashDomain(hash: StreamHash53, address: string): void {
  const at = address.lastIndexOf('@');
  if (at < 0) return;
  const n = address.length;
  let plain = address.charCodeAt(n - 1) !== 46;
  for (let i = at + 1; plain && i < n; i++) {
    const ch = address.charCodeAt(i);
    if (ch <= 32 || ch >= 127) plain = false;
  }
  if (!plain) {
    hash.text(normalizeDomain(address.slice(at + 1)));
    return;
  }
  for (let i = at + 1; i < n; i++) {
    const ch = address.charCodeAt(i);
    hash.char(ch >= 65 && ch <= 90 ? ch + 32 : ch);
  }
}

/**
 * The count key of a trace CSV record (see FastCounter): handles the plain shape exports hold — a dashed GUID
 * message trace id, a bare recipient address and a sender that is bare or empty — and returns false for
 * anything else, which adapt() then reads. Each value is what adapt() derives from the same field: the same
 * trimming (the shapes it accepts have nothing to trim), date parser, address and message id normalisation.
 */
function traceCounter(format: ExportFormat, c: TraceColumns, index: ColumnIndex, ipToken: IpToken): FastCounter | null {
  const order = index.dateOrder;
  const iId = index.get(c.id);
  const iReceived = index.get(c.received);
  const iRcpt = index.get(c.recipient);
  const iSender = index.get(c.sender);
  const iIp = index.get(c.fromIp);
  if (iId === undefined || iReceived === undefined || iRcpt === undefined) return null;
  const hash = new StreamHash53();
  const prefix = `${format}|`;
  return (fields, out) => {
    const id = fields[iId];
    const received = fields[iReceived];
    const rcpt = fields[iRcpt];
    if (id === undefined || id.length !== 36 || received === undefined || received.length > 64) return false;
    if (rcpt === undefined || !isBareAddress(rcpt)) return false;
    const sender = iSender === undefined ? '' : (fields[iSender] ?? '');
    if (sender.length > 0 && !isBareAddress(sender)) return false;
    const ipRaw = iIp === undefined ? '' : (fields[iIp] ?? '');
    if (ipRaw.length > 256) return false;
    const ms = parseExportDate(received, order);
    if (ms === null) return false;
    // deliveryHash(normalizeMessageId(id), recipient): the GUID's hex digits lower-cased, without dashes.
    hash.start();
    for (let i = 0; i < 36; i++) {
      let ch = id.charCodeAt(i);
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (ch !== 45) return false;
        continue;
      }
      if (ch >= 65 && ch <= 70) ch += 32;
      else if (!((ch >= 48 && ch <= 57) || (ch >= 97 && ch <= 102))) return false;
      hash.char(ch);
    }
    hash.char(124);
    hash.text(rcpt.toLowerCase());
    out.h = hash.end();
    // hashPair of the class key text: `${format}|${sender domain}|${recipient domain}|` + ipToken(FromIP).
    hash.start();
    hash.text(prefix);
    if (sender.length > 0) hashDomain(hash, sender);
    hash.char(124);
    hashDomain(hash, rcpt);
    hash.char(124);
    hash.text(ipToken(ipRaw.trim()));
    const k = hash.end();
    out.classKey = pairKey(k);
    out.classCheck = pairCheck(k);
    out.day = dayOf(ms);
    return true;
  };
}

function traceAdapter(format: ExportFormat, sourceKind: SourceKind, c: TraceColumns): ExportAdapter {
  return {
    format,
    sourceKind,
    dateColumns: [c.received],
    fastCounter: (index, ipToken) => traceCounter(format, c, index, ipToken),
    adapt(row: ExportRow, place: RowPlace): AdaptResult {
      const date = dateOf(row, [c.received]);
      if ('error' in date) return fail(date.error);
      const rcptRaw = row.get(c.recipient);
      if (rcptRaw === null) return fail(`no ${row.name(c.recipient)} value`);
      const rcpt = toMailAddress(rcptRaw);
      const senderRaw = row.get(c.sender);
      const sender = senderRaw === null ? null : toMailAddress(senderRaw);
      const ipRaw = row.get(c.fromIp) ?? '';
      const messageId = messageIdOf(row.get(c.id));
      const internetId = row.get(c.messageId);
      return {
        status: 'ok',
        row: {
          role: 'delivery',
          messageId: messageId ?? internetIdKey(internetId),
          receivedMs: date.ms,
          recipients: [rcpt?.address ?? ''],
          classKey: `${format}|${sender?.domain ?? ''}|${rcpt?.domain ?? ''}|`,
          classIp: ipRaw,
          evidence() {
            const ev = emptyEvidence(`${place.file}:${place.row}`, sourceKind);
            ev.receivedAt = receivedIso(date.ms);
            ev.messageId = internetId;
            ev.networkMessageId = messageId;
            if (sender) ev.envelopeFrom = cell(row, place, c.sender, sender, senderRaw ?? '');
            if (rcpt) {
              const o = cell(row, place, c.recipient, rcpt, rcptRaw);
              ev.recipients.push(o);
              ev.envelopeRecipients.push(o);
            }
            ev.connectingIp = ipOf(row, place, c.fromIp);
            const subject = row.get(c.subject);
            if (subject !== null) ev.subject = cell(row, place, c.subject, subject);
            const status = row.get(c.status);
            if (status !== null) ev.delivery = cell(row, place, c.status, status);
            const size = row.get(c.size);
            if (size !== null) ev.extra.size = size;
            const toIp = row.get(c.toIp);
            if (toIp !== null) ev.extra.toIp = toIp;
            return ev;
          },
        },
      };
    },
  };
}

export const MESSAGE_TRACE_ADAPTER = traceAdapter('message-trace', 'message-trace', POWERSHELL);
export const GRAPH_MESSAGE_TRACE_ADAPTER = traceAdapter('graph-message-trace', 'graph-message-trace', GRAPH);
