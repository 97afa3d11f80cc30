/**
 * Stream an export file as batches of rows: CSV through uDSV checked line by line, with Papa Parse for what uDSV
 * cannot read exactly (incremental, bounded memory), JSON documents
 * (Graph pages, runHuntingQuery responses, streaming-API records) and NDJSON. The format is sniffed from the
 * content. Rows before `startAfter` are parsed but not returned (resume after a crash).
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { JSONParser } from '@streamparser/json';
import Papa from 'papaparse';
import { initParser, type Schema } from 'udsv';
import type { Channel } from '../../core/assessment.js';
import { ioErrorText } from '../../sources/io-error.js';
import type { ExportAdapter } from './export-adapter.js';
import { type DateOrderGuess, guessDateOrder, type NumericDate, numericDateOf } from './export-dates.js';
import { type ColumnIndex, CsvRow, type ExportRow, headerIndex, JsonRow } from './export-row.js';
import {
  ADAPTERS,
  describeColumns,
  detectEncoding,
  type EncodingInfo,
  formatOfColumns,
  type TextEncoding,
} from './sniff-export.js';

export interface ExportReaderLimits {
  /**
   * Largest JSON document parsed whole (bytes): parsed objects take about seven times the text. A larger one is
   * streamed record by record (slower: about 50 MB/s). NDJSON and CSV are always streamed.
   */
  maxJsonBytes: number;
  /** Largest CSV record (bytes of text); a longer one (an unterminated quote) aborts the file. */
  maxRecordBytes: number;
  /** Rows per batch. */
  batchRows: number;
  /**
   * Bytes of input per batch at most (a batch also ends at `batchRows`): rows of 10 KB subjects would otherwise
   * make 20 MB batches, several alive at once on both threads.
   */
  batchBytes: number;
}

export const DEFAULT_EXPORT_LIMITS: ExportReaderLimits = {
  maxJsonBytes: 32 * 1024 * 1024,
  maxRecordBytes: 16 * 1024 * 1024,
  batchRows: 2_000,
  batchBytes: 1024 * 1024,
};

export type Container = 'csv' | 'json' | 'ndjson';

export interface ExportInfo {
  adapter: ExportAdapter;
  container: Container;
  encoding: TextEncoding;
  /** Bytes of byte-order mark before the text (readers start after it). */
  bomLength: number;
  /** CSV header as written (null for JSON). */
  columns: string[] | null;
  /** A short human description: "Get-MessageTraceV2 CSV (UTF-16LE)". */
  description: string;
  /** JSON documents are parsed once, while sniffing; the records are kept for reading. */
  records?: Record<string, unknown>[];
  /** A JSON document over `maxJsonBytes`: read as a stream of records instead. */
  streamed?: boolean;
  /** How a CSV export writes numeric dates, from dates sampled through the file; absent when none were seen. */
  dateOrder?: DateOrderGuess;
}

export type SniffResult = { status: 'ok'; info: ExportInfo } | { status: 'error'; error: string };

export interface RawRow {
  /** 1-based record number. */
  row: number;
  data: ExportRow;
  /** The record as stored in the fact table: a JSON array of CSV fields or the JSON object. */
  serialize(): string;
  /** Set when the record itself could not be read (an NDJSON line that is not JSON). */
  error?: string;
  /** Channel and candidacy, when the reader worker already classified the row (ingest-classify.ts). */
  classification?: { channel: Channel; candidate: boolean };
}

const HEAD_BYTES = 256 * 1024;
/**
 * Read size. Decoded chunks under 128 KiB (32K characters, two bytes each when the text is not Latin-1) are
 * ordinary young objects that die at the next scavenge; larger ones go to V8's large-object space and wait for a
 * full collection. Measured on 1M trace rows: 32 KiB peaks at 263-267 MiB, 256 KiB at 292-305 MiB, same speed.
 */
const READ_CHUNK = 32 * 1024;

const LABELS: Record<string, string> = {
  'message-trace': 'message trace (Get-MessageTrace/V2)',
  'graph-message-trace': 'Graph message trace',
  'message-trace-detail': 'message trace detail (Get-MessageTraceDetailV2)',
  'historical-search': 'historical search report',
  'email-events': 'Defender EmailEvents',
  'email-attachment-info': 'Defender EmailAttachmentInfo',
  'email-url-info': 'Defender EmailUrlInfo',
};

function decoderFor(enc: EncodingInfo): TextDecoder {
  return new TextDecoder(enc.encoding, { fatal: false, ignoreBOM: true });
}

async function readHead(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

interface CsvLayout {
  /** Characters of preamble + header to skip in the decoded text. */
  skipChars: number;
  header: string[];
  col: string;
  rowDelim: string;
}

/** Bytes read at each of the places a CSV export's dates are sampled from (besides its head). */
const DATE_SAMPLE_BYTES = 16 * 1024;
const DATE_SAMPLE_PLACES = 8;

/**
 * The numeric date order of a CSV export, from the numeric dates in its date columns (the adapter's, never a
 * free-text one such as Subject) in its head and in a few pieces spread through the file (an export is sorted
 * by time, so its pieces cover its days), read as whole lines.
 */
async function sampleDateOrder(
  path: string,
  head: string,
  layout: CsvLayout,
  enc: EncodingInfo,
  columns: readonly number[],
): Promise<DateOrderGuess | null> {
  if (columns.length === 0) return null;
  const dates: NumericDate[] = [];
  const parse = (text: string) => {
    const rows = new Papa.Parser(papaConfig(layout.col)).parse(text, 0, false).data as string[][];
    for (const row of rows) {
      for (const i of columns) {
        const d = numericDateOf(row[i] ?? '');
        if (d) dates.push(d);
      }
    }
  };
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    // The head is the whole file, or ends in a line the read may have cut.
    const end = size <= HEAD_BYTES ? head.length : head.lastIndexOf('\n');
    parse(head.slice(layout.skipChars, Math.max(layout.skipChars, end)));
    if (size <= HEAD_BYTES) return guessDateOrder(dates);
    const buf = Buffer.alloc(DATE_SAMPLE_BYTES);
    for (let i = 1; i <= DATE_SAMPLE_PLACES; i++) {
      // UTF-16 text is read from an even byte; the first and last (partial) lines of a piece are dropped.
      let at = Math.floor((size * i) / (DATE_SAMPLE_PLACES + 1));
      if (enc.encoding !== 'utf-8') at -= (at - enc.bomLength) % 2;
      const { bytesRead } = await fh.read(buf, 0, DATE_SAMPLE_BYTES, at);
      const text = decoderFor(enc).decode(buf.subarray(0, bytesRead));
      const from = text.indexOf('\n') + 1;
      const to = text.lastIndexOf('\n');
      if (from > 0 && to > from) parse(text.slice(from, to));
    }
  } finally {
    await fh.close();
  }
  return guessDateOrder(dates);
}

/** Papa Parse for a CSV export: its delimiter (and line end, once known), `"` quotes doubled inside. */
function papaConfig(delimiter: string, newline?: string): Papa.ParseConfig {
  const config: Papa.ParseConfig = { delimiter, quoteChar: '"', escapeChar: '"' };
  if (newline !== undefined) config.newline = newline as Papa.ParseConfig['newline'];
  return config;
}

/** Find the header row: skip `#TYPE …` (Export-Csv without -NoTypeInformation) and blank or `#` lines. */
function csvLayout(text: string): CsvLayout | null {
  let pos = 0;
  for (let i = 0; i < 20 && pos < text.length; i++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return null;
    const rowDelim = nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
    const line = text.slice(pos, nl - (rowDelim.length - 1));
    const next = nl + 1;
    if (line.trim().length === 0 || line.startsWith('#')) {
      pos = next;
      continue;
    }
    const counts = [',', '\t', ';'].map((c) => ({ c, n: line.split(c).length }));
    counts.sort((a, b) => b.n - a.n);
    const col = counts[0]!.c;
    const fields = new Papa.Parser(papaConfig(col)).parse(line, 0, false).data;
    const header = ((fields as string[][])[0] ?? []).map((h) => h.trim());
    return { skipChars: next, header, col, rowDelim };
  }
  return null;
}

/** The arrays of a JSON document that hold its records (one document holds one of them). */
const RECORD_ARRAYS = new Set(['results', 'value', 'records']);

/** One JSON record: a streaming-API wrapper unwrapped to its `properties` (with the tenant), `null` if no object. */
function unwrap(r: unknown): Record<string, unknown> | null {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return null;
  const o = r as Record<string, unknown>;
  if (typeof o.category === 'string' && o.properties && typeof o.properties === 'object') {
    const props = { ...(o.properties as Record<string, unknown>) };
    if (typeof o.tenantId === 'string' && props.TenantId === undefined) props.TenantId = o.tenantId;
    return props;
  }
  return o;
}

/** A JSON record as a row: its own accessor, serialized only if it is kept. */
function jsonRawRow(row: number, obj: Record<string, unknown>): RawRow {
  return { row, data: new JsonRow(obj), serialize: () => JSON.stringify(obj) };
}

/** Whether a batch of `rows` rows read from `bytes` bytes of input is full (see {@link ExportReaderLimits}). */
export function batchFull(
  rows: number,
  bytes: number,
  limits: Pick<ExportReaderLimits, 'batchRows' | 'batchBytes'>,
): boolean {
  return rows >= limits.batchRows || (rows > 0 && bytes >= limits.batchBytes);
}

/** JSON records of a parsed document: Graph `value[]`, hunting `results[]`, streaming `records[]`, arrays. */
function jsonRecords(doc: unknown): Record<string, unknown>[] | null {
  let list: unknown[] | null = null;
  if (Array.isArray(doc)) list = doc;
  else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    // The first of the record arrays in the document's own order, as the streamed reader sees them.
    for (const k of Object.keys(o)) {
      if (RECORD_ARRAYS.has(k) && Array.isArray(o[k])) {
        list = o[k] as unknown[];
        break;
      }
    }
    if (list === null && typeof o.category === 'string') list = [o];
  }
  if (list === null) return null;
  const out: Record<string, unknown>[] = [];
  for (const r of list) {
    const u = unwrap(r);
    if (u) out.push(u);
  }
  return out;
}

/** Records sampled from the head of a streamed JSON document to tell its format. */
const SNIFF_RECORDS = 20;

/**
 * The records of a JSON document read as a stream, in batches (`batchRows` records or `batchBytes` of input):
 * the elements of its `value`, `results` or `records` array, or of the document when it is an array
 * (streaming-API wrappers unwrapped as for a parsed document). Memory holds one batch, not the document. Throws on invalid JSON, naming the byte position.
 */
async function* streamJsonRecords(
  path: string,
  enc: EncodingInfo,
  limits: Pick<ExportReaderLimits, 'batchRows' | 'batchBytes'>,
  progress?: ReadProgress,
): AsyncGenerator<Record<string, unknown>[]> {
  let out: Record<string, unknown>[] = [];
  let outBytes = 0;
  let parser: JSONParser | null = null;
  /** Pieces read before the first character that is not white space. */
  const lead: (Buffer | string)[] = [];
  const utf8 = enc.encoding === 'utf-8';
  const dec = decoderFor(enc);
  const fail = (error: unknown) => new ExportReadError(`invalid JSON: ${(error as Error).message.slice(0, 200)}`);
  const stream = createReadStream(path, { start: enc.bomLength, highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      if (progress) progress.bytes += buf.length;
      const text = utf8 ? null : dec.decode(buf, { stream: true });
      if (parser === null) {
        // The records are the elements of a top-level array, or of one of the arrays of a top-level object: the
        // first character that is not white space tells which. Only those paths are asked for: a path matching
        // the arrays themselves would keep them whole.
        lead.push(text ?? buf);
        const seen = (text ?? buf.toString('latin1')).trimStart();
        if (seen.length === 0) continue;
        const paths = seen[0] === '[' ? ['$.*'] : ['$.results.*', '$.value.*', '$.records.*'];
        const p = new JSONParser({ paths, keepStack: false });
        // A document holds one record array; should it hold more, the first one (document order) is read, as
        // when it is parsed whole.
        let array: unknown;
        p.onValue = ({ value, stack }) => {
          if (paths.length > 1) {
            const key = stack[1]?.key;
            array ??= key;
            if (key !== array) return;
          }
          const r = unwrap(value);
          if (r) out.push(r);
        };
        parser = p;
        try {
          for (const piece of lead.splice(0)) parser.write(piece);
        } catch (error) {
          throw fail(error);
        }
      } else {
        try {
          parser.write(text ?? buf);
        } catch (error) {
          throw fail(error);
        }
      }
      outBytes += buf.length;
      if (batchFull(out.length, outBytes, limits)) {
        yield out;
        out = [];
        outBytes = 0;
      }
    }
  } finally {
    stream.destroy();
  }
  if (parser !== null && !parser.isEnded) {
    try {
      parser.end();
    } catch (error) {
      throw fail(error);
    }
  }
  if (out.length > 0) yield out;
}

function jsonKeys(records: Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const r of records.slice(0, 20)) for (const k of Object.keys(r)) keys.add(k);
  return [...keys];
}

/**
 * The numeric date order of a CSV export as {@link sniffExportFile} finds it, `null` for any other file (JSON is
 * not read whole for this): what ingest asks of every file of a run before reading any.
 */
export async function sniffCsvDateOrder(path: string): Promise<DateOrderGuess | null> {
  const r = await sniffExportFile(path, DEFAULT_EXPORT_LIMITS, { csvOnly: true });
  return r.status === 'ok' ? (r.info.dateOrder ?? null) : null;
}

/** Sniff an export file's format from its first bytes. */
export async function sniffExportFile(
  path: string,
  limits = DEFAULT_EXPORT_LIMITS,
  opts: { csvOnly?: boolean } = {},
): Promise<SniffResult> {
  let head: Uint8Array;
  try {
    head = await readHead(path);
  } catch (error) {
    return { status: 'error', error: `cannot read: ${ioErrorText(error)}` };
  }
  if (head.length === 0) return { status: 'error', error: 'empty file' };
  const enc = detectEncoding(head);
  const text = decoderFor(enc).decode(head.subarray(enc.bomLength));
  const first = text.trimStart()[0];
  const encLabel = enc.encoding.toUpperCase();
  if (first === '{' || first === '[') {
    if (opts.csvOnly) return { status: 'error', error: 'JSON' };
    const firstLine = text.trimStart().split('\n', 1)[0]!.trim();
    let ndjson = false;
    if (first === '{' && firstLine.endsWith('}')) {
      try {
        JSON.parse(firstLine);
        ndjson = text.trimStart().length > firstLine.length + 1;
      } catch {
        ndjson = false;
      }
    }
    let sample: Record<string, unknown>[] | null = null;
    let streamed = false;
    if (ndjson) sample = jsonRecords(JSON.parse(firstLine));
    else if ((await stat(path)).size > limits.maxJsonBytes) {
      // Too large to parse whole: the first records tell the format, and reading streams them all.
      streamed = true;
      try {
        for await (const batch of streamJsonRecords(path, enc, {
          batchRows: SNIFF_RECORDS,
          batchBytes: Number.POSITIVE_INFINITY,
        })) {
          sample = batch;
          break;
        }
      } catch (error) {
        return { status: 'error', error: (error as Error).message };
      }
      if (sample === null) {
        return {
          status: 'error',
          error: `no records in value[], results[], records[] or a top-level array of a JSON document over ${limits.maxJsonBytes} bytes`,
        };
      }
    } else {
      const full = await readJsonDocument(path, enc, limits);
      if ('error' in full) return { status: 'error', error: full.error };
      sample = jsonRecords(full.doc);
      if (sample === null) {
        return {
          status: 'error',
          error: 'unrecognised JSON: expected value[], results[], records[], an array or a streaming-API record',
        };
      }
      if (sample.length === 0) {
        return { status: 'error', error: 'JSON document holds no records' };
      }
    }
    const keys = jsonKeys(sample ?? []);
    const format = formatOfColumns(keys);
    if (!format) return { status: 'error', error: `unrecognised JSON records with keys ${describeColumns(keys)}` };
    const info: ExportInfo = {
      adapter: ADAPTERS[format],
      container: ndjson ? 'ndjson' : 'json',
      encoding: enc.encoding,
      bomLength: enc.bomLength,
      columns: null,
      description: `${LABELS[format]} ${ndjson ? 'NDJSON' : 'JSON'} (${encLabel})`,
    };
    if (streamed) info.streamed = true;
    else if (!ndjson && sample) info.records = sample;
    return { status: 'ok', info };
  }
  const layout = csvLayout(text);
  if (!layout) return { status: 'error', error: 'not a CSV or JSON export (no header row found)' };
  const format = formatOfColumns(layout.header);
  if (!format) {
    return { status: 'error', error: `unrecognised export: header has ${describeColumns(layout.header)}` };
  }
  const info: ExportInfo = {
    adapter: ADAPTERS[format],
    container: 'csv',
    encoding: enc.encoding,
    bomLength: enc.bomLength,
    columns: layout.header,
    description: `${LABELS[format]} CSV (${encLabel})`,
  };
  let dateOrder: DateOrderGuess | null;
  try {
    const index = headerIndex(layout.header);
    const columns = info.adapter.dateColumns.flatMap((k) => index.get(k) ?? []);
    dateOrder = await sampleDateOrder(path, text, layout, enc, columns);
  } catch (error) {
    return { status: 'error', error: `cannot read: ${ioErrorText(error)}` };
  }
  if (dateOrder) info.dateOrder = dateOrder;
  return { status: 'ok', info };
}

async function readJsonDocument(
  path: string,
  enc: EncodingInfo,
  limits: ExportReaderLimits,
): Promise<{ doc: unknown } | { error: string }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > limits.maxJsonBytes) {
      return { error: `JSON document larger than ${limits.maxJsonBytes} bytes (split it, or save NDJSON)` };
    }
    const buf = await fh.readFile();
    try {
      return { doc: JSON.parse(decoderFor(enc).decode(buf.subarray(enc.bomLength))) };
    } catch (error) {
      return { error: `invalid JSON: ${jsonErrorText(error).slice(0, 200)}` };
    }
  } finally {
    await fh.close();
  }
}

export interface ReadProgress {
  bytes: number;
}

export class ExportReadError extends Error {}

/**
 * Batches of rows from a sniffed export. `startAfter` skips that many records (already committed).
 * CSV records with more fields than the header are returned with the extra fields (the adapter ignores them);
 * an unterminated quoted field longer than `maxRecordBytes` throws ExportReadError naming the row.
 */
export async function* readExportRows(
  path: string,
  info: ExportInfo,
  opts: { startAfter?: number; limits?: ExportReaderLimits; progress?: ReadProgress } = {},
): AsyncGenerator<RawRow[]> {
  const limits = opts.limits ?? DEFAULT_EXPORT_LIMITS;
  const startAfter = opts.startAfter ?? 0;
  if (info.container === 'csv') {
    yield* readCsv(path, info, startAfter, limits, opts.progress, null);
  } else if (info.container === 'json' && info.streamed) {
    let n = 0;
    for await (const records of streamJsonRecords(path, info, limits, opts.progress)) {
      const batch: RawRow[] = [];
      for (const obj of records) {
        n++;
        if (n <= startAfter) continue;
        batch.push(jsonRawRow(n, obj));
      }
      if (batch.length > 0) yield batch;
    }
  } else if (info.container === 'json') {
    let records = info.records;
    if (records === undefined) {
      const full = await readJsonDocument(path, info, limits);
      if ('error' in full) throw new ExportReadError(full.error);
      records = jsonRecords(full.doc) ?? [];
    }
    let batch: RawRow[] = [];
    for (let i = startAfter; i < records.length; i++) {
      const obj = records[i]!;
      batch.push(jsonRawRow(i + 1, obj));
      if (batch.length >= limits.batchRows) {
        yield batch;
        batch = [];
      }
    }
    if (opts.progress) opts.progress.bytes = Number.MAX_SAFE_INTEGER;
    if (batch.length > 0) yield batch;
  } else {
    yield* readNdjson(path, info, startAfter, limits, opts.progress);
  }
}

async function* readNdjson(
  path: string,
  enc: EncodingInfo,
  startAfter: number,
  limits: ExportReaderLimits,
  progress: ReadProgress | undefined,
): AsyncGenerator<RawRow[]> {
  const dec = decoderFor(enc);
  const stream = createReadStream(path, { start: enc.bomLength, highWaterMark: READ_CHUNK });
  // Rows are records, numbered through the file: a line is one record, or an Event Hubs batch of several
  // (`{"records": [...]}`), every one of which is a row; a line that is not JSON is one rejected row.
  let n = 0;
  let lines = 0;
  let batch: RawRow[] = [];
  let batchBytes = 0;
  let rest = '';
  const push = (obj: Record<string, unknown>, error?: string) => {
    n++;
    if (n <= startAfter) return;
    const raw = jsonRawRow(n, obj);
    if (error !== undefined) raw.error = error;
    batch.push(raw);
  };
  const take = (line: string) => {
    lines++;
    const t = line.trim();
    if (t.length === 0) return;
    // Where rows and lines part (after a batch line), the error says which line.
    const at = n + 1 === lines ? '' : ` (line ${lines})`;
    let records: Record<string, unknown>[] | null;
    try {
      records = jsonRecords(JSON.parse(t));
    } catch (e) {
      push({}, `invalid JSON${at}: ${jsonErrorText(e).slice(0, 120)}`);
      return;
    }
    if (records === null) push({}, `not a JSON record${at}`);
    else for (const r of records) push(r);
  };
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      if (progress) progress.bytes += buf.length;
      const text = rest + dec.decode(buf, { stream: true });
      let pos = 0;
      for (;;) {
        const nl = text.indexOf('\n', pos);
        if (nl < 0) break;
        take(text.slice(pos, nl));
        pos = nl + 1;
      }
      rest = text.slice(pos);
      if (rest.length > limits.maxRecordBytes) {
        throw new ExportReadError(`line ${lines + 1}: longer than ${limits.maxRecordBytes} bytes`);
      }
      batchBytes += buf.length;
      if (batchFull(batch.length, batchBytes, limits)) {
        yield batch;
        batch = [];
        batchBytes = 0;
      }
    }
    take(rest + dec.decode());
  } finally {
    stream.destroy();
  }
  if (batch.length > 0) yield batch;
}

/** A CSV record is its own row accessor: one object a row, no closures. */
export class CsvRecord extends CsvRow implements RawRow {
  classification?: { channel: Channel; candidate: boolean };
  /** Why the record cannot be read (malformed quotes, fewer fields than the header): reported and skipped. */
  error?: string;
  constructor(
    index: ColumnIndex,
    header: readonly string[],
    fields: readonly string[],
    readonly row: number,
  ) {
    super(index, header, fields);
  }

  get data(): ExportRow {
    return this;
  }

  /** The serialized record when the reader worker made it already. */
  serialized?: string;

  serialize(): string {
    return this.serialized ?? JSON.stringify(this.fields);
  }
}

/**
 * The records of a CSV export handed to `emit` one by one as they are parsed, rather than gathered in batches:
 * a caller that reduces most records at once keeps few of them alive (a batch of records outlives a young
 * generation collection or two and is promoted; a record used at once dies young). The generator yields after
 * each chunk of input, so the caller can hand on what it made (and wait) between chunks. Same checks and errors
 * as {@link readExportRows}.
 */
export async function* streamCsvRows(
  path: string,
  info: ExportInfo,
  opts: { startAfter: number; limits: ExportReaderLimits; progress: ReadProgress },
  emit: (row: CsvRecord) => void,
): AsyncGenerator<void> {
  if (info.container !== 'csv') throw new Error('streamCsvRows: not a CSV export');
  for await (const _ of readCsv(path, info, opts.startAfter, opts.limits, opts.progress, emit)) yield;
}

function padFields(fields: string[], n: number): string[] {
  const out = fields.slice();
  while (out.length < n) out.push('');
  return out;
}

/** Line ends in `text`, and how many of them end a line that is only the row delimiter (a blank line). */
function countLines(text: string, rowDelim: string): { lines: number; blank: number } {
  let lines = 0;
  let blank = 0;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    lines++;
    const len = nl - start;
    if (rowDelim === '\n' ? len === 0 : len === 1 && text.charCodeAt(start) === 13) blank++;
    start = nl + 1;
  }
  return { lines, blank };
}

/**
 * CSV records, two ways. uDSV is fast but unforgiving: it drops a line holding one quoted field, runs a short
 * line with an unquoted last field into the next one, and silently stops at an unclosed quote (a short record whose
 * last field is quoted it pads with empty fields, as the reader does with any short record). So it is fed whole
 * lines only, and a piece of text is taken from it only when it gave exactly one record per line end (blank lines
 * aside). A piece where it did not (a malformed line, or a quoted value running over lines) goes through Papa
 * Parse, which reads every shape exactly and says which record is malformed (reported and skipped, never lost);
 * uDSV takes over again at the next record that starts on a line of its own. The end of the file (a last record
 * without a line end, or a quote never closed) is always Papa's.
 */
async function* readCsv(
  path: string,
  info: ExportInfo,
  startAfter: number,
  limits: ExportReaderLimits,
  progress: ReadProgress | undefined,
  emit: ((row: CsvRecord) => void) | null,
): AsyncGenerator<RawRow[]> {
  const dec = decoderFor(info);
  const header = info.columns ?? [];
  const index = headerIndex(header, info.dateOrder?.order);
  const stream = createReadStream(path, { start: info.bomLength, highWaterMark: READ_CHUNK });
  let layout: CsvLayout | null = null;
  let fast: ReturnType<typeof initParser> | null = null;
  let schema: Schema | null = null;
  let exactConfig: Papa.ParseConfig | null = null;
  let n = 0;
  let batch: RawRow[] = [];
  const tooLong = () =>
    new ExportReadError(`row ${n + 1}: record longer than ${limits.maxRecordBytes} bytes (unterminated quote?)`);
  const take = (fields: string[], error: string | undefined) => {
    let size = 0;
    for (const f of fields) size += f.length;
    if (size > limits.maxRecordBytes) throw tooLong();
    n++;
    if (n <= startAfter) return;
    // A record shorter than the header has its missing fields empty, as uDSV gives it (the adapter then names a
    // missing value, or takes the row); a line holding one field where the header has more is a broken line.
    const broken = error === undefined && fields.length === 1 && header.length > 1;
    const pad = error === undefined && !broken && fields.length < header.length;
    const record = new CsvRecord(index, header, pad ? padFields(fields, header.length) : fields, n);
    if (error !== undefined) record.error = error;
    else if (broken) record.error = `1 field where the header has ${header.length} (a broken line?)`;
    if (emit) emit(record);
    else batch.push(record);
  };
  /** Papa: hand on the complete records of `text`; returns the open record (the last one is complete at the end). */
  const parseExactly = (text: string, final: boolean): string => {
    const result = new Papa.Parser(exactConfig!).parse(text, 0, !final) as Papa.ParseResult<string[]>;
    const rows = result.data;
    const errors = new Map<number, string>();
    let unclosed = -1;
    let unclosedLines = 0;
    for (const e of result.errors) {
      if (e.row === undefined || errors.has(e.row)) continue;
      if (e.code === 'MissingQuotes' && final && unclosed < 0) {
        unclosed = e.row;
        const rest = text.slice(e.index ?? text.length);
        unclosedLines = countLines(rest, '\n').lines + (rest.endsWith('\n') ? 0 : 1);
        continue;
      }
      errors.set(e.row, `malformed CSV: ${e.message}`);
    }
    // A quote open at the end of the input. On the last line, a cut export: the record is rejected and the
    // records before it are read. Over more lines, a stray quote took the records after it: stop there (the
    // file stays unfinished), as for a record over maxRecordBytes, rather than lose them without a word.
    const cutLast = 'quoted field not closed at the end of the file (a cut export?)';
    const stop = () =>
      new ExportReadError(
        `row ${n + 1}: quoted field not closed at the end of the file: it runs over the last ${unclosedLines} lines (a stray quote?); the rows after it were not read`,
      );
    for (let i = 0; i < rows.length; i++) {
      const fields = rows[i]!;
      if (i === unclosed) {
        if (unclosedLines > 1) throw stop();
        take(fields, cutLast);
        continue;
      }
      // A blank or whitespace-only line is no record (as in the fast path, where uDSV skips blank lines).
      if (fields.length === 1 && fields[0]!.trim().length === 0 && !errors.has(i)) continue;
      take(fields, errors.get(i));
    }
    if (unclosed >= rows.length) {
      if (unclosedLines > 1) throw stop();
      take([''], cutLast);
    }
    return final ? '' : text.slice(result.meta.cursor);
  };
  // Fast path: text after the last line end waits for the next read. Exact path: the open record and what came
  // after it, parsed again only once it has doubled, so a record spread over many reads costs linear time.
  let rest = '';
  let batchBytes = 0;
  let exact = false;
  let restParsed = 0;
  const pending: string[][] = [];
  let pendingText = '';
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      if (progress) progress.bytes += buf.length;
      batchBytes += buf.length;
      let text = dec.decode(buf, { stream: true });
      if (!layout) {
        pendingText += text;
        layout = csvLayout(pendingText);
        if (!layout) {
          if (pendingText.length > HEAD_BYTES * 4) throw new ExportReadError('no header row found');
          continue;
        }
        schema = {
          col: layout.col,
          row: layout.rowDelim,
          encl: '"',
          esc: '"',
          trim: false,
          cols: layout.header.map((name) => ({
            name,
            type: 's',
            repl: { empty: null, null: undefined, NaN: undefined },
          })),
        };
        (schema as Schema & { skip: number }).skip = 0;
        fast = initParser(schema);
        exactConfig = papaConfig(layout.col, layout.rowDelim);
        text = pendingText.slice(layout.skipChars);
        pendingText = '';
      }
      rest += text;
      if (!exact) {
        const cut = rest.lastIndexOf('\n') + 1;
        if (cut === 0) {
          if (rest.length > limits.maxRecordBytes) throw tooLong();
          continue;
        }
        const lines = rest.slice(0, cut);
        const { lines: ends, blank } = countLines(lines, layout.rowDelim);
        pending.length = 0;
        fast!.chunk<string[]>(lines, fast!.stringArrs, (row) => {
          pending.push(row);
        });
        if (pending.length + blank === ends) {
          rest = rest.slice(cut);
          for (const row of pending) take(row, undefined);
        } else {
          // uDSV did not give one record a line: Papa reads these lines (and on, until a record starts afresh).
          exact = true;
        }
        pending.length = 0;
      }
      if (exact && rest.length >= 2 * restParsed) {
        rest = parseExactly(rest, false);
        restParsed = rest.length;
        if (rest.length > limits.maxRecordBytes) throw tooLong();
        // Papa stopped at the start of a record: unless that record already runs over lines (a quoted value
        // still open), uDSV takes over again, afresh, so one odd line does not slow the rest of the file.
        if (!rest.includes('\n')) {
          exact = false;
          restParsed = 0;
          fast = initParser(schema!);
        }
      }
      if (emit || batchFull(batch.length, batchBytes, limits)) {
        yield batch;
        batch = [];
        batchBytes = 0;
      }
    }
    if (layout) parseExactly(rest + dec.decode(), true);
    else if (pendingText.length > 0) throw new ExportReadError('no header row found');
  } finally {
    stream.destroy();
  }
  if (batch.length > 0) yield batch;
}

/** JSON.parse's message, the same on every Node: 22 and later append ` (line 1 column 22)` to 20's text. */
function jsonErrorText(error: unknown): string {
  return (error as Error).message.replace(/ \(line \d+ column \d+\)$/, '');
}
