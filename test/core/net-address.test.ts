/** IP literal parsing: the dotted-quad fast path gives what ipaddr.js gives, for every form it takes. */
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { normalizeIp, parseIp } from '../../src/core/net-address.js';

/** What parseIp answered before its fast path: ipaddr's parse of four dotted decimals. */
function reference(t: string): string | null {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(t) || !ipaddr.isValid(t)) return null;
  return ipaddr.parse(t).toString();
}

describe('parseIp', () => {
  it('reads dotted-quad IPv4 as ipaddr.js does, leading zeros (octal to ipaddr) included', () => {
    const octets = ['0', '1', '9', '10', '01', '010', '099', '127', '199', '200', '249', '255', '256', '300', '999'];
    let valid = 0;
    for (const a of octets)
      for (const b of ['0', '255', '08', '256'])
        for (const c of octets) {
          const t = `${a}.${b}.${c}.1`;
          const want = reference(t);
          expect(parseIp(t)?.toString() ?? null, t).toBe(want);
          if (want !== null) valid++;
        }
    // Both kinds are in the grid: addresses both read, and forms both refuse.
    expect(valid).toBeGreaterThan(100);
    expect(valid).toBeLessThan(900);
  });

  it('keeps the other forms: brackets, IPv4-mapped IPv6, zones, and not-addresses', () => {
    expect(normalizeIp('[198.51.100.20]')).toBe('198.51.100.20');
    expect(normalizeIp('::ffff:198.51.100.20')).toBe('198.51.100.20');
    expect(normalizeIp('2a01:111:f403:c112::5')).toBe('2a01:111:f403:c112::5');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    for (const t of ['1', '0x1', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', 'a.b.c.d', '']) {
      expect(parseIp(t)?.toString() ?? null, t).toBe(t === '1.2.3.4 ' ? '1.2.3.4' : null);
    }
  });

  it('answers the same after its bounded memo table fills and is cleared', () => {
    // 20,000 distinct addresses: the 16,384-entry table is cleared once on the way.
    const ips = Array.from({ length: 20_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const first = ips.map((t) => normalizeIp(`[${t}]`));
    expect(first.every((v, i) => v === ips[i])).toBe(true);
    expect(ips.map((t) => normalizeIp(`[${t}]`))).toEqual(first);
  });
});
