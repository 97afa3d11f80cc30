/**
 * A real crash: `dsguard ingest` killed with SIGKILL in the middle of a file, then run again. The store must be
 * intact, the re-run must resume after the last committed row, and the result must equal a clean run.
 * Runs the built CLI (dist/, built by `npm ci`); skipped when dist is missing or older than the sources.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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

/**
 * The last committed row, read on a plain read-only connection: no open checks (a quick_check on every poll of a
 * growing store is what made this loop slow under load), and a locked or half-created store reads as 0.
 */
function committedRows(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const r = conn.prepare('SELECT max(rows_read) AS n FROM file').get() as { n: number | null };
      return r.n ?? 0;
    } finally {
      conn.close();
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
    // The kill must land between the first commit and the end of the file. On a machine fast enough to finish the
    // whole file between two polls, try again with a file twice the size: the outcome, not the timing, is tested.
    let rows = 160_000;
    let file = '';
    let db = '';
    let committed = 0;
    for (let attempt = 0; attempt < 4; attempt++, rows *= 2) {
      file = join(tmp.dir, `trace-${rows}.csv`);
      await generateTrace(rows, file, 7);
      db = join(tmp.dir, `killed-${rows}.db`);
      // --no-geoip: the resumed and the clean runs below use the library with the core rules only.
      const child = spawn(process.execPath, ['bin/dsguard.js', 'ingest', file, '--db', db, '--no-geoip'], {
        stdio: 'ignore',
      });
      let done = false;
      const exited = new Promise<void>((resolve) =>
        child.on('exit', () => {
          done = true;
          resolve();
        }),
      );
      while (!done && committedRows(db) === 0) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      committed = committedRows(db);
      if (committed > 0 && committed < rows) break;
    }
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(rows);

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
  }, 300_000);
});
