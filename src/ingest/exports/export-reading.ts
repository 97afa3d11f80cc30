/**
 * What every export reader shares: its limits, the raw row it hands on, the read size and text decoding, batch
 * ends, progress and the one error that stops a file.
 * @module
 */
import { TextDecoder } from 'node:util';
import type { Channel } from '../../core/assessment.js';
import { type Failure, failure } from '../../core/result.js';
import type { ExportRow } from './export-row.js';
import type { EncodingInfo } from './sniff-export.js';

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

/**
 * Read size. Decoded chunks under 128 KiB (32K characters, two bytes each when the text is not Latin-1) are
 * ordinary young objects that die at the next scavenge; larger ones go to V8's large-object space and wait for a
 * full collection. Measured on 1M trace rows: 32 KiB peaks at 263-267 MiB, 256 KiB at 292-305 MiB, same speed.
 */
export const READ_CHUNK = 32 * 1024;

export function decoderFor(enc: EncodingInfo): TextDecoder {
  return new TextDecoder(enc.encoding, { fatal: false, ignoreBOM: true });
}

/** Whether a batch of `rows` rows read from `bytes` bytes of input is full (see {@link ExportReaderLimits}). */
export function batchFull(
  rows: number,
  bytes: number,
  limits: Pick<ExportReaderLimits, 'batchRows' | 'batchBytes'>,
): boolean {
  return rows >= limits.batchRows || (rows > 0 && bytes >= limits.batchBytes);
}

export interface ReadProgress {
  bytes: number;
}

/**
 * A read error that stops the file (no header row, a record or line past its size limit, invalid JSON): thrown
 * inside the export readers to unwind them, never seen outside `ingest/exports/`. The readers' generators
 * (`readExportRows`, `streamCsvRows`) end with it as their last item, a `Failure` of kind
 * `input`.
 */
export class ExportReadError extends Error {}

/**
 * The items of `source`, then, if an {@link ExportReadError} stopped it, that error as a `Failure` (the last
 * item). Any other exception passes through.
 */
export async function* untilReadError<T>(source: AsyncGenerator<T>): AsyncGenerator<T | Failure> {
  try {
    yield* source;
  } catch (error) {
    if (!(error instanceof ExportReadError)) throw error;
    yield failure('input', error.message);
  }
}
