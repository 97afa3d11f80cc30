/**
 * A PDF pre-scan that bounds the work pdfjs will do before it is handed the file. pdfjs builds a page's
 * operator list synchronously and inflates streams without a size limit, so a 2 KB file of form XObjects that
 * each draw the next ten times, or a content stream that inflates to 10 GiB, cannot be stopped once handed
 * over. This scan finds every object the way a recovering reader would (each `N G obj` anywhere in the file,
 * objects inside object streams too), decodes every stream with its own filters under a decoded-bytes cap, and
 * counts the content operators each page would expand to through form XObjects, tiling patterns, Type 3 fonts
 * and soft masks (memoised; a cycle or a depth over the limit stops it). Pages over the budget are not handed
 * to pdfjs; a file over a file-wide budget is not handed over at all. Every budget counts work (bytes, tokens,
 * operators, pixels), so the verdict is the same on any machine. Pure: bytes in, facts out.
 * @module
 */
import { constants, inflateRawSync } from 'node:zlib';
import { readImageHeader } from './image-header.js';

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

export const DEFAULT_PDF_BUDGET: PdfBudget = {
  maxDecodedBytes: 64 * 1024 * 1024,
  maxStreamBytes: 32 * 1024 * 1024,
  maxOperators: 1_000_000,
  maxXObjectDepth: 12,
  maxImagePixels: 25_000_000,
};

/** Why a PDF (or part of it) is not handed to pdfjs. `bomb` when data inflates far past its compressed size. */
export interface PdfProblem {
  kind: 'budget' | 'bomb' | 'encrypted';
  what: string;
}

export interface PdfPrescan {
  /** File-wide problem: when set, the file must not be handed to pdfjs. */
  problem: PdfProblem | null;
  /**
   * Operators the page object `num` expands to (forms, patterns, glyphs expanded), or why it must not be
   * handed to pdfjs (nesting too deep, a cycle, over the operator budget, not a page this scan found).
   */
  pageCost(num: number): { ops: number } | { problem: PdfProblem };
  objects: number;
  streams: number;
  decodedBytes: number;
}

type Value = number | string | boolean | null | Ref | Value[] | Dict;
/** Names are kept as `/Name` strings; strings as `(…)` placeholders; keywords as bare strings. */
interface Ref {
  ref: number;
}
type Dict = Map<string, Value>;

interface ObjDef {
  value: Value;
  stream: { start: number; end: number } | null;
  /** Decoded data of an object stream's member is kept here (they are never streams themselves). */
  inObjStm: boolean;
}

class Stop extends Error {
  constructor(readonly problem: PdfProblem) {
    super(problem.what);
  }
}

const WS = new Uint8Array(256);
for (const c of [0, 9, 10, 12, 13, 32]) WS[c] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;

const isRef = (v: Value | undefined): v is Ref =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
const isDict = (v: Value | undefined): v is Dict => v instanceof Map;

/** A tokenizer over bytes with a shared token budget. */
class Lexer {
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

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
const OBJ = ascii('obj');
const ENDSTREAM = ascii('endstream');
const ENCRYPT = ascii('/Encrypt');
const EI = ascii('EI');

function indexOf(b: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(needle, from);
}

/** Back from `at` (the `o` of `obj`): `int ws+ int ws*` right before it? Returns the object number or -1. */
function objectNumberBefore(b: Uint8Array, at: number): number {
  let p = at - 1;
  while (p >= 0 && WS[b[p]!]) p--;
  let digits = 0;
  while (p >= 0 && b[p]! >= 0x30 && b[p]! <= 0x39 && digits < 6) {
    p--;
    digits++;
  }
  if (digits === 0 || p < 0 || !WS[b[p]!]) return -1;
  while (p >= 0 && WS[b[p]!]) p--;
  const end = p + 1;
  digits = 0;
  while (p >= 0 && b[p]! >= 0x30 && b[p]! <= 0x39 && digits < 11) {
    p--;
    digits++;
  }
  if (digits === 0 || (p >= 0 && !WS[b[p]!] && !DELIM[b[p]!])) return -1;
  let n = 0;
  for (let i = p + 1; i < end; i++) n = n * 10 + (b[i]! - 0x30);
  return n;
}

export function prescanPdf(bytes: Uint8Array, budget: PdfBudget = DEFAULT_PDF_BUDGET): PdfPrescan {
  const out: PdfPrescan = {
    problem: null,
    pageCost: () => ({ problem: { kind: 'budget', what: 'the pre-scan stopped before the pages' } }),
    objects: 0,
    streams: 0,
    decodedBytes: 0,
  };
  const work = { tokens: 0, max: 8 * bytes.length + 1_000_000 };
  try {
    if (indexOf(bytes, ENCRYPT, 0) >= 0) {
      throw new Stop({
        kind: 'encrypted',
        what: 'the PDF is encrypted: its streams cannot be measured before decoding, so it is not scanned',
      });
    }
    const defs = findObjects(bytes, work, out);
    widenToLength(bytes, defs);
    const decoder = new StreamDecoder(bytes, budget, out);
    decodeOrphanStreams(bytes, defs, decoder, work);
    // Object streams first: their members join the table.
    for (const [num, list] of [...defs]) {
      for (const d of list) {
        if (!d.stream || !isDict(d.value) || d.value.get('/Type') !== '/ObjStm') continue;
        const data = decoder.decode(num, d);
        if (data) readObjStm(data, d.value, defs, work);
      }
    }
    out.objects = defs.size;
    // Every stream is decoded once under the caps (also those no page uses: pdfjs may reach them some other way).
    const decoded = new Map<ObjDef, Uint8Array | null>();
    for (const [num, list] of defs) {
      for (const d of list) if (d.stream && !decoded.has(d)) decoded.set(d, decoder.decode(num, d));
    }
    const costs = new CostModel(defs, decoded, budget);
    const memo = new Map<number, { ops: number } | { problem: PdfProblem }>();
    out.pageCost = (num) => {
      const known = memo.get(num);
      if (known) return known;
      let best = -1;
      let problem: PdfProblem | null = null;
      // Every definition of the number counts (an update may replace a page): the largest cost decides.
      for (const d of defs.get(num) ?? []) {
        if (!isDict(d.value) || d.value.has('/Kids')) continue;
        try {
          const ops = costs.pageCost(d.value);
          if (ops > budget.maxOperators) {
            problem = { kind: 'budget', what: `page draws more than ${budget.maxOperators} operators` };
          }
          best = Math.max(best, ops);
        } catch (error) {
          if (!(error instanceof Stop)) throw error;
          problem = error.problem;
        }
        if (problem) break;
      }
      const r: { ops: number } | { problem: PdfProblem } = problem
        ? { problem }
        : best < 0
          ? { problem: { kind: 'budget', what: `page object ${num} was not found by the pre-scan` } }
          : { ops: best };
      memo.set(num, r);
      return r;
    };
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    out.problem = error.problem;
  }
  return out;
}

function findObjects(b: Uint8Array, work: { tokens: number; max: number }, out: PdfPrescan): Map<number, ObjDef[]> {
  const defs = new Map<number, ObjDef[]>();
  let at = indexOf(b, OBJ, 0);
  while (at >= 0) {
    const after = b[at + 3];
    const before = at > 0 ? b[at - 1]! : 0x20;
    // `endobj` and words that merely contain "obj" are passed over.
    if ((after === undefined || WS[after] || DELIM[after]) && (WS[before] || (before >= 0x30 && before <= 0x39))) {
      const num = objectNumberBefore(b, at);
      if (num >= 0) {
        const lex = new Lexer(b, at + 3, b.length, work);
        const value = lex.value(lex.next());
        let stream: ObjDef['stream'] = null;
        const save = lex.pos;
        if (lex.next() === 'stream') {
          let start = lex.pos;
          if (b[start] === 13) start++;
          if (b[start] === 10) start++;
          const len = isDict(value) ? value.get('/Length') : undefined;
          let end = -1;
          if (typeof len === 'number' && Number.isInteger(len) && len >= 0 && start + len <= b.length) {
            let p = start + len;
            while (p < b.length && WS[b[p]!]) p++;
            if (indexOf(b.subarray(p, p + 9), ENDSTREAM, 0) === 0) end = start + len;
          }
          if (end < 0) {
            const e = indexOf(b, ENDSTREAM, start);
            end = e < 0 ? b.length : e;
          }
          stream = { start, end };
          out.streams++;
        } else lex.pos = save;
        const list = defs.get(num) ?? [];
        if (list.length < 16) list.push({ value, stream, inObjStm: false });
        defs.set(num, list);
      }
    }
    at = indexOf(b, OBJ, at + 3);
  }
  return defs;
}

const STREAM = ascii('stream');

/**
 * pdfjs reads a stream's `/Length` bytes when they end at an `endstream`, which may lie past the first
 * `endstream` in the data (a decoy inside it); an indirect `/Length` is only known once every object is. So a
 * stream is measured over the longer of the two readings.
 */
function widenToLength(b: Uint8Array, defs: Map<number, ObjDef[]>): void {
  for (const list of defs.values()) {
    for (const d of list) {
      if (!d.stream || !isDict(d.value)) continue;
      let len = d.value.get('/Length');
      if (isRef(len)) len = (defs.get(len.ref) ?? []).map((x) => x.value).find((v) => typeof v === 'number');
      if (typeof len !== 'number' || !Number.isInteger(len) || len < 0) continue;
      const end = Math.min(b.length, d.stream.start + len);
      if (end > d.stream.end) d.stream.end = end;
    }
  }
}

/**
 * Every `stream` keyword that no object header found here still leads to data pdfjs may decode (an xref can
 * point at an object whose header this scan did not recognise). Its filters are unknown, so it is measured as
 * the worst of them: inflated as Flate and decoded as LZW, under the same caps.
 */
function decodeOrphanStreams(
  b: Uint8Array,
  defs: Map<number, ObjDef[]>,
  decoder: StreamDecoder,
  work: { tokens: number; max: number },
): void {
  const known = new Set<number>();
  for (const list of defs.values()) for (const d of list) if (d.stream) known.add(d.stream.start);
  let at = indexOf(b, STREAM, 0);
  while (at >= 0) {
    const before = at > 0 ? b[at - 1]! : 0x20;
    let start = at + 6;
    const eol = b[start];
    if ((WS[before] || DELIM[before]) && (eol === 13 || eol === 10)) {
      if (b[start] === 13) start++;
      if (b[start] === 10) start++;
      if (!known.has(start)) {
        const e = indexOf(b, ENDSTREAM, start);
        const end = e < 0 ? b.length : e;
        work.tokens += end - start;
        if (work.tokens > work.max) {
          throw new Stop({ kind: 'budget', what: `structure needs more than ${work.max} steps to read` });
        }
        const stream = { start, end };
        decoder.decode(-1, { value: new Map([['/Filter', '/FlateDecode']]), stream, inObjStm: false });
        decoder.decode(-1, { value: new Map([['/Filter', '/LZWDecode']]), stream, inObjStm: false });
      }
    }
    at = indexOf(b, STREAM, at + 6);
  }
}

function readObjStm(data: Uint8Array, dict: Dict, defs: Map<number, ObjDef[]>, work: { tokens: number; max: number }) {
  const n = dict.get('/N');
  const first = dict.get('/First');
  if (typeof n !== 'number' || typeof first !== 'number' || n < 0 || first < 0 || first > data.length) return;
  const head = new Lexer(data, 0, first, work);
  const pairs: [number, number][] = [];
  for (let i = 0; i < Math.min(n, 1_000_000); i++) {
    const num = head.next();
    const off = head.next();
    if (typeof num !== 'number' || typeof off !== 'number') break;
    pairs.push([num, off]);
  }
  for (const [num, off] of pairs) {
    if (first + off >= data.length) continue;
    const lex = new Lexer(data, first + off, data.length, work);
    const list = defs.get(num) ?? [];
    if (list.length < 16) list.push({ value: lex.value(lex.next()), stream: null, inObjStm: true });
    defs.set(num, list);
  }
}

function label(num: number): string {
  return num < 0 ? 'a stream outside any object header' : `stream ${num}`;
}

/** Worst-case output of a Flate stream that fails part way (deflate expands at most 1032×). */
const DEFLATE_MAX_RATIO = 1032;

class StreamDecoder {
  constructor(
    readonly b: Uint8Array,
    readonly budget: PdfBudget,
    readonly out: PdfPrescan,
  ) {}

  private count(n: number, num: number, raw: Uint8Array): void {
    if (n > this.budget.maxStreamBytes) {
      const bomb = expandsLikeABomb(raw);
      throw new Stop({
        kind: bomb ? 'bomb' : 'budget',
        what: `${label(num)} decodes to more than ${this.budget.maxStreamBytes} bytes (from ${raw.length})`,
      });
    }
  }

  /** Decode a stream's data through its filters (image codecs excepted), counting the bytes; null if undecodable. */
  decode(num: number, d: ObjDef): Uint8Array | null {
    const dict = isDict(d.value) ? d.value : new Map<string, Value>();
    let data: Uint8Array = this.b.subarray(d.stream!.start, d.stream!.end);
    const rawData = data;
    const f = dict.get('/Filter') ?? dict.get('/F');
    const filters = (Array.isArray(f) ? f : f === undefined ? [] : [f]).slice(0, 8);
    for (const filter of filters) {
      if (typeof filter !== 'string') return null;
      const left = Math.min(this.budget.maxStreamBytes, this.budget.maxDecodedBytes - this.out.decodedBytes);
      let next: Uint8Array | null;
      switch (filter) {
        case '/FlateDecode':
        case '/Fl':
          next = inflate(data, left + 1);
          if (next === null) {
            this.count(Math.min(data.length * DEFLATE_MAX_RATIO, left + 1), num, rawData);
            this.spend(Math.min(data.length * DEFLATE_MAX_RATIO, left + 1), num, rawData);
            return null;
          }
          break;
        case '/LZWDecode':
        case '/LZW':
          next = lzw(data, left + 1);
          break;
        case '/RunLengthDecode':
        case '/RL':
          next = runLength(data, left + 1);
          break;
        case '/ASCIIHexDecode':
        case '/AHx':
          next = asciiHex(data);
          break;
        case '/ASCII85Decode':
        case '/A85':
          next = ascii85(data, left + 1);
          break;
        case '/DCTDecode':
        case '/DCT': {
          // pdfjs sizes a JPEG from its frame header, whatever the dictionary says.
          const h = readImageHeader(data);
          if (h && h.width * h.height > this.budget.maxImagePixels) {
            throw new Stop({
              kind: 'budget',
              what: `image ${label(num)} is a ${h.width}x${h.height} JPEG (limit ${this.budget.maxImagePixels} pixels)`,
            });
          }
          return null;
        }
        default:
          // JPX, JBIG2, CCITT (sized from the dictionary, which pdfjs checks against its image limit), Crypt, unknown.
          return null;
      }
      this.count(next.length, num, rawData);
      this.spend(next.length, num, rawData);
      data = next;
    }
    return data;
  }

  private spend(n: number, num: number, raw: Uint8Array): void {
    this.out.decodedBytes += n;
    if (this.out.decodedBytes > this.budget.maxDecodedBytes) {
      const bomb = expandsLikeABomb(raw);
      throw new Stop({
        kind: bomb ? 'bomb' : 'budget',
        what: `streams decode to more than ${this.budget.maxDecodedBytes} bytes in all (${label(num)})`,
      });
    }
  }
}

/**
 * Whether the first 64 KiB of a Flate stream inflate more than 100-fold (deterministic: the same bytes, the same
 * answer). Only asked once a stream went over a budget, to tell a decompression bomb from a merely large stream.
 */
function expandsLikeABomb(raw: Uint8Array): boolean {
  const head = raw.subarray(0, 64 * 1024);
  const out = inflate(head, head.length * 100 + 1);
  return out !== null && out.length > head.length * 100;
}

/** Inflate a zlib stream as pdfjs does (header checked, checksum not), at most `cap` bytes; null if corrupt. */
function inflate(data: Uint8Array, cap: number): Uint8Array | null {
  if (data.length < 2) return new Uint8Array(0);
  const cmf = data[0]!;
  const flg = data[1]!;
  if ((cmf & 0x0f) !== 8 || ((cmf << 8) + flg) % 31 !== 0 || flg & 0x20) return new Uint8Array(0);
  try {
    return inflateRawSync(data.subarray(2), { maxOutputLength: cap, finishFlush: constants.Z_SYNC_FLUSH });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return new Uint8Array(cap);
    return null;
  }
}

/** LZW as in PDF (early change 1), at most `cap` bytes (stops there). */
function lzw(data: Uint8Array, cap: number): Uint8Array {
  const out: number[] = [];
  const prefix = new Int32Array(4097);
  const suffix = new Uint8Array(4097);
  const length = new Uint16Array(4097);
  let next = 258;
  let width = 9;
  let prev = -1;
  let bits = 0;
  let acc = 0;
  let written = 0;
  const stack = new Uint8Array(4097);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    length[i] = 1;
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i++) {
    acc = ((acc << 8) | data[i]!) >>> 0;
    bits += 8;
    while (bits >= width) {
      const code = (acc >>> (bits - width)) & ((1 << width) - 1);
      bits -= width;
      acc &= (1 << bits) - 1;
      if (code === 256) {
        next = 258;
        width = 9;
        prev = -1;
        continue;
      }
      if (code === 257) return finish();
      let c = code;
      let first = 0;
      if (c < next && (c < 256 || c >= 258)) {
        // known code
      } else if (c === next && prev >= 0) {
        c = prev;
      } else return finish();
      let n = 0;
      let k = c;
      while (k >= 0 && n < 4097) {
        stack[n++] = suffix[k]!;
        k = prefix[k]!;
      }
      first = stack[n - 1]!;
      for (let j = n - 1; j >= 0; j--) out.push(stack[j]!);
      if (code === next && prev >= 0) out.push(first);
      written += n + (code === next ? 1 : 0);
      if (out.length > 65536) {
        chunks.push(Uint8Array.from(out));
        out.length = 0;
      }
      if (written >= cap) return finish();
      if (prev >= 0 && next < 4096) {
        prefix[next] = prev;
        suffix[next] = first;
        length[next] = Math.min(4096, length[prev]! + 1);
        next++;
      }
      prev = code;
      if (next + 1 >= 1 << width && width < 12) width++;
    }
  }
  return finish();
  function finish(): Uint8Array {
    chunks.push(Uint8Array.from(out));
    return Buffer.concat(chunks).subarray(0, cap);
  }
}

function runLength(data: Uint8Array, cap: number): Uint8Array {
  const out = Buffer.alloc(Math.min(cap, data.length * 64 + 1));
  let o = 0;
  for (let i = 0; i < data.length && o < out.length; ) {
    const n = data[i++]!;
    if (n === 128) break;
    if (n < 128) {
      for (let k = 0; k <= n && i < data.length && o < out.length; k++) out[o++] = data[i++]!;
    } else {
      const v = data[i++] ?? 0;
      for (let k = 0; k < 257 - n && o < out.length; k++) out[o++] = v;
    }
  }
  return out.subarray(0, o);
}

function asciiHex(data: Uint8Array): Uint8Array {
  const out = Buffer.alloc((data.length >> 1) + 1);
  let o = 0;
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    const v =
      c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1;
    if (v < 0) continue;
    if (hi < 0) hi = v;
    else {
      out[o++] = (hi << 4) | v;
      hi = -1;
    }
  }
  if (hi >= 0) out[o++] = hi << 4;
  return out.subarray(0, o);
}

function ascii85(data: Uint8Array, cap: number): Uint8Array {
  const out = Buffer.alloc(Math.min(cap, data.length * 4 + 4));
  let o = 0;
  let n = 0;
  let acc = 0;
  for (let i = 0; i < data.length && o < out.length; i++) {
    const c = data[i]!;
    if (c === 0x7e) break;
    if (c === 0x7a && n === 0) {
      for (let k = 0; k < 4 && o < out.length; k++) out[o++] = 0;
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    acc = acc * 85 + (c - 0x21);
    if (++n === 5) {
      for (let k = 3; k >= 0 && o < out.length; k--) out[o++] = (acc >>> (k * 8)) & 255;
      n = 0;
      acc = 0;
    }
  }
  return out.subarray(0, o);
}

/** What one content stream does: how many operators, and which resources it invokes by name. */
interface ContentUse {
  ops: number;
  uses: { category: '/XObject' | '/Font' | '/Pattern' | '/ExtGState'; name: string }[];
}

class CostModel {
  private readonly contentMemo = new Map<Uint8Array, ContentUse>();
  private readonly formMemo = new Map<string, number>();
  private readonly active = new Set<string>();

  constructor(
    readonly defs: Map<number, ObjDef[]>,
    readonly decoded: Map<ObjDef, Uint8Array | null>,
    readonly budget: PdfBudget,
  ) {}

  /** The definitions a value stands for (a reference resolves to every definition of its number). */
  private resolveAll(v: Value | undefined): { value: Value; def: ObjDef | null }[] {
    if (v === undefined) return [];
    if (!isRef(v)) return [{ value: v, def: null }];
    return (this.defs.get(v.ref) ?? []).map((d) => ({ value: d.value, def: d }));
  }

  private resolveDict(v: Value | undefined): Dict | null {
    for (const r of this.resolveAll(v)) if (isDict(r.value)) return r.value;
    return null;
  }

  pageCost(page: Dict): number {
    // Resources and contents may be inherited from the page tree.
    let resources = page.get('/Resources');
    let node: Dict | null = page;
    const seen = new Set<Dict>();
    while (resources === undefined && node && !seen.has(node) && seen.size < 64) {
      seen.add(node);
      node = this.resolveDict(node.get('/Parent'));
      resources = node?.get('/Resources');
    }
    const res = this.resolveDict(resources);
    const contents = page.get('/Contents');
    const parts = Array.isArray(contents) ? contents.slice(0, 1000) : contents === undefined ? [] : [contents];
    let cost = 0;
    for (const part of parts) {
      for (const r of this.resolveAll(part)) {
        if (Array.isArray(r.value)) {
          for (const inner of r.value.slice(0, 1000))
            for (const x of this.resolveAll(inner)) cost += this.streamCost(x.def, res, 0);
        } else cost += this.streamCost(r.def, res, 0);
      }
      if (cost > this.budget.maxOperators) return Number.POSITIVE_INFINITY;
    }
    return cost;
  }

  private use(data: Uint8Array): ContentUse {
    const memo = this.contentMemo.get(data);
    if (memo) return memo;
    const use: ContentUse = { ops: 0, uses: [] };
    const lex = new Lexer(data, 0, data.length, { tokens: 0, max: Number.POSITIVE_INFINITY });
    let lastName: string | null = null;
    for (;;) {
      const t = lex.next();
      if (t === null) break;
      if (typeof t === 'number' || t === '(' || t === '[' || t === ']' || t === '<<' || t === '>>') continue;
      if (t.startsWith('/')) {
        lastName = t;
        continue;
      }
      if (t === 'true' || t === 'false' || t === 'null') continue;
      use.ops++;
      if (t === 'ID') {
        // Inline image data runs to the next whitespace-delimited EI.
        let p = lex.pos + 1;
        for (;;) {
          p = indexOf(data, EI, p);
          if (p < 0 || ((WS[data[p - 1] ?? 32] ?? 0) && (p + 2 >= data.length || WS[data[p + 2]!]))) break;
          p += 2;
        }
        lex.pos = p < 0 ? data.length : p + 2;
      } else if (lastName && use.uses.length < 10_000) {
        if (t === 'Do') use.uses.push({ category: '/XObject', name: lastName });
        else if (t === 'Tf') use.uses.push({ category: '/Font', name: lastName });
        else if (t === 'scn' || t === 'SCN') use.uses.push({ category: '/Pattern', name: lastName });
        else if (t === 'gs') use.uses.push({ category: '/ExtGState', name: lastName });
      }
      lastName = null;
    }
    this.contentMemo.set(data, use);
    return use;
  }

  /** Operators a content stream expands to, with `res` as its resources. */
  private streamCost(def: ObjDef | null, res: Dict | null, depth: number): number {
    if (!def?.stream) return 0;
    const data = this.decoded.get(def) ?? null;
    if (!data) return 0;
    const use = this.use(data);
    let cost = use.ops;
    for (const u of use.uses) {
      const category = res ? this.resolveDict(res.get(u.category)) : null;
      const target = category?.get(u.name);
      for (const r of this.resolveAll(target)) {
        cost += this.resourceCost(u.category, r.value, r.def, res, depth + 1);
        if (cost > this.budget.maxOperators) return Number.POSITIVE_INFINITY;
      }
    }
    return cost;
  }

  private resourceCost(
    category: string,
    value: Value,
    def: ObjDef | null,
    parentRes: Dict | null,
    depth: number,
  ): number {
    if (category === '/ExtGState') {
      // A soft mask draws its group form.
      const gs = isDict(value) ? value : null;
      const smask = this.resolveDict(gs?.get('/SMask'));
      let cost = 0;
      for (const r of this.resolveAll(smask?.get('/G'))) cost += this.formCost(r.def, parentRes, depth);
      return cost;
    }
    if (category === '/Font') {
      const font = isDict(value) ? value : null;
      if (font?.get('/Subtype') !== '/Type3') return 0;
      const procs = this.resolveDict(font.get('/CharProcs'));
      const res = this.resolveDict(font.get('/Resources')) ?? parentRes;
      let cost = 0;
      for (const proc of [...(procs?.values() ?? [])].slice(0, 256)) {
        for (const r of this.resolveAll(proc)) cost += this.formCost(r.def, res, depth, true);
        if (cost > this.budget.maxOperators) return Number.POSITIVE_INFINITY;
      }
      return cost;
    }
    if (category === '/XObject' || category === '/Pattern') {
      const dict = isDict(value) ? value : null;
      if (category === '/XObject' && dict?.get('/Subtype') !== '/Form') return 0;
      return this.formCost(def, parentRes, depth);
    }
    return 0;
  }

  /** A form-like stream (form XObject, tiling pattern, glyph procedure): its own resources, else the caller's. */
  private formCost(def: ObjDef | null, parentRes: Dict | null, depth: number, keepParent = false): number {
    if (!def?.stream) return 0;
    if (depth > this.budget.maxXObjectDepth) {
      throw new Stop({ kind: 'budget', what: `forms nested deeper than ${this.budget.maxXObjectDepth}` });
    }
    const dict = isDict(def.value) ? def.value : null;
    const own = keepParent ? null : this.resolveDict(dict?.get('/Resources'));
    const res = own ?? parentRes;
    const key = `${this.idOf(def)}|${own ? 'own' : this.idOfRes(res)}`;
    const memo = this.formMemo.get(key);
    if (memo !== undefined) return memo;
    if (this.active.has(key)) throw new Stop({ kind: 'budget', what: 'a form draws itself (cycle)' });
    this.active.add(key);
    const cost = this.streamCost(def, res, depth);
    this.active.delete(key);
    this.formMemo.set(key, cost);
    return cost;
  }

  private ids = new Map<object, number>();
  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(o, id);
    }
    return id;
  }
  private idOfRes(res: Dict | null): number {
    return res ? this.idOf(res) : -1;
  }
}
