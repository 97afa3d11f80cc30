/**
 * Trusted ARC sealers (DS761, info) and MFA / Conditional Access (DS759: always unknown, nothing here can
 * verify it). Pure.
 * @module
 */
import { type AuditContext, type ControlRow, ev, MFA_VERIFY, row, SEED } from './model.js';

/** DS761 — ARC trusted sealers (info), when Get-ArcConfig output is there. */
export function arcSealerRows({ o }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const arc = o['Get-ArcConfig'];
  if (arc)
    rows.push(
      row(
        'DS761',
        'Trusted ARC sealers',
        null,
        'info',
        arc.some((a) => a.ArcTrustedSealers.length)
          ? 'Mail sealed by these domains keeps the authentication result they recorded: trust only the intermediaries (gateways, list servers) you really route through.'
          : 'No trusted ARC sealer.',
        arc.map((a) => ev('ArcConfig', 'ArcTrustedSealers', a.ArcTrustedSealers)),
      ),
    );
  return rows;
}

/** DS759 — MFA and Conditional Access: not verifiable from the Exchange configuration. */
export function mfaRows(): ControlRow[] {
  const rows: ControlRow[] = [];
  rows.push(row('DS759', SEED.mfa, null, 'unknown', `unknown — not verifiable from this data. ${MFA_VERIFY}`));
  return rows;
}
