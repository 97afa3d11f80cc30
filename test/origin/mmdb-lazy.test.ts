/**
 * The lazy MMDB reader (start-up's first lookups, read in place) answers as the full reader does, on the bundled
 * country database: every address checked against mmdb-lib's Reader over the whole file. And the lookup that
 * wraps both switches to the full reader after its lazy lookups, with the same answers.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'mmdb-lib';
import { describe, expect, it } from 'vitest';
import { openIpLookup } from '../../src/enrich/ip-lookup.js';
import { LAZY_MMDB_LOOKUPS, LazyMmdb } from '../../src/enrich/mmdb-lazy.js';

const file = createRequire(import.meta.url).resolve(
  '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
);

/** A small deterministic generator (the same addresses every run). */
function* addresses(n: number): Generator<string> {
  let s = 0x2545f491;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let i = 0; i < n; i++) {
    const v = next();
    if (i % 4 === 3) {
      const groups = Array.from({ length: 8 }, (_, k) =>
        k < 2 ? (next() & 0xffff).toString(16) : k === 2 ? '0' : (next() & 0xfff).toString(16),
      );
      groups[0] = (0x2000 + (next() % 0x1000)).toString(16); // global unicast, where the data is
      yield groups.join(':');
    } else yield `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
}

describe('lazy MMDB reader', () => {
  const full = new Reader<Response>(readFileSync(file));

  it('gives the full reader’s record for every address', () => {
    const lazy = LazyMmdb.open(file);
    expect(lazy).not.toBeNull();
    let answered = 0;
    const edge = [
      '0.0.0.0',
      '255.255.255.255',
      '8.8.8.8',
      '1.1.1.1',
      '::',
      '::1',
      '::ffff:8.8.8.8',
      '2001:4860:4860::8888',
      '192.168.1.1',
      '10.0.0.1',
    ];
    for (const ip of [...edge, ...addresses(4000)]) {
      const want = full.get(ip);
      expect(lazy?.get(ip), ip).toEqual(want === null ? null : { ...want });
      if (want !== null) answered++;
    }
    // Most of the generated addresses are in the data: the comparison is not one of nulls.
    expect(answered).toBeGreaterThan(2000);
  });

  it('refuses the address forms readers read differently, and a file that is not an MMDB', () => {
    const lazy = LazyMmdb.open(file);
    for (const ip of ['010.1.1.1', '127.1', '0x7f.0.0.1', 'not an ip', '']) expect(() => lazy?.get(ip), ip).toThrow();
    expect(LazyMmdb.open(createRequire(import.meta.url).resolve('../../package.json'))).toBeNull();
  });

  it('the IP lookup answers alike before and after it loads the database whole', async () => {
    const opened = await openIpLookup();
    expect(opened.status).toBe('ok');
    if (opened.status !== 'ok') return;
    const ips = [...addresses(LAZY_MMDB_LOOKUPS * 3)];
    const countries = ips.map((ip) => opened.lookup(ip)?.country ?? null);
    expect(countries).toEqual(
      ips.map((ip) => (full.get(ip) as { country_code?: string } | null)?.country_code ?? null),
    );
  });
});
