/**
 * PowerShell command text. Values are single-quoted literals: inside one, PowerShell's tokenizer ends the string
 * at any character `CharTraits.IsSingleQuote` accepts — the ASCII apostrophe and the typographic U+2018, U+2019,
 * U+201A, U+201B — unless the next character is one of them too, in which case the pair stands for that second
 * character. So each of the five is doubled, and nothing else in a single-quoted string is special (no `$`,
 * backtick, or subexpression expansion). Values first pass {@link checkValue}; those that fail are withheld.
 * cmd.exe gets nothing: it has no safe quoting (`%` expands even inside quotes).
 * @module
 */
import { type BuiltCommand, type Checked, checkValue, finish, type ValueKind, withheldText } from './values.js';

export type { BuiltCommand } from './values.js';

/** The characters PowerShell treats as a single quote. */
export const PS_SINGLE_QUOTES = ['\u0027', '\u2018', '\u2019', '\u201a', '\u201b'] as const;
const SINGLE_QUOTE = /['\u2018\u2019\u201a\u201b]/g;

/** `value` as a PowerShell single-quoted literal, verbatim (the caller has checked what it may hold). */
export function psLiteral(value: string): string {
  return `'${value.replace(SINGLE_QUOTE, (q) => q + q)}'`;
}

/** An argument of a generated command. */
export type PsArg =
  | { kind: ValueKind; value: string }
  | { kind: ValueKind; values: readonly string[] }
  | { bool: boolean }
  /** One of dsguard's own constant words (an enum value such as `OnPremises`), written bare. */
  | { word: string }
  | { number: number }
  | { switch: true };

const NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

function one(kind: ValueKind, value: string, withheld: string[]): string {
  const c: Checked = checkValue(kind, value);
  if (c.ok) return psLiteral(c.value);
  withheld.push(c.reason);
  return withheldText(c.reason);
}

/** A checked value as a literal, or `<withheld: reason>` (the reason is pushed to `withheld`). */
export function psValue(kind: ValueKind, value: string, withheld: string[]): string {
  return one(kind, value, withheld);
}

/**
 * `Cmdlet -Param 'value' -List 'a','b' -Flag $true -Switch`. Cmdlet and parameter names are dsguard's own
 * constants (checked); every value is checked and quoted, or withheld.
 */
export function psCommand(cmdlet: string, params: readonly (readonly [string, PsArg])[]): BuiltCommand {
  if (!NAME.test(cmdlet)) throw new Error(`not a cmdlet name: ${cmdlet}`);
  const withheld: string[] = [];
  const parts = [cmdlet];
  for (const [name, arg] of params) {
    if (!NAME.test(name)) throw new Error(`not a parameter name: ${name}`);
    if ('switch' in arg) parts.push(`-${name}`);
    else if ('word' in arg) {
      if (!/^[A-Za-z]+$/.test(arg.word)) throw new Error(`not a constant word: ${arg.word}`);
      parts.push(`-${name} ${arg.word}`);
    } else if ('bool' in arg) parts.push(`-${name} ${arg.bool ? '$true' : '$false'}`);
    else if ('number' in arg) {
      if (!Number.isSafeInteger(arg.number)) throw new Error(`not an integer: ${arg.number}`);
      parts.push(`-${name} ${arg.number}`);
    } else if ('values' in arg) {
      if (arg.values.length === 0) throw new Error(`-${name}: empty list`);
      parts.push(`-${name} ${arg.values.map((v) => one(arg.kind, v, withheld)).join(',')}`);
    } else parts.push(`-${name} ${one(arg.kind, arg.value, withheld)}`);
  }
  return finish(parts, withheld);
}

/** The same command with `-WhatIf`: PowerShell shows what it would do and changes nothing. */
export function withWhatIf(c: BuiltCommand): BuiltCommand {
  return { text: `${c.text} -WhatIf`, withheld: c.withheld };
}

/** A `#` comment line: printable ASCII only (a line break would end the comment), else withheld. */
export function psComment(text: string): string {
  const c = checkValue('text', text);
  return `# ${c.ok ? c.value : withheldText(c.reason)}`;
}

/**
 * A value as a PowerShell literal for a command assembled by hand (the audit's fixing commands): checked as
 * `kind`, or `<withheld: reason>`, which PowerShell refuses to parse, so the command holding it cannot run.
 * Prefer {@link psCommand}, which also prints such a command as a comment.
 */
export function psQuote(value: string, kind: ValueKind = 'text'): string {
  return one(kind, value, []);
}

/** `'a','b'`: each value as {@link psQuote} makes it. */
export function psList(values: readonly string[], kind: ValueKind = 'text'): string {
  return values.map((v) => one(kind, v, [])).join(',');
}
