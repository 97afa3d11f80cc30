/**
 * QR codes drawn without an image, so that image scanners never see them: inline `<svg>` made of axis-aligned
 * `<rect>`s and simple `M/H/V/h/v/L/l/Z` paths (filled, or stroked as qrcode's SVG output does), and lines of
 * Unicode block characters (`█ ▀ ▄`) or `#`/space art in text and `<pre>`. Each drawing becomes a module grid for
 * the same decoder as images (see `gridPixels`).
 *
 * Limits (work-counted, never time): at most {@link MAX_SVG_SHAPES} shapes / path segments per message, at most
 * {@link MAX_GRID_SIDE} modules a side, at most {@link MAX_PAINT_WORK} grid cells painted per message, at most
 * {@link MAX_TEXT_LINES} text lines scanned; only the first 5,000,000 characters of the HTML are parsed (htmlparser2,
 * streaming, linear).
 * @module
 */
import { greyOf, invertDarkBorder, MAX_GRID_SIDE, type ModuleGrid, normaliseRing, trim } from './drawn-grid.js';

export const MAX_SVG_SHAPES = 50_000;
export const MAX_PAINT_WORK = 2_000_000;
export const MAX_TEXT_LINES = 20_000;
const MAX_SVGS = 20;

export interface Shape {
  /** Dark (grey < 128) or light paint. */
  dark: boolean;
  /** Rectangles [x0, y0, x1, y1] painted. */
  rects: [number, number, number, number][];
  /** Vertical edges [x, y0, y1] of a filled rectilinear polygon (even-odd). */
  edges: [number, number, number][];
}

function num(v: string | undefined, dflt = 0): number {
  if (v === undefined) return dflt;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : Number.NaN;
}

function paint(attrs: Record<string, string>, prop: 'fill' | 'stroke'): number | null | 'none' {
  const style = attrs.style ?? '';
  const m = new RegExp(`(?:^|;)\\s*${prop}\\s*:\\s*([^;]{1,40})`).exec(style.toLowerCase());
  const v = (m?.[1] ?? attrs[prop] ?? '').trim().toLowerCase();
  if (!v) return prop === 'fill' ? 0 : 'none';
  if (v === 'none' || v === 'transparent') return 'none';
  return greyOf(v);
}

/** A path's segments as rects (stroked) or vertical edges (filled); `null` when it uses anything but M/H/V/L/Z. */
function pathShape(d: string, stroke: number | null, budget: { n: number }): Shape['rects'] | Shape['edges'] | null {
  const tokens = d.match(/[a-zA-Z]|-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?/g) ?? [];
  const rects: Shape['rects'] = [];
  const edges: Shape['edges'] = [];
  let x = 0;
  let y = 0;
  let sx = 0;
  let sy = 0;
  let cmd = '';
  let i = 0;
  const next = (): number => {
    const t = tokens[i++];
    return t === undefined ? Number.NaN : Number.parseFloat(t);
  };
  const seg = (nx: number, ny: number) => {
    if (stroke !== null) {
      const h = stroke / 2;
      if (ny === y) rects.push([Math.min(x, nx), y - h, Math.max(x, nx), y + h]);
      else if (nx === x) rects.push([x - h, Math.min(y, ny), x + h, Math.max(y, ny)]);
    } else if (nx === x && ny !== y) edges.push([x, Math.min(y, ny), Math.max(y, ny)]);
    x = nx;
    y = ny;
  };
  while (i < tokens.length) {
    if (++budget.n > MAX_SVG_SHAPES) return null;
    const t = tokens[i]!;
    if (/[a-zA-Z]/.test(t)) {
      cmd = t;
      i++;
      if (cmd === 'z' || cmd === 'Z') {
        if (x !== sx || y !== sy) {
          if (x !== sx && y !== sy) return null;
          seg(sx, sy);
        }
        continue;
      }
    }
    switch (cmd) {
      case 'M':
      case 'm': {
        const a = next();
        const b = next();
        x = cmd === 'm' ? x + a : a;
        y = cmd === 'm' ? y + b : b;
        sx = x;
        sy = y;
        cmd = cmd === 'm' ? 'l' : 'L';
        break;
      }
      case 'H':
      case 'h': {
        const a = next();
        seg(cmd === 'h' ? x + a : a, y);
        break;
      }
      case 'V':
      case 'v': {
        const a = next();
        seg(x, cmd === 'v' ? y + a : a);
        break;
      }
      case 'L':
      case 'l': {
        const a = next();
        const b = next();
        const nx = cmd === 'l' ? x + a : a;
        const ny = cmd === 'l' ? y + b : b;
        if (nx !== x && ny !== y) return null;
        seg(nx, ny);
        break;
      }
      default:
        return null;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  }
  return stroke !== null ? rects : edges;
}

/** A scale-and-translate transform `[sx, sy, tx, ty]`: x' = sx·x + tx, y' = sy·y + ty. */
type Affine = [number, number, number, number];
const IDENTITY: Affine = [1, 1, 0, 0];

/** `inner` applied first, then `outer`. */
function compose(outer: Affine, inner: Affine): Affine {
  return [outer[0] * inner[0], outer[1] * inner[1], outer[0] * inner[2] + outer[2], outer[1] * inner[3] + outer[3]];
}

const TRANSFORM_STEP = /\s*(translate|scale|matrix)\s*\(([^()]{0,200})\)\s*,?/y;

/**
 * An SVG `transform` of `translate`, `scale` and axis-aligned `matrix(a 0 0 d e f)` steps, or `null` for
 * anything else (rotate, skew, a rotating matrix): such a drawing is left out, never guessed.
 */
export function parseTransform(t: string): Affine | null {
  const s = t.trim();
  if (s.length > 500) return null;
  let m = IDENTITY;
  let pos = 0;
  while (pos < s.length) {
    TRANSFORM_STEP.lastIndex = pos;
    const step = TRANSFORM_STEP.exec(s);
    if (!step) return null;
    pos = TRANSFORM_STEP.lastIndex;
    const a = (step[2] ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    if (!a.every(Number.isFinite) || a.length === 0) return null;
    let k: Affine;
    if (step[1] === 'translate' && a.length <= 2) k = [1, 1, a[0]!, a[1] ?? 0];
    else if (step[1] === 'scale' && a.length <= 2) k = [a[0]!, a[1] ?? a[0]!, 0, 0];
    else if (step[1] === 'matrix' && a.length === 6 && a[1] === 0 && a[2] === 0) k = [a[0]!, a[3]!, a[4]!, a[5]!];
    else return null;
    if (k[0] === 0 || k[1] === 0) return null;
    m = compose(m, k);
  }
  return m;
}

function transformShape(s: Shape, m: Affine): Shape {
  if (m === IDENTITY || (m[0] === 1 && m[1] === 1 && m[2] === 0 && m[3] === 0)) return s;
  const x = (v: number) => m[0] * v + m[2];
  const y = (v: number) => m[1] * v + m[3];
  return {
    dark: s.dark,
    rects: s.rects.map((r) => {
      const [x0, x1, y0, y1] = [x(r[0]), x(r[2]), y(r[1]), y(r[3])];
      return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
    }),
    edges: s.edges.map((e) => {
      const [y0, y1] = [y(e[1]), y(e[2])];
      return [x(e[0]), Math.min(y0, y1), Math.max(y0, y1)];
    }),
  };
}

/**
 * Collects the shapes of inline `<svg>` elements from the HTML scan's open/close tag events (html-inspect.ts,
 * one htmlparser2 pass) and rasterises each outermost SVG on its close.
 */
export class SvgCollector {
  readonly grids: ModuleGrid[] = [];
  private readonly budget = { n: 0 };
  private readonly paintWork = { n: 0 };
  private depth = 0;
  private skip = 0;
  private shapes: Shape[] = [];
  private svgs = 0;
  /** The transform of each open element inside the outermost `<svg>`. */
  private readonly ctm: Affine[] = [];

  /** Inside an `<svg>` (the scan does not record these elements for CSS). */
  get inside(): boolean {
    return this.depth > 0;
  }

  open(name: string, attrs: Record<string, string>): void {
    if (this.depth === 0) {
      if (name !== 'svg') return;
      this.shapes = [];
      this.skip = 0;
      this.ctm.length = 0;
    }
    // Every element inside pushes its transform (popped on its close), whatever else happens below.
    let own = parseTransform(attrs.transform ?? '');
    if (!own) {
      this.skip++;
      own = IDENTITY;
    }
    const m = compose(this.ctm[this.ctm.length - 1] ?? IDENTITY, own);
    this.ctm.push(m);
    if (name === 'svg') {
      this.depth++;
      return;
    }
    if (this.budget.n > MAX_SVG_SHAPES) return;
    const shape = name === 'rect' ? this.rect(attrs) : name === 'path' && attrs.d ? this.path(attrs, attrs.d) : null;
    if (shape) this.shapes.push(transformShape(shape, m));
  }

  private rect(attrs: Record<string, string>): Shape | null {
    if (++this.budget.n > MAX_SVG_SHAPES) return null;
    const fill = paint(attrs, 'fill');
    const x = num(attrs.x);
    const y = num(attrs.y);
    const w = num(attrs.width, Number.NaN);
    const h = num(attrs.height, Number.NaN);
    if (fill === 'none' || fill === null || ![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0) return null;
    return { dark: fill < 128, rects: [[x, y, x + w, y + h]], edges: [] };
  }

  private path(attrs: Record<string, string>, d: string): Shape | null {
    const fill = paint(attrs, 'fill');
    const stroke = paint(attrs, 'stroke');
    const stroked = stroke !== 'none' && stroke !== null;
    const colour = stroked ? stroke : fill;
    if (colour === 'none' || colour === null) return null;
    const width = stroked ? num(attrs['stroke-width'], 1) : null;
    if (width !== null && !(width > 0)) return null;
    const got = pathShape(d.slice(0, 1_000_000), width, this.budget);
    if (!got) return null;
    if (stroked) return { dark: colour < 128, rects: got as Shape['rects'], edges: [] };
    return { dark: colour < 128, rects: [], edges: got as Shape['edges'] };
  }

  close(name: string): void {
    if (this.depth === 0) return;
    this.ctm.pop();
    if (name !== 'svg') return;
    this.depth--;
    if (this.depth === 0 && this.skip === 0 && this.svgs++ < MAX_SVGS) {
      const g = rasterise(this.shapes, this.paintWork);
      if (g) this.grids.push(g);
    }
  }

  /** Work done: shapes / path segments read, grid cells painted. */
  get work(): { shapes: number; cellsPainted: number } {
    return { shapes: this.budget.n, cellsPainted: this.paintWork.n };
  }

  /** Which limit (if any) stopped the work. */
  get overLimit(): string | null {
    return this.budget.n > MAX_SVG_SHAPES
      ? `more than ${MAX_SVG_SHAPES} SVG shapes / path segments: the rest were not rasterised`
      : this.paintWork.n > MAX_PAINT_WORK
        ? `more than ${MAX_PAINT_WORK} SVG grid cells to paint: not rasterised`
        : this.svgs > MAX_SVGS
          ? `more than ${MAX_SVGS} inline SVGs: only the first ${MAX_SVGS} were rasterised`
          : null;
  }
}

function spend(work: { n: number }, n: number): boolean {
  work.n += n;
  return work.n <= MAX_PAINT_WORK;
}

/** The bounding box `[x0, y0, x1, y1]` of a shape's rectangles and edges (infinite when it has none). */
export function shapeBounds(s: Shape): [number, number, number, number] {
  let b: [number, number, number, number] = [
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ];
  for (const r of s.rects) b = [Math.min(b[0], r[0]), Math.min(b[1], r[1]), Math.max(b[2], r[2]), Math.max(b[3], r[3])];
  for (const e of s.edges) b = [Math.min(b[0], e[0]), Math.min(b[1], e[1]), Math.max(b[2], e[0]), Math.max(b[3], e[2])];
  return b;
}

/**
 * The module grid painted by axis-aligned shapes (SVG here, PDF vector paths in pdf-vector.ts), or `null` when
 * they do not draw one; cells painted are counted in `paintWork` against {@link MAX_PAINT_WORK}.
 */
export function rasterise(shapes: Shape[], paintWork: { n: number }): ModuleGrid | null {
  // Extent of all shapes; the "background" ones cover half of it or more and do not set the module size.
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  const boxes = shapes.map((s) => {
    const b = shapeBounds(s);
    minX = Math.min(minX, b[0]!);
    minY = Math.min(minY, b[1]!);
    maxX = Math.max(maxX, b[2]!);
    maxY = Math.max(maxY, b[3]!);
    return b;
  });
  if (!Number.isFinite(minX)) return null;
  const total = (maxX - minX) * (maxY - minY);
  const isBackground = (b: number[], s: Shape) =>
    s.rects.length + s.edges.length <= 4 && (b[2]! - b[0]!) * (b[3]! - b[1]!) >= total * 0.5;
  let unit = Number.POSITIVE_INFINITY;
  let ox = Number.POSITIVE_INFINITY;
  let oy = Number.POSITIVE_INFINITY;
  let ex = Number.NEGATIVE_INFINITY;
  let ey = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < shapes.length; i++) {
    const s = shapes[i]!;
    const b = boxes[i]!;
    if (isBackground(b, s)) continue;
    for (const r of s.rects) unit = Math.min(unit, r[2] - r[0], r[3] - r[1]);
    for (const e of s.edges) unit = Math.min(unit, e[2] - e[1]);
    ox = Math.min(ox, b[0]!);
    oy = Math.min(oy, b[1]!);
    ex = Math.max(ex, b[2]!);
    ey = Math.max(ey, b[3]!);
  }
  if (!(unit > 1e-6) || !Number.isFinite(ox)) return null;
  const cols = Math.round((ex - ox) / unit);
  const rows = Math.round((ey - oy) / unit);
  if (cols < 21 || rows < 21 || cols > MAX_GRID_SIDE || rows > MAX_GRID_SIDE) return null;
  // One ring of modules around the code tells the colour of its quiet zone.
  const W = cols + 2;
  const H = rows + 2;
  const cells = new Uint8Array(W * H);
  const first = (lo: number, o: number) => Math.ceil((lo - o) / unit - 0.5) + 1;
  for (const s of shapes) {
    const v = s.dark ? 1 : 0;
    for (const r of s.rects) {
      const x0 = Math.max(0, first(r[0], ox));
      const x1 = Math.min(W, first(r[2], ox));
      const y0 = Math.max(0, first(r[1], oy));
      const y1 = Math.min(H, first(r[3], oy));
      for (let y = y0; y < y1; y++) {
        if (!spend(paintWork, Math.max(0, x1 - x0))) return null;
        cells.fill(v, y * W + x0, y * W + Math.max(x0, x1));
      }
    }
    if (s.edges.length === 0) continue;
    const crossings: number[][] = Array.from({ length: H }, () => []);
    for (const e of s.edges) {
      const y0 = Math.max(0, first(e[1], oy));
      const y1 = Math.min(H, first(e[2], oy));
      for (let y = y0; y < y1; y++) crossings[y]!.push(e[0]);
      if (!spend(paintWork, Math.max(0, y1 - y0))) return null;
    }
    for (let y = 0; y < H; y++) {
      const xs = crossings[y]!.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const x0 = Math.max(0, first(xs[k]!, ox));
        const x1 = Math.min(W, first(xs[k + 1]!, ox));
        if (!spend(paintWork, Math.max(0, x1 - x0))) return null;
        if (x1 > x0) cells.fill(v, y * W + x0, y * W + x1);
      }
    }
  }
  return normaliseRing(cells, W, H);
}

// Two linear tests each (a single `[set]*X[set]*$` pattern backtracks quadratically on a long failing line).
const BLOCK_LINE = {
  test: (l: string) =>
    l.length <= MAX_GRID_SIDE * 4 && /^[ \u00a0\u2588\u2580\u2584]+$/.test(l) && /[\u2588\u2580\u2584]/.test(l),
};
const HASH_LINE = { test: (l: string) => l.length <= MAX_GRID_SIDE * 4 && /^[ \u00a0#]+$/.test(l) && l.includes('#') };

/**
 * Module grids drawn as text: runs of 11+ lines of block characters (`▀`/`▄` give two modules a character, `█`
 * or `#` one module per run of the narrowest dark width) or `#`/space art. A code drawn with a dark quiet zone
 * (light modules on dark) is inverted back. Also says why the scan stopped early (more than
 * {@link MAX_TEXT_LINES} lines), or `null`, and how many lines it read.
 */
export function textDrawings(text: string): { grids: ModuleGrid[]; cut: string | null; lines: number } {
  const lines = text.slice(0, 5_000_000).split(/\r?\n/, MAX_TEXT_LINES + 1);
  const cut =
    lines.length > MAX_TEXT_LINES
      ? `more than ${MAX_TEXT_LINES} text lines: the rest were not looked at for block-character codes`
      : null;
  if (cut) lines.length = MAX_TEXT_LINES;
  const grids: ModuleGrid[] = [];
  let i = 0;
  while (i < lines.length && grids.length < 5) {
    const kind = BLOCK_LINE.test(lines[i]!) ? BLOCK_LINE : HASH_LINE.test(lines[i]!) ? HASH_LINE : null;
    if (!kind) {
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && j - i < MAX_GRID_SIDE * 2 && kind.test(lines[j]!)) j++;
    const block = lines.slice(i, j);
    i = j;
    if (block.length < 11) continue;
    const g = textGrid(block);
    if (g) grids.push(g);
  }
  return { grids, cut, lines: lines.length };
}

function textGrid(lines: string[]): ModuleGrid | null {
  const half = lines.some((l) => /[\u2580\u2584]/.test(l));
  const width = Math.max(...lines.map((l) => l.length));
  if (width > MAX_GRID_SIDE * 4) return null;
  let cells: boolean[][] = [];
  for (const l of lines) {
    const chars = [...l.padEnd(width, ' ')];
    if (half) {
      cells.push(chars.map((c) => c === '\u2588' || c === '\u2580'));
      cells.push(chars.map((c) => c === '\u2588' || c === '\u2584'));
    } else cells.push(chars.map((c) => c === '\u2588' || c === '#'));
  }
  cells = trim(invertDarkBorder(cells));
  if (!half) {
    // Narrowest dark run = characters per module.
    let k = Number.POSITIVE_INFINITY;
    for (const r of cells) {
      let run = 0;
      for (let x = 0; x <= r.length; x++) {
        if (r[x]) run++;
        else if (run > 0) {
          k = Math.min(k, run);
          run = 0;
        }
      }
    }
    if (!Number.isFinite(k)) return null;
    cells = cells.map((r) => r.filter((_, x) => x % k === Math.floor(k / 2)));
  }
  const h = cells.length;
  const w = cells[0]?.length ?? 0;
  if (h < 21 || w < 21 || h > MAX_GRID_SIDE || w > MAX_GRID_SIDE) return null;
  const dark = cells.reduce((n, r) => n + r.filter(Boolean).length, 0);
  if (dark < h * w * 0.2 || dark > h * w * 0.8) return null;
  return { rows: cells };
}
