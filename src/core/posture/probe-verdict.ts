/**
 * What an SMTP conversation with a tenant's smart host says about Direct Send (pure). The client
 * (src/net/smtp-probe.ts) records each step's command and reply; `classifyProbe` finds the reply that decided the
 * outcome and names it:
 *
 * - `550 5.7.68 TenantInboundAttribution` at any stage → `rejected-direct-send`, exposed `false`
 *   (RejectDirectSend is on; the verb that carries it is not documented, so every stage is checked).
 * - `5.4.1` at RCPT → `rejected-recipient` (Directory-Based Edge Blocking: no such recipient), inconclusive.
 * - other 4xx/5xx → `rejected-other` (5.7.x policy, 4.7.5xx throttling), inconclusive.
 * - no connection, timeout, TLS or protocol failure → `error`, inconclusive.
 * - all accepted: after DATA of the canary → `accepted`, exposed `true`; at RCPT without DATA → `accepted`, exposed
 *   `null` (Exchange Online may reject only after the message data).
 * @module
 */
import { boundValue, type Finding } from '../finding.js';
import { finding } from '../rules/make-finding.js';

export type SmtpStage = 'connect' | 'ehlo' | 'starttls' | 'mail' | 'rcpt' | 'data' | 'quit';

export interface SmtpReply {
  code: number;
  /** RFC 3463 enhanced status code from the first line (`5.7.68`), when present. */
  enhanced: string | null;
  lines: string[];
}

export interface SmtpStep {
  stage: SmtpStage;
  /** The command sent (`MAIL FROM:<a@b>`), `null` for the greeting. */
  command: string | null;
  reply: SmtpReply | null;
  /** Connection, timeout, TLS or protocol error at this step. */
  error: string | null;
}

export type ProbeResult = 'accepted' | 'rejected-direct-send' | 'rejected-recipient' | 'rejected-other' | 'error';

export interface ProbeVerdict {
  /** The stage reported to users: connect | ehlo | mail | rcpt | data (STARTTLS counts as ehlo). */
  stage: 'connect' | 'ehlo' | 'mail' | 'rcpt' | 'data';
  result: ProbeResult;
  /** `true`: Direct Send works; `false`: RejectDirectSend rejected it; `null`: the evidence cannot tell. */
  exposed: boolean | null;
  conclusive: boolean;
  /** The last line of the deciding reply (or the error). */
  reply: string | null;
  explanation: string;
  findings: Finding[];
}

/** The enhanced status code at the start of a reply text (`5.7.68 TenantInboundAttribution…` → `5.7.68`). */
export function enhancedCode(text: string): string | null {
  const m = /^([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(text);
  return m ? m[1]! : null;
}

export function isRejectDirectSend(reply: SmtpReply): boolean {
  return reply.enhanced === '5.7.68' || reply.lines.some((l) => /\b5\.7\.68\b|TenantInboundAttribution/i.test(l));
}

function replyText(reply: SmtpReply): string {
  return reply.lines.map((l) => `${reply.code} ${l}`).join(' / ');
}

function publicStage(stage: SmtpStage): ProbeVerdict['stage'] {
  if (stage === 'starttls') return 'ehlo';
  if (stage === 'quit') return 'data';
  return stage;
}

export function classifyProbe(input: {
  steps: readonly SmtpStep[];
  canarySent: boolean;
  source: string;
}): ProbeVerdict {
  const steps = input.steps.filter((s) => s.stage !== 'quit');
  const ev = (s: SmtpStep) => ({
    source: input.source,
    field: s.command ?? 'greeting',
    value: boundValue(s.reply ? replyText(s.reply) : (s.error ?? '')),
    location: `stage ${publicStage(s.stage)}`,
  });
  const decisive =
    steps.find((s) => s.error !== null || (s.reply !== null && s.reply.code >= 400)) ?? steps[steps.length - 1];
  if (!decisive) {
    return {
      stage: 'connect',
      result: 'error',
      exposed: null,
      conclusive: false,
      reply: null,
      explanation: 'no conversation took place',
      findings: [],
    };
  }
  const stage = publicStage(decisive.stage);
  const lastLine = decisive.reply
    ? `${decisive.reply.code} ${decisive.reply.lines[decisive.reply.lines.length - 1] ?? ''}`.trim()
    : decisive.error;
  const base = { stage, reply: lastLine };
  if (decisive.error !== null) {
    return {
      ...base,
      result: 'error',
      exposed: null,
      conclusive: false,
      explanation: `the conversation failed at ${stage}: ${decisive.error}`,
      findings: [
        finding('DS806', `Could not complete the conversation at ${stage}: ${decisive.error}`, [ev(decisive)]),
      ],
    };
  }
  const reply = decisive.reply!;
  if (reply.code >= 400 && isRejectDirectSend(reply)) {
    return {
      ...base,
      result: 'rejected-direct-send',
      exposed: false,
      conclusive: true,
      explanation: `RejectDirectSend rejected the ${stage === 'data' ? 'message after DATA' : `${stage.toUpperCase()} command`} with 5.7.68`,
      findings: [finding('DS802', `Rejected at ${stage} with 5.7.68 TenantInboundAttribution`, [ev(decisive)])],
    };
  }
  if (
    reply.code >= 500 &&
    decisive.stage === 'rcpt' &&
    (reply.enhanced === '5.4.1' || /\b5\.4\.1\b/.test(reply.lines.join(' ')))
  ) {
    return {
      ...base,
      result: 'rejected-recipient',
      exposed: null,
      conclusive: false,
      explanation: 'the recipient was refused (5.4.1): Direct Send was not tested',
      findings: [finding('DS803', 'Recipient refused with 5.4.1', [ev(decisive)])],
    };
  }
  if (reply.code >= 400) {
    const temporary = reply.code < 500;
    return {
      ...base,
      result: 'rejected-other',
      exposed: null,
      conclusive: false,
      explanation: `${temporary ? 'temporarily refused' : 'refused'} at ${stage} (${reply.enhanced ?? reply.code}): Direct Send was not tested`,
      findings: [
        finding(
          temporary ? 'DS805' : 'DS804',
          `${temporary ? 'Temporarily refused' : 'Refused'} at ${stage}: ${reply.code} ${reply.enhanced ?? ''}`.trim(),
          [ev(decisive)],
        ),
      ],
    };
  }
  const dataDone =
    input.canarySent && steps.some((s) => s.stage === 'data' && s.command === '.' && s.reply && s.reply.code < 400);
  if (dataDone) {
    return {
      ...base,
      stage: 'data',
      result: 'accepted',
      exposed: true,
      conclusive: true,
      explanation: 'the canary message was accepted after DATA: Direct Send is open',
      findings: [
        finding('DS800', 'The smart host accepted the canary message from an anonymous client', [ev(decisive)]),
      ],
    };
  }
  const rcpt = steps.find((s) => s.stage === 'rcpt');
  return {
    ...base,
    stage: rcpt ? 'rcpt' : stage,
    result: 'accepted',
    exposed: null,
    conclusive: false,
    explanation:
      'accepted at RCPT — not conclusive: Exchange Online may reject only after the message data (use --send-canary)',
    findings: [finding('DS801', 'MAIL FROM and RCPT TO accepted; no data sent', [ev(rcpt ?? decisive)])],
  };
}

/** The fixed canary subject. */
export function canarySubject(id: string): string {
  return `[dsguard probe] Direct Send test ${id}`;
}

function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * The one message `--send-canary` sends: fixed subject, plain-text body saying what it is, an `X-Dsguard-Probe`
 * header; no user-supplied text (addresses are validated by the caller), no attachment, no HTML. CRLF line ends,
 * lines under 78 characters, 7-bit.
 */
export function buildCanaryMessage(opts: { from: string; to: string; id: string; date: Date }): string {
  const lines = [
    `From: ${opts.from}`,
    `To: ${opts.to}`,
    `Subject: ${canarySubject(opts.id)}`,
    `Date: ${rfc5322Date(opts.date)}`,
    `Message-ID: <dsguard-probe-${opts.id}@dsguard.invalid>`,
    `X-Dsguard-Probe: ${opts.id}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
    'This is a test message sent by dsguard (dsguard probe --send-canary).',
    '',
    'An administrator checked whether this Microsoft 365 tenant accepts',
    '"Direct Send": anonymous mail to the tenant smart host with a sender',
    'address in one of its own domains. If you can read this, the tenant',
    'accepted it, so RejectDirectSend is not in force for this sender domain.',
    '',
    'No action is needed from the recipient. The message carries no links',
    'and no attachments and can be deleted.',
    '',
    `Probe id: ${opts.id}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}
