/**
 * HTML traits of credential-harvesting pages (for HTML/SVG attachments) and QR codes drawn as HTML tables
 * (a cell per module, dark cells coloured with `bgcolor` or a `background` style): a trick that hides the code
 * from image scanners. The table walk visits each tag once (linear) and is bounded in cells.
 * @module
 */
import type { HtmlFacts } from '../core/content-facts.js';
import { boundValue } from '../core/finding.js';
import type { Pixels } from './code-decoder.js';
import { decodeEntities } from './url-extract.js';

export function htmlFacts(html: string): HtmlFacts {
  const lower = html.slice(0, 5_000_000).toLowerCase();
  const form = /<form\b[^>]{0,2000}?\baction\s*=\s*(?:"([^"]{0,2048})"|'([^']{0,2048})'|([^\s>"']{1,2048}))/.exec(
    lower,
  );
  const action = form ? (form[1] ?? form[2] ?? form[3] ?? '').trim() : '';
  return {
    passwordField: /\btype\s*=\s*["']?password\b/.test(lower),
    formAction: action ? boundValue(decodeEntities(action), 300) : null,
    scriptRedirect:
      /\blocation\s*\.\s*(?:href\s*=|replace\s*\(|assign\s*\()|\bwindow\s*\.\s*location\s*=|\bdocument\s*\.\s*location\s*=|\bwindow\s*\.\s*open\s*\(/.test(
        lower,
      ),
    metaRefresh: /http-equiv\s*=\s*["']?refresh\b/.test(lower),
    decodesPayload: /\batob\s*\(|\bunescape\s*\(|fromcharcode\s*\(/.test(lower),
  };
}

const NAMED_COLORS: Record<string, number> = { black: 0, white: 255, '#000': 0, '#fff': 255 };

/** Grey level (0 dark .. 255 light) of a CSS / HTML colour, or `null` when it is not understood. */
export function greyOf(color: string): number | null {
  const c = color.trim().toLowerCase();
  if (c in NAMED_COLORS) return NAMED_COLORS[c] ?? null;
  let r: number;
  let g: number;
  let b: number;
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(c);
  const rgb = /^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})/.exec(c);
  if (hex?.[1]) {
    const h = hex[1].length === 3 ? [...hex[1]].map((x) => x + x).join('') : hex[1];
    r = Number.parseInt(h.slice(0, 2), 16);
    g = Number.parseInt(h.slice(2, 4), 16);
    b = Number.parseInt(h.slice(4, 6), 16);
  } else if (rgb) {
    r = Number(rgb[1]);
    g = Number(rgb[2]);
    b = Number(rgb[3]);
  } else return null;
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

function cellColor(attrs: string): number | null {
  const bg = /\bbgcolor\s*=\s*["']?([#a-z0-9]{1,20})/.exec(attrs);
  if (bg?.[1]) return greyOf(bg[1]);
  const style = /\bbackground(?:-color)?\s*:\s*(#[0-9a-f]{3,6}|rgba?\([^)]{0,40}\)|[a-z]{3,20})/.exec(attrs);
  if (style?.[1]) return greyOf(style[1]);
  return null;
}

export interface ModuleGrid {
  rows: boolean[][];
}

const MAX_CELLS = 200_000;

/** Tables that look like a module grid: at least 21x21 cells of equal row width, both dark and light cells. */
export function tableGrids(html: string): ModuleGrid[] {
  const lower = html.slice(0, 5_000_000).toLowerCase();
  const grids: ModuleGrid[] = [];
  const stack: { rows: boolean[][]; row: boolean[] | null; dark: number; cells: number }[] = [];
  let cells = 0;
  let i = 0;
  while (i < lower.length && cells < MAX_CELLS) {
    const lt = lower.indexOf('<', i);
    if (lt < 0) break;
    const gt = lower.indexOf('>', lt + 1);
    if (gt < 0) break;
    const tag = lower.slice(lt + 1, gt);
    i = gt + 1;
    const name = /^\/?([a-z0-9]{1,10})/.exec(tag)?.[1];
    if (!name) continue;
    const closing = tag.startsWith('/');
    const top = stack[stack.length - 1];
    if (name === 'table') {
      if (!closing) stack.push({ rows: [], row: null, dark: 0, cells: 0 });
      else if (top) {
        stack.pop();
        if (top.row && top.row.length > 0) top.rows.push(top.row);
        const width = top.rows[0]?.length ?? 0;
        const light = top.cells - top.dark;
        if (
          top.rows.length >= 21 &&
          width >= 21 &&
          top.rows.every((r) => r.length === width) &&
          top.dark > top.cells * 0.2 &&
          light > top.cells * 0.2
        ) {
          grids.push({ rows: top.rows });
        }
      }
    } else if (name === 'tr' && top && !closing) {
      if (top.row && top.row.length > 0) top.rows.push(top.row);
      top.row = [];
    } else if ((name === 'td' || name === 'th') && top && !closing) {
      top.row ??= [];
      const grey = cellColor(tag);
      const dark = grey !== null && grey < 128;
      const span = Math.min(Number(/\bcolspan\s*=\s*["']?(\d{1,3})/.exec(tag)?.[1] ?? '1') || 1, 200);
      for (let s = 0; s < span; s++) {
        top.row.push(dark);
        top.cells++;
        cells++;
        if (dark) top.dark++;
      }
    }
  }
  return grids;
}

/** Render a module grid as grey pixels (4 px a module, 4-module quiet zone) for the decoder. */
export function gridPixels(grid: ModuleGrid, scale = 4, quiet = 4): Pixels {
  const h = grid.rows.length;
  const w = grid.rows[0]?.length ?? 0;
  const width = (w + quiet * 2) * scale;
  const height = (h + quiet * 2) * scale;
  const data = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < h; y++) {
    const row = grid.rows[y] ?? [];
    for (let x = 0; x < w; x++) {
      if (!row[x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        const base = ((y + quiet) * scale + dy) * width + (x + quiet) * scale;
        data.fill(0, base, base + scale);
      }
    }
  }
  return { data, width, height, channels: 1 };
}
