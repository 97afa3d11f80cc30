/**
 * `dsguard audit` and `dsguard profile` over the fixture configuration dumps of three tenants (hardened, default
 * with UTF-16 dumps under arbitrary names and a missing file, misconfigured with @odata noise and a malformed
 * object), against a real DNS server holding their records. Golden scorecards; profile init → analyze/ingest/report
 * accept it → profile check clean; a changed dump is drift.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMDLETS } from '../../src/audit/config.js';
import { readConfigDir } from '../../src/audit/config-source.js';
import { parseProfile } from '../../src/config/profile-file.js';
import { runCli } from '../helpers/cli.js';
import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';
import { expectGoldenText } from '../helpers/golden.js';

const FIX = 'test/fixtures/audit';
const CASES = ['hardened', 'default', 'misconfigured'] as const;
let dns: DnsTestServer;
let tmp: string;

beforeAll(async () => {
  const a = loadZones('test/fixtures/dns');
  const b = loadZones(`${FIX}/dns`);
  dns = await startDnsServer({
    records: [...a.records, ...b.records],
    servfail: new Set([...a.servfail, ...b.servfail]),
    drop: new Set([...a.drop, ...b.drop]),
  });
  tmp = mkdtempSync(join(tmpdir(), 'dsguard-audit-'));
});
afterAll(async () => {
  await dns.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** `dsguard audit` of a fixture tenant's dumps against the test DNS server, as JSON. */
const auditJson = (dir: string, ...more: string[]) =>
  runCli(['audit', '--config-dir', dir, '--dns-server', dns.address, '--format', 'json', ...more]);

describe('dsguard audit --config-dir', () => {
  for (const c of CASES) {
    it(`scores the ${c} tenant (golden)`, async () => {
      const r = await auditJson(`${FIX}/${c}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expectGoldenText(`${FIX}/${c}.expected.json`, r.stdout);
    });
  }

  it('hardened passes every scored control; MFA/CA stays unknown', async () => {
    const r = await auditJson(`${FIX}/hardened`, '--fail-on', 'fail');
    const card = JSON.parse(r.stdout);
    expect(card.controls.filter((x: { status: string }) => x.status === 'fail')).toEqual([]);
    expect(r.code).toBe(0);
    const mfa = card.controls.find((x: { code: string }) => x.code === 'DS759');
    expect(mfa.status).toBe('unknown');
    expect(mfa.detail).toMatch(/^unknown — not verifiable from this data/);
  });

  it('misconfigured fails the controls it breaks, each with evidence and a fix; --fail-on fail exits 1', async () => {
    const r = await auditJson(`${FIX}/misconfigured`, '--fail-on', 'fail');
    expect(r.code).toBe(1);
    const card = JSON.parse(r.stdout);
    const failed = new Set(
      card.controls.filter((x: { status: string }) => x.status === 'fail').map((x: { code: string }) => x.code),
    );
    for (const code of [
      'DS740',
      'DS741',
      'DS742',
      'DS743',
      'DS746',
      'DS747',
      'DS748',
      'DS749',
      'DS750',
      'DS751',
      'DS754',
      'DS755',
      'DS756',
      'DS757',
      'DS758',
    ])
      expect(failed, code).toContain(code);
    const info = card.controls
      .filter((x: { status: string }) => x.status === 'info')
      .map((x: { code: string }) => x.code);
    expect(info).toContain('DS752');
    expect(info).toContain('DS753');
    for (const row of card.controls.filter((x: { status: string }) => x.status === 'fail'))
      expect(row.evidence.length + row.fix.length, row.code).toBeGreaterThan(0);
    // The malformed object names the file and the property; the rest of that file is scored.
    expect(
      card.problems.some(
        (p: string) => p.includes('c.json') && p.includes('Broken connector') && p.includes('property Enabled'),
      ),
    ).toBe(true);
    expect(card.controls.some((x: { subject: string | null }) => x.subject === 'inbound connector Payroll SaaS')).toBe(
      true,
    );
    // Missing dumps say which controls they leave unknown.
    expect(card.problems.some((p: string) => p.startsWith('DS790 Get-OutboundConnector'))).toBe(true);
  });

  it('reads UTF-16 dumps under any name and says what a missing file leaves unknown', async () => {
    const config = await readConfigDir(`${FIX}/default`);
    expect(config.origins['Get-OrganizationConfig']).toBe(`${FIX}/default/org.json`);
    expect(config.objects['Get-AcceptedDomain']?.map((d) => d.DomainName)).toEqual([
      'fabrikam-default.test',
      'fabrikamdefault.onmicrosoft.com',
    ]);
    const r = await runCli(['audit', '--config-dir', `${FIX}/default`, '--no-dns']);
    expect(r.stdout).toContain('DS790 Get-ArcConfig output is missing: trusted ARC sealers (DS761) not listed');
    expect(r.stdout).toMatch(/DS756 +UNKNOWN/);
  });

  it('renders md, html and junit with every control, commands whole', async () => {
    const args = ['audit', '--config-dir', `${FIX}/misconfigured`, '--dns-server', dns.address];
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    const junit = (await runCli([...args, '--format', 'junit'])).stdout;
    expect((junit.match(/<testcase /g) ?? []).length).toBe(json.controls.length);
    expect((junit.match(/<failure /g) ?? []).length).toBe(json.summary.fail);
    const md = (await runCli([...args, '--format', 'md'])).stdout;
    const html = (await runCli([...args, '--format', 'html'])).stdout;
    const table = (await runCli(args)).stdout;
    for (const row of json.controls)
      for (const f of row.fix) {
        expect(md).toContain(f);
        expect(table).toContain(f);
        expect(html).toContain(f.replace(/[&<>"'`]/g, (ch: string) => `&#${ch.charCodeAt(0)};`));
      }
  });

  it('with --db counts the legitimate sources RejectDirectSend would break, and excepts confirmed sources from the rule', async () => {
    const db = join(tmp, 'store.db');
    const ing = await runCli(['ingest', 'samples/exports', '--db', db, '--profile', 'samples/exports-profile.yml']);
    expect(ing.code, ing.stderr).toBe(0);
    const args = ['audit', '--config-dir', `${FIX}/misconfigured`, '--no-dns', '--format', 'json'];
    const without = JSON.parse((await runCli(args)).stdout);
    const withDb = JSON.parse((await runCli([...args, '--db', db, '--profile', 'samples/exports-profile.yml'])).stdout);
    const row = (card: { controls: { code: string }[] }, code: string) =>
      card.controls.find((x) => x.code === code) as unknown as {
        status: string;
        detail: string;
        fix: string[];
        evidence: { value: string }[];
      };
    expect(row(without, 'DS744').status).toBe('unknown');
    const ds740 = row(withDb, 'DS740');
    expect(ds740.status).toBe('fail');
    // 2 proven Direct Send messages and 1 trace row of the declared printer counted as inferred Direct Send (#13).
    expect(ds740.detail).toContain('would break 1 legitimate source(s) seen in the store (3 message(s))');
    expect(ds740.fix).toEqual([]); // never the enable command while it would break a legitimate source
    expect(ds740.evidence.map((e) => e.value)).toContain('198.51.100.20');
    expect(row(withDb, 'DS744').status).toBe('fail');
    // Where a new rule is proposed, the profile's confirmed sources are excepted from it:
    const fresh = JSON.parse(
      (
        await runCli([
          'audit',
          '--config-dir',
          `${FIX}/default`,
          '--no-dns',
          '--format',
          'json',
          '--profile',
          'samples/exports-profile.yml',
        ])
      ).stdout,
    );
    expect(row(fresh, 'DS755').fix[0]).toContain("-ExceptIfSenderIpRanges '198.51.100.20/32'");
  });

  it('treats dump content as hostile: quoting, no control characters, a broken file named and skipped', async () => {
    const dir = join(tmp, 'hostile');
    cpSync(`${FIX}/misconfigured`, dir, { recursive: true });
    writeFileSync(join(dir, 'zz-broken.json'), '{"Cmdlet": "Get-ArcConfig", "Value": [');
    const c = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
    c.value[1].Name = "Evil'; Remove-Mailbox -Identity *; '\u2019\u001b[31m\u202e\nrelay";
    writeFileSync(join(dir, 'c.json'), JSON.stringify(c));
    const json = await runCli(['audit', '--config-dir', dir, '--no-dns', '--format', 'json']);
    const card = JSON.parse(json.stdout);
    expect(card.problems.some((p: string) => p.includes('zz-broken.json') && p.includes('not JSON'))).toBe(true);
    const fixes: string[] = card.controls.flatMap((r: { fix: string[] }) => r.fix);
    // A name with control characters is withheld from the commands (core/quote): `<withheld: …>` in its place,
    // which PowerShell refuses to parse, so the command cannot run with it.
    expect(fixes.some((f) => f.includes('-Identity <withheld: control character>'))).toBe(true);
    expect(fixes.join('\n')).not.toContain('Remove-Mailbox');
    for (const f of fixes) expect(f).not.toMatch(/[\u0000-\u001f\u202e]/);
    for (const format of ['table', 'md', 'junit', 'html']) {
      const out = (await runCli(['audit', '--config-dir', dir, '--no-dns', '--format', format])).stdout;
      expect(out, format).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u202e]/);
    }
  });

  it('accepts a transport rule that rejects outside mail not from the gateway as an equivalent lock-down', async () => {
    const dir = join(tmp, 'gateway-rule');
    cpSync(`${FIX}/misconfigured`, dir, { recursive: true });
    const j = JSON.parse(readFileSync(join(dir, 'j.json'), 'utf8'));
    j.value.push({
      ...j.value[0],
      Name: 'Only via the gateway',
      SetSCL: null,
      SenderDomainIs: null,
      FromScope: 'NotInOrganization',
      ExceptIfSenderIpRanges: ['67.231.152.0/24', '67.231.154.0/24'],
      RejectMessageReasonText: 'Mail must come through the gateway',
      Priority: 3,
    });
    writeFileSync(join(dir, 'j.json'), JSON.stringify(j));
    const card = JSON.parse((await auditJson(dir)).stdout);
    const row = card.controls.find((x: { code: string }) => x.code === 'DS754');
    expect(row.status).toBe('pass');
    expect(row.detail).toContain('Only via the gateway');
  });

  it('--tenants from dump folders: each tenant its own store; a missing folder fails that tenant only', async () => {
    const db = join(tmp, 'msp.db');
    expect(
      (await runCli(['ingest', 'samples/exports', '--db', db, '--profile', 'samples/exports-profile.yml'])).code,
    ).toBe(0);
    const file = join(tmp, 'msp.yml');
    writeFileSync(
      file,
      [
        'tenants:',
        `  - { name: Woodgrove, configDir: ${join(process.cwd(), FIX, 'misconfigured')}, db: ${db}, profile: ${join(process.cwd(), 'samples/exports-profile.yml')} }`,
        `  - { name: Gone, configDir: ${join(tmp, 'no-such-folder')} }`,
        `  - { name: Contoso, configDir: ${join(process.cwd(), FIX, 'hardened')} }`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['audit', '--tenants', file, '--no-dns', '--format', 'json']);
    expect(r.code).toBe(3);
    const all = JSON.parse(r.stdout);
    expect(all.map((t: { tenant: string; error: string | null }) => [t.tenant, t.error === null])).toEqual([
      ['Woodgrove', true],
      ['Gone', false],
      ['Contoso', true],
    ]);
    const ds740 = all[0].scorecard.controls.find((x: { code: string }) => x.code === 'DS740');
    expect(ds740.detail).toContain('would break 1 legitimate source(s)');
    expect(r.stderr).toContain('DS795 tenant Gone');
    expect((await runCli(['audit', '--tenants', file, '--db', db])).code).toBe(2);
  });

  it('names a usage error', async () => {
    expect((await runCli(['audit'])).code).toBe(2);
    expect((await runCli(['audit', '--config-dir', FIX, '--tenant', 'x'])).code).toBe(2);
    expect((await runCli(['audit', '--config-dir', `${FIX}/hardened`, '--format', 'xml'])).code).toBe(2);
    expect((await runCli(['audit', '--config-dir', `${FIX}/nope`, '--no-dns'])).code).toBe(3);
  });
});

describe('dsguard powershell --config', () => {
  it('prints a read-only dump of every object dsguard reads', async () => {
    const r = await runCli(['powershell', '--config']);
    expect(r.code).toBe(0);
    // Every cmdlet whose output the audit reads (src/audit/config.ts).
    for (const c of CMDLETS) expect(r.stdout).toContain(`Value = @(${c} -ErrorAction Stop)`);
    expect(r.stdout).toContain('ConvertTo-Json -Depth 6');
    expect(r.stdout.replace(/New-Item -ItemType Directory/g, '')).not.toMatch(
      /\b(Set|New|Remove|Enable|Disable)-[A-Z]/,
    );
  });
});

describe('dsguard profile init / check', () => {
  for (const c of CASES) {
    it(`${c}: init writes a profile analyze/ingest/report accept, and check reports it clean`, async () => {
      const out = join(tmp, `${c}.yml`);
      const init = await runCli(['profile', 'init', '--config-dir', `${FIX}/${c}`, '-o', out]);
      expect(init.code, init.stderr).toBe(0);
      const text = readFileSync(out, 'utf8');
      expectGoldenText(`${FIX}/${c}.profile.yml`, text);
      expect(parseProfile(text, out).status).toBe('ok');
      expect(text).toContain('# Get-AcceptedDomain —');
      const check = await runCli(['profile', 'check', '--config-dir', `${FIX}/${c}`, '-p', out]);
      expect(check.stdout).toBe(`${out}: matches the tenant\n`);
      expect(check.code).toBe(0);
      const analyze = await runCli(['analyze', 'samples/messages', '--profile', out, '--format', 'json']);
      expect(analyze.code).not.toBe(2);
      expect(analyze.code).not.toBe(3);
      const db = join(tmp, `${c}.db`);
      const ingest = await runCli([
        'ingest',
        'test/fixtures/exports/graph-messagetrace-page1.json',
        '--db',
        db,
        '--profile',
        out,
      ]);
      expect(ingest.code, ingest.stderr).toBe(0);
      const report = await runCli(['report', '--db', db, '--profile', out, '--format', 'json']);
      expect(report.code, report.stderr).toBe(0);
    });
  }

  it('never overwrites without --force, and keeps the admin’s directSendSources when it does', async () => {
    const out = join(tmp, 'keep.yml');
    expect((await runCli(['profile', 'init', '--config-dir', `${FIX}/hardened`, '-o', out])).code).toBe(0);
    const mine = `${readFileSync(out, 'utf8').replace('rejectDirectSend: true', 'rejectDirectSend: 2026-08-01')}directSendSources:\n  # the lobby printer\n  - name: Lobby MFP\n    ips: [192.0.2.44]\nhomeCountries: [GB]\n`;
    writeFileSync(out, mine);
    const again = await runCli(['profile', 'init', '--config-dir', `${FIX}/hardened`, '-o', out]);
    expect(again.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe(mine);
    expect((await runCli(['profile', 'init', '--config-dir', `${FIX}/hardened`, '-o', out, '--force'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain(
      'rejectDirectSend: 2026-08-01 # Get-OrganizationConfig RejectDirectSend is true',
    );
    expect((await runCli(['profile', 'init', '--config-dir', `${FIX}/misconfigured`, '-o', out, '--force'])).code).toBe(
      0,
    );
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('# the lobby printer');
    expect(text).toContain('Lobby MFP');
    expect(text).toContain('homeCountries:');
    expect(text).toContain('woodgrove-bad.test');
    const p = parseProfile(text, out);
    expect(p.status === 'ok' && p.profile.knownSources.map((s) => s.name)).toEqual(['Lobby MFP']);
  });

  it('reports a changed dump as drift, one line each, exit 1', async () => {
    const dir = join(tmp, 'changed');
    cpSync(`${FIX}/hardened`, dir, { recursive: true });
    const profile = join(tmp, 'drift.yml');
    expect((await runCli(['profile', 'init', '--config-dir', dir, '-o', profile])).code).toBe(0);
    const edit = (file: string, fn: (v: Record<string, unknown>[]) => void) => {
      const p = join(dir, file);
      const doc = JSON.parse(readFileSync(p, 'utf8'));
      fn(doc.Value);
      writeFileSync(p, JSON.stringify(doc));
    };
    edit('Get-OrganizationConfig.json', (v) => {
      v[0]!.RejectDirectSend = false;
    });
    edit('Get-AcceptedDomain.json', (v) => {
      v.push({ Name: 'new-brand.test', DomainName: 'new-brand.test', DomainType: 'Authoritative', Default: false });
    });
    edit('Get-InboundConnector.json', (v) => {
      v[0]!.SenderIPAddresses = ['198.51.100.0/28'];
      v.splice(1, 1);
      v.push({ ...v[0]!, Name: 'New printer connector', SenderIPAddresses: ['192.0.2.50'] });
    });
    const r = await runCli(['profile', 'check', '--config-dir', dir, '-p', profile]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      'drift: RejectDirectSend switched: the tenant has false, the profile says true',
      'drift: accepted domain added: new-brand.test',
      'drift: connector added: New printer connector (Partner, 192.0.2.50)',
      'drift: connector changed: Scan2Mail SaaS: senderIps 198.51.100.0/29 → 198.51.100.0/28',
      'drift: connector removed: On-prem relay (no longer matches mail by IP or certificate, or deleted)',
    ]);
  });

  it('needs exactly one source', async () => {
    expect((await runCli(['profile', 'init', '-o', '-'])).code).toBe(2);
    expect(existsSync('dsguard.yml.tmp')).toBe(false);
  });
});
