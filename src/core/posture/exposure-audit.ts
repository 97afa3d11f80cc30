/**
 * The Direct Send exposure of one domain, from public DNS alone (pure). `auditExposure(domain, answers)` reads
 * the answers fetched so far and returns the verdict plus the queries it still needs; the edge fetches those and
 * calls it again until nothing is missing (src/exposure.ts). What it looks at:
 *
 * - MX hosts, each classified by provider (mx-providers.ts).
 * - Exchange Online in use: MX at EOP or `*.mx.microsoft`, the tenant smart host resolving, SPF including
 *   spf.protection.outlook.com, DKIM selector CNAMEs to Microsoft, an `MS=ms…` verification TXT.
 * - The smart host: the EOP MX host, else `<domain-with-dashes>.mail.protection.outlook.com`, else the
 *   tenant's `*.onmicrosoft.com` MX (tenant read from the DKIM CNAME), and whether it resolves.
 * - Gateway bypass: MX at another host (a gateway) while the Exchange Online smart host resolves.
 * - SPF (spf.ts) and DMARC (dmarc.ts).
 *
 * Risk (Direct Send exposure, not general mail hygiene): `high` when the gateway can be bypassed, or the smart
 * host is reachable and DMARC does not enforce (missing, none, invalid, pct<100, testing); `medium` when the smart
 * host is reachable and DMARC enforces (Direct Send still works unless RejectDirectSend is on, which DNS cannot
 * show: `dsguard probe` can); `low` when no Exchange Online endpoint resolves for the domain; `unknown` when the
 * lookups that decide it failed.
 * @module
 */
import { normalizeDomain } from '../domain-name.js';
import type { EvidenceRef, Finding } from '../finding.js';
import { finding } from '../rules/make-finding.js';
import { auditDmarc, type DmarcAudit } from './dmarc.js';
import {
  type DnsAnswer,
  type DnsAnswers,
  type DnsQuery,
  describeFailure,
  isTemporary,
  isVoid,
  NeededQueries,
} from './dns-answer.js';
import { type MxProviderKind, mxProvider } from './mx-providers.js';
import {
  derivedSmartHost,
  EXO_SPF_INCLUDE,
  exchangeMxForm,
  isMicrosoftVerificationTxt,
  onmicrosoftDomain,
  tenantFromDkimTarget,
} from './smart-host.js';
import { auditSpf, type SpfAudit } from './spf.js';

export interface MxHost {
  host: string;
  preference: number;
  /** Provider name from the table, `Exchange Online (EOP)`, …; `null` when unknown (self-hosted or unlisted). */
  provider: string | null;
  providerId: string | null;
  kind: MxProviderKind | 'other';
}

export type SmartHostSource = 'mx' | 'derived' | 'onmicrosoft';

export interface SmartHostCheck {
  host: string;
  source: SmartHostSource;
  /** `null` when the lookup failed (SERVFAIL, timeout). */
  resolves: boolean | null;
  addresses: string[];
  error: string | null;
}

export type ExchangeSignal = 'mx' | 'smart-host' | 'spf' | 'dkim' | 'ms-txt';

export interface Recommendation {
  /** 1 is most urgent. */
  priority: number;
  title: string;
  action: string;
  why: string;
  codes: string[];
}

export type ExposureRisk = 'high' | 'medium' | 'low' | 'unknown';

export interface DomainExposure {
  domain: string;
  /** `nxdomain`: the domain does not exist; `incomplete`: some lookups failed. */
  status: 'ok' | 'nxdomain' | 'incomplete';
  exchangeOnline: boolean;
  exchangeOnlineEvidence: { signal: ExchangeSignal; value: string }[];
  /** The tenant name (`contoso` of contoso.onmicrosoft.com) when a DKIM CNAME reveals it. */
  tenant: string | null;
  mx: MxHost[];
  mxError: string | null;
  /** The host an attacker would connect to for Direct Send. */
  smartHost: string | null;
  smartHostResolves: boolean | null;
  smartHosts: SmartHostCheck[];
  gatewayBypass: boolean;
  /** The provider (or host) the MX points at when the gateway can be bypassed. */
  gateway: string | null;
  /** The SPF audit's summary fields (the full audit, with problems and every record, stays internal). */
  spf: Pick<
    SpfAudit,
    | 'record'
    | 'result'
    | 'all'
    | 'dnsLookups'
    | 'voidLookups'
    | 'includesExchangeOnline'
    | 'includes'
    | 'redirect'
    | 'ip4'
    | 'ip6'
    | 'lookups'
    | 'error'
  >;
  dmarc: Pick<
    DmarcAudit,
    'record' | 'recordDomain' | 'inherited' | 'result' | 'policy' | 'subdomainPolicy' | 'pct' | 'rua' | 'ruf' | 'error'
  >;
  risk: ExposureRisk;
  riskReasons: string[];
  findings: Finding[];
  recommendations: Recommendation[];
  /** Lookups that failed temporarily (SERVFAIL, timeout, refused, error), kept distinct. */
  dnsErrors: { name: string; type: string; error: string }[];
}

const MAX_MX_HOSTS = 20;
const MAX_SMART_HOST_CHECKS = 4;

function ref(domain: string, type: string, name: string, value: string): EvidenceRef {
  return { source: `dns:${domain}`, field: `${type} ${name}`, value };
}

function addresses(ans: DnsAnswer<'A'> | undefined): string[] {
  return ans && ans.status === 'ok' ? ans.records : [];
}

/** Audit one domain over the answers fetched so far; `needs` lists the queries still missing. */
export function auditExposure(domainIn: string, answers: DnsAnswers): { result: DomainExposure; needs: DnsQuery[] } {
  const domain = normalizeDomain(domainIn);
  const needs = new NeededQueries();
  const dnsErrors: DomainExposure['dnsErrors'] = [];
  const ask = <T extends 'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME'>(name: string, type: T): DnsAnswer<T> | undefined => {
    const a = answers.get(name, type);
    if (a === undefined) needs.add(name, type);
    else if (isTemporary(a) && !dnsErrors.some((e) => e.name === name && e.type === type)) {
      dnsErrors.push({ name, type, error: describeFailure(a) });
    }
    return a;
  };
  const findings: Finding[] = [];

  // MX
  const mxAns = ask(domain, 'MX');
  const mx: MxHost[] = [];
  let mxError: string | null = null;
  if (mxAns && mxAns.status === 'ok') {
    const sorted = [...mxAns.records].sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
    for (const r of sorted.slice(0, MAX_MX_HOSTS)) {
      const host = normalizeDomain(r.exchange);
      const p = mxProvider(host);
      mx.push({
        host,
        preference: r.priority,
        provider: p?.name ?? null,
        providerId: p?.id ?? null,
        kind: p?.kind ?? 'other',
      });
    }
  } else if (mxAns) mxError = describeFailure(mxAns);
  const mxNxdomain = mxAns?.status === 'nxdomain';
  // A null MX ("0 .", RFC 7505) says the domain accepts no mail.
  const realMx = mx.filter((m) => m.host !== '');

  // TXT of the domain: SPF and MS= verification
  const txtAns = ask(domain, 'TXT');
  const msTxt = txtAns && txtAns.status === 'ok' ? txtAns.records.filter(isMicrosoftVerificationTxt) : [];

  // DKIM selectors
  let tenant: string | null = null;
  const dkimEvidence: string[] = [];
  for (const sel of ['selector1', 'selector2']) {
    const name = `${sel}._domainkey.${domain}`;
    const c = ask(name, 'CNAME');
    if (c && c.status === 'ok') {
      for (const target of c.records) {
        const t = tenantFromDkimTarget(target);
        if (t) {
          tenant = tenant ?? t;
          dkimEvidence.push(`${name} → ${normalizeDomain(target)}`);
        }
      }
    }
  }

  // Smart host candidates
  const checks: SmartHostCheck[] = [];
  const check = (host: string, source: SmartHostSource) => {
    if (checks.some((c) => c.host === host) || checks.length >= MAX_SMART_HOST_CHECKS) return;
    const a = ask(host, 'A');
    checks.push({
      host,
      source,
      resolves: a === undefined || isTemporary(a) ? null : !isVoid(a),
      addresses: addresses(a),
      error: a && a.status !== 'ok' ? describeFailure(a) : null,
    });
  };
  const exoMx = realMx.filter((m) => exchangeMxForm(m.host) !== null);
  for (const m of exoMx) check(m.host, 'mx');
  const derived = derivedSmartHost(domain);
  check(derived, 'derived');
  if (tenant) {
    const od = onmicrosoftDomain(tenant);
    const odMx = ask(od, 'MX');
    if (odMx && odMx.status === 'ok') {
      const host = [...odMx.records]
        .sort((a, b) => a.priority - b.priority)
        .map((r) => normalizeDomain(r.exchange))
        .find((h) => exchangeMxForm(h) !== null);
      if (host) check(host, 'onmicrosoft');
    }
  }
  const resolving = checks.find((c) => c.resolves === true) ?? null;
  const chosen =
    resolving ?? checks.find((c) => c.source === 'mx') ?? checks.find((c) => c.source === 'derived') ?? null;
  const smartHost = chosen?.host ?? null;
  const smartHostResolves = resolving ? true : checks.some((c) => c.resolves === null) ? null : false;

  // SPF and DMARC
  const spfRun = auditSpf(domain, answers);
  for (const q of spfRun.needs) needs.add(q.name, q.type);
  const spf = spfRun.audit;
  const dmarcRun = auditDmarc(domain, answers);
  for (const q of dmarcRun.needs) needs.add(q.name, q.type);
  const dmarc = dmarcRun.audit;

  // Exchange Online evidence
  const evidence: DomainExposure['exchangeOnlineEvidence'] = [];
  for (const m of exoMx) evidence.push({ signal: 'mx', value: `${m.preference} ${m.host}` });
  for (const c of checks) if (c.resolves && c.source !== 'mx') evidence.push({ signal: 'smart-host', value: c.host });
  if (spf.includesExchangeOnline) evidence.push({ signal: 'spf', value: `include:${EXO_SPF_INCLUDE}` });
  for (const d of dkimEvidence) evidence.push({ signal: 'dkim', value: d });
  for (const t of msTxt) evidence.push({ signal: 'ms-txt', value: t });
  const exchangeOnline = evidence.length > 0;

  const nonExoMx = realMx.filter((m) => exchangeMxForm(m.host) === null && m.kind !== 'exchange-online-consumer');
  const gatewayBypass = exoMx.length === 0 && nonExoMx.length > 0 && resolving !== null;
  const primary = nonExoMx[0];
  const gateway = gatewayBypass && primary ? (primary.provider ?? primary.host) : null;

  // Findings
  const mxRef = (m: MxHost) => ref(domain, 'MX', domain, `${m.preference} ${m.host}`);
  if (exchangeOnline) {
    findings.push(
      finding(
        'DS700',
        `${domain} is served by Exchange Online (${[...new Set(evidence.map((e) => e.signal))].join(', ')})`,
        evidence.map((e) => ({ source: `dns:${domain}`, field: e.signal, value: e.value })),
      ),
    );
  }
  for (const m of exoMx) {
    if (exchangeMxForm(m.host) === 'dnssec')
      findings.push(finding('DS703', `MX ${m.host} is the DNSSEC form`, [mxRef(m)]));
    else findings.push(finding('DS708', `MX ${m.host} is Exchange Online`, [mxRef(m)]));
  }
  if (gatewayBypass && resolving) {
    findings.push(
      finding(
        'DS702',
        `MX points at ${gateway} but the Exchange Online smart host ${resolving.host} resolves: the gateway can be bypassed`,
        [...nonExoMx.slice(0, 3).map(mxRef), ref(domain, 'A', resolving.host, resolving.addresses.join(', '))],
      ),
    );
  }
  if (resolving) {
    findings.push(
      finding(
        'DS701',
        `Direct Send endpoint ${resolving.host} resolves (${resolving.addresses.slice(0, 3).join(', ')})`,
        [ref(domain, 'A', resolving.host, resolving.addresses.join(', '))],
      ),
    );
  }
  const derivedCheck = checks.find((c) => c.source === 'derived');
  if (derivedCheck && derivedCheck.resolves === false && exchangeOnline) {
    findings.push(
      finding('DS704', `${derivedCheck.host} does not resolve (${derivedCheck.error ?? 'no address'})`, [
        ref(domain, 'A', derivedCheck.host, derivedCheck.error ?? ''),
      ]),
    );
  }
  if (mxNxdomain)
    findings.push(finding('DS705', `${domain} does not exist (NXDOMAIN)`, [ref(domain, 'MX', domain, 'NXDOMAIN')]));
  else if (mxAns && (mxAns.status === 'nodata' || (mxAns.status === 'ok' && realMx.length === 0))) {
    findings.push(finding('DS706', `${domain} publishes no MX`, [ref(domain, 'MX', domain, describeFailure(mxAns))]));
  }
  // SPF (DS723) and DMARC (DS739) report their own lookup failures.
  for (const e of dnsErrors.filter((x) => x.type !== 'TXT')) {
    findings.push(finding('DS707', `${e.type} ${e.name}: ${e.error}`, [ref(domain, e.type, e.name, e.error)]));
  }

  // A domain that does not exist has no SPF or DMARC to judge.
  if (!mxNxdomain) {
    spfFindings(domain, spf, exchangeOnline, findings);
    dmarcFindings(domain, dmarc, findings);
  }

  // SPF and DMARC lookups that failed belong with the other DNS failures.
  for (const p of spf.problems) {
    if (p.code === 'temperror' && !dnsErrors.some((e) => e.name === p.domain && e.type === 'TXT')) {
      dnsErrors.push({ name: p.domain, type: 'TXT', error: p.message.replace(/^.*failed: /, '') });
    }
  }
  if (dmarc.failed && !dnsErrors.some((e) => e.name === dmarc.failed?.name && e.type === 'TXT')) {
    dnsErrors.push({ name: dmarc.failed.name, type: 'TXT', error: dmarc.failed.error });
  }

  // Risk
  const dmarcEnforced =
    dmarc.result === 'ok' &&
    (dmarc.policy === 'reject' || dmarc.policy === 'quarantine') &&
    (dmarc.pct ?? 100) === 100 &&
    dmarc.parsed?.testing !== true;
  const reasons: string[] = [];
  let risk: ExposureRisk;
  const reachable = resolving !== null;
  if (gatewayBypass) {
    risk = 'high';
    reasons.push(`the MX gateway (${gateway}) can be bypassed through ${resolving?.host}`);
  } else if (reachable && !dmarcEnforced && dmarc.result !== 'temperror') {
    risk = 'high';
    reasons.push(
      `Direct Send endpoint ${resolving.host} is reachable and DMARC does not enforce (${dmarcSummary(dmarc)})`,
    );
  } else if (reachable) {
    risk = 'medium';
    reasons.push(
      `Direct Send endpoint ${resolving.host} is reachable; DNS cannot show whether RejectDirectSend is on (run dsguard probe)`,
    );
    if (dmarc.result === 'temperror') reasons.push('the DMARC lookup failed');
  } else if (smartHostResolves === null || (mxAns !== undefined && isTemporary(mxAns))) {
    risk = 'unknown';
    reasons.push('the lookups that decide whether an Exchange Online endpoint exists failed');
  } else {
    risk = 'low';
    reasons.push(
      exchangeOnline
        ? 'Exchange Online signals exist but no Exchange Online endpoint for the domain resolves'
        : 'no Exchange Online endpoint for the domain resolves',
    );
  }

  const result: DomainExposure = {
    domain,
    status: mxNxdomain ? 'nxdomain' : dnsErrors.length > 0 ? 'incomplete' : 'ok',
    exchangeOnline,
    exchangeOnlineEvidence: evidence,
    tenant,
    mx: realMx,
    mxError,
    smartHost,
    smartHostResolves,
    smartHosts: checks,
    gatewayBypass,
    gateway,
    spf: {
      record: spf.record,
      result: spf.result,
      all: spf.all,
      dnsLookups: spf.dnsLookups,
      voidLookups: spf.voidLookups,
      includesExchangeOnline: spf.includesExchangeOnline,
      includes: spf.includes,
      redirect: spf.redirect,
      ip4: spf.ip4,
      ip6: spf.ip6,
      lookups: spf.lookups,
      error: spf.error,
    },
    dmarc: {
      record: dmarc.record,
      recordDomain: dmarc.recordDomain,
      inherited: dmarc.inherited,
      result: dmarc.result,
      policy: dmarc.policy,
      subdomainPolicy: dmarc.subdomainPolicy,
      pct: dmarc.pct,
      rua: dmarc.rua,
      ruf: dmarc.ruf,
      error: dmarc.error,
    },
    risk,
    riskReasons: reasons,
    findings,
    // A domain that does not exist gets advice only when its smart host still resolves (a stale accepted domain).
    recommendations:
      mxNxdomain && !reachable
        ? []
        : recommend({ gatewayBypass, gateway, reachable, exchangeOnline, spf, dmarc, dmarcEnforced, smartHost }),
    dnsErrors,
  };
  return { result, needs: needs.list };
}

function dmarcSummary(d: DmarcAudit): string {
  if (d.result === 'none') return 'no DMARC record';
  if (d.result !== 'ok') return `DMARC ${d.result}`;
  const parts = [`p=${d.policy}`];
  if ((d.pct ?? 100) < 100) parts.push(`pct=${d.pct}`);
  if (d.parsed?.testing) parts.push('t=y');
  return parts.join(' ');
}

function spfFindings(domain: string, spf: SpfAudit, exchangeOnline: boolean, findings: Finding[]): void {
  const recRef = ref(domain, 'TXT', domain, spf.record ?? '');
  for (const p of spf.problems) {
    const ev = ref(domain, 'TXT', p.domain, p.message);
    switch (p.code) {
      case 'missing':
        findings.push(finding('DS710', p.message, [ref(domain, 'TXT', domain, 'no v=spf1 record')]));
        break;
      case 'lookup-limit':
        findings.push(
          finding('DS714', `SPF needs ${spf.dnsLookups} DNS lookups (limit 10)`, [
            recRef,
            ...spf.lookups.slice(0, 12).map((s) => ref(domain, 'SPF', s.in, `${s.count}: ${s.term}`)),
          ]),
        );
        break;
      case 'void-limit':
        findings.push(
          finding('DS715', `SPF has ${spf.voidLookups} void lookups (limit 2)`, [
            recRef,
            ...spf.lookups.filter((s) => s.void).map((s) => ref(domain, 'SPF', s.in, `void: ${s.term}`)),
          ]),
        );
        break;
      case 'loop':
        findings.push(finding('DS716', p.message, [ev]));
        break;
      case 'multiple-records':
        findings.push(
          finding(
            'DS717',
            p.message,
            spf.records.map((r) => ref(domain, 'TXT', domain, r)),
          ),
        );
        break;
      case 'syntax':
      case 'too-many-mx':
        findings.push(finding('DS718', p.message, [ev]));
        break;
      case 'include-without-spf':
        findings.push(finding('DS719', p.message, [ev]));
        break;
      case 'temperror':
        findings.push(finding('DS723', p.message, [ev]));
        break;
    }
  }
  const rootBroken = spf.problems.some(
    (p) => (p.code === 'syntax' || p.code === 'multiple-records') && p.domain === domain,
  );
  if (spf.record && spf.result !== 'temperror' && !rootBroken) {
    const allRef = ref(domain, 'TXT', spf.allFrom ?? domain, spf.all ?? '(no all mechanism)');
    if (spf.all === '+all') findings.push(finding('DS711', 'SPF ends in +all: every host passes', [allRef]));
    else if (spf.all === '?all' || spf.all === null) {
      findings.push(
        finding('DS712', spf.all ? 'SPF ends in ?all (neutral)' : 'SPF has no all mechanism (neutral)', [allRef]),
      );
    } else if (spf.all === '~all') findings.push(finding('DS713', 'SPF ends in ~all (soft fail)', [allRef]));
    if (exchangeOnline && !spf.includesExchangeOnline) {
      findings.push(finding('DS720', `SPF does not include ${EXO_SPF_INCLUDE}`, [recRef]));
    }
    if (spf.ip4.length + spf.ip6.length === 0)
      findings.push(finding('DS721', 'SPF lists no static ip4/ip6 of its own', [recRef]));
    if (spf.usesPtr) findings.push(finding('DS722', 'SPF uses the ptr mechanism', [recRef]));
  }
}

function dmarcFindings(domain: string, d: DmarcAudit, findings: Finding[]): void {
  const name = d.recordDomain ? `_dmarc.${d.recordDomain}` : `_dmarc.${domain}`;
  const recRef = ref(domain, 'TXT', name, d.record ?? '');
  switch (d.result) {
    case 'none':
      findings.push(
        finding(
          'DS730',
          d.error ?? 'no DMARC record',
          d.looked.map((n) => ref(domain, 'TXT', n, 'no v=DMARC1 record')),
        ),
      );
      return;
    case 'temperror':
      findings.push(finding('DS739', d.error ?? 'DMARC lookup failed', [ref(domain, 'TXT', name, d.error ?? '')]));
      return;
    case 'multiple':
      findings.push(finding('DS735', d.error ?? 'several DMARC records', [recRef]));
      return;
    case 'invalid':
      findings.push(finding('DS734', d.error ?? 'invalid DMARC record', [recRef]));
      return;
  }
  if (d.problems.length > 0) findings.push(finding('DS734', `${name}: ${d.problems.join('; ')}`, [recRef]));
  if (d.inherited)
    findings.push(finding('DS736', `DMARC inherited from ${d.recordDomain} (sp=${d.subdomainPolicy})`, [recRef]));
  if (d.policy === 'none') findings.push(finding('DS731', `DMARC policy for ${domain} is none`, [recRef]));
  else if (d.policy === 'quarantine')
    findings.push(finding('DS732', `DMARC policy for ${domain} is quarantine`, [recRef]));
  if ((d.pct ?? 100) < 100) findings.push(finding('DS733', `DMARC pct=${d.pct}`, [recRef]));
  const rank = { none: 0, quarantine: 1, reject: 2 } as const;
  const p = d.parsed?.p;
  const sp = d.parsed?.sp;
  if (!d.inherited && p && sp && rank[sp] < rank[p]) {
    findings.push(finding('DS737', `sp=${sp} is weaker than p=${p}`, [recRef]));
  }
  if (d.rua.length === 0) findings.push(finding('DS738', 'DMARC requests no aggregate reports', [recRef]));
}

interface RecommendInput {
  gatewayBypass: boolean;
  gateway: string | null;
  reachable: boolean;
  exchangeOnline: boolean;
  spf: SpfAudit;
  dmarc: DmarcAudit;
  dmarcEnforced: boolean;
  smartHost: string | null;
}

/** The seed's prevention steps, made concrete for this domain, most urgent first. */
function recommend(i: RecommendInput): Recommendation[] {
  const out: Omit<Recommendation, 'priority'>[] = [];
  if (i.gatewayBypass) {
    out.push({
      title: 'Close the gateway bypass',
      action: `Create a Partner inbound connector that only accepts mail from ${i.gateway} (RestrictDomainsToIPAddresses with its IPs, or RestrictDomainsToCertificate with its certificate name), turn on Enhanced Filtering for Connectors, and enable RejectDirectSend.`,
      why: `Mail sent straight to ${i.smartHost} never passes ${i.gateway}.`,
      codes: ['DS702'],
    });
  }
  if (i.reachable) {
    out.push({
      title: 'Enable RejectDirectSend',
      action:
        'Find legitimate Direct Send senders first (`dsguard ingest` + `dsguard report`), give them an inbound connector, then run Set-OrganizationConfig -RejectDirectSend $true and confirm with `dsguard probe`.',
      why: `Anyone can connect to ${i.smartHost} on port 25 and send anonymous mail from this domain to its users.`,
      codes: ['DS701'],
    });
  }
  if (!i.dmarcEnforced || i.dmarc.policy !== 'reject') {
    const now =
      i.dmarc.result === 'ok'
        ? `p=${i.dmarc.policy}${(i.dmarc.pct ?? 100) < 100 ? ` pct=${i.dmarc.pct}` : ''}`
        : 'no usable record';
    out.push({
      title: 'Enforce DMARC p=reject',
      action: `Publish "v=DMARC1; p=reject; rua=mailto:<reports>" at _dmarc.${i.dmarc.domain} (today: ${now}); step through p=quarantine if reports still show legitimate unaligned senders.`,
      why: 'RejectDirectSend does not stop spoofs whose envelope sender is external (P2-only); DMARC p=reject does.',
      codes: ['DS730', 'DS731', 'DS732', 'DS733', 'DS734', 'DS735'],
    });
  }
  const broken = i.spf.problems.filter((p) => p.code !== 'missing' && p.code !== 'temperror');
  if (broken.length > 0) {
    out.push({
      title: 'Fix SPF errors',
      action: `Receivers get permerror for this record: ${broken.map((p) => p.message).join('; ')}.`,
      why: 'A record in permerror protects nothing.',
      codes: ['DS714', 'DS715', 'DS716', 'DS717', 'DS718', 'DS719'],
    });
  }
  if (i.spf.result === 'none' || (i.spf.all !== '-all' && i.spf.result === 'ok')) {
    out.push({
      title: 'SPF hard fail',
      action:
        i.spf.result === 'none'
          ? i.exchangeOnline
            ? `Publish "v=spf1 include:${EXO_SPF_INCLUDE} -all" (plus your other senders).`
            : 'Publish an SPF record that lists every server sending for the domain and ends in -all.'
          : `End the SPF record with -all (today: ${i.spf.all ?? 'no all'}); in Exchange Online consider the spam filter's SPF hard-fail setting (MarkAsSpamSpfRecordHardFail).`,
      why: 'A forged envelope sender should fail SPF, not soft-fail or pass neutral.',
      codes: ['DS710', 'DS711', 'DS712', 'DS713'],
    });
  }
  if (i.exchangeOnline && i.spf.record && i.spf.ip4.length + i.spf.ip6.length === 0) {
    out.push({
      title: 'Static IPs in SPF for your own senders',
      action:
        'List the static public IPs of legitimate devices and apps with ip4:/ip6: (recommended by Microsoft, not required), or move them to a connector.',
      why: 'Direct Send from a listed IP passes SPF; everything else fails it.',
      codes: ['DS721'],
    });
  }
  if (i.exchangeOnline) {
    out.push({
      title: 'Anti-spoofing and review of unauthenticated internal mail',
      action:
        'Keep spoof intelligence and the anti-phishing spoof protection on; flag or quarantine anonymous mail from your own domains that fails authentication (a mail flow rule on X-MS-Exchange-Organization-AuthAs: Anonymous); train users on QR-code (quishing) lures.',
      why: 'Defence in depth while Direct Send is still open.',
      codes: [],
    });
  }
  return out.map((r, n) => ({ priority: n + 1, ...r }));
}
