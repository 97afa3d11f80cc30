/**
 * Per accepted domain: SPF (DS756), DMARC (DS757), static IPs in SPF (DS760) and DKIM signing (DS758). Pure.
 * @module
 */
import { normalizeDomain } from '../../core/domain-name.js';
import type { DomainExposure } from '../../core/posture/exposure-audit.js';
import { psQuote } from '../../report/tenant-report-powershell.js';
import { type AuditContext, type ControlRow, ev, type Obj, row, SEED, unknownRow } from './model.js';

/** DS756–DS758, DS760 — each accepted domain in order, then DS756 unknown when the accepted domains are missing. */
export function acceptedDomainRows({ input, o, domains }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const dkim = o['Get-DkimSigningConfig'];
  for (const d of domains) {
    const x = input.dns?.get(d) ?? null;
    if (!x) {
      rows.push(
        row(
          'DS756',
          'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
          d,
          'unknown',
          'Not scored: DNS was not consulted for this domain.',
        ),
      );
      rows.push(row('DS757', SEED.dmarc, d, 'unknown', 'Not scored: DNS was not consulted for this domain.'));
      rows.push(row('DS760', SEED.staticIp, d, 'unknown', 'Not scored: DNS was not consulted for this domain.'));
    } else rows.push(...spfRows(d, x), ...dmarcRows(d, x), staticIpRow(d, x));
    rows.push(dkimRow(d, dkim));
  }
  if (!o['Get-AcceptedDomain'])
    rows.push(unknownRow('DS756', 'Accepted domains: SPF, DMARC and DKIM', ['Get-AcceptedDomain']));
  return rows;
}

/** DS756 — SPF ends in a hard fail, or a soft fail with DMARC enforcement. */
function spfRows(d: string, x: DomainExposure): ControlRow[] {
  const rows: ControlRow[] = [];
  const spf = x.spf;
  const dm = x.dmarc;
  const enforcing = dm.policy === 'quarantine' || dm.policy === 'reject';
  const spfEv = [
    ev(`TXT ${d}`, 'SPF', spf.record),
    ev(`TXT ${d}`, 'all', spf.all),
    ev(`TXT ${d}`, 'DNS lookups', spf.dnsLookups),
    ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'p', dm.policy),
  ];
  if (spf.result === 'temperror')
    rows.push(
      row(
        'DS756',
        'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
        d,
        'unknown',
        `DNS failed: ${spf.error ?? 'temporary error'}.`,
        spfEv,
      ),
    );
  else if (spf.record === null)
    rows.push(
      row(
        'DS756',
        'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
        d,
        'fail',
        'No SPF record: receivers cannot tell which hosts may send as this domain.',
        spfEv,
        [
          `${d}. TXT "v=spf1 include:spf.protection.outlook.com -all"  # DNS: add the other hosts that send as ${d} before -all`,
        ],
      ),
    );
  else if (spf.dnsLookups > 10 || spf.result === 'permerror')
    rows.push(
      row(
        'DS756',
        'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
        d,
        'fail',
        `The record cannot be evaluated (${spf.error ?? `${spf.dnsLookups} DNS lookups, the limit is 10`}): receivers treat it as a permanent error.`,
        spfEv,
      ),
    );
  else if (spf.all === '-all' || (spf.all === '~all' && enforcing))
    rows.push(
      row(
        'DS756',
        'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
        d,
        'pass',
        spf.all === '-all'
          ? 'Hard fail (-all).'
          : `Soft fail (~all) with DMARC p=${dm.policy}: Microsoft's Direct Send guidance recommends soft fail for domains that use it, and DMARC enforcement decides.`,
        spfEv,
      ),
    );
  else
    rows.push(
      row(
        'DS756',
        'SPF ends in a hard fail (-all), or soft fail with DMARC enforcement',
        d,
        'fail',
        `SPF ends in ${spf.all ?? 'no all term'} without DMARC enforcement: a spoof from any host only soft-fails. Microsoft's SPF setup page recommends -all; its Direct Send post recommends ~all for domains that use Direct Send — either is fine once DMARC is at quarantine or reject.`,
        spfEv,
        [
          `${d}. TXT "${(spf.record ?? '').replace(/\s[~?+]?all\s*$/i, '')} -all"  # DNS: replaces the SPF record's final term`,
        ],
      ),
    );
  return rows;
}

/** DS757 — DMARC at p=reject for all mail, or the staged path to it. */
function dmarcRows(d: string, x: DomainExposure): ControlRow[] {
  const rows: ControlRow[] = [];
  const dm = x.dmarc;
  const dmEv = [
    ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'DMARC', dm.record),
    ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'p', dm.policy),
    ev(`TXT _dmarc.${dm.recordDomain ?? d}`, 'pct', dm.pct),
  ];
  const rua = dm.rua.length ? `; rua=${dm.rua.join(',')}` : '';
  if (dm.result === 'temperror')
    rows.push(row('DS757', SEED.dmarc, d, 'unknown', `DNS failed: ${dm.error ?? 'temporary error'}.`, dmEv));
  else if (dm.policy === 'reject' && (dm.pct ?? 100) === 100)
    rows.push(row('DS757', SEED.dmarc, d, 'pass', 'p=reject for all mail.', dmEv));
  else {
    const steps =
      dm.policy === null
        ? [
            `_dmarc.${d}. TXT "v=DMARC1; p=none"  # DNS step 1: monitor; add rua=mailto:<a mailbox you read> for the aggregate reports and read them for 2–4 weeks`,
            `_dmarc.${d}. TXT "v=DMARC1; p=quarantine; pct=100"  # step 2: failing mail to Junk (keep your rua)`,
            `_dmarc.${d}. TXT "v=DMARC1; p=reject"  # step 3: failing mail rejected (keep your rua)`,
          ]
        : dm.policy === 'none'
          ? [
              `_dmarc.${dm.recordDomain ?? d}. TXT "v=DMARC1; p=quarantine; pct=100${rua}"  # DNS step 1: failing mail to Junk, once the reports show every legitimate sender aligned`,
              `_dmarc.${dm.recordDomain ?? d}. TXT "v=DMARC1; p=reject${rua}"  # step 2: failing mail rejected`,
            ]
          : [
              `_dmarc.${dm.recordDomain ?? d}. TXT "v=DMARC1; p=reject${rua}"  # DNS: failing mail rejected (after quarantine showed no legitimate loss)`,
            ];
    rows.push(
      row(
        'DS757',
        SEED.dmarc,
        d,
        'fail',
        (dm.policy === null
          ? 'No DMARC record: receivers apply no policy to mail spoofing this domain.'
          : `p=${dm.policy}${dm.pct !== null && dm.pct < 100 ? ` at pct=${dm.pct}` : ''}: not yet reject for all mail. The staged path follows.`) +
          (d.endsWith('.onmicrosoft.com')
            ? ' Microsoft hosts this zone: add the TXT record in the Microsoft 365 admin center (Settings → Domains → the onmicrosoft.com domain → DNS records).'
            : ''),
        dmEv,
        steps,
      ),
    );
  }
  return rows;
}

/** DS760 — static IPs in the SPF record. */
function staticIpRow(d: string, x: DomainExposure): ControlRow {
  const spf = x.spf;
  return spf.ip4.length + spf.ip6.length > 0
    ? row(
        'DS760',
        SEED.staticIp,
        d,
        'pass',
        `Static addresses in the record: ${[...spf.ip4, ...spf.ip6].join(', ')}.`,
        [ev(`TXT ${d}`, 'ip4/ip6', [...spf.ip4, ...spf.ip6])],
      )
    : row(
        'DS760',
        SEED.staticIp,
        d,
        'info',
        'No ip4/ip6 term: the domain is authorised only through includes. Microsoft recommends (does not require) listing the static public IPs of devices and applications that send as the domain.',
        [ev(`TXT ${d}`, 'ip4/ip6', [])],
      );
}

/** DS758 — DKIM signing. */
function dkimRow(d: string, dkim: Obj<'Get-DkimSigningConfig'>[] | undefined): ControlRow {
  if (!dkim) return unknownRow('DS758', 'DKIM signing is enabled', ['Get-DkimSigningConfig'], d);
  const c = dkim.find((k) => normalizeDomain(k.Domain) === d);
  return c?.Enabled
    ? row('DS758', 'DKIM signing is enabled', d, 'pass', 'Exchange Online signs mail from this domain.', [
        ev(`DkimSigningConfig ${d}`, 'Enabled', true),
      ])
    : row(
        'DS758',
        'DKIM signing is enabled',
        d,
        'fail',
        c
          ? 'A signing configuration exists but is disabled: mail is signed with the onmicrosoft.com domain, so DMARC cannot pass by DKIM for this domain.'
          : 'No DKIM signing configuration for this domain.',
        [ev(`DkimSigningConfig ${d}`, 'Enabled', c ? c.Enabled : '(no configuration)')],
        [
          c
            ? `Set-DkimSigningConfig -Identity ${psQuote(d)} -Enabled $true  # starts signing (publish the two selector CNAMEs first)`
            : `New-DkimSigningConfig -DomainName ${psQuote(d)} -Enabled $false  # creates the keys; publish the selector CNAMEs it shows, then: Set-DkimSigningConfig -Identity ${psQuote(d)} -Enabled $true`,
        ],
      );
}
