/**
 * Same input, same output, whatever --jobs and the load of the machine: a mixed corpus (PDFs that take real
 * time to scan, several in one message, QR images and PDFs, archives, a hostile PDF, plain messages) analysed
 * by whole CLI processes under --jobs 1, 2 and 4, and under --jobs 4 again with a CPU hog beside it; the
 * outputs must be equal byte for byte.
 *
 * What would make it fail: a budget that reads a clock. The run differed on 21 of 7,908 messages
 * because the PDF budget was 3 s of wall-clock time shared by up to four messages per worker. The unit test
 * "budgets count work, not time" (hostile.test.ts) plants exactly that regression's trigger, a stalled decoder,
 * and this corpus carries a message of six heavy PDFs that a 10 s message budget would cut on a loaded machine.
 * Runs the built CLI (npm test builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distIsCurrent } from '../ingest/helpers.js';
import { nestedFormsPdf } from './hostile-fixtures.js';
import {
  directSendMessage,
  heavyPdf,
  imageOnlyPdf,
  makeZip,
  noticePdf,
  PHISH_URL,
  qrHtmlTable,
  qrOnlyPdf,
  qrPng,
} from './make-fixtures.js';

const DIR = 'test/fixtures/analyze';
const tmp = mkdtempSync(join(tmpdir(), 'dsguard-determinism-'));
const hogs: ChildProcess[] = [];
afterAll(() => {
  for (const h of hogs) h.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function pdfPart(name: string, body: Uint8Array) {
  return { contentType: 'application/pdf', filename: name, disposition: 'attachment' as const, body };
}

async function corpus(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const heavy = await heavyPdf(30);
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  write(
    'a-six-heavy-pdfs.eml',
    directSendMessage({
      subject: 'Scanned documents',
      text: 'Six scans attached.',
      parts: Array.from({ length: 6 }, (_, i) => pdfPart(`scan-${i + 1}.pdf`, heavy)),
    }),
  );
  write(
    'b-qr-pdf.eml',
    directSendMessage({ subject: 'New voicemail', parts: [pdfPart('Voicemail.pdf', await qrOnlyPdf(PHISH_URL))] }),
  );
  write(
    'c-notice.eml',
    directSendMessage({
      subject: 'Payroll update',
      text: 'Review and sign.',
      parts: [pdfPart('Notice.pdf', await noticePdf('https://payroll-contoso.example/x', 'https://sign.example/'))],
    }),
  );
  write(
    'd-heavy-and-qr.eml',
    directSendMessage({
      subject: 'Fax',
      parts: [
        pdfPart('fax-1.pdf', heavy),
        { contentType: 'image/png', filename: 'fax.png', disposition: 'attachment', body: await qrPng(PHISH_URL) },
        pdfPart('fax-2.pdf', heavy),
      ],
    }),
  );
  write('e-image-only.eml', directSendMessage({ subject: 'Scan', parts: [pdfPart('scan.pdf', await imageOnlyPdf())] }));
  write(
    'f-zip-and-table.eml',
    directSendMessage({
      subject: 'Invoice',
      html: `<p>Scan the QR code</p>${qrHtmlTable('https://invoice.example/pay')}`,
      parts: [
        {
          contentType: 'application/zip',
          filename: 'invoice.zip',
          disposition: 'attachment',
          body: makeZip([
            { name: '../readme.txt', data: Buffer.from('x') },
            { name: 'Invoice.pdf.exe', data: Buffer.from('MZ') },
          ]),
        },
      ],
    }),
  );
  write('g-nested-forms.eml', directSendMessage({ subject: 'Doc', parts: [pdfPart('doc.pdf', nestedFormsPdf())] }));
  for (const f of ['powershell-spoof-foreign-vps.eml', 'legit-scanner-spf-pass.eml', 'sendemail-voicemail-html.eml']) {
    copyFileSync(join(DIR, f), join(dir, `h-${f}`));
  }
  write('i-heavy-again.eml', directSendMessage({ subject: 'More scans', parts: [pdfPart('big.pdf', heavy)] }));
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; ms: number }> {
  const t = performance.now();
  const child = spawn(process.execPath, ['bin/dsguard.js', ...args], { env: { ...process.env, TZ: 'UTC' } });
  let stdout = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.resume();
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, ms: performance.now() - t })));
}

describe('determinism', () => {
  it('same bytes out under --jobs 1, 2, 4 and with a CPU hog beside it', async () => {
    expect(distIsCurrent(), 'dist/ is older than src/: build first').toBe(true);
    const dir = join(tmp, 'corpus');
    await corpus(dir);
    const args = ['analyze', dir, '--profile', join(DIR, 'contoso.yml'), '--format', 'ndjson', '--no-geoip'];
    const one = await cli([...args, '--jobs', '1']);
    const two = await cli([...args, '--jobs', '2']);
    const four = await cli([...args, '--jobs', '4']);
    // A busy loop beside it (one only: the test files running alongside must keep their own timing).
    hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const loaded = await cli([...args, '--jobs', '4']);
    for (const h of hogs) h.kill('SIGKILL');

    const results = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results).toHaveLength(11);
    // The corpus really exercises the PDF scanner: the six heavy PDFs were scanned to their page limit.
    const six = results.find((r) => r.input.endsWith('a-six-heavy-pdfs.eml'));
    expect(six.findings.filter((f: { code: string }) => f.code === 'DS419')).toHaveLength(1);
    expect(six.findings.find((f: { code: string }) => f.code === 'DS419').message).toContain(
      'only the first 10 of 30 pages were scanned (+5 more)',
    );
    expect(one.stdout).not.toContain('DS420');
    for (const run of [two, four, loaded]) {
      expect(run.code).toBe(one.code);
      expect(run.stdout).toBe(one.stdout);
    }
    console.log(
      `determinism: --jobs 1 ${one.ms.toFixed(0)} ms, 2 ${two.ms.toFixed(0)} ms, 4 ${four.ms.toFixed(0)} ms, 4 loaded ${loaded.ms.toFixed(0)} ms`,
    );
  }, 300_000);
});
