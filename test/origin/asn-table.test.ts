/** The bundled-ASN table reader: pieces of any size, quoted organisations, IPv6 halves, bad rows by line. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalV4Key, loadAsnTable, readAsnV4, readAsnV6, writeAsnTables } from '../../src/enrich/asn-table.js';
import ipaddr from '../../src/vendor/ipaddr.js';
import { tempDir } from '../ingest/helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const v4 = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const v6 = (hex: string) => BigInt(`0x${hex}`).toString();

function writeTables(v4Text: string, v6Text: string): string {
  writeFileSync(join(tmp.dir, 'asn-ipv4-num.csv'), v4Text);
  writeFileSync(join(tmp.dir, 'asn-ipv6-num.csv'), v6Text);
  return tmp.dir;
}

const V4 = [
  `${v4('1.0.0.0')},${v4('1.0.0.255')},13335,"Cloudflare, Inc."`,
  `${v4('8.8.8.0')},${v4('8.8.8.255')},15169,Google LLC`,
  `${v4('45.76.0.0')},${v4('45.76.255.255')},20473,"The ""Constant"" Company, LLC"`,
  `${v4('255.255.255.0')},${v4('255.255.255.255')},64500,Zürich Tëst AG`,
].join('\r\n');

const V6 = [
  // Crosses the boundary between the two 64-bit halves.
  `${v6('20010db8000000000000000000000000')},${v6('20010db800000001ffffffffffffffff')},64501,Halves Net`,
  `${v6('2a010111000000000000000000000000')},${v6('2a010111ffffffffffffffffffffffff')},8075,Microsoft Corporation`,
].join('\n');

describe('ASN table', () => {
  it('looks up IPv4 and IPv6 ranges at their edges, with quoted and non-ASCII organisations', async () => {
    const t = await loadAsnTable(writeTables(`${V4}\r\n`, V6));
    expect(t.rows).toBe(4);
    expect(t.lookup('1.0.0.0')).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(t.lookup('1.0.0.255')).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(t.lookup('1.0.1.0')).toBeNull();
    expect(t.lookup('0.255.255.255')).toBeNull();
    expect(t.lookup('45.76.10.20')).toEqual({ asn: 20473, org: 'The "Constant" Company, LLC' });
    expect(t.lookup('255.255.255.255')).toEqual({ asn: 64500, org: 'Zürich Tëst AG' });
    expect(t.lookup('::ffff:8.8.8.8')).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(t.lookup('2001:db8::')?.asn).toBe(64501);
    expect(t.lookup('2001:db8:0:1:ffff:ffff:ffff:ffff')?.asn).toBe(64501);
    expect(t.lookup('2001:db8:0:2::')).toBeNull();
    expect(t.lookup('2a01:111:f403:c000::1')).toEqual({ asn: 8075, org: 'Microsoft Corporation' });
    expect(t.lookup('2a01:112::1')).toBeNull();
    expect(t.lookup('not an ip')).toBeNull();
  });

  it('answers the same from the compact tables the package ships as from the CSV they were written from', async () => {
    const csvDir = writeTables(`${V4}\r\n`, V6);
    const out = join(tmp.dir, 'compact');
    mkdirSync(out);
    expect(writeAsnTables(csvDir, out)).toEqual({ v4Rows: 4, v6Rows: 2 });
    const fromCsv = await loadAsnTable(csvDir);
    const compact = await loadAsnTable(out);
    const ips = ['1.0.0.0', '1.0.0.255', '1.0.1.0', '45.76.10.20', '255.255.255.255', '::ffff:8.8.8.8'];
    ips.push('2001:db8::', '2001:db8:0:1:ffff:ffff:ffff:ffff', '2001:db8:0:2::', '2a01:111:f403:c000::1', 'bad');
    expect(compact.rows).toBe(4);
    // The first 64 IPv4 lookups read the file where the values lie, the later ones the table loaded whole.
    for (let round = 0; round < 8; round++) {
      for (const ip of ips) expect(compact.lookup(ip), `${ip} (round ${round})`).toEqual(fromCsv.lookup(ip));
    }
    expect(compact.lookup('45.76.10.20')).toEqual({ asn: 20473, org: 'The "Constant" Company, LLC' });
    writeFileSync(join(out, 'asn-ipv4.bin'), 'not a table');
    await expect(loadAsnTable(out)).rejects.toThrow(/not a dsguard ASN table/);
  });

  it('reads the same table whatever the size of the pieces (lines cut anywhere, a last line without newline)', () => {
    const dir = writeTables(V4, `${V6}\n`);
    const whole = readAsnV4(join(dir, 'asn-ipv4-num.csv'));
    for (const size of [5, 17, 64, 1000]) {
      const t = readAsnV4(join(dir, 'asn-ipv4-num.csv'), size);
      expect(t.rows).toBe(whole.rows);
      expect([...t.starts.subarray(0, t.rows)]).toEqual([...whole.starts.subarray(0, whole.rows)]);
      expect([...t.orgIndex.subarray(0, t.rows)].map((i) => t.orgs[i])).toEqual(
        [...whole.orgIndex.subarray(0, whole.rows)].map((i) => whole.orgs[i]),
      );
      expect(readAsnV6(join(dir, 'asn-ipv6-num.csv'), size).rows).toBe(2);
    }
  });

  it('keeps each organisation once', () => {
    const rows = Array.from({ length: 70_000 }, (_, i) => `${i * 16},${i * 16 + 15},${64512 + (i % 3)},Org ${i % 3}`);
    writeFileSync(join(tmp.dir, 'many.csv'), rows.join('\n'));
    const t = readAsnV4(join(tmp.dir, 'many.csv'));
    expect(t.rows).toBe(70_000);
    expect(t.orgs).toEqual(['Org 0', 'Org 1', 'Org 2']);
    expect(t.starts.length).toBeGreaterThanOrEqual(70_000);
  });

  it('grows the IPv6 columns past their first size and still finds the last range', async () => {
    const base = BigInt('0x20010db8000000000000000000000000');
    const rows = Array.from({ length: 20_000 }, (_, i) => {
      const start = base + (BigInt(i) << 64n);
      return `${start},${start + (1n << 64n) - 1n},${64512 + (i % 2)},Net ${i % 2}`;
    });
    writeFileSync(join(tmp.dir, 'asn-ipv4-num.csv'), V4);
    writeFileSync(join(tmp.dir, 'asn-ipv6-num.csv'), rows.join('\n'));
    const t = await loadAsnTable(tmp.dir);
    expect(t.lookup('2001:db8:0:4e1f:ffff:ffff:ffff:ffff')).toEqual({ asn: 64513, org: 'Net 1' });
    expect(t.lookup('2001:db8:0:4e20::')).toBeNull();
    expect(readAsnV6(join(tmp.dir, 'asn-ipv6-num.csv')).rows).toBe(20_000);
  });

  it.each([
    ['three fields', `${V4}\n1,2,3\n`, 'line 5: expected start,end,asn,org'],
    ['letters', `1,x,3,Org\n`, 'line 1: malformed row'],
    ['end before start', `10,5,3,Org\n`, 'line 1: malformed row'],
    ['beyond IPv4', `1,4294967296,3,Org\n`, 'line 1: malformed row'],
    ['out of order', `100,200,3,A\n50,60,3,B\n`, 'line 2: rows out of order'],
  ])('rejects a table with %s, naming the line', (_name, text, message) => {
    writeFileSync(join(tmp.dir, 'bad.csv'), text);
    expect(() => readAsnV4(join(tmp.dir, 'bad.csv'))).toThrow(message);
  });

  it('rejects a malformed IPv6 row, naming the line', () => {
    writeFileSync(join(tmp.dir, 'bad6.csv'), `${V6}\n1e5,2,3,Org\n`);
    expect(() => readAsnV6(join(tmp.dir, 'bad6.csv'))).toThrow('line 3: malformed row');
  });

  it('rejects an ASN beyond 32 bits, and IPv6 rows out of order, naming the line', () => {
    writeFileSync(
      join(tmp.dir, 'asn.csv'),
      `${V4}
${v4('9.0.0.0')},${v4('9.0.0.255')},4294967296,Too Big
`,
    );
    expect(() => readAsnV4(join(tmp.dir, 'asn.csv'))).toThrow('line 5: malformed row');
    const [first, second] = V6.split('\n');
    writeFileSync(join(tmp.dir, 'order6.csv'), `${second}\n${first}\n`);
    expect(() => readAsnV6(join(tmp.dir, 'order6.csv'))).toThrow('line 2: rows out of order');
  });

  it('reads a canonical dotted quad without ipaddr, to the same number, and leaves every other text to ipaddr', () => {
    const viaIpaddr = (t: string) => ipaddr.IPv4.parse(t).octets.reduce((a, o) => a * 256 + o, 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const text = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        expect(canonicalV4Key(text)).toBe(n);
        expect(viaIpaddr(text)).toBe(n);
      }),
    );
    for (const t of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '1.2.3.4']) expect(canonicalV4Key(t)).toBe(viaIpaddr(t));
    for (const t of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.256',
      '1.2.3.1000',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '1..3.4',
      '.1.2.3',
      '1.2.3.',
      '::ffff:1.2.3.4',
      '0x1.2.3.4',
      '１.2.3.4',
    ])
      expect(canonicalV4Key(t), t).toBe(-1);
    // Any text it reads is one ipaddr reads to the same number.
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.]{1,16}$/), (t) => {
        const k = canonicalV4Key(t);
        if (k >= 0) expect(viaIpaddr(t)).toBe(k);
      }),
    );
  });
});
