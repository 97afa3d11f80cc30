/**
 * IP address and CIDR helpers over ipaddr.js (pure; no sockets).
 * @module
 */

import ipaddr from '../vendor/ipaddr.js';
import { ownString } from './own-string.js';

export type IpKind = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'reserved' | 'broadcast';

export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Exports repeat the same few thousand addresses millions of times: the canonical form and the range of an
 * address are memoised in bounded tables (cleared when full). Only strings are kept (parsed address objects
 * cost too much memory for what they save).
 */
const MEMO_SIZE = 16_384;
const kinds = new Map<string, IpKind | null>();

/** `compute(text)` through a memo table (texts over 80 characters, never an address, are not kept). */
export function memo<V>(table: Map<string, V>, text: string, compute: (text: string) => V): V {
  const hit = table.get(text);
  if (hit !== undefined) return hit;
  const value = compute(text);
  if (text.length > 80) return value;
  if (table.size >= MEMO_SIZE) table.clear();
  table.set(ownString(text), value);
  return value;
}

/** An IPv4 address in its canonical text (no leading zeros, no spaces): its own normal form. */
export const CANONICAL_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parse an IPv4/IPv6 literal (brackets and an IPv6 zone are tolerated); `null` when it is not one. */
export function parseIp(text: string): Ip | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (t.toLowerCase().startsWith('ipv6:')) t = t.slice(5);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  // Plain dotted-quad IPv4, the form nearly every export writes: built from its octets, without ipaddr's parser
  // (which tries IPv6 first). Octets with a leading zero go the long way (ipaddr reads them as octal).
  const v4 = IPV4.exec(t);
  if (v4) {
    const parts = [v4[1]!, v4[2]!, v4[3]!, v4[4]!];
    if (parts.every((o) => o.length === 1 || o.charCodeAt(0) !== 48)) {
      const octets = parts.map(Number);
      return octets.every((o) => o <= 255) ? new ipaddr.IPv4(octets) : null;
    }
  }
  // Cheap rejection first: most tokens tested here (host names, words) are not IP literals.
  if (t.length < 2 || t.length > 64 || !/^[0-9a-fA-F:.]+$/.test(t)) return null;
  if (!ipaddr.isValid(t)) return null;
  // ipaddr.isValid accepts shorthand IPv4 such as "1" or "0x1": insist on four dotted decimals.
  if (!t.includes(':') && !/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return null;
  try {
    const ip = ipaddr.parse(t);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return (ip as ipaddr.IPv6).toIPv4Address();
    return ip;
  } catch {
    return null;
  }
}

/** The network an address is grouped by: IPv4 /24, IPv6 /48 (the text itself when it is not an address). */
export function networkOf(text: string): string {
  // A canonical dotted quad (the form nearly every export writes): its /24 is the text before its last dot.
  if (CANONICAL_IPV4.test(text)) return text.slice(0, text.lastIndexOf('.'));
  const p = parseIp(text);
  if (!p) return text;
  if (p.kind() === 'ipv4') return (p as ipaddr.IPv4).octets.slice(0, 3).join('.');
  return (p as ipaddr.IPv6).parts
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':');
}

/**
 * A cheap syntactic test for an IP literal (no full parse): dotted-quad IPv4 with octets <= 255, or
 * hex/colon text with at least two colons for IPv6 (an optional `IPv6:` prefix and zone are dropped).
 * Returns the literal lower-cased, or `null`. Use normalizeIp() where the canonical form matters.
 */
export function looksLikeIp(text: string): string | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (t.length > 5 && t.slice(0, 5).toLowerCase() === 'ipv6:') t = t.slice(5);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (t.length < 2 || t.length > 45) return null;
  const v4 = IPV4.exec(t);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) ? t : null;
  if (!/^[0-9a-fA-F:.]+$/.test(t)) return null;
  let colons = 0;
  for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 58) colons++;
  return colons >= 2 && colons <= 7 ? t.toLowerCase() : null;
}

const canonical = new Map<string, string | null>();

/** Canonical text form of an IP literal, or `null`. */
export function normalizeIp(text: string): string | null {
  // The common case needs no parse (and no memo entry: a campaign over 100,000 addresses missed it every time).
  if (CANONICAL_IPV4.test(text)) return text;
  return memo(canonical, text, canonicalUncached);
}

function canonicalUncached(text: string): string | null {
  return parseIp(text)?.toString() ?? null;
}

export function ipKind(text: string): IpKind | null {
  return memo(kinds, text, ipKindUncached);
}

function ipKindUncached(text: string): IpKind | null {
  const ip = parseIp(text);
  if (!ip) return null;
  const range = ip.range();
  switch (range) {
    case 'unicast':
    case 'teredo':
    case '6to4':
      return 'public';
    case 'private':
    case 'uniqueLocal':
    case 'carrierGradeNat':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'link-local';
    case 'unspecified':
      return 'unspecified';
    case 'broadcast':
      return 'broadcast';
    default:
      return 'reserved';
  }
}

export interface Cidr {
  text: string;
  matches(ip: string): boolean;
  /** The same for an address already parsed (see {@link ipInAny}: one parse for many ranges). */
  matchesIp(ip: Ip): boolean;
}

/** Parse `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32`; `null` when invalid. */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const base = parseIp(slash >= 0 ? t.slice(0, slash) : t);
  if (!base) return null;
  const maxBits = base.kind() === 'ipv4' ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const b = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return null;
    bits = Number(b);
    if (bits > maxBits) return null;
  }
  const range: [ipaddr.IPv4 | ipaddr.IPv6, number] = [base, bits];
  return {
    text: `${base.toString()}/${bits}`,
    matches(ipText: string): boolean {
      const ip = parseIp(ipText);
      return ip !== null && this.matchesIp(ip);
    },
    matchesIp(ip: Ip): boolean {
      if (ip.kind() !== base.kind()) return false;
      return (ip as ipaddr.IPv4).match(range as [ipaddr.IPv4, number]);
    },
  };
}

/** The first range holding the address (text or parsed once by the caller), `null` when none does. */
export function ipInAny(ip: string | Ip, cidrs: readonly Cidr[]): Cidr | null {
  if (cidrs.length === 0) return null;
  const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
  if (parsed === null) return null;
  for (const c of cidrs) if (c.matchesIp(parsed)) return c;
  return null;
}
