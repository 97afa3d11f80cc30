/**
 * The store sees SQLite only through store/db.ts's structural interface: one module imports the driver, and
 * no cast stands in for the compiler's check that the driver fits the interface.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plantTree } from './plant.js';
import { importersOf, listSources } from './source-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('store driver seam', () => {
  it('only store/better-sqlite3.ts imports better-sqlite3, and no store file casts through unknown', () => {
    const files = listSources(SRC);
    expect(importersOf(SRC, files, 'better-sqlite3').map((v) => v.file)).toEqual(['store/better-sqlite3.ts']);
    const casts = files
      .filter((f) => f.startsWith('store/'))
      .filter((f) => /\bas unknown as\b/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(casts).toEqual([]);
  });

  it('finds a planted second importer, subpaths included', () => {
    const root = plantTree({
      'store/a.ts': "import Database from 'better-sqlite3';\nexport const d = Database;\n",
      'report/b.ts': "import type { Database } from 'better-sqlite3/lib';\nexport type D = Database;\n",
      'report/c.ts': "import 'better-sqlite3x';\n",
    });
    expect(importersOf(root, listSources(root), 'better-sqlite3')).toEqual([
      { file: 'report/b.ts', line: 1, what: "imports 'better-sqlite3/lib'" },
      { file: 'store/a.ts', line: 1, what: "imports 'better-sqlite3'" },
    ]);
  });
});
