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
import { CSS_LIMITS, type CssDrawings, type CssElement, cssDrawings } from './drawn-css.js';
import type { ModuleGrid } from './drawn-grid.js';
import { urlsFromText } from './url-extract.js';

/** Most characters of an HTML part parsed. */
export const MAX_HTML_CHARS = 5_000_000;
/** Most table cells read per HTML part. */
export const MAX_TABLE_CELLS = 200_000;
const LINK_ATTRIBUTES = new Set(['href', 'xlink:href', 'src', 'action', 'formaction', 'background', 'data-href']);
const MAX_LINK_VALUES = 2_000;
/** Inline `data:` images kept per part for the decoder, and the largest (characters of base64). */
export const MAX_DATA_IMAGES = 10;
const MAX_DATA_IMAGE_CHARS = 4_000_000;

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
  /** Base64 payloads of inline `data:image/…` images, for the image decoder (at most {@link MAX_DATA_IMAGES}). */
  dataImages: string[];
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

/** The HTML traits and link URLs, from tags, attributes and script text. */
class TraitCollector {
  readonly facts: HtmlFacts = {
    passwordField: false,
    formAction: null,
    scriptRedirect: false,
    metaRefresh: false,
    decodesPayload: false,
  };
  readonly linkValues: string[] = [];
  /** Base64 payloads of `<img src="data:image/…;base64,…">` (bounded), and how many more there were. */
  readonly dataImages: string[] = [];
  dataImagesDropped = 0;
  private readonly scriptText: string[] = [];
  private scriptChars = 0;

  script(s: string): void {
    if (this.scriptChars >= MAX_SCRIPT_CHARS) return;
    const piece = s.slice(0, MAX_SCRIPT_CHARS - this.scriptChars);
    this.scriptChars += piece.length;
    this.scriptText.push(piece);
  }

  open(name: string, attrs: Record<string, string>): void {
    const { facts } = this;
    for (const key in attrs) {
      const v = attrs[key] ?? '';
      if (key.startsWith('on') || /^\s*javascript:/i.test(v.slice(0, 64))) this.script(v);
      else if (
        LINK_ATTRIBUTES.has(key) &&
        this.linkValues.length < MAX_LINK_VALUES &&
        /^\s*https?:/i.test(v.slice(0, 64))
      )
        this.linkValues.push(v.slice(0, 4096));
    }
    if (name === 'img' && attrs.src) this.dataImage(attrs.src);
    if (name === 'input' && (attrs.type ?? '').trim().toLowerCase() === 'password') facts.passwordField = true;
    else if (name === 'form' && facts.formAction === null && attrs.action?.trim())
      facts.formAction = boundValue(attrs.action.trim().toLowerCase(), 300);
    else if (name === 'meta' && (attrs['http-equiv'] ?? '').trim().toLowerCase() === 'refresh')
      facts.metaRefresh = true;
  }

  private dataImage(src: string): void {
    const head = /^\s*data:image\/[a-z0-9.+-]{1,30};base64,/i.exec(src.slice(0, 64));
    if (!head) return;
    if (this.dataImages.length >= MAX_DATA_IMAGES || src.length > MAX_DATA_IMAGE_CHARS) this.dataImagesDropped++;
    else this.dataImages.push(src.slice(head[0].length));
  }

  finish(): void {
    const raw = this.scriptText.join('\n');
    // URLs a script writes (location.href = "https://…") were found by the old attribute pattern; keep them.
    for (const url of urlsFromText(raw, 100)) if (this.linkValues.length < MAX_LINK_VALUES) this.linkValues.push(url);
    const scripts = raw.toLowerCase();
    if (!scripts) return;
    this.facts.scriptRedirect = SCRIPT_REDIRECT.test(scripts);
    this.facts.decodesPayload = DECODES_PAYLOAD.test(scripts);
    this.facts.passwordField ||= SCRIPT_PASSWORD.test(scripts);
    this.facts.metaRefresh ||= SCRIPT_REFRESH.test(scripts);
  }
}

/** Tables that could be module grids: rows of cell element indices (coloured later, with the style sheet). */
class TableCollector {
  readonly found: number[][][] = [];
  cells = 0;
  private readonly tables: { rows: number[][]; row: number[] | null }[] = [];
  private tooDeep = 0;

  open(name: string, attrs: Record<string, string>, index: number): void {
    const top = this.tables[this.tables.length - 1];
    if (name === 'table') {
      // Nested deeper than a layout needs: not a drawing; the depth keeps hostile nesting from piling up state.
      if (this.tables.length < MAX_TABLE_DEPTH) this.tables.push({ rows: [], row: null });
      else this.tooDeep++;
    } else if (name === 'tr' && top) {
      if (top.row && top.row.length > 0) top.rows.push(top.row);
      top.row = [];
    } else if ((name === 'td' || name === 'th') && top) {
      top.row ??= [];
      const span = Math.min(Number(/^\s*(\d{1,3})/.exec(attrs.colspan ?? '')?.[1] ?? '1') || 1, 200);
      for (let s = 0; s < span; s++) {
        if (++this.cells > MAX_TABLE_CELLS) return;
        // -1 (a cell past the element limit) is read as light; that limit is reported too.
        top.row.push(index);
      }
    }
  }

  close(): void {
    if (this.tooDeep > 0) {
      this.tooDeep--;
      return;
    }
    const top = this.tables.pop();
    if (!top) return;
    if (top.row && top.row.length > 0) top.rows.push(top.row);
    const width = top.rows[0]?.length ?? 0;
    if (top.rows.length >= 21 && width >= 21 && top.rows.every((r) => r.length === width)) this.found.push(top.rows);
  }
}

/** Elements for the CSS layouts, with their parents (not those inside SVG, which has its own recogniser). */
class ElementRecorder {
  readonly els: CssElement[] = [];
  cut = false;
  /** Element index of each open tag (or -1 when not recorded), so close events pop the right entry. */
  private readonly open: number[] = [];

  push(name: string, attrs: Record<string, string>, record: boolean): number {
    let index = -1;
    if (record && this.els.length < CSS_LIMITS.maxElements) {
      index = this.els.length;
      this.els.push({
        parent: this.open[this.open.length - 1] ?? -1,
        tag: name,
        id: attrs.id ? attrs.id.trim().toLowerCase().slice(0, 100) : null,
        classes: attrs.class ? attrs.class.toLowerCase().split(/\s+/, 20).filter(Boolean) : [],
        style: attrs.style ? attrs.style.slice(0, 4000) : null,
        bgcolor: attrs.bgcolor ? attrs.bgcolor.trim().toLowerCase().slice(0, 40) : null,
      });
    } else if (record) this.cut = true;
    this.open.push(index);
    return index;
  }

  pop(): void {
    this.open.pop();
  }
}

/** Scan an HTML part once. */
export function scanHtml(html: string): HtmlScan {
  const text = html.slice(0, MAX_HTML_CHARS);
  const traits = new TraitCollector();
  const tables = new TableCollector();
  const svg = new SvgCollector();
  const elements = new ElementRecorder();
  const styles: string[] = [];
  const textParts: string[] = [];
  let inScript = 0;
  let inStyle = 0;
  let styleText = '';
  const { parser, dropped } = depthBoundedParser(
    {
      onopentag(name, attrs) {
        svg.open(name, attrs);
        traits.open(name, attrs);
        if (name === 'script') inScript++;
        else if (name === 'style') inStyle++;
        else if (name === 'br') textParts.push('\n');
        tables.open(name, attrs, elements.push(name, attrs, !svg.inside && name !== 'svg'));
      },
      ontext(t) {
        if (inScript > 0) traits.script(t);
        else if (inStyle > 0) styleText += t;
        else textParts.push(t);
      },
      onclosetag(name) {
        svg.close(name);
        elements.pop();
        if (name === 'script' && inScript > 0) inScript--;
        else if (name === 'style' && inStyle > 0) {
          inStyle--;
          styles.push(styleText);
          styleText = '';
        } else if (LINE_END_TAGS.has(name)) textParts.push('\n');
        if (name === 'table') tables.close();
      },
    },
    { lowerCaseAttributeNames: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(text);
  parser.end();
  if (inStyle > 0 && styleText) styles.push(styleText);
  traits.finish();

  const cuts: string[] = [];
  if (dropped() > 0) {
    cuts.push(`elements nested deeper than ${MAX_HTML_DEPTH} levels: ${dropped()} start tags were not followed`);
  }
  const css = cssDrawings(elements.els, styles, tables.found);
  if (tables.cells > MAX_TABLE_CELLS) cuts.push(`more than ${MAX_TABLE_CELLS} table cells: the rest were not read`);
  if (traits.dataImagesDropped > 0) {
    cuts.push(
      `${traits.dataImagesDropped} more inline data: images (over ${MAX_DATA_IMAGES} a part or 3 MB each) were not decoded`,
    );
  }
  if (elements.cut) cuts.push(`more than ${CSS_LIMITS.maxElements} elements: CSS layouts past them were not looked at`);
  if (css.cut) cuts.push(css.cut);
  if (svg.overLimit) cuts.push(svg.overLimit);
  const textLines = textParts.join('');
  const blocks = textDrawings(textLines);
  if (blocks.cut) cuts.push(blocks.cut);
  const work: HtmlWork = {
    characters: text.length,
    elements: elements.els.length,
    tableCells: Math.min(tables.cells, MAX_TABLE_CELLS),
    selectorTests: css.selectorTests,
    svgShapes: svg.work.shapes,
    svgCellsPainted: svg.work.cellsPainted,
    textLines: blocks.lines,
  };
  const drawings = namedDrawings(css, svg.grids, blocks.grids);
  return {
    facts: traits.facts,
    drawings,
    textLines,
    cuts,
    linkValues: traits.linkValues,
    dataImages: traits.dataImages,
    work,
  };
}

/** The drawings in the order they are decoded, each with its technique and how it was drawn. */
function namedDrawings(css: CssDrawings, svg: readonly ModuleGrid[], text: readonly ModuleGrid[]): Drawing[] {
  const rows = (g: ModuleGrid) => `${g.rows.length}-row grid`;
  return [
    ...css.tables.map((grid) => ({ grid, technique: 'html-table' as const, how: `table drawn as a ${rows(grid)}` })),
    ...svg.map((grid) => ({ grid, technique: 'svg' as const, how: `inline SVG drawn as a ${rows(grid)}` })),
    ...css.grids.map(({ grid, layout }) => ({
      grid,
      technique: 'css-boxes' as const,
      how: `CSS ${layout === 'grid' ? 'grid' : 'flex rows'} of boxes drawn as a ${rows(grid)}`,
    })),
    ...text.map(textBlockDrawing),
  ];
}

/** A grid drawn with block characters (in HTML text or a plain-text body) as a {@link Drawing}. */
export function textBlockDrawing(grid: ModuleGrid): Drawing {
  return { grid, technique: 'text-blocks', how: `block characters drawn as a ${grid.rows.length}-row grid` };
}
