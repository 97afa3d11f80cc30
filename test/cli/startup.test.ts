/**
 * Start-up stays light: `--version` and `--help` import no command, and header triage loads none of the heavy
 * modules (PDF, barcode, SQLite, MIME bodies, the Azure SDK). Checked by the modules a real process loads (a
 * loader hook lists them), not by timing. Needs `npm run build` (dist/). The CLI runs from the bundle
 * (dist/bundle/, scripts/bundle.mjs): each chunk it loads stands for the modules the bundle's manifest lists in
 * it, as `file:///…/dist/<module>` URLs, so the checks below read as they would on the unbundled tree.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS, commandNamed, VERSION } from '../../src/cli/main.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../ingest/helpers.js';

const MANIFEST = JSON.parse(readFileSync('dist/bundle/manifest.json', 'utf8')) as Record<string, string[]>;

const HEAVY = ['pdfjs-dist', 'zxing-wasm', 'better-sqlite3', '@azure/identity', 'yauzl', '@kenjiuno/msgreader'];

function loadedBy(args: string[]): string[] {
  const tmp = tempDir();
  try {
    const trace = join(tmp.dir, 'loads.txt');
    const r = spawnSync(process.execPath, ['--import', './test/helpers/trace-loads.mjs', 'bin/dsguard.js', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DSGUARD_TRACE_LOADS: trace, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .flatMap((url) => {
        const chunk = /\/dist\/bundle\/([^/]+\.js)$/.exec(url)?.[1];
        if (chunk === undefined) return [url];
        const modules = MANIFEST[chunk];
        expect(modules, `${chunk} is in the bundle's manifest`).toBeDefined();
        return (modules ?? []).map((m) => url.replace(/\/bundle\/[^/]+$/, `/${m}`));
      });
  } finally {
    tmp.cleanup();
  }
}

const packages = (urls: string[]) =>
  new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.slice(1) ?? []));

describe('start-up', () => {
  it('--version and --help load no command module and no dependency but commander', () => {
    for (const args of [['--version'], ['--help']]) {
      const urls = loadedBy(args);
      expect(
        urls.some((u) => u.endsWith('/dist/cli/main.js')),
        'the trace works',
      ).toBe(true);
      expect(urls.filter((u) => /-command\.js$/.test(u))).toEqual([]);
      expect([...packages(urls)]).toEqual(['commander']);
    }
  });

  it('analyze --headers-only loads only the analyze command, without the heavy modules', () => {
    const urls = loadedBy(['analyze', '--headers-only', 'samples/messages/powershell-spoof-foreign-vps.eml']);
    expect(urls.filter((u) => /-command\.js$/.test(u)).map((u) => u.replace(/.*\//, ''))).toEqual([
      'analyze-command.js',
    ]);
    const loaded = packages(urls);
    for (const heavy of [...HEAVY, 'zod', 'yaml', 'csv-stringify']) expect(loaded.has(heavy), heavy).toBe(false);
    expect(urls.some((u) => u.includes('/content/content-analyzer.js'))).toBe(false);
    expect(urls.some((u) => u.includes('/store/'))).toBe(false);
  });

  it('--no-geoip loads no IP data reader', () => {
    const urls = loadedBy([
      'analyze',
      '--headers-only',
      '--no-geoip',
      'samples/messages/powershell-spoof-foreign-vps.eml',
    ]);
    expect(urls.some((u) => u.includes('/enrich/'))).toBe(false);
    expect(packages(urls).has('mmdb-lib')).toBe(false);
  });

  it('one message’s IP lookup reads the country database in place: its reader is not even loaded', () => {
    const urls = loadedBy(['analyze', '--headers-only', 'samples/messages/powershell-spoof-foreign-vps.eml']);
    expect(
      urls.some((u) => u.includes('/enrich/ip-lookup.js')),
      'the lookup ran',
    ).toBe(true);
    expect(packages(urls).has('mmdb-lib')).toBe(false);
  });

  it('a run over files never builds process.stdin; `-` does', () => {
    const run = (input: string | undefined, args: string[]) =>
      spawnSync(process.execPath, ['-r', './test/helpers/stdin-trap.cjs', 'bin/dsguard.js', ...args], {
        encoding: 'utf8',
        input: input ?? '',
        env: { ...process.env, NO_COLOR: '1' },
      });
    const sample = 'samples/messages/powershell-spoof-foreign-vps.eml';
    const files = run(undefined, ['analyze', '--headers-only', sample]);
    expect(files.status, files.stderr).toBe(0);
    expect(files.stderr).not.toContain('dsguard-test: stdin read');
    const piped = run(readFileSync(sample, 'utf8'), ['analyze', '--headers-only', '-']);
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stderr, 'the trap works').toContain('dsguard-test: stdin read');
    expect(piped.stdout).toContain('direct-send');
  });

  it('a full analyze loads the content analysers, and only then', () => {
    const urls = loadedBy(['analyze', 'samples/messages/powershell-spoof-foreign-vps.eml']);
    expect(urls.some((u) => u.includes('/content/content-analyzer.js'))).toBe(true);
    expect(packages(urls).has('better-sqlite3')).toBe(false);
  });

  it('lists every command in the top-level help with the summary its own module declares', async () => {
    const program = await buildProgram({ ...fakeIo() }, () => {}, 'all');
    const real = Object.fromEntries(program.commands.map((c) => [c.name(), c.description()]));
    expect(Object.keys(real).sort()).toEqual(Object.keys(COMMANDS).sort());
    for (const [name, entry] of Object.entries(COMMANDS)) expect(entry.summary, name).toBe(real[name]);
    const help = await runCli(['--help']);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toContain(`  ${name} `);
    expect(help.stdout).toContain('Exit codes:');
  });

  it('knows which command a command line names', () => {
    expect(commandNamed(['--version'])).toBeNull();
    expect(commandNamed(['analyze', '-f', 'json', 'x.eml'])).toBe('analyze');
    expect(commandNamed(['help', 'report'])).toBe('report');
    expect(commandNamed([])).toBeNull();
  });

  it('reports the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect((await runCli(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  it('shows each command its examples and the exit codes', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await runCli([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain('Examples:');
      expect(r.stdout, name).toContain('Exit codes:');
    }
  });
});

function fakeIo() {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, progress: false, env: {} };
}
