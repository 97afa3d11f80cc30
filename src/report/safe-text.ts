/**
 * Everything printed comes from attacker-controlled input. These helpers make values safe for each sink:
 * terminals (no control or bidi characters), CSV (no formula injection), Markdown and HTML (escaped).
 * @module
 */

// C0 and C1 controls (except TAB), DEL, bidi embeddings/overrides/isolates, zero-width and line separators.
const UNSAFE_TERMINAL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** One-line text safe for a terminal: control and bidi characters become U+FFFD-free spaces or are dropped. */
export function terminalSafe(value: string, max = 500): string {
  const t = value.replace(/[\r\n\t]+/g, ' ').replace(UNSAFE_TERMINAL, '');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Neutralise spreadsheet formulas (OWASP CSV injection): a leading = + - @ TAB CR gets a quote prefix. */
export function csvSafe(value: string): string {
  const t = value.replace(UNSAFE_TERMINAL, '');
  return /^[=+\-@\t\r]/.test(t) ? `'${t}` : t;
}

/** Markdown table cell: escape pipes, backslashes, backticks, angle brackets and emphasis markers. */
export function markdownSafe(value: string, max = 500): string {
  return terminalSafe(value, max).replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

export function htmlEscape(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}
