/**
 * JSON exports: documents parsed whole or streamed record by record (Graph `value[]`, hunting `results[]`,
 * streaming-API `records[]`, arrays), and NDJSON read line by line; an element that is no object is a rejected
 * row, never dropped.
 * @module
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { JSONParser } from '@streamparser/json';
import {
  batchFull,
  decoderFor,
  ExportReadError,
  type ExportReaderLimits,
  type RawRow,
  READ_CHUNK,
  type ReadProgress,
} from './export-reading.js';
import { JsonRow } from './export-row.js';
import type { EncodingInfo } from './sniff-export.js';

/** The arrays of a JSON document that hold its records (one document holds one of them). */
const RECORD_ARRAYS = new Set(['results', 'value', 'records']);

/** An element of a record array that is no record (a string, a number, an array, null): a rejected row. */
export class NotARecord {
  readonly error: string;
  constructor(value: unknown) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    this.error = `not a JSON object (${what})`;
  }
}

export type JsonRecord = Record<string, unknown> | NotARecord;

/** One JSON record: a streaming-API wrapper unwrapped to its `properties` (with the tenant). */
function unwrap(r: unknown): JsonRecord {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return new NotARecord(r);
  const o = r as Record<string, unknown>;
  if (typeof o.category === 'string' && o.properties && typeof o.properties === 'object') {
    const props = { ...(o.properties as Record<string, unknown>) };
    if (typeof o.tenantId === 'string' && props.TenantId === undefined) props.TenantId = o.tenantId;
    return props;
  }
  return o;
}

/** A JSON record as a row: its own accessor, serialized only if it is kept; an element that is none, rejected. */
export function jsonRawRow(row: number, obj: JsonRecord): RawRow {
  if (obj instanceof NotARecord) return { row, data: new JsonRow({}), serialize: () => '{}', error: obj.error };
  return { row, data: new JsonRow(obj), serialize: () => JSON.stringify(obj) };
}

/** JSON records of a parsed document: Graph `value[]`, hunting `results[]`, streaming `records[]`, arrays. */
export function jsonRecords(doc: unknown): JsonRecord[] | null {
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
  return list.map(unwrap);
}

/** Records sampled from the head of a streamed JSON document to tell its format. */
export const SNIFF_RECORDS = 20;

/**
 * The records of a JSON document read as a stream, in batches (`batchRows` records or `batchBytes` of input):
 * the elements of its `value`, `results` or `records` array, or of the document when it is an array
 * (streaming-API wrappers unwrapped as for a parsed document). Memory holds one batch, not the document. Throws on invalid JSON, naming the byte position.
 */
export async function* streamJsonRecords(
  path: string,
  enc: EncodingInfo,
  limits: Pick<ExportReaderLimits, 'batchRows' | 'batchBytes'>,
  progress?: ReadProgress,
): AsyncGenerator<JsonRecord[]> {
  let out: JsonRecord[] = [];
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
          out.push(unwrap(value));
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

export function jsonKeys(records: JsonRecord[]): string[] {
  const keys = new Set<string>();
  let seen = 0;
  for (const r of records) {
    if (r instanceof NotARecord) continue;
    for (const k of Object.keys(r)) keys.add(k);
    if (++seen === 20) break;
  }
  return [...keys];
}

export async function readJsonDocument(
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

export async function* readNdjson(
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
  const push = (obj: JsonRecord, error?: string) => {
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
    let records: JsonRecord[] | null;
    try {
      records = jsonRecords(JSON.parse(t));
    } catch (e) {
      push({}, `invalid JSON${at}: ${jsonErrorText(e).slice(0, 120)}`);
      return;
    }
    if (records === null) push({}, `not a JSON record${at}`);
    else for (const r of records) push(r, r instanceof NotARecord ? `${r.error} on line ${lines}` : undefined);
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

/** JSON.parse's message, the same on every Node: 22 and later append ` (line 1 column 22)` to 20's text. */
function jsonErrorText(error: unknown): string {
  return (error as Error).message.replace(/ \(line \d+ column \d+\)$/, '');
}
