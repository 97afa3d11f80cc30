/** Bugs the fuzz tests found, each kept as a plain regression test beside the properties that found it. */
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import { CsvRecordScanner, type CsvScanRecord } from '../../src/ingest/exports/csv-records.js';

function scan(text: string, piece: number, maxRecordChars: number): string[] {
  const sc = new CsvRecordScanner({ delimiter: ',', columns: 2, maxRecordChars, firstLine: 1 });
  const out: string[] = [];
  const emit = (r: CsvScanRecord) => out.push(r.error ?? r.fields.join('|'));
  try {
    for (let i = 0; i < text.length; i += piece) sc.push(text.slice(i, i + piece), emit);
    sc.end(emit);
  } catch (error) {
    out.push(`stopped: ${(error as Error).message}`);
  }
  return out;
}

describe('fuzz regressions', () => {
  it('CSV scanner: a malformed line longer than the record limit gives the same rows whatever the read size', () => {
    // Found by the "whatever the pieces" property: fed whole, the line was malformed and skipped; fed in small
    // pieces it was held waiting for its line end until it passed the limit and stopped the file.
    const text = `"a"b${'x'.repeat(100)}\n1,2\n`;
    const want = ['malformed CSV on line 1: "b" after a closing quote', '1|2'];
    for (const piece of [1, 7, 10, 64, text.length]) expect(scan(text, piece, 50)).toEqual(want);
    // Malformed only past the limit: stopped at any read size.
    const late = `"${'x'.repeat(60)}"b\n1,2\n`;
    for (const piece of [1, 7, late.length]) {
      expect(scan(late, piece, 50)).toEqual([
        'stopped: line 1: record longer than 50 characters (an unterminated quote?)',
      ]);
    }
  });

  it('profile YAML: an alias without its anchor is a profile error, not an exception', () => {
    // Found by `npm run fuzz` (seed 485481086): yaml's toJS() throws ReferenceError for it.
    expect(parseProfile('tenant:\n  name: Contoso\n  ids: *nowhere\n', 'p.yml')).toEqual({
      status: 'error',
      kind: 'usage',
      error: 'p.yml: invalid YAML: Unresolved alias (the anchor must be set before the alias): nowhere',
    });
  });

  it('profile YAML: nesting deeper than a profile needs is refused before the parser recurses into it', () => {
    // Found by `npm run fuzz` (seed 700093121): "  - " repeated made yaml's parser recurse once per level, with
    // superlinear work, then throw RangeError (stack overflow) out of parseProfile.
    const seed = 'tenant:\n  name: Contoso\ndirectSendSources:\n  - name: MFP\n';
    for (const text of [
      `${seed}  - ${'  - '.repeat(4000)}x\n`,
      `${seed}x: ${'['.repeat(5000)}\n`,
      `${seed}${'     '.repeat(40)}x: 1\n`,
    ]) {
      const r = parseProfile(text, 'deep.yml');
      expect(r.status).toBe('error');
      if (r.status === 'error')
        expect(r.error).toMatch(/^deep\.yml:5: invalid YAML: (more than 32 nested|indented more than 128)/);
    }
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
