/**
 * Behaviour and client fingerprints: self-sent mail, replies steered outside, several From headers, and the
 * command-line senders named in Direct Send campaigns (PowerShell / System.Net.Mail, Python smtplib, swaks,
 * sendEmail). Fingerprints come from the tools' own source (see docs/findings.md and the reference).
 * @module
 */

import { isPlausibleDomain } from '../domain-name.js';
import type { MessageEvidence } from '../evidence.js';
import type { EvidenceRef, Finding } from '../finding.js';
import { isAcceptedDomain, type TenantProfile } from '../profile.js';
import { finding, refs } from './make-finding.js';

// System.Net.Mail MimeMultiPart: "boundary_" + counter + "_" + Guid.
const DOTNET_BOUNDARY = /^(?:--)?boundary_\d{1,9}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Python email.generator._make_boundary: "=" * 15 + 19-digit random + "==".
const PYTHON_BOUNDARY = /^={15}\d{19}==$/;
// email.utils.make_msgid: <int(time*100).pid.random64@host>
const PYTHON_MSGID = /^<\d{10,13}\.\d{1,7}\.\d{10,20}@[^>]+>$/;
const SWAKS_BOUNDARY = /^----=_MIME_BOUNDARY_0\d\d_\d+$/;
const SENDEMAIL_BOUNDARY = /^----MIME delimiter for sendEmail-\d+$/;
const SENDEMAIL_MSGID = /^<\d+\.\d+-sendEmail@[^>]+>$/;
// System.Net.Mail writes the date without a weekday: "27 Nov 2026 10:00:00 +0100".
const DOTNET_DATE = /^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** Headers added in transit, skipped when looking at the order the client wrote. */
const TRANSPORT_HEADERS =
  /^(x-|received|return-path|arc-|authentication-results|received-spf|dkim-signature|delivered-to)/;

function boundaryHit(ev: MessageEvidence, re: RegExp): EvidenceRef | null {
  for (const b of ev.client.boundaries) if (re.test(b.value)) return b.ref;
  return null;
}

export function clientFindings(ev: MessageEvidence, profile: TenantProfile, internalSender: boolean): Finding[] {
  const out: Finding[] = [];
  const from = ev.headerFrom?.value.address ?? null;
  const p1 = ev.envelopeFrom?.value.address ?? null;
  const rcpts = [...ev.recipients, ...ev.envelopeRecipients];
  const self = rcpts.find((r) => r.value.address === from || (p1 !== null && r.value.address === p1));
  if (self && (from || p1)) {
    out.push(
      finding('DS301', `Sent from ${self.value.address} to itself`, refs(ev.headerFrom ?? ev.envelopeFrom, self)),
    );
  }

  const replyTo = ev.replyTo;
  if (replyTo && internalSender) {
    const d = replyTo.value.domain ?? '';
    if (isPlausibleDomain(d) && !isAcceptedDomain(profile, d)) {
      out.push(finding('DS307', `Reply-To ${replyTo.value.address} is outside the organisation`, [replyTo.ref]));
    }
  }
  if (ev.fromHeaderCount > 1) {
    out.push(finding('DS119', `${ev.fromHeaderCount} From headers`, refs(ev.headerFrom)));
  }

  const mailer = ev.client.xMailer?.value ?? '';
  const msgId = ev.client.messageIdHeader?.value.trim() ?? '';
  const dotnet = boundaryHit(ev, DOTNET_BOUNDARY);
  const dateValue = ev.client.date?.value.trim() ?? '';
  const firstHeaderIsMime = ev.client.headerOrder.find((k) => !TRANSPORT_HEADERS.test(k)) === 'mime-version';
  if (dotnet || (!mailer && DOTNET_DATE.test(dateValue) && firstHeaderIsMime)) {
    out.push(
      finding(
        'DS302',
        dotnet
          ? 'System.Net.Mail MIME boundary (PowerShell Send-MailMessage)'
          : 'System.Net.Mail header layout and date form (PowerShell Send-MailMessage)',
        dotnet ? [dotnet] : refs(ev.client.date),
      ),
    );
  }
  const py = boundaryHit(ev, PYTHON_BOUNDARY);
  if (py || (!mailer && PYTHON_MSGID.test(msgId))) {
    out.push(finding('DS303', 'Python email/smtplib fingerprint', py ? [py] : refs(ev.client.messageIdHeader)));
  }
  const swaksB = boundaryHit(ev, SWAKS_BOUNDARY);
  if (/^swaks\b/i.test(mailer) || swaksB) {
    out.push(
      finding('DS304', 'swaks SMTP test tool', swaksB ? [swaksB, ...refs(ev.client.xMailer)] : refs(ev.client.xMailer)),
    );
  }
  const seB = boundaryHit(ev, SENDEMAIL_BOUNDARY);
  if (/^sendEmail-/i.test(mailer) || seB || SENDEMAIL_MSGID.test(msgId)) {
    out.push(
      finding('DS305', 'sendEmail command-line tool', [seB, ...refs(ev.client.xMailer, ev.client.messageIdHeader)]),
    );
  }
  const clientKnown = out.some((f) => f.code >= 'DS302' && f.code <= 'DS305');
  if (
    !clientKnown &&
    internalSender &&
    ev.client.headerOrder.length > 0 &&
    ev.client.xMailer === null &&
    ev.client.userAgent === null &&
    (msgId === '' || /@[a-z0-9.-]*\.prod\.outlook\.com>$/i.test(msgId))
  ) {
    const absent = { source: ev.input, field: 'X-Mailer / User-Agent', value: '(absent)' };
    out.push(
      finding('DS306', 'No X-Mailer or User-Agent, and no client Message-ID', [
        absent,
        ...refs(ev.client.messageIdHeader),
      ]),
    );
  }
  return out;
}
