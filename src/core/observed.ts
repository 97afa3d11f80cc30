import type { EvidenceRef } from './finding.js';

/** A value together with where it was read. Unknown facts are `null`, never a guessed default. */
export interface Observed<T> {
  value: T;
  ref: EvidenceRef;
}

export function observed<T>(value: T, ref: EvidenceRef): Observed<T> {
  return { value, ref };
}
