/**
 * CLI conventions, checked on real processes (bin/dsguard.js; needs `npm run build`): colours only for a terminal
 * or FORCE_COLOR, -o/--output, DSGUARD_PROFILE / DSGUARD_DB / ./dsguard.yml, shell completion, the "run npm ci
 * first" message, a missing file said once, symbolic links in folders, no store when nothing was ingested.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandWords } from '../../src/cli/completion-command.js';
import { buildProgram, discoveredProfile, main } from '../../src/cli/main.js';
import { colourWanted, styleSeverities } from '../../src/cli/style.js';
import { renderTextTable } from '../../src/report/tabular.js';
import { tempDir } from '../ingest/helpers.js';

const BIN = resolve('bin/dsguard.js');
const SAMPLE = resolve('samples/messages/powershell-spoof-foreign-vps.eml');
const PROFILE = resolve('samples/dsguard.yml');
const EXPORT = resolve('samples/exports/messagetrace-v2.csv');
const ESC = '\u001b[';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** Run the CLI in `cwd` with a clean environment (no colour or dsguard variables from the outer shell). */
function dsguard(args: string[], env: Record<string, string> = {}, cwd = tmp.dir): SpawnSyncReturns<string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(NO_COLOR|FORCE_COLOR|DSGUARD_)/.test(k)),
  ) as Record<string, string>;
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...base, ...env } });
}

describe('colours', () => {
  it('colours severities only when asked or on a terminal, never with NO_COLOR or when piped', () => {
    const piped = dsguard(['analyze', '--no-geoip', SAMPLE]);
    expect(piped.stdout).toContain('HIGH DS204');
    expect(piped.stdout).not.toContain(ESC);
    const forced = dsguard(['analyze', '--no-geoip', SAMPLE], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(`${ESC}31m`);
    expect(forced.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toBe(piped.stdout);
    expect(dsguard(['analyze', '--no-geoip', SAMPLE], { NO_COLOR: '1' }).stdout).toBe(piped.stdout);
    expect(dsguard(['analyze', '--no-geoip', '-f', 'json', SAMPLE], { FORCE_COLOR: '1' }).stdout).not.toContain(ESC);
  });

  it('decides as no-color.org and Node say: FORCE_COLOR, then NO_COLOR, then a terminal', () => {
    expect(colourWanted({}, true)).toBe(true);
    expect(colourWanted({}, false)).toBe(false);
    expect(colourWanted({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colourWanted({ NO_COLOR: '' }, true)).toBe(true);
    expect(colourWanted({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(true);
    expect(colourWanted({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colourWanted({ TERM: 'dumb' }, true)).toBe(false);
  });

  it('styles only the severity label that starts a finding line', () => {
    const text = '  HIGH DS204 x HIGH DS1\n  subject HIGH DS204\n    info   DS109 y\n';
    const styled = styleSeverities(text);
    expect(styled.split('\n')[0]).toMatch(/^ {2}(\u001b\[[0-9;]+m)+HIGH(\u001b\[[0-9;]+m)+ DS204 x HIGH DS1$/);
    expect(styled.split('\n')[1]).toBe('  subject HIGH DS204');
    expect(styled.split('\n')[2]).toContain(`${ESC}90minfo`);
  });
});

describe('tables', () => {
  const rows = [{ file: 'a'.repeat(70), cmd: 'Set-OrganizationConfig -RejectDirectSend $true', n: 123456 }];
  const columns = [
    { header: 'file', value: (r: (typeof rows)[0]) => r.file },
    { header: 'command', value: (r: (typeof rows)[0]) => r.cmd, keep: true },
    { header: 'rows', value: (r: (typeof rows)[0]) => r.n, align: 'right' as const },
  ];

  it('fit the terminal width by shortening text columns, never a kept one or a number', () => {
    const wide = renderTextTable(rows, columns);
    expect(wide.split('\n')[0]!.length).toBeGreaterThan(100);
    const fitted = renderTextTable(rows, columns, { maxWidth: 80 });
    for (const line of fitted.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(fitted).toContain('Set-OrganizationConfig -RejectDirectSend $true');
    expect(fitted).toContain('123456');
    expect(fitted).toContain('…');
  });

  it('are fitted to the terminal width when stdout is a terminal', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => {
      text += c;
    });
    const io = { stdout: out, stderr: new PassThrough(), stdin: Readable.from(['']), progress: false, env: {} };
    const code = await main(['ingest', EXPORT, '--db', join(tmp.dir, 'w.db'), '--no-geoip'], { ...io, columns: 90 });
    expect(code).toBe(0);
    const table = text.split('\n').slice(0, 3);
    for (const line of table) expect([...line].length).toBeLessThanOrEqual(90);
    expect(table[2]).toContain('…');
  });

  it('are not fitted when stdout is not a terminal (the whole row is written)', async () => {
    const r = dsguard(['ingest', EXPORT, '--db', 'a.db', '--no-geoip']);
    expect(r.status, r.stderr).toBe(0);
    // The file column keeps its own cap (60), the format column too: no terminal, no fitting to 80 columns.
    expect(r.stdout.split('\n')[2]).toContain('message trace (Get-MessageTrace/V2) CSV (UTF-8)');
    expect(Math.max(...r.stdout.split('\n').map((l) => l.length))).toBeGreaterThan(80);
  });
});

describe('-o / --output', () => {
  it('writes the result to the file in UTF-8, nothing to stdout', () => {
    const r = dsguard(['analyze', '--no-geoip', '-f', 'json', '-o', 'out.json', SAMPLE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const records = JSON.parse(readFileSync(join(tmp.dir, 'out.json'), 'utf8')) as { channel: string }[];
    expect(records.map((x) => x.channel)).toEqual(['direct-send']);
    const text = dsguard(['analyze', '--no-geoip', '--output', 'out.txt', SAMPLE], { FORCE_COLOR: '1' });
    expect(text.status).toBe(0);
    expect(readFileSync(join(tmp.dir, 'out.txt'), 'utf8')).not.toContain(ESC);
  });

  it('is offered by every command', async () => {
    const program = await buildProgram(
      { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, progress: false, env: {} },
      () => {},
      'all',
    );
    // On the commands that run: a group's subcommands (profile init has its own -o: where the profile goes).
    const leaves = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c]));
    for (const c of leaves)
      expect(
        c.options.some((o) => o.long === '--output'),
        c.name(),
      ).toBe(true);
  });

  it('an unwritable file is one line naming it (exit 3)', () => {
    const r = dsguard(['analyze', '--no-geoip', '-o', join('no-such-dir', 'out.json'), SAMPLE]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      `dsguard: ${join('no-such-dir', 'out.json')}: cannot write: no such file (ENOENT)`,
    ]);
  });

  it('writes reports and scripts too (report, powershell, completion)', () => {
    expect(dsguard(['ingest', EXPORT, '--db', 's.db', '--no-geoip', '-o', 'ingest.txt']).status).toBe(0);
    expect(readFileSync(join(tmp.dir, 'ingest.txt'), 'utf8')).toContain('row(s) read');
    expect(dsguard(['report', '--db', 's.db', '-f', 'html', '-o', 'r.html']).status).toBe(0);
    expect(readFileSync(join(tmp.dir, 'r.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(dsguard(['powershell', '-p', PROFILE, '-o', 'c.ps1']).status).toBe(0);
    expect(readFileSync(join(tmp.dir, 'c.ps1'), 'utf8')).toContain('Get-MessageTraceV2');
    // Windows PowerShell 5.1 needs the BOM to read a script as UTF-8; other files get none.
    expect([...readFileSync(join(tmp.dir, 'c.ps1')).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(readFileSync(join(tmp.dir, 'r.html'))[0]).toBe('<'.charCodeAt(0));
    expect(dsguard(['completion', 'fish', '-o', 'dsguard.fish']).status).toBe(0);
    expect(readFileSync(join(tmp.dir, 'dsguard.fish'), 'utf8')).toContain('complete -c dsguard');
  });
});

describe('profile and store discovery', () => {
  it('uses DSGUARD_PROFILE, then ./dsguard.yml, and says so on stderr; --profile wins', () => {
    const env = dsguard(['analyze', '--no-geoip', '-f', 'json', SAMPLE], { DSGUARD_PROFILE: PROFILE });
    expect(env.status, env.stderr).toBe(0);
    expect(env.stderr).toContain(`dsguard: profile ${PROFILE} (DSGUARD_PROFILE; --profile overrides)`);
    expect(JSON.parse(env.stdout)[0].tenantKnownFrom).toBe('profile');

    const flag = dsguard(['analyze', '--no-geoip', '-p', PROFILE, SAMPLE], { DSGUARD_PROFILE: 'missing.yml' });
    expect(flag.status, flag.stderr).toBe(0);
    expect(flag.stderr).not.toContain('dsguard: profile');

    copyFileSync(PROFILE, join(tmp.dir, 'dsguard.yml'));
    const found = dsguard(['analyze', '--no-geoip', '-f', 'json', SAMPLE]);
    expect(found.stderr).toContain('dsguard: profile dsguard.yml (./dsguard.yml found; --profile overrides)');
    expect(JSON.parse(found.stdout)[0].tenantKnownFrom).toBe('profile');
    // exposure audits the domains named, not the profile's too.
    const exposure = dsguard([
      'exposure',
      'gateway.test',
      '--dns-replay',
      resolve('samples/dns-replay.json'),
      '-f',
      'json',
    ]);
    expect(JSON.parse(exposure.stdout).map((r: { domain: string }) => r.domain)).toEqual(['gateway.test']);
    expect(exposure.stderr).not.toContain('dsguard: profile');
    expect(discoveredProfile({ DSGUARD_PROFILE: 'a.yml' }, () => true)).toEqual({
      path: 'a.yml',
      from: 'DSGUARD_PROFILE',
    });
    expect(discoveredProfile({}, () => false)).toBeNull();
  });

  it('uses DSGUARD_DB when --db is not given', () => {
    const r = dsguard(['ingest', EXPORT, '--no-geoip'], { DSGUARD_DB: 'env.db' });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(tmp.dir, 'env.db'))).toBe(true);
    expect(existsSync(join(tmp.dir, 'dsguard.db'))).toBe(false);
    const flag = dsguard(['ingest', EXPORT, '--no-geoip', '--db', 'flag.db'], { DSGUARD_DB: 'env2.db' });
    expect(flag.status).toBe(0);
    expect(existsSync(join(tmp.dir, 'flag.db'))).toBe(true);
    expect(existsSync(join(tmp.dir, 'env2.db'))).toBe(false);
    expect(dsguard(['report', '-f', 'json'], { DSGUARD_DB: 'env.db' }).status).toBe(0);
  });
});

describe('shell completion', () => {
  it('prints a script for each shell naming every command and its options', async () => {
    const program = await buildProgram(
      { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, progress: false, env: {} },
      () => {},
      'all',
    );
    const words = commandWords(program);
    for (const shell of ['bash', 'zsh', 'fish', 'powershell']) {
      const r = dsguard(['completion', shell]);
      expect(r.status, shell).toBe(0);
      for (const c of words) expect(r.stdout, `${shell} ${c.name}`).toContain(c.name);
      expect(r.stdout, shell).toContain('--headers-only');
    }
    const bash = spawnSync('bash', ['-n'], { input: dsguard(['completion', 'bash']).stdout, encoding: 'utf8' });
    expect(bash.status, bash.stderr).toBe(0);
  });

  it('completes in bash: commands, then the options of the command typed', () => {
    const script = dsguard(['completion', 'bash']).stdout;
    const complete = (line: string) => {
      const words = line.split(' ');
      const probe = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dsguard; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return spawnSync('bash', ['-c', probe], { encoding: 'utf8', cwd: tmp.dir }).stdout.trim().split('\n');
    };
    expect(complete('dsguard an')).toEqual(['analyze']);
    expect(complete('dsguard analyze --head')).toEqual(['--headers-only']);
    expect(complete('dsguard report --f').sort()).toEqual(['--fail-on', '--format']);
  });

  it('rejects an unknown shell (exit 2)', () => {
    const r = dsguard(['completion', 'tcsh']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('shell must be one of bash, zsh, fish, powershell');
  });
});

describe('failures said once, clearly', () => {
  it('says "run npm ci first" instead of a stack trace when dist/ or a dependency is missing', () => {
    mkdirSync(join(tmp.dir, 'bin'));
    copyFileSync(BIN, join(tmp.dir, 'bin', 'dsguard.js'));
    writeFileSync(join(tmp.dir, 'package.json'), '{"type":"module"}');
    const r = spawnSync(process.execPath, [join(tmp.dir, 'bin', 'dsguard.js'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(
      'dsguard: not built yet (dist/ is missing): run npm ci first (it builds), or npm run build\n',
    );
  });

  it('a missing file: one line on stderr with its path, nothing on stdout (exit 3)', () => {
    const r = dsguard(['analyze', 'missing.eml']);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l.includes('missing.eml'))).toEqual([
      'dsguard: missing.eml: cannot read: no such file (ENOENT)',
    ]);
    const profile = dsguard(['analyze', '-p', 'nope.yml', SAMPLE]);
    expect(profile.status).toBe(3);
    expect(profile.stderr).toBe('dsguard: nope.yml: cannot read profile: no such file (ENOENT)\n');
  });

  it('a symbolic link in a scanned folder is reported by its path, never passed over in silence', () => {
    const dir = join(tmp.dir, 'inbox');
    mkdirSync(dir);
    copyFileSync(SAMPLE, join(dir, 'real.eml'));
    symlinkSync(SAMPLE, join(dir, 'linked.eml'));
    symlinkSync(join(tmp.dir, 'gone.eml'), join(dir, 'broken.eml'));
    // analyze (folder mode): links are not followed, each is named on stderr; the real message is analysed.
    const analyzed = dsguard(['analyze', '--no-geoip', '-f', 'ndjson', dir]);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    expect(JSON.parse(analyzed.stdout).input).toBe(join(dir, 'real.eml'));
    expect(analyzed.stderr).toContain(`skipped ${join(dir, 'linked.eml')}: symbolic link`);
    expect(analyzed.stderr).toContain(`skipped ${join(dir, 'broken.eml')}: symbolic link`);
    // ingest (folder mode): a link to a file is read; a broken one is an error naming it.
    const ingest = dsguard(['ingest', '--no-geoip', '--db', 'l.db', dir]);
    expect(ingest.stderr).toContain(`${join(dir, 'broken.eml')}: cannot read: no such file (ENOENT)`);
  });

  it('ingest with nothing to ingest creates no store', () => {
    const missing = dsguard(['ingest', 'missing.csv', '--db', 'none.db']);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('dsguard: missing.csv: cannot read: no such file (ENOENT)');
    expect(missing.stderr).toContain('nothing to ingest: none.db was not created');
    mkdirSync(join(tmp.dir, 'empty'));
    const empty = dsguard(['ingest', 'empty', '--db', 'none.db']);
    expect(empty.stderr).toContain('nothing to ingest');
    expect(existsSync(join(tmp.dir, 'none.db'))).toBe(false);
    expect(dsguard(['ingest', EXPORT, '--db', 'some.db', '--no-geoip']).status).toBe(0);
    expect(existsSync(join(tmp.dir, 'some.db'))).toBe(true);
  });
});
