/**
 * The library entry for message analysis: inputs → evidence → assessment → a result per message.
 * @module
 */
import { type AssessOptions, assess, type MessageRule } from '../core/assess.js';
import type { Assessment } from '../core/assessment.js';
import type { MessageEvidence } from '../core/evidence.js';
import type { TenantProfile } from '../core/profile.js';
import { parseMessageBytes, readInputs } from '../sources/inputs.js';
import { type ReaderLimits, readerLimits } from '../sources/limits.js';
import type { ContentAnalyzer } from '../sources/rfc822.js';

export interface AnalyzedMessage extends Assessment {
  input: string;
  messageId: string | null;
  from: string | null;
  envelopeFrom: string | null;
  to: string[];
  subject: string | null;
  receivedAt: string | null;
  connectingIp: string | null;
  contentInspected: boolean;
  /** Present (true) when part of the content could not be inspected: a limit, a budget or the deadline (DS419–DS423). */
  partial?: true;
  attachments: { name: string | null; contentType: string; size: number; sha256: string | null; qrUrls: string[] }[];
  urls: { url: string; location: string }[];
  notes: string[];
}

export interface AnalyzeError {
  input: string;
  error: string;
}

export type AnalyzeResult = AnalyzedMessage | AnalyzeError;

export function isAnalyzeError(r: AnalyzeResult): r is AnalyzeError {
  return 'error' in r;
}

export interface AnalyzeOptions {
  profile: TenantProfile | null;
  headersOnly?: boolean;
  limits?: Partial<ReaderLimits>;
  analyzers?: readonly ContentAnalyzer[];
  extraRules?: readonly MessageRule[];
  stdin?: NodeJS.ReadableStream;
  /** Told about files found in folders that are not messages (passed over, not errors). */
  onSkip?: (input: string, reason: string) => void;
}

export function toAnalyzedMessage(ev: MessageEvidence, assessment: Assessment): AnalyzedMessage {
  return {
    input: ev.input,
    messageId: ev.messageId,
    from: ev.headerFrom?.value.address ?? null,
    envelopeFrom: ev.envelopeFrom?.value.address ?? null,
    to: ev.recipients.map((r) => r.value.address),
    subject: ev.subject?.value ?? null,
    receivedAt: ev.receivedAt,
    connectingIp: ev.connectingIp?.value ?? null,
    ...assessment,
    contentInspected: ev.contentInspected,
    ...((ev.content?.gaps.length ?? 0) > 0 ? { partial: true as const } : {}),
    attachments: ev.attachments.map((a) => ({
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      sha256: a.sha256,
      qrUrls: a.qrUrls,
    })),
    urls: ev.urls.map((u) => ({ url: u.url, location: u.location })),
    notes: ev.notes,
  };
}

function assessOptions(opts: AnalyzeOptions): AssessOptions {
  return opts.extraRules ? { profile: opts.profile, extraRules: opts.extraRules } : { profile: opts.profile };
}

/** Analyze files, folders, mbox files and `-` (stdin); one result per message, in input order. */
export async function* analyzeInputs(paths: readonly string[], opts: AnalyzeOptions): AsyncGenerator<AnalyzeResult> {
  const limits = readerLimits(opts.limits);
  const readOpts = {
    headersOnly: opts.headersOnly ?? false,
    limits,
    ...(opts.analyzers ? { analyzers: opts.analyzers } : {}),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    ...(opts.onSkip ? { onSkip: opts.onSkip } : {}),
  };
  for await (const { input, result } of readInputs(paths, readOpts)) {
    if (result.status === 'error') {
      yield { input, error: result.error };
      continue;
    }
    let r: AnalyzeResult;
    try {
      r = toAnalyzedMessage(result.evidence, assess(result.evidence, assessOptions(opts)));
    } catch (error) {
      // One input never takes the batch down: its error record, and on with the rest.
      r = { input, error: `analysis failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    yield r;
  }
}

/** Analyze one message given as bytes or text (an .eml, an Outlook .msg, or header text). */
export async function analyzeMessage(
  raw: Uint8Array | string,
  opts: AnalyzeOptions & { input?: string },
): Promise<AnalyzeResult> {
  const input = opts.input ?? '(message)';
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const limits = readerLimits(opts.limits);
  // The same content sniffing and readers as files and folders use.
  const result = await parseMessageBytes(buf, input, {
    headersOnly: opts.headersOnly ?? false,
    limits,
    ...(opts.analyzers ? { analyzers: opts.analyzers } : {}),
  });
  if (result.status === 'error') return { input, error: result.error };
  return toAnalyzedMessage(result.evidence, assess(result.evidence, assessOptions(opts)));
}
