/**
 * POSIX shell command text (the `dsguard probe` line). Values are single-quoted words: inside single quotes sh
 * treats every character literally except the closing `'`, so a `'` is written `'\''` (close, an escaped quote,
 * reopen). Values first pass {@link checkValue}; those that fail are withheld. Not for cmd.exe, which has no safe
 * quoting.
 * @module
 */
import { type BuiltCommand, checkValue, finish, type ValueKind, withheldText } from './values.js';

/** `value` as one POSIX shell word, verbatim. */
export function shLiteral(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export type ShArg = string | { kind: ValueKind; value: string };

const WORD = /^[A-Za-z0-9][A-Za-z0-9._/=-]*$|^--?[A-Za-z][A-Za-z0-9-]*$/;

/** `program word 'value' …`: plain words are dsguard's own constants (checked); values are checked and quoted. */
export function shCommand(program: string, args: readonly ShArg[]): BuiltCommand {
  const withheld: string[] = [];
  const parts = [program, ...args].map((a) => {
    if (typeof a === 'string') {
      if (!WORD.test(a)) throw new Error(`not a plain word: ${a}`);
      return a;
    }
    const c = checkValue(a.kind, a.value);
    if (c.ok) return shLiteral(c.value);
    withheld.push(c.reason);
    return withheldText(c.reason);
  });
  return finish(parts, withheld);
}
