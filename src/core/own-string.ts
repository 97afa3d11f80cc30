/**
 * A string of its own. Values taken from a large decoded text (a CSV chunk, a header block) are often V8 sliced
 * strings, which keep the whole parent text alive: anything kept longer than the text itself (memo tables,
 * caches, run-long aggregates) stores a copy instead.
 * @module
 */
export function ownString(s: string): string;
export function ownString(s: string | null): string | null;
export function ownString(s: string | null): string | null {
  // The concatenation is flattened into a new string; the slice then refers to that small copy only.
  return s === null ? null : ` ${s}`.slice(1);
}
