/**
 * `dsguard export`: one record per stored message, NDJSON and CSV, every record valid against
 * docs/message-export.schema.json (checked by a small validator of the keywords that schema uses), the same count
 * as the report's totals, deterministic.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { MESSAGE_FIELDS } from '../../src/report/message-export.js';
import { runCli } from '../helpers/cli.js';
import { fixtureFiles, fixtureProfile, openStore, tempDir } from '../ingest/helpers.js';

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function validate(v: unknown, s: Schema, path = '$'): string[] {
  const errors: string[] = [];
  if (s.const !== undefined && v !== s.const) errors.push(`${path}: not ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.includes(v)) errors.push(`${path}: ${JSON.stringify(v)} not in enum`);
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.includes(typeOf(v))) errors.push(`${path}: ${typeOf(v)} is not ${types.join('|')}`);
  }
  if (typeof v === 'string' && s.pattern && !new RegExp(s.pattern).test(v)) errors.push(`${path}: pattern`);
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) errors.push(`${path}: < minimum`);
    if (s.maximum !== undefined && v > s.maximum) errors.push(`${path}: > maximum`);
  }
  if (Array.isArray(v) && s.items) {
    for (const [i, x] of v.entries()) errors.push(...validate(x, s.items, `${path}[${i}]`));
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of s.required ?? []) if (!(k in o)) errors.push(`${path}.${k}: missing`);
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k];
      if (p) errors.push(...validate(x, p, `${path}.${k}`));
      else if (s.additionalProperties === false) errors.push(`${path}.${k}: not allowed`);
    }
  }
  return errors;
}

let tmp: ReturnType<typeof tempDir>;
let db: string;
const PROFILE = 'test/fixtures/exports/dsguard.yml';
beforeAll(async () => {
  tmp = tempDir();
  db = join(tmp.dir, 'exp.db');
  await ingest(fixtureFiles(), { db, profile: await fixtureProfile() });
});
afterAll(() => tmp.cleanup());

describe('dsguard export', () => {
  it('writes one schema-valid NDJSON record per stored message, channel by channel', async () => {
    const schema = JSON.parse(readFileSync('docs/message-export.schema.json', 'utf8')) as Schema;
    expect(Object.keys(schema.properties!)).toEqual([...MESSAGE_FIELDS]);
    const r = await runCli(['export', '--db', db, '--profile', PROFILE, '--no-enrich']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const report = JSON.parse(readFileSync('test/fixtures/exports/report.expected.json', 'utf8')) as {
      totals: { messages: number };
    };
    // Every stored message (the report's totals also count rows kept only as aggregates).
    const store = openStore(db);
    const stored = (store.db.prepare('SELECT count(*) AS n FROM message').get() as { n: number }).n;
    const byChannel = store.db
      .prepare('SELECT channel, count(*) AS n FROM message GROUP BY channel ORDER BY channel')
      .all() as { channel: string; n: number }[];
    store.close();
    expect(lines).toHaveLength(stored);
    expect(stored).toBeGreaterThan(10);
    expect(stored).toBeLessThanOrEqual(report.totals.messages);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const rec of records) expect(validate(rec, schema)).toEqual([]);
    for (const c of byChannel)
      expect(
        records.filter((x) => x.channel === c.channel),
        c.channel,
      ).toHaveLength(c.n);
    expect(records.filter((x) => x.channel === 'direct-send').length).toBeGreaterThan(5);
    expect(records.every((x) => x.tenant === '4b8c18bd-2f9f-4227-af55-9f1061cf9c32')).toBe(true);
    // Receipt order, deterministic.
    const times = records.map((x) => String(x.time));
    expect([...times].sort()).toEqual(times);
    expect((await runCli(['export', '--db', db, '--profile', PROFILE, '--no-enrich'])).stdout).toBe(r.stdout);
    // With dsguard's IP data (when bundled): still valid, same records otherwise.
    const enriched = (await runCli(['export', '--db', db, '--profile', PROFILE])).stdout.trimEnd().split('\n');
    expect(enriched).toHaveLength(lines.length);
    for (const l of enriched) expect(validate(JSON.parse(l), schema)).toEqual([]);
    // A schema violation is caught (so the check can fail).
    expect(validate({ ...records[0], risk: 101, extra: 1 }, schema)).toHaveLength(2);
  });

  it('writes the same records as CSV with the documented header', async () => {
    const nd = (await runCli(['export', '--db', db, '--no-enrich'])).stdout.trimEnd().split('\n');
    const r = await runCli(['export', '--db', db, '--format', 'csv', '--no-enrich']);
    expect(r.code).toBe(0);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...MESSAGE_FIELDS]);
    expect(rows).toHaveLength(nd.length);
    nd.forEach((line, i) => {
      const rec = JSON.parse(line) as { messageId: string | null; findingCodes: string[] };
      expect(rows[i]!.findingCodes).toBe(rec.findingCodes.join(' '));
    });
    expect((await runCli(['export', '--db', db, '--format', 'xml'])).code).toBe(2);
  });

  it('is also dsguard report --messages: the same records, ndjson by default, csv on request', async () => {
    const nd = await runCli(['export', '--db', db, '--profile', PROFILE]);
    const viaReport = await runCli(['report', '--messages', '--db', db, '--profile', PROFILE]);
    expect(viaReport.code).toBe(0);
    expect(viaReport.stdout).toBe(nd.stdout);
    const csv = await runCli(['export', '--db', db, '--format', 'csv']);
    const csvReport = await runCli(['report', '--messages', '--db', db, '--format', 'csv']);
    expect(csvReport.stdout).toBe(csv.stdout);
    for (const extra of [
      ['--format', 'html'],
      ['--format', 'parquet'],
      ['--since', '30d'],
      ['--fail-on', 'malicious'],
    ]) {
      const r = await runCli(['report', '--messages', '--db', db, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
    }
  });
});
