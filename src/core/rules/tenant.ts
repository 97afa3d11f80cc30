/**
 * Which tenant are "we"? From the profile when given, otherwise inferred from the message's recipients and
 * Exchange's tenant stamp (and said so in a finding).
 * @module
 */
import { isPlausibleDomain } from '../domain-name.js';
import type { MessageEvidence } from '../evidence.js';
import type { Finding } from '../finding.js';
import { emptyProfile, isOwnTenant, type TenantProfile } from '../profile.js';
import { finding } from './make-finding.js';

export interface TenantResolution {
  profile: TenantProfile;
  source: 'profile' | 'inferred' | 'none';
  findings: Finding[];
}

export function resolveTenant(ev: MessageEvidence, given: TenantProfile | null): TenantResolution {
  const findings: Finding[] = [];
  if (given) {
    const tid = ev.receivingTenantId;
    if (tid && given.tenantIds.length > 0 && !isOwnTenant(given, tid.value)) {
      findings.push(
        finding('DS110', `Exchange attributed this message to tenant ${tid.value}, not to the profile's tenant`, [
          tid.ref,
        ]),
      );
    }
    return { profile: given, source: 'profile', findings };
  }
  const profile = emptyProfile();
  profile.inferred = true;
  const pool = ev.envelopeRecipients.length > 0 ? ev.envelopeRecipients : ev.recipients;
  const domains = new Set<string>();
  const evidence = [];
  for (const r of pool) {
    if (r.value.domain && isPlausibleDomain(r.value.domain) && !domains.has(r.value.domain)) {
      domains.add(r.value.domain);
      evidence.push(r.ref);
    }
  }
  profile.acceptedDomains = [...domains].sort();
  if (ev.receivingTenantId) profile.tenantIds = [ev.receivingTenantId.value];
  if (domains.size === 0) {
    return { profile, source: 'none', findings };
  }
  findings.push(
    finding(
      'DS109',
      `No profile: accepted domains assumed to be the recipients' (${profile.acceptedDomains.join(', ')})`,
      [...evidence.slice(0, 5), ev.receivingTenantId?.ref],
    ),
  );
  return { profile, source: 'inferred', findings };
}
