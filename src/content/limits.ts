/**
 * Validated limits of content analysis. Attachments are hostile: every size and count is bounded, and hitting
 * a bound is reported (a content gap), never silently ignored. Every limit here counts work (bytes, pages,
 * operators, pixels, entries), never time, so a result never depends on the machine or its load; the only
 * clock is the sandbox's deadline (sandbox.ts), the last line of defence.
 * @module
 */
import { positiveIntegerLimits } from '../core/limits.js';

export interface ContentLimits {
  /** Largest attachment looked inside (bytes); larger ones are listed but not opened. */
  maxInspectBytes: number;
  /** Most attachments (including nested and TNEF members) inspected in one message. */
  maxInspected: number;
  /** Deepest attached message (message/rfc822) opened. */
  maxMessageDepth: number;
  /** Largest decoded image area handed to the 2-D code decoder (pixels). */
  maxImagePixels: number;
  /** Most images decoded per message. */
  maxImagesDecoded: number;
  /** Most PDF pages scanned per PDF. */
  maxPdfPages: number;
  /** Most bytes decoded from the streams of one PDF (checked before pdfjs is handed the file). */
  maxPdfDecodedBytes: number;
  /** Most bytes decoded from one PDF stream. */
  maxPdfStreamBytes: number;
  /** Most content operators scanned in one PDF, form XObjects, patterns and Type 3 glyphs expanded. */
  maxPdfOperators: number;
  /** Deepest nesting of form XObjects (and patterns, glyphs, soft masks) followed. */
  maxPdfFormDepth: number;
  /** Most archive entries listed. */
  maxArchiveEntries: number;
  /** Compression ratio of one entry above which an archive is called a decompression bomb. */
  maxArchiveRatio: number;
  /** Declared uncompressed total above which an archive is called a decompression bomb (bytes). */
  maxArchiveTotal: number;
  /** Most URLs kept per message. */
  maxUrls: number;
  /** Most characters of body text scanned for URLs and lure language. */
  maxTextChars: number;
}

export const DEFAULT_CONTENT_LIMITS: ContentLimits = {
  maxInspectBytes: 25 * 1024 * 1024,
  maxInspected: 200,
  maxMessageDepth: 5,
  maxImagePixels: 25_000_000,
  maxImagesDecoded: 40,
  maxPdfPages: 10,
  maxPdfDecodedBytes: 64 * 1024 * 1024,
  maxPdfStreamBytes: 32 * 1024 * 1024,
  maxPdfOperators: 1_000_000,
  maxPdfFormDepth: 12,
  maxArchiveEntries: 1_000,
  maxArchiveRatio: 100,
  maxArchiveTotal: 1024 * 1024 * 1024,
  maxUrls: 500,
  maxTextChars: 1_000_000,
};

export function contentLimits(overrides: Partial<ContentLimits> = {}): ContentLimits {
  return positiveIntegerLimits('content', DEFAULT_CONTENT_LIMITS, overrides);
}
