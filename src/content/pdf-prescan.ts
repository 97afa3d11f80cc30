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
import { readImageHeader } from './image-header.js';
import { CostModel } from './pdf-cost.js';
import { ascii85, asciiHex, DEFLATE_MAX_RATIO, expandsLikeABomb, inflate, lzw, runLength } from './pdf-filters.js';
import {
  ascii,
  DELIM,
  type Dict,
  ENCRYPT,
  ENDSTREAM,
  indexOf,
  isDict,
  isRef,
  Lexer,
  OBJ,
  type ObjDef,
  type PdfBudget,
  type PdfProblem,
  Stop,
  type Value,
  WS,
} from './pdf-syntax.js';

export type { PdfBudget, PdfProblem } from './pdf-syntax.js';

export const DEFAULT_PDF_BUDGET: PdfBudget = {
  maxDecodedBytes: 64 * 1024 * 1024,
  maxStreamBytes: 32 * 1024 * 1024,
  maxOperators: 1_000_000,
  maxXObjectDepth: 12,
  maxImagePixels: 25_000_000,
};

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
