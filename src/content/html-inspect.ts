/**
 * One streaming htmlparser2 pass over an HTML part (linear, no regular expression over the markup) that feeds
 * both the inspection of credential-harvesting pages (form action, password field, script redirect, meta
 * refresh, payload decoding: {@link HtmlFacts}) and the recognisers of QR codes drawn without an image: HTML
 * tables (a cell a module), CSS boxes (drawn-css.ts), inline SVG (drawn-codes.ts) and block-character text.
 *
 * Script text and event-handler / `javascript:` attribute values are the only places the script traits are
 * looked for (before, the whole document was searched, so a newsletter that wrote "window.open(" in its text
 * counted). Only the first 5,000,000 characters are parsed; every recogniser is work-counted and a cut is
 * returned in `cuts` for the caller to report as a content gap.
 * @module
 */
import { Parser } from 'htmlparser2';
import type { HtmlFacts } from '../core/content-facts.js';
import type { DrawnTechnique } from '../core/evidence.js';
import { boundValue } from '../core/finding.js';
import { SvgCollector, textDrawings } from './drawn-codes.js';
import { CSS_LIMITS, type CssElement, cssDrawings } from './drawn-css.js';
import type { ModuleGrid } from './drawn-grid.js';
import { urlsFromText } from './url-extract.js';

export { greyOf, gridPixels, type ModuleGrid } from './drawn-grid.js';

/** Most characters of an HTML part parsed. */
export const MAX_HTML_CHARS = 5_000_000;
/** Most table cells read per HTML part. */
export const MAX_TABLE_CELLS = 200_000;
const LINK_ATTRIBUTES = new Set(['href', 'xlink:href', 'src', 'action', 'formaction', 'background', 'data-href']);
const MAX_LINK_VALUES = 2_000;

/** Deepest nesting of tables followed (a drawn code is one table, perhaps inside a layout table or two). */
const MAX_TABLE_DEPTH = 32;
/** Most characters of script text (and event-handler attributes) searched for script traits. */
const MAX_SCRIPT_CHARS = 5_000_000;

export interface Drawing {
  grid: ModuleGrid;
  technique: DrawnTechnique;
  /** How it was drawn, for the evidence location: "table drawn as a 25-row grid". */
  how: string;
}

export interface HtmlScan {
  facts: HtmlFacts;
  /** Module grids drawn by tables, SVG, CSS boxes and block-character text, in that order. */
  drawings: Drawing[];
  /** The text with its line breaks (`<br>`, block ends, `<pre>` newlines), entities decoded. */
  textLines: string;
  /** Work limits reached (each a content gap for the caller), in the order met. */
  cuts: string[];
  /**
   * `http(s)` values of link attributes (href, src, action, formaction, background, data-href), entities
   * decoded, in document order, then URLs written in script text: for `urlsFromHtml` (url-extract.ts).
   */
  linkValues: string[];
  /** Work done, each against its limit: for the budget figures (bench/README.md) and tests. */
  work: HtmlWork;
}

export interface HtmlWork {
  characters: number;
  elements: number;
  tableCells: number;
  selectorTests: number;
  svgShapes: number;
  svgCellsPainted: number;
  textLines: number;
}

const SCRIPT_REDIRECT =
  /\blocation\s*\.\s*(?:href\s*=|replace\s*\(|assign\s*\()|\bwindow\s*\.\s*location\s*=|\bdocument\s*\.\s*location\s*=|\bwindow\s*\.\s*open\s*\(/;
const DECODES_PAYLOAD = /\batob\s*\(|\bunescape\s*\(|fromcharcode\s*\(/;
/** Markup written by script (`document.write('<input type=password>')`). */
const SCRIPT_PASSWORD = /\btype\s*=\s*["']?password\b/;
const SCRIPT_REFRESH = /http-equiv\s*=\s*["']?refresh\b/;

const LINE_END_TAGS = new Set(['p', 'div', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);

/**
 * Deepest element nesting handed to htmlparser2. Its open-element stack is an array it `unshift`s and searches
 * (`indexOf` on every end tag), so its cost grows with depth times tags: 1,000,000 nested `<div>`s took minutes.
 * Deeper start tags are dropped (as htmlparser2 itself drops a second `<form>`), which keeps the parse linear;
 * the cut is reported. Real mail nests a few dozen levels.
 */
export const MAX_HTML_DEPTH = 256;

/** The htmlparser2 internals the depth guard needs (stable since htmlparser2 8; test/content checks the guard). */
interface ParserInternals {
  stack: string[];
  tagname: string;
  openTagStart: number;
  startIndex: number;
  emitOpenTag(name: string): void;
}

const VOID_ELEMENTS = new Set(
  'area base basefont br col command embed frame hr image img input isindex keygen link meta param source track wbr'.split(
    ' ',
  ),
);

/** An htmlparser2 Parser whose element nesting stops at {@link MAX_HTML_DEPTH}; `dropped()` counts cut tags. */
function depthBoundedParser(
  handler: ConstructorParameters<typeof Parser>[0],
  options: ConstructorParameters<typeof Parser>[1],
): { parser: Parser; dropped: () => number } {
  const parser = new Parser(handler, options);
  const p = parser as unknown as ParserInternals;
  const emit = p.emitOpenTag.bind(parser);
  let dropped = 0;
  p.emitOpenTag = (name: string) => {
    if (p.stack.length >= MAX_HTML_DEPTH && !VOID_ELEMENTS.has(name)) {
      dropped++;
      p.openTagStart = p.startIndex;
      p.tagname = '';
      return;
    }
    emit(name);
  };
  return { parser, dropped: () => dropped };
}

interface TableState {
  rows: number[][];
  row: number[] | null;
}

/** Scan an HTML part once. */
export function scanHtml(html: string): HtmlScan {
  const text = html.slice(0, MAX_HTML_CHARS);
  const facts: HtmlFacts = {
    passwordField: false,
    formAction: null,
    scriptRedirect: false,
    metaRefresh: false,
    decodesPayload: false,
  };
  const cuts: string[] = [];
  const linkValues: string[] = [];
  const svg = new SvgCollector();
  const els: CssElement[] = [];
  const open: number[] = [];
  let elementsCut = false;
  const styles: string[] = [];
  const textParts: string[] = [];
  let scriptChars = 0;
  const scriptText: string[] = [];
  const addScript = (s: string) => {
    if (scriptChars >= MAX_SCRIPT_CHARS) return;
    const piece = s.slice(0, MAX_SCRIPT_CHARS - scriptChars);
    scriptChars += piece.length;
    scriptText.push(piece);
  };
  let inScript = 0;
  let inStyle = 0;
  let styleText = '';
  const tables: TableState[] = [];
  const tableGridsFound: number[][][] = [];
  let tableCells = 0;
  let tablesTooDeep = 0;
  // Element index of each open tag (or -1 when not recorded), so close events pop the right entry.
  const { parser, dropped } = depthBoundedParser(
    {
      onopentag(name, attrs) {
        svg.open(name, attrs);
        for (const key in attrs) {
          const v = attrs[key] ?? '';
          if (key.startsWith('on') || /^\s*javascript:/i.test(v.slice(0, 64))) addScript(v);
          else if (
            LINK_ATTRIBUTES.has(key) &&
            linkValues.length < MAX_LINK_VALUES &&
            /^\s*https?:/i.test(v.slice(0, 64))
          )
            linkValues.push(v.slice(0, 4096));
        }
        if (name === 'script') inScript++;
        else if (name === 'style') inStyle++;
        else if (name === 'br') textParts.push('\n');
        else if (name === 'input' && (attrs.type ?? '').trim().toLowerCase() === 'password') facts.passwordField = true;
        else if (name === 'form' && facts.formAction === null && attrs.action?.trim())
          facts.formAction = boundValue(attrs.action.trim().toLowerCase(), 300);
        else if (name === 'meta' && (attrs['http-equiv'] ?? '').trim().toLowerCase() === 'refresh')
          facts.metaRefresh = true;
        // Elements for the CSS layouts (not those inside SVG, which has its own recogniser).
        let index = -1;
        if (!svg.inside && name !== 'svg') {
          if (els.length < CSS_LIMITS.maxElements) {
            index = els.length;
            els.push({
              parent: open.length > 0 ? (open[open.length - 1] ?? -1) : -1,
              tag: name,
              id: attrs.id ? attrs.id.trim().toLowerCase().slice(0, 100) : null,
              classes: attrs.class ? attrs.class.toLowerCase().split(/\s+/, 20).filter(Boolean) : [],
              style: attrs.style ? attrs.style.slice(0, 4000) : null,
              bgcolor: attrs.bgcolor ? attrs.bgcolor.trim().toLowerCase().slice(0, 40) : null,
            });
          } else elementsCut = true;
        }
        open.push(index);
        tableOpen(name, attrs, index);
      },
      ontext(t) {
        if (inScript > 0) addScript(t);
        else if (inStyle > 0) styleText += t;
        if (inScript === 0 && inStyle === 0) textParts.push(t);
      },
      onclosetag(name) {
        svg.close(name);
        open.pop();
        if (name === 'script' && inScript > 0) inScript--;
        else if (name === 'style' && inStyle > 0) {
          inStyle--;
          styles.push(styleText);
          styleText = '';
        } else if (LINE_END_TAGS.has(name)) textParts.push('\n');
        if (name === 'table') tableClose();
      },
    },
    { lowerCaseAttributeNames: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );

  function tableOpen(name: string, attrs: Record<string, string>, index: number) {
    const top = tables[tables.length - 1];
    if (name === 'table') {
      // Nested deeper than a layout needs: not a drawing; the depth keeps hostile nesting from piling up state.
      if (tables.length < MAX_TABLE_DEPTH) tables.push({ rows: [], row: null });
      else tablesTooDeep++;
    } else if (name === 'tr' && top) {
      if (top.row && top.row.length > 0) top.rows.push(top.row);
      top.row = [];
    } else if ((name === 'td' || name === 'th') && top) {
      top.row ??= [];
      const span = Math.min(Number(/^\s*(\d{1,3})/.exec(attrs.colspan ?? '')?.[1] ?? '1') || 1, 200);
      for (let s = 0; s < span; s++) {
        if (++tableCells > MAX_TABLE_CELLS) return;
        // -1 (a cell past the element limit) is read as light; that limit is reported too.
        top.row.push(index);
      }
    }
  }
  function tableClose() {
    if (tablesTooDeep > 0) {
      tablesTooDeep--;
      return;
    }
    const top = tables.pop();
    if (!top) return;
    if (top.row && top.row.length > 0) top.rows.push(top.row);
    const width = top.rows[0]?.length ?? 0;
    if (top.rows.length >= 21 && width >= 21 && top.rows.every((r) => r.length === width)) {
      tableGridsFound.push(top.rows);
    }
  }

  parser.write(text);
  parser.end();
  if (inStyle > 0 && styleText) styles.push(styleText);
  if (dropped() > 0) {
    cuts.push(`elements nested deeper than ${MAX_HTML_DEPTH} levels: ${dropped()} start tags were not followed`);
  }

  const scriptsRaw = scriptText.join('\n');
  // URLs a script writes (location.href = "https://…") were found by the old attribute pattern; keep them.
  for (const url of urlsFromText(scriptsRaw, 100)) if (linkValues.length < MAX_LINK_VALUES) linkValues.push(url);
  const scripts = scriptsRaw.toLowerCase();
  if (scripts) {
    facts.scriptRedirect = SCRIPT_REDIRECT.test(scripts);
    facts.decodesPayload = DECODES_PAYLOAD.test(scripts);
    facts.passwordField ||= SCRIPT_PASSWORD.test(scripts);
    facts.metaRefresh ||= SCRIPT_REFRESH.test(scripts);
  }

  const css = cssDrawings(els, styles, tableGridsFound);
  if (tableCells > MAX_TABLE_CELLS) cuts.push(`more than ${MAX_TABLE_CELLS} table cells: the rest were not read`);
  if (elementsCut) cuts.push(`more than ${CSS_LIMITS.maxElements} elements: CSS layouts past them were not looked at`);
  if (css.cut) cuts.push(css.cut);
  if (svg.overLimit) cuts.push(svg.overLimit);
  const textLines = textParts.join('');
  const blocks = textDrawings(textLines);
  if (blocks.cut) cuts.push(blocks.cut);

  const drawings: Drawing[] = [
    ...css.tables.map((grid) => ({
      grid,
      technique: 'html-table' as const,
      how: `table drawn as a ${grid.rows.length}-row grid`,
    })),
    ...svg.grids.map((grid) => ({
      grid,
      technique: 'svg' as const,
      how: `inline SVG drawn as a ${grid.rows.length}-row grid`,
    })),
    ...css.grids.map(({ grid, layout }) => ({
      grid,
      technique: 'css-boxes' as const,
      how: `CSS ${layout === 'grid' ? 'grid' : 'flex rows'} of boxes drawn as a ${grid.rows.length}-row grid`,
    })),
    ...blocks.grids.map((grid) => ({
      grid,
      technique: 'text-blocks' as const,
      how: `block characters drawn as a ${grid.rows.length}-row grid`,
    })),
  ];
  const work: HtmlWork = {
    characters: text.length,
    elements: els.length,
    tableCells: Math.min(tableCells, MAX_TABLE_CELLS),
    selectorTests: css.selectorTests,
    svgShapes: svg.work.shapes,
    svgCellsPainted: svg.work.cellsPainted,
    textLines: blocks.lines,
  };
  return { facts, drawings, textLines, cuts, linkValues, work };
}

/** HTML traits of credential-harvesting pages. */
export function htmlFacts(html: string): HtmlFacts {
  return scanHtml(html).facts;
}

/** Tables that look like a module grid: at least 21x21 cells of equal row width, both dark and light cells. */
export function tableGrids(html: string): ModuleGrid[] {
  return scanHtml(html)
    .drawings.filter((d) => d.technique === 'html-table')
    .map((d) => d.grid);
}

/** Module grids drawn by CSS boxes (grid, wrapping flex, flex rows). */
export function cssGrids(html: string): ModuleGrid[] {
  return scanHtml(html)
    .drawings.filter((d) => d.technique === 'css-boxes')
    .map((d) => d.grid);
}

/** Module grids drawn by the `<svg>` elements of an HTML text, and which limit (if any) stopped the work. */
export function svgDrawings(html: string): { grids: ModuleGrid[]; overLimit: string | null } {
  const scan = scanHtml(html);
  return {
    grids: scan.drawings.filter((d) => d.technique === 'svg').map((d) => d.grid),
    overLimit: scan.cuts.find((c) => /SVG/.test(c)) ?? null,
  };
}

/** Module grids drawn by the `<svg>` elements of an HTML text. */
export function svgGrids(html: string): ModuleGrid[] {
  return svgDrawings(html).grids;
}

/** The text of an HTML document with its line breaks (`<br>`, block ends, `<pre>` newlines) kept. */
export function htmlTextLines(html: string): string {
  return scanHtml(html).textLines;
}
