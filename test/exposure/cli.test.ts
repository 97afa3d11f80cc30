/** `dsguard exposure` end to end, in-process, against the DNS test server. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';

let server: DnsTestServer;
let dns: string[];
const dir = mkdtempSync(join(tmpdir(), 'dsguard-exposure-'));

beforeAll(async () => {
  server = await startDnsServer(loadZones('test/fixtures/dns'));
  dns = ['--dns-server', server.address, '--timeout', '1000', '--tries', '1'];
});
afterAll(async () => {
  await server.close();
});

describe('dsguard exposure', () => {
  it('prints one JSON object per domain with the documented fields', async () => {
    const r = await runCli(['exposure', 'gateway.test', 'eop-direct.test', '--format', 'json', ...dns]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.map((d: { domain: string }) => d.domain)).toEqual(['gateway.test', 'eop-direct.test']);
    for (const key of [
      'domain',
      'exchangeOnline',
      'mx',
      'smartHost',
      'smartHostResolves',
      'gatewayBypass',
      'spf',
      'dmarc',
      'risk',
      'findings',
    ]) {
      expect(out[0]).toHaveProperty(key);
    }
    expect(Object.keys(out[0].spf)).toEqual(
      expect.arrayContaining(['record', 'all', 'dnsLookups', 'voidLookups', 'includesExchangeOnline', 'error']),
    );
    expect(Object.keys(out[0].dmarc)).toEqual(
      expect.arrayContaining(['record', 'policy', 'subdomainPolicy', 'pct', 'error']),
    );
    expect(out[0]).toMatchObject({ gatewayBypass: true, risk: 'high' });
  });

  it('--fail-on high exits 1 on a gateway bypass', async () => {
    expect((await runCli(['exposure', 'gateway.test', '--fail-on', 'high', ...dns])).code).toBe(1);
    expect((await runCli(['exposure', 'eop-direct.test', '--fail-on', 'high', ...dns])).code).toBe(0);
  });

  it('reads --input files, reports bad lines with their line number, keeps going and exits 3', async () => {
    const list = join(dir, 'domains.txt');
    writeFileSync(
      list,
      '# customers\ngateway.test\n\nnot_a domain!\nDNSSEC.test.   # trailing dot and case\nservfail.test\n',
    );
    const r = await runCli(['exposure', '--input', list, '--format', 'ndjson', ...dns]);
    expect(r.code).toBe(3);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.domain ?? x.input)).toEqual(['gateway.test', `${list}:4`, 'dnssec.test', 'servfail.test']);
    expect(r.stderr).toContain(`${list}:4: not a domain name`);
    expect(r.stderr).toContain('servfail.test: DNS lookups failed (MX servfail.test: SERVFAIL');
  });

  it('reads domains from stdin', async () => {
    const r = await runCli(
      ['exposure', '--input', '-', '--format', 'ndjson', ...dns],
      'eop-direct.test\ndnssec.test\n',
    );
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).domain),
    ).toEqual(['eop-direct.test', 'dnssec.test']);
  });

  it('--profile audits the accepted domains', async () => {
    const profile = join(dir, 'dsguard.yml');
    writeFileSync(profile, 'tenant:\n  name: Contoso\n  domains:\n    - eop-direct.test\n    - gateway.test\n');
    const r = await runCli(['exposure', '--profile', profile, '--format', 'ndjson', ...dns]);
    expect(r.stderr).toBe('');
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).domain),
    ).toEqual(['eop-direct.test', 'gateway.test']);
  });

  it('--format csv gives one formula-safe row per domain', async () => {
    const r = await runCli(['exposure', 'gateway.test', 'spf-toomany.test', 'timeout.test', '--format', 'csv', ...dns]);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((x) => [x.domain, x.risk, x.gateway_bypass, x.spf_dns_lookups])).toEqual([
      ['gateway.test', 'high', 'true', '3'],
      ['spf-toomany.test', 'low', 'false', '11'],
      ['timeout.test', 'unknown', 'false', '0'],
    ]);
    expect(rows[2]?.dns_errors).toContain('MX timeout.test: timeout');
  });

  it('table output explains the verdict and recommendations', async () => {
    const r = await runCli(['exposure', 'gateway.test', ...dns]);
    expect(r.stdout).toContain('gateway.test — risk HIGH');
    expect(r.stdout).toContain('Gateway bypass   YES — MX at Proofpoint');
    expect(r.stdout).toMatch(/1\. Close the gateway bypass/);
  });

  it('--dns-record then --dns-replay reproduces the result without a server', async () => {
    const file = join(dir, 'replay.json');
    const live = await runCli([
      'exposure',
      'gateway.test',
      'dmarc-servfail.test',
      '--format',
      'json',
      '--dns-record',
      file,
      ...dns,
    ]);
    const replay = await runCli([
      'exposure',
      'gateway.test',
      'dmarc-servfail.test',
      '--format',
      'json',
      '--dns-replay',
      file,
    ]);
    expect(JSON.parse(replay.stdout)).toEqual(JSON.parse(live.stdout));
    expect(JSON.parse(readFileSync(file, 'utf8')).answers['TXT _dmarc.dmarc-servfail.test']).toEqual({
      status: 'servfail',
    });
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['exposure'])).code).toBe(2);
    expect((await runCli(['exposure', 'x.test', '--dns-server', 'resolver.example'])).code).toBe(2);
    expect((await runCli(['exposure', 'x.test', '--format', 'html'])).code).toBe(2);
    expect((await runCli(['exposure', 'x.test', '--concurrency', '0'])).code).toBe(2);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version":2}');
    expect((await runCli(['exposure', 'x.test', '--dns-replay', bad])).code).toBe(2);
  });
});
