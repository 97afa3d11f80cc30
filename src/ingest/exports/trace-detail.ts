/**
 * Message trace detail: `Get-MessageTraceDetailV2` (and V1) rows exported with Export-Csv, one row per event
 * (`Receive`, `Deliver`, `Spam Diagnostics`, ...) with an XML `Data` column `<root><MEP Name="…" String="…"/></root>`.
 *
 * The `Receive` event tells how the message got in: `CustomData` carries `S:InboundConnectorData=Name=<connector>`
 * when an inbound connector matched (its absence on a Receive event is "no connector"), `S:tlsversion`, and the
 * `ClientIP` / `ReturnPath` MEPs the connecting host and envelope sender. Spam-filter rows carry
 * `S:SFA=SUM|SFV=…|IPV=…|H=<helo>|CIP=<ip>|CTRY=…`.
 * @module
 */
import { toMailAddress } from '../../core/domain-name.js';
import { emptyEvidence, type MessageEvidence } from '../../core/evidence.js';
import { boundValue } from '../../core/finding.js';
import { normalizeIp } from '../../core/net-address.js';
import { observed } from '../../core/observed.js';
import {
  type AdaptResult,
  dateOf,
  domainKey,
  type ExportAdapter,
  fail,
  messageIdOf,
  receivedIso,
  recipientKey,
} from './export-adapter.js';
import { cell, cellRef, type ExportRow, type RowPlace } from './export-row.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function xmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,4});/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/**
 * The `<MEP Name="…" String|Blob|Integer|Long="…"/>` entries of a trace detail `Data` value, keyed by lower-case
 * name. A linear attribute scanner (no regex backtracking, bounded by the cell size); malformed input yields fewer
 * entries, never an exception.
 */
export function parseMepData(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  for (;;) {
    const start = xml.indexOf('<MEP', pos);
    if (start < 0 || out.size >= 200) break;
    pos = start + 4;
    let name: string | null = null;
    let value: string | null = null;
    for (;;) {
      while (pos < xml.length && /\s/.test(xml[pos]!)) pos++;
      const ch = xml[pos];
      if (ch === undefined || ch === '/' || ch === '>') break;
      const eq = xml.indexOf('=', pos);
      if (eq < 0) {
        pos = xml.length;
        break;
      }
      const attr = xml.slice(pos, eq).trim();
      const quote = xml[eq + 1];
      if (quote !== '"' && quote !== "'") {
        pos = eq + 1;
        break;
      }
      const end = xml.indexOf(quote, eq + 2);
      if (end < 0) {
        pos = xml.length;
        break;
      }
      const v = xmlUnescape(xml.slice(eq + 2, end));
      if (attr === 'Name') name = v;
      else if (value === null) value = v;
      pos = end + 1;
    }
    if (name !== null && value !== null && !out.has(name.toLowerCase())) out.set(name.toLowerCase(), value);
  }
  return out;
}

export interface CustomData {
  /** `S:Key=Value` entries by lower-case key (the `S:`/`I:` type prefix dropped). */
  entries: Map<string, string>;
}

/**
 * Parse a `CustomData` / `custom_data` value: `;`-separated `S:Key=Value` items; an item without a type prefix
 * (`ConnectorType=Partner` after `S:InboundConnectorData=Name=X`) continues the previous one.
 */
export function parseCustomData(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let lastKey: string | null = null;
  for (const raw of text.split(';')) {
    if (out.size >= 500) break;
    const item = raw.trim();
    if (item.length === 0) continue;
    const m = /^([A-Za-z]{1,2}):([^=]{1,200})=(.*)$/s.exec(item);
    if (m) {
      lastKey = m[2]!.trim().toLowerCase();
      if (!out.has(lastKey)) out.set(lastKey, m[3]!);
    } else if (lastKey !== null) {
      out.set(lastKey, `${out.get(lastKey) ?? ''};${item}`);
    }
  }
  return out;
}

/** `Name=Contoso Scanner;ConnectorType=Partner` → `Contoso Scanner`. */
export function connectorName(inboundConnectorData: string): string | null {
  const m = /^Name=([^;]*)/i.exec(inboundConnectorData.trim());
  const name = (m ? m[1]! : inboundConnectorData.split(';')[0]!).trim();
  return name.length > 0 ? name : null;
}

/** The `S:SFA` spam-filter summary: `SUM|SFV=SPM|IPV=CAL|H=helo|CIP=1.2.3.4|CTRY=US|…`. */
export function parseSfa(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split('|')) {
    const eq = part.indexOf('=');
    if (eq > 0 && out.size < 100) out.set(part.slice(0, eq).trim().toUpperCase(), part.slice(eq + 1).trim());
  }
  return out;
}

export interface ReceiveFacts {
  clientIp: string | null;
  clientName: string | null;
  returnPath: string | null;
  custom: Map<string, string>;
}

/**
 * Fill evidence from a trace event's Data/CustomData. `isReceive`: the event is the SMTP receive into the tenant.
 * `refField` names the column the facts came from.
 */
export function applyTransportFacts(
  ev: MessageEvidence,
  facts: ReceiveFacts,
  isReceive: boolean,
  place: RowPlace,
  refField: string,
): void {
  const ref = (key: string, value: string) => cellRef(place, `${refField}:${key}`, `${key}=${boundValue(value, 200)}`);
  const c = facts.custom;
  if (facts.returnPath !== null) {
    const a = toMailAddress(facts.returnPath);
    if (a) ev.envelopeFrom = observed(a, ref('ReturnPath', facts.returnPath));
  }
  if (facts.clientIp !== null) {
    const ip = normalizeIp(facts.clientIp);
    if (ip) ev.connectingIp = observed(ip, ref('ClientIP', facts.clientIp));
  }
  if (facts.clientName !== null) ev.helo = observed(facts.clientName, ref('ClientHostname', facts.clientName));
  const sfa = c.get('sfa');
  if (sfa !== undefined) {
    const f = parseSfa(sfa);
    const put = (k: string) => {
      const v = f.get(k);
      return v ? observed(v, ref(`SFA.${k}`, v)) : null;
    };
    ev.antispam.sfv = put('SFV');
    ev.antispam.ipv = put('IPV');
    ev.antispam.ctry = put('CTRY');
    ev.antispam.scl = put('SCL');
    ev.antispam.cat = put('CAT');
    ev.antispam.sfty = put('SFTY');
    ev.antispam.dir = put('DIR');
    const h = f.get('H');
    if (h && ev.helo === null) ev.helo = observed(h, ref('SFA.H', h));
    const cip = f.get('CIP');
    if (cip && ev.connectingIp === null) {
      const ip = normalizeIp(cip);
      if (ip) ev.connectingIp = observed(ip, ref('SFA.CIP', cip));
    }
  }
  const dir = c.get('dir');
  if (dir !== undefined && ev.antispam.dir === null) ev.antispam.dir = observed(dir, ref('DIR', dir));
  const tls = c.get('tlsversion');
  if (tls !== undefined) {
    const on = /tls/i.test(tls) && !/none/i.test(tls);
    ev.tls = observed(on, ref('tlsversion', tls));
  }
  for (const k of ['useragent', 'messagesourcename', 'clientname', 'oorg', 'tlscipher']) {
    const v = c.get(k);
    if (v !== undefined) ev.extra[k] = boundValue(v, 200);
  }
  if (!isReceive) return;
  const connector = c.get('inboundconnectordata');
  if (connector !== undefined) {
    ev.connector = observed(connectorName(connector), ref('InboundConnectorData', connector));
  } else {
    // A Receive event without S:InboundConnectorData matched no inbound connector (the admin-center method).
    ev.connector = observed(null, ref('InboundConnectorData', '(absent)'));
    // Received over SMTP from a host that is not a client submission: anonymous internet receive.
    const submission = c.has('useragent') || c.has('messagesourcename');
    if (facts.clientIp !== null && !submission) {
      ev.exchange.directionality = observed('Incoming', ref('ClientIP', facts.clientIp));
    }
  }
}

/** Get-MessageTraceDetail(V2) columns, lower-case. */
const C = {
  id: 'messagetraceid',
  messageId: 'messageid',
  date: 'date',
  event: 'event',
  action: 'action',
  detail: 'detail',
  data: 'data',
  recipient: 'recipientaddress',
  sender: 'senderaddress',
} as const;

export const TRACE_DETAIL_ADAPTER: ExportAdapter = {
  format: 'message-trace-detail',
  sourceKind: 'message-trace-detail',
  dateColumns: [C.date],
  adapt(row: ExportRow, place: RowPlace): AdaptResult {
    const date = dateOf(row, [C.date]);
    if ('error' in date) return fail(date.error);
    const event = row.get(C.event);
    if (event === null) return fail(`no ${row.name(C.event)} value`);
    const messageId = messageIdOf(row.get(C.id));
    if (messageId === null) return fail(`no ${row.name(C.id)} value`);
    const data = row.get(C.data) ?? '';
    const mep = parseMepData(data);
    const custom = parseCustomData(mep.get('customdata') ?? '');
    const facts: ReceiveFacts = {
      clientIp: mep.get('clientip') ?? null,
      clientName: mep.get('clienthostname') ?? mep.get('clientname') ?? null,
      returnPath: mep.get('returnpath') ?? null,
      custom,
    };
    const isReceive = event.toLowerCase() === 'receive';
    const rcptRaw = row.get(C.recipient);
    const recipient = rcptRaw === null ? null : recipientKey(rcptRaw);
    const connector = custom.get('inboundconnectordata') ?? '';
    const submission = custom.has('useragent') || custom.has('messagesourcename');
    return {
      status: 'ok',
      row: {
        role: recipient ? 'delivery' : 'fact',
        messageId,
        receivedMs: date.ms,
        recipients: recipient ? [recipient] : [],
        // The IP goes last, apart: the classifier folds it (rows from thousands of IPs share a few classes).
        classKey: `${[
          'detail',
          event.toLowerCase(),
          domainKey(facts.returnPath ?? row.get(C.sender)),
          domainKey(rcptRaw),
          connector,
          submission ? 's' : '',
          custom.get('dir') ?? '',
          custom.get('sfa') ?? '',
        ].join('|')}|`,
        classIp: facts.clientIp ?? '',
        evidence() {
          const ev = emptyEvidence(`${place.file}:${place.row}`, 'message-trace-detail');
          ev.receivedAt = receivedIso(date.ms);
          ev.networkMessageId = messageId;
          ev.messageId = row.get(C.messageId);
          const sender = row.get(C.sender);
          if (sender !== null) {
            const a = toMailAddress(sender);
            if (a) ev.envelopeFrom = cell(row, place, C.sender, a, sender);
          }
          if (rcptRaw !== null) {
            const a = toMailAddress(rcptRaw);
            if (a) {
              const o = cell(row, place, C.recipient, a, rcptRaw);
              ev.recipients.push(o);
              ev.envelopeRecipients.push(o);
            }
          }
          applyTransportFacts(ev, facts, isReceive, place, row.name(C.data));
          ev.extra.event = event;
          const action = row.get(C.action);
          if (action !== null) ev.extra.action = action;
          const detail = row.get(C.detail);
          if (detail !== null) ev.extra.detail = boundValue(detail, 300);
          return ev;
        },
      },
    };
  },
};
