/**
 * The one severity scale and its one order. Re-exported by finding.ts; kept in its own module because the rule
 * tables need `Severity` while `Finding` needs the tables' codes (no import cycle either way).
 * @module
 */

export type Severity = 'high' | 'medium' | 'low' | 'info';

/** Every severity, least severe first: the order `severityRank` and `bySeverityDescending` follow. */
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high'];

/** 0 for `info` … 3 for `high`. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** A sort comparator: most severe first (`high` before `info`); equal severities compare 0. */
export function bySeverityDescending(a: Severity, b: Severity): number {
  return severityRank(b) - severityRank(a);
}
