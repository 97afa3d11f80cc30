/**
 * QR codes drawn without an image, generated from real QR matrices (qrcode): inline SVG of `<rect>`s and of
 * paths (qrcode's own SVG output, stroked; and filled rectilinear paths), and lines of Unicode block characters or
 * `#` art. Options give a quiet zone, scaled cells and inverted colours. Deterministic.
 */
import QRCode from 'qrcode';
import { qrModules } from './make-fixtures.js';

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
