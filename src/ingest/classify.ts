/**
 * How ingest classifies a row it may only count: the channel (tenant and channel rules) and whether it is a
 * candidate worth keeping in full, cached by the adapter's class key so the rules run once per distinct key.
 * Used on the main thread and in the reader worker alike.
 * @module
 */
import { type AssessOptions, channelOf } from '../core/assess.js';
import { CHANNELS, type Channel } from '../core/assessment.js';
import { hashPair } from '../core/delivery-key.js';
import type { MessageEvidence } from '../core/evidence.js';
import { memo, normalizeIp } from '../core/net-address.js';
import { connectorForIp } from '../core/profile.js';
import type { AdaptedRow, ExportFormat } from './exports/export-adapter.js';

export interface Classification {
  channel: Channel;
  candidate: boolean;
}

const ABUSE: ReadonlySet<Channel> = new Set(['direct-send', 'internal-spoof']);

/** Rows of these classes are kept in full (stored with their source row); the others are counted. */
export function isWorthy(c: Classification): boolean {
  return ABUSE.has(c.channel) || c.candidate;
}

/**
 * Rows of this format are kept as facts of their delivery whatever its class: trace detail events are what a
 * later join needs (connector, client IP, HELO).
 */
export function keepsRowsAsFacts(format: ExportFormat): boolean {
  return format === 'message-trace-detail';
}

/** A channel as a small number (for typed arrays between threads) and back. */
export function channelCode(channel: Channel): number {
  return CHANNELS.indexOf(channel);
}

export function channelOfCode(code: number): Channel {
  const c = CHANNELS[code];
  if (c === undefined) throw new Error(`unknown channel code ${code}`);
  return c;
}

/** Accepted-domain test over the tenant the assessment resolved (profile or inferred). */
function internal(domains: readonly string[], domain: string | null | undefined): boolean {
  return domain !== null && domain !== undefined && domains.includes(domain);
}

/**
 * A delivery worth keeping in full although the channel is unknown (summary rows: no connector facts): an
 * internal sender (P1 or P2) to an internal recipient that Exchange did not stamp as originating in the tenant.
 * Direct Send only ever delivers to the tenant's own mailboxes.
 */
export function isCandidate(ev: MessageEvidence, c: { channel: Channel; domains: readonly string[] }): boolean {
  if (c.channel !== 'unknown') return false;
  const d = c.domains;
  const senderInternal = internal(d, ev.envelopeFrom?.value.domain) || internal(d, ev.headerFrom?.value.domain);
  if (!senderInternal) return false;
  const rcpts = ev.envelopeRecipients.length > 0 ? ev.envelopeRecipients : ev.recipients;
  if (!rcpts.some((r) => internal(d, r.value.domain))) return false;
  return ev.exchange.directionality?.value.toLowerCase() !== 'originating';
}

/** A necessary condition for a non-plain text to be a form of 255.255.255.255. */
const MAYBE_BROADCAST = /255|ffff/i;

/** Slots of the class cache (a power of two): 4 MiB of typed arrays, up to 367,000 class keys. */
const CACHE_SLOTS = 1 << 19;
const CACHE_MAX = Math.floor(CACHE_SLOTS * 0.7);

/** Channel and candidacy by class key; the channel rules run once per distinct key. */
export class RowClassifier {
  /**
   * Class key → classification, as an open-addressing table of typed arrays: slot = 30-bit hash of the key
   * (+1, so 0 is an empty slot), value = 23-bit check hash × 16 + class index. No per-entry object, nothing for
   * the collector to trace, and no reference to the parsed text. Bounded: cleared when 70 % full.
   */
  private readonly keys = new Int32Array(CACHE_SLOTS);
  private readonly values = new Int32Array(CACHE_SLOTS);
  private size = 0;
  /** The few distinct classifications (6 channels x candidacy), numbered so a cache entry is a small integer. */
  private readonly list: Classification[] = [];

  /** Whether the profile has connectors matched by sender IP (then an IP's class says which one it matches). */
  private readonly ipsMatter: boolean;
  /** IP text → its token, when connectors match IPs (a bounded memo table). */
  private readonly tokens = new Map<string, string>();

  /** Whether any connector range is IPv6. */
  private readonly ipv6Ranges: boolean;

  constructor(private readonly options: AssessOptions) {
    this.ipsMatter = options.profile?.connectors.some((c) => c.senderIps.length > 0) ?? false;
    this.ipv6Ranges = options.profile?.connectors.some((c) => c.senderIps.some((r) => r.text.includes(':'))) ?? false;
  }

  /**
   * What of a connecting IP the channel rules can tell apart: they look at it only to match a connector's
   * sender IPs (the first connector that matches) and to recognise 255.255.255.255 (Exchange's mark of mail
   * submitted by an authenticated client). That leaves the broadcast address, any other (or no) IP, and — with
   * IP-matched connectors — one class per connector an IP falls in. A test holds channelOf() to this on a grid
   * of IP forms and profiles.
   */
  ipToken(ip: string): string {
    const t = ip.trim();
    if (t === '255.255.255.255') return t;
    // Digits and dots only: canonical text or no IP at all, never another form of the broadcast address.
    let plain = true;
    for (let i = 0; i < t.length && plain; i++) {
      const ch = t.charCodeAt(i);
      plain = (ch >= 48 && ch <= 57) || ch === 46;
    }
    // Any other form of it (bracketed, IPv4-mapped IPv6) holds "255" or the mapped prefix "ffff": a native IPv6
    // address (most of Microsoft 365's own) is not parsed for this.
    if (!plain && MAYBE_BROADCAST.test(t) && normalizeIp(t) === '255.255.255.255') return '255.255.255.255';
    if (!this.ipsMatter) return '*';
    // A native IPv6 address can only fall in an IPv6 range. Only a text with a colon, no dot (no IPv4 after an
    // `IPv6:` prefix or `::ffff:`) and no mapped prefix in hex (`::ffff:c000:207`) is surely one.
    if (!this.ipv6Ranges && !plain && t.includes(':') && !t.includes('.') && !/ffff/i.test(t)) return '*';
    return memo(this.tokens, t, (text) => {
      const profile = this.options.profile!;
      const c = connectorForIp(profile, text);
      return c === null ? '*' : `#${profile.connectors.indexOf(c)}`;
    });
  }

  /** The text the cache is keyed on: the adapter's class key, and the IP token when the IP is kept apart. */
  keyText(a: AdaptedRow): string {
    return a.classIp === undefined ? a.classKey : a.classKey + this.ipToken(a.classIp);
  }

  private index(channel: Channel, candidate: boolean): number {
    let i = this.list.findIndex((c) => c.channel === channel && c.candidate === candidate);
    if (i < 0) {
      i = this.list.length;
      this.list.push({ channel, candidate });
    }
    return i;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slot(key: number): number {
    const mask = CACHE_SLOTS - 1;
    let i = key & mask;
    for (;;) {
      const k = this.keys[i]!;
      if (k === 0 || k === key + 1) return i;
      i = (i + 1) & mask;
    }
  }

  /** The cached classification of a class key given as its {@link hashPair} halves; `null` on a miss. */
  cached(key: number, check: number): Classification | null {
    const i = this.slot(key);
    if (this.keys[i] === 0) return null;
    const v = this.values[i]!;
    return v >> 4 === check ? this.list[v & 15]! : null;
  }

  private remember(key: number, value: number): void {
    let i = this.slot(key);
    if (this.keys[i] === 0) {
      if (this.size >= CACHE_MAX) {
        this.keys.fill(0);
        this.size = 0;
        i = this.slot(key);
      }
      this.keys[i] = key + 1;
      this.size++;
    }
    this.values[i] = value;
  }

  classify(a: AdaptedRow): Classification {
    const [key, check] = hashPair(this.keyText(a));
    const hit = this.cached(key, check);
    if (hit !== null) return hit;
    const evidence = a.evidence();
    const c = channelOf(evidence, this.options);
    const index = this.index(c.channel, isCandidate(evidence, c));
    this.remember(key, check * 16 + index);
    return this.list[index]!;
  }
}
