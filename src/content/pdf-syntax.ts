/**
 * The PDF syntax the pre-scan reads: values, a tokenizer over bytes with a shared work budget (every byte
 * scanned and every token counted), and the stop that carries a budget's verdict.
 * @module
 */

/** The work budgets of one PDF (defaults: DEFAULT_PDF_BUDGET in pdf-prescan.ts). */
export interface PdfBudget {
  /** Most bytes decoded from all streams of one PDF. */
  maxDecodedBytes: number;
  /** Most bytes decoded from one stream. */
  maxStreamBytes: number;
  /** Most content operators scanned, summed over the pages handed to pdfjs (forms expanded). */
  maxOperators: number;
  /** Deepest nesting of form XObjects, patterns, Type 3 glyphs and soft masks. */
  maxXObjectDepth: number;
  /** Largest image (pixels) whose size is checked here (a JPEG frame larger than its dictionary says). */
  maxImagePixels: number;
}

/** Why a PDF (or part of it) is not handed to pdfjs. `bomb` when data inflates far past its compressed size. */
export interface PdfProblem {
  kind: 'budget' | 'bomb' | 'encrypted';
  what: string;
}

export type Value = number | string | boolean | null | Ref | Value[] | Dict;
/** Names are kept as `/Name` strings; strings as `(…)` placeholders; keywords as bare strings. */
export interface Ref {
  ref: number;
}
export type Dict = Map<string, Value>;

export interface ObjDef {
  value: Value;
  stream: { start: number; end: number } | null;
  /** Decoded data of an object stream's member is kept here (they are never streams themselves). */
  inObjStm: boolean;
}

export class Stop extends Error {
  constructor(readonly problem: PdfProblem) {
    super(problem.what);
  }
}

export const WS = new Uint8Array(256);
for (const c of [0, 9, 10, 12, 13, 32]) WS[c] = 1;
export const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;

export const isRef = (v: Value | undefined): v is Ref =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
export const isDict = (v: Value | undefined): v is Dict => v instanceof Map;

/** A tokenizer over bytes with a shared token budget. */
export class Lexer {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly work: { tokens: number; max: number },
  ) {
    this.pos = start;
  }

  private skipSpace(): void {
    const { b, end } = this;
    while (this.pos < end) {
      const c = b[this.pos]!;
      if (WS[c]) this.pos++;
      else if (c === 0x25) {
        while (this.pos < end && b[this.pos] !== 10 && b[this.pos] !== 13) this.pos++;
      } else break;
    }
  }

  /** Next token: a number, `/name`, `(` string placeholder, `<<`, `>>`, `[`, `]`, a keyword, or null at the end. */
  next(): string | number | null {
    const before = this.pos;
    const t = this.token();
    // Work is every byte scanned plus one a token: an unclosed string read again from many object headers
    // costs its length each time, and is counted so.
    this.work.tokens += 1 + (this.pos - before);
    if (this.work.tokens > this.work.max) {
      throw new Stop({ kind: 'budget', what: `structure needs more than ${this.work.max} steps to read` });
    }
    return t;
  }

  private token(): string | number | null {
    this.skipSpace();
    const { b, end } = this;
    if (this.pos >= end) return null;
    const c = b[this.pos]!;
    if (c === 0x28) {
      // Literal string with nesting and escapes.
      let depth = 0;
      while (this.pos < end) {
        const d = b[this.pos++]!;
        if (d === 0x5c) this.pos++;
        else if (d === 0x28) depth++;
        else if (d === 0x29 && --depth === 0) break;
      }
      return '(';
    }
    if (c === 0x3c) {
      if (b[this.pos + 1] === 0x3c) {
        this.pos += 2;
        return '<<';
      }
      while (this.pos < end && b[this.pos] !== 0x3e) this.pos++;
      this.pos++;
      return '(';
    }
    if (c === 0x3e) {
      this.pos += b[this.pos + 1] === 0x3e ? 2 : 1;
      return '>>';
    }
    if (c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d) {
      this.pos++;
      return String.fromCharCode(c);
    }
    const start = this.pos;
    if (c === 0x2f) this.pos++;
    while (this.pos < end && !WS[b[this.pos]!] && !DELIM[b[this.pos]!]) this.pos++;
    if (this.pos === start) {
      this.pos++;
      return this.token();
    }
    let s = '';
    for (let i = start; i < this.pos && i - start < 128; i++) s += String.fromCharCode(b[i]!);
    if (c !== 0x2f && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) {
      const n = Number(s);
      if (s.length > 0 && Number.isFinite(n) && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(s)) return n;
    }
    return s;
  }

  /** Parse one value; `first` is a token already read. Nesting is bounded. */
  value(first: string | number | null, depth = 0): Value {
    if (depth > 64) throw new Stop({ kind: 'budget', what: 'objects nested deeper than 64' });
    if (first === null) return null;
    if (typeof first === 'number') {
      // `N G R` is a reference.
      const save = this.pos;
      const work = this.work.tokens;
      const g = this.next();
      if (typeof g === 'number' && Number.isInteger(first) && Number.isInteger(g)) {
        const r = this.next();
        if (r === 'R') return { ref: first };
      }
      this.pos = save;
      this.work.tokens = work;
      return first;
    }
    if (first === '<<') {
      const d: Dict = new Map();
      for (;;) {
        const k = this.next();
        if (k === null || k === '>>') return d;
        if (typeof k !== 'string' || !k.startsWith('/')) continue;
        const v = this.next();
        if (v === '>>') return d;
        d.set(k, this.value(v, depth + 1));
      }
    }
    if (first === '[') {
      const a: Value[] = [];
      for (;;) {
        const t = this.next();
        if (t === null || t === ']') return a;
        if (a.length < 100_000) a.push(this.value(t, depth + 1));
      }
    }
    if (first === 'true') return true;
    if (first === 'false') return false;
    return first;
  }
}

export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
export const OBJ = ascii('obj');
export const ENDSTREAM = ascii('endstream');
export const ENCRYPT = ascii('/Encrypt');
export const EI = ascii('EI');

export function indexOf(b: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(needle, from);
}
