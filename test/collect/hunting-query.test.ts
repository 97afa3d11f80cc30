/**
 * The hunting query `collect` sends parses with Microsoft's own KQL parser (@kusto/language-service-next): no
 * syntax error, for ordinary domains and for values that need escaping. (Binding against the email tables'
 * schema comes with `dsguard kql`'s schema; this checks the syntax only.)
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { directSendHuntingQuery } from '../../src/collect/hunting-query.js';

const require = createRequire(import.meta.url);

function syntaxErrors(text: string): string[] {
  require('@kusto/language-service-next/bridge.min.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  // biome-ignore lint/suspicious/noExplicitAny: the Bridge.NET build has no usable ES typings
  const K = (globalThis as any).Kusto.Language;
  const ds = K.KustoCode.Parse(text).GetDiagnostics();
  const out: string[] = [];
  for (let i = 0; i < ds.Count; i++) {
    const d = ds.getItem(i);
    if (String(d.Severity) === 'Error') out.push(`${d.Code}: ${d.Message}`);
  }
  return out;
}

describe('the collect hunting query', () => {
  const w = { from: new Date('2026-07-20T00:00:00Z'), to: new Date('2026-07-21T00:00:00Z') };
  it('parses', () => {
    expect(syntaxErrors(directSendHuntingQuery(w, ['contoso.com', 'contoso.co.uk']))).toEqual([]);
  });
  it('parses with values that need escaping, and the parser sees one string per value', () => {
    expect(syntaxErrors(directSendHuntingQuery(w, ['we"ird\\.example', "it's.example"]))).toEqual([]);
  });
  it('a broken query is caught (the check can fail)', () => {
    expect(
      syntaxErrors('EmailEvents | where Timestamp >= datetime(2026-07-20T00:00:00.000Z) and').length,
    ).toBeGreaterThan(0);
  });
});
