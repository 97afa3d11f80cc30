/** `dsguard purge --before DAY`: deliveries before the day leave the store, the report is the one of what is left. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { queryStore } from '../helpers/store-read.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsguard-purge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const P = 'test/fixtures/exports/dsguard.yml';
const OLD = 'test/fixtures/exports/hunting-emailevents.json'; // 2026-07-22
const NEW = [
  'test/fixtures/exports/graph-messagetrace-page1.json',
  'test/fixtures/exports/graph-messagetrace-page2.json',
]; // 07-26, 07-27

const days = (db: string) =>
  queryStore<{ day: number }>(db, 'SELECT day, count(*) AS n FROM delivery GROUP BY day ORDER BY day').map((r) =>
    new Date(r.day * 86_400_000).toISOString().slice(0, 10),
  );

describe('dsguard purge', () => {
  it('removes deliveries before the day and leaves the report of the rest', async () => {
    const db = join(tmp, 'a.db');
    const only = join(tmp, 'b.db');
    expect((await runCli(['ingest', OLD, ...NEW, '--db', db, '-p', P])).code).toBe(0);
    expect((await runCli(['ingest', ...NEW, '--db', only, '-p', P])).code).toBe(0);
    expect(days(db)).toContain('2026-07-22');
    const r = await runCli(['purge', '--before', '2026-07-25', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed 2 deliveries/);
    expect(days(db)).toEqual(days(only));
    const rep = async (x: string) =>
      JSON.parse((await runCli(['report', '--db', x, '-p', P, '--format', 'json'])).stdout, (k, v) =>
        ['files', 'file', 'sha256', 'row', 'path'].includes(k) ? undefined : v,
      );
    expect(await rep(db)).toEqual(await rep(only));
  });

  it('refuses a malformed day', async () => {
    expect((await runCli(['purge', '--before', '2026-02-30', '--db', join(tmp, 'a.db')])).code).toBe(2);
  });
});
