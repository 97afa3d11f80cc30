/**
 * Identity of a delivery (one message to one recipient) across exports: the Exchange network message id
 * (= message trace id, NetworkMessageId, network_message_id) plus the recipient, partitioned by UTC day.
 *
 * Keys are `(day, hash)`: `day` is the UTC day number of the receive time and `hash` a 53-bit hash of
 * `messageId|recipient`. Partitioning by day keeps inserts local in the B-tree (exports are time-ordered),
 * which is what makes ingest of tens of millions of rows run at a steady speed; random 64-bit keys alone
 * slow down by an order of magnitude once the key table outgrows the page cache.
 * Two different deliveries collide only if they share the day and a 53-bit hash (≈ n²/2^54 per day).
 * @module
 */

const GUID_DASHED = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/;
const GUID_PLAIN = /^[0-9a-f]{32}$/;

/**
 * Canonical form of an Exchange message id: GUIDs (with or without dashes/braces, any case) become 32 lower-case
 * hex digits, so `a4acd0a2-1b62-…` (message trace) and `a4acd0a21b62…` (historical search) are the same id.
 */
export function normalizeMessageId(raw: string): string {
  // Fast path for the common dashed GUID (message trace, EmailEvents): checked char by char below.
  if (raw.length === 36 && raw[8] === '-' && raw[13] === '-' && raw[18] === '-' && raw[23] === '-') {
    const plain =
      `${raw.slice(0, 8)}${raw.slice(9, 13)}${raw.slice(14, 18)}${raw.slice(19, 23)}${raw.slice(24)}`.toLowerCase();
    if (GUID_PLAIN.test(plain)) return plain;
  }
  const t = raw.trim().toLowerCase();
  const m = GUID_DASHED.exec(t);
  if (m) return `${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}`;
  if (GUID_PLAIN.test(t)) return t;
  return t;
}

/** 53-bit string hash (cyrb53 by bryc, public domain): fast, well mixed, exact in a JS number. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return finish53(h1, h2);
}

/** cyrb53's final mix of its two 32-bit states into 53 bits. */
function finish53(a: number, b: number): number {
  let h1 = a;
  let h2 = b;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * hash53 fed piece by piece (the same value as hash53 of the concatenation), so a key made of several fields
 * is hashed without building its text. One instance is reused: `start`, `char`/`text`, `end`.
 */
export class StreamHash53 {
  private h1 = 0;
  private h2 = 0;

  start(seed = 0): void {
    this.h1 = 0xdeadbeef ^ seed;
    this.h2 = 0x41c6ce57 ^ seed;
  }

  char(ch: number): void {
    this.h1 = Math.imul(this.h1 ^ ch, 2654435761);
    this.h2 = Math.imul(this.h2 ^ ch, 1597334677);
  }

  text(text: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  end(): number {
    return finish53(this.h1, this.h2);
  }
}

const DAY_MS = 86_400_000;

/** The UTC day number of a time (ms since the epoch): the partition of delivery keys. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** UTC midnight of a day number, ISO-8601. */
export function dayStartIso(day: number): string {
  return new Date(day * DAY_MS).toISOString();
}

export function dayText(day: number): string {
  return dayStartIso(day).slice(0, 10);
}

/**
 * Two independent small hashes of a string: a 30-bit index and a 23-bit check. Both fit V8's small integers
 * (no heap numbers), so a Map from one to the other costs a few bytes an entry.
 */
export function hashPair(text: string): [number, number] {
  const h = hash53(text);
  return [pairKey(h), pairCheck(h)];
}

/** The two halves of {@link hashPair} from a hash53 value. */
export function pairKey(h: number): number {
  return h % 0x40000000;
}

export function pairCheck(h: number): number {
  return Math.floor(h / 0x40000000) % 0x800000;
}

export function deliveryHash(messageId: string, recipient: string): number {
  return hash53(`${messageId}|${recipient}`);
}

export function messageHash(messageId: string): number {
  return hash53(messageId, 0x5eed);
}
