/**
 * Stream an export file as batches of rows: CSV through a strict record scanner (csv-records.ts: incremental,
 * bounded memory, a malformed record rejected with its line), JSON documents
 * (Graph pages, runHuntingQuery responses, streaming-API records) and NDJSON. The format is sniffed from the
 * content. Rows before `startAfter` are parsed but not returned (resume after a crash).
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import Papa from 'papaparse';
import type { Channel } from '../../core/assessment.js';
import type { Failure } from '../../core/result.js';
import { ioErrorText } from '../../sources/io-error.js';
import { CsvRecordScanner, CsvRecordTooLong, type CsvScanRecord } from './csv-records.js';
import type { ExportAdapter } from './export-adapter.js';
import { type DateOrderGuess, guessDateOrder, type NumericDate, numericDateOf } from './export-dates.js';
import {
  batchFull,
  DEFAULT_EXPORT_LIMITS,
  decoderFor,
  ExportReadError,
  type ExportReaderLimits,
  type RawRow,
  READ_CHUNK,
  type ReadProgress,
  untilReadError,
} from './export-reading.js';
import { type ColumnIndex, CsvRow, type ExportRow, headerIndex } from './export-row.js';
import {
  type JsonRecord,
  jsonKeys,
  jsonRawRow,
  jsonRecords,
  readJsonDocument,
  readNdjson,
  SNIFF_RECORDS,
  streamJsonRecords,
} from './json-records.js';
import {
  ADAPTERS,
  describeColumns,
  detectEncoding,
  type EncodingInfo,
  formatOfColumns,
  type TextEncoding,
} from './sniff-export.js';

export {
  batchFull,
  DEFAULT_EXPORT_LIMITS,
  type ExportReaderLimits,
  type RawRow,
  type ReadProgress,
} from './export-reading.js';
export { type JsonRecord, NotARecord } from './json-records.js';

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
  records?: JsonRecord[];
  /** A JSON document over `maxJsonBytes`: read as a stream of records instead. */
  streamed?: boolean;
  /** How a CSV export writes numeric dates, from dates sampled through the file; absent when none were seen. */
  dateOrder?: DateOrderGuess;
}

export type SniffResult = { status: 'ok'; info: ExportInfo } | { status: 'error'; error: string };

const HEAD_BYTES = 256 * 1024;
const LABELS: Record<string, string> = {
  'message-trace': 'message trace (Get-MessageTrace/V2)',
  'graph-message-trace': 'Graph message trace',
  'message-trace-detail': 'message trace detail (Get-MessageTraceDetailV2)',
  'historical-search': 'historical search report',
  'email-events': 'Defender EmailEvents',
  'email-attachment-info': 'Defender EmailAttachmentInfo',
  'email-url-info': 'Defender EmailUrlInfo',
};

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
    let sample: JsonRecord[] | null = null;
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

/**
 * Batches of rows from a sniffed export. `startAfter` skips that many records (already committed).
 * A CSV record that is malformed or has a wrong number of fields is returned with its `error` (naming its line);
 * a problem that stops the file (an unterminated quoted field longer than `maxRecordBytes`, no header row,
 * invalid JSON) ends the batches with a `Failure` of kind `input` naming the row or line.
 */
export function readExportRows(
  path: string,
  info: ExportInfo,
  opts: { startAfter?: number; limits?: ExportReaderLimits; progress?: ReadProgress } = {},
): AsyncGenerator<RawRow[] | Failure> {
  return untilReadError(exportRows(path, info, opts));
}

async function* exportRows(
  path: string,
  info: ExportInfo,
  opts: { startAfter?: number; limits?: ExportReaderLimits; progress?: ReadProgress },
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

/** A CSV record is its own row accessor: one object a row, no closures. */
export class CsvRecord extends CsvRow implements RawRow {
  classification?: { channel: Channel; candidate: boolean };
  /** Why the record cannot be read (malformed quoting, a wrong number of fields): reported and skipped. */
  error?: string;
  /** The line of the file the record starts on. */
  line?: number;
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
 * as {@link readExportRows}: a `Failure` is the last item when the file stops.
 */
export function streamCsvRows(
  path: string,
  info: ExportInfo,
  opts: { startAfter: number; limits: ExportReaderLimits; progress: ReadProgress },
  emit: (row: CsvRecord) => void,
): AsyncGenerator<undefined | Failure> {
  if (info.container !== 'csv') throw new Error('streamCsvRows: not a CSV export');
  return untilReadError(csvChunks(path, info, opts, emit));
}

async function* csvChunks(
  path: string,
  info: ExportInfo,
  opts: { startAfter: number; limits: ExportReaderLimits; progress: ReadProgress },
  emit: (row: CsvRecord) => void,
): AsyncGenerator<undefined> {
  for await (const _ of readCsv(path, info, opts.startAfter, opts.limits, opts.progress, emit)) yield;
}

/** The header row found in the first text of a CSV export, and the line the records start on. */
interface CsvStart {
  layout: CsvLayout;
  /** The decoded text after the header row. */
  rest: string;
  /** 1-based line of the file the first record starts on. */
  firstLine: number;
}

/**
 * Step 1 of {@link readCsv}: gather decoded text until the header row is found (after any `#TYPE` or blank
 * lines). `null` while more text is needed; throws when none is found in the first megabyte.
 */
function csvStart(head: string): CsvStart | null {
  const layout = csvLayout(head);
  if (!layout) {
    if (head.length > HEAD_BYTES * 4) throw new ExportReadError('no header row found');
    return null;
  }
  let firstLine = 1;
  for (let i = head.indexOf('\n'); i >= 0 && i < layout.skipChars; i = head.indexOf('\n', i + 1)) firstLine++;
  return { layout, rest: head.slice(layout.skipChars), firstLine };
}

/**
 * Step 2 of {@link readCsv}: a scanned record as a numbered row. Records are numbered through the file (a
 * rejected one too, so row numbers match a resumed run); those up to `startAfter` are dropped (already committed).
 */
function csvRowMaker(
  info: ExportInfo,
  header: readonly string[],
  startAfter: number,
  take: (record: CsvRecord) => void,
): { make: (record: CsvScanRecord) => void; count: () => number } {
  const index = headerIndex(header, info.dateOrder?.order);
  let n = 0;
  const make = (scanned: CsvScanRecord) => {
    n++;
    if (n <= startAfter) return;
    const record = new CsvRecord(index, header, scanned.fields, n);
    record.line = scanned.line;
    if (scanned.error !== undefined) record.error = scanned.error;
    take(record);
  };
  return { make, count: () => n };
}

/** A scanner for the records after the header. */
function csvScanner(start: CsvStart, columns: number, limits: ExportReaderLimits): CsvRecordScanner {
  return new CsvRecordScanner({
    delimiter: start.layout.col,
    columns,
    maxRecordChars: limits.maxRecordBytes,
    firstLine: start.firstLine,
  });
}

/**
 * CSV records, read strictly ({@link CsvRecordScanner}): a malformed record or one with a wrong number of fields
 * is returned with its error and line (reported, counted and skipped by ingest), never read another way; the
 * records around it are read as usual. A record still open past `maxRecordBytes` stops the file
 * (ExportReadError naming the row and line): its end cannot be known without holding more.
 *
 * Steps: find the header ({@link csvStart}), scan records as text is decoded, number them
 * ({@link csvRowMaker}), and hand them on in batches (or one by one to `emit`).
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
  let batch: RawRow[] = [];
  const rows = csvRowMaker(info, header, startAfter, (r) => {
    if (emit) emit(r);
    else batch.push(r);
  });
  const stream = createReadStream(path, { start: info.bomLength, highWaterMark: READ_CHUNK });
  let head = '';
  let scanner: CsvRecordScanner | null = null;
  let batchBytes = 0;
  const feed = (text: string, final: boolean) => {
    try {
      scanner!.push(text, rows.make);
      if (final) scanner!.end(rows.make);
    } catch (error) {
      if (!(error instanceof CsvRecordTooLong)) throw error;
      throw new ExportReadError(
        `row ${rows.count() + 1}: line ${error.line}: record longer than ${limits.maxRecordBytes} bytes (unterminated quote?)`,
      );
    }
  };
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      if (progress) progress.bytes += buf.length;
      batchBytes += buf.length;
      let text = dec.decode(buf, { stream: true });
      if (scanner === null) {
        head += text;
        const start = csvStart(head);
        if (start === null) continue;
        head = '';
        scanner = csvScanner(start, header.length, limits);
        text = start.rest;
      }
      feed(text, false);
      if (emit || batchFull(batch.length, batchBytes, limits)) {
        yield batch;
        batch = [];
        batchBytes = 0;
      }
    }
    const last = dec.decode();
    if (scanner === null && head.length + last.length > 0) {
      const start = csvStart(head + last);
      if (start === null) throw new ExportReadError('no header row found');
      scanner = csvScanner(start, header.length, limits);
      feed(start.rest, true);
    } else if (scanner !== null) feed(last, true);
  } finally {
    stream.destroy();
  }
  if (batch.length > 0) yield batch;
}
