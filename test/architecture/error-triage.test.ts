/**
 * One way to fail: the CLI maps a Result's `kind` (or its own UsageError/CommandFailure) to an exit code and
 * never tells errors apart by their class or their text. This holds by check: src/cli/ may not test an error
 * with `instanceof` another class, nor read an error's `.message` to decide. The allow-list names what is
 * still there, with the helper who owns it; an entry that is gone fails too, so the list only shrinks.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plantTree } from './plant.js';
import { findErrorTriage, listSources } from './source-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** `file: what` → who is turning it into a Result kind. */
const ALLOWED: Record<string, string> = {
  'cli/collect-command.ts: AuthError': 'collect (#17)',
  'cli/export-command.ts: ParquetUnavailable': 'kql (#18)',
  'cli/kql-command.ts: KqlTargetError': 'kql (#18)',
};

describe('the CLI tells errors apart only by kind', () => {
  it('no instanceof an error class and no test of an error message in src/cli/, except the allow-listed', () => {
    const files = listSources(SRC).filter((f) => f.startsWith('cli/'));
    expect(files.length).toBeGreaterThan(10);
    const found = findErrorTriage(SRC, files).map((v) => `${v.file}: ${v.what}`);
    expect(found.filter((f) => !(f in ALLOWED))).toEqual([]);
    // Gone? Remove it from ALLOWED.
    expect(Object.keys(ALLOWED).filter((a) => !found.includes(a))).toEqual([]);
  });

  it('reports a planted class test and each kind of text test, and leaves kinds and shown messages alone', () => {
    const root = plantTree({
      'cli/bad.ts': [
        "import { GraphError } from '../tenant/graph.js';",
        'export function classify(e: unknown, f: Error): string {',
        "  if (e instanceof GraphError) return 'remote';",
        "  if (f.message.startsWith('--syslog')) return 'usage';",
        "  if ((f as Error).message === 'timeout') return 'remote';",
        "  if (/ENOENT/.test(f.message)) return 'io';",
        "  return f.message.includes('denied') ? 'remote' : 'io';",
        '}',
        '',
      ].join('\n'),
      'cli/good.ts': [
        "import { UsageError } from './io.js';",
        'export function show(e: unknown, r: { kind: string; error: string }): string {',
        "  if (e instanceof UsageError || e instanceof Error) return 'dsguard: ' + e.message;",
        "  if (r.kind === 'usage') return r.error;",
        '  return String(e instanceof Uint8Array ? e.length : e);',
        '}',
        '',
      ].join('\n'),
    });
    expect(findErrorTriage(root, ['cli/bad.ts', 'cli/good.ts'])).toEqual([
      { file: 'cli/bad.ts', line: 3, what: 'GraphError' },
      { file: 'cli/bad.ts', line: 4, what: 'message text' },
      { file: 'cli/bad.ts', line: 5, what: 'message text' },
      { file: 'cli/bad.ts', line: 6, what: 'message text' },
      { file: 'cli/bad.ts', line: 7, what: 'message text' },
    ]);
  });
});
