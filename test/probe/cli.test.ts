/** `dsguard probe` end to end, in-process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';
import { startExoSmtp } from './exo-smtp-server.js';

let dns: DnsTestServer;
beforeAll(async () => {
  dns = await startDnsServer(loadZones('test/fixtures/dns'));
});
afterAll(async () => {
  await dns.close();
});

describe('dsguard probe', () => {
  it('JSON has the documented fields; 5.7.68 is conclusive', async () => {
    const smtp = await startExoSmtp('reject-direct-send-rcpt');
    try {
      const r = await runCli([
        'probe',
        'probe.test',
        '--from',
        'ceo@probe.test',
        '--to',
        'it@probe.test',
        '--smtp-port',
        String(smtp.port),
        '--dns-server',
        dns.address,
        '--format',
        'json',
      ]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({
        domain: 'probe.test',
        smartHost: 'probe-test.mail.protection.outlook.com',
        stage: 'rcpt',
        result: 'rejected-direct-send',
        exposed: false,
      });
      expect(j.reply).toMatch(/^550 5\.7\.68 TenantInboundAttribution/);
      expect(Array.isArray(j.transcript)).toBe(true);
    } finally {
      await smtp.close();
    }
  });

  it('--send-canary on an open tenant: exposed, and --fail-on high exits 1', async () => {
    const smtp = await startExoSmtp('accept');
    try {
      const r = await runCli([
        'probe',
        'probe.test',
        '--from',
        'ceo@probe.test',
        '--to',
        'it@probe.test',
        '--smtp-host',
        '127.0.0.1',
        '--smtp-port',
        String(smtp.port),
        '--send-canary',
        '--fail-on',
        'high',
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('Exposed     YES — Direct Send is open');
      expect(smtp.received.messages).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });

  it('refuses --to outside the domain (exit 2) and reports a failed connection (exit 3)', async () => {
    const bad = await runCli([
      'probe',
      'probe.test',
      '--from',
      'a@probe.test',
      '--to',
      'b@elsewhere.test',
      '--smtp-host',
      '127.0.0.1',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to must be an address in probe.test');
    expect((await runCli(['probe', 'probe.test', '--from', 'a@probe.test'])).code).toBe(2);
    const down = await runCli([
      'probe',
      'probe.test',
      '--from',
      'a@probe.test',
      '--to',
      'b@probe.test',
      '--smtp-host',
      '127.0.0.1',
      '--smtp-port',
      '1',
      '--format',
      'json',
    ]);
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stdout)).toMatchObject({ result: 'error', stage: 'connect', exposed: null });
  });
});
