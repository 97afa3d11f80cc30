/**
 * Readiness and the source verdicts' explanations as plain text lines, for every renderer to escape its own way
 * (terminal, Markdown, HTML).
 * @module
 */
import type { SourceEntry } from './source-inventory.js';
import type { TenantReport } from './tenant-report.js';

/** The readiness verdict, its blockers (most important first) and the rows the export readers rejected. */
export function readinessText(r: TenantReport): { verdict: string; blockers: string[]; rejected: string[] } {
  const rd = r.readiness;
  const cov = rd.coverage;
  const span = cov
    ? ` Evidence: ${cov.first} to ${cov.last} (${cov.span} day(s)${cov.gaps.length > 0 ? `, ${cov.gaps.length} gap(s)` : ''}).`
    : '';
  const verdict = rd.ready
    ? `READY: RejectDirectSend can be enabled (the enabling steps follow the connector plan).${span}`
    : `NOT READY: ${rd.blockers.length} blocker(s) before RejectDirectSend can be enabled.${span}`;
  const blockers = rd.blockers.map((b) => `${b.code} ${b.text}`);
  const rejected = rd.rejectedRows.map(
    (f) => `${f.file}: ${f.rejected} row(s) rejected by the reader (not counted in any source or total)`,
  );
  return { verdict, blockers, rejected };
}

/** One line of a source's verdict, then one per signal with the rows that show it. */
export function verdictLines(s: SourceEntry, maxRows = 2): string[] {
  const out = [`${s.id} ${s.verdict}${s.confirmed ? ' (confirmed)' : ''}: ${s.summary}`];
  for (const g of s.signals) {
    const rows = g.rows
      .slice(0, maxRows)
      .map((x) => `${x.file} row ${x.row}`)
      .join('; ');
    out.push(`  ${g.effect.padEnd(8)} ${g.signal}: ${g.text}${rows ? ` [${rows}]` : ''}`);
  }
  for (const f of s.inferredFrom) {
    const proof = f.file !== null ? `${f.file} row ${f.row}` : `declared in the profile as "${f.declared}"`;
    out.push(`  inferred ${f.messages} summary row(s) from ${f.ip} / ${f.sender} are Direct Send: proven by ${proof}`);
  }
  return out;
}

/** What the connector plan says when it is empty: nothing needs one, or nothing is confirmed yet. */
export function emptyPlanText(r: TenantReport): string {
  const waiting = r.sources.filter((s) => s.verdict === 'likely-legitimate' && s.counts.directSend > 0);
  if (waiting.length === 0) return 'No legitimate Direct Send source needs a connector.';
  return `No connector planned yet: ${waiting.length} likely legitimate source(s) (${waiting.map((s) => s.id).join(', ')}) must be confirmed first (dsguard sources approve|deny; see Readiness).`;
}
