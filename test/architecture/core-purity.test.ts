/**
 * src/core/ is pure: evidence in, findings out. No Node built-in, no process (env, argv, exit), no clock, no
 * console. This test holds that by check rather than by discipline, and shows on a planted tree that it fails.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plantTree } from './plant.js';
import { findImpurities, listSources } from './source-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('core purity', () => {
  it('no file under src/core/ imports a Node built-in or uses process, the clock or the console', () => {
    const files = listSources(SRC).filter((f) => f.startsWith('core/'));
    expect(files.length).toBeGreaterThan(20);
    expect(findImpurities(SRC, files)).toEqual([]);
  });

  it('reports each kind of planted violation, and leaves pure code alone', () => {
    const root = plantTree({
      'core/reads-fs.ts': "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
      'core/bare-builtin.ts': "import type { Socket } from 'net';\nexport type S = Socket;\n",
      'core/subpath.ts': "export * from 'fs/promises';\n",
      'core/lazy.ts': "export const load = () => import('node:worker_threads');\n",
      'core/env.ts': 'export const home = process.env.HOME;\n',
      'core/clock.ts': 'export const now = () => Date.now();\n',
      'core/new-date.ts': 'export const today = () => new Date();\n',
      'core/perf.ts': 'export const t = () => performance.now();\n',
      'core/log.ts': "export function say(): void {\n  console.error('x');\n}\n",
      'core/pure.ts': [
        "import { z } from 'zod';",
        "import type { Finding } from './finding.js';",
        'export const at = (ms: number) => new Date(ms).toISOString();',
        'export const o = { process: 1, console: 2 };',
        'export const p = o.process + o.console;',
        'export type T = Finding | typeof z;',
        '',
      ].join('\n'),
    });
    const found = findImpurities(root, [
      'core/bare-builtin.ts',
      'core/clock.ts',
      'core/env.ts',
      'core/lazy.ts',
      'core/log.ts',
      'core/new-date.ts',
      'core/perf.ts',
      'core/pure.ts',
      'core/reads-fs.ts',
      'core/subpath.ts',
    ]);
    expect(found).toEqual([
      { file: 'core/bare-builtin.ts', line: 1, what: "imports the Node built-in 'net'" },
      { file: 'core/clock.ts', line: 1, what: 'reads the clock (Date.now)' },
      { file: 'core/env.ts', line: 1, what: 'uses process' },
      { file: 'core/lazy.ts', line: 1, what: "imports the Node built-in 'node:worker_threads'" },
      { file: 'core/log.ts', line: 2, what: 'uses console' },
      { file: 'core/new-date.ts', line: 1, what: 'reads the clock (new Date())' },
      { file: 'core/perf.ts', line: 1, what: 'uses performance' },
      { file: 'core/reads-fs.ts', line: 1, what: "imports the Node built-in 'node:fs'" },
      { file: 'core/subpath.ts', line: 1, what: "imports the Node built-in 'fs/promises'" },
    ]);
  });
});
