/**
 * The analyze command's contract: formats, --fail-on exit codes, usage errors, profile errors with line
 * numbers, --explain, and safe CSV / Markdown output for attacker-controlled values.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const DIR = 'test/fixtures/analyze';
const PROFILE = join(DIR, 'contoso.yml');
const SPOOF = join(DIR, 'powershell-spoof-foreign-vps.eml');
const INTERNAL = join(DIR, 'authenticated-internal.eml');
const tmp = mkdtempSync(join(tmpdir(), 'dsguard-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('analyze CLI', () => {
  it('exits 1 when a finding reaches --fail-on, 0 otherwise', async () => {
    expect((await runCli(['analyze', SPOOF, '-p', PROFILE, '--fail-on', 'high'])).code).toBe(1);
    expect((await runCli(['analyze', INTERNAL, '-p', PROFILE, '--fail-on', 'high'])).code).toBe(0);
    expect((await runCli(['analyze', SPOOF, '-p', PROFILE])).code).toBe(0);
  });

  it('--fail-on also takes a verdict: malicious, or suspicious and worse', async () => {
    const LEGIT = join(DIR, 'legit-scanner-spf-pass.eml');
    const LIST = join(DIR, 'mailing-list-relay.eml');
    expect((await runCli(['analyze', SPOOF, '-p', PROFILE, '--fail-on', 'malicious', '--no-geoip'])).code).toBe(1);
    expect((await runCli(['analyze', SPOOF, '-p', PROFILE, '--fail-on', 'suspicious', '--no-geoip'])).code).toBe(1);
    // A legitimate sender carries medium findings, yet no verdict at or above suspicious.
    expect((await runCli(['analyze', LEGIT, '-p', PROFILE, '--fail-on', 'suspicious', '--no-geoip'])).code).toBe(0);
    expect((await runCli(['analyze', LEGIT, '-p', PROFILE, '--fail-on', 'medium', '--no-geoip'])).code).toBe(1);
    // Without a profile the list relay's channel is unknown: no verdict to fail on.
    expect((await runCli(['analyze', LIST, '--fail-on', 'suspicious', '--no-geoip'])).code).toBe(0);
    const bad = await runCli(['analyze', SPOOF, '--fail-on', 'evil']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fail-on must be a severity .* or a verdict \(malicious, suspicious\)/);
  });

  it('says in every format how the tenant was known', async () => {
    const json = await runCli(['analyze', join(DIR, 'mailing-list-relay.eml'), '--format', 'json', '--no-geoip']);
    expect(JSON.parse(json.stdout)[0].tenantKnownFrom).toBe('inferred');
    const text = await runCli(['analyze', join(DIR, 'attested-recipient-scanner.eml'), '--no-geoip']);
    expect(text.stdout).toContain('tenant attested by Exchange (no profile): contoso.com');
    expect(text.stderr).toContain('1 message(s): direct-send 1 (no profile: tenant 1 attested)');
    const csv = await runCli(['analyze', SPOOF, '-p', PROFILE, '--format', 'csv', '--no-geoip']);
    expect((parse(csv.stdout, { columns: true }) as Record<string, string>[])[0]?.tenantKnownFrom).toBe('profile');
    const md = await runCli(['analyze', SPOOF, '-p', PROFILE, '--format', 'md', '--no-geoip']);
    expect(md.stdout).toContain('- Tenant: from the profile');
  });

  it('exits 2 on usage errors, with a one-line message', async () => {
    for (const argv of [
      ['analyze', SPOOF, '--format', 'xml'],
      ['analyze', SPOOF, '--fail-on', 'critical'],
      ['analyze', SPOOF, '--max-header-bytes', '-5'],
      ['analyze'],
      ['frobnicate'],
    ]) {
      const run = await runCli(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('names the first 20 files that are not mail, then says how many were skipped in all', async () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    copyFileSync(SPOOF, join(dir, 'a-message.eml'));
    for (let i = 0; i < 25; i++)
      writeFileSync(join(dir, `note-${String(i).padStart(2, '0')}.bin`), '\u0000\u0001 no mail');
    const run = await runCli(['analyze', dir, '-p', PROFILE, '--format', 'ndjson', '--jobs', '1', '--no-geoip']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines.filter((l) => /^dsguard: skipped .*note-\d+\.bin: not a mail message/.test(l))).toHaveLength(20);
    expect(lines.at(-1)).toBe('dsguard: skipped 25 files in all that are not messages');
  });

  it('exits 3 when an input cannot be read, after reporting the others', async () => {
    const run = await runCli(['analyze', join(tmp, 'missing.eml'), SPOOF, '-p', PROFILE, '--format', 'ndjson']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/missing\.eml: cannot read: no such file \(ENOENT\)/);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.error ?? l.channel)).toEqual(['cannot read: no such file (ENOENT)', 'direct-send']);
  });

  it('reports a malformed profile with file, line and field (exit 2)', async () => {
    const bad = join(tmp, 'bad.yml');
    writeFileSync(
      bad,
      'tenant:\n  domains: [contoso.com]\nconnectors:\n  - name: relay\n    senderIps: [10.0.0.300]\n',
    );
    const run = await runCli(['analyze', SPOOF, '-p', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `dsguard: ${bad}:5: connectors.0.senderIps: "10.0.0.300" is not an IP address or CIDR`,
    );
    writeFileSync(bad, 'tenant:\n  domains: [contoso.com]\n  colour: blue\n');
    const run2 = await runCli(['analyze', SPOOF, '-p', bad]);
    expect(run2.code).toBe(2);
    expect(run2.stderr).toMatch(/bad\.yml:\d+: tenant: Unrecognized key/);
    const missing = await runCli(['analyze', SPOOF, '-p', join(tmp, 'nope.yml')]);
    expect(missing.code).toBe(3);
  });

  it('json is one array; ndjson one object a line; both carry the documented fields', async () => {
    const json = await runCli(['analyze', SPOOF, INTERNAL, '-p', PROFILE, '--format', 'json']);
    const arr = JSON.parse(json.stdout);
    expect(arr).toHaveLength(2);
    for (const key of [
      'input',
      'messageId',
      'from',
      'to',
      'subject',
      'channel',
      'verdict',
      'risk',
      'rejectDirectSendBlocks',
      'findings',
    ]) {
      expect(arr[0]).toHaveProperty(key);
    }
    expect(arr[0].findings[0]).toEqual({
      code: expect.stringMatching(/^DS\d{3}$/),
      severity: expect.any(String),
      message: expect.any(String),
      evidence: expect.any(Array),
    });
    const nd = await runCli(['analyze', SPOOF, INTERNAL, '-p', PROFILE, '--format', 'ndjson']);
    expect(
      nd.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).channel),
    ).toEqual(['direct-send', 'authenticated']);
    const emptyDir = mkdtempSync(join(tmp, 'empty-'));
    const empty = await runCli(['analyze', emptyDir, '--format', 'json']);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    expect(empty.code).toBe(3);
  });

  it('csv neutralises formulas and md escapes markup from hostile subjects', async () => {
    const file = join(tmp, 'formula.eml');
    writeFileSync(
      file,
      'From: a@contoso.com\r\nTo: b@contoso.com\r\nSubject: =HYPERLINK("http://evil.example","Fax") | <b>x</b>\r\n\r\nx\r\n',
    );
    const csv = await runCli(['analyze', file, '--format', 'csv']);
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    expect(rows[0]!.subject!.startsWith("'=HYPERLINK")).toBe(true);
    const md = await runCli(['analyze', file, '--format', 'md']);
    expect(md.stdout).toContain('\\<b\\>x\\</b\\>');
    expect(md.stdout).not.toContain('<b>');
  });

  it('--explain adds what each finding means and what to do', async () => {
    const run = await runCli(['analyze', SPOOF, '-p', PROFILE, '--explain']);
    expect(run.stdout).toMatch(/DS204[^\n]*\n[^\n]*\n\s+means: Exchange’s composite authentication failed/);
    expect(run.stdout).toMatch(/do: {4}Block the source/);
  });
});
