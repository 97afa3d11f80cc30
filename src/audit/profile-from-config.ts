/**
 * `dsguard profile init` and `profile check` over a {@link TenantConfig}: the profile the configuration implies
 * (tenant id and name, accepted domains, the inbound connectors that match mail by IP or certificate,
 * RejectDirectSend), written as YAML with a comment per value saying where it came from, and the drift between a
 * profile and the tenant. Pure: text in, text out. The admin's own `directSendSources` and `homeCountries` are
 * carried over from an existing profile untouched (yaml's Document API keeps their comments).
 * @module
 */
import { Document, isMap, isSeq, parseDocument, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { normalizeDomain } from '../core/domain-name.js';
import type { TenantProfile } from '../core/profile.js';
import { matchesByIpOrCert, senderDomain } from './checks.js';
import type { TenantConfig } from './config.js';

export interface DerivedConnector {
  name: string;
  type: 'Partner' | 'OnPremises';
  senderIps: string[];
  certificateNames: string[];
  /** Where it came from and what else the tenant says about it (for the comment). */
  note: string;
}

export interface DerivedProfile {
  name: string | null;
  tenantId: string | null;
  domains: string[];
  rejectDirectSend: boolean | null;
  connectors: DerivedConnector[];
  /** Enabled connectors that match no mail by IP or certificate (not in the profile: they exempt nothing). */
  skipped: string[];
  origins: { org: string | null; domains: string | null; connectors: string | null };
}

const ipv4 = (s: string): number | null => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const o = m.slice(1).map(Number);
  return o.some((x) => x > 255) ? null : ((o[0]! * 256 + o[1]!) * 256 + o[2]!) * 256 + o[3]!;
};
const dotted = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** `a.b.c.d-w.x.y.z` → the smallest CIDR list covering exactly that range; anything else is kept as is. */
export function rangeToCidrs(entry: string): string[] {
  const parts = entry.split('-');
  if (parts.length !== 2) return [entry.trim()];
  let lo = ipv4(parts[0]!);
  const hi = ipv4(parts[1]!);
  if (lo === null || hi === null || hi < lo) return [entry.trim()];
  const out: string[] = [];
  while (lo <= hi && out.length < 64) {
    let size = 1;
    let bits = 32;
    while (bits > 0 && lo % (size * 2) === 0 && lo + size * 2 - 1 <= hi) {
      size *= 2;
      bits--;
    }
    out.push(bits === 32 ? dotted(lo) : `${dotted(lo)}/${bits}`);
    lo += size;
  }
  return out;
}

export function deriveProfile(config: TenantConfig): DerivedProfile {
  const o = config.objects;
  const org = o['Get-OrganizationConfig']?.[0] ?? null;
  const connectors: DerivedConnector[] = [];
  const skipped: string[] = [];
  for (const c of [...(o['Get-InboundConnector'] ?? [])].sort((a, b) => a.Name.localeCompare(b.Name))) {
    const facts = `Enabled ${c.Enabled}, ConnectorType ${c.ConnectorType}, SenderDomains ${c.SenderDomains.map(senderDomain).join(',') || '(none)'}, RestrictDomainsToIPAddresses ${c.RestrictDomainsToIPAddresses ?? 'not set'}, RestrictDomainsToCertificate ${c.RestrictDomainsToCertificate ?? 'not set'}`;
    if (!c.Enabled) {
      skipped.push(`${c.Name}: disabled (${facts})`);
      continue;
    }
    const m = matchesByIpOrCert(c);
    if (m.ips.length === 0 && m.certificate === null) {
      skipped.push(
        `${c.Name}: matches by sender domain only, so it exempts no mail from RejectDirectSend (${facts}${c.SenderIPAddresses.length ? `; SenderIPAddresses ${c.SenderIPAddresses.join(',')} unused while RestrictDomainsToIPAddresses is off` : ''})`,
      );
      continue;
    }
    connectors.push({
      name: c.Name,
      type: c.ConnectorType,
      senderIps: m.ips.flatMap(rangeToCidrs),
      certificateNames: m.certificate ? [m.certificate] : [],
      note: facts,
    });
  }
  return {
    name: org?.DisplayName ?? (org?.Name || null),
    tenantId: org?.ExternalDirectoryOrganizationId?.toLowerCase() ?? null,
    domains: [...new Set((o['Get-AcceptedDomain'] ?? []).map((d) => normalizeDomain(d.DomainName)))].sort(),
    rejectDirectSend: org ? (org.RejectDirectSend ?? null) : null,
    connectors,
    skipped,
    origins: {
      org: config.origins['Get-OrganizationConfig'] ?? null,
      domains: config.origins['Get-AcceptedDomain'] ?? null,
      connectors: config.origins['Get-InboundConnector'] ?? null,
    },
  };
}

function comment(node: unknown, text: string): void {
  if (node && typeof node === 'object') (node as Scalar).comment = ` ${text.replace(/[\r\n]+/g, ' ')}`;
}

/**
 * The profile YAML. `existing`: the current file's text, whose `directSendSources` and `homeCountries` are kept
 * (they are the admin's, not the tenant's).
 */
export function profileYaml(d: DerivedProfile, existing: string | null): { text: string } | { error: string } {
  if (d.domains.length === 0)
    return { error: 'no accepted domain: profile init needs Get-AcceptedDomain output (a profile lists at least one)' };
  const tenant: Record<string, unknown> = {};
  if (d.name) tenant.name = d.name;
  tenant.ids = d.tenantId ? [d.tenantId] : [];
  tenant.domains = d.domains;
  if (d.rejectDirectSend !== null) tenant.rejectDirectSend = d.rejectDirectSend;
  // When it was enabled (a day or a time the admin wrote) says more than `true`: keep it while the tenant agrees.
  let keptSince = false;
  if (existing !== null && d.rejectDirectSend === true) {
    const since = parseDocument(existing).getIn(['tenant', 'rejectDirectSend']);
    if (typeof since === 'string' && /^\d{4}-\d{2}-\d{2}/.test(since)) {
      tenant.rejectDirectSend = since;
      keptSince = true;
    }
  }
  const doc = new Document({
    tenant,
    connectors: d.connectors.map((c) => ({
      name: c.name,
      type: c.type,
      senderIps: c.senderIps,
      certificateNames: c.certificateNames,
    })),
  });
  doc.commentBefore =
    ' dsguard profile, written by dsguard profile init from the tenant configuration.\n Values from the tenant are replaced on the next init; directSendSources and homeCountries are yours and are kept.';
  const t = doc.get('tenant', true) as YAMLMap;
  const orgFrom = d.origins.org ?? '(Get-OrganizationConfig missing)';
  if (d.name) comment(t.get('name', true), `Get-OrganizationConfig DisplayName — ${orgFrom}`);
  const ids = t.get('ids', true) as unknown as YAMLSeq;
  if (d.tenantId) comment(ids.items[0], `Get-OrganizationConfig ExternalDirectoryOrganizationId — ${orgFrom}`);
  else ids.comment = ' unknown: Get-OrganizationConfig ExternalDirectoryOrganizationId was not read';
  const doms = t.get('domains', true) as unknown as YAMLSeq;
  for (const item of doms.items) comment(item, `Get-AcceptedDomain — ${d.origins.domains}`);
  if (d.rejectDirectSend !== null)
    comment(
      t.get('rejectDirectSend', true),
      keptSince
        ? `Get-OrganizationConfig RejectDirectSend is true — ${orgFrom}; when it was enabled is yours, kept`
        : `Get-OrganizationConfig RejectDirectSend — ${orgFrom}`,
    );
  const conns = doc.get('connectors', true) as YAMLSeq;
  conns.items.forEach((item, i) => {
    const c = d.connectors[i]!;
    if (isMap(item)) {
      comment(item.get('name', true), `Get-InboundConnector — ${d.origins.connectors}; ${c.note}`);
      comment(item.get('type', true), 'ConnectorType');
      const ips = item.get('senderIps', true);
      if (isSeq(ips))
        for (const ip of ips.items)
          comment(
            ip,
            c.type === 'Partner'
              ? 'SenderIPAddresses (matching: RestrictDomainsToIPAddresses is on)'
              : 'SenderIPAddresses',
          );
      const certs = item.get('certificateNames', true);
      if (isSeq(certs)) for (const cert of certs.items) comment(cert, 'TlsSenderCertificateName');
    }
  });
  if (d.skipped.length > 0)
    conns.commentBefore = ` Not listed (they match no mail by IP or certificate):\n${d.skipped.map((s) => `   - ${s.replace(/[\r\n]+/g, ' ')}`).join('\n')}`;
  else if (d.connectors.length === 0)
    conns.commentBefore = ` ${d.origins.connectors ? `Get-InboundConnector — ${d.origins.connectors}: no connector` : 'Get-InboundConnector was not read'}`;
  if (existing !== null) {
    const old = parseDocument(existing);
    if (old.errors.length === 0) {
      for (const key of ['directSendSources', 'homeCountries']) {
        const node = old.get(key, true);
        if (node !== undefined && node !== null)
          doc.set(key, typeof node === 'object' && 'clone' in node ? (node as { clone(): unknown }).clone() : node);
      }
    }
  }
  return { text: doc.toString({ lineWidth: 0 }) };
}

/** Drift between a profile and the tenant: one line per difference, sorted; empty when they agree. */
export function profileDrift(
  profile: TenantProfile,
  d: DerivedProfile,
  have: { org: boolean; domains: boolean; connectors: boolean },
): string[] {
  const out: string[] = [];
  if (have.org) {
    if (d.tenantId && !profile.tenantIds.includes(d.tenantId))
      out.push(`tenant id: the tenant is ${d.tenantId}, the profile lists ${profile.tenantIds.join(', ') || 'none'}`);
    if (d.rejectDirectSend !== null && profile.rejectDirectSend !== d.rejectDirectSend)
      out.push(
        `RejectDirectSend switched: the tenant has ${d.rejectDirectSend}, the profile says ${profile.rejectDirectSend ?? 'nothing'}`,
      );
  }
  if (have.domains) {
    const mine = new Set(profile.acceptedDomains);
    const theirs = new Set(d.domains);
    for (const x of d.domains) if (!mine.has(x)) out.push(`accepted domain added: ${x}`);
    for (const x of profile.acceptedDomains) if (!theirs.has(x)) out.push(`accepted domain removed: ${x}`);
  }
  if (have.connectors) {
    const byName = new Map(profile.connectors.map((c) => [c.name, c]));
    const tenantNames = new Set(d.connectors.map((c) => c.name));
    for (const c of d.connectors) {
      const p = byName.get(c.name);
      if (!p) {
        out.push(`connector added: ${c.name} (${c.type}, ${[...c.senderIps, ...c.certificateNames].join(', ')})`);
        continue;
      }
      const changes: string[] = [];
      if (p.type !== c.type) changes.push(`type ${p.type} → ${c.type}`);
      const pIps = p.senderIps
        .map((x) => x.text)
        .sort()
        .join(',');
      const tIps = [...c.senderIps].sort().join(',');
      if (pIps !== tIps) changes.push(`senderIps ${pIps || '(none)'} → ${tIps || '(none)'}`);
      const pCerts = [...p.certificateNames].sort().join(',');
      const tCerts = [...c.certificateNames].sort().join(',');
      if (pCerts !== tCerts) changes.push(`certificateNames ${pCerts || '(none)'} → ${tCerts || '(none)'}`);
      if (changes.length) out.push(`connector changed: ${c.name}: ${changes.join('; ')}`);
    }
    for (const p of profile.connectors)
      if (!tenantNames.has(p.name))
        out.push(`connector removed: ${p.name} (no longer matches mail by IP or certificate, or deleted)`);
  }
  return out.sort();
}
