/**
 * Schema migrations on a real SQLite file: a store an older dsguard wrote opens at the current schema with every
 * row kept, goes on ingesting, and ends up with the same content and report as a store built at the current one;
 * a released migration's text never changes.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport } from '../../src/report/tenant-report.js';
import { openSqlite } from '../../src/store/better-sqlite3.js';
import type { DsguardStore } from '../../src/store/dsguard-store.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { sourceStatsStale } from '../../src/store/source-stats.js';
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

/**
 * SQL text of each migration as it was when it reached main: a store that applied it never applies it again, so
 * editing one strands every such store (add a migration instead).
 */
const FROZEN: Record<number, string> = {
  1: '95c040f250486ae45700f7fc6e2472ce03b6b4cab1c1e26c52ee843b50f7afc5',
  2: '0a73f56cc0a4397a8d892668efabc830fb1c8fd06e898abcea24e98e6bd199a3',
  3: '6b14a833b4415819a4dd5bbbc46a00cf9ec42dfcef3b2a93ed2ee82a06d2405d',
  4: '718c2a774f6178b40c8eb9ef92a111212830e5505adac7a4a6e497fa7bc7c8a7',
  5: '62e71d7efcd1257a144e6a493f25dc4b90f9a2eb1ad0a337b1d4b4a265e4ddf0',
  6: '0b72e143fac16ca7a21eee64fc2c92721484d2adf9d676cbf6d9ec1e085dca62',
  7: 'da5164fef53f196d2425af940f797ea1bec0642818cbf1060366ee86ab7026ad',
  8: '81dc9068c2d43998b425a41d052c2e666366dfa0a63ba0aa34be0341e9ea351a',
  9: '8f80ff6d96e92bb7b93b98486235536c79d0ec3003d0689305d3e9d8f61bfc02',
  10: 'e3f2384ee005979a148ccb3b375b6fb5801ba2cb812d39ba899f5a0befbe3e8b',
};

/**
 * Turn a current store back into what an older dsguard left: schema 1 as first released (no source groups,
 * raw rows keyed by (day, h)), or schema 1 with the group tables it briefly held (`groupsInV1`).
 */
function downgrade(path: string, groupsInV1: boolean): void {
  const db = openSqlite(path);
  db.exec(`
    DROP TABLE source_group; DROP TABLE group_stat; DROP TABLE group_total; DROP TABLE group_info;
    DROP TABLE group_helo; DROP TABLE group_sender; DROP TABLE group_code; DROP TABLE group_sample;
    CREATE TABLE message_data_v1 (day INTEGER NOT NULL, h INTEGER NOT NULL, format TEXT NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (day, h)) WITHOUT ROWID;
    INSERT INTO message_data_v1 SELECT day, h, format, data FROM message_data;
    DROP TABLE message_data;
    ALTER TABLE message_data_v1 RENAME TO message_data;
    ALTER TABLE source_stat ADD COLUMN blocks INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE file DROP COLUMN date_order;
    DROP TABLE source_candidate; DROP INDEX message_proven;
    DROP TABLE collect_checkpoint; DROP TABLE alert_sent;
    DROP TABLE collect_daily_total; DROP TABLE collect_trace_detail;
    DROP TABLE watch_cycle; DROP TABLE alert_outbox; DROP TABLE alert_refusal;
    DELETE FROM schema_migrations WHERE version > 1;
    DELETE FROM meta WHERE key = 'sources';
  `);
  if (groupsInV1) {
    db.exec(`
      CREATE TABLE source_group (ip TEXT PRIMARY KEY, grp INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE group_info (grp INTEGER PRIMARY KEY, ips INTEGER NOT NULL, recipients INTEGER NOT NULL,
        senders INTEGER NOT NULL);
      INSERT INTO group_info VALUES (1, 1, 1, 1);
    `);
  }
  db.close();
}

describe('store migrations', () => {
  it('never changes a migration that reached main', () => {
    expect(Object.keys(FROZEN).map(Number)).toEqual(MIGRATIONS.map((m) => m.version));
    for (const m of MIGRATIONS) {
      expect(createHash('sha256').update(m.sql).digest('hex'), `migration ${m.version}`).toBe(FROZEN[m.version]);
    }
  });

  it.each([
    ['schema 1 as first released', false],
    ['schema 1 with the group tables it briefly held', true],
  ])(
    'brings a store at %s to the current schema with its rows, and it ingests on as a new one would',
    async (_n, groupsInV1) => {
      const profile = await fixtureProfile();
      const old = join(tmp.dir, 'old.db');
      await ingest(FIRST, { db: old, profile });
      const first = openStore(old);
      const before = CONTENT.map((q) => rows(first, q));
      expect(before[0]!.length).toBeGreaterThan(0);
      first.close();
      downgrade(old, groupsInV1);

      const reopened = openStore(old);
      try {
        expect(CONTENT.map((q) => rows(reopened, q))).toEqual(before);
        const versions = reopened.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
        expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
        const index = reopened.db.prepare("SELECT name FROM sqlite_master WHERE name = 'message_data_key'").get();
        expect(index).toEqual({ name: 'message_data_key' });
        // Schema 4 dropped source_stat.blocks; schema 5 added file.date_order (NULL: read month-first before).
        const columns = (table: string) =>
          (reopened.db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map(
            (c) => c.name,
          );
        expect(columns('source_stat')).not.toContain('blocks');
        expect(columns('file')).toContain('date_order');
        expect(reopened.db.prepare('SELECT DISTINCT date_order FROM file').all()).toEqual([{ date_order: null }]);
        // Schema 6: the per-IP candidates (filled by the rebuild) and the index of proven messages.
        expect(columns('source_candidate')).toEqual(['ip', 'sender', 'day', 'messages']);
        expect(reopened.db.prepare("SELECT name FROM sqlite_master WHERE name = 'message_proven'").get()).toEqual({
          name: 'message_proven',
        });
        // The group tables are new and empty: the source aggregates are marked for a rebuild.
        expect(sourceStatsStale(reopened.db)).toBe(true);
        expect(reopened.db.prepare('SELECT count(*) AS n FROM group_info').get()).toEqual({ n: 0 });
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
        expect(sourceStatsStale(a.db)).toBe(false);
        const { files: _fa, ...ra } = buildTenantReport(a, { profile });
        const { files: _fb, ...rb } = buildTenantReport(b, { profile });
        expect(ra).toEqual(rb);
        expect(ra.sources.length).toBeGreaterThan(0);
        // The joins reached the migrated rows (facts re-assessed stored deliveries).
        expect(rows(a, 'SELECT channel FROM message').some((r) => !r.includes('unknown'))).toBe(true);
      } finally {
        a.close();
        b.close();
      }
    },
  );

  it('does not mark an empty store for a rebuild', () => {
    const store = openStore(join(tmp.dir, 'empty.db'));
    expect(sourceStatsStale(store.db)).toBe(false);
    store.close();
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
