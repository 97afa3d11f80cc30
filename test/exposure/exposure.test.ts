/**
 * Exposure audits against a real DNS server on 127.0.0.1 serving test/fixtures/dns/*.zone, through the real
 * node:dns resolver. Each case is a golden file (test/fixtures/dns/expected/<domain>.expected.json) plus
 * assertions on the codes and fields that carry the verdict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainExposure } from '../../src/core/posture/exposure-audit.js';
import { auditDomain, auditDomains } from '../../src/exposure/exposure.js';
import { CachingResolver, SystemResolver } from '../../src/net/dns.js';
import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';
import { expectGolden } from '../helpers/golden.js';

let server: DnsTestServer;
let resolver: SystemResolver;

beforeAll(async () => {
  server = await startDnsServer(loadZones('test/fixtures/dns'));
  resolver = new SystemResolver({ server: server.address, timeoutMs: 1000, tries: 1 });
});
afterAll(async () => {
  await server.close();
});

const codes = (r: DomainExposure) => r.findings.map((f) => f.code).sort();

async function golden(domain: string): Promise<DomainExposure> {
  const r = await auditDomain(domain, { resolver });
  expectGolden(`test/fixtures/dns/expected/${domain}.expected.json`, r);
  return r;
}

describe('Exchange Online and the smart host', () => {
  it('EOP-direct: MX at Exchange Online, smart host reachable, DMARC reject → medium', async () => {
    const r = await golden('eop-direct.test');
    expect(r.exchangeOnline).toBe(true);
    expect(new Set(r.exchangeOnlineEvidence.map((e) => e.signal))).toEqual(
      new Set(['mx', 'smart-host', 'spf', 'dkim', 'ms-txt']),
    );
    expect(r.tenant).toBe('contosolab');
    expect(r.mx).toEqual([
      {
        host: 'eop-direct-test.mail.protection.outlook.com',
        preference: 0,
        provider: 'Exchange Online (EOP)',
        providerId: 'exchange-online',
        kind: 'exchange-online',
      },
    ]);
    expect(r.smartHost).toBe('eop-direct-test.mail.protection.outlook.com');
    expect(r.smartHostResolves).toBe(true);
    expect(r.gatewayBypass).toBe(false);
    expect(r.risk).toBe('medium');
    expect(codes(r)).toEqual(['DS700', 'DS701', 'DS708']);
    expect(r.recommendations[0]?.title).toBe('Enable RejectDirectSend');
  });

  it('gateway-fronted with a reachable smart host → gateway bypass, high', async () => {
    const r = await golden('gateway.test');
    expect(r.mx.map((m) => m.providerId)).toEqual(['proofpoint', 'proofpoint']);
    expect(r.gatewayBypass).toBe(true);
    expect(r.gateway).toBe('Proofpoint');
    expect(r.smartHost).toBe('gateway-test.mail.protection.outlook.com');
    expect(r.risk).toBe('high');
    const bypass = r.findings.find((f) => f.code === 'DS702')!;
    expect(bypass.severity).toBe('high');
    expect(bypass.evidence.map((e) => e.field)).toEqual([
      'MX gateway.test',
      'MX gateway.test',
      'A gateway-test.mail.protection.outlook.com',
    ]);
    expect(r.recommendations[0]?.title).toBe('Close the gateway bypass');
    expect(codes(r)).toEqual(expect.arrayContaining(['DS713', 'DS732', 'DS733']));
  });

  it('*.mx.microsoft MX: the MX is the smart host; new-style DKIM names the tenant', async () => {
    const r = await golden('dnssec.test');
    expect(r.smartHost).toBe('dnssec-test.r-v1.mx.microsoft');
    expect(r.smartHostResolves).toBe(true);
    expect(r.tenant).toBe('fabrikamlab');
    expect(r.smartHosts.map((c) => [c.host, c.source, c.resolves])).toEqual([
      ['dnssec-test.r-v1.mx.microsoft', 'mx', true],
      ['dnssec-test.mail.protection.outlook.com', 'derived', true],
    ]);
    expect(codes(r)).toEqual(expect.arrayContaining(['DS703', 'DS701', 'DS737']));
    expect(r.risk).toBe('medium');
  });

  it('tenant known only from DKIM: the onmicrosoft smart host is found and the self-hosted MX is bypassable', async () => {
    const r = await golden('onlydkim.test');
    expect(r.smartHosts.map((c) => [c.source, c.resolves])).toEqual([
      ['derived', false],
      ['onmicrosoft', true],
    ]);
    expect(r.smartHost).toBe('contosolab.mail.protection.outlook.com');
    expect(r.gatewayBypass).toBe(true);
    expect(codes(r)).toEqual(expect.arrayContaining(['DS702', 'DS704', 'DS720']));
  });
});

describe('SPF', () => {
  it('hard fail with a static IP: no SPF finding', async () => {
    const r = await auditDomain('eop-direct.test', { resolver });
    expect(r.spf).toMatchObject({
      all: '-all',
      dnsLookups: 2,
      voidLookups: 0,
      includesExchangeOnline: true,
      ip4: ['198.51.100.25'],
      error: null,
    });
  });
  it('soft fail', async () => {
    const r = await golden('spf-softfail.test');
    expect(r.spf.all).toBe('~all');
    expect(codes(r)).toContain('DS713');
  });
  it('missing', async () => {
    const r = await golden('spf-missing.test');
    expect(r.spf).toMatchObject({ record: null, result: 'none' });
    expect(codes(r)).toEqual(expect.arrayContaining(['DS710', 'DS731', 'DS738']));
    expect(r.risk).toBe('low');
    expect(r.exchangeOnline).toBe(false);
  });
  it('over 10 lookups', async () => {
    const r = await golden('spf-toomany.test');
    expect(r.spf.dnsLookups).toBe(11);
    expect(r.spf.result).toBe('permerror');
    expect(codes(r)).toContain('DS714');
    expect(r.findings.find((f) => f.code === 'DS714')?.evidence.at(-1)?.value).toBe('11: include:s11.spf-chain.test');
  });
  it('include loop', async () => {
    const r = await golden('spf-loop.test');
    expect(codes(r)).toContain('DS716');
    expect(r.spf.error).toBe(
      'include loop: spf-loop.test → loop-a.spf-chain.test → loop-b.spf-chain.test → loop-a.spf-chain.test',
    );
  });
  it('void lookups over 2', async () => {
    const r = await golden('spf-void.test');
    expect(r.spf.voidLookups).toBe(3);
    expect(codes(r)).toContain('DS715');
    expect(r.spf.lookups.filter((l) => l.void).map((l) => l.term)).toEqual([
      'a:gone1.spf-void.test',
      'a:gone2.spf-void.test',
      'mx:gone3.spf-void.test',
    ]);
  });
  it('multiple records and syntax errors', async () => {
    expect(codes(await golden('spf-multiple.test'))).toContain('DS717');
    const s = await golden('spf-syntax.test');
    expect(s.findings.filter((f) => f.code === 'DS718')).toHaveLength(1);
    expect(s.findings.find((f) => f.code === 'DS718')?.message).toMatch(/300\.1\.1\.1.*includ|includ.*300/s);
    expect(codes(s)).not.toContain('DS712');
  });
});

describe('DMARC', () => {
  it('none / quarantine / reject', async () => {
    expect((await golden('dmarc-none.test')).dmarc).toMatchObject({ policy: 'none', pct: 100 });
    expect(codes(await auditDomain('dmarc-none.test', { resolver }))).toContain('DS731');
    expect((await golden('dmarc-quarantine.test')).dmarc.policy).toBe('quarantine');
    const rej = await golden('dmarc-reject.test');
    expect(rej.dmarc).toMatchObject({
      policy: 'reject',
      subdomainPolicy: 'quarantine',
      rua: ['mailto:d@dmarc-reject.test', 'mailto:x@reports.example'],
      ruf: ['mailto:f@dmarc-reject.test'],
    });
    expect(codes(rej)).toContain('DS737');
  });
  it('missing and invalid', async () => {
    expect(codes(await golden('dmarc-missing.test'))).toContain('DS730');
    const inv = await golden('dmarc-invalid.test');
    expect(inv.dmarc.result).toBe('invalid');
    expect(codes(inv)).toContain('DS734');
    expect(codes(await golden('dmarc-multiple.test'))).toContain('DS735');
  });
  it('a subdomain inherits the organisational domain’s sp', async () => {
    const r = await golden('sub.dmarc-reject.test');
    expect(r.dmarc).toMatchObject({ inherited: true, recordDomain: 'dmarc-reject.test', policy: 'quarantine' });
    expect(codes(r)).toEqual(expect.arrayContaining(['DS736', 'DS732']));
  });
});

describe('DNS failures are results, kept distinct', () => {
  it('NXDOMAIN', async () => {
    const r = await golden('nx-domain.test');
    expect(r.status).toBe('nxdomain');
    expect(r.mxError).toBe('NXDOMAIN (name does not exist)');
    expect(codes(r)).toEqual(['DS705']);
    expect(r.dnsErrors).toEqual([]);
    expect(r.recommendations).toEqual([]);
  });
  it('NODATA', async () => {
    const r = await golden('nodata.test');
    expect(r.status).toBe('ok');
    expect(r.mxError).toBe('NODATA (no record of that type)');
    expect(codes(r)).toContain('DS706');
  });
  it('SERVFAIL', async () => {
    const r = await golden('servfail.test');
    expect(r.status).toBe('incomplete');
    expect(r.risk).toBe('unknown');
    expect(r.dnsErrors).toEqual(expect.arrayContaining([{ name: 'servfail.test', type: 'MX', error: 'SERVFAIL' }]));
    expect(codes(r)).toEqual(expect.arrayContaining(['DS707', 'DS723']));
  });
  it('timeout', async () => {
    const r = await golden('timeout.test');
    expect(r.dnsErrors).toEqual(expect.arrayContaining([{ name: 'timeout.test', type: 'MX', error: 'timeout' }]));
    expect(r.risk).toBe('unknown');
  });
  it('a failed DMARC lookup on a reachable tenant is reported, not guessed', async () => {
    const r = await golden('dmarc-servfail.test');
    expect(r.dmarc.result).toBe('temperror');
    expect(r.status).toBe('incomplete');
    expect(r.risk).toBe('medium');
    expect(codes(r)).toContain('DS739');
  });
  it('a server told to fail mid-run changes the answer for that name only', async () => {
    server.add('runtime-fault.test. 300 IN TXT "v=spf1 -all"\n$SERVFAIL _dmarc.runtime-fault.test.\n');
    const r = await auditDomain('runtime-fault.test', { resolver });
    expect(r.spf.all).toBe('-all');
    expect(r.dmarc.result).toBe('temperror');
  });
});

describe('transport', () => {
  it('reads a TXT RRset too large for UDP over TCP', async () => {
    const before = server.tcpQueries;
    const r = await auditDomain('big-txt.test', { resolver });
    expect(server.tcpQueries).toBeGreaterThan(before);
    expect(r.spf).toMatchObject({
      record: 'v=spf1 include:spf.protection.outlook.com -all',
      all: '-all',
      result: 'ok',
    });
    expect(r.dnsErrors).toEqual([]);
  });
});

describe('batches', () => {
  it('keeps input order and reports bad inputs in place', async () => {
    const out = [];
    for await (const r of auditDomains(
      ['gateway.test', 'not a domain', 'eop-direct.test', 'timeout.test', 'dnssec.test'],
      {
        resolver: new CachingResolver(resolver),
        concurrency: 3,
      },
    )) {
      out.push('error' in r && !('risk' in r) ? `error:${r.input}` : (r as DomainExposure).domain);
    }
    expect(out).toEqual(['gateway.test', 'error:not a domain', 'eop-direct.test', 'timeout.test', 'dnssec.test']);
  });
  it('shares answers across domains through the cache', async () => {
    const cache = new CachingResolver(resolver);
    await auditDomain('eop-direct.test', { resolver: cache });
    const before = cache.misses;
    await auditDomain('dnssec.test', { resolver: cache });
    // spf.protection.outlook.com and spfd.protection.outlook.com are not fetched again.
    expect(cache.misses - before).toBeLessThan(before);
  });
});
