import { positiveIntegerLimits } from '../limits.js';

/**
 * RFC 5322 header block: unfolded values next to the raw lines, in order, duplicates kept.
 * Linear in the input size, with validated limits (attacker-controlled input).
 * @module
 */

export interface HeaderField {
  /** Name as written. */
  name: string;
  /** Lower-case name, for look-ups. */
  key: string;
  /** Unfolded value (folding line breaks removed, whitespace kept), leading/trailing space trimmed. */
  value: string;
  /** The raw lines of the field, joined with `\n`. */
  raw: string;
  /** 1-based line number of the field's first line in the source. */
  line: number;
  /** 0-based position among the fields (0 = topmost = most recently added). */
  index: number;
}

export interface HeaderBlockLimits {
  /** Bytes (UTF-16 code units) of header text accepted. */
  maxHeaderBytes: number;
  /** Number of header fields accepted. */
  maxFields: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderBlockLimits = { maxHeaderBytes: 2 * 1024 * 1024, maxFields: 5_000 };

export type HeaderBlockResult =
  | { status: 'ok'; fields: HeaderField[]; malformedLines: number; bodyOffset: number | null }
  | { status: 'error'; error: string };

export function validateLimits(limits: Partial<HeaderBlockLimits>): HeaderBlockLimits {
  return positiveIntegerLimits('header', DEFAULT_HEADER_LIMITS, limits);
}

function isNameChar(code: number): boolean {
  // RFC 5322 ftext: printable US-ASCII except colon.
  return code >= 33 && code <= 126 && code !== 58;
}

/**
 * Parse the header block at the start of `text` (a whole message or just headers).
 * Stops at the first empty line; `bodyOffset` is the index of the body in `text`, or null if none.
 */
export function parseHeaderBlock(text: string, limits: Partial<HeaderBlockLimits> = {}): HeaderBlockResult {
  const lim = validateLimits(limits);
  const fields: HeaderField[] = [];
  let malformed = 0;
  let pos = 0;
  let lineNo = 0;
  let bodyOffset: number | null = null;
  const n = text.length;
  // The field being read: positions into `text`, so no line is copied until the field is complete.
  let fieldStart = -1;
  let fieldNameEnd = 0;
  let fieldColon = 0;
  let fieldEnd = 0;
  let fieldLine = 0;
  let folded = false;

  const flush = (): string | null => {
    if (fieldStart < 0) return null;
    const name = text.slice(fieldStart, fieldNameEnd);
    let raw = text.slice(fieldStart, fieldEnd);
    let value = text.slice(fieldColon + 1, fieldEnd);
    if (folded) {
      raw = raw.replace(/\r\n/g, '\n');
      value = value.replace(/\r?\n/g, '');
    }
    if (fieldColon > fieldNameEnd) raw = name + raw.slice(fieldColon - fieldStart);
    fields.push({ name, key: name.toLowerCase(), value: value.trim(), raw, line: fieldLine, index: fields.length });
    fieldStart = -1;
    folded = false;
    if (fields.length > lim.maxFields) return `header block has more than ${lim.maxFields} fields`;
    return null;
  };

  // Skip a leading mbox "From " separator line and leading blank lines of pasted text.
  if (text.startsWith('From ')) {
    const nl = text.indexOf('\n');
    pos = nl < 0 ? n : nl + 1;
    lineNo = 1;
  }
  while (pos < n) {
    const ch = text.charCodeAt(pos);
    if (ch !== 10 && ch !== 13) break;
    pos += ch === 13 && text.charCodeAt(pos + 1) === 10 ? 2 : 1;
    lineNo++;
  }

  while (pos < n) {
    if (pos > lim.maxHeaderBytes) return { status: 'error', error: `header block exceeds ${lim.maxHeaderBytes} bytes` };
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    lineNo++;
    const next = end + 1;
    if (lineEnd === pos) {
      bodyOffset = Math.min(next, n);
      break;
    }
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) {
      if (fieldStart >= 0) {
        fieldEnd = lineEnd;
        folded = true;
      } else malformed++;
    } else {
      let i = pos;
      while (i < lineEnd && isNameChar(text.charCodeAt(i))) i++;
      // Allow whitespace between the name and the colon (obsolete syntax, RFC 5322 4.5).
      let j = i;
      while (j < lineEnd && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
      if (i > pos && j < lineEnd && text.charCodeAt(j) === 58) {
        const err = flush();
        if (err) return { status: 'error', error: err };
        fieldStart = pos;
        fieldNameEnd = i;
        fieldColon = j;
        fieldEnd = lineEnd;
        fieldLine = lineNo;
      } else {
        // Neither a field nor a continuation: pasted headers often carry stray lines; count and go on.
        malformed++;
      }
    }
    pos = next;
  }
  const err = flush();
  if (err) return { status: 'error', error: err };
  if (pos > lim.maxHeaderBytes) return { status: 'error', error: `header block exceeds ${lim.maxHeaderBytes} bytes` };
  return { status: 'ok', fields, malformedLines: malformed, bodyOffset };
}

/** Index of header fields by lower-case name, keeping order. */
export class HeaderIndex {
  readonly fields: readonly HeaderField[];
  private readonly byKey = new Map<string, HeaderField[]>();

  constructor(fields: readonly HeaderField[]) {
    this.fields = fields;
    for (const f of fields) {
      const list = this.byKey.get(f.key);
      if (list) list.push(f);
      else this.byKey.set(f.key, [f]);
    }
  }

  all(name: string): readonly HeaderField[] {
    return this.byKey.get(name.toLowerCase()) ?? [];
  }

  /** Topmost (most recently added) occurrence. */
  first(name: string): HeaderField | null {
    return this.all(name)[0] ?? null;
  }

  /** Names present, for families (`x-ms-exchange-organization-`). */
  withPrefix(prefix: string): HeaderField[] {
    const p = prefix.toLowerCase();
    return this.fields.filter((f) => f.key.startsWith(p));
  }
}
