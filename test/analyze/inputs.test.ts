/**
 * Input kinds: Outlook .msg (built here as a real OLE2 compound file), mbox, folders, stdin header paste,
 * detection by content rather than extension, and --headers-only.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CFB from 'cfb';
import { afterAll, describe, expect, it } from 'vitest';
import { type AnalyzeResult, analyzeInputs, isAnalyzeError } from '../../src/analyze/analyze.js';
import { loadProfile } from '../../src/config/profile-file.js';
import { createContentAnalyzer } from '../../src/content/content-analyzer.js';
import { PHISH_URL, qrPng } from '../content/make-fixtures.js';
import { runCli } from '../helpers/cli.js';

const DIR = 'test/fixtures/analyze';
const PROFILE = join(DIR, 'contoso.yml');
const tmp = mkdtempSync(join(tmpdir(), 'dsguard-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function headerBlock(file: string): string {
  return `${readFileSync(join(DIR, file), 'latin1').split('\r\n\r\n')[0]}\r\n`;
}

/** A minimal but real Outlook .msg: transport headers, subject, class, one attachment. */
function buildMsg(headers: string, attachment?: { name: string; mime: string; data: Buffer }): Buffer {
  const cfb = CFB.utils.cfb_new();
  const utf16 = (s: string) => Buffer.from(`${s}\0`, 'utf16le');
  CFB.utils.cfb_add(cfb, '/__substg1.0_007D001F', utf16(headers));
  CFB.utils.cfb_add(cfb, '/__substg1.0_0037001F', utf16('New Missed Fax-msg'));
  CFB.utils.cfb_add(cfb, '/__substg1.0_001A001F', utf16('IPM.Note'));
  CFB.utils.cfb_add(cfb, '/__properties_version1.0', Buffer.alloc(32));
  if (attachment) {
    const a = '/__attach_version1.0_#00000000';
    CFB.utils.cfb_add(cfb, `${a}/__substg1.0_3707001F`, utf16(attachment.name));
    CFB.utils.cfb_add(cfb, `${a}/__substg1.0_3704001F`, utf16(attachment.name.slice(0, 8)));
    CFB.utils.cfb_add(cfb, `${a}/__substg1.0_370E001F`, utf16(attachment.mime));
    CFB.utils.cfb_add(cfb, `${a}/__substg1.0_37010102`, attachment.data);
    CFB.utils.cfb_add(cfb, `${a}/__properties_version1.0`, Buffer.alloc(8));
  }
  return CFB.write(cfb, { type: 'buffer', fileType: 'cfb' }) as Buffer;
}

async function collect(paths: string[], headersOnly = false): Promise<AnalyzeResult[]> {
  const p = await loadProfile(PROFILE);
  if (p.status !== 'ok') throw new Error(p.error);
  const out: AnalyzeResult[] = [];
  for await (const r of analyzeInputs(paths, { profile: p.profile, headersOnly })) out.push(r);
  return out;
}

describe('input kinds', () => {
  it('reads an Outlook .msg through its transport headers, with attachments', async () => {
    const file = join(tmp, 'spoof.msg');
    writeFileSync(
      file,
      buildMsg(headerBlock('powershell-spoof-foreign-vps.eml'), {
        name: 'Play_VM-Now.html',
        mime: 'text/html',
        data: Buffer.from('<html></html>'),
      }),
    );
    const [r] = await collect([file]);
    if (!r || isAnalyzeError(r)) throw new Error(JSON.stringify(r));
    expect(r.channel).toBe('direct-send');
    expect(r.verdict).toBe('malicious');
    expect(r.attachments).toEqual([
      expect.objectContaining({ name: 'Play_VM-Now.html', contentType: 'text/html', size: 13 }),
    ]);
    expect(r.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['DS402', 'DS403', 'DS100']));
  });

  it('runs content analysis on .msg attachments (a QR code in a PNG)', async () => {
    const file = join(tmp, 'qr.msg');
    writeFileSync(
      file,
      buildMsg(headerBlock('powershell-spoof-foreign-vps.eml'), {
        name: 'VM.png',
        mime: 'image/png',
        data: await qrPng(PHISH_URL),
      }),
    );
    const p = await loadProfile(PROFILE);
    if (p.status !== 'ok') throw new Error(p.error);
    const out: AnalyzeResult[] = [];
    for await (const r of analyzeInputs([file], { profile: p.profile, analyzers: [createContentAnalyzer()] }))
      out.push(r);
    const [r] = out;
    if (!r || isAnalyzeError(r)) throw new Error(JSON.stringify(r));
    expect(r.attachments[0]?.qrUrls).toEqual([PHISH_URL]);
    expect(r.urls).toContainEqual({ url: PHISH_URL, location: 'qr-code' });
  });

  it('explains a .msg without transport headers instead of guessing', async () => {
    const cfb = CFB.utils.cfb_new();
    CFB.utils.cfb_add(cfb, '/__substg1.0_0037001F', Buffer.from('draft\0', 'utf16le'));
    CFB.utils.cfb_add(cfb, '/__properties_version1.0', Buffer.alloc(32));
    const file = join(tmp, 'draft.msg');
    writeFileSync(file, CFB.write(cfb, { type: 'buffer', fileType: 'cfb' }) as Buffer);
    const [r] = await collect([file]);
    expect(r && isAnalyzeError(r) && r.error).toMatch(/no transport headers/);
  });

  it('detects by content: a .txt holding an .eml and an .eml holding a .msg', async () => {
    const a = join(tmp, 'looks-like-text.txt');
    writeFileSync(a, readFileSync(join(DIR, 'python-smtplib-payroll-spoof.eml')));
    const b = join(tmp, 'really-a-msg.eml');
    writeFileSync(b, buildMsg(headerBlock('python-smtplib-payroll-spoof.eml')));
    const rs = await collect([a, b]);
    expect(rs.map((r) => (isAnalyzeError(r) ? r.error : r.channel))).toEqual(['direct-send', 'direct-send']);
  });

  it('numbers the messages of an mbox file#n and walks folders recursively in name order', async () => {
    const dir = join(tmp, 'export');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const msgs = ['powershell-spoof-foreign-vps.eml', 'authenticated-internal.eml', 'onprem-connector-hybrid.eml'];
    const mbox = msgs
      .map(
        (m) =>
          `From MAILER-DAEMON Thu Nov 26 08:14:09 2026\n${readFileSync(join(DIR, m), 'utf8').replace(/\r\n/g, '\n')}\n`,
      )
      .join('');
    writeFileSync(join(dir, 'sub', 'inbox.mbox'), mbox);
    writeFileSync(join(dir, 'a.eml'), readFileSync(join(DIR, 'mailing-list-relay.eml')));
    const rs = await collect([dir]);
    expect(rs.map((r) => [r.input.slice(dir.length + 1), isAnalyzeError(r) ? r.error : r.channel])).toEqual([
      ['a.eml', 'internal-spoof'],
      ['sub/inbox.mbox#1', 'direct-send'],
      ['sub/inbox.mbox#2', 'authenticated'],
      ['sub/inbox.mbox#3', 'connector'],
    ]);
  });

  it('reads a spoof whose header block holds a line of control bytes as the spoof it is, file or folder', async () => {
    const dir = join(tmp, 'control-bytes');
    mkdirSync(dir, { recursive: true });
    const eml = readFileSync(join(DIR, 'forged-authentication-results.eml'), 'latin1').split('\r\n');
    const junk = String.fromCharCode(
      ...Array.from({ length: 31 }, (_, i) => i + 1).filter((c) => c !== 10 && c !== 13),
    );
    // A line of control bytes (29 of them, four times) in the header block: 116 of the first 1,024 bytes.
    const spoofed = [...eml.slice(0, 2), junk.repeat(4), ...eml.slice(2)].join('\r\n');
    writeFileSync(join(dir, 'a.eml'), Buffer.from(spoofed, 'latin1'));
    writeFileSync(join(dir, 'b.bin'), Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 37) % 256)));
    const rs = await collect([join(dir, 'a.eml')]);
    expect(rs.map((r) => (isAnalyzeError(r) ? r.error : [r.channel, r.verdict]))).toEqual([
      ['direct-send', 'malicious'],
    ]);
    // In a folder: the spoof is read, the binary file is listed on stderr, with the reason.
    const cli = await runCli(['analyze', dir, '--profile', PROFILE, '--format', 'json', '--jobs', '1']);
    expect(JSON.parse(cli.stdout).map((r: { input: string; channel: string }) => [r.input, r.channel])).toEqual([
      [join(dir, 'a.eml'), 'direct-send'],
    ]);
    expect(cli.stderr).toBe(
      `dsguard: skipped ${join(dir, 'b.bin')}: not a mail message (no header fields; binary or unknown content)\n`,
    );
  });

  it('lists the entries of a folder it does not read (a symbolic link), never drops them', async () => {
    const dir = join(tmp, 'links');
    mkdirSync(join(dir, 'real'), { recursive: true });
    writeFileSync(join(dir, 'real', 'm.eml'), readFileSync(join(DIR, 'mailing-list-relay.eml')));
    symlinkSync(join(dir, 'real', 'm.eml'), join(dir, 'link.eml'));
    const skipped: string[] = [];
    const p = await loadProfile(PROFILE);
    if (p.status !== 'ok') throw new Error(p.error);
    const rs: AnalyzeResult[] = [];
    for await (const r of analyzeInputs([dir], {
      profile: p.profile,
      onSkip: (input, reason) => skipped.push(`${input.slice(dir.length + 1)}: ${reason}`),
    })) {
      rs.push(r);
    }
    expect(rs.map((r) => r.input.slice(dir.length + 1))).toEqual(['real/m.eml']);
    expect(skipped).toEqual(['link.eml: symbolic link: not followed (name its target instead)']);
  });

  it('reads header text pasted on stdin', async () => {
    const text = readFileSync(join(DIR, 'pasted-outlook-headers.txt'), 'utf8');
    const run = await runCli(['analyze', '-', '--profile', PROFILE, '--format', 'json'], text);
    expect(run.code).toBe(0);
    const [r] = JSON.parse(run.stdout);
    expect(r).toMatchObject({ input: '-', channel: 'direct-send', verdict: 'malicious', contentInspected: false });
    expect(r.findings.map((f: { code: string }) => f.code)).toContain('DS406');
  });

  it('--headers-only reads no attachment and says so', async () => {
    const [full] = await collect([join(DIR, 'html-attachment-double-extension.eml')]);
    const [fast] = await collect([join(DIR, 'html-attachment-double-extension.eml')], true);
    if (!full || !fast || isAnalyzeError(full) || isAnalyzeError(fast)) throw new Error('parse failed');
    expect(full.attachments.length).toBe(1);
    expect(fast.attachments).toEqual([]);
    expect(fast.findings.map((f) => f.code)).toContain('DS406');
    expect(fast.findings.map((f) => f.code)).not.toContain('DS404');
    expect(fast.channel).toBe(full.channel);
  });
});
