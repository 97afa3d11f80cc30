/**
 * How did the message get in? Authenticated, through a connector, or anonymously; and if anonymously, was
 * the envelope sender (P1) or only the From header (P2) one of our accepted domains.
 * @module
 */
import type { Channel } from '../assessment.js';
import type { MessageEvidence } from '../evidence.js';
import type { EvidenceRef, Finding } from '../finding.js';
import { CONSUMER_TENANT_ID, connectorForIp, enabledAfter, isAcceptedDomain, type TenantProfile } from '../profile.js';
import { isPublicMailboxDomain } from '../public-mail-providers.js';
import { finding, refs } from './make-finding.js';
import { type Corroboration, isAnonymousDirectSend, type TenantKnownFrom } from './tenant.js';

/** How the tenant was known, for the channel rules (a profile when not given). */
export interface TenantBasis {
  knownFrom: TenantKnownFrom;
  corroboration: Corroboration | null;
}

const GIVEN: TenantBasis = { knownFrom: 'profile', corroboration: null };

export interface ChannelResult {
  channel: Channel;
  /** Whether the P1 / P2 domains are accepted domains (for later rules). */
  p1Internal: boolean;
  p2Internal: boolean;
  /** How sure: `stamped` from Exchange's own stamps or export columns, `none` when unknown. */
  basis: 'stamped' | 'none';
  findings: Finding[];
}

type Auth = { kind: 'anonymous' | 'authenticated' | 'partner'; refs: EvidenceRef[] } | null;

function authenticationOf(ev: MessageEvidence): Auth {
  const x = ev.exchange;
  const authAs = x.authAs?.value.toLowerCase();
  if (authAs === 'internal') return { kind: 'authenticated', refs: refs(x.authAs) };
  if (authAs === 'partner') return { kind: 'partner', refs: refs(x.authAs) };
  if (authAs === 'anonymous' || authAs === 'external') {
    return { kind: 'anonymous', refs: refs(x.authAs, x.directionality, x.fromEntityHeader) };
  }
  const cross = x.crossTenantAuthAs?.value.toLowerCase();
  if (cross === 'internal') return { kind: 'authenticated', refs: refs(x.crossTenantAuthAs) };
  if (cross === 'anonymous') return { kind: 'anonymous', refs: refs(x.crossTenantAuthAs, x.fromEntityHeader) };
  const entity = x.fromEntityHeader?.value.toLowerCase();
  if (entity === 'hosted') return { kind: 'authenticated', refs: refs(x.fromEntityHeader) };
  if (entity === 'internet') return { kind: 'anonymous', refs: refs(x.fromEntityHeader) };
  const dir = ev.antispam.dir?.value.toUpperCase();
  const cip = ev.connectingIp?.value;
  if (dir === 'INT' || dir === 'OUT' || cip === '255.255.255.255') {
    return { kind: 'authenticated', refs: refs(ev.antispam.dir, ev.connectingIp) };
  }
  if (dir === 'INB') return { kind: 'anonymous', refs: refs(ev.antispam.dir, ev.connectingIp) };
  const direction = x.directionality?.value.toLowerCase();
  if (direction === 'incoming') return { kind: 'anonymous', refs: refs(x.directionality) };
  return null;
}

interface ConnectorHit {
  name: string;
  refs: EvidenceRef[];
}

function connectorOf(ev: MessageEvidence, profile: TenantProfile, auth: Auth): ConnectorHit | null | undefined {
  // undefined: unknown; null: known to be none; object: matched.
  if (ev.connector && ev.connector.value !== null) return { name: ev.connector.value, refs: [ev.connector.ref] };
  const x = ev.exchange;
  if (x.fromEntityHeader?.value.toLowerCase() === 'hybridonprem') {
    return { name: 'on-premises connector', refs: refs(x.fromEntityHeader, x.attributedConnectingIp) };
  }
  if (x.attributedConnectingIp) return { name: 'on-premises connector', refs: refs(x.attributedConnectingIp) };
  if (auth?.kind === 'anonymous' && x.directionality?.value.toLowerCase() === 'originating') {
    return { name: 'on-premises connector', refs: refs(x.directionality, x.authAs) };
  }
  if (auth?.kind === 'partner') return { name: 'partner connector', refs: auth.refs };
  if (ev.connectingIp) {
    const c = connectorForIp(profile, ev.connectingIp.value);
    if (c) return { name: c.name, refs: [ev.connectingIp.ref] };
  }
  if (ev.connector && ev.connector.value === null) return null;
  // Exchange's receiving stamps say "Internet" / "Incoming" and no connector attribution: none matched.
  if (auth?.kind === 'anonymous' && (x.fromEntityHeader || x.directionality || ev.antispam.dir)) return null;
  return undefined;
}

export function classifyChannel(
  ev: MessageEvidence,
  profile: TenantProfile,
  basis: TenantBasis = GIVEN,
): ChannelResult {
  const findings: Finding[] = [];
  const p1Domain = ev.envelopeFrom?.value.domain ?? null;
  const p2Domain = ev.headerFrom?.value.domain ?? null;
  let p1Internal = isAcceptedDomain(profile, p1Domain);
  let p2Internal = isAcceptedDomain(profile, p2Domain);
  const result = (channel: Channel, basis: ChannelResult['basis']): ChannelResult => ({
    channel,
    p1Internal,
    p2Internal,
    basis,
    findings,
  });

  if (ev.connectingIp) {
    findings.push(
      finding(
        'DS116',
        `Connected from ${ev.connectingIp.value}${ev.helo ? ` (HELO ${ev.helo.value})` : ''}`,
        refs(ev.connectingIp, ev.helo),
      ),
    );
  }

  if (ev.receivingTenantId?.value === CONSUMER_TENANT_ID) {
    findings.push(
      finding('DS108', 'Delivered to Microsoft’s consumer tenant: Direct Send does not apply', [
        ev.receivingTenantId.ref,
      ]),
    );
    p1Internal = false;
    p2Internal = false;
    return result('external', 'stamped');
  }

  // Without a profile, believe Exchange when its compauth reason says the sender domain is not ours.
  if (profile.inferred && (p1Internal || p2Internal) && basis.corroboration === null) {
    const reason = ev.authentication.compauthReason?.value ?? null;
    const result0 = ev.authentication.compauth?.value ?? null;
    if (reason && result0 === 'fail' && !reason.startsWith('6') && reason !== '010') {
      findings.push(
        finding(
          'DS118',
          `compauth reason ${reason} is not an intra-organisation reason`,
          refs(ev.authentication.compauth, ev.authentication.compauthReason),
        ),
      );
      p1Internal = false;
      p2Internal = false;
    }
  }

  const auth = authenticationOf(ev);
  if (auth?.kind === 'authenticated') {
    findings.push(finding('DS106', 'Submitted by an authenticated user of the tenant', auth.refs));
    return result('authenticated', 'stamped');
  }
  const connector = connectorOf(ev, profile, auth);
  if (connector) {
    findings.push(finding('DS105', `Arrived through ${connector.name}`, connector.refs));
    return result('connector', 'stamped');
  }
  if (auth === null || connector === undefined) {
    findings.push(
      finding(
        'DS111',
        auth === null
          ? 'No Exchange Online receiving stamps: cannot tell whether the message was anonymous'
          : 'Cannot tell whether an inbound connector matched',
        refs(ev.connectingIp),
      ),
    );
    return result('unknown', 'none');
  }

  findings.push(finding('DS101', 'Accepted anonymously (no SMTP authentication)', auth.refs));
  findings.push(
    finding('DS102', 'No inbound connector matched', ev.connector ? [ev.connector.ref] : auth.refs.slice(0, 2)),
  );
  findings.push(...exchangeDirectSendStamps(ev, profile, auth.refs));
  const channel = anonymousChannel(ev, profile, basis, auth.refs, { p1: p1Internal, p2: p2Internal }, findings);
  return result(channel, channel === 'unknown' ? 'none' : 'stamped');
}

/**
 * Anonymous and no connector matched: direct-send when P1 is an accepted domain, internal-spoof when only P2 is,
 * external otherwise. Without a profile, the first two need Exchange's own word for the domain (else unknown).
 */
function anonymousChannel(
  ev: MessageEvidence,
  profile: TenantProfile,
  basis: TenantBasis,
  authRefs: EvidenceRef[],
  internal: { p1: boolean; p2: boolean },
  findings: Finding[],
): Channel {
  const p1Domain = ev.envelopeFrom?.value.domain ?? null;
  const p2Domain = ev.headerFrom?.value.domain ?? null;
  if (profile.acceptedDomains.length === 0) {
    if (publicSenderOnly(ev)) {
      findings.push(
        finding(
          'DS107',
          `Sender is not in an accepted domain: ${[p1Domain, p2Domain].filter(Boolean).join(' / ')} is a public mailbox provider, which no business tenant can hold`,
          refs(ev.envelopeFrom, ev.headerFrom),
        ),
      );
      return 'external';
    }
    findings.push(
      finding(
        'DS111',
        'No accepted domain known (no profile, no usable recipient): cannot tell internal from external',
        [],
      ),
    );
    if (p1Domain !== null || p2Domain !== null) findings.push(undecided(ev, profile, p1Domain, p2Domain));
    return 'unknown';
  }
  const corroborated = (d: string | null) =>
    basis.knownFrom !== 'inferred' || (d !== null && (basis.corroboration?.domains.includes(d) ?? false));
  if (internal.p1) {
    if (!corroborated(p1Domain)) {
      findings.push(undecided(ev, profile, p1Domain, p2Domain));
      return 'unknown';
    }
    findings.push(finding('DS103', `Envelope sender domain ${p1Domain} is an accepted domain`, refs(ev.envelopeFrom)));
    findings.push(
      finding('DS100', 'Direct Send: anonymous, no connector, internal envelope sender', [
        ...authRefs,
        ...refs(ev.envelopeFrom, ev.connectingIp),
      ]),
    );
    if (profile.rejectDirectSend === true && !mayPredate(ev.receivedAt, profile.rejectDirectSendSince)) {
      const since = profile.rejectDirectSendSince;
      findings.push(
        finding(
          'DS117',
          `The profile says RejectDirectSend is enabled${since ? ` since ${since}` : ''}, yet this arrived by Direct Send ${ev.receivedAt ? `on ${ev.receivedAt}` : '(receipt time unknown)'}`,
          refs(ev.envelopeFrom),
        ),
      );
    }
    return 'direct-send';
  }
  if (internal.p2) {
    if (!corroborated(p2Domain)) {
      findings.push(undecided(ev, profile, p1Domain, p2Domain));
      return 'unknown';
    }
    findings.push(
      finding(
        'DS104',
        `From header ${p2Domain} is an accepted domain but the envelope sender ${p1Domain ?? '(unknown)'} is not`,
        refs(ev.headerFrom, ev.envelopeFrom),
      ),
    );
    return 'internal-spoof';
  }
  findings.push(finding('DS107', 'Sender is not in an accepted domain', refs(ev.envelopeFrom, ev.headerFrom)));
  return 'external';
}

/** Both sender domains that are known are public mailbox providers' (and at least one is known). */
function publicSenderOnly(ev: MessageEvidence): boolean {
  const known = [ev.envelopeFrom?.value.domain, ev.headerFrom?.value.domain].filter(
    (d): d is string => typeof d === 'string',
  );
  return known.length > 0 && known.every((d) => isPublicMailboxDomain(d));
}

/** DS122: without a profile the channel is left unknown; say what a profile would decide. */
function undecided(ev: MessageEvidence, profile: TenantProfile, p1: string | null, p2: string | null): Finding {
  const offered = (d: string | null): d is string =>
    d !== null &&
    !isPublicMailboxDomain(d) &&
    (profile.acceptedDomains.length === 0 || profile.acceptedDomains.includes(d));
  const parts: string[] = [];
  if (offered(p1)) parts.push(`listing ${p1} makes it direct-send`);
  if (offered(p2) && p2 !== p1) {
    parts.push(`listing ${p2} but not ${p1 ?? 'the envelope sender’s domain'} makes it internal-spoof`);
  }
  parts.push('listing neither, external');
  return finding(
    'DS122',
    `Channel undecided without a profile (domains guessed, no intra-organisation verdict from Exchange): a profile ${parts.join('; ')}`,
    refs(ev.envelopeFrom, ev.headerFrom),
  );
}

/**
 * Exchange's own Direct Send stamps on an anonymous, connector-less arrival: IsAnonymousDirectSend (DS126) and a
 * gateway bypass (DS127): MxPointsToUs false (the recipient domain's MX is elsewhere, true of all gateway-relayed
 * mail) and, besides, no connector matched and the connecting IP is none of the profile's connector IPs; DS128 when
 * the profile names no connector IP to tell the gateway's address by.
 */
function exchangeDirectSendStamps(ev: MessageEvidence, profile: TenantProfile, authRefs: EvidenceRef[]): Finding[] {
  const out: Finding[] = [];
  const x = ev.exchange;
  if (isAnonymousDirectSend(ev)) {
    out.push(finding('DS126', 'Exchange stamped the message IsAnonymousDirectSend: True', refs(x.anonymousDirectSend)));
  }
  const cip = ev.connectingIp;
  if (x.mxPointsToUs?.value.trim().toLowerCase() !== 'false' || !cip) return out;
  const evidence = [...refs(x.mxPointsToUs), ...authRefs.slice(0, 1), cip.ref];
  if (!profile.connectors.some((c) => c.senderIps.length > 0)) {
    // The third condition cannot be established: a gateway relaying without a connector would look the same.
    out.push(
      finding(
        'DS128',
        `MxPointsToUs: false on an anonymous arrival from ${cip.value} that matched no connector: a gateway bypass unless ${cip.value} is the gateway’s, which the profile does not say (no connector IPs)`,
        evidence,
      ),
    );
  } else if (connectorForIp(profile, cip.value) === null) {
    out.push(
      finding(
        'DS127',
        `Gateway bypass: the domain’s MX points elsewhere (MxPointsToUs: false), yet ${cip.value}, none of the profile’s connector IPs, delivered anonymously to Exchange Online without a connector`,
        evidence,
      ),
    );
  }
  return out;
}

/** Received before RejectDirectSend was certainly in force (see enabledAfter): it may predate the setting. */
function mayPredate(receivedAt: string | null, since: string | null): boolean {
  if (since === null || receivedAt === null) return false;
  const t = Date.parse(receivedAt);
  return Number.isFinite(t) && t < enabledAfter(since).from;
}
