/**
 * Crafted hostile attachments, one per class of issue #14, built in code (never committed: some decode to
 * gigabytes). Each is wrapped in a Direct Send shaped message (or is an Outlook .msg itself) so the whole
 * pipeline runs on it. `writeHostileFixtures(dir, headers)` writes them all (test/content/sandbox.test.ts and
 * the figures in docs/security.md use it).
 *
 * - nested-forms.pdf: form XObjects, each drawing the next ten times, ten deep (10^10 operators, 2 KB).
 * - inflate-10g.pdf: a content stream that inflates to 10 GiB (10 MB).
 * - image-4g.pdf: an image stream that inflates to 4 GiB (4 MB).
 * - png-bomb.png: IHDR 100x100, IDAT inflating to 900 MB.
 * - cyclic-directory.msg, cyclic-minifat.msg, cyclic-ministream.msg, stream-2g.msg: real .msg files with one
 *   link of their compound file broken.
 * - traversal.zip: `../readme.txt` before `Invoice.pdf.exe`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import CFB from 'cfb';
import { directSendMessage, makeZip } from './make-fixtures.js';

const MIB = 1024 * 1024;

/**
 * A zlib stream (header, no checksum needed by PDF readers) that inflates to `total` zero bytes, built by
 * repeating one sync-flushed deflate block of 1 MiB: each copy decodes to the same 1 MiB of zeros.
 */
export function zerosZlib(total: number, fill = 0): Buffer {
  const block = deflateRawSync(Buffer.alloc(MIB, fill), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const copies = Math.floor(total / MIB);
  const rest = deflateRawSync(Buffer.alloc(total - copies * MIB, fill), { level: 9 });
  const parts: Buffer[] = [Buffer.from([0x78, 0xda])];
  for (let i = 0; i < copies; i++) parts.push(block);
  parts.push(rest, Buffer.from([0, 0, 0, 0]));
  return Buffer.concat(parts);
}

/** A PDF from object bodies (1-based), with a correct xref table. Streams are given as [dict, data]. */
export function buildPdf(objects: (string | [string, Buffer])[], rootNum = 1): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = chunks[0]!.length;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(offset);
    const parts =
      typeof o === 'string'
        ? [Buffer.from(`${i + 1} 0 obj\n${o}\nendobj\n`, 'latin1')]
        : [
            Buffer.from(`${i + 1} 0 obj\n${o[0].replace('LEN', String(o[1].length))}\nstream\n`, 'latin1'),
            o[1],
            Buffer.from('\nendstream\nendobj\n', 'latin1'),
          ];
    for (const p of parts) {
      chunks.push(p);
      offset += p.length;
    }
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`];
  for (const o of offsets) xref.push(`${String(o).padStart(10, '0')} 00000 n \n`);
  xref.push(`trailer\n<< /Size ${objects.length + 1} /Root ${rootNum} 0 R >>\nstartxref\n${offset}\n%%EOF\n`);
  chunks.push(Buffer.from(xref.join(''), 'latin1'));
  return Buffer.concat(chunks);
}

/** Ten levels of form XObjects, each drawing the next `fanout` times: fanout^depth operators. */
export function nestedFormsPdf(depth = 10, fanout = 10): Buffer {
  // 1 catalog, 2 pages, 3 page, 4.. forms (4 = level 0, drawn by the page).
  const objects: (string | [string, Buffer])[] = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X0 4 0 R >> >> /Contents 5 0 R >>',
  ];
  // Object 4 is the first form; 5 the page content; forms 6.. follow.
  const formNum = (level: number) => (level === 0 ? 4 : 5 + level);
  const draw = (name: string) => Buffer.from(Array.from({ length: fanout }, () => `q /${name} Do Q`).join('\n'));
  const form = (level: number): [string, Buffer] => {
    const last = level === depth - 1;
    const body = last ? Buffer.from('0 0 m 1 1 l S') : draw(`X${level + 1}`);
    const res = last ? '' : `/Resources << /XObject << /X${level + 1} ${formNum(level + 1)} 0 R >> >>`;
    return [`<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] ${res} /Length LEN >>`, body];
  };
  objects.push(form(0));
  objects.push(['<< /Length LEN >>', Buffer.from('q /X0 Do Q')]);
  for (let level = 1; level < depth; level++) objects.push(form(level));
  return buildPdf(objects);
}

/** One page whose content stream inflates to `bytes` bytes (of whitespace: zeros). */
export function inflatingContentPdf(bytes = 10 * 1024 * MIB): Buffer {
  return buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>',
    ['<< /Length LEN /Filter /FlateDecode >>', zerosZlib(bytes)],
  ]);
}

/** One page drawing an image whose stream inflates to `bytes` bytes. */
export function inflatingImagePdf(bytes = 4 * 1024 * MIB): Buffer {
  return buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>',
    ['<< /Length LEN >>', Buffer.from('q 612 0 0 792 0 0 cm /Im0 Do Q')],
    [
      '<< /Type /XObject /Subtype /Image /Width 4000 /Height 4000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length LEN >>',
      zerosZlib(bytes, 255),
    ],
  ]);
}

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG whose header says width x height (RGB, 8 bit) and whose IDAT inflates to `inflated` bytes. */
export function pngWithIdat(width: number, height: number, inflated: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zerosZlib(inflated)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A minimal real Outlook .msg (as test/analyze/inputs.test.ts builds it), with a body and one attachment. */
export function buildMsg(headers: string, attachment?: { name: string; mime: string; data: Buffer }): Buffer {
  const cfb = CFB.utils.cfb_new();
  const utf16 = (s: string) => Buffer.from(`${s}\0`, 'utf16le');
  CFB.utils.cfb_add(cfb, '/__substg1.0_007D001F', utf16(headers));
  CFB.utils.cfb_add(cfb, '/__substg1.0_0037001F', utf16('New Missed Fax-msg'));
  CFB.utils.cfb_add(cfb, '/__substg1.0_001A001F', utf16('IPM.Note'));
  CFB.utils.cfb_add(cfb, '/__substg1.0_1000001F', utf16('You have a new voicemail. Listen now.'));
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

/** The parts of a compound file a fixture breaks: where its FAT, mini FAT and directory entries are. */
function cfbLayout(b: Buffer) {
  const ss = 1 << b.readUInt16LE(30);
  const sector = (n: number) => (n + 1) * ss;
  const fatSectors: number[] = [];
  for (let i = 0; i < Math.min(109, b.readUInt32LE(44)); i++) fatSectors.push(b.readUInt32LE(76 + i * 4));
  const fatEntry = (n: number) => sector(fatSectors[Math.floor(n / (ss / 4))]!) + (n % (ss / 4)) * 4;
  const dirChain: number[] = [];
  for (let s = b.readUInt32LE(48); s !== 0xfffffffe && dirChain.length < 1000; s = b.readUInt32LE(fatEntry(s))) {
    dirChain.push(s);
  }
  const entry = (i: number) => sector(dirChain[Math.floor((i * 128) / ss)]!) + ((i * 128) % ss);
  const entries = (dirChain.length * ss) / 128;
  const miniFatEntry = (n: number) => sector(b.readUInt32LE(60)) + n * 4;
  return { ss, fatEntry, entry, entries, miniFatEntry };
}

export function msgVariants(headers: string): Record<string, Buffer> {
  const good = () =>
    buildMsg(headers, { name: 'Play_VM-Now.html', mime: 'text/html', data: Buffer.from('<html>voicemail</html>') });
  const out: Record<string, Buffer> = {};

  // A directory whose sibling links loop: entry 1's left sibling is entry 1's parent chain back to itself.
  {
    const b = good();
    const { entry, entries } = cfbLayout(b);
    for (let i = 1; i < entries; i++) {
      if (b[entry(i) + 66] !== 2) continue;
      b.writeUInt32LE(i, entry(i) + 68);
      break;
    }
    out['cyclic-directory.msg'] = b;
  }
  // A mini FAT chain that points back at its own start.
  {
    const b = good();
    const { entry, entries, miniFatEntry } = cfbLayout(b);
    for (let i = 1; i < entries; i++) {
      const o = entry(i);
      const size = b.readUInt32LE(o + 120);
      if (b[o + 66] === 2 && size > 64 && size < 4096) {
        const start = b.readUInt32LE(o + 116);
        const second = b.readUInt32LE(miniFatEntry(start));
        b.writeUInt32LE(start, miniFatEntry(second));
        break;
      }
    }
    out['cyclic-minifat.msg'] = b;
  }
  // The root entry's mini stream chain (in the FAT) loops.
  {
    const b = good();
    const { entry, fatEntry } = cfbLayout(b);
    const start = b.readUInt32LE(entry(0) + 116);
    let s = start;
    while (b.readUInt32LE(fatEntry(s)) !== 0xfffffffe) s = b.readUInt32LE(fatEntry(s));
    b.writeUInt32LE(start, fatEntry(s));
    out['cyclic-ministream.msg'] = b;
  }
  // A stream entry that declares 2 GB.
  {
    const b = good();
    const { entry, entries } = cfbLayout(b);
    for (let i = entries - 1; i > 0; i--) {
      const o = entry(i);
      if (b[o + 66] === 2 && b.readUInt32LE(o + 120) > 0) {
        b.writeUInt32LE(0x7ffffff0, o + 120);
        break;
      }
    }
    out['stream-2g.msg'] = b;
  }
  return out;
}

export const TRAVERSAL_ZIP_ENTRIES = ['../readme.txt', '/etc/cron.d/job', 'Invoice.pdf.exe'];

export function traversalZip(): Buffer {
  return makeZip(TRAVERSAL_ZIP_ENTRIES.map((name) => ({ name, data: Buffer.from(`content of ${name}`) })));
}

function message(name: string, contentType: string, body: Buffer): string {
  return directSendMessage({
    subject: 'New voicemail',
    text: 'You have a new voicemail. Open the attachment to listen.',
    parts: [{ contentType, filename: name, disposition: 'attachment', body }],
  });
}

/** Every hostile fixture as file name → bytes (.eml messages carrying the attachment, or .msg files). */
export function hostileFixtures(msgHeaders: string): Record<string, Buffer> {
  return {
    'nested-forms.eml': Buffer.from(message('Voicemail.pdf', 'application/pdf', nestedFormsPdf())),
    'inflate-10g.eml': Buffer.from(message('Statement.pdf', 'application/pdf', inflatingContentPdf())),
    'image-4g.eml': Buffer.from(message('Scan.pdf', 'application/pdf', inflatingImagePdf())),
    'png-bomb.eml': Buffer.from(message('Fax.png', 'image/png', pngWithIdat(100, 100, 900 * MIB))),
    'traversal-zip.eml': Buffer.from(message('Invoice.zip', 'application/zip', traversalZip())),
    ...msgVariants(msgHeaders),
  };
}

export function writeHostileFixtures(dir: string, msgHeaders: string): string[] {
  const files = hostileFixtures(msgHeaders);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return Object.keys(files).map((n) => join(dir, n));
}
