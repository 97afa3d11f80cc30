/**
 * Transport rules: rules that bypass spam filtering by sender domain or IP (DS751) and the rule that flags or
 * quarantines unauthenticated mail claiming an accepted domain (DS755). Pure.
 * @module
 */
import { normalizeDomain } from '../../core/domain-name.js';
import { psList, psQuote } from '../../report/tenant-report-powershell.js';
import { type AuditContext, type ControlRow, ev, matchesByIpOrCert, type Obj, row, SEED, unknownRow } from './model.js';

/** DS751 — transport rules that set SCL -1 by sender domain or IP range. */
export function spamBypassRuleRows({ o }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const rules = o['Get-TransportRule'];
  if (!rules)
    rows.push(
      unknownRow('DS751', 'No transport rule bypasses spam filtering by sender domain or IP', ['Get-TransportRule']),
    );
  else {
    const bypass = rules.filter(
      (r) =>
        r.SetSCL === -1 &&
        r.State !== 'Disabled' &&
        (r.SenderDomainIs.length > 0 ||
          r.SenderIpRanges.length > 0 ||
          r.FromAddressMatchesPatterns.length > 0 ||
          r.From.length > 0),
    );
    if (bypass.length === 0)
      rows.push(
        row(
          'DS751',
          'No transport rule bypasses spam filtering by sender domain or IP',
          null,
          'pass',
          `${rules.length} transport rule(s); none sets SCL -1 on a sender domain or IP condition.`,
        ),
      );
    for (const r of bypass)
      rows.push(
        row(
          'DS751',
          'No transport rule bypasses spam filtering by sender domain or IP',
          `transport rule ${r.Name}`,
          'fail',
          'Sets SCL -1 (bypass spam filtering) for mail matched by sender domain or IP: a sender domain is trivially spoofed — your own included — and an IP range may hold other senders.',
          [
            ev(`TransportRule ${r.Name}`, 'SetSCL', -1),
            ev(`TransportRule ${r.Name}`, 'SenderDomainIs', r.SenderDomainIs),
            ev(`TransportRule ${r.Name}`, 'SenderIpRanges', r.SenderIpRanges),
            ev(`TransportRule ${r.Name}`, 'FromAddressMatchesPatterns', r.FromAddressMatchesPatterns),
          ],
          [
            `Disable-TransportRule -Identity ${psQuote(r.Name)} -Confirm:$false  # stops the bypass; review, then remove it or replace the condition with a connector`,
          ],
        ),
      );
  }
  return rows;
}

/** The rule matches a sender in an accepted domain (by domain or address pattern). */
const claimsOwnDomain = (r: Obj<'Get-TransportRule'>, accepted: Set<string>, domains: string[]) =>
  r.SenderDomainIs.some((d) => accepted.has(normalizeDomain(d))) ||
  r.FromAddressMatchesPatterns.some((p) =>
    domains.some((d) => p.toLowerCase().includes(d.replace(/\./g, '\\.')) || p.toLowerCase().includes(d)),
  );
/** The rule reads the Authentication-Results header. */
const checksAuth = (r: Obj<'Get-TransportRule'>) =>
  /authentication-results/i.test(r.HeaderMatchesMessageHeader ?? '') ||
  /authentication-results/i.test(r.HeaderContainsMessageHeader ?? '');
/** The rule does something to what it matches (tags, junks, quarantines, redirects, rejects, deletes). */
const acts = (r: Obj<'Get-TransportRule'>) =>
  r.Quarantine === true ||
  (r.SetSCL !== null && r.SetSCL >= 5) ||
  !!r.PrependSubject ||
  !!r.SetHeaderName ||
  !!r.ApplyHtmlDisclaimerText ||
  r.RedirectMessageTo.length > 0 ||
  !!r.RejectMessageReasonText ||
  r.DeleteMessage === true;

/** DS755 — a transport rule that flags or quarantines unauthenticated mail claiming an accepted domain. */
export function unauthenticatedMailRuleRows({
  input,
  o,
  domains,
  accepted,
  enabledInbound,
}: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const rules = o['Get-TransportRule'];
  if (!rules || !o['Get-AcceptedDomain'])
    rows.push(
      unknownRow('DS755', SEED.flagUnauth, [
        ...(rules ? [] : ['Get-TransportRule' as const]),
        ...(o['Get-AcceptedDomain'] ? [] : ['Get-AcceptedDomain' as const]),
      ]),
    );
  else {
    const found = rules.filter(
      (r) => r.State !== 'Disabled' && claimsOwnDomain(r, accepted, domains) && checksAuth(r) && acts(r),
    );
    const enforced = found.filter((r) => (r.Mode ?? 'Enforce') === 'Enforce');
    const certSources = enabledInbound.filter(
      (c) => matchesByIpOrCert(c).certificate !== null && matchesByIpOrCert(c).ips.length === 0,
    );
    const exceptIps = [...new Set(input.knownSources.flatMap((s) => s.ips).filter((ip) => !ip.includes(':')))].sort();
    const fixLines = [
      `New-TransportRule -Name 'dsguard: unauthenticated mail claiming our domains' -SenderAddressLocation HeaderOrEnvelope -SenderDomainIs ${psList(domains)} -HeaderMatchesMessageHeader 'Authentication-Results' -HeaderMatchesPatterns 'compauth=fail','dmarc=fail' ${exceptIps.length ? `-ExceptIfSenderIpRanges ${psList(exceptIps)} ` : ''}-PrependSubject '[Unverified sender] ' -SetSCL 6 -Mode Audit -Comments 'dsguard: P1 or P2 in an accepted domain that failed authentication'  # creates the rule in audit mode: it only logs matches`,
      `Set-TransportRule -Identity 'dsguard: unauthenticated mail claiming our domains' -Mode Enforce  # after reviewing the audit matches: tags the subject and sends matches to Junk`,
    ];
    const certNote = certSources.length
      ? ` Transport rules have no inbound-connector condition, so mail from these certificate-matched connectors cannot be excepted by IP and would be tagged if it fails authentication: ${certSources.map((c) => `${c.Name} (${c.TlsSenderCertificateName})`).join(', ')}.`
      : '';
    if (enforced.length > 0)
      rows.push(
        row(
          'DS755',
          SEED.flagUnauth,
          null,
          'pass',
          `Rule(s) ${enforced.map((r) => r.Name).join(', ')} act on mail claiming an accepted domain that fails authentication.`,
          enforced.map((r) => ev(`TransportRule ${r.Name}`, 'Mode', r.Mode ?? 'Enforce')),
        ),
      );
    else if (found.length > 0)
      rows.push(
        row(
          'DS755',
          SEED.flagUnauth,
          null,
          'fail',
          `Rule(s) ${found.map((r) => r.Name).join(', ')} exist but only audit (Mode ${found.map((r) => r.Mode).join(', ')}): nothing is flagged yet.${certNote}`,
          found.map((r) => ev(`TransportRule ${r.Name}`, 'Mode', r.Mode)),
          found.map(
            (r) =>
              `Set-TransportRule -Identity ${psQuote(r.Name)} -Mode Enforce  # the rule starts acting on the mail it matched in audit`,
          ),
        ),
      );
    else
      rows.push(
        row(
          'DS755',
          SEED.flagUnauth,
          null,
          'fail',
          `No enabled transport rule acts on unauthenticated mail claiming ${domains.join(', ') || 'an accepted domain'}. The rule below matches P1 or P2 (HeaderOrEnvelope) in an accepted domain whose Authentication-Results say compauth or DMARC failed${exceptIps.length ? `, except the confirmed sources ${exceptIps.join(', ')}` : ''}; it starts in audit mode.${certNote}`,
          [],
          domains.length ? fixLines : [],
        ),
      );
  }
  return rows;
}
