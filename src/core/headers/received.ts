/**
 * `Received` trace fields (RFC 5321 4.4): from / by / via / with / id / for clauses, comments, IPs, date.
 * One linear pass per header; tolerant of the many real-world shapes (Exchange, Postfix, Exim, Sendmail).
 * @module
 */
import { looksLikeIp } from '../net-address.js';

export interface ReceivedHop {
  /** The name after `from`: the HELO/EHLO argument in Exchange's and Postfix's format. */
  from: string | null;
  /** HELO when a comment states it apart (`helo=...`); otherwise equal to `from`. */
  helo: string | null;
  /** Reverse-DNS name from the comment (`rdns [ip]`), when given. */
  fromRdns: string | null;
  fromIp: string | null;
  by: string | null;
  byIp: string | null;
  with: string | null;
  id: string | null;
  for: string | null;
  /** true: TLS used on this hop; false: plain; null: cannot tell. */
  tls: boolean | null;
  /** ISO-8601 date of the hop, or null (only when parsed with `{ date: true }`, the default). */
  date: string | null;
  /** The date text after the last `;`, as written. */
  dateText: string | null;
}

interface Token {
  kind: 'word' | 'comment';
  text: string;
}

const KEYWORDS = new Set(['from', 'by', 'via', 'with', 'id', 'for']);
const MAX_RECEIVED = 8 * 1024;

function tokenize(value: string): { tokens: Token[]; date: string | null } {
  const tokens: Token[] = [];
  const s = value.length > MAX_RECEIVED ? value.slice(0, MAX_RECEIVED) : value;
  const n = s.length;
  let i = 0;
  let wordStart = -1;
  let lastSemicolonToken = -1;
  let lastSemicolonPos = -1;
  const pushWord = (end: number) => {
    if (wordStart >= 0 && end > wordStart) tokens.push({ kind: 'word', text: s.slice(wordStart, end) });
    wordStart = -1;
  };
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 40 /* ( */) {
      pushWord(i);
      let depth = 1;
      let j = i + 1;
      let escaped = false;
      while (j < n && depth > 0) {
        const d = s.charCodeAt(j);
        if (d === 92 /* \ */) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 40) depth++;
        else if (d === 41) depth--;
        j++;
      }
      let text = s.slice(i + 1, depth === 0 ? j - 1 : j);
      if (escaped) text = text.replace(/\\(.)/g, '$1');
      tokens.push({ kind: 'comment', text: text.trim() });
      i = j;
      continue;
    }
    if (c === 59 /* ; */) {
      pushWord(i);
      lastSemicolonToken = tokens.length;
      lastSemicolonPos = i;
      tokens.push({ kind: 'word', text: ';' });
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 10) {
      pushWord(i);
      i++;
      continue;
    }
    if (wordStart < 0) wordStart = i;
    i++;
  }
  pushWord(n);
  let date: string | null = null;
  if (lastSemicolonToken >= 0) {
    tokens.length = lastSemicolonToken;
    date = s.slice(lastSemicolonPos + 1).trim();
  }
  return { tokens, date };
}

function firstIpIn(text: string): string | null {
  // Bracketed literals first: "[1.2.3.4]" or "[IPv6:...]".
  let open = text.indexOf('[');
  while (open >= 0) {
    const close = text.indexOf(']', open);
    if (close < 0) break;
    const ip = looksLikeIp(text.slice(open + 1, close));
    if (ip) return ip;
    open = text.indexOf('[', close);
  }
  for (const part of text.split(/[\s,;=()]+/)) {
    const ip = part.length > 0 ? looksLikeIp(part) : null;
    if (ip) return ip;
  }
  return null;
}

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};
// RFC 5322 date-time: [day-name ","] day month year hour ":" minute [":" second] zone
const RFC5322_DATE =
  /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s+([+-])(\d{2})(\d{2})/;

function parseDate(text: string | null): string | null {
  if (!text) return null;
  const m = RFC5322_DATE.exec(text);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month !== undefined) {
      const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
      const t =
        Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) - offset * 60_000;
      if (!Number.isNaN(t)) return new Date(t).toISOString();
    }
  }
  const cleaned = text.replace(/\([^)]*\)/g, ' ').trim();
  if (cleaned.length === 0 || cleaned.length > 100) return null;
  const t = Date.parse(cleaned);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function tlsFrom(withText: string | null, comments: string[]): boolean | null {
  for (const c of comments) {
    if (/\bversion=TLS/i.test(c) || /\bcipher=/i.test(c) || /\bTLSv?1/i.test(c)) return true;
  }
  if (!withText) return null;
  const w = withText.toUpperCase();
  if (/^(E?SMTPS|ESMTPSA|UTF8SMTPS|UTF8SMTPSA|LMTPS|HTTPS)\b/.test(w)) return true;
  if (w.startsWith('MICROSOFT SMTP SERVER')) return false;
  if (/^(E?SMTP|ESMTPA|UTF8SMTP|LMTP|HTTP)\b/.test(w)) return false;
  return null;
}

/** ISO-8601 form of a Received date text, or null. */
export function receivedDate(dateText: string | null): string | null {
  return parseDate(dateText);
}

export function parseReceived(value: string, options: { date?: boolean } = {}): ReceivedHop {
  const { tokens, date } = tokenize(value);
  const hop: ReceivedHop = {
    from: null,
    helo: null,
    fromRdns: null,
    fromIp: null,
    by: null,
    byIp: null,
    with: null,
    id: null,
    for: null,
    tls: null,
    date: options.date === false ? null : parseDate(date),
    dateText: date,
  };
  let clause: string | null = null;
  const fromComments: string[] = [];
  const byComments: string[] = [];
  const withWords: string[] = [];
  const withComments: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'word' && KEYWORDS.has(t.text.toLowerCase())) {
      clause = t.text.toLowerCase();
      continue;
    }
    if (t.kind === 'word' && t.text === ';') continue;
    switch (clause) {
      case 'from':
        if (t.kind === 'comment') fromComments.push(t.text);
        else if (hop.from === null) hop.from = t.text;
        break;
      case 'by':
        if (t.kind === 'comment') byComments.push(t.text);
        else if (hop.by === null) hop.by = t.text.toLowerCase();
        break;
      case 'with':
        if (t.kind === 'comment') withComments.push(t.text);
        else withWords.push(t.text);
        break;
      case 'id':
        if (t.kind === 'word' && hop.id === null) hop.id = t.text;
        else if (t.kind === 'comment') withComments.push(t.text);
        break;
      case 'for':
        if (t.kind === 'word' && hop.for === null) hop.for = t.text.replace(/^<|>$/g, '');
        break;
      default:
        break;
    }
  }
  hop.with = withWords.length > 0 ? withWords.join(' ') : null;
  hop.helo = hop.from;
  for (const c of fromComments) {
    const heloMatch = /\bhelo=([^\s)\]]+)/i.exec(c);
    if (heloMatch) hop.helo = heloMatch[1] ?? null;
    const ip = firstIpIn(c);
    if (ip && hop.fromIp === null) hop.fromIp = ip;
    const first = c.split(/\s+/)[0] ?? '';
    if (
      hop.fromRdns === null &&
      first.length > 0 &&
      !first.startsWith('[') &&
      !looksLikeIp(first) &&
      !first.includes('=')
    ) {
      hop.fromRdns = first.toLowerCase();
    }
  }
  if (hop.fromIp === null && hop.from !== null) hop.fromIp = firstIpIn(hop.from);
  for (const c of byComments) {
    const ip = firstIpIn(c);
    if (ip) {
      hop.byIp = ip;
      break;
    }
  }
  hop.tls = tlsFrom(hop.with, [...withComments, ...byComments]);
  return hop;
}

/** Microsoft's inbound front door: `*.mail.protection.outlook.com`, `*.mx.microsoft`, and EOP front ends. */
export function isExchangeOnlineHost(host: string | null): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return (
    h.endsWith('.protection.outlook.com') ||
    h.endsWith('.prod.outlook.com') ||
    h.endsWith('.outlook.office365.com') ||
    h.endsWith('.mx.microsoft') ||
    h.endsWith('.outlook.com')
  );
}
