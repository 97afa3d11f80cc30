/**
 * Historical search reports (`Start-HistoricalSearch`, the EAC "Inbound messages" / message trace reports):
 * UTF-16LE CSV files with snake_case columns. The enhanced summary has `origin_timestamp_utc`, `sender_address`,
 * `Recipient_status` (`addr##Receive, Deliver;addr2##…`), `message_subject`, `network_message_id`,
 * `original_client_ip`, `directionality`, `connector_id`; the extended (detail) report one row per event with
 * `date_time_utc`, `event_id`, `client_ip`, `client_hostname`, `recipient_address`, `return_path`, `tenant_id`,
 * `custom_data`.
 *
 * `directionality` Incoming (or 1) with an empty `connector_id` is an anonymous receive that matched no
 * connector; a connector name means one did.
 * @module
 */
import { toMailAddress } from '../../core/domain-name.js';
import { emptyEvidence, type MailAddress } from '../../core/evidence.js';
import { boundValue } from '../../core/finding.js';
import { type Observed, observed } from '../../core/observed.js';
import {
  type AdaptResult,
  addressOf,
  dateOf,
  domainKey,
  type ExportAdapter,
  fail,
  internetIdKey,
  ipOf,
  messageIdOf,
  receivedIso,
} from './export-adapter.js';
import { cell, cellRef, type ExportRow, type RowPlace } from './export-row.js';
import { applyTransportFacts, connectorName, parseCustomData } from './trace-detail.js';

const MAX_RECIPIENTS = 500;

export function normalizeDirectionality(v: string | null): 'Incoming' | 'Originating' | null {
  if (v === null) return null;
  const t = v.trim().toLowerCase();
  if (t === '1' || t === 'incoming' || t === 'inbound' || t === 'received') return 'Incoming';
  if (t === '2' || t === 'originating' || t === 'outbound' || t === 'outgoing' || t === 'sent') return 'Originating';
  return null;
}

/** `a@x##Receive, Deliver;b@y##Receive, Fail` → addresses; plain `a@x;b@y` too. */
export function recipientsOfStatus(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(';')) {
    if (out.length >= MAX_RECIPIENTS) break;
    const addr = (part.split('##')[0] ?? '').trim();
    if (addr.length > 0) out.push(addr);
  }
  return out;
}

const HISTORICAL_DATE = ['origin_timestamp_utc', 'origin_timestamp', 'date_time_utc', 'date_time'] as const;

export const HISTORICAL_SEARCH_ADAPTER: ExportAdapter = {
  format: 'historical-search',
  sourceKind: 'historical-search',
  dateColumns: HISTORICAL_DATE,
  adapt(row: ExportRow, place: RowPlace): AdaptResult {
    const date = dateOf(row, HISTORICAL_DATE);
    if ('error' in date) return fail(date.error);
    const messageId = messageIdOf(row.get('network_message_id'));
    const internetId = row.get('message_id');
    const id = messageId ?? internetIdKey(internetId);
    if (id === null) return fail(`no ${row.name('network_message_id')} or ${row.name('message_id')} value`);
    const rcptColumn = row.get('recipient_address') !== null ? 'recipient_address' : 'recipient_status';
    const rcptText = row.get(rcptColumn) ?? '';
    const rcptRaw = recipientsOfStatus(rcptText);
    const recipients: MailAddress[] = [];
    for (const r of rcptRaw) {
      const a = toMailAddress(r);
      if (a) recipients.push(a);
    }
    const event = row.get('event_id');
    // Extended reports: only the RECEIVE event is the message's arrival; other events add facts.
    const isReceive = event === null || event.toUpperCase() === 'RECEIVE';
    const direction = normalizeDirectionality(row.get('directionality'));
    const connectorId = row.get('connector_id');
    const sender = row.get('return_path') ?? row.get('sender_address');
    const ip = row.get('original_client_ip') ?? row.get('client_ip') ?? '';
    const customText = row.get('custom_data') ?? '';
    return {
      status: 'ok',
      row: {
        role: isReceive && recipients.length > 0 ? 'delivery' : 'fact',
        messageId: id,
        receivedMs: date.ms,
        recipients: isReceive ? recipients.map((r) => r.address) : [],
        // The IP goes last, apart: the classifier folds it (rows from thousands of IPs share a few classes).
        classKey: `${[
          'hist',
          isReceive ? 'r' : (event ?? ''),
          domainKey(sender),
          [...new Set(recipients.map((r) => r.domain ?? ''))].sort().join(','),
          direction ?? '',
          direction === 'Incoming' || connectorId !== null ? (connectorId ?? '-') : '',
          row.get('tenant_id') ?? '',
          customText.includes('InboundConnectorData') ? 'icd' : '',
        ].join('|')}|`,
        classIp: ip,
        evidence() {
          const ev = emptyEvidence(`${place.file}:${place.row}`, 'historical-search');
          ev.receivedAt = receivedIso(date.ms);
          ev.networkMessageId = messageId;
          ev.messageId = internetId;
          ev.envelopeFrom = addressOf(row, place, 'sender_address');
          const rp = addressOf(row, place, 'return_path');
          if (rp) ev.envelopeFrom = rp;
          for (const a of recipients) {
            const o: Observed<MailAddress> = observed(a, cellRef(place, row.name(rcptColumn), a.address));
            ev.recipients.push(o);
            ev.envelopeRecipients.push(o);
          }
          const subject = row.get('message_subject');
          if (subject !== null) ev.subject = cell(row, place, 'message_subject', subject);
          ev.connectingIp = ipOf(row, place, 'original_client_ip') ?? ipOf(row, place, 'client_ip');
          const host = row.get('client_hostname');
          if (host !== null) ev.helo = cell(row, place, 'client_hostname', host);
          const tenant = row.get('tenant_id');
          if (tenant !== null) ev.receivingTenantId = cell(row, place, 'tenant_id', tenant.toLowerCase(), tenant);
          if (direction !== null) {
            ev.exchange.directionality = cell(row, place, 'directionality', direction, row.get('directionality') ?? '');
          }
          if (isReceive && (direction === 'Incoming' || connectorId !== null)) {
            ev.connector = cell(row, place, 'connector_id', connectorId, connectorId ?? '(empty)');
          }
          if (customText.length > 0) {
            applyTransportFacts(
              ev,
              { clientIp: null, clientName: null, returnPath: null, custom: parseCustomData(customText) },
              false,
              place,
              row.name('custom_data'),
            );
            if (ev.connector === null && isReceive) {
              const icd = parseCustomData(customText).get('inboundconnectordata');
              if (icd !== undefined) {
                ev.connector = observed(
                  connectorName(icd),
                  cellRef(place, row.name('custom_data'), boundValue(icd, 200)),
                );
              }
            }
          }
          const status = row.get('recipient_status');
          if (status !== null) ev.delivery = cell(row, place, 'recipient_status', boundValue(status, 300));
          for (const k of ['total_bytes', 'event_id', 'source', 'delivery_priority', 'server_hostname']) {
            const v = row.get(k);
            if (v !== null) ev.extra[k] = boundValue(v, 200);
          }
          return ev;
        },
      },
    };
  },
};
