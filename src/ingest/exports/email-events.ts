/**
 * Microsoft Defender advanced hunting: `EmailEvents` (one row per message and recipient), joined with
 * `EmailAttachmentInfo` and `EmailUrlInfo` on `NetworkMessageId`. Rows come from the portal's CSV export, from
 * Graph `runHuntingQuery` (`results[]`, booleans as 0/1 with `@odata.type` sidecars) or from the streaming API
 * (`properties` of `AdvancedHunting-EmailEvents` records, with the tenant id on the envelope).
 *
 * Mapping: `EmailDirection` Inbound is an anonymous internet receive (Intra-org and Outbound are the tenant's
 * own authenticated mail); `Connectors` empty or null on an inbound row means no connector matched;
 * `AuthenticationDetails` is a JSON string with SPF / DKIM / DMARC / CompAuth; `ThreatTypes` Phish / Malware
 * map to the antispam categories the rules read.
 * @module
 */
import { toMailAddress } from '../../core/domain-name.js';
import {
  type AttachmentEvidence,
  emptyEvidence,
  type MessageEvidence,
  type UrlEvidence,
  type UrlLocation,
} from '../../core/evidence.js';
import { boundValue } from '../../core/finding.js';
import { observed } from '../../core/observed.js';
import {
  type AdaptResult,
  addressOf,
  dateOf,
  domainKey,
  type ExportAdapter,
  fail,
  ipOf,
  messageIdOf,
  receivedIso,
  recipientKey,
} from './export-adapter.js';
import { cell, cellRef, type ExportRow, type RowPlace } from './export-row.js';

/** `{"SPF":"pass","DKIM":"none",…}` (a JSON-encoded string) → lower-case keys and values. */
export function parseAuthenticationDetails(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (text.length > 4096) return out;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
        if (typeof val === 'string') out.set(k.toLowerCase(), val.trim().toLowerCase());
      }
    }
  } catch {
    // Not JSON: `SPF=pass;DKIM=none` style text from other exports.
    for (const part of text.split(/[;,]/)) {
      const eq = part.indexOf('=');
      if (eq > 0)
        out.set(
          part.slice(0, eq).trim().toLowerCase(),
          part
            .slice(eq + 1)
            .trim()
            .toLowerCase(),
        );
    }
  }
  return out;
}

const EVENT_DATE = ['timestamp'] as const;

interface EventKey {
  date: { ms: number };
  messageId: string;
}

/** What every Defender email table row is keyed on: its `Timestamp` and `NetworkMessageId`, both required. */
function eventKey(row: ExportRow): EventKey | { error: string } {
  const date = dateOf(row, EVENT_DATE);
  if ('error' in date) return date;
  const messageId = messageIdOf(row.get('networkmessageid'));
  if (messageId === null) return { error: `no ${row.name('networkmessageid')} value` };
  return { date, messageId };
}

function threatCategory(threats: string): string | null {
  const t = threats.toLowerCase();
  if (t.includes('malware')) return 'MALW';
  if (t.includes('phish')) return 'PHSH';
  if (t.includes('spam')) return 'SPM';
  return null;
}

/** `ThreatTypes` as the antispam category the rules read (Phish → PHSH, Malware → MALW, Spam → SPM). */
function addThreatCategory(ev: MessageEvidence, row: ExportRow, place: RowPlace): void {
  const threats = row.get('threattypes');
  if (threats === null) return;
  const cat = threatCategory(threats);
  if (cat) ev.antispam.cat = cell(row, place, 'threattypes', cat, threats);
}

/**
 * A row of a table that adds facts to a message (`EmailAttachmentInfo`, `EmailUrlInfo`): stored beside the
 * message's `EmailEvents` rows, never classified; its evidence is the message id and what `fill` adds.
 */
function factRow(
  place: RowPlace,
  key: EventKey,
  recipients: string[],
  fill: (ev: MessageEvidence) => void,
): AdaptResult {
  return {
    status: 'ok',
    row: {
      role: 'fact',
      messageId: key.messageId,
      receivedMs: key.date.ms,
      recipients,
      classKey: '',
      evidence() {
        const ev = emptyEvidence(`${place.file}:${place.row}`, 'email-events');
        ev.networkMessageId = key.messageId;
        fill(ev);
        return ev;
      },
    },
  };
}

export const EMAIL_EVENTS_ADAPTER: ExportAdapter = {
  format: 'email-events',
  sourceKind: 'email-events',
  dateColumns: EVENT_DATE,
  adapt(row: ExportRow, place: RowPlace): AdaptResult {
    const key = eventKey(row);
    if ('error' in key) return fail(key.error);
    const { date, messageId } = key;
    const rcptRaw = row.get('recipientemailaddress');
    if (rcptRaw === null) return fail(`no ${row.name('recipientemailaddress')} value`);
    const direction = (row.get('emaildirection') ?? '').toLowerCase();
    const connectors = row.get('connectors');
    const auth = row.get('authenticationdetails') ?? '';
    const ip = row.get('senderipv4') ?? row.get('senderipv6') ?? '';
    return {
      status: 'ok',
      row: {
        role: 'delivery',
        messageId,
        receivedMs: date.ms,
        recipients: [recipientKey(rcptRaw)],
        // The IP goes last, apart: the classifier folds it (rows from thousands of IPs share a few classes).
        classKey: `${[
          'ee',
          domainKey(row.get('sendermailfromaddress')),
          domainKey(row.get('senderfromaddress')),
          domainKey(rcptRaw),
          direction,
          connectors ?? '',
          auth,
          row.get('threattypes') ?? '',
          row.get('tenantid') ?? '',
        ].join('|')}|`,
        classIp: ip,
        evidence() {
          const ev = emptyEvidence(`${place.file}:${place.row}`, 'email-events');
          ev.receivedAt = receivedIso(date.ms);
          ev.networkMessageId = messageId;
          ev.messageId = row.get('internetmessageid');
          ev.envelopeFrom = addressOf(row, place, 'sendermailfromaddress');
          ev.headerFrom = addressOf(row, place, 'senderfromaddress');
          const display = row.get('senderdisplayname');
          if (ev.headerFrom && display !== null) ev.headerFrom.value.name = boundValue(display, 200);
          const rcpt = addressOf(row, place, 'recipientemailaddress');
          if (rcpt) ev.envelopeRecipients.push(rcpt);
          for (const key of ['to', 'cc']) {
            const list = row.raw(key);
            if (Array.isArray(list)) {
              for (const item of list.slice(0, 500)) {
                if (typeof item !== 'string') continue;
                const a = toMailAddress(item);
                if (a) ev.recipients.push(observed(a, cellRef(place, row.name(key), item)));
              }
            }
          }
          if (ev.recipients.length === 0 && rcpt) ev.recipients.push(rcpt);
          ev.connectingIp = ipOf(row, place, 'senderipv4') ?? ipOf(row, place, 'senderipv6');
          const subject = row.get('subject');
          if (subject !== null) ev.subject = cell(row, place, 'subject', subject);
          const dirText = row.get('emaildirection');
          if (direction === 'inbound') {
            ev.exchange.directionality = cell(row, place, 'emaildirection', 'Incoming', dirText ?? '');
            ev.connector = cell(row, place, 'connectors', connectors, connectors ?? '(empty)');
          } else if (direction === 'intra-org' || direction === 'outbound') {
            ev.exchange.authAs = cell(row, place, 'emaildirection', 'Internal', dirText ?? '');
          }
          const tenant = row.get('tenantid');
          if (tenant !== null) ev.receivingTenantId = cell(row, place, 'tenantid', tenant.toLowerCase(), tenant);
          if (auth.length > 0) {
            const details = parseAuthenticationDetails(auth);
            const ref = (k: string, v: string) =>
              observed(v, cellRef(place, `${row.name('authenticationdetails')}.${k}`, v));
            const spf = details.get('spf');
            if (spf) ev.authentication.spf = ref('SPF', spf);
            const dkim = details.get('dkim');
            if (dkim) ev.authentication.dkim = ref('DKIM', dkim);
            const dmarc = details.get('dmarc');
            if (dmarc) ev.authentication.dmarc = ref('DMARC', dmarc);
            const comp = details.get('compauth');
            if (comp) ev.authentication.compauth = ref('CompAuth', comp);
          }
          const mfd = row.get('sendermailfromdomain');
          if (mfd !== null)
            ev.authentication.mailFromDomain = cell(row, place, 'sendermailfromdomain', mfd.toLowerCase());
          const hfd = row.get('senderfromdomain');
          if (hfd !== null)
            ev.authentication.headerFromDomain = cell(row, place, 'senderfromdomain', hfd.toLowerCase());
          addThreatCategory(ev, row, place);
          const action = row.get('deliveryaction');
          const location = row.get('deliverylocation');
          if (action !== null || location !== null) {
            const text = [action, location].filter((x) => x !== null).join(' / ');
            ev.delivery = cell(row, place, action !== null ? 'deliveryaction' : 'deliverylocation', text);
          }
          for (const k of [
            'detectionmethods',
            'confidencelevel',
            'bulkcomplaintlevel',
            'attachmentcount',
            'urlcount',
            'emaillanguage',
            'orglevelaction',
            'userlevelaction',
          ]) {
            const v = row.get(k);
            if (v !== null) ev.extra[row.name(k)] = boundValue(v, 300);
          }
          return ev;
        },
      },
    };
  },
};

export const EMAIL_ATTACHMENT_INFO_ADAPTER: ExportAdapter = {
  format: 'email-attachment-info',
  sourceKind: 'email-events',
  dateColumns: EVENT_DATE,
  adapt(row: ExportRow, place: RowPlace): AdaptResult {
    const key = eventKey(row);
    if ('error' in key) return fail(key.error);
    const rcptRaw = row.get('recipientemailaddress');
    return factRow(place, key, rcptRaw === null ? [] : [recipientKey(rcptRaw)], (ev) => {
      const name = row.get('filename');
      const size = Number(row.get('filesize') ?? '0');
      const a: AttachmentEvidence = {
        name,
        contentType: (row.get('filetype') ?? 'application/octet-stream').toLowerCase(),
        size: Number.isFinite(size) ? size : 0,
        sha256: row.get('sha256')?.toLowerCase() ?? null,
        disposition: null,
        qrUrls: [],
        ref: cellRef(place, row.name('filename'), name ?? ''),
      };
      ev.attachments.push(a);
      addThreatCategory(ev, row, place);
    });
  },
};

const URL_LOCATIONS: Record<string, UrlLocation> = {
  qrcode: 'qr-code',
  body: 'body',
  attachment: 'attachment',
  attachmentfile: 'attachment',
};

export const EMAIL_URL_INFO_ADAPTER: ExportAdapter = {
  format: 'email-url-info',
  sourceKind: 'email-events',
  dateColumns: EVENT_DATE,
  adapt(row: ExportRow, place: RowPlace): AdaptResult {
    const key = eventKey(row);
    if ('error' in key) return fail(key.error);
    const url = row.get('url');
    if (url === null) return fail(`no ${row.name('url')} value`);
    return factRow(place, key, [], (ev) => {
      const loc = (row.get('urllocation') ?? '').toLowerCase();
      const u: UrlEvidence = {
        url: boundValue(url, 2048),
        location: URL_LOCATIONS[loc] ?? 'body',
        ref: cellRef(place, row.name('url'), url),
      };
      ev.urls.push(u);
    });
  },
};
