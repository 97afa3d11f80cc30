/**
 * The decoding work the content sandbox runs (in its worker thread, or in-process when the compiled worker is
 * not there): 2-D codes from image files and pixels, the PDF scan, the Outlook .msg container. Requests and
 * replies are plain data, so they cross threads by structured clone.
 * @module
 */
import { type CodeDecoder, createCodeDecoder, type DecodeResult, type Pixels } from './code-decoder.js';
import { type MsgRead, readMsgContainer } from './msg-container.js';
import type { PdfBudget } from './pdf-prescan.js';
import { type PdfScanResult, scanPdf } from './pdf-scan.js';

export type SandboxRequest =
  | { op: 'decodeImage'; bytes: Uint8Array; maxImagePixels: number }
  | { op: 'decodePixels'; pixels: Pixels; maxImagePixels: number }
  | {
      op: 'scanPdf';
      bytes: Uint8Array;
      maxPages: number;
      maxImagePixels: number;
      maxImages: number;
      budget: Partial<Omit<PdfBudget, 'maxImagePixels'>>;
    }
  | { op: 'readMsg'; bytes: Uint8Array; maxParts: number; headersOnly: boolean };

export interface SandboxReplies {
  decodeImage: DecodeResult;
  decodePixels: DecodeResult;
  scanPdf: PdfScanResult;
  readMsg: MsgRead;
}

const decoders = new Map<number, CodeDecoder>();
function decoderFor(maxImagePixels: number): CodeDecoder {
  let d = decoders.get(maxImagePixels);
  if (!d) {
    d = createCodeDecoder({ maxImagePixels });
    decoders.set(maxImagePixels, d);
  }
  return d;
}

export async function runSandboxOp(req: SandboxRequest): Promise<SandboxReplies[SandboxRequest['op']]> {
  switch (req.op) {
    case 'decodeImage':
      return decoderFor(req.maxImagePixels).decodeImageFile(req.bytes);
    case 'decodePixels':
      return decoderFor(req.maxImagePixels).decodePixels(req.pixels);
    case 'scanPdf':
      return scanPdf(req.bytes, {
        decoder: decoderFor(req.maxImagePixels),
        maxPages: req.maxPages,
        maxImagePixels: req.maxImagePixels,
        maxImages: req.maxImages,
        budget: req.budget,
      });
    case 'readMsg':
      return readMsgContainer(req.bytes, { maxParts: req.maxParts, headersOnly: req.headersOnly });
  }
}
