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
import { resolveTenant } from './rules/tenant.js';

export interface RuleContext {
  profile: TenantProfile;
  channel: Channel;
  p1Internal: boolean;
  p2Internal: boolean;
}

/** An extra family of rules (content analysis, IP origin) plugged in by the caller. Must be pure. */
export type MessageRule = (ev: MessageEvidence, ctx: RuleContext) => Finding[];

export interface AssessOptions {
  /** The tenant profile; `null` infers the tenant from the message and says so. */
  profile: TenantProfile | null;
  extraRules?: readonly MessageRule[];
}

export const MALICIOUS_RISK = 60;
/** Findings that establish a legitimate sender (unless a vetoing finding fired). */
const LEGITIMACY_CODES: readonly FindingCode[] = ['DS601', 'DS602', 'DS603', 'DS605'];
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
  const profile = resolveTenant(ev, options.profile).profile;
  return { channel: classifyChannel(ev, profile).channel, domains: profile.acceptedDomains };
}

export function assess(ev: MessageEvidence, options: AssessOptions): Assessment {
  const tenant = resolveTenant(ev, options.profile);
  const profile = tenant.profile;
  const ch = classifyChannel(ev, profile);
  const findings: Finding[] = [...tenant.findings, ...ch.findings];
  const ctx: RuleContext = { profile, channel: ch.channel, p1Internal: ch.p1Internal, p2Internal: ch.p2Internal };

  findings.push(...authenticationFindings(ev, ch.p1Internal));
  findings.push(...forgedAuthFindings(ev));
  findings.push(...clientFindings(ev, profile, ch.p2Internal || ch.p1Internal));
  findings.push(...lureFindings(ev));
  if (ev.tls?.value === false) findings.push(finding('DS112', 'No TLS on the hop into Exchange Online', [ev.tls.ref]));
  const heloFinding = suspiciousHelo(ev);
  if (heloFinding) findings.push(heloFinding);
  for (const rule of options.extraRules ?? []) findings.push(...rule(ev, ctx));
  findings.push(...legitimacyFindings(ev, profile, ch.channel));

  const codes = new Set(findings.map((f) => f.code));
  let risk = 0;
  for (const code of codes) risk += ruleInfo(code).weight;
  risk = Math.max(0, Math.min(100, risk));

  let verdict: Verdict = 'not-applicable';
  if (isAbuseChannel(ch.channel)) {
    const vetoed = [...codes].some((c) => ruleInfo(c).vetoesLegitimate === true);
    const legit = LEGITIMACY_CODES.some((c) => codes.has(c));
    const intent = [...codes].some((c) => ruleInfo(c).intent === true);
    if (legit && !vetoed) {
      verdict = 'legitimate';
      risk = Math.min(risk, LEGITIMATE_RISK_CAP);
      if (ch.channel === 'direct-send') {
        findings.push(
          finding(
            'DS604',
            'RejectDirectSend would reject this legitimate sender: it needs an inbound connector first',
            ev.connectingIp ? [ev.connectingIp.ref] : [],
          ),
        );
      }
    } else if (risk >= MALICIOUS_RISK && intent) {
      verdict = 'malicious';
    } else {
      verdict = 'suspicious';
    }
  }

  let rejectDirectSendBlocks: boolean | null;
  switch (ch.channel) {
    case 'direct-send':
      rejectDirectSendBlocks = true;
      break;
    case 'internal-spoof':
      rejectDirectSendBlocks = ev.envelopeFrom ? false : null;
      break;
    case 'unknown':
      rejectDirectSendBlocks = null;
      break;
    default:
      rejectDirectSendBlocks = false;
  }

  return {
    channel: ch.channel,
    verdict,
    risk,
    rejectDirectSendBlocks,
    tenant: {
      source: tenant.source,
      domains: profile.acceptedDomains,
      tenantId: ev.receivingTenantId?.value ?? profile.tenantIds[0] ?? null,
    },
    findings: sortFindings(findings),
  };
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => bySeverityDescending(a.f.severity, b.f.severity) || a.i - b.i)
    .map((x) => x.f);
}

const WORKSTATION_HELO = /^(win-|desktop-|laptop-|pc-|user-pc|localhost)/i;

function suspiciousHelo(ev: MessageEvidence): Finding | null {
  const helo = ev.helo?.value.trim();
  if (!helo || !ev.helo) return null;
  const bare = helo.replace(/^\[|\]$/g, '');
  let reason: string | null = null;
  if (/^127\.|^::1$|^localhost(\.localdomain)?$/i.test(bare)) reason = 'a loopback name';
  else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare) || bare.includes(':')) {
    reason = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(bare) ? 'a private address' : 'a bare IP literal';
  } else if (WORKSTATION_HELO.test(bare)) reason = 'a workstation name';
  else if (!bare.includes('.')) reason = 'a single-label name';
  if (!reason) return null;
  return finding('DS113', `HELO ${helo} is ${reason}`, [ev.helo.ref]);
}
