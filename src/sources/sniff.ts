/**
 * Tell what a buffer holds by its content: Outlook .msg (OLE2 compound file), mbox, a MIME message, or
 * bare header text. Extensions are only a tie-breaker.
 * @module
 */

export type MessageKind = 'msg' | 'mbox' | 'eml' | 'headers' | 'unknown';

const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export function isOleCompoundFile(buf: Uint8Array): boolean {
  if (buf.length < OLE_MAGIC.length) return false;
  return OLE_MAGIC.every((b, i) => buf[i] === b);
}

/** True when the text starts like an RFC 5322 header field (`Name: value`). */
export function looksLikeHeaders(text: string): boolean {
  let t = text;
  let skipped = 0;
  while ((t.startsWith('\n') || t.startsWith('\r')) && skipped < 64) {
    t = t.slice(1);
    skipped++;
  }
  const m = /^([!-9;-~]{1,76})[ \t]*:/.exec(t.slice(0, 200));
  return m !== null;
}

/** Share of bytes that are control characters other than CR, LF, TAB (a binary junk measure). */
export function binaryRatio(buf: Uint8Array, sample = 1024): number {
  const n = Math.min(buf.length, sample);
  if (n === 0) return 0;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13)) bad++;
  }
  return bad / n;
}

function isFieldNameChar(c: number): boolean {
  return c >= 33 && c <= 126 && c !== 58;
}

/**
 * Whether the lines of a header block's head (up to its first blank line) are mostly header fields or their
 * continuations: decided by lines, not bytes, so one line of control bytes (or a few long junk lines) among real
 * fields does not make a message "binary", while binary content, whose lines are not fields, is refused.
 */
export function mostlyHeaderLines(text: string): boolean {
  let fields = 0;
  let other = 0;
  let pos = 0;
  while (pos < text.length && (text.charCodeAt(pos) === 10 || text.charCodeAt(pos) === 13)) pos++;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (lineEnd === pos) break;
    const c = text.charCodeAt(pos);
    if (c === 32 || c === 9) fields++;
    else {
      let i = pos;
      while (i < lineEnd && isFieldNameChar(text.charCodeAt(i))) i++;
      while (i < lineEnd && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
      if (i > pos && i < lineEnd && text.charCodeAt(i) === 58) fields++;
      else other++;
    }
    pos = end + 1;
  }
  return fields > 0 && fields >= other;
}

export function sniffKind(head: Uint8Array): MessageKind {
  if (isOleCompoundFile(head)) return 'msg';
  const bytes = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 8192));
  const text = bytes.toString('latin1');
  if (text.startsWith('From ') && binaryRatio(head) <= 0.05) return 'mbox';
  // A header block: its first line a field, and most of its lines fields (see mostlyHeaderLines).
  if (!looksLikeHeaders(text.slice(0, 400)) || !mostlyHeaderLines(text)) return 'unknown';
  return bytes.includes('\n\n') || bytes.includes('\n\r\n') ? 'eml' : 'headers';
}
