/**
 * The source inventory tables kept current by merging what each ingest run added must equal a rebuild from
 * every stored message, whatever the split of the data into runs (and a run that re-assesses stored messages
 * must rebuild). The per-IP source_* tables are what the merge writes; the group_* tables are regrouped from
 * them the same way on both sides, so they check the regrouping only, and for fixture runs that re-assess
 * stored messages both sides are rebuilds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: the benchmark's data generator is plain JavaScript
import { generateTrace } from '../../bench/ingest-bench-data.mjs';
import { parseProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { ingest } from '../../src/ingest/ingest.js';
import type { DsguardStore } from '../../src/store/dsguard-store.js';
import { rebuildSourceStats } from '../../src/store/source-stats.js';
import { fixtureFiles, fixtureProfile, openStore, tempDir } from './helpers.js';

const TABLES = [
  'source_stat',
  'source_sender',
  'source_recipient',
  'source_code',
  'source_sample',
  'source_candidate',
  'source_group',
  'group_stat',
  'group_total',
  'group_info',
  'group_helo',
  'group_sender',
  'group_code',
  'group_sample',
];

function snapshot(store: DsguardStore): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    out[t] = store.db
      .prepare(`SELECT * FROM ${t}`)
      .all()
      .map((r) => JSON.stringify(r))
      .sort();
  }
  return out;
}

function rebuilt(store: DsguardStore): Record<string, unknown[]> {
  store.db.exec('SAVEPOINT rebuild');
  rebuildSourceStats(store.db);
  const s = snapshot(store);
  store.db.exec('ROLLBACK TO rebuild');
  store.db.exec('RELEASE rebuild');
  return s;
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const benchProfile = (): TenantProfile => {
  const r = parseProfile('tenant:\n  domains: [contoso.com, contoso.co.uk]\n', 'bench.yml');
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
};

describe('source tables merged run by run', () => {
  it('equal a rebuild after each of three trace exports', async () => {
    const store = openStore(join(tmp.dir, 's.db'));
    const profile = benchProfile();
    try {
      for (const seed of [1, 2, 3]) {
        const file = join(tmp.dir, `trace-${seed}.csv`);
        await generateTrace(3000, file, seed);
        if (seed === 2) {
          // Oldest first, as a merged or re-sorted export would be: samples then come early in the file.
          const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\r\n');
          writeFileSync(file, `${[header, ...rows.reverse()].join('\r\n')}\r\n`);
        }
        // A small bound makes later runs write their per-IP counts out several times mid-file.
        const s = await ingest([file], { db: store, profile, commitRows: 500, sourceDeltaEntries: 200 });
        expect(s.stored).toBeGreaterThan(300);
        const merged = snapshot(store);
        expect((merged.source_stat as unknown[]).length).toBeGreaterThan(100);
        expect((merged.source_sample as unknown[]).length).toBeGreaterThan(10);
        expect((merged.source_candidate as unknown[]).length).toBeGreaterThan(10);
        expect(merged).toEqual(rebuilt(store));
      }
    } finally {
      store.close();
    }
  });

  it('equal a rebuild when runs join facts to stored messages (every fixture export, one run each)', async () => {
    const store = openStore(join(tmp.dir, 'f.db'));
    const profile = await fixtureProfile();
    try {
      let joined = 0;
      for (const file of fixtureFiles()) {
        const s = await ingest([file], { db: store, profile });
        joined += s.reassessed;
        expect(snapshot(store), file).toEqual(rebuilt(store));
      }
      expect(joined).toBeGreaterThan(0);
      expect((snapshot(store).group_sample as unknown[]).length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });
});
