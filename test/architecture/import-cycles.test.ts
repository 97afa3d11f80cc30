/**
 * No import cycle anywhere in src/, type-only imports included: a cycle means two modules that cannot be read,
 * tested or moved apart. Shown to fail on a planted tree.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plantTree } from './plant.js';
import { findCycles, importGraph, listSources } from './source-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('import cycles', () => {
  it('src/ has none (type-only imports and re-exports count)', () => {
    const files = listSources(SRC);
    const graph = importGraph(SRC, files);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
    expect(findCycles(graph)).toEqual([]);
  });

  it('reports a planted type-only cycle, a re-export cycle and a self-import; not a diamond', () => {
    const root = plantTree({
      'rules/catalog.ts': "import type { Row } from './table.js';\nexport interface Info { rows: Row[] }\n",
      'rules/table.ts': "import type { Info } from './catalog.js';\nexport interface Row { info?: Info }\n",
      'report/a.ts': "export * from './b.js';\nexport const a = 1;\n",
      'report/b.ts': "import { c } from '../report/c.js';\nexport const b = c;\n",
      'report/c.ts': "import type {} from './a';\nexport const c = 2;\n",
      'self.ts': "import type {} from './self.js';\n",
      'diamond/top.ts': "import './left.js';\nimport './right.js';\n",
      'diamond/left.ts': "import './bottom.js';\n",
      'diamond/right.ts': "import './bottom.js';\n",
      'diamond/bottom.ts': "import 'node:fs';\n",
    });
    const graph = importGraph(root, listSources(root));
    expect(graph.get('diamond/top.ts')).toEqual(['diamond/left.ts', 'diamond/right.ts']);
    expect(findCycles(graph)).toEqual([
      {
        files: ['report/a.ts', 'report/b.ts', 'report/c.ts'],
        example: ['report/a.ts', 'report/b.ts', 'report/c.ts', 'report/a.ts'],
      },
      {
        files: ['rules/catalog.ts', 'rules/table.ts'],
        example: ['rules/catalog.ts', 'rules/table.ts', 'rules/catalog.ts'],
      },
      { files: ['self.ts'], example: ['self.ts', 'self.ts'] },
    ]);
  });
});
