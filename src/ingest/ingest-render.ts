/**
 * The `dsguard ingest` summary as a text table (JSON is the summary itself): one line per file with its
 * format, status and row counts, then the totals.
 * @module
 */
import { renderTextTable } from '../report/tabular.js';
import type { IngestSummary } from './ingest.js';

/** `width`: the terminal's, when writing to one: the table is fitted to it. */
export function renderIngestSummary(s: IngestSummary, width?: number): string {
  const rows = s.files.map((f) => ({
    file: f.file,
    format: f.format ?? '',
    status: f.status + (f.resumedAfter > 0 ? ` after row ${f.resumedAfter}` : ''),
    read: f.read,
    stored: f.stored,
    aggregated: f.aggregated,
    rejected: f.rejected,
    duplicates: f.duplicates,
  }));
  const table = renderTextTable(
    rows,
    [
      { header: 'file', value: (r) => r.file, width: 60 },
      { header: 'format', value: (r) => r.format, width: 60 },
      { header: 'status', value: (r) => r.status },
      { header: 'read', value: (r) => r.read, align: 'right' },
      { header: 'stored', value: (r) => r.stored, align: 'right' },
      { header: 'aggregated', value: (r) => r.aggregated, align: 'right' },
      { header: 'rejected', value: (r) => r.rejected, align: 'right' },
      { header: 'seen before', value: (r) => r.duplicates, align: 'right' },
    ],
    width ? { maxWidth: width } : {},
  );
  return `${table}${s.read} row(s) read = ${s.stored} stored + ${s.aggregated} aggregated + ${s.rejected} rejected (${s.duplicates} already in the store); ${s.reassessed} stored message(s) re-assessed after joins\n`;
}
