/**
 * TNEF (`application/ms-tnef`, winmail.dat): the attachments Outlook wraps inside it, per [MS-OXTNEF].
 * A small bounded reader written here because the npm TNEF packages are CLI tools with logging and argument
 * parser dependencies. It reads the attribute stream (level, id, length, data, checksum), starts a new
 * attachment at each attAttachRendData, takes the file name from attAttachTitle or, when present, the long
 * file name (PidTagAttachLongFilename) in the attAttachment MAPI property block, and the bytes from
 * attAttachData. Every length is checked against the buffer; a bad stream ends the walk with an error and
 * keeps what was read so far.
 * @module
 */

export interface TnefAttachment {
  name: string | null;
  data: Uint8Array;
}

export interface TnefResult {
  attachments: TnefAttachment[];
  error: string | null;
}

const TNEF_SIGNATURE = 0x223e9f78;
const LVL_ATTACHMENT = 0x02;
const ATT_ATTACH_REND_DATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
const ATT_ATTACHMENT = 0x00069005;
const PID_ATTACH_LONG_FILENAME = 0x3707;
const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;

export function isTnef(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && readU32(bytes, 0) === TNEF_SIGNATURE;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
}
function readU16(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder('latin1').decode(end >= 0 ? b.subarray(0, end) : b);
}

/** Long file name from an attAttachment MAPI property block, or `null` (unknown property types end the walk). */
function longFileName(b: Uint8Array): string | null {
  if (b.length < 4) return null;
  const count = readU32(b, 0);
  let o = 4;
  for (let i = 0; i < Math.min(count, 500) && o + 4 <= b.length; i++) {
    const type = readU16(b, o);
    const id = readU16(b, o + 2);
    o += 4;
    if (id >= 0x8000) {
      // Named property: GUID, kind, then an id or a name.
      if (o + 20 > b.length) return null;
      const kind = readU32(b, o + 16);
      o += 20;
      if (kind === 0) o += 4;
      else {
        const len = readU32(b, o);
        o += 4 + len + ((4 - (len % 4)) % 4);
      }
    }
    const fixed: Record<number, number> = { 2: 4, 3: 4, 4: 4, 5: 8, 6: 8, 7: 8 };
    const multi = (type & 0x1000) !== 0;
    const base = type & ~0x1000;
    if (!multi && base in fixed) {
      o += Math.max(4, fixed[base] ?? 4);
      continue;
    }
    if (!multi && (base === 0x000b || base === 0x000a)) {
      o += 4;
      continue;
    }
    if (!multi && (base === 0x0040 || base === 0x0014)) {
      o += 8;
      continue;
    }
    if (base === PT_STRING8 || base === PT_UNICODE || base === 0x0102 || base === 0x000d || base === 0x0048) {
      if (o + 4 > b.length) return null;
      const values = base === 0x0048 ? 1 : readU32(b, o);
      if (base !== 0x0048) o += 4;
      for (let v = 0; v < Math.min(values, 100); v++) {
        if (base === 0x0048) {
          o += 16;
          continue;
        }
        if (o + 4 > b.length) return null;
        const len = readU32(b, o);
        o += 4;
        if (o + len > b.length) return null;
        if (id === PID_ATTACH_LONG_FILENAME && v === 0) {
          const raw = b.subarray(o, o + len);
          const text =
            base === PT_UNICODE ? new TextDecoder('utf-16le').decode(raw) : new TextDecoder('latin1').decode(raw);
          return text.replace(/\0+$/, '') || null;
        }
        o += len + ((4 - (len % 4)) % 4);
      }
      continue;
    }
    return null;
  }
  return null;
}

export function readTnef(bytes: Uint8Array, opts: { maxAttachments: number }): TnefResult {
  const out: TnefResult = { attachments: [], error: null };
  if (!isTnef(bytes)) return { attachments: [], error: 'not a TNEF stream (bad signature)' };
  let o = 6;
  let current: { name: string | null; data: Uint8Array | null } | null = null;
  const flush = () => {
    if (current?.data) out.attachments.push({ name: current.name, data: current.data });
    current = null;
  };
  while (o < bytes.length) {
    if (o + 9 > bytes.length) {
      out.error = `truncated attribute header at byte ${o}`;
      break;
    }
    const level = bytes[o] ?? 0;
    const id = readU32(bytes, o + 1);
    const len = readU32(bytes, o + 5);
    const start = o + 9;
    const end = start + len;
    if (end + 2 > bytes.length) {
      out.error = `attribute 0x${id.toString(16)} at byte ${o} runs past the end of the stream`;
      break;
    }
    const data = bytes.subarray(start, end);
    if (level === LVL_ATTACHMENT) {
      if (id === ATT_ATTACH_REND_DATA) {
        flush();
        if (out.attachments.length >= opts.maxAttachments) {
          out.error = `only the first ${opts.maxAttachments} attachments were read`;
          return out;
        }
        current = { name: null, data: null };
      } else if (current) {
        const c: { name: string | null; data: Uint8Array | null } = current;
        if (id === ATT_ATTACH_TITLE && c.name === null) c.name = cString(data) || null;
        else if (id === ATT_ATTACH_DATA) c.data = data;
        else if (id === ATT_ATTACHMENT) c.name = longFileName(data) ?? c.name;
      }
    }
    o = end + 2;
  }
  flush();
  return out;
}
