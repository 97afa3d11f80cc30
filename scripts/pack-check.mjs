#!/usr/bin/env node
// A production install works: `npm pack` this tree, install the tarball with `npm install --omit=dev` in an
// empty folder (from the npm cache when it holds everything, else the registry), and run the installed CLI.
// Also checks what the tarball holds: LICENSE, the package.json fields users and registries read, no source
// map, no data file that nothing reads, the version the CLI prints. Prints the sizes (README's figures).
//   node scripts/pack-check.mjs            (called by .ci/run; exit 1 on any failed check)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'dsguard-pack-'));
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const npm = (args, cwd) =>
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function folderSize(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += folderSize(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

// Data files the code reads (src/enrich): anything else under data/ is dead weight.
const DATA_READ =
  /^data\/ip-location-db\/(asn-ipv4\.bin|asn-ipv6\.bin|geo-whois-asn-country\.mmdb|README\.md|[\w-]+\.[\w-]*(LICENSE|MODIFICATIONS))$/;

try {
  // `npm pack` runs `prepare` (a clean build), as publishing does.
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root));
  const files = info.files.map((f) => f.path);
  const tarball = join(work, info.filename);
  console.log(
    `tarball ${info.filename}: ${mb(info.size)} packed, ${mb(info.unpackedSize)} unpacked, ${files.length} files`,
  );

  check(files.includes('LICENSE'), 'the tarball holds LICENSE');
  check(
    /^MIT License/.test(readFileSync(join(root, 'LICENSE'), 'utf8')) && pkg.license === 'MIT',
    'LICENSE is MIT, as package.json says',
  );
  for (const field of ['repository', 'homepage', 'bugs', 'keywords'])
    check(pkg[field] !== undefined, `package.json has ${field}`);
  check(!files.some((f) => f.endsWith('.map')), 'no source maps (src/ is not shipped)');
  const unread = files.filter((f) => f.startsWith('data/') && !DATA_READ.test(f));
  check(unread.length === 0, `no data file that nothing reads${unread.length ? `: ${unread.join(', ')}` : ''}`);
  check(
    ['dist/bundle/main.js', 'dist/bundle/manifest.json', 'dist/index.js', 'bin/dsguard.js'].every((f) =>
      files.includes(f),
    ),
    'the CLI (dist/bundle/) and the library entry (dist/index.js) are built and shipped',
  );
  check(!files.some((f) => f.startsWith('test/') || f.startsWith('src/')), 'no tests or sources in the tarball');
  const schemas = ['analyze', 'exposure', 'probe', 'ingest', 'report', 'alert'].map((c) => `schema/${c}.schema.json`);
  check(
    schemas.every((f) => files.includes(f)),
    'the JSON Schemas of every --format json output are shipped',
  );

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "pack-check", "private": true }\n');
  npm(['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], app);
  const installed = join(app, 'node_modules');
  const deps = readdirSync(installed).filter((n) => !n.startsWith('.'));
  check(
    !deps.includes('@ip-location-db'),
    'the ip-location-db packages are not installed (their data comes compact in the tarball)',
  );
  console.log(
    `installed: ${mb(folderSize(installed))} in node_modules (dsguard itself: ${mb(folderSize(join(installed, 'dsguard')))})`,
  );

  const bin = join(installed, 'dsguard', 'bin', 'dsguard.js');
  const version = spawnSync(process.execPath, [bin, '--version'], { cwd: app, encoding: 'utf8' });
  check(version.status === 0 && version.stdout.trim() === pkg.version, `dsguard --version prints ${pkg.version}`);
  const sample = join(installed, 'dsguard', 'samples', 'messages', 'powershell-spoof-foreign-vps.eml');
  const analyze = spawnSync(process.execPath, [bin, 'analyze', '--format', 'json', sample], {
    cwd: app,
    encoding: 'utf8',
  });
  let records = [];
  try {
    records = JSON.parse(analyze.stdout);
  } catch {}
  check(
    analyze.status === 0 && records.length === 1 && records[0].channel === 'direct-send',
    `dsguard analyze of a bundled sample works (exit ${analyze.status}${analyze.stderr ? `: ${analyze.stderr.trim()}` : ''})`,
  );
  const origin = JSON.stringify(records[0]?.findings ?? []);
  check(/"code":"DS5\d\d"/.test(origin), 'the bundled IP data answers (an origin finding)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`pack-check: ${failures.length} check(s) failed`);
  process.exit(1);
}
