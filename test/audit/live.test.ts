/**
 * The live path, as a user runs it: bin/dsguard.js in a child process (NODE_EXTRA_CA_CERTS trusts the emulator's
 * test CA; MSAL refuses http authorities) against the local Microsoft emulator — Entra ID token endpoint (client
 * secret and certificate assertion) and the Exchange admin API InvokeCommand serving the fixture tenants' objects,
 * two per page. Covers paging, 429 with Retry-After, an expired token (401 → one new token), 403 with the role hint,
 * a bad secret, --tenants with one failing tenant; the result equals the file path's; no secret or token in any
 * output or file. Needs dist/ (npm test builds it first).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cmdlet, recognise } from '../../src/audit/config.js';
import { decodeDump } from '../../src/audit/config-source.js';
import { parseProfile } from '../../src/config/profile-file.js';
import {
  EMULATOR_IDENTITY_HEADER,
  type MicrosoftEmulator,
  makeAppCertificate,
  startMicrosoftEmulator,
} from '../emulators/microsoft.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';

const FIX = 'test/fixtures/audit';
const T1 = '9a8b7c6d-3333-4e5f-a0b1-c2d3e4f5a6b7'; // misconfigured
const T2 = '2f1c0a9e-5d4b-4c1e-9a7b-0c3d5e7f9a1b'; // hardened
const T3 = '7d3e2b1a-2222-4c3d-8e9f-1a2b3c4d5e6f'; // default, app without an Exchange role
const APP1 = '6a1e3c55-0000-4000-8000-000000000001';
const APP2 = '6a1e3c55-0000-4000-8000-000000000002';
const APP3 = '6a1e3c55-0000-4000-8000-000000000003';
const APP4 = '6a1e3c55-0000-4000-8000-000000000004';
const APP5 = '6a1e3c55-0000-4000-8000-000000000005';
const MSI = '6a1e3c55-0000-4000-8000-000000000006';
const SECRET = 'Zq8~test-secret-V4lue.that-must-never-leak_0123';

let emu: MicrosoftEmulator;
let dns: DnsTestServer;
let tmp: string;
let certFile: string;
const outputs: string[] = [];

/** The raw objects of a fixture folder, by cmdlet, as a live tenant would hold them. */
function rawObjects(dir: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const doc = JSON.parse(decodeDump(readFileSync(join(dir, f)))) as unknown;
    let rows: unknown[];
    let cmdlet: Cmdlet | null = null;
    if (doc && typeof doc === 'object' && 'Cmdlet' in doc) {
      cmdlet = (doc as { Cmdlet: Cmdlet }).Cmdlet;
      rows = (doc as unknown as { Value: unknown[] }).Value;
    } else rows = Array.isArray(doc) ? doc : (doc as { value: unknown[] }).value;
    const strip = (r: unknown) =>
      Object.fromEntries(Object.entries(r as Record<string, unknown>).filter(([k]) => !k.includes('@')));
    cmdlet ??= rows.map(recognise).find((c) => c !== null) ?? null;
    if (cmdlet) out[cmdlet] = rows.map(strip);
  }
  return out;
}

/** The built CLI trusting the emulator's certificate; every output kept for the secret scan. */
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnCli(
    args,
    { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: emu.caFile, ...env },
    { record: (stdout, stderr) => outputs.push(stdout, stderr) },
  );

const live = (tenant: string, app: string) => [
  '--tenant',
  tenant,
  '--client-id',
  app,
  '--authority-host',
  emu.url,
  '--exchange-url',
  emu.url,
];

beforeAll(async () => {
  const cert = await makeAppCertificate();
  const other = await makeAppCertificate('another-app');
  tmp = mkdtempSync(join(tmpdir(), 'dsguard-live-'));
  certFile = join(tmp, 'app.pem');
  writeFileSync(certFile, `${cert.keyPem}\n${cert.certPem}`);
  emu = await startMicrosoftEmulator({
    maxPageSize: 2,
    apps: [
      { tenantId: T1, clientId: APP1, secret: SECRET, roles: ['Exchange.ManageAsApp'], exchangeRole: true },
      {
        tenantId: T2,
        clientId: APP2,
        certificatePem: cert.certPem,
        roles: ['Exchange.ManageAsApp'],
        exchangeRole: true,
      },
      { tenantId: T3, clientId: APP3, secret: SECRET, roles: ['Exchange.ManageAsApp'], exchangeRole: false },
      { tenantId: T1, clientId: APP5, roles: ['Exchange.ManageAsApp'], exchangeRole: true, publicClient: true },
      { tenantId: T1, clientId: MSI, roles: ['Exchange.ManageAsApp'], exchangeRole: true, managedIdentity: true },
      // Registered with another certificate: an assertion signed with ours must be refused.
      {
        tenantId: T2,
        clientId: APP4,
        certificatePem: other.certPem,
        roles: ['Exchange.ManageAsApp'],
        exchangeRole: true,
      },
    ],
    exchange: {
      [T1]: rawObjects(`${FIX}/misconfigured`),
      [T2]: rawObjects(`${FIX}/hardened`),
      [T3]: rawObjects(`${FIX}/default`),
    },
  });
  const a = loadZones('test/fixtures/dns');
  const b = loadZones(`${FIX}/dns`);
  dns = await startDnsServer({ records: [...a.records, ...b.records], servfail: new Set(), drop: new Set() });
});

afterAll(async () => {
  await emu.close();
  await dns.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dsguard audit --tenant (live, against the emulator)', () => {
  it('pages, waits out a 429, renews an expired token once, and equals the file path’s scorecard', async () => {
    emu.fault({ kind: 'throttle', cmdlet: 'Get-InboundConnector', retryAfter: 1 });
    emu.fault({ kind: 'expire-token' });
    const before = emu.requests.length;
    const r = await run(['audit', ...live(T1, APP1), '--dns-server', dns.address, '--format', 'json'], {
      DSGUARD_CLIENT_SECRET: SECRET,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = await runCli([
      'audit',
      '--config-dir',
      `${FIX}/misconfigured`,
      '--dns-server',
      dns.address,
      '--format',
      'json',
    ]);
    const a = JSON.parse(r.stdout);
    const b = JSON.parse(file.stdout);
    expect(a.controls).toEqual(b.controls);
    expect(a.tenant).toEqual(b.tenant);
    // The malformed object is reported from the live path too.
    expect(a.problems.some((p: string) => p.includes('Broken connector') && p.includes('property Enabled'))).toBe(true);

    const calls = emu.requests.slice(before);
    const token = calls.filter((c) => c.path.endsWith('/oauth2/v2.0/token'));
    expect(token.map((c) => c.status)).toEqual([200, 200]); // the first, and one after the 401
    const admin = calls.filter((c) => c.path.endsWith('/InvokeCommand'));
    expect(admin[0]!.status).toBe(401);
    const inbound = admin.filter((c) => c.cmdlet === 'Get-InboundConnector').map((c) => c.status);
    expect(inbound).toEqual([429, 200, 200, 200]); // 6 connectors, 2 a page, after one 429
    expect(calls.some((c) => c.path.includes('openid-configuration'))).toBe(true);
  });

  it('authenticates with a certificate (signed assertion) and builds the same profile as from files', async () => {
    const out = join(tmp, 'live.yml');
    const r = await run(['profile', 'init', ...live(T2, APP2), '--certificate', certFile, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const liveProfile = parseProfile(readFileSync(out, 'utf8'), out);
    const fileOut = join(tmp, 'file.yml');
    expect((await runCli(['profile', 'init', '--config-dir', `${FIX}/hardened`, '-o', fileOut])).code).toBe(0);
    const fileProfile = parseProfile(readFileSync(fileOut, 'utf8'), fileOut);
    expect(liveProfile.status).toBe('ok');
    const plain = (p: typeof liveProfile) =>
      p.status === 'ok'
        ? JSON.parse(
            JSON.stringify(p.profile, (_k, v) =>
              v && typeof v === 'object' && 'text' in v && 'matches' in v ? v.text : v,
            ),
          )
        : p;
    expect(plain(liveProfile)).toEqual(plain(fileProfile));
    outputs.push(readFileSync(out, 'utf8'));
    const check = await run(['profile', 'check', ...live(T2, APP2), '--certificate', certFile, '-p', out]);
    expect(check.code).toBe(0);
    expect(check.stdout).toBe(`${out}: matches the tenant\n`);
  });

  it('refuses an assertion signed by a certificate the app does not have', async () => {
    const r = await run(['audit', ...live(T2, APP4), '--certificate', certFile, '--no-dns']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('AADSTS700027');
  });

  it('signs in with a device code for a one-off run, the prompt on stderr', async () => {
    const r = await run(['audit', ...live(T1, APP5), '--device-code', '--no-dns', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('enter the code EMUCODE42');
    expect(JSON.parse(r.stdout).tenant.id).toBe(T1);
  });

  it('uses a managed identity (App Service endpoint)', async () => {
    const r = await run(
      ['audit', '--tenant', T1, '--managed-identity', '--exchange-url', emu.url, '--no-dns', '--format', 'json'],
      {
        IDENTITY_ENDPOINT: `${emu.url}/msi/token`,
        IDENTITY_HEADER: EMULATOR_IDENTITY_HEADER,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tenant.id).toBe(T1);
    expect(emu.requests.some((c) => c.path === '/msi/token' && c.status === 200)).toBe(true);
  });

  it('names the missing role on a 403', async () => {
    const r = await run(['audit', ...live(T3, APP3), '--no-dns'], { DSGUARD_CLIENT_SECRET: SECRET });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('403');
    expect(r.stderr).toContain('Exchange.ManageAsApp');
    expect(r.stderr).toContain('Global Reader');
  });

  it('says what went wrong with a bad secret or none, without echoing it', async () => {
    const bad = await run(['audit', ...live(T1, APP1), '--no-dns'], { DSGUARD_CLIENT_SECRET: `${SECRET}-wrong` });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('AADSTS7000215');
    expect(bad.stderr).not.toContain(`${SECRET}-wrong`);
    const none = await run(['audit', ...live(T1, APP1), '--no-dns']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('DSGUARD_CLIENT_SECRET');
    const secretFile = join(tmp, 'secret.txt');
    writeFileSync(secretFile, `${SECRET}\n`);
    const fromFile = await run([
      'audit',
      ...live(T1, APP1),
      '--client-secret-file',
      secretFile,
      '--no-dns',
      '--format',
      'json',
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
  });

  it('--tenants: a failing tenant never stops the others', async () => {
    const file = join(tmp, 'tenants.yml');
    writeFileSync(
      file,
      [
        'tenants:',
        `  - { name: Woodgrove, tenantId: ${T1}, clientId: ${APP1}, secretEnv: WOODGROVE_SECRET }`,
        `  - { name: Fabrikam, tenantId: ${T3}, clientId: ${APP3}, secretEnv: WOODGROVE_SECRET }`,
        `  - { name: Contoso, tenantId: ${T2}, clientId: ${APP2}, certificate: ${certFile} }`,
        `  - { name: Contoso files, configDir: ${join(process.cwd(), FIX, 'hardened')} }`,
        '',
      ].join('\n'),
    );
    const r = await run(
      [
        'audit',
        '--tenants',
        file,
        '--authority-host',
        emu.url,
        '--exchange-url',
        emu.url,
        '--no-dns',
        '--format',
        'json',
      ],
      {
        WOODGROVE_SECRET: SECRET,
      },
    );
    expect(r.code).toBe(3);
    const all = JSON.parse(r.stdout) as {
      tenant: string;
      error: string | null;
      scorecard: { controls: unknown[] } | null;
    }[];
    expect(all.map((t) => [t.tenant, t.error === null])).toEqual([
      ['Woodgrove', true],
      ['Fabrikam', false],
      ['Contoso', true],
      ['Contoso files', true],
    ]);
    expect(all[1]!.error).toContain('Exchange.ManageAsApp');
    expect(all[2]!.scorecard!.controls).toEqual(all[3]!.scorecard!.controls);
    expect(r.stderr).toContain('tenant Fabrikam');
  });

  it('no secret or token in any output or file', () => {
    expect(emu.issuedTokens.length).toBeGreaterThan(3);
    for (const text of outputs) {
      expect(text).not.toContain(SECRET);
      for (const t of emu.issuedTokens) expect(text).not.toContain(t);
    }
  });
});
