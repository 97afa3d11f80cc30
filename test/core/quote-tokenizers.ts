/**
 * Small tokenizers of the two shells dsguard writes commands for, written from the shells' rules (PowerShell
 * cannot be installed here), to check every emitted command: what is a literal string, what is a bare word, and
 * whether anything the shell would act on (a variable, a subexpression, a separator, a redirection, a second
 * command) appears outside the literals.
 *
 * PowerShell (tokenizer.cs, ScanStringLiteral / CharTraits.IsSingleQuote): a single-quoted string starts at any
 * of ' U+2018 U+2019 U+201A U+201B and ends at the next one of them, unless the character after that is one of
 * them too: then the pair stands for the second character. Nothing else inside is special. Outside strings, `#`
 * at the start of a token opens a comment to the end of the line.
 *
 * POSIX sh (XCU 2.2): inside '…' every character is literal and the string ends at the next '; outside,
 * backslash quotes the next character; blanks split words; `#` at the start of a word opens a comment.
 */

export const PS_QUOTES = new Set(['\u0027', '\u2018', '\u2019', '\u201a', '\u201b']);
const PS_DOUBLE_QUOTES = new Set(['"', '\u201c', '\u201d', '\u201e']);
const LINE_BREAKS = new Set(['\n', '\r', '\u0085', '\u2028', '\u2029']);

export type Token = { kind: 'string'; value: string } | { kind: 'word'; value: string } | { kind: 'comment' };

/** PowerShell tokens of one command line; throws on an unterminated string. */
export function psTokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const chars = [...text];
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (LINE_BREAKS.has(c)) {
      out.push({ kind: 'word', value: '<newline>' });
      i++;
      continue;
    }
    if (c === '#') {
      // A comment to the end of the line.
      while (i < chars.length && !LINE_BREAKS.has(chars[i]!)) i++;
      out.push({ kind: 'comment' });
      continue;
    }
    if (PS_QUOTES.has(c)) {
      let value = '';
      i++;
      for (;;) {
        if (i >= chars.length) throw new Error(`unterminated string in: ${text}`);
        const d = chars[i]!;
        if (PS_QUOTES.has(d)) {
          if (i + 1 < chars.length && PS_QUOTES.has(chars[i + 1]!)) {
            value += chars[i + 1]!;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      out.push({ kind: 'string', value });
      continue;
    }
    // A bare run up to a blank, a quote or a character the parser acts on (each of those is its own token).
    if (',;&|(){}<>$@`'.includes(c) || PS_DOUBLE_QUOTES.has(c)) {
      // `$true` / `$false` are the only variables dsguard writes.
      const m = /^\$(true|false)\b/.exec(chars.slice(i, i + 6).join(''));
      if (m) {
        out.push({ kind: 'word', value: m[0] });
        i += m[0].length;
      } else {
        out.push({ kind: 'word', value: c });
        i++;
      }
      continue;
    }
    let w = '';
    while (i < chars.length) {
      const d = chars[i]!;
      if (d === ' ' || d === '\t' || LINE_BREAKS.has(d) || PS_QUOTES.has(d) || PS_DOUBLE_QUOTES.has(d)) break;
      if (',;&|(){}<>$@`'.includes(d)) break;
      w += d;
      i++;
    }
    out.push({ kind: 'word', value: w });
  }
  return out;
}

/** POSIX sh words of one command line (quotes removed), or the tokens the shell would act on. */
export function shTokens(text: string): Token[] {
  const out: Token[] = [];
  const chars = [...text];
  let i = 0;
  let word: string | null = null;
  let quotedPart = false;
  const end = () => {
    if (word !== null) out.push(quotedPart ? { kind: 'string', value: word } : { kind: 'word', value: word });
    word = null;
    quotedPart = false;
  };
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === ' ' || c === '\t') {
      end();
      i++;
    } else if (c === '\n') {
      end();
      out.push({ kind: 'word', value: '<newline>' });
      i++;
    } else if (c === '#' && word === null) {
      while (i < chars.length && chars[i] !== '\n') i++;
      out.push({ kind: 'comment' });
    } else if (c === "'") {
      const close = chars.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated string in: ${text}`);
      word = (word ?? '') + chars.slice(i + 1, close).join('');
      quotedPart = true;
      i = close + 1;
    } else if (c === '\\') {
      if (i + 1 >= chars.length) throw new Error('trailing backslash');
      word = (word ?? '') + chars[i + 1]!;
      quotedPart = true;
      i += 2;
    } else if (';&|<>()$`"*?[]{}~'.includes(c)) {
      end();
      out.push({ kind: 'word', value: c });
      i++;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  end();
  return out;
}

const PS_OK_WORD = /^(-?[A-Za-z][A-Za-z0-9-]*|\$true|\$false|,|\d+)$/;
const SH_OK_WORD = /^-{0,2}[A-Za-z0-9][A-Za-z0-9._/=-]*$/;

/**
 * What is wrong with a PowerShell command dsguard printed, given the values it should carry: every bare token
 * must be a cmdlet or parameter name, `$true`/`$false`, a comma or a number, and the string literals must be
 * exactly the values, in order (`values` null: not compared). A command printed as a comment (a value was withheld) runs nothing: no problem.
 */
export function psProblems(text: string, values: readonly string[] | null): string[] {
  let tokens: Token[];
  try {
    tokens = psTokens(text);
  } catch (e) {
    return [(e as Error).message];
  }
  if (tokens[0]?.kind === 'comment') return tokens.length === 1 ? [] : ['code after a comment'];
  const problems: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'word' && !PS_OK_WORD.test(t.value)) problems.push(`active token outside quotes: ${t.value}`);
    if (t.kind === 'comment') problems.push('a comment inside the command');
  }
  const strings = tokens.filter((t) => t.kind === 'string').map((t) => (t as { value: string }).value);
  if (values !== null && JSON.stringify(strings) !== JSON.stringify(values)) {
    problems.push(`literals ${JSON.stringify(strings)} are not the values ${JSON.stringify(values)}`);
  }
  return problems;
}

/** The same for a POSIX sh command: bare words are dsguard's own options; quoted words are exactly the values. */
export function shProblems(text: string, values: readonly string[] | null): string[] {
  let tokens: Token[];
  try {
    tokens = shTokens(text);
  } catch (e) {
    return [(e as Error).message];
  }
  if (tokens[0]?.kind === 'comment') return tokens.length === 1 ? [] : ['code after a comment'];
  const problems: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'word' && !SH_OK_WORD.test(t.value)) problems.push(`active token outside quotes: ${t.value}`);
    if (t.kind === 'comment') problems.push('a comment inside the command');
  }
  const strings = tokens.filter((t) => t.kind === 'string').map((t) => (t as { value: string }).value);
  if (values !== null && JSON.stringify(strings) !== JSON.stringify(values)) {
    problems.push(`literals ${JSON.stringify(strings)} are not the values ${JSON.stringify(values)}`);
  }
  return problems;
}
