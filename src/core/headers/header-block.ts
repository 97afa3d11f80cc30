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
  const out = { ...DEFAULT_HEADER_LIMITS, ...limits };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new TypeError(`header limit ${k} must be a positive integer, got ${String(v)}`);
    }
  }
  return out;
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
  let current: { name: string; lines: string[]; line: number } | null = null;
  const n = text.length;

  const flush = (): string | null => {
    if (!current) return null;
    const lines = current.lines;
    const head = lines[0]!;
    const colon = head.indexOf(':');
    let value: string;
    let raw: string;
    if (lines.length === 1) {
      value = head.slice(colon + 1).trim();
      raw = head;
    } else {
      value = (head.slice(colon + 1) + lines.slice(1).join('')).trim();
      raw = lines.join('\n');
    }
    fields.push({
      name: current.name,
      key: current.name.toLowerCase(),
      value,
      raw,
      line: current.line,
      index: fields.length,
    });
    current = null;
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
    let line = text.slice(pos, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    lineNo++;
    const next = end + 1;
    if (line.length === 0) {
      bodyOffset = Math.min(next, n);
      break;
    }
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (current) current.lines.push(line);
      else malformed++;
    } else {
      let i = 0;
      while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
      // Allow whitespace between the name and the colon (obsolete syntax, RFC 5322 4.5).
      let j = i;
      while (j < line.length && (line.charCodeAt(j) === 32 || line.charCodeAt(j) === 9)) j++;
      if (i > 0 && line.charCodeAt(j) === 58) {
        const err = flush();
        if (err) return { status: 'error', error: err };
        current = { name: line.slice(0, i), lines: [j > i ? line.slice(0, i) + line.slice(j) : line], line: lineNo };
      } else {
        malformed++;
        // A line that is neither a field nor a continuation ends a header block only when nothing parsed yet
        // looks like headers; otherwise keep going (pasted headers often carry stray lines).
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
