/**
 * The probe against a real SMTP server on 127.0.0.1 answering like Exchange Online, with the smart host found
 * through the real DNS test server (probe.test → probe-test.mail.protection.outlook.com → 127.0.0.1).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemResolver } from '../../src/net/dns.js';
import { type ProbeOptions, type ProbeReport, probeDomain as probeResult } from '../../src/probe/probe.js';

/** The report of a probe whose arguments are valid (fails the test otherwise). */
async function probeDomain(opts: ProbeOptions): Promise<ProbeReport> {
  const r = await probeResult(opts);
  if (r.status === 'error') throw new Error(`unexpected ${r.kind} failure: ${r.error}`);
  return r.report;
}

import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';
import { REPLIES, type Script, startExoSmtp } from './exo-smtp-server.js';

let dns: DnsTestServer;
let resolver: SystemResolver;

beforeAll(async () => {
  dns = await startDnsServer(loadZones('test/fixtures/dns'));
  resolver = new SystemResolver({ server: dns.address, timeoutMs: 2000, tries: 1 });
});
afterAll(async () => {
  await dns.close();
});

const base = {
  domain: 'probe.test',
  from: 'ceo@probe.test',
  to: 'it-test@probe.test',
  ehloName: 'probe-client.test',
  timeoutMs: 3000,
};

async function run(script: Script, extra: { sendCanary?: boolean; starttls?: boolean } = {}) {
  const smtp = await startExoSmtp(script);
  try {
    const report = await probeDomain({
      ...base,
      resolver,
      smtpPort: smtp.port,
      canaryId: 'a1b2c3d4e5f6',
      now: () => new Date('2026-11-27T10:00:00Z'),
      ...extra,
    });
    return { report, received: smtp.received };
  } finally {
    await smtp.close();
  }
}

describe('dsguard probe', () => {
  it('accepted at RCPT without DATA is not conclusive, and nothing is sent', async () => {
    const { report, received } = await run('accept');
    expect(report.smartHost).toBe('probe-test.mail.protection.outlook.com');
    expect(report.smartHostSource).toBe('mx');
    expect(report).toMatchObject({ stage: 'rcpt', result: 'accepted', exposed: null, conclusive: false });
    expect(report.findings.map((f) => f.code)).toEqual(['DS801']);
    expect(received.messages).toEqual([]);
    expect(received.mailFrom).toEqual(['ceo@probe.test']);
    expect(received.secure).toEqual([true]);
    expect(report.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(report.transcript).toContain('C: STARTTLS');
    expect(report.transcript.at(-2)).toBe('C: QUIT');
    // Multiline EHLO replies are read in full.
    expect(report.transcript.filter((l) => l.startsWith('S: 250-')).length).toBeGreaterThan(2);
  });

  it('with --send-canary an accepted message is conclusive: exposed', async () => {
    const { report, received } = await run('accept', { sendCanary: true });
    expect(report).toMatchObject({ stage: 'data', result: 'accepted', exposed: true, conclusive: true });
    expect(report.reply).toBe(`250 ${REPLIES.queued}`);
    expect(report.findings.map((f) => f.code)).toEqual(['DS800']);
    const msg = received.messages[0]!;
    expect(msg).toContain('Subject: [dsguard probe] Direct Send test a1b2c3d4e5f6\r\n');
    expect(msg).toContain('X-Dsguard-Probe: a1b2c3d4e5f6\r\n');
    expect(msg).toContain('Content-Type: text/plain; charset=us-ascii');
    expect(msg).not.toMatch(/<html|Content-Disposition|multipart/i);
    // The transcript never carries the message itself.
    expect(report.transcript.some((l) => l.includes('Direct Send test'))).toBe(false);
    expect(report.transcript).toContain('C: .');
  });

  it('5.7.68 at RCPT: RejectDirectSend is on', async () => {
    const { report } = await run('reject-direct-send-rcpt');
    expect(report).toMatchObject({ stage: 'rcpt', result: 'rejected-direct-send', exposed: false, conclusive: true });
    expect(report.reply).toBe(`550 ${REPLIES.directSend}`);
    expect(report.findings.map((f) => f.code)).toEqual(['DS802']);
  });

  it('5.7.68 at MAIL FROM is recognised too', async () => {
    const { report } = await run('reject-direct-send-mail');
    expect(report).toMatchObject({ stage: 'mail', result: 'rejected-direct-send', exposed: false });
  });

  it('5.7.68 after DATA of the canary', async () => {
    const { report, received } = await run('reject-direct-send-data', { sendCanary: true });
    expect(report).toMatchObject({ stage: 'data', result: 'rejected-direct-send', exposed: false, conclusive: true });
    expect(received.messages).toHaveLength(1);
  });

  it('5.4.1 recipient unknown (DBEB)', async () => {
    const { report } = await run('recipient-unknown');
    expect(report).toMatchObject({ stage: 'rcpt', result: 'rejected-recipient', exposed: null });
    expect(report.findings.map((f) => f.code)).toEqual(['DS803']);
  });

  it('451 4.7.500 throttling at connect', async () => {
    const { report, received } = await run('throttle-connect');
    expect(report).toMatchObject({ stage: 'connect', result: 'rejected-other', exposed: null });
    expect(report.reply).toBe(`451 ${REPLIES.throttle}`);
    expect(report.findings.map((f) => f.code)).toEqual(['DS805']);
    expect(received.mailFrom).toEqual([]);
  });

  it('other 5.7.x policy rejections', async () => {
    const { report } = await run('policy-rcpt');
    expect(report).toMatchObject({ result: 'rejected-other', exposed: null });
    expect(report.findings[0]?.code).toBe('DS804');
  });

  it('no STARTTLS offered: probes in clear and says so', async () => {
    const { report, received } = await run('no-starttls');
    expect(report.tls).toBeNull();
    expect(received.secure).toEqual([false]);
    expect(report.findings.map((f) => f.code)).toEqual(['DS801', 'DS807']);
  });

  it('connection refused', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const port = (free.address() as { port: number }).port;
    await new Promise<void>((r) => free.close(() => r()));
    const report = await probeDomain({ ...base, resolver, smtpPort: port });
    expect(report).toMatchObject({ stage: 'connect', result: 'error', exposed: null, reply: 'connection refused' });
    expect(report.findings.map((f) => f.code)).toEqual(['DS806']);
  });

  it('a server that never answers times out', async () => {
    const silent = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const report = await probeDomain({ ...base, resolver, smtpPort: port, timeoutMs: 200 });
      expect(report).toMatchObject({ stage: 'connect', result: 'error' });
      expect(report.reply).toMatch(/no reply within/);
    } finally {
      silent.close();
    }
  });

  it('refuses a recipient outside the probed domain and addresses that could inject commands', async () => {
    const refused = async (o: Partial<ProbeOptions>) => await probeResult({ ...base, resolver, ...o });
    expect(await refused({ to: 'someone@other.test' })).toMatchObject({ status: 'error', kind: 'usage' });
    expect(await refused({ to: 'a@probe.test>\r\nDATA' })).toMatchObject({ kind: 'usage', error: /not a plain/ });
    expect(await refused({ from: 'x y@probe.test' })).toMatchObject({ kind: 'usage', error: /--from/ });
    expect(await refused({ ehloName: 'host\r\nRCPT TO:<x@y.test>' })).toMatchObject({ kind: 'usage', error: /--ehlo/ });
  });

  it('no smart host in DNS is an error result, not an exception', async () => {
    const report = await probeDomain({ ...base, domain: 'spf-missing.test', to: 'a@spf-missing.test', resolver });
    expect(report.result).toBe('error');
    expect(report.explanation).toMatch(/no Exchange Online smart host resolves/);
  });
});
