/**
 * One definition of a selection condition over `EmailEvents` rows, from which both the KQL text ({@link toKql})
 * and a local predicate ({@link matchesRow}) are generated: the queries dsguard emits and what it evaluates on
 * an exported EmailEvents row agree by construction. Every operator is given both meanings here, side by side;
 * string comparisons are case-insensitive on both sides (KQL `=~`, `in~`, `contains`).
 * @module
 */
import { type Cidr, ipInAny, parseCidr } from '../net-address.js';
import { kqlDatetime, kqlString, kqlStringList } from './escape.js';
import type { EmailEventsColumn } from './schema.js';

export type AuthKey = 'SPF' | 'DKIM' | 'DMARC' | 'CompAuth';

export type Condition =
  | { op: 'all'; of: readonly Condition[] }
  | { op: 'any'; of: readonly Condition[] }
  | { op: 'not'; of: Condition }
  /** Case-insensitive equality with a constant. */
  | { op: 'equals'; column: EmailEventsColumn; value: string }
  /** Case-insensitive membership in a list of constants. */
  | { op: 'in'; column: EmailEventsColumn; values: readonly string[] }
  /** Null or empty. */
  | { op: 'empty'; column: EmailEventsColumn }
  /** Case-insensitive substring, any of the terms. */
  | { op: 'contains'; column: EmailEventsColumn; terms: readonly string[] }
  /** Case-insensitive suffix. */
  | { op: 'endsWith'; column: EmailEventsColumn; suffix: string }
  /** Two columns equal, case-insensitively. */
  | { op: 'same'; column: EmailEventsColumn; other: EmailEventsColumn }
  /** A value of `AuthenticationDetails` (a JSON string: `parse_json`), lower-cased, in the list. */
  | { op: 'auth'; key: AuthKey; values: readonly string[] }
  /** The connecting IP (`SenderIPv4`, else `SenderIPv6`) in one of the ranges. */
  | { op: 'ipIn'; ranges: readonly string[] }
  /** `Timestamp` at or after an ISO 8601 time. */
  | { op: 'since'; iso: string }
  /** The whole value matches a `*` / `?` glob, case-insensitively. */
  | { op: 'glob'; column: EmailEventsColumn; glob: string };

/** One EmailEvents row as exported: column name → text (null or missing when empty). */
export type EmailEventsRow = Readonly<Partial<Record<EmailEventsColumn, string | null>>>;

// ---------------------------------------------------------------------------------------------------------------
// KQL

function globRegex(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (/[A-Za-z0-9 @_-]/.test(ch)) out += ch;
    else out += `\\x{${ch.codePointAt(0)!.toString(16)}}`;
  }
  return out;
}

function splitRanges(ranges: readonly string[]): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const r of ranges) {
    if (parseCidr(r) === null) continue;
    (r.includes(':') ? v6 : v4).push(r.trim());
  }
  return { v4, v6 };
}

/** The KQL boolean expression of a condition (fully parenthesised where it combines). */
export function toKql(c: Condition): string {
  switch (c.op) {
    case 'all':
      return c.of.length === 0 ? 'true' : c.of.length === 1 ? toKql(c.of[0]!) : `(${c.of.map(toKql).join(' and ')})`;
    case 'any':
      return c.of.length === 0 ? 'false' : c.of.length === 1 ? toKql(c.of[0]!) : `(${c.of.map(toKql).join(' or ')})`;
    case 'not':
      return `not(${toKql(c.of)})`;
    case 'equals':
      return `${c.column} =~ ${kqlString(c.value)}`;
    case 'in':
      return c.values.length === 0 ? 'false' : `${c.column} in~ (${kqlStringList(c.values)})`;
    case 'empty':
      return `isempty(${c.column})`;
    case 'contains':
      return c.terms.length === 0
        ? 'false'
        : `(${c.terms.map((t) => `${c.column} contains ${kqlString(t)}`).join(' or ')})`;
    case 'endsWith':
      return `${c.column} endswith ${kqlString(c.suffix)}`;
    case 'same':
      return `${c.column} =~ ${c.other}`;
    case 'auth':
      return `tolower(tostring(parse_json(AuthenticationDetails).${c.key})) in (${kqlStringList(c.values.map((v) => v.toLowerCase()))})`;
    case 'ipIn': {
      const { v4, v6 } = splitRanges(c.ranges);
      const parts: string[] = [];
      if (v4.length > 0)
        parts.push(`(isnotempty(SenderIPv4) and ipv4_is_in_any_range(SenderIPv4, dynamic([${kqlStringList(v4)}])))`);
      if (v6.length > 0)
        parts.push(
          `(isempty(SenderIPv4) and isnotempty(SenderIPv6) and ipv6_is_in_any_range(SenderIPv6, dynamic([${kqlStringList(v6)}])))`,
        );
      return parts.length === 0 ? 'false' : parts.length === 1 ? parts[0]! : `(${parts.join(' or ')})`;
    }
    case 'since': {
      const lit = kqlDatetime(c.iso);
      if (lit === null) throw new Error(`not an ISO 8601 time: ${c.iso}`);
      return `Timestamp >= ${lit}`;
    }
    case 'glob':
      return `${c.column} matches regex ${kqlString(`(?i)^${globRegex(c.glob)}$`)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Local predicate

function text(row: EmailEventsRow, column: EmailEventsColumn): string | null {
  const v = row[column];
  if (v === undefined || v === null) return null;
  return v.length === 0 ? null : v;
}

function authValue(row: EmailEventsRow, key: AuthKey): string | null {
  const raw = text(row, 'AuthenticationDetails');
  if (raw === null || raw.length > 4096) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const val = (v as Record<string, unknown>)[key];
      return typeof val === 'string' ? val.toLowerCase() : null;
    }
  } catch {
    // parse_json of text that is not JSON gives a string, whose properties are null.
  }
  return null;
}

const rangeCache = new WeakMap<readonly string[], Cidr[]>();
function parsedRanges(ranges: readonly string[]): Cidr[] {
  let out = rangeCache.get(ranges);
  if (!out) {
    out = ranges.map((r) => parseCidr(r)).filter((x): x is Cidr => x !== null);
    rangeCache.set(ranges, out);
  }
  return out;
}

function globMatch(value: string, glob: string): boolean {
  // Linear-time wildcard match (greedy with one backtrack point), case-insensitive.
  const s = value.toLowerCase();
  const p = glob.toLowerCase();
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Whether an EmailEvents row satisfies the condition, with the same meaning as its KQL text. */
export function matchesRow(c: Condition, row: EmailEventsRow): boolean {
  switch (c.op) {
    case 'all':
      return c.of.every((x) => matchesRow(x, row));
    case 'any':
      return c.of.some((x) => matchesRow(x, row));
    case 'not':
      return !matchesRow(c.of, row);
    case 'equals':
      return text(row, c.column)?.toLowerCase() === c.value.toLowerCase();
    case 'in': {
      const v = text(row, c.column)?.toLowerCase();
      return v !== undefined && c.values.some((x) => x.toLowerCase() === v);
    }
    case 'empty':
      return text(row, c.column) === null;
    case 'contains': {
      const v = text(row, c.column)?.toLowerCase();
      return v !== undefined && c.terms.some((t) => v.includes(t.toLowerCase()));
    }
    case 'endsWith':
      return text(row, c.column)?.toLowerCase().endsWith(c.suffix.toLowerCase()) ?? false;
    case 'same': {
      const a = text(row, c.column);
      return a !== null && a.toLowerCase() === text(row, c.other)?.toLowerCase();
    }
    case 'auth': {
      const v = authValue(row, c.key);
      return v !== null && c.values.some((x) => x.toLowerCase() === v);
    }
    case 'ipIn': {
      const ip = text(row, 'SenderIPv4') ?? text(row, 'SenderIPv6');
      return ip !== null && ipInAny(ip.trim(), parsedRanges(c.ranges)) !== null;
    }
    case 'since': {
      const t = text(row, 'Timestamp');
      return t !== null && Date.parse(t) >= Date.parse(c.iso.length === 10 ? `${c.iso}T00:00:00Z` : c.iso);
    }
    case 'glob': {
      const v = text(row, c.column);
      return v !== null && globMatch(v, c.glob);
    }
  }
}
