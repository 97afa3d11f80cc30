/**
 * Reasons to believe an internal-looking anonymous message is legitimate: a known source from the profile,
 * a mailing-list relay, or a device that authenticates (SPF and compauth pass).
 * @module
 */
import type { Channel } from '../assessment.js';
import type { MessageEvidence } from '../evidence.js';
import type { Finding } from '../finding.js';
import { matchKnownSource, type TenantProfile } from '../profile.js';
import { finding, refs } from './make-finding.js';

export function legitimacyFindings(ev: MessageEvidence, profile: TenantProfile, channel: Channel): Finding[] {
  const out: Finding[] = [];
  if (channel !== 'direct-send' && channel !== 'internal-spoof') return out;
  const senders = [ev.envelopeFrom?.value.address, ev.headerFrom?.value.address].filter(
    (s): s is string => typeof s === 'string',
  );
  const known = matchKnownSource(profile, {
    ip: ev.connectingIp?.value ?? null,
    senders,
    subject: ev.subject?.value ?? null,
  });
  if (known) {
    out.push(
      finding('DS601', `Matches known source "${known.name}"`, refs(ev.connectingIp, ev.envelopeFrom, ev.subject)),
    );
  }
  if (channel === 'internal-spoof' && ev.mailingList) {
    const arcPass = ev.arc?.value === 'pass';
    const reason130 = ev.authentication.compauthReason?.value === '130';
    const dkimPass = ev.authentication.dkim?.value === 'pass';
    if (arcPass || reason130 || dkimPass) {
      out.push(
        finding(
          'DS602',
          `Relayed by mailing list ${ev.mailingList.value}`,
          refs(ev.mailingList, ev.arc, ev.authentication.compauthReason, ev.authentication.dkim),
        ),
      );
    }
  }
  const comp = ev.authentication.compauth?.value;
  const dmarcPass = ev.authentication.dmarc?.value === 'pass';
  if (channel === 'internal-spoof' && (dmarcPass || comp === 'pass') && !out.some((f) => f.code === 'DS602')) {
    out.push(
      finding(
        'DS605',
        'DMARC / composite authentication passes for the From domain',
        refs(ev.authentication.dmarc, ev.authentication.compauth, ev.authentication.dkimDomain),
      ),
    );
  }
  if (
    ev.authentication.spf?.value === 'pass' &&
    (comp === 'pass' || comp === 'softpass') &&
    channel === 'direct-send'
  ) {
    out.push(
      finding(
        'DS603',
        'SPF and composite authentication pass for the internal domain',
        refs(ev.authentication.spf, ev.authentication.compauth),
      ),
    );
  }
  return out;
}
