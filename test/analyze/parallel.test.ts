/**
 * The worker-thread analyzer gives exactly the sequential results, in the same order, including errors,
 * mbox messages and skipped files. It runs the built CLI (npm test builds first): workers load dist/.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distIsCurrent } from '../ingest/helpers.js';

const DIR = 'test/fixtures/analyze';
const tmp = mkdtempSync(join(tmpdir(), 'dsguard-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/dsguard.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('parallel analyze (--jobs)', () => {
  it('runs the compiled workers (without them --jobs quietly runs on one thread, and the comparison proves nothing)', () => {
    expect(existsSync('dist/analyze-worker.js'), 'build first (npm test does)').toBe(true);
    expect(distIsCurrent(), 'dist/ is older than src/: build first (npm test does)').toBe(true);
  });

  it('matches the sequential run exactly, errors and mbox messages included', () => {
    const dir = join(tmp, 'export');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    for (const f of [
      'powershell-spoof-foreign-vps.eml',
      'mailing-list-relay.eml',
      'html-attachment-double-extension.eml',
      'authenticated-internal.eml',
    ]) {
      copyFileSync(join(DIR, f), join(dir, f));
    }
    const mbox = ['sendemail-voicemail-html.eml', 'legit-scanner-spf-pass.eml']
      .map(
        (m) =>
          `From MAILER-DAEMON Thu Nov 26 08:14:09 2026\n${readFileSync(join(DIR, m), 'utf8').replace(/\r\n/g, '\n')}\n`,
      )
      .join('');
    writeFileSync(join(dir, 'nested', 'inbox.mbox'), mbox);
    writeFileSync(join(dir, 'nested', 'notes.txt'), '\u0000\u0001 not mail');
    writeFileSync(
      join(dir, 'nested', 'zz-truncated.eml'),
      'From: a@contoso.com\r\nTo: b@contoso.com\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n',
    );
    const args = ['analyze', dir, '--profile', join(DIR, 'contoso.yml'), '--format', 'ndjson', '--no-geoip'];
    const seq = cli([...args, '--jobs', '1']);
    const par = cli([...args, '--jobs', '2']);
    expect(par.code).toBe(seq.code);
    expect(par.stdout).toBe(seq.stdout);
    const inputs = par.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).input.slice(dir.length + 1));
    expect(inputs).toEqual([
      'authenticated-internal.eml',
      'html-attachment-double-extension.eml',
      'mailing-list-relay.eml',
      'nested/inbox.mbox#1',
      'nested/inbox.mbox#2',
      'nested/zz-truncated.eml',
      'powershell-spoof-foreign-vps.eml',
    ]);
    expect(par.stderr).toMatch(/skipped [^\n]*notes\.txt: not a mail message/);
  });
});
