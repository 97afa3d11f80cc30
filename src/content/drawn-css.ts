/**
 * QR codes drawn with CSS boxes: a `display: grid` container of boxes, a `display: flex; flex-wrap: wrap`
 * container of fixed-width boxes, or rows of `display: flex` boxes, each box a module coloured by its
 * `background`/`background-color`, set inline or by `<style>` rules. The HTML scan (html-inspect.ts) records the
 * elements once; the stylesheet is applied afterwards, so a `<style>` after the drawing counts too.
 *
 * Only what a drawing needs is understood: selectors that are a compound of a type, classes and an id (`td`,
 * `.qr i`, `div.b`, `#q > span`: at most one ancestor or parent step), and the properties `display`,
 * `grid-template-columns`, `flex-wrap`/`flex-flow`, `width`, `background`, `background-color`; `!important`
 * beats specificity; inline styles beat rules. Everything is work-counted (see {@link CSS_LIMITS}); a cut is
 * reported by the caller as a content gap, never silent.
 * @module
 */
import { greyOf, MAX_GRID_SIDE, type ModuleGrid, normaliseRows } from './drawn-grid.js';

export const CSS_LIMITS = {
  /** Elements recorded per HTML part (outside SVG). */
  maxElements: 200_000,
  /** Characters of `<style>` text read per HTML part. */
  maxStyleChars: 1_000_000,
  /** Selectors kept per HTML part. */
  maxSelectors: 5_000,
  /** Selector tests (candidate rule × element, plus ancestor steps) per HTML part. */
  maxMatchWork: 500_000,
  /** Most modules a side. */
  maxGridSide: MAX_GRID_SIDE,
  /** Most drawings returned per part. */
  maxGrids: 5,
} as const;

/** One element as the HTML scan recorded it. */
export interface CssElement {
  parent: number;
  tag: string;
  id: string | null;
  classes: string[];
  /** Inline `style` attribute (bounded). */
  style: string | null;
  /** The `bgcolor` presentational attribute. */
  bgcolor: string | null;
}

interface Compound {
  tag: string | null;
  id: string | null;
  classes: string[];
}

interface Rule {
  subject: Compound;
  ancestor: Compound | null;
  /** `>` (parent) or ` ` (any ancestor). */
  combinator: '>' | ' ' | null;
  specificity: number;
  order: number;
  decls: Map<string, { value: string; important: boolean }>;
}

const PROPS = new Set([
  'display',
  'grid-template-columns',
  'flex-wrap',
  'flex-flow',
  'width',
  'background',
  'background-color',
]);

/** Declarations of a style block, only the properties a drawing needs. */
export function parseDeclarations(block: string): Map<string, { value: string; important: boolean }> {
  const out = new Map<string, { value: string; important: boolean }>();
  for (const part of block.split(';')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const prop = part.slice(0, colon).trim().toLowerCase();
    if (!PROPS.has(prop)) continue;
    let value = part
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    const important = value.endsWith('!important');
    if (important) value = value.slice(0, -'!important'.length).trim();
    out.set(prop, { value: value.slice(0, 2000), important });
  }
  return out;
}

const COMPOUND = /^([a-z][a-z0-9-]{0,30}|\*)?((?:[.#][-_a-z0-9]{1,100}){0,8})$/;

function parseCompound(s: string): Compound | null {
  if (s.length > 400) return null;
  const m = COMPOUND.exec(s);
  if (!m || (!m[1] && !m[2])) return null;
  const tag = m[1] && m[1] !== '*' ? m[1] : null;
  let id: string | null = null;
  const classes: string[] = [];
  for (const t of (m[2] ?? '').match(/[.#][-_a-z0-9]+/g) ?? []) {
    if (t[0] === '#') {
      if (id !== null) return null;
      id = t.slice(1);
    } else classes.push(t.slice(1));
  }
  return { tag, id, classes };
}

function specificityOf(c: Compound): number {
  return (c.id ? 10_000 : 0) + c.classes.length * 100 + (c.tag ? 1 : 0);
}

/** Parse one selector (`a`, `a b`, `a > b`) into a rule skeleton, or `null` when it is more than that. */
function parseSelector(sel: string): Pick<Rule, 'subject' | 'ancestor' | 'combinator' | 'specificity'> | null {
  const s = sel
    .trim()
    .toLowerCase()
    .replace(/\s*>\s*/g, '>');
  if (!s || s.length > 400) return null;
  const gt = s.indexOf('>');
  const sp = s.indexOf(' ');
  if (gt >= 0 && sp >= 0) return null;
  const cut = gt >= 0 ? gt : sp;
  if (cut < 0) {
    const subject = parseCompound(s);
    return subject ? { subject, ancestor: null, combinator: null, specificity: specificityOf(subject) } : null;
  }
  const ancestor = parseCompound(s.slice(0, cut));
  const subject = parseCompound(s.slice(cut + 1).trim());
  if (!ancestor || !subject) return null;
  return {
    subject,
    ancestor,
    combinator: gt >= 0 ? '>' : ' ',
    specificity: specificityOf(subject) + specificityOf(ancestor),
  };
}

export interface Stylesheet {
  rules: Rule[];
  /** Rules by the key an element must have: `#id`, `.class`, `tag` or `*`. */
  index: Map<string, Rule[]>;
  /** Why part of the stylesheet was not read, or `null`. */
  cut: string | null;
}

/**
 * Rules of `<style>` text: comments dropped, `@media`/`@supports` blocks read through, other at-rules skipped.
 * One pass over the text.
 */
export function parseStylesheet(texts: readonly string[]): Stylesheet {
  const sheet: Stylesheet = { rules: [], index: new Map(), cut: null };
  let total = 0;
  let selectors = 0;
  for (const raw of texts) {
    if (total + raw.length > CSS_LIMITS.maxStyleChars) {
      sheet.cut = `more than ${CSS_LIMITS.maxStyleChars} characters of <style> text: the rest was not read`;
      break;
    }
    total += raw.length;
    const text = stripComments(raw);
    let i = 0;
    let depth = 0;
    // The next brace of each kind, searched again only once passed: one pass over the text, whatever its shape.
    let nextOpen = -2;
    let nextClose = -2;
    while (i < text.length) {
      if (nextOpen !== -1 && nextOpen < i) nextOpen = text.indexOf('{', i);
      if (nextClose !== -1 && nextClose < i) nextClose = text.indexOf('}', i);
      const open = nextOpen;
      const close = nextClose;
      if (close >= 0 && (open < 0 || close < open)) {
        // End of an @media block we read through.
        if (depth > 0) depth--;
        i = close + 1;
        continue;
      }
      if (open < 0) break;
      const prelude = text.slice(i, open).trim();
      if (prelude.startsWith('@')) {
        if (/^@(?:media|supports)\b/i.test(prelude)) {
          depth++;
          i = open + 1;
        } else i = skipBlock(text, open);
        continue;
      }
      const end = close > open ? close : -1;
      const body = text.slice(open + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end + 1;
      const decls = parseDeclarations(body);
      if (decls.size === 0) continue;
      for (const sel of prelude.split(',')) {
        if (++selectors > CSS_LIMITS.maxSelectors) {
          sheet.cut = `more than ${CSS_LIMITS.maxSelectors} CSS selectors: the rest were not applied`;
          return sheet;
        }
        const parsed = parseSelector(sel);
        if (!parsed) continue;
        const rule: Rule = { ...parsed, order: sheet.rules.length, decls };
        sheet.rules.push(rule);
        const s = parsed.subject;
        const key = s.id ? `#${s.id}` : s.classes[0] ? `.${s.classes[0]}` : (s.tag ?? '*');
        const list = sheet.index.get(key);
        if (list) list.push(rule);
        else sheet.index.set(key, [rule]);
      }
    }
  }
  return sheet;
}

function stripComments(s: string): string {
  if (!s.includes('/*')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const start = s.indexOf('/*', i);
    if (start < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, start);
    const end = s.indexOf('*/', start + 2);
    i = end < 0 ? s.length : end + 2;
  }
  return out;
}

/** Index after the block opened at `open`, nested braces counted. */
function skipBlock(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i + 1;
  }
  return text.length;
}

function matches(c: Compound, e: CssElement): boolean {
  if (c.tag && c.tag !== e.tag) return false;
  if (c.id && c.id !== e.id) return false;
  for (const k of c.classes) if (!e.classes.includes(k)) return false;
  return true;
}

/** Computed values of the properties a drawing needs, for every element: one pass, work-counted. */
function computeStyles(
  els: readonly CssElement[],
  sheet: Stylesheet,
): { styles: Map<string, string>[]; cut: string | null; work: number } {
  const styles: Map<string, string>[] = [];
  let work = 0;
  let cut: string | null = null;
  const ancestorSteps = 32;
  for (let n = 0; n < els.length; n++) {
    const e = els[n]!;
    const best = new Map<string, { value: string; weight: number }>();
    const apply = (decls: Rule['decls'], weight: number) => {
      for (const [prop, d] of decls) {
        const w = weight + (d.important ? 1e9 : 0);
        const prev = best.get(prop);
        if (!prev || prev.weight <= w) best.set(prop, { value: d.value, weight: w });
      }
    };
    if (e.bgcolor) best.set('background-color', { value: e.bgcolor, weight: -1 });
    if (cut === null && sheet.rules.length > 0) {
      const keys = [...(e.id ? [`#${e.id}`] : []), ...e.classes.map((c) => `.${c}`), e.tag, '*'];
      const seen = new Set<Rule>();
      for (const key of keys) {
        for (const rule of sheet.index.get(key) ?? []) {
          if (++work > CSS_LIMITS.maxMatchWork) {
            cut = `more than ${CSS_LIMITS.maxMatchWork} CSS selector tests: the stylesheet was applied only in part`;
            break;
          }
          if (seen.has(rule) || !matches(rule.subject, e)) continue;
          seen.add(rule);
          let ok = true;
          if (rule.ancestor) {
            ok = false;
            let p = e.parent;
            for (let k = 0; p >= 0 && k < ancestorSteps; k++) {
              work++;
              const pe = els[p]!;
              if (matches(rule.ancestor, pe)) {
                ok = true;
                break;
              }
              if (rule.combinator === '>') break;
              p = pe.parent;
            }
          }
          if (ok) apply(rule.decls, rule.specificity * 100_000 + rule.order);
        }
        if (cut) break;
      }
    }
    if (e.style) apply(parseDeclarations(e.style), 1e8);
    const out = new Map<string, string>();
    for (const [k, v] of best) out.set(k, v.value);
    styles.push(out);
  }
  return { styles, cut, work };
}

/** Grey level of an element's background, `null` when none or not understood. */
function background(style: Map<string, string>): number | null {
  const v = style.get('background-color') ?? style.get('background');
  if (!v) return null;
  const colour = /(#[0-9a-f]{3,8}\b|rgba?\([^)]{0,60}\)|\b[a-z]{3,20}\b)/.exec(v)?.[1];
  return colour ? greyOf(colour) : null;
}

function px(v: string | undefined): number | null {
  const m = v ? /^(\d{1,6}(?:\.\d{1,4})?)px$/.exec(v.trim()) : null;
  return m ? Number(m[1]) : null;
}

/** Columns of a CSS grid: `grid-template-columns: repeat(N, …)` or N listed tracks. */
function gridColumns(style: Map<string, string>): number | null {
  if (!/^(?:inline-)?grid$/.test(style.get('display') ?? '')) return null;
  const cols = style.get('grid-template-columns')?.trim();
  if (!cols) return null;
  const rep = /^repeat\(\s*(\d{1,3})\s*,/.exec(cols);
  if (rep) return Number(rep[1]);
  return cols.split(/\s+/).filter(Boolean).length;
}

const isFlex = (s: Map<string, string>) => /^(?:inline-)?flex$/.test(s.get('display') ?? '');
const wraps = (s: Map<string, string>) => /\bwrap\b/.test(`${s.get('flex-wrap') ?? ''} ${s.get('flex-flow') ?? ''}`);

export interface CssDrawings {
  grids: { grid: ModuleGrid; layout: 'grid' | 'flex' }[];
  /** The candidate tables (rows of cell element indices) coloured with the computed backgrounds. */
  tables: ModuleGrid[];
  /** Why part of the CSS was not examined, or `null`. */
  cut: string | null;
  /** Selector tests made (against {@link CSS_LIMITS}.maxMatchWork). */
  selectorTests: number;
}

/**
 * Module grids drawn by CSS layouts among the recorded elements: grid containers, wrapping flex containers of
 * fixed-width boxes, and runs of 21+ flex rows of equal box count under one parent.
 */
export function cssDrawings(
  els: readonly CssElement[],
  styleTexts: readonly string[],
  tableCells: readonly (readonly (readonly number[])[])[] = [],
): CssDrawings {
  const sheet = parseStylesheet(styleTexts);
  const { styles, cut: matchCut, work } = computeStyles(els, sheet);
  const children: number[][] = els.map(() => []);
  for (let n = 0; n < els.length; n++) {
    const p = els[n]!.parent;
    if (p >= 0) children[p]!.push(n);
  }
  const dark = (n: number) => {
    if (n < 0) return false;
    const g = background(styles[n]!);
    return g !== null && g < 128;
  };
  const grids: CssDrawings['grids'] = [];
  const max = CSS_LIMITS.maxGridSide;
  const accept = (rows: boolean[][], layout: 'grid' | 'flex') => {
    if (grids.length >= CSS_LIMITS.maxGrids || rows.length < 21 || rows.length > max) return;
    const n = rows.length * (rows[0]?.length ?? 0);
    const d = rows.reduce((k, r) => k + r.filter(Boolean).length, 0);
    if (d < n * 0.2 || d > n * 0.8) return;
    const g = normaliseRows(rows);
    if (g) grids.push({ grid: g, layout });
  };
  const chunk = (cells: boolean[], cols: number) => {
    const rows: boolean[][] = [];
    for (let i = 0; i + cols <= cells.length; i += cols) rows.push(cells.slice(i, i + cols));
    return rows;
  };
  for (let n = 0; n < els.length && grids.length < CSS_LIMITS.maxGrids; n++) {
    const kids = children[n]!;
    if (kids.length < 21) continue;
    const s = styles[n]!;
    const cols = gridColumns(s);
    if (cols !== null) {
      if (cols >= 21 && cols <= max && kids.length >= 21 * 21) accept(chunk(kids.map(dark), cols), 'grid');
      continue;
    }
    if (isFlex(s) && wraps(s) && kids.length >= 21 * 21) {
      const width = px(s.get('width'));
      const box = px(styles[kids[0]!]!.get('width'));
      if (width && box && kids.every((k) => px(styles[k]!.get('width')) === box)) {
        const c = Math.floor(width / box + 1e-6);
        if (c >= 21 && c <= max) accept(chunk(kids.map(dark), c), 'flex');
      }
      continue;
    }
    // Rows of flex boxes: the children that are flex rows of one box count.
    const rows = kids.filter((k) => isFlex(styles[k]!) && !wraps(styles[k]!));
    if (rows.length < 21) continue;
    const width = children[rows[0]!]!.length;
    if (width < 21 || width > max || !rows.every((r) => children[r]!.length === width)) continue;
    accept(
      rows.map((r) => children[r]!.map(dark)),
      'flex',
    );
  }
  const tables: ModuleGrid[] = [];
  for (const t of tableCells) {
    if (tables.length >= CSS_LIMITS.maxGrids) break;
    const rows = t.map((r) => r.map(dark));
    const n = rows.length * (rows[0]?.length ?? 0);
    const d = rows.reduce((k, r) => k + r.filter(Boolean).length, 0);
    if (d <= n * 0.2 || n - d <= n * 0.2 || rows.length > max || (rows[0]?.length ?? 0) > max) continue;
    const g = normaliseRows(rows);
    if (g) tables.push(g);
  }
  return { grids, tables, cut: sheet.cut ?? matchCut, selectorTests: work };
}
