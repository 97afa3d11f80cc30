/**
 * An Outlook .msg read into plain data (transport headers, bodies, attachments) with @kenjiuno/msgreader, after
 * its compound file passed the container check (cfb-check.ts): the library follows chains and links as they
 * come, so it is only handed a container whose chains are acyclic, in range and as long as their sizes say.
 * Runs inside the content sandbox; the result crosses threads as plain data.
 * @module
 */
import { createRequire } from 'node:module';
import { checkCompoundFile } from './cfb-check.js';

// The package is CommonJS with `exports.default = MsgReader`; under Node's ESM interop that is `.default.default`.
// Only the part of its API dsguard uses, declared structurally.
interface MsgAttachmentFields {
  fileName?: string;
  fileNameShort?: string;
  contentLength?: number;
  attachMimeTag?: string;
  innerMsgContent?: true;
}
interface MsgFields {
  headers?: string;
  body?: string;
  bodyHtml?: string;
  error?: string;
  attachments?: MsgAttachmentFields[];
}
interface MsgReaderLike {
  getFileData(): MsgFields;
  getAttachment(attachment: MsgAttachmentFields): { content: Uint8Array };
}
let MsgReader: (new (view: DataView) => MsgReaderLike) | null = null;

export interface MsgAttachmentContent {
  name: string | null;
  contentType: string;
  /** The attachment's bytes; null when they could not be read (or only headers were asked for). */
  bytes: Uint8Array | null;
  /** Size the container declares. */
  declaredSize: number;
}

export interface MsgContent {
  headers: string | null;
  body: string | null;
  bodyHtml: string | null;
  attachments: MsgAttachmentContent[];
  /** Attachments the message holds (may exceed `attachments.length`). */
  attachmentCount: number;
}

export type MsgRead = { status: 'ok'; msg: MsgContent } | { status: 'error'; error: string };

export function readMsgContainer(bytes: Uint8Array, opts: { maxParts: number; headersOnly: boolean }): MsgRead {
  const checked = checkCompoundFile(bytes);
  if (checked.status === 'error') return { status: 'error', error: `not a readable Outlook .msg: ${checked.error}` };
  MsgReader ??= (
    createRequire(import.meta.url)('@kenjiuno/msgreader') as { default: new (view: DataView) => MsgReaderLike }
  ).default;
  let reader: MsgReaderLike;
  let data: MsgFields;
  try {
    reader = new MsgReader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    data = reader.getFileData();
  } catch (error) {
    return {
      status: 'error',
      error: `not a readable Outlook .msg: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (data.error) return { status: 'error', error: `not a readable Outlook .msg: ${String(data.error)}` };
  // Property values come as the file says, not as the library's types promise: a string may be a number.
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const list = Array.isArray(data.attachments) ? data.attachments : [];
  const attachments: MsgAttachmentContent[] = [];
  for (let i = 0; i < Math.min(list.length, opts.maxParts); i++) {
    const att = list[i]!;
    let content: Uint8Array | null = null;
    if (!opts.headersOnly) {
      try {
        const c = reader.getAttachment(att).content;
        content = c instanceof Uint8Array ? c : null;
      } catch {
        content = null;
      }
    }
    const mime =
      text(att.attachMimeTag) ?? (att.innerMsgContent === true ? 'message/rfc822' : 'application/octet-stream');
    attachments.push({
      name: text(att.fileName) ?? text(att.fileNameShort),
      contentType: mime.toLowerCase(),
      bytes: content,
      declaredSize: typeof att.contentLength === 'number' ? att.contentLength : 0,
    });
  }
  return {
    status: 'ok',
    msg: {
      headers: text(data.headers),
      body: text(data.body),
      bodyHtml: text(data.bodyHtml),
      attachments,
      attachmentCount: list.length,
    },
  };
}
