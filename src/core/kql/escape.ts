/**
 * KQL literals from untrusted text (profile values, store values). A value becomes one double-quoted string
 * literal: backslash and double quote are escaped, control, bidi and zero-width characters (and line breaks)
 * are dropped, so no value can end the literal, start a comment or a new statement, or hide text.
 * @module
 */

// C0/C1 controls, DEL, bidi and zero-width characters, line/paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** `"…"`: a KQL string literal holding `value` (minus control characters). */
export function kqlString(value: string): string {
  return `"${value.replace(UNSAFE, '').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `"a", "b"`: for `in~ (…)` and `dynamic([…])`. */
export function kqlStringList(values: readonly string[]): string {
  return values.map(kqlString).join(', ');
}

/** A `datetime(…)` literal from an ISO 8601 time or day; `null` when the text is not one. */
export function kqlDatetime(iso: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?Z)?$/.test(iso)) return null;
  return `datetime(${iso})`;
}

/** Text safe inside a `// …` KQL comment (one line, no control characters). */
export function kqlComment(text: string): string {
  return text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
}
