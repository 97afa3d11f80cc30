/**
 * Schema migrations on a real SQLite file: a store written at schema 1 opens at the current schema with every
 * row kept, goes on ingesting, and ends up with the same content as a store built at the current schema.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest.js';
import { openSqlite } from '../../src/store/db.js';
import { DsguardStore } from '../../src/store/dsguard-store.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { buildTenantReport } from '../../src/tenant-report.js';
import { FIXTURE_DIR, fixtureProfile, openStore, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const FIRST = ['messagetrace-v2.csv', 'historical-search.csv'].map((f) => join(FIXTURE_DIR, f));
const LATER = ['messagetrace-detail-v2.csv', 'hunting-emailevents.json'].map((f) => join(FIXTURE_DIR, f));

const rows = (store: DsguardStore, sql: string) =>
  store.db
    .prepare(sql)
    .all()
    .map((r) => JSON.stringify(r))
    .sort();

const CONTENT = [
  'SELECT day, h, format, data FROM message_data',
  'SELECT day, h, msg_h, message_id, recipient, channel, verdict, candidate, codes, row FROM message',
  'SELECT day, h, stored FROM delivery',
  'SELECT day, channel, verdict, candidate, messages FROM bucket',
];

describe('store migrations', () => {
  it('brings a schema-1 store to the current schema with its rows, and it ingests on as a new one would', async () => {
    const profile = await fixtureProfile();
    const old = join(tmp.dir, 'old.db');
    const db = openSqlite(old);
    const m1 = migrate(
      db,
      MIGRATIONS.filter((m) => m.version === 1),
    );
    expect(m1).toMatchObject({ status: 'ok', version: 1 });
    const v1 = new DsguardStore(db, old);
    await ingest(FIRST, { db: v1, profile });
    const before = CONTENT.map((q) => rows(v1, q));
    expect(before[0]!.length).toBeGreaterThan(0);
    v1.close();

    const reopened = openStore(old);
    try {
      expect(CONTENT.map((q) => rows(reopened, q))).toEqual(before);
      const versions = reopened.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
      expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
      const index = reopened.db.prepare("SELECT name FROM sqlite_master WHERE name = 'message_data_key'").get();
      expect(index).toEqual({ name: 'message_data_key' });
    } finally {
      reopened.close();
    }

    await ingest(LATER, { db: old, profile });
    const fresh = join(tmp.dir, 'fresh.db');
    await ingest(FIRST, { db: fresh, profile });
    await ingest(LATER, { db: fresh, profile });
    const a = openStore(old);
    const b = openStore(fresh);
    try {
      expect(CONTENT.map((q) => rows(a, q))).toEqual(CONTENT.map((q) => rows(b, q)));
      const { files: _fa, ...ra } = buildTenantReport(a, { profile });
      const { files: _fb, ...rb } = buildTenantReport(b, { profile });
      expect(ra).toEqual(rb);
      // The joins reached the migrated rows (facts re-assessed stored deliveries).
      expect(rows(a, 'SELECT channel FROM message').some((r) => !r.includes('unknown'))).toBe(true);
    } finally {
      a.close();
      b.close();
    }
  });

  it('refuses a store written by a newer dsguard', () => {
    const path = join(tmp.dir, 'new.db');
    const db = openSqlite(path);
    expect(migrate(db)).toMatchObject({ status: 'ok' });
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')").run();
    expect(migrate(db)).toMatchObject({ status: 'error', error: expect.stringMatching(/newer dsguard/) });
    db.close();
  });
});
