/**
 * The JSON readers' limits and error paths: a document streamed past maxJsonBytes, NDJSON lines that are not
 * records or are too long, and batches that end at batchBytes of input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_EXPORT_LIMITS,
  type ExportReaderLimits,
  readExportRows,
  sniffExportFile,
} from '../../src/ingest/exports/read-export.js';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const hunting = JSON.parse(readFileSync('test/fixtures/exports/hunting-emailevents.json', 'utf8')) as {
  results: Record<string, unknown>[];
};
/** A streaming-API record (the NDJSON shape: `category` + `properties`), from the fixture's first line. */
const streamed = JSON.parse(
  readFileSync('test/fixtures/exports/streaming-emailevents.ndjson', 'utf8').split('\n')[0]!,
) as {
  properties: Record<string, unknown>;
};

async function rows(path: string, limits: ExportReaderLimits) {
  const s = await sniffExportFile(path, limits);
  if (s.status !== 'ok') throw new Error(s.error);
  const batches: { row: number; error?: string }[][] = [];
  for await (const b of readExportRows(path, s.info, { limits })) {
    if (!Array.isArray(b)) return { info: s.info, batches, failure: b };
    batches.push(b.map((r) => (r.error === undefined ? { row: r.row } : { row: r.row, error: r.error })));
  }
  return { info: s.info, batches };
}

describe('JSON readers', () => {
  it('reject an element of a record array that is no object, numbered, whole or streamed, and keep the others', async () => {
    const good = hunting.results[0]!;
    const doc = join(tmp.dir, 'mixed.json');
    writeFileSync(doc, JSON.stringify({ results: [good, 'a string', 42, null, [good], good] }));
    const want = [
      { row: 1 },
      { row: 2, error: 'not a JSON object (a string)' },
      { row: 3, error: 'not a JSON object (a number)' },
      { row: 4, error: 'not a JSON object (null)' },
      { row: 5, error: 'not a JSON object (an array)' },
      { row: 6 },
    ];
    expect((await rows(doc, DEFAULT_EXPORT_LIMITS)).batches.flat()).toEqual(want);
    const streamedDoc = await rows(doc, { ...DEFAULT_EXPORT_LIMITS, maxJsonBytes: 64 });
    expect(streamedDoc.info.streamed).toBe(true);
    expect(streamedDoc.batches.flat()).toEqual(want);
    // An Event Hubs batch line of NDJSON: the element is a row, its error names the line.
    const nd = join(tmp.dir, 'batch.ndjson');
    const rec = JSON.stringify(streamed);
    writeFileSync(nd, `${rec}\n{"records":[${rec},"x",${rec}]}\n`);
    expect((await rows(nd, DEFAULT_EXPORT_LIMITS)).batches.flat()).toEqual([
      { row: 1 },
      { row: 2 },
      { row: 3, error: 'not a JSON object (a string) on line 2' },
      { row: 4 },
    ]);
  });

  it('says so when a streamed document holds no record array', async () => {
    const path = join(tmp.dir, 'empty.json');
    writeFileSync(path, JSON.stringify({ '@odata.context': 'x', value: [], padding: 'y'.repeat(200) }));
    const s = await sniffExportFile(path, { ...DEFAULT_EXPORT_LIMITS, maxJsonBytes: 64 });
    expect(s).toEqual({
      status: 'error',
      error: 'no records in value[], results[], records[] or a top-level array of a JSON document over 64 bytes',
    });
  });

  it('ends batches at batchBytes of input, streamed JSON and NDJSON alike', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ ...hunting.results[0], ReportId: `r${i}` }));
    const doc = join(tmp.dir, 'doc.json');
    writeFileSync(doc, JSON.stringify({ results: many }));
    const nd = join(tmp.dir, 'events.ndjson');
    writeFileSync(
      nd,
      `${many.map((_, i) => JSON.stringify({ ...streamed, properties: { ...streamed.properties, ReportId: `r${i}` } })).join('\n')}\n`,
    );
    const limits = { ...DEFAULT_EXPORT_LIMITS, maxJsonBytes: 64, batchBytes: 64 * 1024 };
    for (const path of [doc, nd]) {
      const { info, batches } = await rows(path, limits);
      expect(info.container, path).toBe(path === doc ? 'json' : 'ndjson');
      // ~1.8 KB a record, 540 KB in all: several batches, none near 2,000 rows, every row once in order.
      expect(batches.length, path).toBeGreaterThanOrEqual(5);
      expect(batches.flat().map((r) => r.row)).toEqual(many.map((_, i) => i + 1));
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThan(100);
    }
  });

  it('rejects an NDJSON line that holds no record, naming its line, and stops at an overlong line', async () => {
    const a = JSON.stringify(streamed);
    const path = join(tmp.dir, 'mixed.ndjson');
    // A batch line of two records, then a line that is JSON but no record: row 3, line 2.
    writeFileSync(path, `${JSON.stringify({ records: [streamed, streamed] })}\n"just a string"\n${a}\n`);
    const { batches } = await rows(path, DEFAULT_EXPORT_LIMITS);
    expect(batches.flat()).toEqual([
      { row: 1 },
      { row: 2 },
      { row: 3, error: 'not a JSON record (line 2)' },
      { row: 4 },
    ]);
    const long = join(tmp.dir, 'long.ndjson');
    writeFileSync(long, `${a}\n${'x'.repeat(5_000)}`);
    const stopped = await rows(long, { ...DEFAULT_EXPORT_LIMITS, maxRecordBytes: 1_000 });
    expect(stopped.batches.flat()).toEqual([]);
    expect(stopped.failure).toEqual({ status: 'error', kind: 'input', error: 'line 2: longer than 1000 bytes' });
  });
});
