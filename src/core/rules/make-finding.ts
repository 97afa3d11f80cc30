import type { EvidenceRef, Finding, FindingCode } from '../finding.js';
import type { Observed } from '../observed.js';
import { ruleInfo } from './catalog.js';

/** A finding for a catalogued code; severity comes from the catalog so it stays stable. */
export function finding(
  code: FindingCode,
  message: string,
  evidence: readonly (EvidenceRef | null | undefined)[],
): Finding {
  const info = ruleInfo(code);
  return {
    code,
    severity: info.severity,
    message,
    evidence: evidence.filter((e): e is EvidenceRef => e !== null && e !== undefined),
  };
}

export function refs(...items: (Observed<unknown> | null | undefined)[]): EvidenceRef[] {
  return items.filter((i): i is Observed<unknown> => i !== null && i !== undefined).map((i) => i.ref);
}
