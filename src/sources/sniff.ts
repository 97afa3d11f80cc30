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

/** Share of bytes that are control characters other than CR, LF, TAB (binary junk detector). */
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

export function sniffKind(head: Uint8Array): MessageKind {
  if (isOleCompoundFile(head)) return 'msg';
  if (binaryRatio(head) > 0.05) return 'unknown';
  const bytes = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 8192));
  if (bytes.subarray(0, 5).toString('latin1') === 'From ') return 'mbox';
  if (!looksLikeHeaders(bytes.subarray(0, 400).toString('latin1'))) return 'unknown';
  return bytes.includes('\n\n') || bytes.includes('\n\r\n') ? 'eml' : 'headers';
}
