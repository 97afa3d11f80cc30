/**
 * Inbound connectors: partner restrictions (DS741), wildcard sender domains from broad ranges (DS742),
 * OnPremises connectors (DS743), RestrictDomainsToIPAddresses on an accepted domain (DS745) and the gateway
 * lock-down connector (DS754). Pure.
 * @module
 */
import { psList, psQuote } from '../../report/tenant-report-powershell.js';
import {
  type AuditContext,
  type ControlRow,
  ev,
  matchesByIpOrCert,
  type Obj,
  prefixOf,
  row,
  senderDomain,
  unknownRow,
} from './model.js';

/** One inbound connector as the per-connector checks read it. */
interface ConnectorView {
  c: Obj<'Get-InboundConnector'>;
  subject: string;
  obj: string;
  domainsOf: string[];
}

/** DS741–DS743, DS745 — each inbound connector, in the dump's order. */
export function inboundConnectorRows({ inbound, accepted }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  if (!inbound) {
    for (const [code, name] of [
      ['DS741', 'Partner connectors restrict their sender domains to IPs or a certificate'],
      ['DS742', 'No connector accepts any sender domain (*) from broad IP ranges'],
      ['DS743', 'OnPremises connectors do not make outside mail internal'],
      ['DS745', 'RestrictDomainsToIPAddresses on an accepted domain: what it rejects'],
    ] as const)
      rows.push(unknownRow(code, name, ['Get-InboundConnector']));
  } else {
    if (inbound.length === 0)
      rows.push(
        row(
          'DS741',
          'Inbound connectors',
          null,
          'info',
          'No inbound connector: every message from outside arrives without one, so RejectDirectSend applies to all anonymous mail claiming an accepted domain.',
          [ev('InboundConnector', '(count)', 0)],
        ),
      );
    for (const c of inbound) {
      const subject = `inbound connector ${c.Name}`;
      const obj = `InboundConnector ${c.Name}`;
      const domainsOf = c.SenderDomains.map(senderDomain);
      if (!c.Enabled) {
        rows.push(
          row('DS741', 'Inbound connector state', subject, 'info', 'Disabled: it matches no mail.', [
            ev(obj, 'Enabled', false),
          ]),
        );
        continue;
      }
      const view: ConnectorView = { c, subject, obj, domainsOf };
      rows.push(
        ...partnerRestrictionRows(view),
        ...wildcardRangeRows(view),
        ...onPremisesRows(view),
        ...ownDomainRestrictionRows(view, accepted),
      );
    }
  }
  return rows;
}

/** DS741 — a Partner connector restricts its sender domains to IPs or a certificate. */
function partnerRestrictionRows({ c, subject, obj, domainsOf }: ConnectorView): ControlRow[] {
  const rows: ControlRow[] = [];
  if (c.ConnectorType === 'Partner') {
    const m = matchesByIpOrCert(c);
    const restricted = c.RestrictDomainsToIPAddresses === true || c.RestrictDomainsToCertificate === true;
    const evidence = [
      ev(obj, 'SenderDomains', domainsOf),
      ev(obj, 'SenderIPAddresses', c.SenderIPAddresses),
      ev(obj, 'RestrictDomainsToIPAddresses', c.RestrictDomainsToIPAddresses),
      ev(obj, 'RestrictDomainsToCertificate', c.RestrictDomainsToCertificate),
      ev(obj, 'TlsSenderCertificateName', c.TlsSenderCertificateName),
    ];
    if (restricted)
      rows.push(
        row(
          'DS741',
          'Partner connectors restrict their sender domains to IPs or a certificate',
          subject,
          'pass',
          `Mail from ${domainsOf.join(', ')} is accepted only from ${m.ips.length ? m.ips.join(', ') : `the certificate ${m.certificate}`}.`,
          evidence,
        ),
      );
    else {
      const fix: string[] = [];
      if (c.SenderIPAddresses.length > 0)
        fix.push(
          `Set-InboundConnector -Identity ${psQuote(c.Name)} -RestrictDomainsToIPAddresses $true  # rejects mail from its SenderDomains that does not come from ${c.SenderIPAddresses.join(', ')}`,
        );
      else if (c.TlsSenderCertificateName)
        fix.push(
          `Set-InboundConnector -Identity ${psQuote(c.Name)} -RestrictDomainsToCertificate $true  # rejects mail from its SenderDomains not sent with the certificate ${c.TlsSenderCertificateName}`,
        );
      rows.push(
        row(
          'DS741',
          'Partner connectors restrict their sender domains to IPs or a certificate',
          subject,
          'fail',
          `Matched by sender domain only (${domainsOf.join(', ')}): anyone can claim those domains, and the connector neither identifies nor restricts the partner. It does not exempt mail from RejectDirectSend either.${fix.length === 0 ? ' It lists no IP or certificate: ask the partner for its sending IPv4 addresses or certificate name, then set SenderIPAddresses with RestrictDomainsToIPAddresses $true (or TlsSenderCertificateName with RestrictDomainsToCertificate $true).' : ''}`,
          evidence,
          fix,
        ),
      );
    }
  }
  return rows;
}

/** DS742 — SenderDomains * with broad IP ranges. */
function wildcardRangeRows({ c, subject, obj, domainsOf }: ConnectorView): ControlRow[] {
  const rows: ControlRow[] = [];
  if (domainsOf.includes('*')) {
    const broad = c.SenderIPAddresses.filter((e) => {
      const p = prefixOf(e);
      return p !== null && p < 24;
    });
    rows.push(
      broad.length > 0
        ? row(
            'DS742',
            'No connector accepts any sender domain (*) from broad IP ranges',
            subject,
            'fail',
            `Accepts every sender domain from ranges wider than /24 (${broad.join(', ')}): any host in them — other tenants of a cloud or hosting provider included — is treated as this connector's sender.`,
            [ev(obj, 'SenderDomains', domainsOf), ev(obj, 'SenderIPAddresses', c.SenderIPAddresses)],
            c.SenderIPAddresses.some((e) => !broad.includes(e))
              ? [
                  `Set-InboundConnector -Identity ${psQuote(c.Name)} -SenderIPAddresses ${psList(c.SenderIPAddresses.filter((e) => !broad.includes(e)))}  # replaces the list with its /24-or-narrower entries: add the exact hosts that really send from the broad ranges`,
                ]
              : [],
          )
        : row(
            'DS742',
            'No connector accepts any sender domain (*) from broad IP ranges',
            subject,
            'pass',
            c.SenderIPAddresses.length
              ? `Every range is /24 or narrower (${c.SenderIPAddresses.join(', ')}).`
              : 'Matched by certificate, not by IP ranges.',
            [ev(obj, 'SenderIPAddresses', c.SenderIPAddresses)],
          ),
    );
  }
  return rows;
}

/** DS743 — OnPremises connectors that make outside mail internal. */
function onPremisesRows({ c, subject, obj }: ConnectorView): ControlRow[] {
  const rows: ControlRow[] = [];
  if (c.ConnectorType === 'OnPremises') {
    const evidence = [
      ev(obj, 'ConnectorType', c.ConnectorType),
      ev(obj, 'SenderIPAddresses', c.SenderIPAddresses),
      ev(obj, 'TlsSenderCertificateName', c.TlsSenderCertificateName),
      ev(obj, 'TreatMessagesAsInternal', c.TreatMessagesAsInternal),
    ];
    const broad = c.SenderIPAddresses.filter((e) => (prefixOf(e) ?? 32) < 24);
    if (c.TreatMessagesAsInternal === true || broad.length > 0)
      rows.push(
        row(
          'DS743',
          'OnPremises connectors do not make outside mail internal',
          subject,
          'fail',
          c.TreatMessagesAsInternal === true
            ? 'TreatMessagesAsInternal is on: everything this connector matches is handled as internal mail (no spoof or anti-spam verdicts as for outside mail). Keep it only for a hybrid on-premises organisation that really sends through it.'
            : `Matches by IP ranges wider than /24 (${broad.join(', ')}): hosts that are not your mail servers are relayed as your organisation.`,
          evidence,
          c.TreatMessagesAsInternal === true
            ? [
                `Set-InboundConnector -Identity ${psQuote(c.Name)} -TreatMessagesAsInternal $false  # mail through it is no longer treated as internal`,
              ]
            : [],
        ),
      );
    else
      rows.push(
        row(
          'DS743',
          'OnPremises connectors do not make outside mail internal',
          subject,
          'info',
          `OnPremises: mail it matches (${c.SenderIPAddresses.length ? c.SenderIPAddresses.join(', ') : `certificate ${c.TlsSenderCertificateName ?? '(none)'}`}) is relayed as your organisation's; make sure only your own servers match.`,
          evidence,
        ),
      );
  }
  return rows;
}

/** DS745 — RestrictDomainsToIPAddresses on an accepted domain: what it rejects. */
function ownDomainRestrictionRows({ c, subject, obj, domainsOf }: ConnectorView, accepted: Set<string>): ControlRow[] {
  const rows: ControlRow[] = [];
  const ownDomains = domainsOf.filter((d) => accepted.has(d));
  if (c.ConnectorType === 'Partner' && c.RestrictDomainsToIPAddresses === true && ownDomains.length > 0)
    rows.push(
      row(
        'DS745',
        'RestrictDomainsToIPAddresses on an accepted domain: what it rejects',
        subject,
        'info',
        `Mail claiming ${ownDomains.join(', ')} from any IP other than ${c.SenderIPAddresses.join(', ') || '(none)'} is rejected — Direct Send spoofs of those domains included, and also any legitimate sender of those domains that is not listed (SaaS senders, printers).`,
        [
          ev(obj, 'SenderDomains', domainsOf),
          ev(obj, 'RestrictDomainsToIPAddresses', true),
          ev(obj, 'SenderIPAddresses', c.SenderIPAddresses),
        ],
      ),
    );
  return rows;
}

/** DS754 — MX at a third-party gateway: a lock-down connector (or an equivalent transport rule). */
export function gatewayLockDownRows({ input, o, domains, inbound, enabledInbound }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const rules = o['Get-TransportRule'];
  if (!input.dns)
    rows.push(
      row(
        'DS754',
        'Mail cannot bypass the gateway through the smart host',
        null,
        'unknown',
        'Not scored: DNS was not consulted (MX records decide whether a gateway is in front).',
      ),
    );
  else {
    const gated = domains.filter((d) => input.dns!.get(d)?.gatewayBypass === true);
    if (gated.length === 0)
      rows.push(
        row(
          'DS754',
          'Mail cannot bypass the gateway through the smart host',
          null,
          'pass',
          'No accepted domain has its MX at a third-party gateway (or DNS could not tell): there is no gateway to bypass.',
          domains.map((d) => ev(`MX ${d}`, 'gatewayBypass', input.dns!.get(d)?.gatewayBypass ?? '(not looked up)')),
        ),
      );
    else if (!inbound)
      rows.push(unknownRow('DS754', 'Mail cannot bypass the gateway through the smart host', ['Get-InboundConnector']));
    else {
      const lock = enabledInbound.filter(
        (c) =>
          c.ConnectorType === 'Partner' &&
          c.SenderDomains.map(senderDomain).includes('*') &&
          ((c.RestrictDomainsToIPAddresses === true && c.SenderIPAddresses.length > 0) ||
            (c.RestrictDomainsToCertificate === true && c.TlsSenderCertificateName)),
      );
      const gw = gated.map((d) => `${d} → ${input.dns!.get(d)?.gateway ?? 'gateway'}`);
      // An equivalent: an enforcing transport rule that rejects or deletes outside mail unless it comes from listed IPs.
      const ruleLock = (rules ?? []).filter(
        (r) =>
          r.State !== 'Disabled' &&
          (r.Mode ?? 'Enforce') === 'Enforce' &&
          r.FromScope === 'NotInOrganization' &&
          r.ExceptIfSenderIpRanges.length > 0 &&
          (!!r.RejectMessageReasonText || r.DeleteMessage === true),
      );
      if (lock.length === 0 && ruleLock.length > 0)
        rows.push(
          row(
            'DS754',
            'Mail cannot bypass the gateway through the smart host',
            null,
            'pass',
            `MX at a gateway (${gw.join('; ')}); no lock-down connector, but transport rule(s) ${ruleLock.map((r) => r.Name).join(', ')} reject outside mail that does not come from ${ruleLock.flatMap((r) => r.ExceptIfSenderIpRanges).join(', ')} — an equivalent. A connector rejects earlier (in the SMTP session) and is Microsoft's documented way.`,
            ruleLock.map((r) => ev(`TransportRule ${r.Name}`, 'ExceptIfSenderIpRanges', r.ExceptIfSenderIpRanges)),
          ),
        );
      else
        rows.push(
          lock.length > 0
            ? row(
                'DS754',
                'Mail cannot bypass the gateway through the smart host',
                null,
                'pass',
                `MX at a gateway (${gw.join('; ')}) and a lock-down connector accepts mail only from it (${lock.map((c) => c.Name).join(', ')}).`,
                lock.map((c) => ev(`InboundConnector ${c.Name}`, 'SenderIPAddresses', c.SenderIPAddresses)),
              )
            : row(
                'DS754',
                'Mail cannot bypass the gateway through the smart host',
                null,
                'fail',
                `MX at a gateway (${gw.join('; ')}) but no Partner connector with SenderDomains * restricted to the gateway's IPs: anyone can connect to the smart host directly and skip the gateway's filtering. Fill $GatewayIPs from the gateway vendor's published outbound IPv4 ranges before running the command.`,
                gated.map((d) => ev(`MX ${d}`, 'host', input.dns!.get(d)?.mx.map((m) => m.host) ?? [])),
                [
                  `$GatewayIPs = @()  # the gateway's published outbound IPv4 addresses or /24–/32 ranges`,
                  `New-InboundConnector -Name 'Gateway lock-down' -ConnectorType Partner -SenderDomains '*' -SenderIPAddresses $GatewayIPs -RestrictDomainsToIPAddresses $true -RequireTls $true  # rejects mail for any sender domain that does not come from the gateway`,
                ],
              ),
        );
    }
  }
  return rows;
}
