import { describe, expect, it } from 'vitest';
import type { SmtpReply } from '../../src/core/posture/probe-verdict.js';
import { DEFAULT_SMTP_LIMITS, ReplyReader } from '../../src/probe/smtp-probe.js';

/** The next reply, which must be one. */
async function reply(r: ReplyReader, timeoutMs: number): Promise<SmtpReply> {
  const next = await r.next(timeoutMs);
  if (next.status === 'error') throw new Error(`expected a reply, got ${next.kind}: ${next.error}`);
  return next.reply;
}

describe('SMTP reply parsing', () => {
  it('joins multiline replies and reads the enhanced code', async () => {
    const r = new ReplyReader(DEFAULT_SMTP_LIMITS);
    r.push('250-BN1PEPF0000467F.mail.protection.outlook.com Hello [1.2.3.4]\r\n250-SIZE 157286400\r\n250-PIPE');
    r.push('LINING\r\n250 STARTTLS\r\n550 5.7.68 TenantInboundAttribution; Direct Send not allowed\r\n');
    const ehlo = await reply(r, 100);
    expect(ehlo.code).toBe(250);
    expect(ehlo.lines).toEqual([
      'BN1PEPF0000467F.mail.protection.outlook.com Hello [1.2.3.4]',
      'SIZE 157286400',
      'PIPELINING',
      'STARTTLS',
    ]);
    const rej = await reply(r, 100);
    expect(rej).toMatchObject({ code: 550, enhanced: '5.7.68' });
  });
  it('fails (remote) on malformed lines, a code change inside a reply, and oversized replies', async () => {
    const a = new ReplyReader(DEFAULT_SMTP_LIMITS);
    a.push('hello there\r\n');
    expect(await a.next(100)).toMatchObject({
      status: 'error',
      kind: 'remote',
      error: expect.stringMatching(/malformed/),
    });
    const b = new ReplyReader(DEFAULT_SMTP_LIMITS);
    b.push('250-one\r\n251 two\r\n');
    expect(await b.next(100)).toMatchObject({
      status: 'error',
      kind: 'remote',
      error: expect.stringMatching(/code changed/),
    });
    const c = new ReplyReader({ ...DEFAULT_SMTP_LIMITS, maxLineBytes: 100 });
    c.push(`250 ${'x'.repeat(200)}`);
    expect(await c.next(100)).toMatchObject({
      status: 'error',
      kind: 'remote',
      error: expect.stringMatching(/longer than 100/),
    });
    const d = new ReplyReader({ ...DEFAULT_SMTP_LIMITS, maxReplyLines: 3 });
    d.push('250-a\r\n250-b\r\n250-c\r\n250-d\r\n');
    expect(await d.next(100)).toMatchObject({
      status: 'error',
      kind: 'remote',
      error: expect.stringMatching(/too long/),
    });
  });
  it('strips control characters from server text and times out when nothing comes', async () => {
    const r = new ReplyReader(DEFAULT_SMTP_LIMITS);
    r.push('220 evil\u001b[31m banner\u0007\r\n');
    expect((await reply(r, 100)).lines).toEqual(['evil[31m banner']);
    expect(await r.next(50)).toMatchObject({
      status: 'error',
      kind: 'remote',
      error: expect.stringMatching(/no reply within 50 ms/),
    });
  });
});
