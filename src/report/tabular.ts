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
  /** Never shortened to fit the terminal (a command, an identifier that must be copied whole). */
  keep?: boolean;
}

function text(v: string | number | boolean | null): string {
  return v === null ? '' : String(v);
}

export interface TextTableOptions {
  /** Fit the table in this many columns (the terminal's width) by shortening the widest text columns. */
  maxWidth?: number;
}

/** The narrowest a column is shortened to when fitting the terminal. */
const MIN_FITTED = 8;

export function renderTextTable<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  opts: TextTableOptions = {},
): string {
  let cells = rows.map((r) => columns.map((c) => terminalSafe(text(c.value(r)), c.width ?? 80)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => [...row[i]!].length)));
  if (opts.maxWidth !== undefined) {
    const fitted = fitWidths(widths, columns, opts.maxWidth);
    cells = cells.map((row) => row.map((v, i) => shorten(v, fitted[i]!)));
    widths.splice(0, widths.length, ...fitted);
  }
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

/** Shorten the widest left-aligned, not-kept columns one character at a time until the row fits (or cannot). */
function fitWidths<T>(widths: readonly number[], columns: readonly Column<T>[], maxWidth: number): number[] {
  const w = [...widths];
  const total = () => w.reduce((a, b) => a + b, 0) + 2 * (w.length - 1);
  const floor = (i: number) => Math.max(MIN_FITTED, columns[i]!.header.length);
  while (total() > maxWidth) {
    let widest = -1;
    for (let i = 0; i < w.length; i++) {
      const c = columns[i]!;
      if (c.keep || c.align === 'right' || w[i]! <= floor(i)) continue;
      if (widest < 0 || w[i]! > w[widest]!) widest = i;
    }
    if (widest < 0) break;
    w[widest]!--;
  }
  return w;
}

function shorten(value: string, width: number): string {
  const chars = [...value];
  return chars.length <= width ? value : `${chars.slice(0, width - 1).join('')}…`;
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
