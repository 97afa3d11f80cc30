/**
 * Validated limits. Every size, count and time budget that bounds attacker-controlled input is a positive
 * integer; anything else (NaN, a string, Infinity, zero, an unknown name) is a programming error.
 * @module
 */

export function positiveIntegerLimits<T extends object>(what: string, defaults: T, overrides: Partial<T> = {}): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in defaults)) throw new TypeError(`unknown ${what} limit ${key}`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new TypeError(`${what} limit ${key} must be a positive integer, got ${String(value)}`);
    }
    out[key] = value;
  }
  return out as T;
}
