/**
 * Outlook .msg (OLE2 compound file) → evidence, via @kenjiuno/msgreader. The headers come from the
 * transport headers property (PidTagTransportMessageHeaders); a .msg without them (a draft, or saved by a
 * client that drops them) cannot show how the message got in, and the result says so.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Attachment, Email } from 'postal-mime';
import { sharedSandbox } from '../content/sandbox.js';
import type { AttachmentEvidence } from '../core/evidence.js';
import { boundValue } from '../core/finding.js';
import type { ReaderLimits } from './limits.js';
import { type ContentAnalyzer, evidenceFromRfc822, type ParseResult } from './rfc822.js';

/**
 * The compound file is checked (every chain acyclic, in range and as long as its declared size; see
 * content/cfb-check.ts) and read in the content sandbox: a container built to make the reader loop or
 * allocate gigabytes costs a one-line error for this input, never the process.
 */
export async function evidenceFromMsg(
  buf: Uint8Array,
  opts: { input: string; headersOnly: boolean; limits: ReaderLimits; analyzers?: readonly ContentAnalyzer[] },
): Promise<ParseResult> {
  const outcome = await sharedSandbox().run({
    op: 'readMsg',
    bytes: buf,
    maxParts: opts.limits.maxParts,
    headersOnly: opts.headersOnly,
  });
  if (outcome.status === 'stopped') {
    return { status: 'error', kind: 'input', error: `Outlook .msg reader ${outcome.detail}: not read` };
  }
  if (outcome.value.status === 'error') return { status: 'error', kind: 'input', error: outcome.value.error };
  const data = outcome.value.msg;
  const headers = data.headers;
  if (!headers || headers.trim().length === 0) {
    return {
      status: 'error',
      kind: 'input',
      error: 'the .msg has no transport headers (a draft, or saved without them): nothing tells how it arrived',
    };
  }
  const text = headers.endsWith('\n') ? headers : `${headers}\r\n`;
  const result = await evidenceFromRfc822(Buffer.from(text, 'utf8'), {
    input: opts.input,
    sourceKind: 'msg',
    headersOnly: true,
    limits: opts.limits,
  });
  if (result.status === 'error' || opts.headersOnly) return result;
  const ev = result.evidence;
  ev.contentInspected = true;
  const attachments: AttachmentEvidence[] = [];
  const parts: Attachment[] = [];
  const list = data.attachments ?? [];
  for (let i = 0; i < list.length; i++) {
    const att = list[i]!;
    let sha256: string | null = null;
    let size = att.declaredSize;
    const bytes: Uint8Array = att.bytes ?? new Uint8Array(0);
    if (att.bytes) {
      size = bytes.byteLength;
      sha256 = createHash('sha256').update(bytes).digest('hex');
    } else {
      ev.notes.push(`attachment ${i + 1} could not be read`);
    }
    const name = att.name;
    const contentType = att.contentType;
    parts.push({
      filename: name,
      mimeType: contentType,
      disposition: 'attachment',
      content: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    });
    attachments.push({
      name: name ? boundValue(name, 255) : null,
      contentType,
      size,
      sha256,
      disposition: null,
      qrUrls: [],
      ref: {
        source: opts.input,
        field: 'attachment',
        value: `${name ?? '(unnamed)'} (${contentType}, ${size} bytes)`,
        location: `attachment ${i + 1}`,
      },
    });
  }
  ev.attachments = attachments;
  // Content analysers work on postal-mime's message shape: give them the .msg's bodies and attachments.
  const analyzers = opts.analyzers ?? [];
  if (analyzers.length > 0) {
    const email: Email = { headers: [], headerLines: [], attachments: parts };
    if (data.body) email.text = data.body;
    if (data.bodyHtml) email.html = data.bodyHtml;
    for (const analyzer of analyzers) {
      try {
        await analyzer.analyze(email, ev);
      } catch (error) {
        ev.notes.push(`${analyzer.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return result;
}
