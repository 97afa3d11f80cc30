/**
 * Every `--format json` output matches its JSON Schema in schema/ (generated from the TypeScript types by
 * `npm run build`), with `schemaVersion` in each record; and the validator can fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/core/json-record.js';
import { runCli } from '../helpers/cli.js';
import { type DnsTestServer, loadZones, startDnsServer } from '../helpers/dns-server.js';
import { validate } from '../helpers/json-schema.js';
import { tempDir } from '../ingest/helpers.js';
import { startExoSmtp } from '../probe/exo-smtp-server.js';

const schema = (command: string) =>
  JSON.parse(readFileSync(`schema/${command}.schema.json`, 'utf8')) as Record<string, unknown>;

function expectValid(command: string, stdout: string): unknown {
  const value = JSON.parse(stdout) as unknown;
  expect(validate(schema(command), value), command).toEqual([]);
  return value;
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

let dns: DnsTestServer;
beforeAll(async () => {
  dns = await startDnsServer(loadZones('test/fixtures/dns'));
});
afterAll(async () => {
  await dns.close();
});

describe('JSON output schemas', () => {
  it('analyze: messages and unreadable inputs, as json and as ndjson lines', async () => {
    const args = [
      'analyze',
      'samples/messages',
      join(tmp.dir, 'missing.eml'),
      '--no-geoip',
      '-p',
      'samples/dsguard.yml',
    ];
    const r = await runCli([...args, '-f', 'json']);
    const records = expectValid('analyze', r.stdout) as { schemaVersion: number; error?: string }[];
    expect(records.length).toBeGreaterThan(5);
    expect(records.every((x) => x.schemaVersion === SCHEMA_VERSION)).toBe(true);
    expect(records.some((x) => x.error)).toBe(true);
    const withIp = await runCli(['analyze', 'samples/messages', '-f', 'json']);
    expectValid('analyze', withIp.stdout);
    const nd = await runCli([...args, '-f', 'ndjson']);
    const record = { ...schema('analyze'), type: undefined, items: undefined, $ref: '#/$defs/record' };
    for (const line of nd.stdout.trim().split('\n')) expect(validate(record, JSON.parse(line))).toEqual([]);
  });

  it('exposure: audited domains and a bad input line', async () => {
    const r = await runCli([
      'exposure',
      'gateway.test',
      'eop-direct.test',
      'dnssec.test',
      'spf-missing.test',
      'not a domain',
      '--dns-replay',
      'samples/dns-replay.json',
      '-f',
      'json',
    ]);
    const records = expectValid('exposure', r.stdout) as unknown[];
    expect(records).toHaveLength(5);
  });

  it('ingest and report', async () => {
    const db = join(tmp.dir, 's.db');
    const ingest = await runCli([
      'ingest',
      'samples/exports',
      '--db',
      db,
      '-p',
      'samples/exports-profile.yml',
      '-f',
      'json',
    ]);
    expect((expectValid('ingest', ingest.stdout) as { schemaVersion: number }).schemaVersion).toBe(SCHEMA_VERSION);
    const report = await runCli(['report', '--db', db, '-p', 'samples/exports-profile.yml', '-f', 'json']);
    expectValid('report', report.stdout);
    const bare = await runCli(['report', '--db', db, '-f', 'json']);
    expectValid('report', bare.stdout);
  });

  it('probe', async () => {
    const smtp = await startExoSmtp('reject-direct-send-rcpt');
    try {
      const r = await runCli([
        'probe',
        'probe.test',
        '--from',
        'ceo@probe.test',
        '--to',
        'it@probe.test',
        '--smtp-port',
        String(smtp.port),
        '--dns-server',
        dns.address,
        '--format',
        'json',
      ]);
      expect(r.code).toBe(0);
      expectValid('probe', r.stdout);
    } finally {
      await smtp.close();
    }
  });

  it('the validator rejects what the schema does not allow', () => {
    const s = schema('ingest');
    const good = { schemaVersion: SCHEMA_VERSION, files: [], read: 0, stored: 0, aggregated: 0, rejected: 0 };
    const full = { ...good, duplicates: 0, reassessed: 0, warnings: [], interrupted: false };
    expect(validate(s, full)).toEqual([]);
    expect(validate(s, good).join()).toMatch(/missing duplicates/);
    expect(validate(s, { ...full, extra: 1 }).join()).toMatch(/unexpected property extra/);
    expect(validate(s, { ...full, read: '0' }).join()).toMatch(/\$\.read: expected number/);
    expect(validate(s, { ...full, schemaVersion: 0 }).join()).toMatch(/schemaVersion/);
  });
});
