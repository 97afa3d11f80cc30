/**
 * PDF attachments: page images (for QR codes), link annotations and text URLs, with pdfjs-dist's legacy build
 * in Node. Nothing is fetched: pdfjs runs its worker code in-process (a "fake worker" imported from the
 * installed package), fonts and eval are disabled. pdfjs builds a page's operator list synchronously, so the
 * work is bounded before it is handed anything: the pre-scan (pdf-prescan.ts) decodes every stream under a
 * decoded-bytes cap and counts the operators each page expands to; a file over a budget is not handed over,
 * a page over it is skipped. Then a page count, an image count and an image size. Every budget counts work,
 * never time, so the result is the same on any machine and under any load; whatever a budget cut off is
 * reported in `facts.budget` (and `problem`). The wall-clock deadline lives outside, in the sandbox.
 * @module
 */
import type { PdfFacts } from '../core/content-facts.js';
import type { CodeDecoder, DecodedCode, Pixels } from './code-decoder.js';
import { gridPixels } from './drawn-grid.js';
import { DEFAULT_PDF_BUDGET, type PdfBudget, type PdfProblem, prescanPdf } from './pdf-prescan.js';
import { vectorDrawing } from './pdf-vector.js';

export interface PdfScanOptions {
  decoder: CodeDecoder;
  maxPages: number;
  maxImagePixels: number;
  /** Most page images decoded in this PDF. */
  maxImages: number;
  /** Decoded bytes, operators and nesting (defaults: DEFAULT_PDF_BUDGET). */
  budget?: Partial<Omit<PdfBudget, 'maxImagePixels'>>;
}

export interface PdfCode extends DecodedCode {
  page: number;
  /** Set when the code was drawn with vector paths (no image): how, for the evidence location. */
  vector?: string;
}

export interface PdfUrl {
  url: string;
  page: number;
}

export interface PdfScanResult {
  facts: PdfFacts;
  codes: PdfCode[];
  links: PdfUrl[];
  /** The text of the scanned pages (bounded), for URL extraction by the caller. */
  text: { page: number; text: string }[];
  /** The first work budget (or decompression bomb, or encryption) that kept part of the PDF from pdfjs. */
  problem: PdfProblem | null;
}

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjsPromise: Promise<PdfJs> | null = null;

function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsPromise;
}

const MAX_TEXT_PER_PAGE = 100_000;

function emptyFacts(): PdfFacts {
  return {
    pages: 0,
    pagesScanned: 0,
    textChars: 0,
    images: 0,
    links: 0,
    codes: 0,
    budget: null,
    encrypted: false,
    error: null,
  };
}

interface PdfImageObject {
  width?: number;
  height?: number;
  kind?: number;
  data?: Uint8Array | Uint8ClampedArray;
}

/** pdfjs ImageKind: 1 = 1 bit grey (bit set = white), 2 = RGB, 3 = RGBA. Image masks are 1 bit too. */
function toPixels(img: PdfImageObject, isMask: boolean): Pixels | null {
  const { width, height, data } = img;
  if (!width || !height || !data) return null;
  const kind = isMask ? 1 : img.kind;
  if (kind === 3) return { data, width, height, channels: 4 };
  if (kind === 2) return { data, width, height, channels: 3 };
  if (kind === 1) {
    const rowBytes = (width + 7) >> 3;
    if (data.length < rowBytes * height) return null;
    const out = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = ((data[y * rowBytes + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1;
        out[y * width + x] = bit ? 255 : 0;
      }
    }
    return { data: out, width, height, channels: 1 };
  }
  return null;
}

/** A page's text from its text items (bounded). */
function pageText(items: readonly { str?: string; hasEOL?: boolean }[]): string {
  let text = '';
  for (const item of items) {
    if (typeof item.str !== 'string') continue;
    text += item.str + (item.hasEOL ? '\n' : ' ');
    if (text.length > MAX_TEXT_PER_PAGE) break;
  }
  return text.slice(0, MAX_TEXT_PER_PAGE);
}

/** Decode a code drawn with vector paths on page `n`, if any; `true` when a drawing was handed to the decoder. */
async function vectorCodes(
  ops: Parameters<typeof vectorDrawing>[0],
  OPS: Parameters<typeof vectorDrawing>[1],
  n: number,
  imagesDecoded: number,
  opts: PdfScanOptions,
  result: PdfScanResult,
): Promise<boolean> {
  const v = vectorDrawing(ops, OPS);
  if (v.cut) result.facts.budget ??= `page ${n}: ${v.cut}`;
  if (!v.grid) return false;
  if (imagesDecoded >= opts.maxImages) {
    result.facts.budget ??= `only the first ${opts.maxImages} page images were decoded`;
    return false;
  }
  const r = await opts.decoder.decodePixels(gridPixels(v.grid));
  const vector = `vector paths drawn as a ${v.grid.rows.length}-row grid`;
  if (r.status === 'ok') for (const c of r.codes) result.codes.push({ ...c, page: n, vector });
  return true;
}

/**
 * Scan a PDF. Never throws for a bad PDF: a corrupt, encrypted or oversized document comes back with
 * `facts.error` / `facts.encrypted` / `facts.budget` set.
 */
export async function scanPdf(bytes: Uint8Array, opts: PdfScanOptions): Promise<PdfScanResult> {
  const facts = emptyFacts();
  const result: PdfScanResult = { facts, codes: [], links: [], text: [], problem: null };
  const budget: PdfBudget = { ...DEFAULT_PDF_BUDGET, ...opts.budget, maxImagePixels: opts.maxImagePixels };
  const pre = prescanPdf(bytes, budget);
  if (pre.problem) {
    result.problem = pre.problem;
    facts.budget = `${pre.problem.what}: not scanned`;
    if (pre.problem.kind === 'encrypted') facts.encrypted = true;
    return result;
  }
  const pdfjs = await loadPdfJs();
  // pdfjs takes ownership of (and may detach) the buffer it is given: hand it a copy.
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes),
    verbosity: pdfjs.VerbosityLevel.ERRORS,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    maxImageSize: opts.maxImagePixels,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    enableXfa: false,
  });
  const cut = (problem: PdfProblem, text: string) => {
    result.problem ??= problem;
    facts.budget ??= text;
  };
  try {
    const doc = await task.promise;
    facts.pages = doc.numPages;
    const decoded = new Set<string>();
    let imagesDecoded = 0;
    let operators = 0;
    const pageCount = Math.min(doc.numPages, opts.maxPages);
    for (let n = 1; n <= pageCount; n++) {
      const page = await doc.getPage(n);
      const cost = pre.pageCost(page.ref?.num ?? -1);
      if ('problem' in cost) {
        cut(cost.problem, `page ${n}: ${cost.problem.what}: not scanned`);
        continue;
      }
      if (operators + cost.ops > budget.maxOperators) {
        cut(
          { kind: 'budget', what: `operator budget of ${budget.maxOperators} reached` },
          `operator budget of ${budget.maxOperators} reached: pages ${n}-${pageCount} not scanned`,
        );
        break;
      }
      operators += cost.ops;
      const ops = await page.getOperatorList();
      const imagesBefore = facts.images;
      for (let i = 0; i < ops.fnArray.length; i++) {
        const fn = ops.fnArray[i];
        const isMask = fn === pdfjs.OPS.paintImageMaskXObject;
        if (fn !== pdfjs.OPS.paintImageXObject && fn !== pdfjs.OPS.paintInlineImageXObject && !isMask) continue;
        facts.images++;
        const arg = (ops.argsArray[i] as unknown[] | undefined)?.[0];
        let img: PdfImageObject | null = null;
        if (typeof arg === 'string') {
          if (decoded.has(arg)) continue;
          decoded.add(arg);
          const store = arg.startsWith('g_') ? page.commonObjs : page.objs;
          img = await new Promise<PdfImageObject>((resolve) => store.get(arg, resolve as (d: unknown) => void));
        } else if (arg && typeof arg === 'object') {
          img = arg as PdfImageObject;
        }
        if (!img) continue;
        if (imagesDecoded >= opts.maxImages) {
          facts.budget ??= `only the first ${opts.maxImages} page images were decoded`;
          continue;
        }
        const pixels = toPixels(img, isMask);
        if (!pixels) continue;
        imagesDecoded++;
        const r = await opts.decoder.decodePixels(pixels);
        if (r.status === 'ok') {
          for (const c of r.codes) result.codes.push({ ...c, page: n });
        }
      }
      // No image on the page: a code may be drawn with filled vector paths.
      if (facts.images === imagesBefore && (await vectorCodes(ops, pdfjs.OPS, n, imagesDecoded, opts, result))) {
        imagesDecoded++;
      }
      const annotations = await page.getAnnotations({ intent: 'display' });
      for (const a of annotations as { subtype?: string; url?: string; unsafeUrl?: string }[]) {
        const url = a.url ?? a.unsafeUrl;
        if (a.subtype === 'Link' && typeof url === 'string' && url.length > 0) {
          result.links.push({ url: url.slice(0, 4096), page: n });
        }
      }
      const text = pageText((await page.getTextContent()).items as { str?: string; hasEOL?: boolean }[]);
      facts.textChars += text.replace(/\s+/g, '').length;
      if (text.trim()) result.text.push({ page: n, text });
      facts.pagesScanned = n;
      page.cleanup();
    }
    if (doc.numPages > pageCount) {
      facts.budget ??= `only the first ${pageCount} of ${doc.numPages} pages were scanned`;
    }
  } catch (error) {
    if ((error as { name?: string })?.name === 'PasswordException') {
      facts.encrypted = true;
    } else {
      facts.error = `PDF could not be read: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
    }
  } finally {
    facts.links = result.links.length;
    facts.codes = result.codes.length;
    await task.destroy().catch(() => undefined);
  }
  return result;
}
