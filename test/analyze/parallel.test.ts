/**
 * The parallel analyzer (worker processes) gives exactly the sequential results, in the same order, including errors,
 * mbox messages and skipped files. It runs the built CLI (npm test builds first): workers load dist/.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PARALLEL_MBOX_BYTES, worthParallel } from '../../src/analyze/analyze-parallel.js';
import { distIsCurrent } from '../ingest/helpers.js';

const DIR = 'test/fixtures/analyze';
const tmp = mkdtempSync(join(tmpdir(), 'dsguard-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An mbox of the given fixture messages (mboxrd "From " lines, LF line ends). */
function mboxOf(messages: string[]): string {
  return messages.map((m) => `From MAILER-DAEMON Thu Nov 26 08:14:09 2026\n${m.replace(/\r\n/g, '\n')}\n`).join('');
}

const fixture = (name: string) => readFileSync(join(DIR, name), 'utf8');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/dsguard.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('parallel analyze (--jobs)', () => {
  it('runs the compiled workers (without them --jobs quietly runs on one thread, and the comparison proves nothing)', () => {
    expect(existsSync('dist/analyze/analyze-worker.js'), 'build first (npm test does)').toBe(true);
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
    writeFileSync(
      join(dir, 'nested', 'inbox.mbox'),
      mboxOf([fixture('sendemail-voicemail-html.eml'), fixture('legit-scanner-spf-pass.eml')]),
    );
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

  it('gives one large mbox to the pool, with the same results as one thread', () => {
    const dir = join(tmp, 'mbox');
    mkdirSync(dir, { recursive: true });
    // A scanner's message with a large body, between two lures: over the size that starts the workers.
    const pad = Array.from({ length: 60_000 }, (_, i) => `scan page ${i} of the quarterly report, 300 dpi, colour`);
    const big = `From: scanner@contoso.com\nTo: joe@contoso.com\nSubject: Scanned document\nDate: Thu, 26 Nov 2026 08:14:09 +0000\nMessage-ID: <scan-1@contoso.com>\nContent-Type: text/plain\n\n${pad.join('\n')}\n`;
    const path = join(dir, 'export.mbox');
    writeFileSync(
      path,
      mboxOf([fixture('sendemail-voicemail-html.eml'), big, fixture('powershell-spoof-foreign-vps.eml'), big]),
    );
    expect(worthParallel([path])).toBe(true);
    const args = ['analyze', path, '--profile', join(DIR, 'contoso.yml'), '--format', 'ndjson', '--no-geoip'];
    const seq = cli([...args, '--jobs', '1']);
    const par = cli([...args, '--jobs', '2']);
    expect(par.code).toBe(seq.code);
    expect(par.stdout).toBe(seq.stdout);
    expect(
      par.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).input.slice(dir.length + 1)),
    ).toEqual(['export.mbox#1', 'export.mbox#2', 'export.mbox#3', 'export.mbox#4']);
  });

  it('keeps small mboxes, single messages and standard input on one thread', () => {
    const dir = join(tmp, 'plan');
    mkdirSync(dir, { recursive: true });
    const small = join(dir, 'small.mbox');
    writeFileSync(small, mboxOf([fixture('sendemail-voicemail-html.eml')]));
    // As large as a large mbox, but one message (a big attachment): nothing to share out.
    const eml = join(dir, 'large.eml');
    writeFileSync(eml, `${fixture('legit-scanner-spf-pass.eml')}\r\n${'A'.repeat(PARALLEL_MBOX_BYTES)}\r\n`);
    expect(worthParallel([small])).toBe(false);
    expect(worthParallel([eml])).toBe(false);
    expect(worthParallel(['-'])).toBe(false);
    expect(worthParallel([join(dir, 'missing.mbox')])).toBe(false);
    expect(worthParallel([dir])).toBe(true);
    expect(worthParallel([small, eml])).toBe(true);
  });
});
