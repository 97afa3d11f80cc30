/**
 * Microsoft's own KQL parser and semantic checker (@kusto/language-service-next, a Bridge.NET build of
 * Kusto.Language): loaded into Node's global scope, given a database with the documented email tables.
 */
import { createRequire } from 'node:module';
import { EMAIL_TABLES, kustoSchema } from '../../src/core/kql/schema.js';

const require = createRequire(import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: the Bridge.NET build has no usable ES typings
type Any = any;
let kusto: Any = null;
let globals: Any = null;

function load(): Any {
  if (kusto === null) {
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
    kusto = (globalThis as Any).Kusto.Language;
    const S = kusto.Symbols;
    const tables = Object.entries(EMAIL_TABLES).map(
      ([name, cols]) => new S.TableSymbol.$ctor7(name, kustoSchema(cols), null),
    );
    globals = kusto.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor('Defender', tables));
  }
  return kusto;
}

export interface KustoDiagnostic {
  severity: string;
  code: string;
  message: string;
  at: number;
}

/** Parse and bind a query against the email tables: its diagnostics (errors and warnings). */
export function checkKql(text: string): { diagnostics: KustoDiagnostic[]; tokens: string[]; columns: string[] } {
  const K = load();
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const ds = code.GetDiagnostics();
  const diagnostics: KustoDiagnostic[] = [];
  for (let i = 0; i < ds.Count; i++) {
    const d = ds.getItem(i);
    diagnostics.push({ severity: String(d.Severity), code: d.Code, message: d.Message, at: d.Start });
  }
  const ts = code.GetLexicalTokens();
  const tokens: string[] = [];
  for (let i = 0; i < ts.Count; i++) tokens.push(String(ts.getItem(i).Kind));
  const columns: string[] = [];
  const rt = code.ResultType;
  if (rt?.Columns) for (let i = 0; i < rt.Columns.Count; i++) columns.push(String(rt.Columns.getItem(i).Name));
  return { diagnostics, tokens, columns };
}

export function errorsOf(text: string): KustoDiagnostic[] {
  return checkKql(text).diagnostics.filter((d) => d.severity === 'Error');
}
