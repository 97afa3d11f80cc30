/** The generated Get-MessageTraceV2 files that ingest tests and benches share depend on their seed and options only. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM module of the benchmark (no types); the same generator the benchmark uses.
import { generateTrace } from '../../bench/ingest-bench-data.mjs';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('generated trace files', () => {
  it('are the same whatever was generated before in the same process', async () => {
    const file = (n: string) => join(tmp.dir, n);
    await generateTrace(600, file('a.csv'), 3, { mix: 'realistic', days: 10 });
    await generateTrace(600, file('other.csv'), 1);
    await generateTrace(600, file('b.csv'), 3, { mix: 'realistic', days: 10 });
    const a = readFileSync(file('a.csv'), 'utf8');
    expect(a.split('\r\n').length).toBe(602);
    expect(readFileSync(file('b.csv'), 'utf8')).toBe(a);
    expect(readFileSync(file('other.csv'), 'utf8')).not.toBe(a);
  });
});
