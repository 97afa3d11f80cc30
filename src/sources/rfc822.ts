/**
 * RFC 822 / MIME messages (and bare header text) → evidence. Headers go through dsguard's own header model
 * (raw lines, order, duplicates kept); bodies and attachments through postal-mime, with validated limits.
 * @module
 */
import type { Email } from 'postal-mime';
import type { AttachmentEvidence, MessageEvidence, SourceKind } from '../core/evidence.js';
import { boundValue } from '../core/finding.js';
import { parseHeaderBlock } from '../core/headers/header-block.js';
import { evidenceFromHeaders } from '../core/headers/message-evidence.js';
import { failure, ok, type Result } from '../core/result.js';
import type { ReaderLimits } from './limits.js';

/** A message's evidence, or an `input` failure: not mail, over a limit, MIME structure rejected. */
export type ParseResult = Result<{ evidence: MessageEvidence }>;

/**
 * Looks into a parsed message's content and adds what it finds (2-D codes, URLs, inner file names) to the
 * evidence. Content analysers run only on full parses; they must bound their own time and memory.
 */
export interface ContentAnalyzer {
  readonly name: string;
  analyze(email: Email, evidence: MessageEvidence): Promise<void>;
}

export interface Rfc822Options {
  input: string;
  sourceKind: SourceKind;
  /** Read only the header block: fast triage, no attachment signals. */
  headersOnly: boolean;
  limits: ReaderLimits;
  analyzers?: readonly ContentAnalyzer[];
}

/**
 * Offset just past the blank line that ends the header block, or -1 when there is none. Native search for
 * the line-ending style of the first line (CRLF or LF), then the other style, so a CRLF message is not
 * scanned to its end for "\n\n".
 */
export function headerEnd(buf: Uint8Array, limit = buf.length): number {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const view = limit < b.length ? b.subarray(0, limit) : b;
  const firstLf = view.indexOf(10);
  if (firstLf < 0) return -1;
  const crlfFirst = firstLf > 0 && view[firstLf - 1] === 13;
  const find = (crlf: boolean, within: Buffer): number => {
    const at = within.indexOf(crlf ? '\n\r\n' : '\n\n');
    return at < 0 ? -1 : at + (crlf ? 3 : 2);
  };
  const a = find(crlfFirst, view);
  if (a < 0) return find(!crlfFirst, view);
  // Mixed line endings: a blank line of the other style may come first; it can only be before `a`.
  const b2 = find(!crlfFirst, view.subarray(0, a));
  return b2 >= 0 ? b2 : a;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export async function evidenceFromRfc822(buf: Uint8Array, opts: Rfc822Options): Promise<ParseResult> {
  const { limits } = opts;
  const end = headerEnd(buf, limits.maxHeaderBytes + 4);
  if (end < 0 && buf.length > limits.maxHeaderBytes) {
    return failure('input', `header block exceeds ${limits.maxHeaderBytes} bytes`);
  }
  const headerBytes = end < 0 ? buf : buf.subarray(0, end);
  const block = parseHeaderBlock(decoder.decode(headerBytes), {
    maxHeaderBytes: limits.maxHeaderBytes,
    maxFields: limits.maxHeaderFields,
  });
  if (block.status === 'error') return failure('input', block.error);
  if (block.fields.length === 0) return failure('input', 'no header fields found: not a mail message');
  const evidence = evidenceFromHeaders(block.fields, { input: opts.input, sourceKind: opts.sourceKind });
  if (block.malformedLines > 0) evidence.notes.push(`${block.malformedLines} malformed header line(s) skipped`);

  const hasBody = end >= 0 && end < buf.length;
  if (opts.headersOnly || !hasBody) return ok({ evidence });

  let email: Email;
  try {
    // Imported on the first body parsed: header triage (--headers-only) never loads the MIME parser.
    const { default: PostalMime } = await import('postal-mime');
    email = await PostalMime.parse(buf, {
      attachmentEncoding: 'arraybuffer',
      maxHeadersSize: limits.maxHeaderBytes,
      maxNestingDepth: limits.maxNestingDepth,
      maxRfc822NestingDepth: 5,
    });
  } catch (error) {
    return failure('input', `MIME structure rejected: ${error instanceof Error ? error.message : String(error)}`);
  }
  evidence.contentInspected = true;
  evidence.attachments = attachmentsOf(email, opts.input, limits, evidence);
  for (const analyzer of opts.analyzers ?? []) {
    try {
      await analyzer.analyze(email, evidence);
    } catch (error) {
      evidence.notes.push(`${analyzer.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return ok({ evidence });
}

function attachmentsOf(email: Email, input: string, limits: ReaderLimits, ev: MessageEvidence): AttachmentEvidence[] {
  const out: AttachmentEvidence[] = [];
  const list = email.attachments;
  if (list.length > limits.maxParts)
    ev.notes.push(`only the first ${limits.maxParts} of ${list.length} attachments were read`);
  for (let i = 0; i < Math.min(list.length, limits.maxParts); i++) {
    const a = list[i]!;
    const content = a.content;
    const bytes =
      typeof content === 'string'
        ? Buffer.from(content)
        : content instanceof ArrayBuffer
          ? new Uint8Array(content)
          : content;
    const name = a.filename ? boundValue(a.filename, 255) : null;
    out.push({
      name,
      contentType: (a.mimeType || 'application/octet-stream').toLowerCase(),
      size: bytes.byteLength,
      // node:crypto loaded on the first attachment: header triage never needs it (bench/startup.mjs).
      sha256: process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex'),
      disposition: a.disposition ?? null,
      qrUrls: [],
      ref: {
        source: input,
        field: 'attachment',
        value: `${name ?? '(unnamed)'} (${a.mimeType}, ${bytes.byteLength} bytes)`,
        location: `part ${i + 1}`,
      },
    });
  }
  return out;
}
