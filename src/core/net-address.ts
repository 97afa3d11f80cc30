/**
 * IP address and CIDR helpers over ipaddr.js (pure; no sockets).
 * @module
 */
import ipaddr from 'ipaddr.js';

export type IpKind = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'reserved' | 'broadcast';

/** Parse an IPv4/IPv6 literal (brackets and an IPv6 zone are tolerated); `null` when it is not one. */
export function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (t.toLowerCase().startsWith('ipv6:')) t = t.slice(5);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (t.length === 0 || t.length > 64 || !ipaddr.isValid(t)) return null;
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

/** Canonical text form of an IP literal, or `null`. */
export function normalizeIp(text: string): string | null {
  const ip = parseIp(text);
  return ip ? ip.toString() : null;
}

export function ipKind(text: string): IpKind | null {
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
      if (!ip || ip.kind() !== base.kind()) return false;
      return (ip as ipaddr.IPv4).match(range as [ipaddr.IPv4, number]);
    },
  };
}

export function ipInAny(ip: string, cidrs: readonly Cidr[]): Cidr | null {
  for (const c of cidrs) if (c.matches(ip)) return c;
  return null;
}
