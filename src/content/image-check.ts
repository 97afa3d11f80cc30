/**
 * Image data checked against the image's own header before a decoder sees it. The pixel limit reads only the
 * declared size; a PNG whose IHDR says 100x100 but whose IDAT inflates to 900 MB passes it, and the decoder
 * (stb_image inside zxing-wasm) grows its buffer until the data ends. Here the IDAT stream is inflated with a
 * cap of what the header allows (rows of width x channels x depth, plus one filter byte a row, over the seven
 * passes when interlaced; 1 KiB of slack for encoders that pad): past that the image is not decoded. Counted in
 * bytes, never in time.
 * @module
 */
import { constants, inflateRawSync } from 'node:zlib';
import type { ImageHeader } from './image-header.js';

export interface ImageProblem {
  kind: 'bomb' | 'budget';
  what: string;
}

/** Extra inflated bytes tolerated past the exact size (encoders that pad their data): a bomb needs far more. */
export const PNG_SLACK_BYTES = 1024;

/** Most PNG chunks walked (a real image has a handful; IDAT split in 8 KiB pieces gives a few thousand). */
const MAX_PNG_CHUNKS = 100_000;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bytes of filtered scanlines a PNG of this size must inflate to. */
export function pngRawBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8)));
  if (!interlaced) return rows(width, height);
  // Adam7: [x start, y start, x step, y step] per pass.
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    total += rows(Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy));
  }
  return total;
}

/**
 * Most scan work in a JPEG, as pixels x scans: a progressive JPEG revisits every pixel once a scan, and a file
 * of a few kilobytes can declare thousands of scans. A usual progressive JPEG has about ten.
 */
export const MAX_JPEG_SCANS = 100;
export const MAX_JPEG_SCAN_PIXELS = 250_000_000;

/** Start-of-scan markers in a JPEG, counted in one pass (entropy-coded data skipped to the next marker). */
export function jpegScans(b: Uint8Array): number {
  let scans = 0;
  let o = 2;
  while (o + 3 < b.length) {
    if (b[o] !== 0xff) {
      o++;
      continue;
    }
    const marker = b[o + 1]!;
    if (marker === 0xff || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xd9) break;
    const len = ((b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    if (marker === 0xda) scans++;
    o += 2 + Math.max(2, len);
  }
  return scans;
}

/** A reason not to decode the image, or null. Linear in the file; never throws. */
export function checkImageData(bytes: Uint8Array, header: ImageHeader): ImageProblem | null {
  if (header.format === 'jpeg') {
    const scans = jpegScans(bytes);
    const pixels = header.width * header.height;
    if (scans > MAX_JPEG_SCANS || scans * pixels > MAX_JPEG_SCAN_PIXELS) {
      return {
        kind: 'budget',
        what: `JPEG of ${header.width}x${header.height} pixels in ${scans} scans is over the decoding budget (${MAX_JPEG_SCANS} scans, ${MAX_JPEG_SCAN_PIXELS} pixel-scans): not decoded`,
      };
    }
    return null;
  }
  if (header.format !== 'png') return null;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 33) return null;
  const depth = b[24]!;
  const colour = b[25]!;
  const interlaced = b[28] === 1;
  const channels = CHANNELS[colour];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) {
    return { kind: 'budget', what: `PNG header has colour type ${colour} / bit depth ${depth}: not decoded` };
  }
  const expected = pngRawBytes(header.width, header.height, channels * depth, interlaced);
  const idat: Buffer[] = [];
  let o = 8;
  for (let n = 0; n < MAX_PNG_CHUNKS && o + 8 <= b.length; n++) {
    const len = b.readUInt32BE(o);
    const type = b.toString('latin1', o + 4, o + 8);
    const start = o + 8;
    const end = Math.min(b.length, start + len);
    if (type === 'IDAT') idat.push(b.subarray(start, end));
    if (type === 'IEND') break;
    o = end + 4;
  }
  if (idat.length === 0) return null;
  const data = Buffer.concat(idat);
  // The zlib header as decoders read it; the checksum is not checked (stb_image does not either), so a wrong
  // one cannot end the count before the size does.
  if (data.length < 2 || (data[0]! & 0x0f) !== 8 || ((data[0]! << 8) + data[1]!) % 31 !== 0 || data[1]! & 0x20) {
    return null;
  }
  try {
    inflateRawSync(data.subarray(2), {
      maxOutputLength: expected + PNG_SLACK_BYTES,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      return {
        kind: 'bomb',
        what: `PNG data inflates past the ${expected} bytes its ${header.width}x${header.height} header allows: not decoded`,
      };
    }
    // Corrupt data: the decoder reports it (and cannot inflate past the error either).
  }
  return null;
}
