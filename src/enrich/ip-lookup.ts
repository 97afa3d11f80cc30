/**
 * Offline IP enrichment: country and autonomous system of an address, with no network at run time.
 * Bundled data: `@ip-location-db/geo-whois-asn-country-mmdb` (country; CC0) read with mmdb-lib (the reader of
 * the `maxmind` package, without its file watching and caches) after a few lookups read in place, and
 * `@ip-location-db/asn` (ASN and organisation; CC BY 4.0, see asn-table.ts), both copied by `npm run build` into
 * `data/ip-location-db/` (the form the package ships; the packages themselves are build-time dependencies). `--geoip-db` adds the user's own
 * MaxMind-format databases (GeoLite2/GeoIP2 Country, City or ASN, DB-IP, ip-location-db), which answer first.
 * @module
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { Reader, Response } from 'mmdb-lib';
import { ownString } from '../core/own-string.js';
import { failure, ok, type Result } from '../core/result.js';
import type { IpInfo, IpLookup } from '../core/rules/origin.js';
import { ASN_DATA_SOURCE, type AsnTable, BUNDLED_DATA_DIR, loadAsnTable } from './asn-table.js';
import { LAZY_MMDB_LOOKUPS, LazyMmdb } from './mmdb-lazy.js';

export interface IpLookupOptions {
  /** The user's own MMDB files, consulted before the bundled data. */
  geoipDbs?: readonly string[];
  /** Use the bundled data (default true). */
  bundled?: boolean;
}

/** The lookup, or an `io` failure: a `--geoip-db` or the bundled data could not be opened. */
export type OpenIpLookupResult = Result<{ lookup: IpLookup; sources: string[] }>;

export const COUNTRY_DATA_SOURCE = '@ip-location-db/geo-whois-asn-country-mmdb (CC0)';

/**
 * mmdb-lib is CommonJS: required, not imported (Node 20's ES module loader pre-parses a CommonJS module it
 * imports for its export names), and only when a database is read whole.
 */
let mmdbLib: typeof import('mmdb-lib') | undefined;
function readerOf(bytes: Buffer): Reader<Response> {
  mmdbLib ??= createRequire(import.meta.url)('mmdb-lib') as typeof import('mmdb-lib');
  return new mmdbLib.Reader<Response>(bytes);
}

interface MmdbRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  country_code?: string;
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

interface Source {
  name: string;
  get(ip: string): { country: string | null; asn: number | null; asOrg: string | null } | null;
}

function fromRecord(r: MmdbRecord | null): { country: string | null; asn: number | null; asOrg: string | null } | null {
  if (!r || typeof r !== 'object') return null;
  const country = r.country?.iso_code ?? r.registered_country?.iso_code ?? r.country_code ?? null;
  const asn = typeof r.autonomous_system_number === 'number' ? r.autonomous_system_number : null;
  const asOrg = typeof r.autonomous_system_organization === 'string' ? r.autonomous_system_organization : null;
  return {
    country: typeof country === 'string' && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : null,
    asn,
    asOrg,
  };
}

function mmdbSource(name: string, reader: Reader<Response>): Source {
  return {
    name,
    get(ip) {
      try {
        return fromRecord(reader.get(ip) as MmdbRecord | null);
      } catch {
        return null;
      }
    },
  };
}

/**
 * The bundled country database: its first lookups read in place (one message's analysis reads a few hundred
 * bytes of its 7.8 MB), then the whole file is read into the full reader. A lookup the lazy reader cannot
 * answer (an unusual address form, a damaged file) goes to the full reader too, which answers or reports.
 */
function bundledCountrySource(file: string): Source {
  let lazy = LazyMmdb.open(file);
  let lazyLookups = 0;
  let full: Reader<Response> | null = null;
  const whole = (): Reader<Response> => {
    full ??= readerOf(readFileSync(file));
    lazy = null;
    return full;
  };
  if (lazy === null) whole();
  return {
    name: COUNTRY_DATA_SOURCE,
    get(ip) {
      if (lazy !== null && lazyLookups++ < LAZY_MMDB_LOOKUPS) {
        try {
          return fromRecord(lazy.get(ip) as MmdbRecord | null);
        } catch {
          // Answered by the full reader below.
        }
      }
      try {
        return fromRecord(whole().get(ip) as MmdbRecord | null);
      } catch {
        return null;
      }
    },
  };
}

function asnSource(table: AsnTable): Source {
  return {
    name: ASN_DATA_SOURCE,
    get(ip) {
      const r = table.lookup(ip);
      return r ? { country: null, asn: r.asn, asOrg: r.org } : null;
    },
  };
}

/**
 * Addresses remembered (cleared when full). The repeat senders (printers, apps, a campaign's few hosts) fit many
 * times over; a campaign spread over thousands of addresses gains nothing from a bigger one, and 100,000 entries
 * held about 25 MiB.
 */
const CACHE_LIMIT = 16_384;

/** Open the IP databases. Errors (a missing or invalid `--geoip-db` file) come back as a result. */
const COUNTRY_MMDB_NAME = 'geo-whois-asn-country.mmdb';
const COUNTRY_MMDB = `@ip-location-db/geo-whois-asn-country-mmdb/${COUNTRY_MMDB_NAME}`;

/** Why the bundled IP data cannot be loaded (not installed), or `null` when its files are there. */
export function bundledIpDataMissing(): string | null {
  if (existsSync(`${BUNDLED_DATA_DIR}${COUNTRY_MMDB_NAME}`)) return null;
  try {
    const require = createRequire(import.meta.url);
    require.resolve(COUNTRY_MMDB);
    require.resolve('@ip-location-db/asn/package.json');
    return null;
  } catch (error) {
    return `bundled IP data could not be found (${error instanceof Error ? error.message : String(error)}); reinstall dsguard or pass --no-geoip`;
  }
}

/** The country MMDB: the copy `npm run build` puts in data/ (the one the package ships), else the package's. */
function countryMmdbPath(): string {
  const copy = `${BUNDLED_DATA_DIR}${COUNTRY_MMDB_NAME}`;
  return existsSync(copy) ? copy : createRequire(import.meta.url).resolve(COUNTRY_MMDB);
}

export async function openIpLookup(opts: IpLookupOptions = {}): Promise<OpenIpLookupResult> {
  const sources: Source[] = [];
  for (const path of opts.geoipDbs ?? []) {
    try {
      const bytes = await process.getBuiltinModule('node:fs/promises').readFile(path);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) throw new Error('the file is gzip-compressed: decompress it first');
      const reader = readerOf(bytes);
      sources.push(mmdbSource(`${basename(path)} (${reader.metadata.databaseType})`, reader));
    } catch (error) {
      return failure(
        'io',
        `${path}: not a readable MaxMind database (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  if (opts.bundled !== false) {
    try {
      sources.push(bundledCountrySource(countryMmdbPath()));
      sources.push(asnSource(await loadAsnTable()));
    } catch (error) {
      return failure(
        'io',
        `bundled IP data could not be loaded (${error instanceof Error ? error.message : String(error)}); reinstall dsguard or pass --no-geoip`,
      );
    }
  }
  const cache = new Map<string, IpInfo | null>();
  // The few distinct "which databases answered" texts, shared by every cached answer.
  const sourceTexts = new Map<string, string>();
  const sourceText = (used: string[]): string => {
    const t = used.join('; ');
    let shared = sourceTexts.get(t);
    if (shared === undefined) {
      shared = t;
      sourceTexts.set(t, t);
    }
    return shared;
  };
  const lookup: IpLookup = (ip) => {
    const cached = cache.get(ip);
    if (cached !== undefined) return cached;
    let country: string | null = null;
    let asn: number | null = null;
    let asOrg: string | null = null;
    const used: string[] = [];
    for (const s of sources) {
      if (country && asn) break;
      const r = s.get(ip);
      if (!r) continue;
      let useful = false;
      if (!country && r.country) {
        country = r.country;
        useful = true;
      }
      if (!asn && r.asn) {
        asn = r.asn;
        asOrg = r.asOrg;
        useful = true;
      }
      if (useful) used.push(s.name);
    }
    const info: IpInfo | null = country || asn ? { country, asn, asOrg, source: sourceText(used) } : null;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(ownString(ip), info);
    return info;
  };
  return ok({ lookup, sources: sources.map((s) => s.name) });
}
