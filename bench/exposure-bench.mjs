// Benchmark: `dsguard exposure` over many domains (default 1,000) against a real DNS server on 127.0.0.1
// (the test helper, compiled on the fly), with a reference measured in the same run: the same DNS queries that
// reached the server during the dsguard run, sent as raw node:dns lookups with the same number in flight and
// no audit. Prints the ratio, the queries per domain, and the heap after GC sampled through the batch (it must
// not grow with the batch). Targets (exit 1 when missed): 1,000 domains under 20 s; heap growth from the first
// to the last quarter of the batch under 10 MB.
// Usage: npm run build && node --expose-gc bench/exposure-bench.mjs [--domains 1000] [--concurrency 16]
import { spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import { auditDomains } from '../dist/exposure/exposure.js';
import { CachingResolver, SystemResolver } from '../dist/net/dns.js';

const { values } = parseArgs({
  options: { domains: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '16' } },
});
const N = Number(values.domains);
const CONCURRENCY = Number(values.concurrency);
const TARGET_MS = 20_000 * (N / 1000);

// Compile the DNS test server (TypeScript, dev-only: dns-packet) next to the other generated bench data.
const OUT = 'bench/.data/dns-helper';
const tsc = spawnSync(
  process.execPath,
  [
    'node_modules/typescript/bin/tsc',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
    '--types',
    'node',
    '--outDir',
    OUT,
    'test/helpers/dns-server.ts',
  ],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(2);
const { parseZone, startDnsServer } = await import(`../${OUT}/dns-server.js`);

// A zone of N domains in the mix an MSP sees: Exchange Online in the MX, behind a gateway (with the smart host
// resolving), self-hosted; SPF with shared and per-domain includes; DMARC none/quarantine/reject/missing;
// DKIM CNAMEs to a tenant for some.
function zone(n) {
  const lines = [
    '$ORIGIN bench.test.',
    '$TTL 300',
    '@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 3600 600 86400 300',
    '_spf.gw IN TXT "v=spf1 ip4:67.231.152.0/24 ip4:67.231.154.0/24 -all"',
    'gw-mx1 IN A 67.231.154.162',
    '$ORIGIN outlook.com.',
    '@ IN SOA ns1.outlook.com. hostmaster.outlook.com. 1 3600 600 86400 300',
    'spf.protection IN TXT "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 include:spfd.protection.outlook.com -all"',
    'spfd.protection IN TXT "v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 -all"',
    '$ORIGIN onmicrosoft.com.',
    '@ IN SOA ns1.onmicrosoft.com. hostmaster.onmicrosoft.com. 1 3600 600 86400 300',
  ];
  const names = [];
  for (let i = 0; i < n; i++) {
    const d = `d${String(i).padStart(5, '0')}.bench.test`;
    const token = d.replaceAll('.', '-');
    names.push(d);
    const kind = i % 10;
    if (kind < 4) lines.push(`${d}. IN MX 0 ${token}.mail.protection.outlook.com.`);
    else if (kind < 7) lines.push(`${d}. IN MX 10 gw-mx1.bench.test.`);
    else lines.push(`${d}. IN MX 10 mail.${d}.`, `mail.${d}. IN A 192.0.2.${i % 250}`);
    if (kind < 7) lines.push(`${token}.mail.protection.outlook.com. IN A 52.101.${i % 250}.${(i * 7) % 250}`);
    const spf =
      kind < 4
        ? `v=spf1 ip4:198.51.100.${i % 250} include:spf.protection.outlook.com -all`
        : kind < 7
          ? 'v=spf1 include:spf.protection.outlook.com include:_spf.gw.bench.test ~all'
          : `v=spf1 mx a:mail.${d} ?all`;
    lines.push(`${d}. IN TXT "${spf}"`);
    const dmarc = [
      'v=DMARC1; p=reject; rua=mailto:r@x.test',
      'v=DMARC1; p=quarantine; pct=50',
      'v=DMARC1; p=none',
      null,
    ][i % 4];
    if (dmarc) lines.push(`_dmarc.${d}. IN TXT "${dmarc}"`);
    if (i % 3 === 0) {
      lines.push(`selector1._domainkey.${d}. IN CNAME selector1-${token}._domainkey.tenant${i % 50}.onmicrosoft.com.`);
      lines.push(`tenant${i % 50}.onmicrosoft.com. IN MX 0 tenant${i % 50}.mail.protection.outlook.com.`);
      lines.push(`tenant${i % 50}.mail.protection.outlook.com. IN A 52.101.1.${i % 50}`);
    }
  }
  return { text: lines.join('\n'), names };
}

const { text, names } = zone(N);
const server = await startDnsServer(parseZone(text, 'bench'));
const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};

// Warm up both paths (JIT, sockets) on a few names not in the batch.
const warm = new SystemResolver({ server: server.address, timeoutMs: 2000, tries: 2 });
for await (const _ of auditDomains(['warm.bench.test', 'warm2.bench.test'], { resolver: warm, concurrency: 2 })) {
}

// dsguard (nothing else allocates in this process while it runs, so the heap samples are dsguard's own)
server.queries = 0;
const resolver = new SystemResolver({ server: server.address, timeoutMs: 2000, tries: 2 });
const samples = [];
let done = 0;
const byRisk = {};
const t0 = performance.now();
for await (const r of auditDomains(names, { resolver: new CachingResolver(resolver), concurrency: CONCURRENCY })) {
  done++;
  byRisk[r.risk] = (byRisk[r.risk] ?? 0) + 1;
  if (done % Math.max(1, Math.floor(N / 10)) === 0) samples.push(heap());
}
const dsguardMs = performance.now() - t0;
const queries = server.queries;

// The query list for the reference: a second, untimed dsguard run that records what it asks.
const seen = new Set();
const tap = {
  query(name, type) {
    seen.add(`${type} ${name}`);
    return resolver.query(name, type);
  },
};
for await (const _ of auditDomains(names, { resolver: new CachingResolver(tap), concurrency: CONCURRENCY })) {
}

// Reference: the same distinct queries, raw node:dns, same number in flight (CONCURRENCY domains × ~4 queries).
const raw = new Resolver({ timeout: 2000, tries: 2 });
raw.setServers([server.address]);
const list = [...seen].map((k) => k.split(' '));
const method = { A: 'resolve4', AAAA: 'resolve6', MX: 'resolveMx', TXT: 'resolveTxt', CNAME: 'resolveCname' };
const inFlight = CONCURRENCY * 4;
const t1 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < list.length) {
      const [type, name] = list[next++];
      await raw[method[type]](name).catch(() => {});
    }
  }),
);
const referenceMs = performance.now() - t1;
await server.close();

const mb = (b) => (b / 1048576).toFixed(1);
const q = Math.max(1, Math.floor(samples.length / 4));
const firstQ = samples.slice(0, q).reduce((a, b) => a + b, 0) / q;
const lastQ = samples.slice(-q).reduce((a, b) => a + b, 0) / q;
const growth = lastQ - firstQ;
console.log(`domains: ${N}, concurrency ${CONCURRENCY}; risk ${JSON.stringify(byRisk)}`);
console.log(
  `dsguard exposure: ${(dsguardMs / 1000).toFixed(2)} s (${(N / (dsguardMs / 1000)).toFixed(0)} domains/s), ${queries} DNS queries at the server (${(queries / N).toFixed(1)} per domain)`,
);
console.log(
  `reference (same ${list.length} queries, raw node:dns, ${inFlight} in flight): ${(referenceMs / 1000).toFixed(2)} s`,
);
console.log(`ratio dsguard / reference: ${(dsguardMs / referenceMs).toFixed(2)}×`);
console.log(
  `heap after GC through the batch (MB): ${samples.map(mb).join(' ')}; first→last quarter ${growth >= 0 ? '+' : ''}${mb(growth)} MB`,
);
const ok = dsguardMs < TARGET_MS && growth < 10 * 1048576;
console.log(
  `targets: ${N} domains under ${TARGET_MS / 1000} s ${dsguardMs < TARGET_MS ? 'met' : 'MISSED'}; heap growth under 10 MB ${growth < 10 * 1048576 ? 'met' : 'MISSED'}`,
);
process.exitCode = ok ? 0 : 1;
