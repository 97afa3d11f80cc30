/**
 * 2-D code (QR, Micro QR, rMQR, Data Matrix, Aztec, PDF417, MaxiCode) decoding with zxing-wasm, fully offline:
 * the WebAssembly binary is read from the installed package (`zxing-wasm/reader/zxing_reader.wasm`) and handed
 * to the module, so it never fetches its default CDN copy (which fails offline and would tell a third party
 * that a message is being analysed). Image files are checked for format and pixel count before decoding.
 *
 * WebP, which zxing-wasm's stb_image cannot read (and which mail scanners skip), is decoded to pixels by libwebp
 * compiled to wasm (`@jsquash/webp`, its `.wasm` read from the installed package the same way), after the same
 * header and pixel-count checks: the decoder is only handed a picture whose RGBA fits the pixel limit.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ReaderOptions } from 'zxing-wasm/reader';
import { checkImageData, type ImageProblem } from './image-check.js';
import { type ImageHeader, readImageHeader } from './image-header.js';

export interface DecodedCode {
  format: string;
  text: string;
}

/** Why the sandbox has no answer: the deadline passed, the worker ran out of heap, or it died. */
export interface DecoderStop {
  cause: 'deadline' | 'memory' | 'crash';
  detail: string;
}

export type DecodeResult =
  | { status: 'ok'; codes: DecodedCode[]; image: ImageHeader | null }
  | { status: 'skipped'; reason: string; image: ImageHeader | null; problem?: ImageProblem; stopped?: DecoderStop };

/** Raw pixels: RGBA (4 bytes a pixel) or grey (1 byte a pixel). */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export interface CodeDecoder {
  /** Decode codes in an image file (PNG, JPEG, GIF, BMP). */
  decodeImageFile(bytes: Uint8Array): Promise<DecodeResult>;
  /** Decode codes in raw pixels (from a PDF page image or a drawn HTML grid). */
  decodePixels(pixels: Pixels): Promise<DecodeResult>;
}

const READER_OPTIONS: ReaderOptions = {
  formats: ['AllMatrix', 'PDF417'],
  tryHarder: true,
  tryRotate: true,
  tryInvert: true,
  tryDownscale: true,
  maxNumberOfSymbols: 16,
};

/** Formats the bundled decoder reads from encoded files (stb_image inside zxing-wasm). */
const DECODABLE_FORMATS = new Set(['png', 'jpeg', 'gif', 'bmp']);

type ReaderModule = typeof import('zxing-wasm/reader');
let modulePromise: Promise<ReaderModule> | null = null;

/** Load zxing-wasm once per process with the bundled .wasm (no network). */
function loadReader(): Promise<ReaderModule> {
  modulePromise ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('zxing-wasm/reader/zxing_reader.wasm');
    const bytes = await readFile(wasmPath);
    const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const mod = await import('zxing-wasm/reader');
    await mod.prepareZXingModule({ overrides: { wasmBinary }, fireImmediately: true });
    return mod;
  })();
  modulePromise.catch(() => {
    modulePromise = null;
  });
  return modulePromise;
}

function toRgba(p: Pixels): Uint8ClampedArray {
  if (p.channels === 4) return p.data instanceof Uint8ClampedArray ? p.data : new Uint8ClampedArray(p.data.buffer);
  const n = p.width * p.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    if (p.channels === 1) {
      const v = p.data[i] ?? 0;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    } else {
      out[o] = p.data[i * 3] ?? 0;
      out[o + 1] = p.data[i * 3 + 1] ?? 0;
      out[o + 2] = p.data[i * 3 + 2] ?? 0;
    }
    out[o + 3] = 255;
  }
  return out;
}

export function createCodeDecoder(opts: { maxImagePixels: number }): CodeDecoder {
  const { maxImagePixels } = opts;
  const decoder: CodeDecoder = {
    async decodeImageFile(bytes) {
      const image = readImageHeader(bytes);
      if (!image) return { status: 'skipped', reason: 'not a recognised image format', image: null };
      if (image.format !== 'webp' && !DECODABLE_FORMATS.has(image.format)) {
        return { status: 'skipped', reason: `${image.format.toUpperCase()} images are not decoded`, image };
      }
      if (image.width <= 0 || image.height <= 0) return { status: 'skipped', reason: 'image has no pixels', image };
      if (image.width * image.height > maxImagePixels) {
        return {
          status: 'skipped',
          reason: `image of ${image.width}x${image.height} pixels exceeds the ${maxImagePixels}-pixel limit`,
          image,
        };
      }
      if (image.format === 'webp') return decodeWebp(bytes, image, (p) => decoder.decodePixels(p));
      const problem = checkImageData(bytes, image);
      if (problem) return { status: 'skipped', reason: problem.what, image, problem };
      const mod = await loadReader();
      try {
        const results = await mod.readBarcodes(bytes, READER_OPTIONS);
        return { status: 'ok', codes: results.filter((r) => r.isValid).map(toCode), image };
      } catch (error) {
        return { status: 'skipped', reason: `decoder rejected the image: ${message(error)}`, image };
      }
    },
    async decodePixels(p) {
      if (p.width <= 0 || p.height <= 0) return { status: 'skipped', reason: 'image has no pixels', image: null };
      if (p.width * p.height > maxImagePixels) {
        return {
          status: 'skipped',
          reason: `image of ${p.width}x${p.height} pixels exceeds the ${maxImagePixels}-pixel limit`,
          image: null,
        };
      }
      if (p.data.length < p.width * p.height * p.channels) {
        return { status: 'skipped', reason: 'pixel data shorter than its dimensions', image: null };
      }
      const mod = await loadReader();
      const imageData = {
        data: toRgba(p),
        width: p.width,
        height: p.height,
        colorSpace: 'srgb',
      } as unknown as Parameters<ReaderModule['readBarcodes']>[0];
      try {
        const results = await mod.readBarcodes(imageData, READER_OPTIONS);
        return { status: 'ok', codes: results.filter((r) => r.isValid).map(toCode), image: null };
      } catch (error) {
        return { status: 'skipped', reason: `decoder rejected the image: ${message(error)}`, image: null };
      }
    },
  };
  return decoder;
}

type WebpDecode = (buffer: ArrayBuffer) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>;
let webpPromise: Promise<WebpDecode> | null = null;

/** Load libwebp's decoder once per process with the bundled .wasm (no network, no fetch). */
function loadWebp(): Promise<WebpDecode> {
  webpPromise ??= (async () => {
    const require = createRequire(import.meta.url);
    const bytes = await readFile(require.resolve('@jsquash/webp/codec/dec/webp_dec.wasm'));
    // The lib has no DOM or WebAssembly types here: the one call is typed by hand.
    const wasmApi = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }).WebAssembly;
    const wasm = await wasmApi.compile(bytes);
    const mod = (await import('@jsquash/webp/decode.js')) as unknown as {
      init(module: object): Promise<void>;
      default: WebpDecode;
    };
    await mod.init(wasm);
    return mod.default;
  })();
  webpPromise.catch(() => {
    webpPromise = null;
  });
  return webpPromise;
}

/**
 * A WebP file to pixels, then to the code reader. The header's size was checked against the pixel limit by the
 * caller; libwebp decodes the first frame of a still image (an animated WebP is refused by it, and said so).
 */
async function decodeWebp(
  bytes: Uint8Array,
  image: ImageHeader,
  decodePixels: (p: Pixels) => Promise<DecodeResult>,
): Promise<DecodeResult> {
  let pixels: Pixels;
  try {
    const decode = await loadWebp();
    const copy = bytes.slice().buffer as ArrayBuffer;
    const out = await decode(copy);
    if (out.width !== image.width || out.height !== image.height) {
      return {
        status: 'skipped',
        reason: `WebP not decoded: its header says ${image.width}x${image.height}, its data ${out.width}x${out.height}`,
        image,
      };
    }
    pixels = { data: out.data, width: out.width, height: out.height, channels: 4 };
  } catch (error) {
    return {
      status: 'skipped',
      reason: `WebP not decoded: libwebp rejected it (${message(error)}): a code in it is not seen`,
      image,
    };
  }
  const r = await decodePixels(pixels);
  return { ...r, image };
}

function toCode(r: { format: string; text: string }): DecodedCode {
  return { format: r.format, text: r.text };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
