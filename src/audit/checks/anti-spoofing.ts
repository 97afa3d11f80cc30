/**
 * Anti-spoofing: spoof intelligence, HonorDmarcPolicy and unauthenticated sender indicators in the
 * anti-phishing policies that apply (DS746–DS748), and spoof allow entries for the tenant's own domains
 * (DS749). Pure.
 * @module
 */
import { normalizeDomain } from '../../core/domain-name.js';
import { psList, psQuote } from '../../report/tenant-report-powershell.js';
import { type AuditContext, type ControlEvidence, type ControlRow, ev, row, SEED, unknownRow } from './model.js';
import { appliedPolicies } from './policy-layers.js';

/** DS746–DS748 — anti-phishing settings, in every policy layer that applies. */
export function antiPhishingRows({ o }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const phish = o['Get-AntiPhishPolicy'];
  const phishRules = o['Get-AntiPhishRule'];
  const eop = o['Get-EOPProtectionPolicyRule'];
  const phishMissing = [
    ...(phish ? [] : ['Get-AntiPhishPolicy' as const]),
    ...(phishRules ? [] : ['Get-AntiPhishRule' as const]),
    ...(eop ? [] : ['Get-EOPProtectionPolicyRule' as const]),
  ];
  const phishSettings = [
    [
      'DS746',
      SEED.antiSpoof,
      'EnableSpoofIntelligence',
      'spoof intelligence',
      'Without it, spoofed senders (your own domains included) are not acted on as spoofs.',
    ],
    [
      'DS747',
      'Anti-phishing honours the sender domain’s DMARC policy',
      'HonorDmarcPolicy',
      'honouring DMARC p=quarantine/reject',
      'Mail failing DMARC of a domain at p=reject is not rejected/quarantined as the owner asked.',
    ],
    [
      'DS748',
      'Unauthenticated sender indicators are shown',
      'EnableUnauthenticatedSender',
      'the unverified-sender indicator (“?” in Outlook)',
      'Users get no visual cue that the sender could not be verified.',
    ],
  ] as const;
  if (phishMissing.length > 0)
    for (const [code, name] of phishSettings) rows.push(unknownRow(code, name, phishMissing));
  else {
    const applied = appliedPolicies(eop!, phishRules!, phish!, (r) => r.AntiPhishPolicy);
    for (const [code, name, prop, what, risk] of phishSettings) {
      const off: string[] = [];
      const evidence: ControlEvidence[] = [];
      const fix: string[] = [];
      for (const a of applied) {
        // Preset policies fix these settings to On (Microsoft's Standard and Strict presets).
        const value = a.policy ? a.policy[prop] : a.preset ? true : null;
        evidence.push(
          ev(
            `AntiPhishPolicy ${a.policyName} (${a.layer}; ${a.scope})`,
            prop,
            value ?? (a.preset ? 'On (preset)' : '(not set)'),
          ),
        );
        if (value === false) {
          off.push(`${a.policyName} (${a.scope})`);
          if (!a.preset)
            fix.push(`Set-AntiPhishPolicy -Identity ${psQuote(a.policyName)} -${prop} $true  # turns on ${what}`);
        }
      }
      rows.push(
        off.length === 0
          ? row(
              code,
              name,
              null,
              'pass',
              `On in every anti-phishing policy that applies (${applied.map((a) => a.layer).join(' → ')}).`,
              evidence,
            )
          : row(code, name, null, 'fail', `Off in ${off.join('; ')}. ${risk}`, evidence, fix),
      );
    }
  }
  return rows;
}

/** DS749 — Tenant Allow/Block spoof allow entries covering the tenant's own domains. */
export function spoofAllowRows({ o, accepted }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const spoof = o['Get-TenantAllowBlockListSpoofItems'];
  if (!spoof || !o['Get-AcceptedDomain'])
    rows.push(
      unknownRow('DS749', 'No spoof allow entry covers your own domains', [
        ...(spoof ? [] : ['Get-TenantAllowBlockListSpoofItems' as const]),
        ...(o['Get-AcceptedDomain'] ? [] : ['Get-AcceptedDomain' as const]),
      ]),
    );
  else {
    const own = spoof.filter((s) => {
      if (s.Action !== 'Allow') return false;
      const d = normalizeDomain(s.SpoofedUser.includes('@') ? s.SpoofedUser.split('@').pop()! : s.SpoofedUser);
      return [...accepted].some((a) => d === a || d.endsWith(`.${a}`));
    });
    rows.push(
      own.length === 0
        ? row(
            'DS749',
            'No spoof allow entry covers your own domains',
            null,
            'pass',
            `${spoof.filter((s) => s.Action === 'Allow').length} spoof allow entr(ies), none for an accepted domain.`,
          )
        : row(
            'DS749',
            'No spoof allow entry covers your own domains',
            null,
            'fail',
            'A spoof allow entry lets mail claiming your own domain through from that infrastructure even when authentication fails (“Tenant Allow/Block List spoof allowed”) — a Direct Send spoof from it included.',
            own.map((s) =>
              ev(
                `spoof entry ${s.SpoofedUser} / ${s.SendingInfrastructure}`,
                'Action',
                `${s.Action} (${s.SpoofType ?? 'type not set'})`,
              ),
            ),
            own.filter((s) => s.Identity).length
              ? [
                  `Remove-TenantAllowBlockListSpoofItems -Identity Default -Ids ${psList(own.map((s) => s.Identity!).filter(Boolean))}  # deletes these spoof allow entries`,
                ]
              : [],
          ),
    );
  }
  return rows;
}
