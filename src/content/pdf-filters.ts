/**
 * The stream filters the pre-scan decodes itself, each under a byte cap (Flate as pdfjs reads it, LZW,
 * RunLength, ASCIIHex, ASCII85), and the test that tells a decompression bomb from a merely large stream.
 * @module
 */
import { constants, inflateRawSync } from 'node:zlib';

/** Worst-case output of a Flate stream that fails part way (deflate expands at most 1032×). */
export const DEFLATE_MAX_RATIO = 1032;

/**
 * Whether the first 64 KiB of a Flate stream inflate more than 100-fold (deterministic: the same bytes, the same
 * answer). Only asked once a stream went over a budget, to tell a decompression bomb from a merely large stream.
 */
export function expandsLikeABomb(raw: Uint8Array): boolean {
  const head = raw.subarray(0, 64 * 1024);
  const out = inflate(head, head.length * 100 + 1);
  return out !== null && out.length > head.length * 100;
}

/** Inflate a zlib stream as pdfjs does (header checked, checksum not), at most `cap` bytes; null if corrupt. */
export function inflate(data: Uint8Array, cap: number): Uint8Array | null {
  if (data.length < 2) return new Uint8Array(0);
  const cmf = data[0]!;
  const flg = data[1]!;
  if ((cmf & 0x0f) !== 8 || ((cmf << 8) + flg) % 31 !== 0 || flg & 0x20) return new Uint8Array(0);
  try {
    return inflateRawSync(data.subarray(2), { maxOutputLength: cap, finishFlush: constants.Z_SYNC_FLUSH });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return new Uint8Array(cap);
    return null;
  }
}

/** LZW as in PDF (early change 1), at most `cap` bytes (stops there). */
export function lzw(data: Uint8Array, cap: number): Uint8Array {
  const out: number[] = [];
  const prefix = new Int32Array(4097);
  const suffix = new Uint8Array(4097);
  const length = new Uint16Array(4097);
  let next = 258;
  let width = 9;
  let prev = -1;
  let bits = 0;
  let acc = 0;
  let written = 0;
  const stack = new Uint8Array(4097);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    length[i] = 1;
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i++) {
    acc = ((acc << 8) | data[i]!) >>> 0;
    bits += 8;
    while (bits >= width) {
      const code = (acc >>> (bits - width)) & ((1 << width) - 1);
      bits -= width;
      acc &= (1 << bits) - 1;
      if (code === 256) {
        next = 258;
        width = 9;
        prev = -1;
        continue;
      }
      if (code === 257) return finish();
      let c = code;
      let first = 0;
      if (c < next && (c < 256 || c >= 258)) {
        // known code
      } else if (c === next && prev >= 0) {
        c = prev;
      } else return finish();
      let n = 0;
      let k = c;
      while (k >= 0 && n < 4097) {
        stack[n++] = suffix[k]!;
        k = prefix[k]!;
      }
      first = stack[n - 1]!;
      for (let j = n - 1; j >= 0; j--) out.push(stack[j]!);
      if (code === next && prev >= 0) out.push(first);
      written += n + (code === next ? 1 : 0);
      if (out.length > 65536) {
        chunks.push(Uint8Array.from(out));
        out.length = 0;
      }
      if (written >= cap) return finish();
      if (prev >= 0 && next < 4096) {
        prefix[next] = prev;
        suffix[next] = first;
        length[next] = Math.min(4096, length[prev]! + 1);
        next++;
      }
      prev = code;
      if (next + 1 >= 1 << width && width < 12) width++;
    }
  }
  return finish();
  function finish(): Uint8Array {
    chunks.push(Uint8Array.from(out));
    return Buffer.concat(chunks).subarray(0, cap);
  }
}

export function runLength(data: Uint8Array, cap: number): Uint8Array {
  const out = Buffer.alloc(Math.min(cap, data.length * 64 + 1));
  let o = 0;
  for (let i = 0; i < data.length && o < out.length; ) {
    const n = data[i++]!;
    if (n === 128) break;
    if (n < 128) {
      for (let k = 0; k <= n && i < data.length && o < out.length; k++) out[o++] = data[i++]!;
    } else {
      const v = data[i++] ?? 0;
      for (let k = 0; k < 257 - n && o < out.length; k++) out[o++] = v;
    }
  }
  return out.subarray(0, o);
}

export function asciiHex(data: Uint8Array): Uint8Array {
  const out = Buffer.alloc((data.length >> 1) + 1);
  let o = 0;
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    const v =
      c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1;
    if (v < 0) continue;
    if (hi < 0) hi = v;
    else {
      out[o++] = (hi << 4) | v;
      hi = -1;
    }
  }
  if (hi >= 0) out[o++] = hi << 4;
  return out.subarray(0, o);
}

export function ascii85(data: Uint8Array, cap: number): Uint8Array {
  const out = Buffer.alloc(Math.min(cap, data.length * 4 + 4));
  let o = 0;
  let n = 0;
  let acc = 0;
  for (let i = 0; i < data.length && o < out.length; i++) {
    const c = data[i]!;
    if (c === 0x7e) break;
    if (c === 0x7a && n === 0) {
      for (let k = 0; k < 4 && o < out.length; k++) out[o++] = 0;
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    acc = acc * 85 + (c - 0x21);
    if (++n === 5) {
      for (let k = 3; k >= 0 && o < out.length; k--) out[o++] = (acc >>> (k * 8)) & 255;
      n = 0;
      acc = 0;
    }
  }
  return out.subarray(0, o);
}
