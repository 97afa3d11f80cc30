#!/usr/bin/env node
// Run by `npm run build` after tsc: bundles the CLI's own modules (dist/**, compiled by tsc) into a few files in
// dist/bundle/, which bin/dsguard.js starts from. Why: a Node process pays for every module it loads (resolve,
// read, link; on Node 24 that cost is most of `analyze --headers-only`'s start-up, bench/README.md), and the CLI's
// start-up path crossed ~60 of its own modules. Each command stays in its own chunk (main.ts imports them lazily),
// so a command still loads only what it uses. Dependencies stay external (node_modules, loaded as before),
// except postal-mime (ES modules): bundled, header triage takes its address parser without the HTML entity
// table and MIME parser it does not use; its licence text heads each chunk that holds its code. dist/ itself
// stays as tsc wrote it for the library entry (dist/index.js) and its types, and keeps postal-mime a dependency.
//
// The worker entry points are entries of the bundle too, under the names the code uses to find them next to
// itself (`new URL('./worker.js', import.meta.url)`): in dist/bundle/ as in dist/<folder>/. The chunks sit two
// folders below the package root, like every dist/<folder>/<file>.js, so `../../package.json` and `../../data/`
// resolve the same from both.
//
// dist/bundle/manifest.json lists the modules (paths under dist/) each chunk holds: test/cli/startup.test.ts
// maps the chunks a process loads back to modules with it.
//   node scripts/bundle.mjs            (needs dist/ from tsc; rolldown is a dev dependency)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');

let rolldown;
try {
  ({ rolldown } = createRequire(import.meta.url)('rolldown'));
} catch {
  // A production install has no dev dependencies and ships dist/bundle/ built: nothing to do.
  console.error('bundle: rolldown not installed; dist/bundle/ left as it is');
  process.exit(0);
}

/** Entry name → the tsc output it starts from. The worker names are the file names the code looks for. */
const ENTRIES = {
  main: 'dist/cli/main.js',
  worker: 'dist/ingest/worker.js',
  'analyze-worker': 'dist/analyze/analyze-worker.js',
  'sandbox-worker': 'dist/content/sandbox-worker.js',
};

const BUNDLED_PACKAGES = ['postal-mime'];
const inPackage = (id, name) => id.includes(`/node_modules/${name}/`) || id.includes(`\\node_modules\\${name}\\`);
/** The licence (MIT: the notice goes with every copy) of each bundled package, as a comment. */
const LICENCES = Object.fromEntries(
  BUNDLED_PACKAGES.map((name) => {
    const dir = dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const text = readFileSync(join(dir, 'LICENSE.txt'), 'utf8').trim().replaceAll('*/', '* /');
    return [name, `/*! ${name} ${version}\n${text}\n*/`];
  }),
);

/**
 * `import { readFileSync } from 'node:fs'` in an ES module makes Node build the module's namespace, which reads
 * every export, lazy ones too: `fs.promises` (which loads fs/promises and readline), util's getters (worker
 * threads, parseArgs)… about 40 internal modules and 4 ms of each start on Node 24, for functions the CLI may
 * never call. `process.getBuiltinModule` (Node 20.16+) returns the module's object without reading them. The
 * bundle's imports of built-ins are rewritten to it (a built-in's exports are fixed functions and objects, so
 * a destructured constant equals the live binding). The build fails if one is left.
 */
const BUILTIN_IMPORT =
  /^import\s+(?:([\w$]+)\s*,?\s*)?(?:\*\s+as\s+([\w$]+)\s*)?(?:\{([^}]*)\}\s*)?(?:from\s*)?"([^"]+)";$/gm;
function builtinsAsCalls(code, chunk) {
  return code.replace(BUILTIN_IMPORT, (line, def, ns, named, spec) => {
    if (!isBuiltin(spec)) return line;
    const get = `process.getBuiltinModule(${JSON.stringify(spec)})`;
    const out = [];
    for (const name of [def, ns]) if (name) out.push(`const ${name} = ${get};`);
    if (named?.trim()) {
      const fields = named
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
        .map((f) => {
          const m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(f);
          if (!m) throw new Error(`bundle: ${chunk}: cannot rewrite the import of ${spec}: ${line}`);
          return m[2] ? `${m[1]}: ${m[2]}` : m[1];
        });
      out.push(`const { ${fields.join(', ')} } = ${get};`);
    }
    return out.join(' ');
  });
}
/**
 * Header triage (core/headers/message-evidence.js) imports postal-mime's address parser and encoded-word
 * decoder through the package's index, which also imports its MIME parser and a 100 KB HTML entity table: in
 * the bundle, that importer gets the two modules the index re-exports them from (the same functions), so the
 * rest stays in the chunk of the content analysers, which import the parser.
 */
const HEADER_PARTS = '\0postal-mime-header-parts';
const headerPartsPlugin = {
  name: 'dsguard-postal-mime-header-parts',
  resolveId(source, importer) {
    if (source !== 'postal-mime' || !importer?.split('\\').join('/').endsWith('/dist/core/headers/message-evidence.js'))
      return null;
    return HEADER_PARTS;
  },
  load(id) {
    if (id !== HEADER_PARTS) return null;
    const esm = join(dirname(createRequire(import.meta.url).resolve('postal-mime/package.json')), 'dist', 'esm');
    return [
      `export { default as addressParser } from ${JSON.stringify(join(esm, 'address-parser.js'))};`,
      `export { decodeWords } from ${JSON.stringify(join(esm, 'decode-strings.js'))};`,
    ].join('\n');
  },
};

const builtinsPlugin = {
  name: 'dsguard-builtins-as-calls',
  renderChunk(code, chunk) {
    const rewritten = builtinsAsCalls(code, chunk.fileName);
    const left = /^import[^;]*from\s*"(node:[^"]+)"/m.exec(rewritten) ?? /^import\s*"(node:[^"]+)"/m.exec(rewritten);
    if (left) throw new Error(`bundle: ${chunk.fileName}: an import of ${left[1]} was not rewritten`);
    return { code: rewritten, map: null };
  },
};

rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, join(root, file)])),
  platform: 'node',
  // Only dsguard's own modules: a bare specifier (a dependency) or a `node:` built-in stays an import.
  external: (id) =>
    !id.startsWith('.') &&
    !isAbsolute(id) &&
    !id.startsWith('\0') &&
    !BUNDLED_PACKAGES.some((p) => id === p || id.startsWith(`${p}/`)),
  logLevel: 'warn',
  plugins: [builtinsPlugin, headerPartsPlugin],
});
const { output } = await bundle.write({
  dir: out,
  format: 'esm',
  entryFileNames: '[name].js',
  banner: (chunk) =>
    BUNDLED_PACKAGES.filter((name) => chunk.moduleIds.some((id) => inPackage(id, name)))
      .map((name) => LICENCES[name])
      .join('\n'),
  chunkFileNames: '[name]-[hash].js',
  sourcemap: false,
});
await bundle.close();

const manifest = {};
for (const item of output) {
  if (item.type !== 'chunk') continue;
  // Paths under dist/ (a bundled package's as ../node_modules/…); the plugin's virtual module has none.
  manifest[item.fileName] = item.moduleIds
    .filter((id) => !id.startsWith('\0'))
    .map((id) => relative(dist, id).split('\\').join('/'))
    .sort();
}
const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(sorted, null, 2)}\n`);
const missing = Object.keys(ENTRIES).filter((name) => !(`${name}.js` in manifest));
if (missing.length > 0) {
  console.error(`bundle: entries missing from the output: ${missing.join(', ')}`);
  process.exit(1);
}
