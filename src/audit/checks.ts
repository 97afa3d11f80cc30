/**
 * The scorecard: the seed's prevention checklist (and the connector, filter and rule controls that decide
 * whether Direct Send and internal spoofs get through) scored over a {@link TenantConfig}, the DNS posture of
 * the accepted domains and, optionally, the sources seen in the store. Pure: no I/O, same input → same rows.
 *
 * Each row: a stable code, the seed's wording as its name, pass / fail / unknown / info, the evidence (object,
 * property, value) and the commands that fix it. A control whose input is missing is `unknown` and names the
 * cmdlet to dump; MFA and Conditional Access are always `unknown`: nothing here can verify them.
 * @module
 */

import { antiPhishingRows, spoofAllowRows } from './checks/anti-spoofing.js';
import { arcSealerRows, mfaRows } from './checks/arc-and-mfa.js';
import { gatewayLockDownRows, inboundConnectorRows } from './checks/connectors.js';
import { rejectDirectSendRows, sourceCoverageRows } from './checks/direct-send.js';
import { acceptedDomainRows } from './checks/domains.js';
import {
  type AuditContext,
  type AuditInput,
  auditContext,
  type ControlRow,
  type ControlStatus,
  type Scorecard,
} from './checks/model.js';
import { connectionFilterRows, markAsSpamRows } from './checks/spam-filter.js';
import { spamBypassRuleRows, unauthenticatedMailRuleRows } from './checks/transport-rules.js';
import type { Cmdlet } from './config.js';

export type { AuditInput, ControlEvidence, ControlRow, ControlStatus, Scorecard, StoreFacts } from './checks/model.js';
export { matchesByIpOrCert, senderDomain } from './checks/model.js';

/** The control families, in the scorecard's row order. */
const CONTROLS: readonly ((ctx: AuditContext) => ControlRow[])[] = [
  rejectDirectSendRows, // DS740
  inboundConnectorRows, // DS741–DS743, DS745
  sourceCoverageRows, // DS744
  antiPhishingRows, // DS746–DS748
  spoofAllowRows, // DS749
  connectionFilterRows, // DS750
  spamBypassRuleRows, // DS751
  markAsSpamRows, // DS752, DS753
  gatewayLockDownRows, // DS754
  unauthenticatedMailRuleRows, // DS755
  acceptedDomainRows, // DS756–DS758, DS760
  arcSealerRows, // DS761
  mfaRows, // DS759
];

export function auditTenant(input: AuditInput): Scorecard {
  const ctx = auditContext(input);
  const { org, domains } = ctx;
  const rows = CONTROLS.flatMap((control) => control(ctx));

  const summary: Record<ControlStatus, number> = { pass: 0, fail: 0, unknown: 0, info: 0 };
  for (const r of rows) summary[r.status]++;
  const problems = input.config.problems.map((p) => `${p.code} ${p.message}`);
  for (const c of (Object.keys(MISSING_IMPACT) as Cmdlet[]).filter((k) => input.config.origins[k] === undefined))
    problems.push(`DS790 ${c} output is missing: ${MISSING_IMPACT[c]}`);
  return {
    tenant: {
      name: org?.DisplayName ?? (org?.Name || null),
      id: org?.ExternalDirectoryOrganizationId ?? null,
      domains,
    },
    controls: rows,
    summary,
    problems,
  };
}

/** Which controls each missing dump leaves unknown (said once per missing cmdlet). */
export const MISSING_IMPACT: Record<Cmdlet, string> = {
  'Get-OrganizationConfig': 'RejectDirectSend (DS740) unknown; the profile gets no tenant id or name',
  'Get-AcceptedDomain': 'accepted-domain controls (DS749, DS755, DS756–DS758, DS760) unknown; profile init needs it',
  'Get-InboundConnector': 'connector controls (DS741–DS745, DS754) unknown; the profile lists no connector',
  'Get-OutboundConnector': 'nothing is scored from it yet (read for completeness)',
  'Get-HostedContentFilterPolicy': 'MarkAsSpam advanced spam filter options (DS752, DS753) unknown',
  'Get-HostedContentFilterRule': 'nothing is scored from it yet (anti-spam scope is read from the policies)',
  'Get-HostedConnectionFilterPolicy': 'connection filter IP Allow List (DS750) unknown',
  'Get-AntiPhishPolicy': 'anti-spoofing controls (DS746–DS748) unknown',
  'Get-AntiPhishRule': 'anti-spoofing controls (DS746–DS748) unknown: which policy applies to whom',
  'Get-EOPProtectionPolicyRule': 'anti-spoofing controls (DS746–DS748) unknown: preset policies take precedence',
  'Get-ATPProtectionPolicyRule': 'nothing is scored from it yet (Defender preset scope)',
  'Get-TenantAllowBlockListSpoofItems': 'spoof allow entries for your own domains (DS749) unknown',
  'Get-TransportRule': 'SCL -1 bypass rules (DS751) and the unauthenticated-mail rule (DS755) unknown',
  'Get-DkimSigningConfig': 'DKIM signing (DS758) unknown',
  'Get-ArcConfig': 'trusted ARC sealers (DS761) not listed',
};
