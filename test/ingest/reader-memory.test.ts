/**
 * The reader worker's memory is bounded by its limits, not by its input: it holds at most one record of
 * `maxRecordBytes` being scanned, the batch being filled (it ends at `batchBytes` of input or `batchRows` rows)
 * and the batches handed over but not yet taken (MAX_BATCHES_IN_FLIGHT). On Node 24 a worker thread that runs
 * out of heap aborts the whole process, so this matters: each hostile file below is many times the worker's
 * heap limit, and the worker must read it to its end (or to the error that stops the file) under that limit.
 * Runs the compiled worker (dist/) with a 64 MB old generation; an unbounded reader (one holding the rows of the
 * file, or a record past the limit) would hold hundreds of MB of strings and be stopped for lack of memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as ReadExport from '../../src/ingest/exports/read-export.js';
import type { ReaderWorkerConfig, ReaderWorkerMessage } from '../../src/ingest/reader.js';
import { distIsCurrent, tempDir } from './helpers.js';

const built = distIsCurrent();

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const HEADER = 'Received,SenderAddress,RecipientAddress,Subject,Status,ToIP,FromIP,Size,MessageId,MessageTraceId';
const MiB = 1024 * 1024;
/** Heap limit of the worker under test (its input is many times this). */
const HEAP_MB = 64;

/** Write `rows` rows whose Subject is `subjectBytes` long, then `tail` (written as is). */
function writeFile(name: string, rows: number, subjectBytes: number, tail = ''): string {
  const path = join(tmp.dir, name);
  const fd = openSync(path, 'w');
  writeSync(fd, `${HEADER}\r\n`);
  const subject = 'x'.repeat(subjectBytes);
  for (let i = 0; i < rows; i++) {
    writeSync(
      fd,
      `7/1/2026 10:00:00 AM,a@contoso.com,b@contoso.com,"${subject}",Delivered,,203.0.113.${i % 250},100,<m${i}@x>,${i}\r\n`,
    );
  }
  if (tail) writeSync(fd, tail);
  closeSync(fd);
  return path;
}

const DIST_READ_EXPORT = '../../dist/ingest/exports/read-export.js';
const WORKER = new URL('../../dist/ingest/worker.js', import.meta.url);

/** Read a file with the compiled worker under the heap limit, acknowledging batches as the main thread does. */
async function readUnderLimit(
  path: string,
  limits: ReadExport.ExportReaderLimits,
): Promise<{ rows: number; error: string | null }> {
  const { sniffExportFile } = (await import(DIST_READ_EXPORT)) as typeof ReadExport;
  const sniff = await sniffExportFile(path, limits);
  if (sniff.status !== 'ok') throw new Error(sniff.error);
  const { adapter, records: _records, ...plainInfo } = sniff.info;
  const config: ReaderWorkerConfig = {
    path,
    info: { ...plainInfo, format: adapter.format },
    startAfter: 0,
    limits,
    profile: null,
    storePath: null,
  };
  const worker = new Worker(WORKER, {
    workerData: config,
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, maxYoungGenerationSizeMb: 24 },
  });
  try {
    return await new Promise((resolve, reject) => {
      let rows = 0;
      worker.on('message', (m: ReaderWorkerMessage) => {
        if (m.kind === 'batch') {
          rows += m.count;
          worker.postMessage('ack');
        } else if (m.kind === 'end') resolve({ rows, error: null });
        else resolve({ rows, error: m.message });
      });
      // ERR_WORKER_OUT_OF_MEMORY on Node 20 and 22 (Node 24 aborts the process instead).
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`reader worker exited with code ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

const LIMITS: ReadExport.ExportReaderLimits = {
  maxJsonBytes: 32 * MiB,
  maxRecordBytes: 4 * MiB,
  batchRows: 2_000,
  batchBytes: MiB,
};

describe.skipIf(!built)('reader worker memory', () => {
  it('reads a file of huge fields many times its heap limit to the end', async () => {
    // 40 records of 3.5 MiB each, just under the record limit: 140 MB of text, twice that with the serialized
    // records the worker makes, if they were kept.
    const path = writeFile('huge-fields.csv', 40, 3.5 * MiB);
    const r = await readUnderLimit(path, LIMITS);
    expect(r).toEqual({ rows: 40, error: null });
  }, 60_000);

  it('stops at a record past the limit (an unterminated quote, a line with no end) without holding the rest', async () => {
    // A stray quote opens a field that runs to the end of a 100 MB file (a limit of 512 MiB instead of 4 MiB makes
    // this worker run out of memory: the limit is what bounds it).
    const quote = writeFile('stray-quote.csv', 10, 100, `7/1/2026 10:00:00 AM,a@contoso.com,b@contoso.com,"`);
    const fd = openSync(quote, 'a');
    const block = 'y'.repeat(MiB);
    for (let i = 0; i < 100; i++) writeSync(fd, block);
    closeSync(fd);
    const q = await readUnderLimit(quote, LIMITS);
    expect(q.rows).toBe(10);
    expect(q.error).toMatch(/^row 11: line 12: record longer than 4194304 bytes/);
  }, 60_000);

  it('reads many small batches of ordinary rows with long subjects under the limit', async () => {
    // 12,000 rows of 8 KiB subjects (100 MB): batches end at batchBytes, not at batchRows.
    const path = writeFile('long-subjects.csv', 12_000, 8 * 1024);
    const r = await readUnderLimit(path, LIMITS);
    expect(r).toEqual({ rows: 12_000, error: null });
  }, 60_000);
});
