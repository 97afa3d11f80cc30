/**
 * assess(evidence, options) → Assessment. Pure: the same rules serve every source (messages, trace rows,
 * EmailEvents, Graph). Channel first, then the signal families, then verdict, risk and the
 * RejectDirectSend answer, each derived from the findings so the verdict always carries its evidence.
 * @module
 */
import type { Assessment, Channel, Verdict } from './assessment.js';
import type { MessageEvidence } from './evidence.js';
import { bySeverityDescending, type Finding, type FindingCode } from './finding.js';
import type { TenantProfile } from './profile.js';
import { authenticationFindings, forgedAuthFindings } from './rules/authentication.js';
import { ruleInfo } from './rules/catalog.js';
import { classifyChannel } from './rules/channel.js';
import { clientFindings } from './rules/client.js';
import { legitimacyFindings } from './rules/legitimacy.js';
import { lureFindings } from './rules/lure.js';
import { finding } from './rules/make-finding.js';
import { resolveTenant, type TenantKnownFrom } from './rules/tenant.js';

export interface RuleContext {
  profile: TenantProfile;
  channel: Channel;
  p1Internal: boolean;
  p2Internal: boolean;
}

/** An extra family of rules (content analysis, IP origin) plugged in by the caller. Must be pure. */
export type MessageRule = (ev: MessageEvidence, ctx: RuleContext) => Finding[];

export interface AssessOptions {
  /** The tenant profile; `null`: the tenant is known only from what Exchange attests (see rules/tenant.ts). */
  profile: TenantProfile | null;
  extraRules?: readonly MessageRule[];
}

export const MALICIOUS_RISK = 60;
/** Findings that make a sender legitimate by its evidence (a declared source, DS601, is weighed apart). */
const EVIDENCE_LEGITIMACY_CODES: readonly FindingCode[] = ['DS602', 'DS603', 'DS605'];
/** The one intent finding that does not veto legitimacy on its own: a lure keyword in the subject. */
const WEAK_INTENT_CODE: FindingCode = 'DS401';
const LEGITIMATE_RISK_CAP = 10;

function isAbuseChannel(channel: Channel): boolean {
  return channel === 'direct-send' || channel === 'internal-spoof';
}

/**
 * The channel alone, as assess() decides it (tenant, then the channel rules), without the other rule families:
 * what a caller that only counts a message by channel needs. Equal to `assess(ev, options).channel` and
 * `.tenant.domains` for every input (the other families add findings, never change the channel).
 */
export function channelOf(
  ev: MessageEvidence,
  options: AssessOptions,
): { channel: Channel; domains: readonly string[] } {
  const tenant = resolveTenant(ev, options.profile);
  return { channel: classifyChannel(ev, tenant.profile, tenant).channel, domains: tenant.profile.acceptedDomains };
}

export function assess(ev: MessageEvidence, options: AssessOptions): Assessment {
  const tenant = resolveTenant(ev, options.profile);
  const profile = tenant.profile;
  const ch = classifyChannel(ev, profile, tenant);
  const findings: Finding[] = [...tenant.findings, ...ch.findings];
  const ctx: RuleContext = { profile, channel: ch.channel, p1Internal: ch.p1Internal, p2Internal: ch.p2Internal };

  findings.push(...authenticationFindings(ev, ch.p1Internal));
  findings.push(...forgedAuthFindings(ev));
  findings.push(...clientFindings(ev, profile, ch.p2Internal || ch.p1Internal));
  findings.push(...lureFindings(ev));
  if (ev.tls?.value === false) findings.push(finding('DS112', 'No TLS on the hop into Exchange Online', [ev.tls.ref]));
  const heloFinding = heloFindingOf(ev, ch.channel);
  if (heloFinding) findings.push(heloFinding);
  for (const rule of options.extraRules ?? []) findings.push(...rule(ev, ctx));
  findings.push(...legitimacyFindings(ev, profile, ch.channel));

  const codes = new Set(findings.map((f) => f.code));
  let risk = 0;
  for (const code of codes) risk += ruleInfo(code).weight;
  risk = Math.max(0, Math.min(100, risk));

  let verdict: Verdict = 'not-applicable';
  if (isAbuseChannel(ch.channel)) {
    const weighed = weighVerdict(ev, findings, ch.channel, tenant.knownFrom, risk);
    verdict = weighed.verdict;
    risk = weighed.risk;
    findings.push(...weighed.findings);
  }

  return {
    channel: ch.channel,
    verdict,
    risk,
    rejectDirectSendBlocks: rejectDirectSendAnswer(ev, ch.channel),
    tenantKnownFrom: tenant.knownFrom,
    tenant: {
      domains: profile.acceptedDomains,
      tenantId: ev.receivingTenantId?.value ?? profile.tenantIds[0] ?? null,
    },
    findings: sortFindings(findings),
  };
}

function rejectDirectSendAnswer(ev: MessageEvidence, channel: Channel): boolean | null {
  switch (channel) {
    case 'direct-send':
      return true;
    case 'internal-spoof':
      return ev.envelopeFrom ? false : null;
    case 'unknown':
      return null;
    default:
      return false;
  }
}

/**
 * The verdict of a Direct Send / internal-spoof message, by weight of evidence:
 * - a source the profile declares (DS601) is legitimate unless a finding that vetoes legitimacy fired (a forged
 *   result, Exchange's phish verdict, a campaign address); only such a source gets the connector advice (DS604);
 * - evidence of legitimacy (a list relay, authentication that passes) counts only when no intent finding fired
 *   (a script fingerprint, lure content, self-sent, a loopback HELO …; a subject keyword alone does not veto):
 *   one SPF pass never outweighs intent (DS607);
 *   with a profile such a message is legitimate but must be confirmed before it gets a connector (DS606);
 *   without a profile it is never legitimate (DS123);
 * - otherwise malicious when risk reaches {@link MALICIOUS_RISK} and an intent finding fired, else suspicious.
 */
function weighVerdict(
  ev: MessageEvidence,
  findings: readonly Finding[],
  channel: Channel,
  knownFrom: TenantKnownFrom,
  risk: number,
): { verdict: Verdict; risk: number; findings: Finding[] } {
  const codes = new Set(findings.map((f) => f.code));
  const vetoed = [...codes].some((c) => ruleInfo(c).vetoesLegitimate === true);
  const intent = findings.filter((f) => ruleInfo(f.code).intent === true);
  const intentCodes = [...new Set(intent.map((f) => f.code))];
  // A subject keyword alone (DS401: "invoice", "purchase order") is everyday business mail; with any other intent
  // finding it counts.
  const intentVetoes = intentCodes.some((c) => c !== WEAK_INTENT_CODE) || intentCodes.length > 1;
  const evidenceFor = findings.filter((f) => EVIDENCE_LEGITIMACY_CODES.includes(f.code));
  const ipRefs = ev.connectingIp ? [ev.connectingIp.ref] : [];
  const out: Finding[] = [];
  const otherwise = (): Verdict => (risk >= MALICIOUS_RISK && intent.length > 0 ? 'malicious' : 'suspicious');

  if (codes.has('DS601') && !vetoed) {
    if (channel === 'direct-send') {
      out.push(
        finding(
          'DS604',
          'RejectDirectSend would reject this declared legitimate sender: it needs an inbound connector first',
          ipRefs,
        ),
      );
    }
    return { verdict: 'legitimate', risk: Math.min(risk, LEGITIMATE_RISK_CAP), findings: out };
  }
  if (evidenceFor.length === 0 || vetoed) return { verdict: otherwise(), risk, findings: out };
  const forCodes = [...new Set(evidenceFor.map((f) => f.code))];
  if (intentVetoes) {
    out.push(
      finding(
        'DS607',
        `${forCodes.join(', ')} would vouch for this sender, but ${intentCodes.join(', ')} show intent: not legitimate (a pass through an over-broad SPF include or a shared service proves no ownership)`,
        [...evidenceFor.flatMap((f) => f.evidence.slice(0, 1)), ...intent.flatMap((f) => f.evidence.slice(0, 1))].slice(
          0,
          6,
        ),
      ),
    );
    return { verdict: otherwise(), risk, findings: out };
  }
  if (knownFrom !== 'profile') {
    out.push(
      finding(
        'DS123',
        `${forCodes.join(', ')} would make this sender legitimate, but without a profile nobody has vouched for it: declare it in the profile (directSendSources) if it is yours`,
        evidenceFor.flatMap((f) => f.evidence.slice(0, 1)).slice(0, 4),
      ),
    );
    return { verdict: 'suspicious', risk, findings: out };
  }
  if (channel === 'direct-send') {
    out.push(
      finding(
        'DS606',
        'Legitimate by its evidence but not declared in the profile: confirm it (directSendSources or `dsguard sources approve`) before giving it a connector; RejectDirectSend would reject it',
        [...evidenceFor.flatMap((f) => f.evidence.slice(0, 1)), ...ipRefs].slice(0, 4),
      ),
    );
  }
  return { verdict: 'legitimate', risk: Math.min(risk, LEGITIMATE_RISK_CAP), findings: out };
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => bySeverityDescending(a.f.severity, b.f.severity) || a.i - b.i)
    .map((x) => x.f);
}

const WORKSTATION_HELO = /^(win-|desktop-|laptop-|pc-|user-pc|localhost)/i;

/**
 * The HELO the connecting host gave: a loopback name, an IP literal or a workstation name (DS113), or a
 * single-label name such as a printer's (DS124). In an authenticated client submission the HELO is the user's
 * computer behind a home or office router: expected, and said so only (DS125).
 */
function heloFindingOf(ev: MessageEvidence, channel: Channel): Finding | null {
  const helo = ev.helo?.value.trim();
  if (!helo || !ev.helo) return null;
  const bare = helo.replace(/^\[|\]$/g, '');
  let reason: string | null = null;
  let code: FindingCode = 'DS113';
  if (/^127\.|^::1$|^localhost(\.localdomain)?$/i.test(bare)) reason = 'a loopback name';
  else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare) || bare.includes(':')) {
    reason = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(bare) ? 'a private address' : 'a bare IP literal';
  } else if (WORKSTATION_HELO.test(bare)) reason = 'a workstation name';
  else if (!bare.includes('.')) {
    reason = 'a single-label name';
    code = 'DS124';
  }
  if (!reason) return null;
  if (channel === 'authenticated') {
    return finding(
      'DS125',
      `HELO ${helo} (${reason}) in an authenticated client submission: a mail client behind a router`,
      [ev.helo.ref],
    );
  }
  return finding(code, `HELO ${helo} is ${reason}`, [ev.helo.ref]);
}
