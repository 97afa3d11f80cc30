/**
 * `dsguard report --fail-on`: the conditions a scheduled job fails on (exit 1), each with what met it.
 * @module
 */
import type { TenantReport } from './tenant-report.js';

export const REPORT_FAIL_ON = ['not-ready', 'malicious', 'new-source', 'enforcement-fails'] as const;
export type ReportFailOn = (typeof REPORT_FAIL_ON)[number];

/**
 * Why the report meets each condition asked for (empty: it meets none).
 * - `not-ready`: readiness has a blocker;
 * - `malicious`: a source of the period is malicious;
 * - `new-source`: a source RejectDirectSend would affect that nobody has decided on, and that may be yours
 *   (likely legitimate or undetermined): someone started sending Direct Send;
 * - `enforcement-fails`: the profile says RejectDirectSend is enabled and Direct Send still got through.
 */
export function reportFailures(r: TenantReport, conditions: readonly ReportFailOn[]): string[] {
  const out: string[] = [];
  const ids = (list: readonly { id: string }[]) => list.map((s) => s.id).join(', ');
  for (const c of conditions) {
    if (c === 'not-ready' && !r.readiness.ready) {
      out.push(
        `not-ready: ${r.readiness.blockers.length} blocker(s) (${[...new Set(r.readiness.blockers.map((b) => b.code))].join(', ')})`,
      );
    } else if (c === 'malicious') {
      const bad = r.sources.filter((s) => s.verdict === 'malicious');
      if (bad.length > 0) out.push(`malicious: ${bad.length} source(s): ${ids(bad)}`);
    } else if (c === 'new-source') {
      const fresh = r.sources.filter(
        (s) =>
          !s.confirmed &&
          (s.verdict === 'likely-legitimate' || s.verdict === 'undetermined') &&
          s.counts.directSend + s.counts.undetermined > 0,
      );
      if (fresh.length > 0) out.push(`new-source: ${fresh.length} undecided source(s): ${ids(fresh)}`);
    } else if (c === 'enforcement-fails' && r.enforcement?.state === 'fails') {
      out.push(`enforcement-fails: ${r.enforcement.directSend} Direct Send message(s) since ${r.enforcement.since}`);
    }
  }
  return out;
}
