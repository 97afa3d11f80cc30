/**
 * The selection conditions of Direct Send and internal spoofing over `EmailEvents`, from the tenant profile —
 * the same decisions `classifyChannel` takes on an ingested EmailEvents row — and the abuse signals those
 * tables carry. Each is a {@link Condition}: one definition, rendered as KQL and evaluated locally.
 * @module
 */

import { enabledAfter, type TenantProfile } from '../profile.js';
import { LURE_SUBJECT_TERMS } from '../rules/lure.js';
import type { Condition } from './condition.js';

export interface ChannelConditions {
  /** `EmailDirection` Inbound: an anonymous internet receive. */
  inbound: Condition;
  /** `Connectors` empty and the connecting IP in no profile connector's ranges. */
  noConnector: Condition;
  /** P1 (`SenderMailFromDomain`) an accepted domain. */
  p1Internal: Condition;
  /** P2 (`SenderFromDomain`) an accepted domain. */
  p2Internal: Condition;
  /** Inbound, no connector, P1 internal (DS100). */
  directSend: Condition;
  /** Inbound, no connector, P1 external, P2 internal (DS104). */
  internalSpoof: Condition;
  /** Either of the two: the inventory. */
  inventory: Condition;
}

export function channelConditions(profile: TenantProfile): ChannelConditions {
  const domains = profile.acceptedDomains;
  const connectorRanges = profile.connectors.flatMap((c) => c.senderIps.map((r) => r.text));
  const inbound: Condition = { op: 'equals', column: 'EmailDirection', value: 'Inbound' };
  const noConnector: Condition = {
    op: 'all',
    of: [
      { op: 'empty', column: 'Connectors' },
      ...(connectorRanges.length > 0 ? [{ op: 'not', of: { op: 'ipIn', ranges: connectorRanges } } as const] : []),
    ],
  };
  const p1Internal: Condition = { op: 'in', column: 'SenderMailFromDomain', values: domains };
  const p2Internal: Condition = { op: 'in', column: 'SenderFromDomain', values: domains };
  const directSend: Condition = { op: 'all', of: [inbound, noConnector, p1Internal] };
  const internalSpoof: Condition = { op: 'all', of: [inbound, noConnector, { op: 'not', of: p1Internal }, p2Internal] };
  const inventory: Condition = { op: 'all', of: [inbound, noConnector, { op: 'any', of: [p1Internal, p2Internal] }] };
  return { inbound, noConnector, p1Internal, p2Internal, directSend, internalSpoof, inventory };
}

/**
 * Direct Send that got through after RejectDirectSend was certainly in force (DS117: from the time the profile
 * gives, or from the day after the day it gives); without a date, all Direct Send.
 */
export function afterEnableCondition(profile: TenantProfile): Condition {
  const ds = channelConditions(profile).directSend;
  if (profile.rejectDirectSend !== true || profile.rejectDirectSendSince === null) return ds;
  const from = enabledAfter(profile.rejectDirectSendSince).from;
  if (!Number.isFinite(from)) return ds;
  return { op: 'all', of: [{ op: 'since', iso: new Date(from).toISOString() }, ds] };
}

/** A source the profile declares legitimate (`directSendSources`): its IPs, and its senders / subject if given. */
export function knownSourceCondition(profile: TenantProfile): Condition {
  const any: Condition[] = [];
  for (const s of profile.knownSources) {
    const ranges = s.ips.map((r) => r.text);
    const parts: Condition[] = [];
    if (ranges.length > 0) parts.push({ op: 'ipIn', ranges });
    if (s.senders.length > 0) {
      const senders: Condition[] = [];
      for (const who of s.senders) {
        for (const column of ['SenderMailFromAddress', 'SenderFromAddress'] as const) {
          senders.push(
            who.startsWith('*@')
              ? { op: 'endsWith', column, suffix: who.slice(1) }
              : { op: 'equals', column, value: who },
          );
        }
      }
      parts.push({ op: 'any', of: senders });
    }
    if (s.subject !== null) parts.push({ op: 'glob', column: 'Subject', glob: s.subject });
    if (parts.length > 0) any.push({ op: 'all', of: parts });
  }
  return { op: 'any', of: any };
}

/** Abuse signals of the local engine that EmailEvents carries, each with the finding code it mirrors. */
export function abuseSignals(): { name: string; code: string; condition: Condition }[] {
  return [
    {
      name: 'AuthFailed',
      code: 'DS201 DS203 DS205',
      condition: {
        op: 'any',
        of: [
          { op: 'auth', key: 'SPF', values: ['fail', 'softfail'] },
          { op: 'auth', key: 'DMARC', values: ['fail'] },
          { op: 'auth', key: 'CompAuth', values: ['fail'] },
        ],
      },
    },
    {
      name: 'SelfSent',
      code: 'DS301',
      condition: { op: 'same', column: 'SenderFromAddress', other: 'RecipientEmailAddress' },
    },
    { name: 'LureSubject', code: 'DS401', condition: { op: 'contains', column: 'Subject', terms: LURE_SUBJECT_TERMS } },
    {
      name: 'ExchangeThreat',
      code: 'DS209',
      condition: { op: 'contains', column: 'ThreatTypes', terms: ['Phish', 'Malware'] },
    },
  ];
}

/** Conditions of the local classification that cannot be written over EmailEvents (or only one way), and why. */
export const ONE_WAY_CONDITIONS: readonly { condition: string; side: 'local only' | 'KQL only'; reason: string }[] = [
  {
    condition: 'Consumer tenant (DS108)',
    side: 'local only',
    reason:
      'The receiving tenant id is on the Streaming API envelope, not an EmailEvents column; a Defender query runs inside one tenant anyway.',
  },
  {
    condition: 'Profile-less compauth reason (DS118)',
    side: 'local only',
    reason: '`dsguard kql` needs a profile; the accepted domains come from it, never from compauth.',
  },
  {
    condition: 'Connector by certificate',
    side: 'local only',
    reason:
      'EmailEvents has no TLS certificate column; a connector matched by certificate shows as a non-empty Connectors on both sides.',
  },
  {
    condition: 'P1 / P2 domain',
    side: 'local only',
    reason:
      'The KQL and the local predicate read SenderMailFromDomain / SenderFromDomain; ingest derives the domains from SenderMailFromAddress / SenderFromAddress (the same in Defender output).',
  },
  {
    condition: 'Home countries (DS5xx)',
    side: 'KQL only',
    reason:
      'geo_info_from_ip_address() is Kusto’s own geolocation; locally the country comes from dsguard’s enrichment. Country names come from ISO codes via the CLDR English names, which may differ from Kusto’s names.',
  },
  {
    condition: 'QR-code and other URLs (EmailUrlInfo)',
    side: 'KQL only',
    reason:
      'A join with another table: the predicate sees one EmailEvents row; locally the URL rows are joined by ingest.',
  },
];
