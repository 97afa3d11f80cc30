/**
 * Sizes a newcomer can read: no function over 120 lines and no file over 600 lines in src/. The allow-lists
 * name what is still over, each with the helper who owns it; an entry that is no longer over fails too, so the
 * lists only shrink.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plantTree } from './plant.js';
import { findLongFiles, findLongFunctions, listSources } from './source-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const MAX_FUNCTION_LINES = 120;
const MAX_FILE_LINES = 600;

/** Functions still over the limit: `file: name` → who is shortening it. */
const LONG_FUNCTIONS_ALLOWED: Record<string, string> = {};

/** Files still over the limit (tables excepted: none yet). */
const LONG_FILES_ALLOWED: Record<string, string> = {};

function overLimit(found: { name: string; lines: number }[], allowed: Record<string, string>): string[] {
  return found.filter((f) => !(f.name in allowed)).map((f) => `${f.name} (${f.lines} lines)`);
}

function staleAllowances(found: { name: string }[], allowed: Record<string, string>): string[] {
  const names = new Set(found.map((f) => f.name));
  return Object.keys(allowed).filter((name) => !names.has(name));
}

describe('size limits', () => {
  const files = listSources(SRC);

  it(`no function in src/ is over ${MAX_FUNCTION_LINES} lines, except the allow-listed ones`, () => {
    const found = findLongFunctions(SRC, files, MAX_FUNCTION_LINES);
    expect(overLimit(found, LONG_FUNCTIONS_ALLOWED)).toEqual([]);
    // Shortened below the limit? Remove it from LONG_FUNCTIONS_ALLOWED.
    expect(staleAllowances(found, LONG_FUNCTIONS_ALLOWED)).toEqual([]);
  });

  it(`no file in src/ is over ${MAX_FILE_LINES} lines, except the allow-listed ones`, () => {
    const found = findLongFiles(SRC, files, MAX_FILE_LINES);
    expect(overLimit(found, LONG_FILES_ALLOWED)).toEqual([]);
    // Shortened below the limit? Remove it from LONG_FILES_ALLOWED.
    expect(staleAllowances(found, LONG_FILES_ALLOWED)).toEqual([]);
  });

  it('counts functions, methods, accessors and function-valued constants; callbacks count in their holder', () => {
    const body = (n: number): string => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');
    const root = plantTree({
      'long.ts': [
        `export function declared(): number {\n  let x = 0;\n${body(5)}\n  return x;\n}`,
        `export const arrow = (): number => {\n  let x = 0;\n${body(3)}\n  return x;\n};`,
        `export class Store {\n  write(): number {\n    let x = 0;\n${body(2)}\n    return [1].map(() => {\n${body(3)}\n      return x;\n    })[0] ?? 0;\n  }\n}`,
        'export function short(): number {\n  return 1;\n}',
        '',
      ].join('\n'),
    });
    expect(findLongFunctions(root, ['long.ts'], 5)).toEqual([
      { name: 'long.ts: arrow', lines: 7 },
      { name: 'long.ts: declared', lines: 9 },
      { name: 'long.ts: Store.write', lines: 11 },
    ]);
    expect(findLongFiles(root, ['long.ts'], 20)).toEqual([{ name: 'long.ts', lines: 32 }]);
    expect(findLongFiles(root, ['long.ts'], 32)).toEqual([]);
  });
});
