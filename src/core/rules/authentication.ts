/**
 * Authentication signals from Exchange's own results: SPF / DKIM / DMARC / compauth, the antispam category
 * and safety tip, and forged results planted by the sender.
 * @module
 */
import type { MessageEvidence } from '../evidence.js';
import type { Finding } from '../finding.js';
import { parseAuthResults, resultFor } from '../headers/auth-results.js';
import { finding, refs } from './make-finding.js';

const BAD_CATEGORIES = new Set(['PHSH', 'HPHSH', 'HPHISH', 'MALW', 'HSPM', 'GIMP', 'UIMP', 'DIMP', 'BIMP', 'AMP']);

export function authenticationFindings(ev: MessageEvidence, p1Internal: boolean): Finding[] {
  const out: Finding[] = [];
  const a = ev.authentication;
  const spf = a.spf?.value;
  if (p1Internal && (spf === 'fail' || spf === 'softfail')) {
    out.push(
      finding(
        'DS201',
        `SPF ${spf} for internal envelope domain ${a.mailFromDomain?.value ?? ''}`.trim(),
        refs(a.spf, a.mailFromDomain),
      ),
    );
  }
  const dkim = a.dkim?.value;
  if (dkim && dkim !== 'pass') out.push(finding('DS202', `DKIM ${dkim}`, refs(a.dkim, a.dkimDomain)));
  const dmarc = a.dmarc?.value;
  if (dmarc === 'fail')
    out.push(
      finding(
        'DS203',
        `DMARC fail for ${a.headerFromDomain?.value ?? 'the From domain'}`,
        refs(a.dmarc, a.dmarcAction, a.headerFromDomain),
      ),
    );
  const comp = a.compauth?.value;
  const reason = a.compauthReason?.value ?? '';
  if (comp === 'fail' && (reason.startsWith('6') || reason === '010')) {
    out.push(
      finding(
        'DS204',
        `compauth=fail reason=${reason}: Exchange calls this intra-organisation spoofing`,
        refs(a.compauth, a.compauthReason),
      ),
    );
  } else if (comp === 'fail') {
    out.push(finding('DS205', `compauth=fail${reason ? ` reason=${reason}` : ''}`, refs(a.compauth, a.compauthReason)));
  }
  const cat = ev.antispam.cat?.value.toUpperCase();
  if (cat === 'SPOOF')
    out.push(finding('DS206', 'Exchange categorised the message as spoofing (CAT:SPOOF)', refs(ev.antispam.cat)));
  if (cat && BAD_CATEGORIES.has(cat))
    out.push(finding('DS209', `Exchange categorised the message as ${cat}`, refs(ev.antispam.cat)));
  if (ev.antispam.sfty?.value.trim().startsWith('9.11')) {
    out.push(finding('DS207', 'Intra-organisation spoofing safety tip (SFTY:9.11)', refs(ev.antispam.sfty)));
  }
  if (p1Internal && spf === 'pass') {
    out.push(
      finding(
        'DS208',
        `SPF pass for internal envelope domain ${a.mailFromDomain?.value ?? ''}`.trim(),
        refs(a.spf, a.mailFromDomain),
      ),
    );
  }
  return out;
}

/** Authentication-Results the sender planted (below the entry hop / foreign authserv-id) that claim a pass Exchange did not give. */
export function forgedAuthFindings(ev: MessageEvidence): Finding[] {
  const ignored = ev.ignoredStamps;
  const trustedFail =
    ev.authentication.spf?.value === 'fail' ||
    ev.authentication.spf?.value === 'softfail' ||
    ev.authentication.dmarc?.value === 'fail' ||
    ev.authentication.compauth?.value === 'fail';
  const out: Finding[] = [];
  for (const ig of ignored) {
    if (ig.kind !== 'auth-results') continue;
    const claimed = parseAuthResults(ig.ref.value);
    const claimsPass = ['spf', 'dkim', 'dmarc'].some((m) => resultFor(claimed, m)?.result === 'pass');
    if (trustedFail && claimsPass) {
      out.push(
        finding('DS115', `A planted Authentication-Results claims pass (${ig.reason})`, [
          ig.ref,
          ...refs(ev.authentication.spf, ev.authentication.compauth),
        ]),
      );
      break;
    }
  }
  if (ignored.length > 0) {
    out.push(
      finding(
        'DS114',
        `${ignored.length} sender-side stamp(s) ignored: ${[...new Set(ignored.map((i) => i.reason))].join('; ')}`,
        ignored.slice(0, 5).map((i) => i.ref),
      ),
    );
  }
  return out;
}
