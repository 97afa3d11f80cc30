/**
 * Which anti-phishing / anti-spam policy applies to whom: preset policies over custom rules over the default
 * policy. Pure.
 * @module
 */
import type { Obj } from './model.js';

export interface Applied<P> {
  /** `Strict preset`, `Standard preset`, `rule <name>`, `default policy`. */
  layer: string;
  policy: P | null;
  policyName: string;
  /** `all recipients` or the rule's conditions. */
  scope: string;
  /** The preset's fixed settings apply (no policy object to read). */
  preset: 'Strict' | 'Standard' | null;
}

function scopeOf(r: { SentTo: string[]; SentToMemberOf: string[]; RecipientDomainIs: string[] }): string {
  const parts: string[] = [];
  if (r.SentTo.length) parts.push(`SentTo ${r.SentTo.join(', ')}`);
  if (r.SentToMemberOf.length) parts.push(`SentToMemberOf ${r.SentToMemberOf.join(', ')}`);
  if (r.RecipientDomainIs.length) parts.push(`RecipientDomainIs ${r.RecipientDomainIs.join(', ')}`);
  return parts.length ? parts.join('; ') : 'all recipients';
}

function presetKind(r: { Name: string; Identity?: string | null }): 'Strict' | 'Standard' | null {
  const n = `${r.Name} ${r.Identity ?? ''}`;
  return /strict/i.test(n) ? 'Strict' : /standard/i.test(n) ? 'Standard' : null;
}

/**
 * The policies that apply to someone, in precedence order. A layer that covers all recipients hides every
 * layer below it. `policyOf` names the policy a rule points to.
 */
export function appliedPolicies<P extends { Name: string; IsDefault: boolean | null }>(
  presets: Obj<'Get-EOPProtectionPolicyRule'>[],
  rules: Obj<'Get-AntiPhishRule'>[],
  policies: P[],
  policyOf: (r: { HostedContentFilterPolicy: string | null; AntiPhishPolicy: string | null }) => string | null,
): Applied<P>[] {
  const out: Applied<P>[] = [];
  const byName = new Map(policies.map((p) => [p.Name.toLowerCase(), p]));
  const enabled = (s: string | null) => s === null || s === 'Enabled';
  const layers: { layer: string; name: string | null; scope: string; preset: 'Strict' | 'Standard' | null }[] = [];
  const presetRules = presets
    .filter((r) => enabled(r.State))
    .map((r) => ({ r, kind: presetKind(r) }))
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'Strict' ? -1 : 1));
  for (const { r, kind } of presetRules)
    layers.push({
      layer: `${kind ?? 'Preset'} preset (${r.Name})`,
      name: policyOf(r),
      scope: scopeOf(r),
      preset: kind,
    });
  for (const r of [...rules].filter((x) => enabled(x.State)).sort((a, b) => (a.Priority ?? 0) - (b.Priority ?? 0)))
    layers.push({ layer: `rule ${r.Name}`, name: policyOf(r), scope: scopeOf(r), preset: null });
  const def = policies.find((p) => p.IsDefault === true) ?? null;
  layers.push({ layer: 'default policy', name: def?.Name ?? null, scope: 'everyone not covered above', preset: null });
  for (const l of layers) {
    const policy = l.name ? (byName.get(l.name.toLowerCase()) ?? null) : l.layer === 'default policy' ? def : null;
    if (l.layer === 'default policy' && policy === null) continue;
    out.push({
      layer: l.layer,
      policy,
      policyName: l.name ?? policy?.Name ?? '(unnamed)',
      scope: l.scope,
      preset: l.preset,
    });
    if (l.scope === 'all recipients') break;
  }
  return out;
}
