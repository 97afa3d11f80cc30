/**
 * Findings are data: a stable code, a severity, a one-line message and the evidence that made the rule fire.
 * Every code is documented in docs/findings.md and declared in rules/catalog.ts.
 * @module
 */

import type { FindingCode } from './rules/catalog.js';
import { type Severity, severityRank } from './severity.js';

export type { FindingCode } from './rules/catalog.js';
export { bySeverityDescending, isSeverity, SEVERITIES, type Severity, severityRank } from './severity.js';

/** Where a fact came from: which source, which header or column, which value, which line or row. */
export interface EvidenceRef {
  /** The input the fact was read from: a path, `path#n` inside an mbox, or `file:row`. */
  source: string;
  /** Header name (as written) or column name. */
  field: string;
  /** The value as read (decoded, bounded in length). */
  value: string;
  /** `line 12`, `row 40`, `part 2`: where inside the source. */
  location?: string;
}

export interface Finding {
  /** A code of the rule tables (catalog.ts): a typo does not compile. */
  code: FindingCode;
  severity: Severity;
  message: string;
  evidence: EvidenceRef[];
}

/** Bound any attacker-supplied value before it is copied into a finding or a report. */
export const MAX_EVIDENCE_VALUE = 512;

export function boundValue(value: string, max = MAX_EVIDENCE_VALUE): string {
  return value.length > max ? `${value.slice(0, max)}…(${value.length - max} more chars)` : value;
}

export function maxSeverity(findings: readonly Finding[]): Severity | null {
  let best: Severity | null = null;
  for (const f of findings) {
    if (best === null || severityRank(f.severity) > severityRank(best)) best = f.severity;
  }
  return best;
}
