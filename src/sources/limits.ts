/**
 * Validated reader limits. Inputs are hostile: every size is bounded, every limit is a positive integer.
 * @module
 */
import { positiveIntegerLimits } from '../core/limits.js';

export interface ReaderLimits {
  /** Largest message file read whole (bytes). */
  maxMessageBytes: number;
  /** Largest header block (bytes). */
  maxHeaderBytes: number;
  /** Most header fields in one message. */
  maxHeaderFields: number;
  /** Most MIME parts looked at in one message. */
  maxParts: number;
  /** Deepest MIME nesting accepted. */
  maxNestingDepth: number;
}

export const DEFAULT_READER_LIMITS: ReaderLimits = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 2 * 1024 * 1024,
  maxHeaderFields: 5_000,
  maxParts: 2_000,
  maxNestingDepth: 50,
};

export function readerLimits(overrides: Partial<ReaderLimits> = {}): ReaderLimits {
  return positiveIntegerLimits('reader', DEFAULT_READER_LIMITS, overrides);
}
