/**
 * Origin of the connecting IP: the pure rule over an injected lookup (codes and evidence asserted, one
 * golden), the same rule on an export-shaped row, the bundled offline databases on addresses whose owner is
 * stable, and the CLI options (--geoip-db, --no-geoip, --indicators).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assess } from '../../src/core/assess.js';
import { emptyEvidence, type MessageEvidence } from '../../src/core/evidence.js';
import { emptyProfile } from '../../src/core/profile.js';
import { createOriginRule, type IpInfo } from '../../src/core/rules/origin.js';
import { openIpLookup } from '../../src/enrich/ip-lookup.js';
import { directSendMessage } from '../content/make-fixtures.js';
import { runCli } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

const TABLE: Record<string, IpInfo> = {
  '139.28.36.230': { country: 'UA', asn: 47987, asOrg: 'Zemlyaniy Dmitro Leonidovich', source: 'test db' },
  '45.76.10.20': { country: 'NL', asn: 20473, asOrg: 'The Constant Company, LLC', source: 'test db' },
  '185.65.134.1': { country: 'SE', asn: 39351, asOrg: '31173 Services AB', source: 'test db' },
  '3.120.0.1': { country: 'DE', asn: 16509, asOrg: 'Amazon.com, Inc.', source: 'test db' },
  '73.15.20.9': { country: 'US', asn: 64500, asOrg: 'Office ISP', source: 'test db' },
};
const lookup = (ip: string) => TABLE[ip] ?? null;

function rowEvidence(ip: string, helo?: string, ctry?: string): MessageEvidence {
  const ev = emptyEvidence('trace.csv:2', 'message-trace');
  ev.connectingIp = { value: ip, ref: { source: 'trace.csv', field: 'FromIP', value: ip, location: 'row 2' } };
  if (helo)
    ev.helo = { value: helo, ref: { source: 'trace.csv', field: 'client_hostname', value: helo, location: 'row 2' } };
  if (ctry)
    ev.antispam.ctry = {
      value: ctry,
      ref: { source: 'm.eml', field: 'X-Forefront-Antispam-Report', value: `CTRY:${ctry}` },
    };
  return ev;
}

function run(
  ev: MessageEvidence,
  homeCountries: string[] = ['US'],
  indicators = [] as { cidr: string; campaign: string; source: string }[],
) {
  const profile = { ...emptyProfile(), acceptedDomains: ['contoso.com'], homeCountries };
  const rule = createOriginRule(lookup, { indicators });
  return rule(ev, { profile, channel: 'direct-send', p1Internal: true, p2Internal: true });
}

describe('origin rule (pure, injected lookup)', () => {
  it('foreign country, loopback HELO from a public address', () => {
    const f = run(rowEvidence('139.28.36.230', '[127.0.0.1]'));
    expect(f.map((x) => x.code)).toEqual(['DS501', 'DS502', 'DS506']);
    expect(f[1]?.message).toBe('139.28.36.230 is in UA, outside US');
    expect(f[1]?.evidence[1]).toEqual({ source: 'test db', field: 'IP database country', value: '139.28.36.230 UA' });
    expect(f[2]?.evidence[0]).toMatchObject({ field: 'client_hostname', value: '[127.0.0.1]' });
    expectGolden('test/fixtures/origin/foreign-loopback-helo.expected.json', f);
  });

  it('hosting, VPN and cloud networks come from the sourced table', () => {
    expect(run(rowEvidence('45.76.10.20')).map((x) => x.code)).toEqual(['DS501', 'DS502', 'DS503']);
    const vpn = run(rowEvidence('185.65.134.1')).find((x) => x.code === 'DS504');
    expect(vpn?.evidence[2]?.source).toContain('deCloudflare');
    expect(run(rowEvidence('3.120.0.1')).map((x) => x.code)).toContain('DS505');
  });

  it('a home-country office address raises nothing but its origin', () => {
    expect(run(rowEvidence('73.15.20.9', 'scanner01.contoso.com')).map((x) => x.code)).toEqual(['DS501']);
  });

  it('no home countries in the profile: no country finding', () => {
    expect(run(rowEvidence('139.28.36.230'), []).map((x) => x.code)).toEqual(['DS501']);
  });

  it("falls back to Exchange's own CTRY when the database has no answer", () => {
    const f = run(rowEvidence('95.142.10.10', undefined, 'RU'));
    expect(f.map((x) => x.code)).toEqual(['DS502']);
    expect(f[0]?.evidence[1]).toMatchObject({ field: 'X-Forefront-Antispam-Report', value: 'CTRY:RU' });
  });

  it('private and authenticated-submission addresses are not located', () => {
    expect(run(rowEvidence('10.1.2.3', 'localhost'))).toEqual([]);
    expect(run(rowEvidence('255.255.255.255'))).toEqual([]);
  });

  it('campaign indicators match addresses and ranges, naming their source', () => {
    const f = run(
      rowEvidence('139.28.36.230'),
      ['US'],
      [{ cidr: '139.28.36.0/24', campaign: 'the June voicemail wave', source: 'our SOC case 4411' }],
    );
    const hit = f.find((x) => x.code === 'DS507');
    expect(hit?.message).toBe('139.28.36.230 is a known sender of the June voicemail wave');
    expect(hit?.evidence[1]).toEqual({
      source: 'our SOC case 4411',
      field: 'campaign indicator',
      value: '139.28.36.0/24 the June voicemail wave',
    });
  });

  it('plugs into assess as an extra rule family and vetoes a legitimate verdict', () => {
    const ev = rowEvidence('139.28.36.230');
    const profile = {
      ...emptyProfile(),
      acceptedDomains: ['contoso.com'],
      homeCountries: ['US'],
      knownSources: [{ name: 'scanner', ips: [], senders: [], subject: null }],
    };
    const a = assess(ev, {
      profile,
      extraRules: [createOriginRule(lookup, { indicators: [{ cidr: '139.28.36.230', campaign: 'x', source: 'y' }] })],
    });
    expect(a.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['DS501', 'DS502', 'DS507']));
  });
});

describe('bundled offline IP data', () => {
  it('answers country and ASN without the network', async () => {
    const r = await openIpLookup();
    if (r.status !== 'ok') throw new Error(r.error);
    expect(r.lookup('8.8.8.8')).toMatchObject({ country: 'US', asn: 15169, asOrg: 'Google LLC' });
    expect(r.lookup('2a01:4f8::1')).toMatchObject({ country: 'DE', asn: 24940 });
    expect(r.lookup('10.0.0.1')).toBeNull();
    expect(r.lookup('not an ip')).toBeNull();
  });

  it('a user database answers first; a bad one is a clear error', async () => {
    const require = createRequire(import.meta.url);
    const mmdb = require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
    const r = await openIpLookup({ geoipDbs: [mmdb], bundled: false });
    if (r.status !== 'ok') throw new Error(r.error);
    expect(r.sources).toEqual(['geo-whois-asn-country.mmdb (country ipvAll)']);
    expect(r.lookup('8.8.8.8')).toEqual({
      country: 'US',
      asn: null,
      asOrg: null,
      source: 'geo-whois-asn-country.mmdb (country ipvAll)',
    });
    const dir = mkdtempSync(join(tmpdir(), 'dsguard-geo-'));
    writeFileSync(join(dir, 'bad.mmdb'), 'not a database');
    const bad = await openIpLookup({ geoipDbs: [join(dir, 'bad.mmdb')] });
    expect(bad.status).toBe('error');
    if (bad.status === 'error') expect(bad.error).toMatch(/bad\.mmdb: not a readable MaxMind database/);
  });
});

describe('analyze CLI: origin and content options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsguard-origin-'));
  const msg = join(dir, 'ds.eml');
  writeFileSync(msg, directSendMessage({ subject: 'New Missed Fax-msg', text: 'Listen now', ip: '45.76.10.20' }));

  it('enriches the connecting IP by default (bundled data)', async () => {
    const r = await runCli(['analyze', '--format', 'json', msg]);
    expect(r.code).toBe(0);
    const [out] = JSON.parse(r.stdout) as { findings: { code: string; message: string }[] }[];
    const codes = out!.findings.map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['DS501', 'DS503', 'DS506', 'DS417']));
    expect(out!.findings.find((f) => f.code === 'DS503')?.message).toContain('AS20473');
  });

  it('--no-geoip and --no-content turn the families off', async () => {
    const r = await runCli(['analyze', '--format', 'json', '--no-geoip', '--no-content', msg]);
    const [out] = JSON.parse(r.stdout) as { findings: { code: string }[] }[];
    const codes = out!.findings.map((f) => f.code);
    expect(codes).not.toContain('DS501');
    expect(codes).not.toContain('DS417');
    expect(codes).toContain('DS506');
  });

  it('--indicators adds campaign addresses; a bad line is a usage error', async () => {
    const ioc = join(dir, 'ioc.txt');
    writeFileSync(ioc, '# our cases\n45.76.10.0/24,June fax wave,SOC case 12\n');
    const r = await runCli(['analyze', '--format', 'json', '--indicators', ioc, msg]);
    const [out] = JSON.parse(r.stdout) as { findings: { code: string; message: string }[] }[];
    expect(out!.findings.find((f) => f.code === 'DS507')?.message).toBe(
      '45.76.10.20 is a known sender of June fax wave',
    );
    writeFileSync(ioc, '45.76.10.0/99\n');
    const bad = await runCli(['analyze', '--indicators', ioc, msg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('line 1: not an IP address or CIDR range');
  });

  it('an unreadable --geoip-db is a runtime failure naming the file', async () => {
    const r = await runCli(['analyze', '--geoip-db', join(dir, 'missing.mmdb'), msg]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('missing.mmdb: not a readable MaxMind database');
  });
});
