/**
 * QR codes drawn without an image, generated from real QR matrices (qrcode): inline SVG of `<rect>`s and of
 * paths (qrcode's own SVG output, stroked; and filled rectilinear paths), and lines of Unicode block characters or
 * `#` art. Options give a quiet zone, scaled cells and inverted colours. Deterministic.
 */
import QRCode from 'qrcode';
import type { DrawnTechnique } from '../../src/core/evidence.js';
import { directSendMessage, qrHtmlTable, qrModules } from './make-fixtures.js';

export interface DrawOptions {
  /** User units (SVG) or characters (text) per module. */
  scale?: number;
  /** Modules of quiet zone drawn around the code. */
  quiet?: number;
  /** Light modules on a dark background. */
  inverted?: boolean;
}

/** One `<rect>` per dark module (or per light module on a dark background when inverted). */
export function qrSvgRects(text: string, o: DrawOptions = {}): string {
  const mods = qrModules(text);
  const s = o.scale ?? 5;
  const q = o.quiet ?? 4;
  const side = (mods.length + q * 2) * s;
  const fg = o.inverted ? '#ffffff' : '#111111';
  const bg = o.inverted ? '#000000' : '#ffffff';
  const rects: string[] = [];
  mods.forEach((row, y) => {
    row.forEach((d, x) => {
      if (d) rects.push(`<rect x="${(x + q) * s}" y="${(y + q) * s}" width="${s}" height="${s}" fill="${fg}"/>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" width="${side}" height="${side}"><rect x="0" y="0" width="${side}" height="${side}" fill="${bg}"/>${rects.join('')}</svg>`;
}

/** One filled path of `M x y h s v s h -s z` squares, relative moves between them. */
export function qrSvgFilledPath(text: string, o: DrawOptions = {}): string {
  const mods = qrModules(text);
  const s = o.scale ?? 3;
  const q = o.quiet ?? 2;
  const d: string[] = [];
  mods.forEach((row, y) => {
    row.forEach((on, x) => {
      if (on) d.push(`M${(x + q) * s} ${(y + q) * s}h${s}v${s}H${(x + q) * s}z`);
    });
  });
  return `<svg viewBox="0 0 ${(mods.length + q * 2) * s} ${(mods.length + q * 2) * s}"><path fill="black" d="${d.join('')}"/></svg>`;
}

/** qrcode's own SVG output: a white background path and one stroked path of `h` runs. */
export async function qrSvgLibrary(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', margin: 4, errorCorrectionLevel: 'M' });
}

/** Lines of block characters: `▀ ▄ █` two modules a character (half), or `██` per module (full). */
export function qrBlocks(text: string, o: DrawOptions & { half?: boolean; char?: string } = {}): string {
  const mods = qrModules(text);
  const q = o.quiet ?? 2;
  const n = mods.length + q * 2;
  const dark = (y: number, x: number) => {
    const inside = y >= q && x >= q && y < n - q && x < n - q;
    const d = inside ? (mods[y - q]?.[x - q] ?? false) : false;
    return o.inverted ? !d : d;
  };
  const lines: string[] = [];
  if (o.half) {
    for (let y = 0; y < n; y += 2) {
      let l = '';
      for (let x = 0; x < n; x++) {
        const top = dark(y, x);
        const bottom = y + 1 < n ? dark(y + 1, x) : Boolean(o.inverted);
        l += top && bottom ? '\u2588' : top ? '\u2580' : bottom ? '\u2584' : ' ';
      }
      lines.push(l);
    }
  } else {
    const ch = (o.char ?? '\u2588').repeat(o.scale ?? 2);
    const sp = ' '.repeat(o.scale ?? 2);
    for (let y = 0; y < n; y++) {
      let l = '';
      for (let x = 0; x < n; x++) l += dark(y, x) ? ch : sp;
      lines.push(l);
    }
  }
  return lines.join('\n');
}

/** A `display: grid` container of `<div>` boxes, dark ones with an inline background colour. */
export function qrCssGrid(text: string, o: DrawOptions = {}): string {
  const mods = qrModules(text);
  const s = o.scale ?? 4;
  const q = o.quiet ?? 0;
  const n = mods.length + q * 2;
  const boxes: string[] = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const inside = y >= q && x >= q && y < n - q && x < n - q;
      const d = inside ? (mods[y - q]?.[x - q] ?? false) : false;
      const dark = o.inverted ? !d : d;
      boxes.push(
        dark ? `<div style="background-color:rgb(17,17,17);height:${s}px"></div>` : `<div style="height:${s}px"></div>`,
      );
    }
  }
  return `<div style="display:grid;grid-template-columns:repeat(${n}, ${s}px);gap:0">${boxes.join('')}</div>`;
}

/** Modules with a quiet zone of `q` (light, or dark when inverted) around them. */
function framed(text: string, q: number, inverted?: boolean): boolean[][] {
  const mods = qrModules(text);
  const n = mods.length + q * 2;
  return Array.from({ length: n }, (_, y) =>
    Array.from({ length: n }, (_, x) => {
      const inside = y >= q && x >= q && y < n - q && x < n - q;
      const d = inside ? (mods[y - q]?.[x - q] ?? false) : false;
      return inverted ? !d : d;
    }),
  );
}

export type CssLayout = 'grid' | 'flex-wrap' | 'flex-rows' | 'table';

/**
 * A code whose boxes take their colour from `<style>` class rules (the markup carries only class names):
 * a CSS grid, a wrapping flex container of fixed-width boxes, rows of flex boxes, or a table with classed cells.
 * `styleAfter` puts the `<style>` after the drawing (a browser applies it all the same).
 */
export function qrCssClasses(text: string, layout: CssLayout, o: DrawOptions & { styleAfter?: boolean } = {}): string {
  const s = o.scale ?? 4;
  const cells = framed(text, o.quiet ?? 0, o.inverted);
  const n = cells.length;
  const box = (d: boolean, tag = 'i') => `<${tag}${d ? ' class="k"' : ''}></${tag}>`;
  let css: string;
  let body: string;
  if (layout === 'grid') {
    css = `.qr{display:grid;grid-template-columns:repeat(${n},${s}px)} .qr i{height:${s}px} .qr .k{background:#1a1a1a}`;
    body = `<div class="qr">${cells
      .flat()
      .map((d) => box(d))
      .join('')}</div>`;
  } else if (layout === 'flex-wrap') {
    css = `/* layout */ #code{display:flex;flex-wrap:wrap;width:${n * s}px} #code > span{width:${s}px;height:${s}px} span.k{background-color:rgb(0,0,0)}`;
    body = `<div id="code">${cells
      .flat()
      .map((d) => box(d, 'span'))
      .join('')}</div>`;
  } else if (layout === 'flex-rows') {
    css = `@media screen { .r{display:flex} } .r div{width:${s}px;height:${s}px} .k{background:black !important} div{background:#fff}`;
    body = `<div>${cells.map((r) => `<div class="r">${r.map((d) => box(d, 'div')).join('')}</div>`).join('')}</div>`;
  } else {
    css = `table.qr td{width:${s}px;height:${s}px;padding:0} .qr td.k{background-color:#000}`;
    body = `<table class="qr" cellspacing="0">${cells.map((r) => `<tr>${r.map((d) => box(d, 'td')).join('')}</tr>`).join('')}</table>`;
  }
  const style = `<style type="text/css">${css}</style>`;
  return o.styleAfter ? `${body}${style}` : `${style}${body}`;
}

/**
 * A one-page PDF written by hand around a content stream (no library in between, so the test controls every
 * operator): catalog, pages, page with a Helvetica font resource, the stream, the font, and a correct xref.
 */
export function minimalPdf(content: string, size: [number, number] = [612, 792]): Uint8Array {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${size[0]} ${size[1]}] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>`,
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}

export interface VectorOptions extends DrawOptions {
  /** A `cm` matrix applied to the drawing (module units → page). Default: scale 4 at (100, 300). */
  cm?: [number, number, number, number, number, number];
  /** Dark runs of a row as one wide rectangle (as PDF generators do) instead of one square a module. */
  runs?: boolean;
  /** Each module as an `m l l l h` path instead of `re`. */
  paths?: boolean;
  /** Each shape painted on its own (`re f` … ) rather than one path of all of them. */
  separate?: boolean;
}

const num = (n: number) => Number(n.toFixed(4)).toString();

/** A campaign PDF: a title, a blue header bar and a QR code drawn with filled rectangles in module units. */
export function qrVectorPdf(text: string, o: VectorOptions = {}): Uint8Array {
  const cells = framed(text, o.quiet ?? 0, o.inverted);
  const n = cells.length;
  const cm = o.cm ?? [4, 0, 0, 4, 100, 300];
  const ops: string[] = [];
  const shape = (x: number, y: number, w: number) => {
    // PDF y grows upwards: row 0 is the top.
    const py = n - 1 - y;
    const s = o.paths
      ? `${x} ${py} m ${x + w} ${py} l ${x + w} ${py + 1} l ${x} ${py + 1} l h`
      : `${x} ${py} ${w} 1 re`;
    ops.push(o.separate ? `${s} f` : s);
  };
  cells.forEach((row, y) => {
    let x = 0;
    while (x < n) {
      if (!row[x]) {
        x++;
        continue;
      }
      let w = 1;
      if (o.runs) while (x + w < n && row[x + w]) w++;
      shape(x, y, w);
      x += w;
    }
  });
  const body = o.separate ? ops.join('\n') : `${ops.join('\n')}\nf`;
  const content = [
    'BT /F1 18 Tf 72 740 Td (Please review and sign the attached document) Tj ET',
    '0.05 0.3 0.6 rg 0 760 612 32 re f',
    `q ${cm.map(num).join(' ')} cm 0 0 0 rg`,
    body,
    'Q',
    'BT /F1 11 Tf 72 120 Td (Scan the code with your phone to continue.) Tj ET',
  ].join('\n');
  return minimalPdf(content);
}

/** A PDF invoice table: ruled cells (hairline filled rules and stroked borders), zebra rows, text. No code. */
export function tablePdf(): Uint8Array {
  const ops: string[] = ['BT /F1 16 Tf 72 740 Td (Invoice 2026-114) Tj ET', '0.92 g'];
  for (let r = 0; r < 30; r += 2) ops.push(`72 ${700 - r * 14 - 14} 468 14 re f`);
  ops.push('0 g');
  for (let r = 0; r <= 30; r++) ops.push(`72 ${700 - r * 14} 468 0.5 re f`);
  for (let c = 0; c <= 6; c++) ops.push(`${72 + c * 78} 280 0.5 420 re f`);
  ops.push('1 w 72 280 468 420 re S');
  for (let r = 0; r < 30; r++)
    ops.push(`BT /F1 9 Tf 76 ${690 - r * 14} Td (Line ${r + 1}  Widget  ${r * 3} EUR) Tj ET`);
  // A bar chart of filled squares: dense, square, yet no code.
  for (let i = 0; i < 60; i++) ops.push(`${72 + (i % 20) * 6} ${200 + Math.floor(i / 20) * 6} 5 5 re f`);
  return minimalPdf(ops.join('\n'));
}

/** One generated fixture: the message, what drew the code (null for a negative) and the sources it came from. */
export interface DrawnFixture {
  name: string;
  technique: DrawnTechnique | null;
  url: string | null;
  raw: string;
  /** The HTML / text / PDF the message carries (before MIME encoding), to prove the URL is only in the drawing. */
  html: string | null;
  text: string | null;
  pdf: Uint8Array | null;
}

/** An ordinary newsletter: a table layout, SVG icons, a bar chart and a CSS-grid photo gallery. No code. */
export function newsletterHtml(): string {
  const icon = (x: number) =>
    `<svg viewBox="0 0 24 24" width="24"><rect x="${x}" y="2" width="20" height="20" rx="4" fill="#0a66c2"/><path d="M4 4h16v2H4zM4 10h10v2H4z" fill="#fff"/><path d="M12 2a10 10 0 1 0 0 20" fill="none" stroke="#333"/></svg>`;
  const cells = Array.from({ length: 12 }, (_, i) => `<td class="card">${icon(i % 3)} Item ${i}</td>`);
  const rows = [0, 1, 2, 3].map((r) => `<tr>${cells.slice(r * 3, r * 3 + 3).join('')}</tr>`).join('');
  const chart = `<svg viewBox="0 0 300 100">${Array.from({ length: 30 }, (_, i) => `<rect x="${i * 10}" y="${100 - ((i * 37) % 90)}" width="8" height="${(i * 37) % 90}" fill="#222"/>`).join('')}</svg>`;
  const gallery = `<div class="gallery">${Array.from({ length: 24 * 24 }, (_, i) => `<div class="${i % 7 < 3 ? 'dark' : 'light'}"></div>`).join('')}</div>`;
  const flex = `<div class="nav">${Array.from({ length: 30 }, (_, i) => `<div class="row">${Array.from({ length: 24 }, (_, j) => `<span class="${(i + j) % 5 === 0 ? 'dot' : ''}">·</span>`).join('')}</div>`).join('')}</div>`;
  const style =
    '<style>.card{background:#f4f4f4;padding:8px} .gallery{display:grid;grid-template-columns:repeat(24,20px)} .gallery .dark{background:#222} .gallery .light{background:#eee} .row{display:flex} .dot{background:#333}</style>';
  return `<html><head>${style}</head><body><table width="600">${rows}</table>${chart}${gallery}${flex}<p>See you next month.</p></body></html>`;
}

/** ASCII art and a block-character progress bar: text that looks drawn but is not a code. */
export function asciiArtText(): string {
  const banner = [
    '#####  #####  #   #',
    '#      #   #  ## ##',
    '####   #   #  # # #',
    '#      #   #  #   #',
    '#      #####  #   #',
  ];
  const art = Array.from({ length: 30 }, (_, i) => banner[i % 5]).join('\n');
  const bars = Array.from({ length: 24 }, (_, i) => '\u2588'.repeat(i + 3) + ' '.repeat(30 - i)).join('\n');
  return `Build report\n\n${art}\n\n${bars}\n`;
}

/**
 * Every technique with quiet zones, inverted colours, scaled cells and style-sheet classes, plus the negatives
 * (newsletter grid layout, PDF table, ASCII art). Each URL is unique to its fixture and appears only in the
 * drawing.
 */
export async function drawnCatalogue(): Promise<DrawnFixture[]> {
  const u = (name: string) => `https://${name}.drawn.example/x`;
  const html = (name: string, technique: DrawnTechnique, body: (url: string) => string | Promise<string>) => ({
    name,
    technique,
    kind: 'html' as const,
    body,
  });
  const text = (name: string, body: (url: string) => string) => ({
    name,
    technique: 'text-blocks' as const,
    kind: 'text' as const,
    body,
  });
  const specs = [
    html('table-bgcolor', 'html-table', (url) => qrHtmlTable(url)),
    html('table-classes-inverted', 'html-table', (url) => qrCssClasses(url, 'table', { inverted: true, quiet: 2 })),
    html('css-grid-inline-inverted', 'css-boxes', (url) => qrCssGrid(url, { quiet: 3, inverted: true })),
    html('css-grid-classes-scaled', 'css-boxes', (url) => qrCssClasses(url, 'grid', { scale: 6, styleAfter: true })),
    html('css-flex-wrap-classes', 'css-boxes', (url) => qrCssClasses(url, 'flex-wrap', { quiet: 2 })),
    html('css-flex-rows-inverted', 'css-boxes', (url) => qrCssClasses(url, 'flex-rows', { inverted: true, quiet: 2 })),
    html('svg-rects-scaled-inverted', 'svg', (url) => qrSvgRects(url, { scale: 7, inverted: true })),
    html('svg-filled-path', 'svg', (url) => qrSvgFilledPath(url, { scale: 2.5 })),
    html('svg-qrcode-library', 'svg', (url) => qrSvgLibrary(url)),
    html('svg-group-transform', 'svg', (url) => qrSvgTransformed(url, 'translate(10 20) scale(3)')),
    html('text-pre-full-blocks-inverted', 'text-blocks', (url) => `<pre>${qrBlocks(url, { inverted: true })}</pre>`),
    text('text-half-blocks', (url) => `Scan with your phone:\n\n${qrBlocks(url, { half: true })}\n`),
    text('text-hash-art-scaled', (url) => `${qrBlocks(url, { char: '#', scale: 3, quiet: 1 })}\n`),
  ];
  const out: DrawnFixture[] = [];
  for (const s of specs) {
    const url = u(s.name);
    const body = await s.body(url);
    const isHtml = s.kind === 'html';
    const raw = directSendMessage(
      isHtml
        ? { subject: `Action required: ${s.name}`, html: body }
        : { subject: `Action required: ${s.name}`, text: body },
    );
    out.push({
      name: s.name,
      technique: s.technique,
      url,
      raw,
      html: isHtml ? body : null,
      text: isHtml ? null : body,
      pdf: null,
    });
  }
  const pdfs: [string, VectorOptions][] = [
    ['pdf-vector-runs-scaled', { runs: true, cm: [2.5, 0, 0, 2.5, 300, 80] }],
    ['pdf-vector-paths-inverted', { paths: true, inverted: true, quiet: 2, separate: true }],
  ];
  for (const [name, o] of pdfs) {
    const url = u(name);
    const pdf = qrVectorPdf(url, o);
    out.push({ name, technique: 'pdf-vector', url, raw: attachPdf(pdf, name), html: null, text: null, pdf });
  }
  const news = newsletterHtml();
  out.push({
    name: 'negative-newsletter',
    technique: null,
    url: null,
    raw: directSendMessage({ subject: 'Newsletter', html: news }),
    html: news,
    text: null,
    pdf: null,
  });
  const table = tablePdf();
  out.push({
    name: 'negative-pdf-table',
    technique: null,
    url: null,
    raw: attachPdf(table, 'invoice'),
    html: null,
    text: null,
    pdf: table,
  });
  const art = asciiArtText();
  out.push({
    name: 'negative-ascii-art',
    technique: null,
    url: null,
    raw: directSendMessage({ subject: 'Build report', text: art }),
    html: null,
    text: art,
    pdf: null,
  });
  return out;
}

function attachPdf(pdf: Uint8Array, name: string): string {
  return directSendMessage({
    subject: 'Please review and sign',
    text: 'Please find the document attached.',
    parts: [{ filename: `${name}.pdf`, contentType: 'application/pdf', disposition: 'attachment', body: pdf }],
  });
}

/** Unit squares inside a `<g transform="…">` (generators draw in module units and scale the group). */
export function qrSvgTransformed(text: string, transform: string, o: DrawOptions = {}): string {
  const mods = qrModules(text);
  const q = o.quiet ?? 2;
  const rects: string[] = [];
  mods.forEach((row, y) => {
    row.forEach((d, x) => {
      if (d) rects.push(`<rect x="${x + q}" y="${y + q}" width="1" height="1"/>`);
    });
  });
  return `<svg width="200" height="200"><g transform="${transform}"><g fill="#000">${rects.join('')}</g></g></svg>`;
}
