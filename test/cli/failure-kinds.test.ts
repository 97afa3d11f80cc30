/**
 * One way to fail: a failure's kind, not its text, picks the exit code (usage → 2; input, io, remote → 3).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/io.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dsguard-kinds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('failure kinds and exit codes', () => {
  it('maps usage to 2 and every other kind to 3', () => {
    expect([exitCodeFor('usage'), exitCodeFor('input'), exitCodeFor('io'), exitCodeFor('remote')]).toEqual([
      2, 3, 3, 3,
    ]);
  });

  it('a profile that cannot be read is io (3); one that is invalid is usage (2)', async () => {
    const missing = await runCli(['exposure', 'x.test', '--profile', join(dir, 'nope.yml')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nope\.yml: cannot read profile/);
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'tenant: [\n');
    const invalid = await runCli(['exposure', 'x.test', '--profile', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/bad\.yml:\d+: invalid YAML/);
  });

  it('a DNS replay file that cannot be read is io (3); one that is not a replay file is usage (2)', async () => {
    expect((await runCli(['exposure', 'x.test', '--dns-replay', join(dir, 'nope.json')])).code).toBe(3);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'MX x.test');
    expect(
      (await runCli(['probe', 'x.test', '--dns-replay', notJson, '--from', 'a@x.test', '--to', 'b@x.test'])).code,
    ).toBe(2);
  });

  it('a store that is not a dsguard store is input (3); a missing one io (3)', async () => {
    const notStore = join(dir, 'not.db');
    writeFileSync(notStore, '');
    const r = await runCli(['report', '--db', notStore]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not\.db: not a dsguard store/);
    expect((await runCli(['report', '--db', join(dir, 'none.db')])).code).toBe(3);
  });
});
