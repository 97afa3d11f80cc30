/** Bugs the fuzz tests found, each kept as a plain regression test beside the properties that found it. */
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';

describe('fuzz regressions', () => {
  it('profile YAML: an alias without its anchor is a profile error, not an exception', () => {
    // Found by `npm run fuzz` (seed 485481086): yaml's toJS() throws ReferenceError for it.
    expect(parseProfile('tenant:\n  name: Contoso\n  ids: *nowhere\n', 'p.yml')).toEqual({
      status: 'error',
      error: 'p.yml: invalid YAML: Unresolved alias (the anchor must be set before the alias): nowhere',
    });
  });

  it('profile YAML: aliases that expand without bound ("billion laughs") are refused', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const r = parseProfile(`${levels.join('\n')}\n`, 'bomb.yml');
    expect(r.status).toBe('error');
    if (r.status === 'error') expect(r.error).toMatch(/^bomb\.yml: invalid YAML: Excessive alias count/);
  });
});
