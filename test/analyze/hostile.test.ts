/**
 * Hostile inputs end fast with a one-line error or a verdict: never a stack trace or a hang.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsguard-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The CLI imports a command's modules (and the IP data) on first use: load them before anything is timed.
beforeAll(async () => {
  await runCli(['analyze', 'samples/messages/powershell-spoof-foreign-vps.eml', '--format', 'json']);
});

/**
 * The CLI runs in this process: its CPU time (user + system), not wall-clock time, is what these bounds hold,
 * so a loaded machine (CI, parallel suites) cannot fail them while a quadratic path still would.
 */
async function timed(argv: string[]) {
  const before = process.cpuUsage();
  const run = await runCli(argv);
  const used = process.cpuUsage(before);
  return { ...run, ms: (used.user + used.system) / 1000 };
}

function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  const err = lines.filter((l) => l.startsWith('dsguard: '));
  expect(err).toHaveLength(1);
  expect(err[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('hostile input', () => {
  it('a 10 MB header block is refused quickly', async () => {
    const file = join(tmp, 'huge-headers.eml');
    const line = `X-Junk: ${'A'.repeat(990)}\r\n`;
    writeFileSync(file, `From: a@contoso.com\r\n${line.repeat(10_500)}\r\nbody\r\n`);
    const run = await timed(['analyze', file, '--format', 'json']);
    expect(run.code).toBe(3);
    expectOneLineError(run.stderr, /huge-headers\.eml: header block exceeds \d+ bytes/);
    expect(run.ms).toBeLessThan(1000);
  });

  it('50,000 Received lines are refused quickly', async () => {
    const file = join(tmp, 'received-storm.eml');
    const hop = 'Received: from a.example (1.2.3.4) by b.example with SMTP; Thu, 26 Nov 2026 08:14:09 +0000\r\n';
    writeFileSync(file, `${hop.repeat(50_000)}From: a@contoso.com\r\nTo: b@contoso.com\r\n\r\nx\r\n`);
    const run = await timed(['analyze', file]);
    expect(run.code).toBe(3);
    expectOneLineError(run.stderr, /received-storm\.eml: header block (has more than \d+ fields|exceeds \d+ bytes)/);
    expect(run.ms).toBeLessThan(1000);
  });

  it('50,000 short Received lines within the byte limit still end fast (field limit)', async () => {
    const file = join(tmp, 'received-short.eml');
    writeFileSync(file, `${'Received: x\r\n'.repeat(50_000)}From: a@contoso.com\r\n\r\nx\r\n`);
    const run = await timed(['analyze', file]);
    expect(run.code).toBe(3);
    expectOneLineError(run.stderr, /has more than \d+ fields/);
    expect(run.ms).toBeLessThan(1000);
  });

  it('a file over --max-message-bytes is refused before it is read whole', async () => {
    const file = join(tmp, 'big.eml');
    writeFileSync(file, `From: a@contoso.com\r\nTo: b@contoso.com\r\n\r\n${'x'.repeat(5000)}`);
    const run = await timed(['analyze', file, '--max-message-bytes', '1000']);
    expect(run.code).toBe(3);
    expectOneLineError(run.stderr, /big\.eml: file is \d+ bytes, over the 1000-byte limit/);
    // Header-only triage needs only the header block, so the same file is fine there.
    expect((await timed(['analyze', file, '--max-message-bytes', '1000', '--headers-only'])).code).toBe(0);
  });

  it('binary junk is refused with a one-line error', async () => {
    const file = join(tmp, 'junk.bin');
    const buf = Buffer.alloc(1 << 20);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
    writeFileSync(file, buf);
    const run = await timed(['analyze', file]);
    expect(run.code).toBe(3);
    expectOneLineError(run.stderr, /junk\.bin: not a mail message/);
    expect(run.ms).toBeLessThan(1000);
  });

  it('a truncated message (cut inside a folded header and inside MIME) still gets a verdict', async () => {
    const file = join(tmp, 'truncated.eml');
    writeFileSync(
      file,
      'Received: from WIN-1 (185.234.72.19) by x.mail.protection.outlook.com (10.0.0.1) with Microsoft SMTP Server id 1; Thu, 26 Nov 2026 08:14:09 +0000\r\nFrom: joe@contoso.com\r\nTo: joe@contoso.com\r\nContent-Type: multipart/mixed;\r\n boundary="b1"\r\n\r\n--b1\r\nContent-Type: application/pdf; name="Fax.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK',
    );
    const run = await timed(['analyze', file, '--format', 'json']);
    expect(run.code).toBe(0);
    const [r] = JSON.parse(run.stdout);
    expect(r.channel).toBe('unknown');
    expect(run.ms).toBeLessThan(1000);
  });

  it('a truncated Outlook .msg is refused with a one-line error', async () => {
    const file = join(tmp, 'cut.msg');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(600, 7)]),
    );
    const run = await timed(['analyze', file]);
    expect(run.code).toBe(3);
    expectOneLineError(run.stderr, /cut\.msg: not a readable Outlook \.msg/);
  });

  it('control characters and escapes in headers never reach the terminal', async () => {
    const file = join(tmp, 'escapes.eml');
    writeFileSync(
      file,
      'From: "\u001b[31mCEO\u001b[0m" <ceo@contoso.com>\r\nTo: joe@contoso.com\r\nSubject: \u001b]0;pwned\u0007 Fax \u202eexe.pdf\r\n\r\nx\r\n',
    );
    const run = await timed(['analyze', file]);
    expect(run.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(run.stdout).toContain('Fax');
  });
});
