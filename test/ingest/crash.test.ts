/**
 * A real crash: `dsguard ingest` killed with SIGKILL in the middle of a file, then run again. The store must be
 * intact, the re-run must resume after the last committed row, and the result must equal a clean run.
 * Runs the built CLI (dist/, built by `npm ci`); skipped when dist is missing or older than the sources.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM module of the benchmark (no types); the same generator the benchmark uses.
import { generateTrace } from '../../bench/ingest-bench-data.mjs';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport } from '../../src/report/tenant-report.js';
import { distIsCurrent, openStore, tempDir } from './helpers.js';

const built = distIsCurrent();

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

function committedRows(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const store = openStore(db);
    try {
      const r = store.db.prepare('SELECT max(rows_read) AS n FROM file').get() as { n: number | null };
      return r.n ?? 0;
    } finally {
      store.close();
    }
  } catch {
    return 0;
  }
}

function summary(db: string) {
  const store = openStore(db);
  try {
    const buckets = store.db
      .prepare('SELECT channel, verdict, candidate, sum(messages) AS n FROM bucket GROUP BY 1, 2, 3 ORDER BY 1, 2, 3')
      .all();
    const messages = (store.db.prepare('SELECT count(*) AS n FROM message').get() as { n: number }).n;
    const integrity = (store.db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    const { files: _f, ...report } = buildTenantReport(store, { profile: null });
    return { buckets, messages, integrity, report };
  } finally {
    store.close();
  }
}

describe.skipIf(!built)('crash during ingest (built CLI)', () => {
  it('survives SIGKILL mid-file and resumes to the same result as a clean run', async () => {
    const file = join(tmp.dir, 'trace.csv');
    await generateTrace(160_000, file, 7);
    const db = join(tmp.dir, 'killed.db');
    // --no-geoip: the resumed and the clean runs below use the library with the core rules only.
    const child = spawn(process.execPath, ['bin/dsguard.js', 'ingest', file, '--db', db, '--no-geoip'], {
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (committedRows(db) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    const committed = committedRows(db);
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(160_000);

    const again = await ingest([file], { db, profile: null });
    expect(again.files[0]!.status).toBe('resumed');
    expect(again.files[0]!.resumedAfter).toBe(committed);

    const clean = join(tmp.dir, 'clean.db');
    await ingest([file], { db: clean, profile: null });
    const a = summary(db);
    const b = summary(clean);
    expect(a.integrity).toBe('ok');
    expect(a.buckets).toEqual(b.buckets);
    expect(a.messages).toBe(b.messages);
    expect(a.report).toEqual(b.report);
  }, 120_000);
});
