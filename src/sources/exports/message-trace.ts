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

import { toMailAddress } from '../../core/domain-name.js';
import { emptyEvidence, type SourceKind } from '../../core/evidence.js';
import {
  type AdaptResult,
  dateOf,
  type ExportAdapter,
  type ExportFormat,
  fail,
  ipOf,
  messageIdOf,
  receivedIso,
} from './export-adapter.js';
import { cell, type ExportRow, type RowPlace } from './export-row.js';

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

function traceAdapter(format: ExportFormat, sourceKind: SourceKind, c: TraceColumns): ExportAdapter {
  return {
    format,
    sourceKind,
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
        ok: true,
        row: {
          role: 'delivery',
          messageId: messageId ?? (internetId ? `imid:${internetId.toLowerCase()}` : null),
          receivedMs: date.ms,
          recipients: [rcpt?.address ?? ''],
          classKey: `${format}|${sender?.domain ?? ''}|${rcpt?.domain ?? ''}|${ipRaw}`,
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
