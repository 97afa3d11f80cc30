/**
 * Builds the content fixtures in code (qrcode, pdf-lib, jpeg-js): real PNG / JPEG / PDF / ZIP / TNEF bytes
 * wrapped in Direct Send shaped messages (anonymous, internal P1, PowerShell boundary) so the whole pipeline
 * runs on them. Deterministic: fixed dates, fixed ids, no randomness.
 */
import { deflateRawSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';
import QRCode from 'qrcode';
import { type AnalyzedMessage, analyzeMessage, isAnalyzeError } from '../../src/analyze/analyze.js';
import { createContentAnalyzer } from '../../src/content/content-analyzer.js';
import { createContentRule } from '../../src/core/rules/content.js';

/** Analyse a message in-process with the content analyser and rule, as `dsguard analyze` does (no profile). */
export async function analyzeWithContent(raw: string, input: string): Promise<AnalyzedMessage> {
  const r = await analyzeMessage(raw, {
    input,
    profile: null,
    analyzers: [createContentAnalyzer()],
    extraRules: [createContentRule()],
  });
  if (isAnalyzeError(r)) throw new Error(r.error);
  return r;
}

export const PHISH_URL = 'https://login.micros0ft-secure.example/owa/?u=joe@contoso.com';

export async function qrPng(text: string, scale = 4): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', scale, margin: 4, errorCorrectionLevel: 'M' });
}

/** QR modules (true = dark) without quiet zone. */
export function qrModules(text: string): boolean[][] {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const rows: boolean[][] = [];
  for (let y = 0; y < size; y++) {
    const row: boolean[] = [];
    for (let x = 0; x < size; x++) row.push(qr.modules.get(y, x) === 1);
    rows.push(row);
  }
  return rows;
}

export function qrJpeg(text: string, scale = 6): Buffer {
  const mods = qrModules(text);
  const quiet = 4;
  const size = (mods.length + quiet * 2) * scale;
  const data = Buffer.alloc(size * size * 4, 255);
  for (let y = 0; y < mods.length; y++) {
    for (let x = 0; x < mods.length; x++) {
      if (!mods[y]![x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const o = (((y + quiet) * scale + dy) * size + (x + quiet) * scale + dx) * 4;
          data[o] = 0;
          data[o + 1] = 0;
          data[o + 2] = 0;
        }
      }
    }
  }
  return jpeg.encode({ data, width: size, height: size }, 90).data;
}

export function qrHtmlTable(text: string): string {
  const rows = qrModules(text)
    .map(
      (r) =>
        `<tr>${r.map((d) => (d ? '<td bgcolor="#000000" width="4" height="4"></td>' : '<td width="4" height="4"></td>')).join('')}</tr>`,
    )
    .join('\n');
  return `<table cellpadding="0" cellspacing="0" border="0">${rows}</table>`;
}

const FIXED_DATE = new Date('2025-06-12T08:00:00Z');

async function newPdf(): Promise<PDFDocument> {
  const doc = await PDFDocument.create();
  doc.setCreationDate(FIXED_DATE);
  doc.setModificationDate(FIXED_DATE);
  doc.setProducer('dsguard tests');
  doc.setCreator('dsguard tests');
  return doc;
}

/** One page with only a QR image: the campaign's PDF. */
export async function qrOnlyPdf(text: string): Promise<Uint8Array> {
  const doc = await newPdf();
  const page = doc.addPage([612, 792]);
  const img = await doc.embedPng(await qrPng(text));
  page.drawImage(img, { x: 206, y: 400, width: 200, height: 200 });
  return doc.save({ useObjectStreams: false });
}

/** A branded notice: text, a QR image and a link annotation. */
export async function noticePdf(text: string, link: string): Promise<Uint8Array> {
  const doc = await newPdf();
  const page = doc.addPage([612, 792]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  page.drawText('Contoso Voice Services - you have a new voicemail (00:42).', { x: 60, y: 700, size: 14, font });
  page.drawText('Scan the QR code with your phone camera to listen to the message.', { x: 60, y: 670, size: 11, font });
  const img = await doc.embedPng(await qrPng(text));
  page.drawImage(img, { x: 206, y: 400, width: 200, height: 200 });
  const annot = doc.context.register(
    doc.context.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [60, 660, 500, 690],
      Border: [0, 0, 0],
      A: { Type: 'Action', S: 'URI', URI: PDFString.of(link) },
    }),
  );
  page.node.set(PDFName.of('Annots'), doc.context.obj([annot]));
  return doc.save({ useObjectStreams: false });
}

/** A PDF of a scanned document: one image, no text, no code. */
export async function imageOnlyPdf(): Promise<Uint8Array> {
  const doc = await newPdf();
  const page = doc.addPage([612, 792]);
  const w = 64;
  const h = 80;
  const data = Buffer.alloc(w * h * 4, 255);
  for (let y = 10; y < 70; y += 6) for (let x = 8; x < 56; x++) data.fill(40, (y * w + x) * 4, (y * w + x) * 4 + 3);
  const img = await doc.embedJpg(new Uint8Array(jpeg.encode({ data, width: w, height: h }, 80).data));
  page.drawImage(img, { x: 0, y: 0, width: 612, height: 792 });
  return doc.save({ useObjectStreams: false });
}

/** Many pages, each with a noise image and no code: a PDF that exhausts a page budget. */
export async function heavyPdf(pages: number): Promise<Uint8Array> {
  const doc = await newPdf();
  const w = 400;
  const h = 400;
  const data = Buffer.alloc(w * h * 4, 255);
  let seed = 7;
  for (let i = 0; i < w * h; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const v = seed & 255;
    data[i * 4] = v;
    data[i * 4 + 1] = v;
    data[i * 4 + 2] = v;
  }
  const img = await doc.embedJpg(new Uint8Array(jpeg.encode({ data, width: w, height: h }, 70).data));
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([612, 792]);
    page.drawImage(img, { x: 50, y: 200, width: 500, height: 500 });
  }
  return doc.save({ useObjectStreams: false });
}

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

export interface ZipMember {
  name: string;
  data: Uint8Array;
  encrypted?: boolean;
  /** Store deflated (default true). */
  deflate?: boolean;
  /** Uncompressed size written in the directory instead of the real one (a lying "bomb" header). */
  declaredSize?: number;
}

/** A minimal ZIP writer for fixtures (stored or deflated members; the encryption flag set on request). */
export function makeZip(members: ZipMember[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const deflate = m.deflate !== false;
    const body = deflate ? deflateRawSync(m.data) : Buffer.from(m.data);
    const flags = (m.encrypted ? 1 : 0) | 0x0800;
    const crc = crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(0x5a210000, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(m.declaredSize ?? m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(0x5a210000, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(m.declaredSize ?? m.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A TNEF stream (winmail.dat) with the given attachments (attAttachRendData, attAttachTitle, attAttachData). */
export function makeTnef(files: { name: string; data: Uint8Array }[]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(6);
  head.writeUInt32LE(0x223e9f78, 0);
  head.writeUInt16LE(0x0001, 4);
  parts.push(head);
  const attr = (level: number, id: number, data: Uint8Array) => {
    const h = Buffer.alloc(9);
    h[0] = level;
    h.writeUInt32LE(id, 1);
    h.writeUInt32LE(data.length, 5);
    let sum = 0;
    for (const b of data) sum = (sum + b) & 0xffff;
    const c = Buffer.alloc(2);
    c.writeUInt16LE(sum, 0);
    parts.push(h, Buffer.from(data), c);
  };
  attr(0x01, 0x00089006, Buffer.from([0x00, 0x00, 0x01, 0x00])); // attTnefVersion-ish message attribute
  for (const f of files) {
    attr(0x02, 0x00069002, Buffer.alloc(14)); // attAttachRendData
    attr(0x02, 0x00018010, Buffer.from(`${f.name}\0`, 'latin1')); // attAttachTitle
    attr(0x02, 0x0006800f, f.data); // attAttachData
  }
  return Buffer.concat(parts);
}

export interface Part {
  contentType: string;
  filename?: string;
  disposition?: 'attachment' | 'inline';
  contentId?: string;
  body: Uint8Array | string;
}

function b64(data: Uint8Array | string): string {
  const s = Buffer.from(data).toString('base64');
  return s.replace(/.{76}/g, '$&\r\n');
}

/** A Direct Send shaped message (anonymous, no connector, internal P1 and P2, PowerShell boundary). */
export function directSendMessage(opts: {
  subject: string;
  text?: string;
  html?: string;
  parts?: Part[];
  related?: boolean;
  ip?: string;
  helo?: string;
}): string {
  const ip = opts.ip ?? '139.28.36.230';
  const helo = opts.helo ?? '[127.0.0.1]';
  const boundary = 'boundary_0_3f1c2a8e-5b0d-4a4e-9b1a-2f6c7d8e9a01';
  const inner = 'boundary_1_9a7b6c5d-4e3f-4a2b-8c1d-0e9f8a7b6c5d';
  const lines: string[] = [
    `Received: from ${helo} (${ip}) by BN8NAM12FT056.mail.protection.outlook.com (10.13.182.172) with Microsoft SMTP Server id 15.20.8835.15 via Frontend Transport; Thu, 12 Jun 2025 08:00:01 +0000`,
    'Authentication-Results: spf=fail (sender IP is 139.28.36.230) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=fail action=none header.from=contoso.com;compauth=fail reason=601',
    'Received-SPF: Fail (protection.outlook.com: domain of contoso.com does not designate 139.28.36.230 as permitted sender)',
    `X-Forefront-Antispam-Report: CIP:${ip};CTRY:UA;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:${helo};PTR:InfoDomainNonexistent;CAT:SPOOF;SFTY:9.11;DIR:INB;`,
    'X-MS-Exchange-Organization-AuthAs: Anonymous',
    'X-MS-Exchange-Organization-MessageDirectionality: Incoming',
    'X-MS-Exchange-CrossTenant-FromEntityHeader: Internet',
    'X-MS-Exchange-CrossTenant-AuthAs: Anonymous',
    'X-MS-Exchange-CrossTenant-Id: 2f1c3a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b',
    'X-EOPTenantAttributedMessage: 2f1c3a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b:0',
    'Return-Path: joe@contoso.com',
    'MIME-Version: 1.0',
    'From: joe@contoso.com',
    'To: joe@contoso.com',
    'Date: 12 Jun 2025 08:00:00 +0000',
    `Subject: ${opts.subject}`,
    `Content-Type: multipart/${opts.related ? 'related' : 'mixed'}; boundary=${boundary}`,
    'Message-ID: <DS1PR00MB0001.fixture@contoso.com>',
    '',
  ];
  const body: string[] = [];
  if (opts.text !== undefined || opts.html !== undefined) {
    body.push(`--${boundary}`, `Content-Type: multipart/alternative; boundary=${inner}`, '');
    if (opts.text !== undefined) {
      body.push(
        `--${inner}`,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        b64(opts.text),
      );
    }
    if (opts.html !== undefined) {
      body.push(
        `--${inner}`,
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        b64(opts.html),
      );
    }
    body.push(`--${inner}--`);
  }
  for (const p of opts.parts ?? []) {
    body.push(`--${boundary}`);
    body.push(`Content-Type: ${p.contentType}${p.filename ? `; name="${p.filename}"` : ''}`);
    if (p.disposition)
      body.push(`Content-Disposition: ${p.disposition}${p.filename ? `; filename="${p.filename}"` : ''}`);
    if (p.contentId) body.push(`Content-ID: <${p.contentId}>`);
    body.push('Content-Transfer-Encoding: base64', '', b64(p.body));
  }
  body.push(`--${boundary}--`, '');
  return `${lines.join('\r\n')}\r\n${body.join('\r\n')}`;
}
