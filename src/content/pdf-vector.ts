/**
 * QR codes drawn in a PDF page with vector paths instead of an image: filled rectangles (`re f`) and simple
 * axis-aligned paths (`m`/`l`/`h` then `f`/`f*`), read from pdfjs's operator list with the current
 * transformation matrix (`cm`, `q`/`Q`, form XObject matrices) and fill colour, rasterised with the SVG
 * recogniser's module-grid painter (drawn-codes.ts) and decoded like a page image.
 *
 * Only pages with no image and at least {@link MIN_VECTOR_SHAPES} filled shapes are looked at. A shape takes
 * part when its shorter side is at most {@link MAX_MODULE_RUN} modules (the smallest side on the page), so a
 * header bar or a page background does not stretch the grid; rotated or skewed transforms, curves and stroked
 * paths are left out (a ruled table is stroked or drawn with hairline rectangles, which give no square grid).
 *
 * Work-counted: path points read ({@link VECTOR_LIMITS}), shapes kept, grid cells painted, pixels decoded.
 * @module
 */
import { MAX_PAINT_WORK, rasterise, type Shape, shapeBounds } from './drawn-codes.js';
import { greyOf, type ModuleGrid } from './drawn-grid.js';

export const VECTOR_LIMITS = {
  /** Path points (and operators) read per page. */
  maxPoints: 1_000_000,
  /** Filled shapes kept per page. */
  maxShapes: 50_000,
} as const;
/** Fewest filled shapes on a page before it is tried as a drawn code (a version 1 code has ~200 dark modules). */
export const MIN_VECTOR_SHAPES = 50;
/** Longest "short side" of a shape, in modules, for it to be part of a drawing. */
export const MAX_MODULE_RUN = 7;

/** The pdfjs operator numbers this reader needs (from `pdfjs.OPS`). */
export interface VectorOps {
  save: number;
  restore: number;
  transform: number;
  constructPath: number;
  setFillRGBColor: number;
  setFillTransparent: number;
  paintFormXObjectBegin: number;
  paintFormXObjectEnd: number;
  fill: number;
  eoFill: number;
  fillStroke: number;
  eoFillStroke: number;
  closeFillStroke: number;
  closeEOFillStroke: number;
}

type Matrix = [number, number, number, number, number, number];

/** `m` applied first, then `ctm` (the canvas `transform` semantics pdfjs uses). */
function multiply(ctm: Matrix, m: Matrix): Matrix {
  const [a, b, c, d, e, f] = ctm;
  return [
    a * m[0] + c * m[1],
    b * m[0] + d * m[1],
    a * m[2] + c * m[3],
    b * m[2] + d * m[3],
    a * m[4] + c * m[5] + e,
    b * m[4] + d * m[5] + f,
  ];
}

function asMatrix(v: unknown): Matrix | null {
  if (!v || typeof (v as ArrayLike<number>).length !== 'number' || (v as ArrayLike<number>).length !== 6) return null;
  const m = Array.from(v as ArrayLike<number>) as Matrix;
  return m.every(Number.isFinite) ? m : null;
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * A filled path as an axis-aligned shape in device space (y down), or `null` when it is anything else
 * (curves, diagonal edges, a skewed or rotated-by-other-than-90° transform).
 */
function pathShape(path: ArrayLike<number>, ctm: Matrix, dark: boolean, work: { n: number }): Shape | null {
  const axis = (near(ctm[1], 0) && near(ctm[2], 0)) || (near(ctm[0], 0) && near(ctm[3], 0));
  if (!axis) return null;
  const pt = (x: number, y: number): [number, number] => [
    ctm[0] * x + ctm[2] * y + ctm[4],
    -(ctm[1] * x + ctm[3] * y + ctm[5]),
  ];
  const rects: Shape['rects'] = [];
  const edges: Shape['edges'] = [];
  let sub: [number, number][] = [];
  const flush = (): boolean => {
    if (sub.length < 3) {
      sub = [];
      return true;
    }
    const closed = [...sub, sub[0]!];
    const xs = sub.map((p) => p[0]);
    const ys = sub.map((p) => p[1]);
    const local: Shape['edges'] = [];
    for (let k = 0; k + 1 < closed.length; k++) {
      const [x0, y0] = closed[k]!;
      const [x1, y1] = closed[k + 1]!;
      if (near(x0, x1)) {
        if (!near(y0, y1)) local.push([x0, Math.min(y0, y1), Math.max(y0, y1)]);
      } else if (!near(y0, y1)) return false;
    }
    if (sub.length === 4 && local.length === 2) {
      rects.push([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
    } else edges.push(...local);
    sub = [];
    return true;
  };
  let i = 0;
  while (i < path.length) {
    if (++work.n > VECTOR_LIMITS.maxPoints) return null;
    const op = path[i]!;
    if (op === 0 || op === 1) {
      const x = path[i + 1];
      const y = path[i + 2];
      if (x === undefined || y === undefined) return null;
      if (op === 0 && !flush()) return null;
      const p = pt(x, y);
      const last = sub[sub.length - 1];
      if (!last || !near(last[0], p[0]) || !near(last[1], p[1])) sub.push(p);
      i += 3;
    } else if (op === 4) {
      if (!flush()) return null;
      i += 1;
    } else return null;
  }
  if (!flush()) return null;
  if (rects.length === 0 && edges.length === 0) return null;
  return { dark, rects, edges };
}

/** Width and height of a shape's bounding box. */
function extent(s: Shape): [number, number] {
  const [x0, y0, x1, y1] = shapeBounds(s);
  return [x1 - x0, y1 - y0];
}

export interface VectorDrawing {
  grid: ModuleGrid | null;
  /** Filled axis-aligned shapes found on the page. */
  shapes: number;
  /** The work limit that stopped the reader, or `null`. */
  cut: string | null;
  /** Operators and path points read, grid cells painted. */
  work: { points: number; cellsPainted: number };
}

/** The module grid a page's filled vector paths draw, from its operator list. */
export function vectorDrawing(
  ops: { fnArray: ArrayLike<number>; argsArray: ArrayLike<unknown> },
  OPS: VectorOps,
): VectorDrawing {
  const FILLS = new Set([
    OPS.fill,
    OPS.eoFill,
    OPS.fillStroke,
    OPS.eoFillStroke,
    OPS.closeFillStroke,
    OPS.closeEOFillStroke,
  ]);
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  let fill: number | null = 0;
  const stack: { ctm: Matrix; fill: number | null }[] = [];
  const shapes: Shape[] = [];
  const work = { n: 0 };
  let cut: string | null = null;
  for (let i = 0; i < ops.fnArray.length; i++) {
    if (++work.n > VECTOR_LIMITS.maxPoints) {
      cut = `more than ${VECTOR_LIMITS.maxPoints} vector path points: the page drawing was not rasterised`;
      break;
    }
    const fn = ops.fnArray[i];
    const args = ops.argsArray[i] as unknown[] | null | undefined;
    if (fn === OPS.save) {
      if (stack.length < 1000) stack.push({ ctm, fill });
    } else if (fn === OPS.restore) {
      const top = stack.pop();
      if (top) ({ ctm, fill } = top);
    } else if (fn === OPS.transform) {
      const m = asMatrix(args);
      if (m) ctm = multiply(ctm, m);
    } else if (fn === OPS.paintFormXObjectBegin) {
      stack.push({ ctm, fill });
      const m = asMatrix(args?.[0]);
      if (m) ctm = multiply(ctm, m);
    } else if (fn === OPS.paintFormXObjectEnd) {
      const top = stack.pop();
      if (top) ({ ctm, fill } = top);
    } else if (fn === OPS.setFillRGBColor) {
      fill = typeof args?.[0] === 'string' ? greyOf(args[0]) : null;
    } else if (fn === OPS.setFillTransparent) {
      fill = null;
    } else if (fn === OPS.constructPath) {
      const paint = args?.[0];
      const path = (args?.[1] as unknown[] | undefined)?.[0];
      if (fill === null || typeof paint !== 'number' || !FILLS.has(paint) || !path) continue;
      const shape = pathShape(path as ArrayLike<number>, ctm, fill < 128, work);
      if (work.n > VECTOR_LIMITS.maxPoints) {
        cut = `more than ${VECTOR_LIMITS.maxPoints} vector path points: the page drawing was not rasterised`;
        break;
      }
      if (!shape) continue;
      // Rectangles paint the same whether in one path or many: one shape each, so each is measured alone.
      const parts: Shape[] = shape.rects.map((r) => ({ dark: shape.dark, rects: [r], edges: [] }));
      if (shape.edges.length > 0) parts.push({ dark: shape.dark, rects: [], edges: shape.edges });
      if (shapes.length + parts.length > VECTOR_LIMITS.maxShapes) {
        cut = `more than ${VECTOR_LIMITS.maxShapes} filled shapes: the page drawing was not rasterised`;
        break;
      }
      shapes.push(...parts);
    }
  }
  if (cut) return { grid: null, shapes: shapes.length, cut, work: { points: work.n, cellsPainted: 0 } };
  if (shapes.length < MIN_VECTOR_SHAPES)
    return { grid: null, shapes: shapes.length, cut: null, work: { points: work.n, cellsPainted: 0 } };
  // The module: the smallest side of a dark rectangle or edge; shapes much thicker than a module (a header
  // bar, a page background) are not part of a code.
  let unit = Number.POSITIVE_INFINITY;
  const sizes = shapes.map(extent);
  shapes.forEach((s, k) => {
    if (!s.dark) return;
    if (s.rects.length > 0) unit = Math.min(unit, ...sizes[k]!);
    for (const e of s.edges) unit = Math.min(unit, e[2] - e[1]);
  });
  if (!(unit > 1e-6))
    return { grid: null, shapes: shapes.length, cut: null, work: { points: work.n, cellsPainted: 0 } };
  const kept = shapes.filter((s, k) => s.edges.length > 0 || Math.min(...sizes[k]!) <= unit * MAX_MODULE_RUN + 1e-6);
  const paintWork = { n: 0 };
  const grid = kept.length >= MIN_VECTOR_SHAPES ? rasterise(kept, paintWork) : null;
  return {
    grid,
    shapes: shapes.length,
    work: { points: work.n, cellsPainted: paintWork.n },
    cut:
      paintWork.n > MAX_PAINT_WORK
        ? `more than ${MAX_PAINT_WORK} grid cells to paint: the page drawing was not rasterised`
        : null,
  };
}
