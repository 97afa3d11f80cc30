/**
 * A store that fails SQLite's integrity check is refused, for writing (ingest) and for reading (report), with an
 * error naming the store (exit 3), rather than written to or reported from without a word. The damage is real: a
 * page of a real store is overwritten on disk.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { DsguardStore } from '../../src/store/dsguard-store.js';
import { runCli } from '../helpers/cli.js';
import { fixtureFiles, fixtureProfile, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** Ingest the fixtures, fold the WAL into the file, then overwrite the page type of `table`'s root page. */
async function damagedStore(table: string): Promise<string> {
  const db = join(tmp.dir, `${table}.db`);
  await ingest(fixtureFiles(), { db, profile: await fixtureProfile() });
  const raw = new Database(db);
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.pragma('journal_mode = DELETE');
  const pageSize = raw.pragma('page_size', { simple: true }) as number;
  const root = (raw.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').get(table) as { rootpage: number })
    .rootpage;
  raw.close();
  const fd = openSync(db, 'r+');
  try {
    const at = (root - 1) * pageSize + (root === 1 ? 100 : 0);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    expect([0x02, 0x05, 0x0a, 0x0d]).toContain(b[0]);
    writeSync(fd, Buffer.from([0x07]), 0, 1, at);
  } finally {
    closeSync(fd);
  }
  return db;
}

describe('store integrity', () => {
  it('refuses a damaged store for writing and for reading, naming it', async () => {
    const db = await damagedStore('message');
    for (const readonly of [false, true]) {
      const r = DsguardStore.open(db, { readonly });
      expect(r.status, `readonly ${readonly}`).toBe('error');
      if (r.status === 'error') {
        expect(r.error).toMatch(
          new RegExp(
            `^${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: store is damaged \\(SQLite integrity check: .+\\); restore it from a backup or ingest the exports into a new store$`,
          ),
        );
      }
    }
  });

  it('makes ingest and report exit 3 with one line naming the store, writing nothing', async () => {
    const db = await damagedStore('bucket');
    const before = new Database(db, { readonly: true });
    const pages = before.pragma('page_count', { simple: true });
    before.close();
    const i = await runCli(['ingest', fixtureFiles()[0]!, '--db', db]);
    expect(i.code).toBe(3);
    expect(i.stderr).toContain(`${db}: store is damaged (SQLite integrity check:`);
    const r = await runCli(['report', '--db', db]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${db}: store is damaged (SQLite integrity check:`);
    expect(r.stdout).toBe('');
    const after = new Database(db, { readonly: true });
    expect(after.pragma('page_count', { simple: true })).toBe(pages);
    after.close();
  });

  it('opens a sound store as before, and a report leaves the delivery keys out of its check', async () => {
    const db = join(tmp.dir, 'ok.db');
    await ingest(fixtureFiles(), { db, profile: await fixtureProfile() });
    const w = DsguardStore.open(db);
    expect(w.status).toBe('ok');
    if (w.status === 'ok') {
      // The file ledger keeps each file's rejected rows for reports.
      expect(w.store.filesWithRejectedRows().map((f) => [f.path.split('/').pop(), f.read, f.rejected])).toEqual([
        ['emailevents-portal.csv', 4, 1],
        ['messagetrace-detail-v2.csv', 7, 1],
        ['messagetrace-v2.csv', 11, 1],
        ['streaming-emailevents.ndjson', 3, 1],
      ]);
      w.store.close();
    }
    const broken = await damagedStore('delivery');
    // The keys are checked when the store is opened for writing; a report never reads them.
    expect(DsguardStore.open(broken).status).toBe('error');
    const r = DsguardStore.open(broken, { readonly: true });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') r.store.close();
  });
});
