/**
 * The content analyser: walks every part of a parsed message (attachments, inline images, attached messages,
 * TNEF winmail.dat members, ZIP listings), decodes 2-D codes in images, PDF page images and HTML table grids,
 * collects URLs from bodies, HTML, PDF links and codes, and records what it could not look at. It only adds
 * facts to the evidence; the verdict comes from the pure rules (src/core/rules/content.ts).
 * @module
 */
import { createHash } from 'node:crypto';
import PostalMime, { type Attachment, type Email } from 'postal-mime';
import type { AttachmentInspection, ContentEvidence } from '../core/content-facts.js';
import type {
  AttachmentEvidence,
  DrawnTechnique,
  MessageEvidence,
  UrlEvidence,
  UrlLocation,
} from '../core/evidence.js';
import { boundValue, type EvidenceRef } from '../core/finding.js';
import type { ContentAnalyzer } from '../sources/rfc822.js';
import type { CodeDecoder, DecodedCode, DecodeResult, DecoderStop } from './code-decoder.js';
import { textDrawings } from './drawn-codes.js';
import { gridPixels } from './drawn-grid.js';
import { type Drawing, type HtmlScan, scanHtml, textBlockDrawing } from './html-inspect.js';
import { type ImageHeader, readImageHeader } from './image-header.js';
import { type ContentLimits, contentLimits } from './limits.js';
import type { PdfProblem } from './pdf-prescan.js';
import { type PdfScanResult, scanPdf } from './pdf-scan.js';
import { type ContentSandbox, type SandboxOutcome, sharedSandbox } from './sandbox.js';
import { isTnef, readTnef } from './tnef.js';
import { htmlToText, urlsFromHtml, urlsFromText } from './url-extract.js';
import { isZip, listZip } from './zip-listing.js';

export interface ContentAnalyzerOptions {
  limits?: Partial<ContentLimits>;
  /**
   * Injectable for tests: decode in-process with this decoder (PDFs too). By default every image, page image
   * and PDF is decoded in the content sandbox with the bundled zxing-wasm decoder.
   */
  decoder?: CodeDecoder;
  /** The sandbox to decode in (default: this thread's shared one). */
  sandbox?: ContentSandbox;
}

type GapCode = NonNullable<ContentEvidence['gaps'][number]['code']>;

function stopCode(stop: DecoderStop): GapCode {
  return stop.cause === 'deadline' ? 'DS420' : 'DS421';
}

function problemCode(problem: { kind: string }): GapCode {
  return problem.kind === 'bomb' ? 'DS423' : 'DS422';
}

function stoppedDecode(o: { cause: DecoderStop['cause']; detail: string }): DecodeResult {
  return {
    status: 'skipped',
    reason: `decoder ${o.detail}`,
    image: null,
    stopped: { cause: o.cause, detail: o.detail },
  };
}

/** A CodeDecoder that decodes in the sandbox. */
function sandboxDecoder(sandbox: ContentSandbox, maxImagePixels: number): CodeDecoder {
  return {
    async decodeImageFile(bytes) {
      const o = await sandbox.run({ op: 'decodeImage', bytes, maxImagePixels });
      return o.status === 'done' ? o.value : stoppedDecode(o);
    },
    async decodePixels(pixels) {
      const o = await sandbox.run({ op: 'decodePixels', pixels, maxImagePixels });
      return o.status === 'done' ? o.value : stoppedDecode(o);
    },
  };
}

type PdfScanner = (bytes: Uint8Array, maxImages: number) => Promise<SandboxOutcome<PdfScanResult>>;

const EXTENSION_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
  htm: 'text/html',
  html: 'text/html',
  shtml: 'text/html',
  svg: 'image/svg+xml',
  zip: 'application/zip',
  eml: 'message/rfc822',
  txt: 'text/plain',
  dat: 'application/octet-stream',
};

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml', 'image/svg+xml']);
const HTML_EXTENSIONS = new Set(['htm', 'html', 'shtml', 'xhtml', 'svg', 'svgz', 'mht', 'mhtml']);

function extensionOf(name: string | null): string {
  if (!name) return '';
  const dot = name.lastIndexOf('.');
  return dot >= 0
    ? name
        .slice(dot + 1)
        .toLowerCase()
        .trim()
    : '';
}

function bytesOf(content: Attachment['content']): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content);
  if (content instanceof ArrayBuffer) return new Uint8Array(content);
  return content;
}

function startsWithAscii(b: Uint8Array, text: string, within = 1): boolean {
  const limit = Math.min(b.length - text.length, within - 1);
  outer: for (let o = 0; o <= limit; o++) {
    for (let i = 0; i < text.length; i++) if (b[o + i] !== text.charCodeAt(i)) continue outer;
    return true;
  }
  return false;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** State of one message's analysis. */
class Walk {
  inspected = 0;
  imagesDecoded = 0;
  private readonly urlKeys = new Set<string>();
  private urlsDropped = 0;

  constructor(
    readonly ev: MessageEvidence,
    readonly content: ContentEvidence,
    readonly limits: ContentLimits,
    readonly decoder: CodeDecoder,
    readonly pdf: PdfScanner,
  ) {}

  gap(what: string, ref: EvidenceRef, code?: GapCode): void {
    if (this.content.gaps.length >= 50) return;
    this.content.gaps.push(code ? { what: boundValue(what, 300), ref, code } : { what: boundValue(what, 300), ref });
  }

  addUrl(url: string, location: UrlLocation, ref: EvidenceRef, drawn?: DrawnTechnique): void {
    const key = `${location} ${url}`;
    if (this.urlKeys.has(key)) return;
    if (this.ev.urls.length >= this.limits.maxUrls) {
      this.urlsDropped++;
      return;
    }
    this.urlKeys.add(key);
    const u: UrlEvidence = { url: boundValue(url, 2048), location, ref: { ...ref, value: boundValue(url) } };
    if (drawn) u.drawn = drawn;
    this.ev.urls.push(u);
  }

  finish(): void {
    if (this.urlsDropped > 0) {
      this.gap(`only the first ${this.limits.maxUrls} URLs were kept (${this.urlsDropped} more)`, {
        source: this.ev.input,
        field: 'urls',
        value: String(this.limits.maxUrls + this.urlsDropped),
      });
    }
  }

  /** Record decoded codes on the attachment and their URLs as `qr-code` URLs. */
  codes(att: AttachmentEvidence | null, codes: readonly DecodedCode[], where: string, drawn?: DrawnTechnique): void {
    for (const c of codes) {
      const text = boundValue(c.text, 2048);
      if (att && !att.qrUrls.includes(text) && att.qrUrls.length < 50) att.qrUrls.push(text);
      for (const url of urlsFromCode(text)) {
        this.addUrl(
          url,
          'qr-code',
          { source: this.ev.input, field: `${c.format} code`, value: url, location: where },
          drawn,
        );
      }
    }
  }
}

/** URLs a code payload leads to: the payload itself when it is a URL, else URLs written inside it. */
function urlsFromCode(text: string): string[] {
  const t = text.trim();
  if (/^https?:\/\/\S+$/i.test(t)) return [t];
  if (/^www\.[^\s/]+\.[a-z]{2,}\S*$/i.test(t)) return [`http://${t}`];
  return urlsFromText(t, 10);
}

export function createContentAnalyzer(options: ContentAnalyzerOptions = {}): ContentAnalyzer {
  const limits = contentLimits(options.limits);
  const budget = {
    maxDecodedBytes: limits.maxPdfDecodedBytes,
    maxStreamBytes: limits.maxPdfStreamBytes,
    maxOperators: limits.maxPdfOperators,
    maxXObjectDepth: limits.maxPdfFormDepth,
  };
  const injected = options.decoder;
  return {
    name: 'content analysis',
    async analyze(email: Email, ev: MessageEvidence): Promise<void> {
      let decoder: CodeDecoder;
      let pdf: PdfScanner;
      if (injected) {
        decoder = injected;
        pdf = async (bytes, maxImages) => ({
          status: 'done',
          value: await scanPdf(bytes, {
            decoder: injected,
            maxPages: limits.maxPdfPages,
            maxImagePixels: limits.maxImagePixels,
            maxImages,
            budget,
          }),
        });
      } else {
        const sandbox = options.sandbox ?? sharedSandbox();
        decoder = sandboxDecoder(sandbox, limits.maxImagePixels);
        pdf = (bytes, maxImages) =>
          sandbox.run({
            op: 'scanPdf',
            bytes,
            maxPages: limits.maxPdfPages,
            maxImagePixels: limits.maxImagePixels,
            maxImages,
            budget,
          });
      }
      const content: ContentEvidence = { bodyText: null, gaps: [] };
      ev.content = content;
      const walk = new Walk(ev, content, limits, decoder, pdf);
      await analyzeBodies(walk, email);
      const list = email.attachments;
      const count = Math.min(list.length, ev.attachments.length);
      for (let i = 0; i < count; i++) {
        const att = ev.attachments[i]!;
        const part = list[i]!;
        if (part.rfc822DepthExceeded) walk.gap('attached message nested too deeply: not opened', att.ref);
        await inspect(walk, att, bytesOf(part.content), 0);
      }
      walk.finish();
    },
  };
}

async function analyzeBodies(walk: Walk, email: Email): Promise<void> {
  const { ev, limits } = walk;
  const text = (email.text ?? '').slice(0, limits.maxTextChars);
  const html = (email.html ?? '').slice(0, limits.maxTextChars * 4);
  const bodyText = text.trim() ? text : htmlToText(html, limits.maxTextChars);
  if (bodyText.trim()) {
    walk.content.bodyText = {
      value: bodyText,
      ref: {
        source: ev.input,
        field: email.text ? 'body (text/plain)' : 'body (text/html)',
        value: boundValue(bodyText, 200),
      },
    };
  }
  if ((email.text?.length ?? 0) > limits.maxTextChars || (email.html?.length ?? 0) > limits.maxTextChars * 4) {
    walk.gap(`body longer than ${limits.maxTextChars} characters: only the start was scanned`, {
      source: ev.input,
      field: 'body',
      value: String(Math.max(email.text?.length ?? 0, email.html?.length ?? 0)),
    });
  }
  for (const url of urlsFromText(text, limits.maxUrls)) {
    walk.addUrl(url, 'body', { source: ev.input, field: 'body (text/plain)', value: url });
  }
  if (text) {
    const blocks = textDrawings(text);
    if (blocks.cut)
      walk.gap(`body (text/plain): ${blocks.cut}`, { source: ev.input, field: 'body (text/plain)', value: '' });
    await decodeDrawings(walk, null, blocks.grids.map(textBlockDrawing), 'body (text/plain)');
  }
  if (html) {
    const scan = scanHtml(html);
    for (const url of urlsFromHtml(html, limits.maxUrls, scan.linkValues)) {
      walk.addUrl(url, 'html', { source: ev.input, field: 'body (text/html)', value: url });
    }
    await decodeHtmlGrids(walk, null, scan, 'body (text/html)');
  }
}

async function decodeHtmlGrids(walk: Walk, att: AttachmentEvidence | null, scan: HtmlScan, where: string) {
  const ref = att?.ref ?? { source: walk.ev.input, field: where, value: '' };
  for (const cut of scan.cuts) walk.gap(`${where}: ${cut}`, ref);
  await decodeDrawings(walk, att, scan.drawings, where);
  await decodeDataImages(walk, att, scan.dataImages, where);
}

/** Decode inline `<img src="data:image/…;base64,…">` pictures, which mail parsers do not list as parts. */
async function decodeDataImages(walk: Walk, att: AttachmentEvidence | null, images: readonly string[], where: string) {
  const ref = att?.ref ?? { source: walk.ev.input, field: where, value: '' };
  for (let k = 0; k < images.length; k++) {
    const name = `inline data: image ${k + 1}`;
    if (walk.imagesDecoded >= walk.limits.maxImagesDecoded) {
      walk.gap(`${where}: over the limit of ${walk.limits.maxImagesDecoded} decoded images: ${name} not decoded`, ref);
      return;
    }
    walk.imagesDecoded++;
    const r = await walk.decoder.decodeImageFile(new Uint8Array(Buffer.from(images[k]!, 'base64')));
    if (r.status === 'ok') walk.codes(att, r.codes, `${where}, ${name}`);
    else undecodedGap(walk, r, r.image?.format, `${where}: ${name}`, ref);
  }
}

/**
 * The content gap for a picture the decoder did not read, when its result is partial: the decoder stopped
 * (DS420/DS421), the data was malformed or a bomb (DS422/DS423), or a WebP libwebp refused (DS419). A picture
 * skipped for an ordinary reason (a format not decoded, no pixels) is no gap.
 */
function undecodedGap(walk: Walk, r: DecodeResult, format: string | undefined, label: string, ref: EvidenceRef) {
  if (r.status === 'ok') return;
  if (r.stopped) walk.gap(`${label}: ${r.reason}`, ref, stopCode(r.stopped));
  else if (r.problem) walk.gap(`${label}: ${r.reason}`, ref, problemCode(r.problem));
  else if (format === 'webp') walk.gap(`${label}: ${r.reason}`, ref);
}

/** Decode drawn module grids (at most 5 a part, within the image-decode limit). */
async function decodeDrawings(walk: Walk, att: AttachmentEvidence | null, drawings: readonly Drawing[], where: string) {
  const ref = att?.ref ?? { source: walk.ev.input, field: where, value: '' };
  if (drawings.length > 5) walk.gap(`${where}: ${drawings.length} drawn grids, only the first 5 were decoded`, ref);
  for (let g = 0; g < Math.min(drawings.length, 5); g++) {
    if (walk.imagesDecoded >= walk.limits.maxImagesDecoded) {
      walk.gap(
        `${where}: over the limit of ${walk.limits.maxImagesDecoded} decoded images: drawn grids not decoded`,
        ref,
      );
      return;
    }
    walk.imagesDecoded++;
    const { grid, technique, how } = drawings[g]!;
    const r = await walk.decoder.decodePixels(gridPixels(grid));
    if (r.status === 'ok') walk.codes(att, r.codes, `${where}, ${how}`, technique);
    else if (r.stopped) {
      walk.gap(`${where}: drawn grid ${r.reason}`, ref, stopCode(r.stopped));
    }
  }
}

function nestedEvidence(
  walk: Walk,
  parent: AttachmentEvidence,
  name: string | null,
  contentType: string | null,
  bytes: Uint8Array,
  index: number,
  container: string,
): AttachmentEvidence {
  const boundedName = name ? boundValue(name, 255) : null;
  const type = (contentType || EXTENSION_TYPES[extensionOf(boundedName)] || 'application/octet-stream').toLowerCase();
  const location = `${parent.ref.location ?? 'part'} > ${container} #${index + 1}`;
  const att: AttachmentEvidence = {
    name: boundedName,
    contentType: type,
    size: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    disposition: null,
    qrUrls: [],
    ref: {
      source: walk.ev.input,
      field: 'attachment',
      value: `${boundedName ?? '(unnamed)'} (${type}, ${bytes.byteLength} bytes, inside ${container})`,
      location,
    },
  };
  walk.ev.attachments.push(att);
  return att;
}

/** An attachment whose inspection record exists. */
type Inspected = AttachmentEvidence & { inspection: AttachmentInspection };

/** Inspect one attachment: admit it under the walk's limits, then hand it to the step for its kind. */
async function inspect(walk: Walk, att: AttachmentEvidence, bytes: Uint8Array, depth: number): Promise<void> {
  const opened: Inspected = Object.assign(att, { inspection: att.inspection ?? { container: null, skipped: null } });
  if (!admit(walk, opened, bytes)) return;
  const ext = extensionOf(att.name);
  const type = att.contentType;
  const where = `${att.ref.location ?? 'part'} ${att.name ?? '(unnamed)'}`;
  const image = readImageHeader(bytes);
  if (image) return inspectImage(walk, opened, image, bytes, where);
  if (startsWithAscii(bytes, '%PDF-', 1024) || type === 'application/pdf')
    return inspectPdf(walk, opened, bytes, where);
  if (isZip(bytes)) return inspectZip(walk, opened, bytes);
  if (isTnef(bytes) || type === 'application/ms-tnef' || type === 'application/vnd.ms-tnef')
    return inspectTnef(walk, att, bytes, depth);
  if (type === 'message/rfc822' || ext === 'eml') return inspectAttachedMessage(walk, opened, bytes, depth);
  if (HTML_TYPES.has(type) || HTML_EXTENSIONS.has(ext) || looksLikeHtml(bytes))
    return inspectHtml(walk, opened, bytes, where);
  if (type.startsWith('text/')) inspectText(walk, bytes, where);
}

/** Count the attachment against the inspected-attachments limit and its size limit; false when it is not opened. */
function admit(walk: Walk, att: Inspected, bytes: Uint8Array): boolean {
  const { limits } = walk;
  const { inspection } = att;
  if (walk.inspected >= limits.maxInspected) {
    inspection.skipped = `over the limit of ${limits.maxInspected} inspected attachments`;
    if (walk.inspected === limits.maxInspected) walk.gap(inspection.skipped, att.ref);
    walk.inspected++;
    return false;
  }
  walk.inspected++;
  if (bytes.byteLength > limits.maxInspectBytes) {
    inspection.skipped = `larger than ${limits.maxInspectBytes} bytes: not opened`;
    walk.gap(inspection.skipped, att.ref);
    return false;
  }
  return true;
}

/** An image: its header's facts, then its codes (within the decoded-images limit). */
async function inspectImage(walk: Walk, att: Inspected, image: ImageHeader, bytes: Uint8Array, where: string) {
  const { limits } = walk;
  const { inspection } = att;
  inspection.image = { format: image.format, width: image.width, height: image.height };
  if (walk.imagesDecoded >= limits.maxImagesDecoded) {
    inspection.skipped = `over the limit of ${limits.maxImagesDecoded} decoded images`;
    walk.gap(inspection.skipped, att.ref);
    return;
  }
  walk.imagesDecoded++;
  const r = await walk.decoder.decodeImageFile(bytes);
  if (r.status === 'ok') walk.codes(att, r.codes, where);
  else {
    inspection.skipped = r.reason;
    undecodedGap(walk, r, image.format, `image ${att.name ?? '(unnamed)'}`, att.ref);
  }
}

/** A PDF, scanned in the sandbox: its facts, codes, links and URLs in its text; budget and errors as gaps. */
async function inspectPdf(walk: Walk, att: Inspected, bytes: Uint8Array, where: string): Promise<void> {
  const { inspection } = att;
  const outcome = await walk.pdf(bytes, Math.max(0, walk.limits.maxImagesDecoded - walk.imagesDecoded));
  const name = att.name ?? '(unnamed)';
  if (outcome.status === 'stopped') {
    inspection.skipped = `PDF decoder ${outcome.detail}`;
    walk.gap(`PDF ${name}: decoder ${outcome.detail}: result partial`, att.ref, stopCode(outcome));
    return;
  }
  const r = outcome.value;
  walk.imagesDecoded += r.facts.images;
  inspection.pdf = r.facts;
  for (const c of r.codes) {
    const how = c.vector ? `${where} page ${c.page}, ${c.vector}` : `${where} page ${c.page}`;
    walk.codes(att, [{ format: c.format, text: c.text }], how, c.vector ? 'pdf-vector' : undefined);
  }
  for (const l of r.links) {
    walk.addUrl(l.url, 'pdf', {
      source: walk.ev.input,
      field: 'PDF link',
      value: l.url,
      location: `${where} page ${l.page}`,
    });
  }
  for (const t of r.text) {
    for (const url of urlsFromText(t.text, 50)) {
      walk.addUrl(url, 'pdf', {
        source: walk.ev.input,
        field: 'PDF text',
        value: url,
        location: `${where} page ${t.page}`,
      });
    }
  }
  const problem: PdfProblem | null = r.problem;
  if (r.facts.budget) walk.gap(`PDF ${name}: ${r.facts.budget}`, att.ref, problem ? problemCode(problem) : undefined);
  if (r.facts.error) walk.gap(`PDF ${name}: ${r.facts.error}`, att.ref);
  if (r.facts.encrypted && problem?.kind !== 'encrypted')
    walk.gap(`PDF ${name} is password protected: not read`, att.ref);
}

/** A ZIP archive: its listing (within the entry, ratio and total limits). */
async function inspectZip(walk: Walk, att: Inspected, bytes: Uint8Array): Promise<void> {
  const { inspection } = att;
  inspection.archive = await listZip(bytes, {
    maxEntries: walk.limits.maxArchiveEntries,
    maxRatio: walk.limits.maxArchiveRatio,
    maxTotal: walk.limits.maxArchiveTotal,
  });
  if (inspection.archive.error) walk.gap(`archive ${att.name ?? '(unnamed)'}: ${inspection.archive.error}`, att.ref);
}

/** A TNEF container (winmail.dat): each member inspected as an attachment nested inside it. */
async function inspectTnef(walk: Walk, att: AttachmentEvidence, bytes: Uint8Array, depth: number): Promise<void> {
  const r = readTnef(bytes, { maxAttachments: 100 });
  if (r.error) walk.gap(`TNEF ${att.name ?? 'winmail.dat'}: ${r.error}`, att.ref);
  const container = att.name ?? 'winmail.dat';
  for (let k = 0; k < r.attachments.length; k++) {
    const member = r.attachments[k]!;
    const child = nestedEvidence(walk, att, member.name, null, member.data, k, container);
    child.inspection = { container, skipped: null };
    await inspect(walk, child, member.data, depth + 1);
  }
}

/** An HTML (or SVG) attachment: its facts, its URLs and form action, and codes drawn in it. */
async function inspectHtml(walk: Walk, att: Inspected, bytes: Uint8Array, where: string): Promise<void> {
  const { limits } = walk;
  const { inspection } = att;
  const html = textDecoder.decode(bytes.subarray(0, limits.maxTextChars * 4));
  const scan = scanHtml(html);
  inspection.html = scan.facts;
  for (const url of urlsFromHtml(html, limits.maxUrls, scan.linkValues)) {
    walk.addUrl(url, 'attachment', { source: walk.ev.input, field: 'attachment HTML', value: url, location: where });
  }
  if (inspection.html.formAction && /^https?:\/\//i.test(inspection.html.formAction)) {
    walk.addUrl(inspection.html.formAction, 'attachment', {
      source: walk.ev.input,
      field: 'attachment form action',
      value: inspection.html.formAction,
      location: where,
    });
  }
  await decodeHtmlGrids(walk, att, scan, where);
}

/** A text attachment: the URLs written in it. */
function inspectText(walk: Walk, bytes: Uint8Array, where: string): void {
  const text = textDecoder.decode(bytes.subarray(0, walk.limits.maxTextChars));
  for (const url of urlsFromText(text, walk.limits.maxUrls)) {
    walk.addUrl(url, 'attachment', { source: walk.ev.input, field: 'attachment text', value: url, location: where });
  }
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = textDecoder.decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  return (
    head.startsWith('<!doctype html') ||
    head.startsWith('<html') ||
    head.startsWith('<svg') ||
    (head.startsWith('<?xml') && head.includes('<svg'))
  );
}

async function inspectAttachedMessage(walk: Walk, att: Inspected, bytes: Uint8Array, depth: number) {
  const container = att.name ?? 'attached message';
  if (depth >= walk.limits.maxMessageDepth) {
    att.inspection.skipped = `attached message nested deeper than ${walk.limits.maxMessageDepth}: not opened`;
    walk.gap(att.inspection.skipped, att.ref);
    return;
  }
  let inner: Email;
  try {
    inner = await PostalMime.parse(bytes, {
      attachmentEncoding: 'arraybuffer',
      maxNestingDepth: 50,
      maxHeadersSize: 2 * 1024 * 1024,
      maxRfc822NestingDepth: Math.max(0, walk.limits.maxMessageDepth - depth - 1),
    });
  } catch (error) {
    att.inspection.skipped = `attached message could not be parsed: ${error instanceof Error ? error.message : String(error)}`;
    walk.gap(att.inspection.skipped, att.ref);
    return;
  }
  const where = `${att.ref.location ?? 'part'} ${container}`;
  for (const url of urlsFromText((inner.text ?? '').slice(0, walk.limits.maxTextChars), walk.limits.maxUrls)) {
    walk.addUrl(url, 'attachment', {
      source: walk.ev.input,
      field: 'attached message body',
      value: url,
      location: where,
    });
  }
  if (inner.html) {
    const html = inner.html.slice(0, walk.limits.maxTextChars * 4);
    for (const url of urlsFromHtml(html, walk.limits.maxUrls, scanHtml(html).linkValues)) {
      walk.addUrl(url, 'attachment', {
        source: walk.ev.input,
        field: 'attached message HTML',
        value: url,
        location: where,
      });
    }
  }
  for (let k = 0; k < inner.attachments.length; k++) {
    if (walk.inspected >= walk.limits.maxInspected) {
      walk.gap(`attached message ${container}: ${inner.attachments.length - k} parts not inspected (limit)`, att.ref);
      return;
    }
    const part = inner.attachments[k]!;
    const data = bytesOf(part.content);
    const child = nestedEvidence(walk, att, part.filename, part.mimeType, data, k, container);
    child.inspection = { container, skipped: null };
    if (part.rfc822DepthExceeded) walk.gap('attached message nested too deeply: not opened', child.ref);
    await inspect(walk, child, data, depth + 1);
  }
}
