/**
 * Render rows as an aligned text table, CSV (csv-stringify, formula-safe) or a Markdown table.
 * @module
 */
import { createRequire } from 'node:module';
import { csvSafe, markdownSafe, terminalSafe } from './safe-text.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null;
  /** Max display width in the text table. */
  width?: number;
  align?: 'left' | 'right';
}

function text(v: string | number | boolean | null): string {
  return v === null ? '' : String(v);
}

export function renderTextTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => terminalSafe(text(c.value(r)), c.width ?? 80)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => [...row[i]!].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => {
        const pad = widths[i]! - [...v].length;
        return columns[i]!.align === 'right' ? ' '.repeat(pad) + v : v + ' '.repeat(pad);
      })
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}

type Stringify = typeof import('csv-stringify/sync').stringify;
let stringifyCsv: Stringify | undefined;

export function renderCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  // Loaded on first use (synchronously): commands that print no CSV do not pay for it at start-up.
  stringifyCsv ??= (createRequire(import.meta.url)('csv-stringify/sync') as { stringify: Stringify }).stringify;
  const stringify = stringifyCsv;
  return stringify([columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => csvSafe(text(c.value(r)))))], {
    record_delimiter: '\r\n',
  });
}

export function renderMarkdownTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const head = `| ${columns.map((c) => markdownSafe(c.header)).join(' | ')} |`;
  const sep = `| ${columns.map((c) => (c.align === 'right' ? '---:' : '---')).join(' | ')} |`;
  const body = rows.map((r) => `| ${columns.map((c) => markdownSafe(text(c.value(r)), c.width ?? 200)).join(' | ')} |`);
  return `${[head, sep, ...body].join('\n')}\n`;
}
