/**
 * Which tenant are "we"? From the profile when given. Without one, only from what Exchange attests for this
 * tenant, and the result says how the tenant was known (`tenantKnownFrom`):
 *
 * - `profile`: given by the user.
 * - `attested`: the accepted domains are those of the envelope recipients Exchange Online recorded for this
 *   delivery (`for <addr>` in a Received line Exchange wrote, X-MS-Exchange-Organization-OriginalEnvelopeRecipients)
 *   paired with the tenant id Exchange attributed the message to; for export rows, the recipients of the tenant's
 *   own export. Channels as with a profile, but no `legitimate` verdict and no connector advice.
 * - `inferred`: anything weaker (the To / Cc domains). The channel is `unknown` unless Exchange's own verdict says
 *   the sender claims the receiving organisation (compauth reason 6xx / 010, SFTY:9.11, IsAnonymousDirectSend).
 *
 * Never a public mailbox provider's domain (gmail.com, outlook.com, iinet.net.au …) and never a mailing list's.
 * @module
 */

import { isPlausibleDomain, isSameOrSubdomain } from '../domain-name.js';
import type { MessageEvidence, SourceKind } from '../evidence.js';
import type { EvidenceRef, Finding } from '../finding.js';
import type { Observed } from '../observed.js';
import { CONSUMER_TENANT_ID, emptyProfile, isOwnTenant, type TenantProfile } from '../profile.js';
import { isPublicMailboxDomain } from '../public-mail-providers.js';
import { finding, refs } from './make-finding.js';

export type TenantKnownFrom = 'profile' | 'attested' | 'inferred';

/** Exchange's own word that the sender claims the receiving organisation (without a profile). */
export interface Corroboration {
  /** The domains Exchange treated as the organisation's (the From domain for 6xx/010/9.11, P1 for IsAnonymousDirectSend). */
  domains: string[];
  refs: EvidenceRef[];
}

export interface TenantResolution {
  profile: TenantProfile;
  knownFrom: TenantKnownFrom;
  /** Set without a profile when Exchange's verdict corroborates an intra-organisation sender; otherwise null. */
  corroboration: Corroboration | null;
  findings: Finding[];
}

const EXPORT_KINDS: ReadonlySet<SourceKind> = new Set([
  'message-trace',
  'message-trace-detail',
  'historical-search',
  'email-events',
  'graph-message-trace',
]);

export function resolveTenant(ev: MessageEvidence, given: TenantProfile | null): TenantResolution {
  if (given) return { profile: given, knownFrom: 'profile', corroboration: null, findings: tenantMismatch(ev, given) };
  const profile = emptyProfile();
  profile.inferred = true;
  if (ev.receivingTenantId) profile.tenantIds = [ev.receivingTenantId.value];
  const findings: Finding[] = [];
  const excluded = new Map<string, string>();
  const excludedRefs: EvidenceRef[] = [];
  const exclude: Exclude = (domain, ref) => {
    const why = excludedBecause(ev, domain);
    if (why && !excluded.has(domain)) {
      excluded.set(domain, why);
      if (ref) excludedRefs.push(ref);
    }
    return why !== null;
  };

  const attested = attestedDomains(ev, exclude);
  const corroboration = corroborate(ev, exclude);
  let knownFrom: TenantKnownFrom;
  if (attested.domains.length > 0) {
    knownFrom = 'attested';
    profile.acceptedDomains = attested.domains;
    findings.push(
      finding(
        'DS120',
        `No profile: accepted domains taken from the envelope recipients Exchange recorded for tenant ${ev.receivingTenantId?.value ?? '(export)'} (${attested.domains.join(', ')})`,
        [...attested.refs.slice(0, 5), ...refs(ev.receivingTenantId)],
      ),
    );
  } else {
    knownFrom = 'inferred';
    const guessed = guessedDomains(ev, exclude);
    const domains = new Set([...guessed.domains, ...(corroboration?.domains ?? [])]);
    profile.acceptedDomains = [...domains].sort();
    if (profile.acceptedDomains.length > 0) {
      findings.push(
        finding(
          'DS109',
          `No profile and no envelope recipient recorded by Exchange: accepted domains guessed (${profile.acceptedDomains.join(', ')})${corroboration ? '' : '; a Direct Send or internal-spoof label needs Exchange’s own intra-organisation verdict'}`,
          [...guessed.refs.slice(0, 5), ...(corroboration?.refs ?? []), ...refs(ev.receivingTenantId)],
        ),
      );
    }
  }
  if (excluded.size > 0) {
    const list = [...excluded].sort(([a], [b]) => a.localeCompare(b));
    findings.push(
      finding(
        'DS121',
        `Not taken as the tenant’s: ${list.map(([d, why]) => `${d} (${why})`).join(', ')}`,
        [...refs(ev.mailingList), ...excludedRefs].slice(0, 5),
      ),
    );
  }
  return { profile, knownFrom, corroboration, findings };
}

function tenantMismatch(ev: MessageEvidence, given: TenantProfile): Finding[] {
  const tid = ev.receivingTenantId;
  if (tid && given.tenantIds.length > 0 && !isOwnTenant(given, tid.value)) {
    return [
      finding('DS110', `Exchange attributed this message to tenant ${tid.value}, not to the profile's tenant`, [
        tid.ref,
      ]),
    ];
  }
  return [];
}

/** Whether a domain is never the tenant's; remembers it (with where it was seen) for DS121. */
type Exclude = (domain: string, ref: EvidenceRef | null) => boolean;

interface DomainSet {
  domains: string[];
  refs: EvidenceRef[];
}

function collect(list: readonly Observed<{ domain: string | null }>[], exclude: Exclude): DomainSet {
  const domains = new Set<string>();
  const out: EvidenceRef[] = [];
  for (const r of list) {
    const d = r.value.domain;
    if (!d || !isPlausibleDomain(d) || domains.has(d) || exclude(d, r.ref)) continue;
    domains.add(d);
    out.push(r.ref);
  }
  return { domains: [...domains].sort(), refs: out };
}

/** Envelope recipients Exchange recorded for this tenant: in a message, only with the attributed tenant id. */
function attestedDomains(ev: MessageEvidence, exclude: Exclude): DomainSet {
  if (EXPORT_KINDS.has(ev.sourceKind)) return collect(ev.envelopeRecipients, exclude);
  const tenant = ev.receivingTenantId?.value;
  if (!tenant || tenant === CONSUMER_TENANT_ID) return { domains: [], refs: [] };
  return collect(ev.attestedRecipients, exclude);
}

/** The weaker guess: envelope recipients of other origin, else To / Cc. */
function guessedDomains(ev: MessageEvidence, exclude: Exclude): DomainSet {
  const pool = ev.envelopeRecipients.length > 0 ? ev.envelopeRecipients : ev.recipients;
  return collect(pool, exclude);
}

/** Why a domain is never taken as the tenant's, or null. */
function excludedBecause(ev: MessageEvidence, domain: string): string | null {
  if (isPublicMailboxDomain(domain)) return 'public mailbox provider';
  for (const list of mailingListDomains(ev)) {
    if (domain === list || isSameOrSubdomain(list, domain)) return 'mailing list';
  }
  return null;
}

/**
 * The domains of a mailing list that relayed the message: the List-Id's identifier (`<name.lists.example.org>`)
 * and the domain of a List-Post / List-Unsubscribe `mailto:`, and the envelope sender's domain (the list's bounce
 * address) when a list header is present.
 */
function mailingListDomains(ev: MessageEvidence): string[] {
  const list = ev.mailingList?.value;
  if (!list) return [];
  const out: string[] = [];
  const mailto = /mailto:[^@>\s]*@([^>?\s]+)/i.exec(list)?.[1];
  if (mailto) out.push(mailto.toLowerCase());
  else {
    const id = /<([^<>\s]+)>/.exec(list)?.[1] ?? list.trim();
    const labels = id.toLowerCase().split('.');
    // The identifier's first label names the list; what follows is the host's domain.
    if (labels.length > 2) out.push(labels.slice(1).join('.'));
    else if (labels.length === 2) out.push(labels.join('.'));
  }
  const p1 = ev.envelopeFrom?.value.domain;
  if (p1 && !isPublicMailboxDomain(p1)) out.push(p1);
  return out;
}

/**
 * Exchange's own verdict that the sender claims the receiving organisation: compauth=fail with reason 6xx (implicit
 * failure, the sending domain is an accepted domain) or 010 (DMARC failure of an accepted domain), the safety tip
 * SFTY:9.11 (intra-organisation spoofing), or IsAnonymousDirectSend: True.
 */
function corroborate(ev: MessageEvidence, exclude: Exclude): Corroboration | null {
  const a = ev.authentication;
  const fromDomain = a.headerFromDomain?.value ?? ev.headerFrom?.value.domain ?? null;
  const domains = new Set<string>();
  const out: EvidenceRef[] = [];
  const reason = a.compauthReason?.value ?? '';
  if (a.compauth?.value === 'fail' && (/^6\d\d$/.test(reason) || reason === '010') && fromDomain) {
    domains.add(fromDomain);
    out.push(...refs(a.compauth, a.compauthReason, a.headerFromDomain));
  }
  if (ev.antispam.sfty?.value.trim().startsWith('9.11') && fromDomain) {
    domains.add(fromDomain);
    out.push(...refs(ev.antispam.sfty));
  }
  const p1 = ev.envelopeFrom?.value.domain ?? null;
  if (isAnonymousDirectSend(ev) && p1) {
    domains.add(p1);
    out.push(...refs(ev.exchange.anonymousDirectSend));
  }
  const kept = [...domains].filter((d) => isPlausibleDomain(d) && !exclude(d, out[0] ?? null)).sort();
  return kept.length > 0 ? { domains: kept, refs: out } : null;
}

/** `X-MS-Exchange-Organization-IsAnonymousDirectSend: True`. */
export function isAnonymousDirectSend(ev: MessageEvidence): boolean {
  return ev.exchange.anonymousDirectSend?.value.trim().toLowerCase() === 'true';
}
