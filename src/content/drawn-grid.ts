/**
 * Module grids: what every QR-drawing recogniser (HTML table, CSS boxes, SVG, text, PDF vector paths) produces,
 * the colour parsing they share, the normalisation of a drawing on a dark quiet zone, and the rendering of a
 * grid to pixels for the decoder.
 * @module
 */
import type { Pixels } from './code-decoder.js';

/** Most modules a side of a drawn grid (a version 40 QR code is 177). */
export const MAX_GRID_SIDE = 200;

export interface ModuleGrid {
  rows: boolean[][];
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

/**
 * The grid inside a one-module ring, inverted when the ring (the quiet zone) is dark; `null` unless it has both
 * dark and light modules in QR-like proportions (20–80 % dark).
 */
export function normaliseRing(cells: Uint8Array, W: number, H: number): ModuleGrid | null {
  let ringDark = 0;
  let ring = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (y !== 0 && y !== H - 1 && x !== 0 && x !== W - 1) continue;
      ring++;
      ringDark += cells[y * W + x]!;
    }
  }
  const invert = ringDark > ring / 2;
  const rows: boolean[][] = [];
  let dark = 0;
  for (let y = 1; y < H - 1; y++) {
    const row: boolean[] = [];
    for (let x = 1; x < W - 1; x++) {
      const d = (cells[y * W + x] === 1) !== invert;
      row.push(d);
      if (d) dark++;
    }
    rows.push(row);
  }
  const n = (W - 2) * (H - 2);
  if (dark < n * 0.2 || dark > n * 0.8) return null;
  return { rows };
}

/** Drop all-light rows and columns around the drawing. */
export function trim(cells: boolean[][]): boolean[][] {
  const rows = cells.filter((r) => r.some(Boolean));
  let first = 0;
  let last = -1;
  for (let x = 0; x < (rows[0]?.length ?? 0); x++) {
    if (rows.some((r) => r[x])) {
      if (last < 0) first = x;
      last = x;
    }
  }
  // keep interior light rows (quiet rows inside a code are impossible, but a light row inside the art is kept)
  const top = cells.findIndex((r) => r.some(Boolean));
  let bottom = cells.length - 1;
  while (bottom >= 0 && !cells[bottom]!.some(Boolean)) bottom--;
  if (top < 0 || last < 0) return [];
  return cells.slice(top, bottom + 1).map((r) => r.slice(first, last + 1));
}

/** The cells inverted when every border cell is dark (a code drawn on a dark quiet zone), else as they are. */
export function invertDarkBorder(rows: boolean[][]): boolean[][] {
  const H = rows.length;
  const W = rows[0]?.length ?? 0;
  const border = rows.every((r, y) => (y === 0 || y === H - 1 ? r.every(Boolean) : r[0] && r[W - 1]));
  return border ? rows.map((r) => r.map((d) => !d)) : rows;
}

/** A grid whose border is all dark is a code on a dark quiet zone: invert it and drop the quiet zone. */
export function normaliseRows(rows: boolean[][]): ModuleGrid | null {
  const cells = trim(invertDarkBorder(rows));
  return cells.length >= 21 && (cells[0]?.length ?? 0) >= 21 ? { rows: cells } : null;
}
