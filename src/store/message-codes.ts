/**
 * The `codes` column of a stored message: a JSON array of finding codes (written by ingest's message rows), read
 * back by the message export and the indicators.
 * @module
 */

/** A message row's `codes` column read back: its finding codes, or none when the text is not a JSON string array. */
export function storedCodes(text: string): string[] {
  try {
    const c: unknown = JSON.parse(text);
    return Array.isArray(c) ? c.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
