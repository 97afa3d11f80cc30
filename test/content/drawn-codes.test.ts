/**
 * QR codes drawn without an image (issue 19): inline SVG (rects, filled paths, qrcode's stroked paths) and
 * block-character text, generated from real QR matrices. The grid recovered must equal the QR matrix, and end to
 * end the real decoder (zxing-wasm) must read the URL, which appears nowhere else in the message. Negative
 * fixtures (an SVG-icon newsletter, ASCII art) give no QR finding.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import type { AnalyzedMessage } from '../../src/analyze/analyze.js';
import { MAX_PAINT_WORK, MAX_SVG_SHAPES, textDrawings } from '../../src/content/drawn-codes.js';
import { MAX_HTML_DEPTH, scanHtml } from '../../src/content/html-inspect.js';
import { VECTOR_LIMITS, vectorDrawing } from '../../src/content/pdf-vector.js';
import { urlsFromHtml } from '../../src/content/url-extract.js';
import type { DrawnTechnique } from '../../src/core/evidence.js';
import {
  asciiArtText,
  qrBlocks,
  qrCssClasses,
  qrCssGrid,
  qrSvgFilledPath,
  qrSvgLibrary,
  qrSvgRects,
  qrSvgTransformed,
  qrVectorPdf,
  tablePdf,
  type VectorOptions,
} from './drawn-fixtures.js';
import { analyzeWithContent, directSendMessage, qrModules } from './make-fixtures.js';

const analyze = analyzeWithContent;

/** One recogniser's grids out of the single HTML scan. */
const drawnBy = (technique: DrawnTechnique) => (html: string) =>
  scanHtml(html)
    .drawings.filter((d) => d.technique === technique)
    .map((d) => d.grid);
const svgGrids = drawnBy('svg');
const cssGrids = drawnBy('css-boxes');
const htmlTextLines = (html: string) => scanHtml(html).textLines;
const textGrids = (text: string) => textDrawings(text).grids;

const codes = (r: AnalyzedMessage) => r.findings.map((f) => f.code);

describe('grids recovered from drawings equal the QR matrix', () => {
  const url = 'https://grid.evil.example/g';
  const mods = qrModules(url);
  it('SVG rects, scaled, with quiet zone and background', () => {
    expect(svgGrids(qrSvgRects(url, { scale: 7, quiet: 4 })).map((g) => g.rows)).toEqual([mods]);
  });
  it('SVG rects, inverted colours (light modules on a dark background)', () => {
    expect(svgGrids(qrSvgRects(url, { scale: 3, quiet: 2, inverted: true })).map((g) => g.rows)).toEqual([mods]);
  });
  it('SVG filled path of squares', () => {
    expect(svgGrids(qrSvgFilledPath(url, { scale: 2.5 })).map((g) => g.rows)).toEqual([mods]);
  });
  it('SVG in module units under translate/scale/matrix group transforms; rotate is left out', () => {
    for (const t of ['translate(10 20) scale(3)', 'scale(2.5,2.5)', 'matrix(4 0 0 4 7 7)', 'translate(5,5),scale(4)']) {
      expect(
        svgGrids(qrSvgTransformed(url, t)).map((g) => g.rows),
        t,
      ).toEqual([mods]);
    }
    expect(svgGrids(qrSvgTransformed(url, 'rotate(45) scale(3)'))).toEqual([]);
    expect(svgGrids(qrSvgTransformed(url, 'skewX(10)'))).toEqual([]);
  });
  it("qrcode's own stroked-path SVG", async () => {
    expect(svgGrids(await qrSvgLibrary(url)).map((g) => g.rows)).toEqual([mods]);
  });
  it('half blocks, full blocks (2 and 3 characters a module), # art, inverted', () => {
    expect(textGrids(qrBlocks(url, { half: true })).map((g) => g.rows)).toEqual([mods]);
    expect(textGrids(qrBlocks(url, { scale: 2 })).map((g) => g.rows)).toEqual([mods]);
    expect(textGrids(qrBlocks(url, { scale: 3, quiet: 0 })).map((g) => g.rows)).toEqual([mods]);
    expect(textGrids(qrBlocks(url, { char: '#', scale: 1 })).map((g) => g.rows)).toEqual([mods]);
    expect(textGrids(qrBlocks(url, { half: true, inverted: true })).map((g) => g.rows)).toEqual([mods]);
  });
  it('CSS grid of boxes, with and without a dark quiet zone', () => {
    expect(cssGrids(qrCssGrid(url, { scale: 5 })).map((g) => g.rows)).toEqual([mods]);
    expect(cssGrids(qrCssGrid(url, { quiet: 3, inverted: true })).map((g) => g.rows)).toEqual([mods]);
  });
  it('block lines inside <pre> with entities survive htmlTextLines', () => {
    const pre = `<pre>${qrBlocks(url, { scale: 2 }).replaceAll('\u2588', '&#9608;')}</pre>`;
    expect(textGrids(htmlTextLines(pre)).map((g) => g.rows)).toEqual([mods]);
  });
});

describe('drawn codes end to end (real decoder)', () => {
  it('inline SVG of rects in the HTML body → DS407 + DS441 with the location', async () => {
    const url = 'https://svg-rects.evil.example/s';
    const raw = directSendMessage({
      subject: 'Voicemail',
      html: `<p>Scan to listen to your voicemail.</p>${qrSvgRects(url, { scale: 4, inverted: true })}`,
    });
    expect(raw).not.toContain('svg-rects');
    const r = await analyze(raw, 'svg-rects.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    const f = r.findings.find((x) => x.code === 'DS441');
    expect(f?.evidence[0]?.location).toMatch(/^body \(text\/html\), inline SVG drawn as a \d+-row grid$/);
    expect(codes(r)).toContain('DS407');
  });
  it("qrcode's stroked-path SVG → DS441", async () => {
    const url = 'https://svg-path.evil.example/p';
    const raw = directSendMessage({ subject: 'Shared file', html: `<div>${await qrSvgLibrary(url)}</div>` });
    const r = await analyze(raw, 'svg-path.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    expect(codes(r)).toContain('DS441');
  });
  it('half-block text in the plain body → DS442', async () => {
    const url = 'https://blocks.evil.example/b';
    const raw = directSendMessage({
      subject: 'MFA reset',
      text: `Scan with your phone:\n\n${qrBlocks(url, { half: true })}\n`,
    });
    const r = await analyze(raw, 'blocks.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    const f = r.findings.find((x) => x.code === 'DS442');
    expect(f?.evidence[0]?.location).toMatch(/^body \(text\/plain\), block characters drawn as/);
  });
  it('full-block art in <pre> of the HTML body → DS442', async () => {
    const url = 'https://pre-blocks.evil.example/q';
    const raw = directSendMessage({
      subject: 'Payroll',
      html: `<pre style="line-height:1">${qrBlocks(url, { scale: 2, inverted: true })}</pre>`,
    });
    const r = await analyze(raw, 'pre-blocks.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    expect(codes(r)).toContain('DS442');
  });
});

describe('drawn codes end to end: CSS boxes', () => {
  it('CSS grid of divs in the HTML body → DS407 + DS443', async () => {
    const url = 'https://css-boxes.evil.example/c';
    const raw = directSendMessage({
      subject: 'Document shared with you',
      html: `<p>Scan to open the document.</p>${qrCssGrid(url, { scale: 3, quiet: 2, inverted: true })}`,
    });
    expect(raw).not.toContain('css-boxes');
    const r = await analyze(raw, 'css-boxes.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    const f = r.findings.find((x) => x.code === 'DS443');
    expect(f?.evidence[0]?.location).toMatch(/^body \(text\/html\), CSS grid of boxes drawn as a \d+-row grid$/);
  });
  it('flex rows coloured by <style> classes (style after the drawing) → DS443', async () => {
    const url = 'https://flex-classes.evil.example/f';
    const raw = directSendMessage({
      subject: 'Invoice ready',
      html: `<p>Scan to pay.</p>${qrCssClasses(url, 'flex-rows', { quiet: 2, styleAfter: true })}`,
    });
    expect(raw).not.toContain('flex-classes');
    const r = await analyze(raw, 'flex-classes.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    const f = r.findings.find((x) => x.code === 'DS443');
    expect(f?.evidence[0]?.location).toMatch(/^body \(text\/html\), CSS flex rows of boxes drawn as a \d+-row grid$/);
  });
  it('table cells coloured by a class rule → DS440', async () => {
    const url = 'https://table-classes.evil.example/t';
    const raw = directSendMessage({
      subject: 'HR notice',
      html: qrCssClasses(url, 'table', { inverted: true, quiet: 1 }),
    });
    const r = await analyze(raw, 'table-classes.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    expect(codes(r)).toContain('DS440');
  });
});

describe('negative fixtures give no QR finding', () => {
  it('newsletter with a grid layout and SVG icons', async () => {
    const icon = (x: number) =>
      `<svg viewBox="0 0 24 24" width="24"><rect x="${x}" y="2" width="20" height="20" rx="4" fill="#0a66c2"/><path d="M4 4h16v2H4zM4 10h10v2H4z" fill="#fff"/><path d="M12 2a10 10 0 1 0 0 20" fill="none" stroke="#333"/></svg>`;
    const cells = Array.from({ length: 12 }, (_, i) => `<td style="background:#f4f4f4">${icon(i % 3)} Item ${i}</td>`);
    const rows = [0, 1, 2, 3].map((r) => `<tr>${cells.slice(r * 3, r * 3 + 3).join('')}</tr>`).join('');
    const chart = `<svg viewBox="0 0 300 100">${Array.from({ length: 30 }, (_, i) => `<rect x="${i * 10}" y="${100 - ((i * 37) % 90)}" width="8" height="${(i * 37) % 90}" fill="#222"/>`).join('')}</svg>`;
    const gallery = `<div style="display:grid;grid-template-columns:repeat(24, 20px)">${Array.from({ length: 24 * 24 }, (_, i) => `<div style="background:${i % 7 < 3 ? '#222' : '#eee'}"></div>`).join('')}</div>`;
    const raw = directSendMessage({
      subject: 'Our monthly newsletter',
      html: `<table width="600">${rows}</table>${chart}${gallery}<p>See you next month.</p>`,
    });
    const r = await analyze(raw, 'newsletter.eml');
    expect(codes(r).filter((c) => /^DS(407|44\d)$/.test(c))).toEqual([]);
  });
  it('ASCII art banner and a block-character progress bar', async () => {
    const raw = directSendMessage({ subject: 'Build report', text: asciiArtText() });
    const r = await analyze(raw, 'ascii-art.eml');
    expect(codes(r).filter((c) => /^DS(407|44\d)$/.test(c))).toEqual([]);
  });
});

describe('limits are work-counted', () => {
  it(`an SVG of more than ${MAX_SVG_SHAPES} rects is not rasterised`, () => {
    const many = Array.from(
      { length: MAX_SVG_SHAPES + 10 },
      (_, i) => `<rect x="${i % 100}" y="${Math.floor(i / 100) % 100}" width="1" height="1"/>`,
    );
    const html = `<svg>${many.join('')}</svg>`;
    expect(svgGrids(html)).toEqual([]);
    expect(scanHtml(html).cuts.find((c) => /SVG/.test(c))).toMatch(/^more than 50000 SVG shapes/);
  });
  it('a 2,000,000-character line of blocks ending in a letter is rejected in linear time', () => {
    const line = `${'\u2588'.repeat(2_000_000)}a`;
    expect(textGrids(Array.from({ length: 12 }, () => line).join('\n'))).toEqual([]);
  });
  it('a path with curves is not taken as a code', () => {
    expect(svgGrids('<svg><path d="M0 0C1 1 2 2 30 30h30v30H0z"/></svg>')).toEqual([]);
  });
});

describe('CSS boxes coloured by <style> rules, and flex layouts', () => {
  const url = 'https://css-classes.evil.example/k';
  const mods = qrModules(url);
  for (const layout of ['grid', 'flex-wrap', 'flex-rows', 'table'] as const) {
    it(`${layout}: classes, quiet zone, inverted, style before or after`, () => {
      const pick = (html: string) => scanHtml(html).drawings.map((d) => d.grid.rows);
      expect(pick(qrCssClasses(url, layout))).toEqual([mods]);
      expect(pick(qrCssClasses(url, layout, { quiet: 2, scale: 3, styleAfter: true }))).toEqual([mods]);
      expect(pick(qrCssClasses(url, layout, { quiet: 3, inverted: true }))).toEqual([mods]);
    });
  }
  it('techniques are named: table, CSS grid, flex rows', () => {
    const how = (html: string) => scanHtml(html).drawings.map((d) => `${d.technique}: ${d.how}`);
    const n = mods.length;
    expect(how(qrCssClasses(url, 'table'))).toEqual([`html-table: table drawn as a ${n}-row grid`]);
    expect(how(qrCssClasses(url, 'grid'))).toEqual([`css-boxes: CSS grid of boxes drawn as a ${n}-row grid`]);
    expect(how(qrCssClasses(url, 'flex-rows'))).toEqual([`css-boxes: CSS flex rows of boxes drawn as a ${n}-row grid`]);
  });
  it('selectors beyond the simple forms are ignored, not guessed', () => {
    const html = qrCssClasses(url, 'grid').replace('.qr .k{', '.qr :nth-child(2n+1){');
    expect(scanHtml(html).drawings).toEqual([]);
  });
});

describe('HTML traits from the same parse', () => {
  it('link URLs come from the parse: attributes (entities decoded), script text; not from comments', () => {
    const html =
      '<a HREF="https://a.example/?x=1&amp;y=2">a</a><!-- <a href="https://commented.example/"> --><img src=https://b.example/i.png><svg><a xlink:href="https://c.example/"/></svg><script>location.href = "https://Script.example/Path"</script><p>see https://text.example/</p>';
    const scan = scanHtml(html);
    expect(urlsFromHtml(html, 50, scan.linkValues)).toEqual([
      'https://a.example/?x=1&y=2',
      'https://b.example/i.png',
      'https://c.example/',
      'https://Script.example/Path',
      'https://text.example/',
    ]);
  });
  it('script traits come from script text and handlers, not from the visible text', () => {
    const page =
      '<form action="HTTPS://Login.Evil.Example/&amp;p"><input type="password"></form><script>window.location = atob("aHR0cA==")</script>';
    expect(scanHtml(page).facts).toEqual({
      passwordField: true,
      formAction: 'https://login.evil.example/&p',
      scriptRedirect: true,
      metaRefresh: false,
      decodesPayload: true,
    });
    const prose =
      '<p>Call window.open( to pop up a window; atob( decodes base64.</p><meta http-equiv="Refresh" content="0">';
    expect(scanHtml(prose).facts).toEqual({
      passwordField: false,
      formAction: null,
      scriptRedirect: false,
      metaRefresh: true,
      decodesPayload: false,
    });
    expect(scanHtml('<a href="javascript:location.replace(\'x\')">x</a>').facts.scriptRedirect).toBe(true);
    expect(scanHtml('<script>document.write("<input type=password>")</script>').facts.passwordField).toBe(true);
  });
});

describe('a recogniser stopped by a work limit says so (DS419, partial)', () => {
  const gapsOf = (r: AnalyzedMessage) => r.findings.filter((f) => f.code === 'DS419').flatMap((f) => f.evidence);
  it('more table cells than the limit, more elements than the limit', async () => {
    const cells = `<table>${'<tr>'.concat('<td></td>'.repeat(500), '</tr>').repeat(401)}</table>`;
    const raw = directSendMessage({ subject: 'Big table', html: cells });
    const r = await analyze(raw, 'big-table.eml');
    expect(r.partial).toBe(true);
    const what = gapsOf(r).map((e) => e.value);
    expect(what).toContainEqual(expect.stringMatching(/more than 200000 table cells/));
    expect(what).toContainEqual(expect.stringMatching(/more than 200000 elements: CSS layouts/));
  });
  it('more text lines than the limit in the plain body', async () => {
    const raw = directSendMessage({ subject: 'Log', text: 'line\n'.repeat(20_010) });
    const r = await analyze(raw, 'many-lines.eml');
    expect(r.partial).toBe(true);
    expect(gapsOf(r).map((e) => e.value)).toContainEqual(expect.stringMatching(/more than 20000 text lines/));
  });
  it('more drawings than are decoded a part', async () => {
    const html = Array.from({ length: 6 }, (_, i) => qrSvgRects(`https://many-${i}.evil.example/`, { scale: 2 })).join(
      '',
    );
    const r = await analyze(directSendMessage({ subject: 'Codes', html }), 'six-codes.eml');
    expect(r.urls.filter((u) => u.location === 'qr-code')).toHaveLength(5);
    expect(gapsOf(r).map((e) => e.value)).toContainEqual(expect.stringMatching(/6 drawn grids, only the first 5/));
  });
});

describe('PDF vector codes (filled rectangles and paths, no image)', () => {
  const attach = (pdf: Uint8Array, subject: string) =>
    directSendMessage({
      subject,
      text: 'Please find the document attached.',
      parts: [{ filename: 'document.pdf', contentType: 'application/pdf', disposition: 'attachment', body: pdf }],
    });
  const variants: [string, VectorOptions][] = [
    ['one path of squares, default transform', {}],
    [
      'scaled and translated cm, row runs, each painted alone',
      { cm: [2.5, 0, 0, 2.5, 300, 80], runs: true, separate: true },
    ],
    ['m/l/h paths with a quiet zone', { paths: true, quiet: 4, cm: [3, 0, 0, 3, 50, 50] }],
    ['inverted: light modules on a dark square', { inverted: true, quiet: 2 }],
    ['rotated a quarter turn', { cm: [0, 3, -3, 0, 400, 200] }],
  ];
  variants.forEach(([name, o], k) => {
    it(`${name} → DS444 with the page and grid`, async () => {
      const url = `https://pdf-vector-${k}.evil.example/v`;
      const raw = attach(qrVectorPdf(url, o), 'Please sign');
      expect(raw).not.toContain(`pdf-vector-${k}`);
      const r = await analyze(raw, `pdf-vector-${k}.eml`);
      expect(r.urls).toContainEqual({ url, location: 'qr-code' });
      const f = r.findings.find((x) => x.code === 'DS444');
      expect(f?.evidence[0]?.location).toMatch(/document\.pdf page 1, vector paths drawn as a \d+-row grid$/);
      expect(codes(r)).toContain('DS407');
    });
  });
  it('a ruled PDF table, zebra rows and a chart of squares give no QR finding', async () => {
    const r = await analyze(attach(tablePdf(), 'Invoice'), 'pdf-table.eml');
    expect(codes(r).filter((c) => /^DS(407|44\d)$/.test(c))).toEqual([]);
  });
});

describe('PDF vector limits are work-counted (operator lists shaped as pdfjs 5 builds them)', async () => {
  const { OPS } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  /** One closed rectangle path, pdfjs's DrawOPS: 0 moveTo, 1 lineTo, 4 closePath. */
  const rect = (x: number, y: number, w: number, h: number) => [0, x, y, 1, x + w, y, 1, x + w, y + h, 1, x, y + h, 4];
  /** A page that sets a black fill, then fills each path of `paths` with its own `constructPath`. */
  const page = (paths: number[][]) => ({
    fnArray: [OPS.setFillRGBColor, ...paths.map(() => OPS.constructPath)],
    argsArray: [['#000000'], ...paths.map((p) => [OPS.fill, [Float32Array.from(p)], null])],
  });
  it(`more than ${VECTOR_LIMITS.maxShapes} filled shapes: not rasterised, and said`, () => {
    const v = vectorDrawing(
      page(Array.from({ length: VECTOR_LIMITS.maxShapes + 1 }, (_, i) => rect(i % 200, Math.floor(i / 200), 1, 1))),
      OPS,
    );
    expect(v.grid).toBeNull();
    expect(v.cut).toBe(`more than ${VECTOR_LIMITS.maxShapes} filled shapes: the page drawing was not rasterised`);
  });
  it(`more than ${VECTOR_LIMITS.maxPoints} path points in one path: not rasterised, and said`, () => {
    const one = Array.from({ length: VECTOR_LIMITS.maxPoints / 5 + 1 }, (_, i) => rect(i % 200, 0, 1, 1)).flat();
    const v = vectorDrawing(page([one]), OPS);
    expect(v.grid).toBeNull();
    expect(v.cut).toBe(`more than ${VECTOR_LIMITS.maxPoints} vector path points: the page drawing was not rasterised`);
  });
  it(`more than ${MAX_PAINT_WORK} grid cells to paint: not rasterised, and said`, () => {
    // 2,000 overlapping 7x200-module bars (each thin enough to count as part of a drawing) on a 200-module page.
    const bars = Array.from({ length: 2_000 }, (_, i) => rect(i % 190, 0, 7, 200));
    const v = vectorDrawing(page([rect(0, 0, 1, 1), ...bars]), OPS);
    expect(v.grid).toBeNull();
    expect(v.work.cellsPainted).toBeGreaterThan(MAX_PAINT_WORK);
    expect(v.cut).toBe(`more than ${MAX_PAINT_WORK} grid cells to paint: the page drawing was not rasterised`);
  });
});

/** A QR code as a real WebP file, encoded by libwebp's own encoder (the package's wasm, read from disk). */
async function qrWebp(text: string, o: { lossless: boolean; scale?: number }): Promise<Buffer> {
  const require = createRequire(import.meta.url);
  const wasmApi = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }).WebAssembly;
  const wasm = await wasmApi.compile(readFileSync(require.resolve('@jsquash/webp/codec/enc/webp_enc.wasm')));
  const enc = (await import('@jsquash/webp/encode.js')) as unknown as {
    init(m: object): Promise<void>;
    default(img: { data: Uint8ClampedArray; width: number; height: number }, opts: object): Promise<ArrayBuffer>;
  };
  await enc.init(wasm);
  const rows = qrModules(text);
  const scale = o.scale ?? 5;
  const side = (rows.length + 8) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < rows.length; y++)
    for (let x = 0; x < rows.length; x++) {
      if (!rows[y]![x]) continue;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + 4) * scale + dy) * side + (x + 4) * scale + dx) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
    }
  const out = await enc.default(
    { data, width: side, height: side },
    o.lossless ? { lossless: 1, quality: 100 } : { quality: 75 },
  );
  return Buffer.from(out);
}

/** RIFF <size> WEBP VP8L <size> 0x2f then 14-bit width-1 / height-1: a real lossless header of a square, no data. */
function webpHeaderOnly(side: number): Buffer {
  const body = Buffer.alloc(64);
  body.write('RIFF', 0, 'latin1');
  body.writeUInt32LE(56, 4);
  body.write('WEBPVP8L', 8, 'latin1');
  body.writeUInt32LE(43, 16);
  body[20] = 0x2f;
  body.writeUInt32LE((side - 1) | ((side - 1) << 14), 21);
  return body;
}

function webpMessage(body: Buffer, inline: boolean): string {
  return directSendMessage({
    subject: 'Scan me',
    html: inline ? '<img src="cid:code">' : '<p>Your voicemail is attached.</p>',
    related: inline,
    parts: [
      inline
        ? { filename: 'code.bin', contentType: 'application/octet-stream', contentId: 'code', body }
        : { filename: 'voicemail.webp', contentType: 'image/webp', body },
    ],
  });
}

describe('WebP images are decoded (libwebp as wasm), and what cannot be is said', () => {
  for (const lossless of [true, false]) {
    it(`a ${lossless ? 'lossless' : 'lossy'} WebP QR code decodes to its URL, inline and attached`, async () => {
      for (const inline of [true, false]) {
        const url = `https://webp-${lossless ? 'll' : 'ly'}-${inline ? 'in' : 'at'}.example.net/p/7Qz`;
        const raw = webpMessage(await qrWebp(url, { lossless }), inline);
        expect(raw).not.toContain(url.slice(8, 30));
        const r = await analyze(raw, 'webp.eml');
        expect(r.urls).toContainEqual({ url, location: 'qr-code' });
        expect(codes(r)).toContain('DS407');
        expect(r.partial).toBeFalsy();
      }
    });
  }

  it('a WebP libwebp cannot read (a bare header) is a DS419 gap naming it, never silence', async () => {
    const r = await analyze(webpMessage(webpHeaderOnly(99), true), 'webp.eml');
    expect(r.partial).toBe(true);
    const gap = r.findings.find((f) => f.code === 'DS419');
    expect(gap?.evidence.map((e) => e.value).join('\n')).toMatch(
      /^image code\.bin: WebP not decoded: libwebp rejected it \(.+\): a code in it is not seen$/m,
    );
  });

  it('a WebP header claiming 16383 x 16383 pixels is refused before any decoding', async () => {
    const r = await analyze(webpMessage(webpHeaderOnly(16383), true), 'webp-huge.eml');
    expect(r.partial).toBe(true);
    const gap = r.findings.find((f) => f.code === 'DS419');
    expect(gap?.evidence.map((e) => e.value).join('\n')).toMatch(/16383x16383 pixels exceeds the \d+-pixel limit/);
  });
});

describe('hostile markup stays linear and bounded', () => {
  it('a style sheet of 1,000,000 unclosed @media blocks, and one of unclosed rules', () => {
    const media = `<style>${'@media{'.repeat(140_000)}</style>`;
    expect(scanHtml(media).drawings).toEqual([]);
    const rules = `<style>${'a{b:c;'.repeat(160_000)}</style>`;
    expect(scanHtml(rules).cuts).toEqual([]);
  });
  it('tables nested 700,000 deep, divs nested 1,000,000 deep, then 500,000 unmatched end tags', () => {
    // htmlparser2 alone takes minutes here (its open-element stack is unshifted and searched per tag).
    const tables = scanHtml('<table>'.repeat(700_000));
    expect(tables.drawings).toEqual([]);
    expect(tables.cuts).toEqual([
      `elements nested deeper than ${MAX_HTML_DEPTH} levels: ${700_000 - MAX_HTML_DEPTH} start tags were not followed`,
    ]);
    const divs = scanHtml(`${'<div>'.repeat(1_000_000)}${'</span>'.repeat(500_000)}`);
    expect(divs.work.elements).toBe(MAX_HTML_DEPTH);
    expect(divs.cuts).toHaveLength(1);
  });
  it('a code inside a layout nested near the depth limit still decodes', () => {
    const url = 'https://deep-layout.evil.example/d';
    const deep = '<div>'.repeat(MAX_HTML_DEPTH - 10);
    const scan = scanHtml(`${deep}${qrCssClasses(url, 'grid')}`);
    expect(scan.drawings.map((d) => d.grid.rows)).toEqual([qrModules(url)]);
    expect(scan.cuts).toEqual([]);
  });
  it('5,000 selectors that all match 200,000 classed elements stop at the selector-test budget', () => {
    const css = Array.from({ length: 4_000 }, (_, i) => `.c .x${i}, .c{background:#000}`).join('');
    const els = '<i class="c"></i>'.repeat(200_000);
    const scan = scanHtml(`<style>${css}</style>${els}`);
    expect(scan.cuts).toContainEqual(
      expect.stringMatching(/^more than (5000 CSS selectors|500000 CSS selector tests)/),
    );
    expect(scan.work.selectorTests).toBeLessThanOrEqual(500_001);
  });
});

describe('inline data: images in HTML (not listed as parts by the mail parser)', () => {
  it('a QR PNG in <img src="data:image/png;base64,…"> → DS407 with its location', async () => {
    const url = 'https://data-uri.evil.example/i';
    const png = await QRCode.toBuffer(url, { type: 'png', scale: 4, margin: 4 });
    const raw = directSendMessage({
      subject: 'Scan to verify',
      html: `<p>Scan:</p><img alt="" src="data:image/png;base64,${png.toString('base64')}">`,
    });
    expect(raw).not.toContain('data-uri.evil');
    const r = await analyze(raw, 'data-uri.eml');
    expect(r.urls).toContainEqual({ url, location: 'qr-code' });
    const f = r.findings.find((x) => x.code === 'DS407');
    expect(f?.evidence[0]?.location).toBe('body (text/html), inline data: image 1');
  });
  it('more than 10 inline images: the rest are a DS419 gap', async () => {
    const gif = 'R0lGODlhAQABAAAAACw=';
    const html = Array.from({ length: 12 }, () => `<img src="data:image/gif;base64,${gif}">`).join('');
    const r = await analyze(directSendMessage({ subject: 'Pixels', html }), 'pixels.eml');
    const gaps = r.findings.filter((x) => x.code === 'DS419').flatMap((x) => x.evidence.map((e) => e.value));
    expect(gaps).toContainEqual(expect.stringMatching(/2 more inline data: images/));
  });
});
