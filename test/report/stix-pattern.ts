/**
 * A recognizer for STIX 2.1 patterns, written from the STIX 2.1 patterning grammar (OASIS STIX 2.1 §9,
 * STIXPattern.g4): observation expressions joined by AND / OR / FOLLOWEDBY with qualifiers (WITHIN, REPEATS,
 * START … STOP), comparison expressions in brackets joined by AND / OR, property tests with the comparison
 * operators (optionally NOT), object paths `type:path(.step|[n]|[*])*`, and the literal forms (string, int,
 * float, boolean, t'timestamp', h'hex', b'base64', sets in parentheses). Returns the literal string values
 * compared (unescaped), or throws with the position of the first error.
 */

interface Tok {
  kind: 'lbrack' | 'rbrack' | 'lparen' | 'rparen' | 'comma' | 'op' | 'word' | 'string' | 'number' | 'path' | 'typed';
  text: string;
  at: number;
  value?: string;
}

const OPS = ['!=', '<>', '>=', '<=', '=', '>', '<'];
const WORD_OPS = new Set(['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'IN']);

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const single: Record<string, Tok['kind']> = {
      '[': 'lbrack',
      ']': 'rbrack',
      '(': 'lparen',
      ')': 'rparen',
      ',': 'comma',
    };
    if (single[c]) {
      out.push({ kind: single[c]!, text: c, at: i });
      i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op, at: i });
      i += op.length;
      continue;
    }
    const typed = /^([thb])'/.exec(src.slice(i, i + 2));
    if (c === "'" || typed) {
      const start = i;
      i += typed ? 2 : 1;
      let value = '';
      for (;;) {
        if (i >= src.length) throw new Error(`unterminated string at ${start}`);
        const ch = src[i]!;
        if (ch === '\\') {
          const next = src[i + 1];
          if (next !== '\\' && next !== "'") throw new Error(`bad escape at ${i}`);
          value += next;
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (typed) {
        const t = typed[1];
        if (t === 't' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value))
          throw new Error(`bad timestamp at ${start}`);
        if (t === 'h' && !/^([0-9a-fA-F]{2})*$/.test(value)) throw new Error(`bad hex at ${start}`);
        if (t === 'b' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new Error(`bad base64 at ${start}`);
        out.push({ kind: 'typed', text: src.slice(start, i), at: start, value });
      } else out.push({ kind: 'string', text: src.slice(start, i), at: start, value });
      continue;
    }
    const num = /^[-+]?(\d+\.\d+|\d+)/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'number', text: num[0], at: i });
      i += num[0].length;
      continue;
    }
    // An object path: object-type ':' first step, then steps; or a keyword.
    const path =
      /^[a-z][a-z0-9-]*[a-z0-9]:[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\.'[^']*'|\[(\d+|\*)\])*/.exec(
        src.slice(i),
      );
    if (path) {
      out.push({ kind: 'path', text: path[0], at: i });
      i += path[0].length;
      continue;
    }
    const word = /^[A-Za-z_]+/.exec(src.slice(i));
    if (word) {
      out.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw new Error(`unexpected '${c}' at ${i}`);
  }
  return out;
}

export function parseStixPattern(src: string): string[] {
  const toks = lex(src);
  let p = 0;
  const values: string[] = [];
  const peek = () => toks[p];
  const fail = (what: string): never => {
    throw new Error(`expected ${what} at ${peek()?.at ?? src.length}`);
  };
  const take = (kind: Tok['kind'], text?: string) => {
    const t = peek();
    if (!t || t.kind !== kind || (text !== undefined && t.text.toUpperCase() !== text)) fail(text ?? kind);
    p++;
    return t!;
  };
  const isWord = (w: string) => peek()?.kind === 'word' && peek()!.text.toUpperCase() === w;

  const literal = () => {
    const t = peek();
    if (!t) return fail('a literal');
    if (t.kind === 'string' || t.kind === 'typed') {
      p++;
      if (t.kind === 'string') values.push(t.value!);
      return;
    }
    if (t.kind === 'number') {
      p++;
      return;
    }
    if (t.kind === 'word' && (t.text === 'true' || t.text === 'false')) {
      p++;
      return;
    }
    fail('a literal');
  };
  const propTest = () => {
    take('path');
    if (isWord('NOT')) p++;
    const t = peek();
    if (t?.kind === 'op') {
      p++;
      literal();
    } else if (t?.kind === 'word' && WORD_OPS.has(t.text.toUpperCase())) {
      p++;
      if (t.text.toUpperCase() === 'IN') {
        take('lparen');
        literal();
        while (peek()?.kind === 'comma') {
          p++;
          literal();
        }
        take('rparen');
      } else literal();
    } else if (t?.kind === 'word' && t.text.toUpperCase() === 'EXISTS') p++;
    else fail('a comparison operator');
  };
  const comparison = (): void => {
    if (peek()?.kind === 'lparen') {
      p++;
      comparison();
      take('rparen');
    } else propTest();
    while (isWord('AND') || isWord('OR')) {
      p++;
      if (peek()?.kind === 'lparen') {
        p++;
        comparison();
        take('rparen');
      } else propTest();
    }
  };
  const qualifiers = () => {
    for (;;) {
      if (isWord('WITHIN')) {
        p++;
        take('number');
        take('word', 'SECONDS');
      } else if (isWord('REPEATS')) {
        p++;
        take('number');
        take('word', 'TIMES');
      } else if (isWord('START')) {
        p++;
        take('typed');
        take('word', 'STOP');
        take('typed');
      } else return;
    }
  };
  const observation = (): void => {
    if (peek()?.kind === 'lparen') {
      p++;
      observations();
      take('rparen');
    } else {
      take('lbrack');
      comparison();
      take('rbrack');
    }
    qualifiers();
  };
  const observations = (): void => {
    observation();
    while (isWord('AND') || isWord('OR') || isWord('FOLLOWEDBY')) {
      p++;
      observation();
    }
  };
  observations();
  if (p !== toks.length) fail('the end of the pattern');
  return values;
}
