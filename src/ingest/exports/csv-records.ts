/**
 * A strict CSV record scanner for exports (RFC 4180: fields separated by one delimiter, a quoted field has its
 * quotes doubled inside, records end at LF or CRLF). Text is fed in pieces as it is decoded; each complete record
 * is handed on with the line it starts on. A record that breaks the rules is handed on with an error naming its
 * line, never read another way:
 *
 * - a quote inside an unquoted field (`Invo"ice`), or anything but a delimiter or a line end after a closing
 *   quote (`"Invoice "urgent`): the record is malformed, and reading goes on at the line after the one it started
 *   on, so a stray quote costs its own line, not the records after it. The lines the malformed record ran over
 *   are then read one by one as records that cannot run over lines (reported if they are not records), so no
 *   line is read twice as part of a long record: linear whatever the quotes;
 * - a quoted field still open at the end of the input (a cut export, a stray quote): the same;
 * - a record with more or fewer fields than the header: rejected whole (its quoting was sound, so it ends where
 *   it ends).
 *
 * Blank and whitespace-only lines are no records. Work is linear in the input: every character is looked at a
 * bounded number of times (a record still open at the end of a piece is tried again only once the text held has
 * doubled), and memory holds one record at most `maxRecordChars` long.
 * @module
 */

const QUOTE = 34;
const LF = 10;
const CR = 13;

export interface CsvScanRecord {
  fields: string[];
  /** 1-based line of the input the record starts on. */
  line: number;
  /** Why the record cannot be read; `fields` is then empty or what was read of it. */
  error?: string;
}

export interface CsvScannerOptions {
  /** The delimiter, one character. */
  delimiter: string;
  /** Fields every record must have (the header's). */
  columns: number;
  /** Longest record (characters, line end included); past it {@link CsvRecordTooLong} is thrown. */
  maxRecordChars: number;
  /** Line number of the first character fed (after the header). */
  firstLine: number;
}

/** A record longer than `maxRecordChars` is still open: its end cannot be known without holding more. */
export class CsvRecordTooLong extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`line ${line}: record longer than ${limit} characters (an unterminated quote?)`);
  }
}

type Outcome =
  | { kind: 'record'; end: number; fields: string[]; lines: number }
  | { kind: 'blank'; end: number }
  | { kind: 'malformed'; why: string; at: number }
  | { kind: 'incomplete' };

const INCOMPLETE: Outcome = { kind: 'incomplete' };

export class CsvRecordScanner {
  private buf = '';
  private pos = 0;
  private line: number;
  /** Characters held from `pos` below which an incomplete record is not tried again. */
  private retryAt = 0;
  /** Position of the next LF at or after the last quoted field (-2: not known). */
  private nextNl = -2;
  /** Records starting before this position are read within their line (after a malformed record). */
  private recoverUntil = -1;
  /** A malformed record was handed on before its line ended: text is dropped up to the next line end. */
  private skipLine = false;
  private readonly delim: number;

  constructor(private readonly opts: CsvScannerOptions) {
    if (opts.delimiter.length !== 1) throw new Error('CsvRecordScanner: the delimiter is one character');
    this.delim = opts.delimiter.charCodeAt(0);
    this.line = opts.firstLine;
  }

  /** Characters held: the start of a record not complete yet. */
  get held(): number {
    return this.buf.length - this.pos;
  }

  /** Feed the next piece of text; every record it completes goes to `emit`, in order. */
  push(piece: string, emit: (record: CsvScanRecord) => void): void {
    let text = piece;
    if (this.skipLine) {
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      text = text.slice(nl + 1);
      this.skipLine = false;
      this.line++;
    }
    this.buf = this.pos === 0 ? this.buf + text : this.buf.slice(this.pos) + text;
    this.recoverUntil -= this.pos;
    this.pos = 0;
    this.nextNl = -2;
    // An open record is tried again once the text has doubled, or has gone past the limit (to stop there).
    if (this.held < this.retryAt && this.held <= this.opts.maxRecordChars) return;
    this.retryAt = 0;
    this.scan(false, emit);
    if (this.held > this.opts.maxRecordChars) throw new CsvRecordTooLong(this.line, this.opts.maxRecordChars);
  }

  /** The end of the input: what is held is the last record (without a line end, or with a quote never closed). */
  end(emit: (record: CsvScanRecord) => void): void {
    this.nextNl = -2;
    this.scan(true, emit);
    this.buf = '';
    this.pos = 0;
  }

  private scan(final: boolean, emit: (record: CsvScanRecord) => void): void {
    while (this.pos < this.buf.length) {
      const start = this.pos;
      const r = this.record(start, final);
      if (r.kind === 'incomplete') {
        this.retryAt = 2 * this.held;
        return;
      }
      // A record (or a blank line) longer than the limit, or malformed only past it, stops the input whether or not
      // it was seen whole: the same at any read size.
      const reach = r.kind === 'malformed' ? r.at - start + 1 : r.end - start;
      if (reach > this.opts.maxRecordChars) throw new CsvRecordTooLong(this.line, this.opts.maxRecordChars);
      if (r.kind === 'blank') {
        this.pos = r.end;
        this.line++;
        continue;
      }
      if (r.kind === 'malformed') {
        // Go on at the next line: a malformed record is taken to be its first line.
        const nl = this.buf.indexOf('\n', start);
        emit({ fields: [], line: this.line, error: `malformed CSV on line ${this.line}: ${r.why}` });
        if (nl < 0 && !final) {
          // Its line goes on in text still to come: drop it as it comes rather than hold it.
          this.buf = '';
          this.pos = 0;
          this.recoverUntil = -1;
          this.skipLine = true;
          return;
        }
        this.pos = nl < 0 ? this.buf.length : nl + 1;
        this.line++;
        // The lines up to where the error was seen are read again, each within itself.
        if (r.at > this.pos) {
          const end = this.buf.indexOf('\n', r.at);
          this.recoverUntil = Math.max(this.recoverUntil, end < 0 ? this.buf.length : end + 1);
        }
        this.nextNl = -2;
        continue;
      }
      const rec: CsvScanRecord = { fields: r.fields, line: this.line };
      if (r.fields.length !== this.opts.columns) {
        rec.error = `wrong column count on line ${this.line}: ${r.fields.length} field(s) where the header has ${this.opts.columns}`;
      }
      emit(rec);
      this.pos = r.end;
      this.line += r.lines;
    }
  }

  /** Line ends in `[from, to)` of the buffer, through a cached next-LF position (linear over a record). */
  private linesIn(from: number, to: number): number {
    const s = this.buf;
    if (this.nextNl !== -1 && this.nextNl < from) this.nextNl = s.indexOf('\n', from);
    let n = 0;
    while (this.nextNl >= 0 && this.nextNl < to) {
      n++;
      this.nextNl = s.indexOf('\n', this.nextNl + 1);
    }
    return n;
  }

  /** The record starting at `start` (or a blank line), or why it cannot be read. */
  private record(start: number, final: boolean): Outcome {
    const s = this.buf;
    const n = s.length;
    const d = this.delim;
    const fields: string[] = [];
    let lines = 0;
    let p = start;
    let quoted = false;
    // Recovering: a record ends on its line (a quote still open there is malformed).
    let lineEnd = n;
    if (start < this.recoverUntil) {
      const nl = s.indexOf('\n', start);
      if (nl >= 0) lineEnd = nl;
    }
    for (;;) {
      if (p < n && s.charCodeAt(p) === QUOTE) {
        quoted = true;
        let q = p + 1;
        let value = '';
        for (;;) {
          const j = s.indexOf('"', q);
          if (lineEnd < n && (j < 0 || j > lineEnd)) {
            return { kind: 'malformed', why: 'a quoted field is not closed on its line', at: lineEnd };
          }
          if (j < 0 || (j + 1 >= n && !final)) {
            if (!final) return INCOMPLETE;
            return {
              kind: 'malformed',
              why: 'a quoted field is not closed at the end of the file (a cut export?)',
              at: n,
            };
          }
          if (s.charCodeAt(j + 1) === QUOTE) {
            value += s.slice(q, j + 1);
            q = j + 2;
            continue;
          }
          value += s.slice(q, j);
          lines += this.linesIn(p, j);
          p = j + 1;
          break;
        }
        fields.push(value);
        if (p >= n) {
          if (!final) return INCOMPLETE;
          return { kind: 'record', end: n, fields, lines: lines + 1 };
        }
        const c = s.charCodeAt(p);
        if (c === d) {
          p++;
          continue;
        }
        if (c === LF) return { kind: 'record', end: p + 1, fields, lines: lines + 1 };
        if (c === CR) {
          if (p + 1 >= n) {
            if (!final) return INCOMPLETE;
            return { kind: 'record', end: n, fields, lines: lines + 1 };
          }
          if (s.charCodeAt(p + 1) === LF) return { kind: 'record', end: p + 2, fields, lines: lines + 1 };
        }
        return { kind: 'malformed', why: `${describeChar(c)} after a closing quote`, at: p };
      }
      let k = p;
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c === d || c === LF || c === QUOTE) break;
      }
      if (k >= n) {
        if (!final) return INCOMPLETE;
        let e = n;
        if (e > p && s.charCodeAt(e - 1) === CR) e--;
        fields.push(s.slice(p, e));
        return this.finish(fields, quoted, n, lines + 1);
      }
      const c = s.charCodeAt(k);
      if (c === QUOTE) return { kind: 'malformed', why: 'a quote inside an unquoted field', at: k };
      if (c === d) {
        fields.push(s.slice(p, k));
        p = k + 1;
        continue;
      }
      let e = k;
      if (e > p && s.charCodeAt(e - 1) === CR) e--;
      fields.push(s.slice(p, e));
      return this.finish(fields, quoted, k + 1, lines + 1);
    }
  }

  private finish(fields: string[], quoted: boolean, end: number, lines: number): Outcome {
    // A blank or whitespace-only line is no record.
    if (!quoted && fields.length === 1 && fields[0]!.trim().length === 0) return { kind: 'blank', end };
    return { kind: 'record', end, fields, lines };
  }
}

function describeChar(c: number): string {
  if (c === 0x20) return 'a space';
  if (c >= 0x21 && c <= 0x7e) return `"${String.fromCharCode(c)}"`;
  return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
