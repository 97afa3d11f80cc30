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
import type { Finding } from '../finding.js';
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
import { dmarcFindings, dmarcSummary, dnsRef, spfFindings } from './exposure-policy.js';
import { type Recommendation, recommend } from './exposure-recommend.js';
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

export type { Recommendation } from './exposure-recommend.js';

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

function addresses(ans: DnsAnswer<'A'> | undefined): string[] {
  return ans && ans.status === 'ok' ? ans.records : [];
}

/**
 * The answers fetched so far, read through `ask`: a missing answer is added to `needs`, a temporary failure to
 * `dnsErrors` (once per name and type), both in the order asked.
 */
interface DnsReader {
  ask<T extends 'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME'>(name: string, type: T): DnsAnswer<T> | undefined;
  needs: NeededQueries;
  dnsErrors: DomainExposure['dnsErrors'];
}

function dnsReader(answers: DnsAnswers): DnsReader {
  const needs = new NeededQueries();
  const dnsErrors: DomainExposure['dnsErrors'] = [];
  return {
    needs,
    dnsErrors,
    ask(name, type) {
      const a = answers.get(name, type);
      if (a === undefined) needs.add(name, type);
      else if (isTemporary(a) && !dnsErrors.some((e) => e.name === name && e.type === type)) {
        dnsErrors.push({ name, type, error: describeFailure(a) });
      }
      return a;
    },
  };
}

interface MxRead {
  answer: DnsAnswer<'MX'> | undefined;
  /** The MX hosts, by preference, without a null MX ("0 .", RFC 7505: the domain accepts no mail). */
  mx: MxHost[];
  error: string | null;
  nxdomain: boolean;
}

function readMx(domain: string, dns: DnsReader): MxRead {
  const answer = dns.ask(domain, 'MX');
  const mx: MxHost[] = [];
  let error: string | null = null;
  if (answer && answer.status === 'ok') {
    const sorted = [...answer.records].sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
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
  } else if (answer) error = describeFailure(answer);
  return { answer, mx: mx.filter((m) => m.host !== ''), error, nxdomain: answer?.status === 'nxdomain' };
}

/** The tenant name and the evidence for it, from the DKIM selector CNAMEs to `*.onmicrosoft.com`. */
function readDkimTenant(domain: string, dns: DnsReader): { tenant: string | null; dkimEvidence: string[] } {
  let tenant: string | null = null;
  const dkimEvidence: string[] = [];
  for (const sel of ['selector1', 'selector2']) {
    const name = `${sel}._domainkey.${domain}`;
    const c = dns.ask(name, 'CNAME');
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
  return { tenant, dkimEvidence };
}

interface SmartHosts {
  checks: SmartHostCheck[];
  /** The first candidate that resolves. */
  resolving: SmartHostCheck | null;
  smartHost: string | null;
  smartHostResolves: boolean | null;
}

/** Check the smart host candidates in order: the EOP MX hosts, the derived name, the tenant's onmicrosoft MX. */
function checkSmartHosts(domain: string, exoMx: readonly MxHost[], tenant: string | null, dns: DnsReader): SmartHosts {
  const checks: SmartHostCheck[] = [];
  const check = (host: string, source: SmartHostSource) => {
    if (checks.some((c) => c.host === host) || checks.length >= MAX_SMART_HOST_CHECKS) return;
    const a = dns.ask(host, 'A');
    checks.push({
      host,
      source,
      resolves: a === undefined || isTemporary(a) ? null : !isVoid(a),
      addresses: addresses(a),
      error: a && a.status !== 'ok' ? describeFailure(a) : null,
    });
  };
  for (const m of exoMx) check(m.host, 'mx');
  check(derivedSmartHost(domain), 'derived');
  if (tenant) {
    const odMx = dns.ask(onmicrosoftDomain(tenant), 'MX');
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
  const smartHostResolves = resolving ? true : checks.some((c) => c.resolves === null) ? null : false;
  return { checks, resolving, smartHost: chosen?.host ?? null, smartHostResolves };
}

/** Every sign that the domain uses Exchange Online: EOP MX, a resolving smart host, SPF, DKIM, MS= TXT. */
function exchangeOnlineSignals(
  exoMx: readonly MxHost[],
  hosts: SmartHosts,
  spf: SpfAudit,
  dkimEvidence: readonly string[],
  msTxt: readonly string[],
): DomainExposure['exchangeOnlineEvidence'] {
  const evidence: DomainExposure['exchangeOnlineEvidence'] = [];
  for (const m of exoMx) evidence.push({ signal: 'mx', value: `${m.preference} ${m.host}` });
  for (const c of hosts.checks)
    if (c.resolves && c.source !== 'mx') evidence.push({ signal: 'smart-host', value: c.host });
  if (spf.includesExchangeOnline) evidence.push({ signal: 'spf', value: `include:${EXO_SPF_INCLUDE}` });
  for (const d of dkimEvidence) evidence.push({ signal: 'dkim', value: d });
  for (const t of msTxt) evidence.push({ signal: 'ms-txt', value: t });
  return evidence;
}

interface Gateway {
  /** MX hosts that are not Exchange Online (a gateway, or self-hosted). */
  nonExoMx: MxHost[];
  gatewayBypass: boolean;
  gateway: string | null;
}

/** A gateway bypass: MX only at other hosts while an Exchange Online smart host resolves. */
function findGateway(mx: readonly MxHost[], exoMx: readonly MxHost[], resolving: SmartHostCheck | null): Gateway {
  const nonExoMx = mx.filter((m) => exchangeMxForm(m.host) === null && m.kind !== 'exchange-online-consumer');
  const gatewayBypass = exoMx.length === 0 && nonExoMx.length > 0 && resolving !== null;
  const primary = nonExoMx[0];
  return { nonExoMx, gatewayBypass, gateway: gatewayBypass && primary ? (primary.provider ?? primary.host) : null };
}

interface EndpointFacts {
  domain: string;
  mx: MxRead;
  exoMx: readonly MxHost[];
  hosts: SmartHosts;
  gateway: Gateway;
  evidence: DomainExposure['exchangeOnlineEvidence'];
  dnsErrors: DomainExposure['dnsErrors'];
}

/** DS700–DS708: Exchange Online, its MX forms, the bypass, the endpoint, missing MX and failed lookups. */
function endpointFindings(f: EndpointFacts): Finding[] {
  const { domain, hosts, gateway } = f;
  const { resolving } = hosts;
  const findings: Finding[] = [];
  const mxRef = (m: MxHost) => dnsRef(domain, 'MX', domain, `${m.preference} ${m.host}`);
  if (f.evidence.length > 0) {
    findings.push(
      finding(
        'DS700',
        `${domain} is served by Exchange Online (${[...new Set(f.evidence.map((e) => e.signal))].join(', ')})`,
        f.evidence.map((e) => ({ source: `dns:${domain}`, field: e.signal, value: e.value })),
      ),
    );
  }
  for (const m of f.exoMx) {
    if (exchangeMxForm(m.host) === 'dnssec')
      findings.push(finding('DS703', `MX ${m.host} is the DNSSEC form`, [mxRef(m)]));
    else findings.push(finding('DS708', `MX ${m.host} is Exchange Online`, [mxRef(m)]));
  }
  if (gateway.gatewayBypass && resolving) {
    findings.push(
      finding(
        'DS702',
        `MX points at ${gateway.gateway} but the Exchange Online smart host ${resolving.host} resolves: the gateway can be bypassed`,
        [
          ...gateway.nonExoMx.slice(0, 3).map(mxRef),
          dnsRef(domain, 'A', resolving.host, resolving.addresses.join(', ')),
        ],
      ),
    );
  }
  if (resolving) {
    findings.push(
      finding(
        'DS701',
        `Direct Send endpoint ${resolving.host} resolves (${resolving.addresses.slice(0, 3).join(', ')})`,
        [dnsRef(domain, 'A', resolving.host, resolving.addresses.join(', '))],
      ),
    );
  }
  const derivedCheck = hosts.checks.find((c) => c.source === 'derived');
  if (derivedCheck && derivedCheck.resolves === false && f.evidence.length > 0) {
    findings.push(
      finding('DS704', `${derivedCheck.host} does not resolve (${derivedCheck.error ?? 'no address'})`, [
        dnsRef(domain, 'A', derivedCheck.host, derivedCheck.error ?? ''),
      ]),
    );
  }
  const mxAns = f.mx.answer;
  if (f.mx.nxdomain)
    findings.push(finding('DS705', `${domain} does not exist (NXDOMAIN)`, [dnsRef(domain, 'MX', domain, 'NXDOMAIN')]));
  else if (mxAns && (mxAns.status === 'nodata' || (mxAns.status === 'ok' && f.mx.mx.length === 0))) {
    findings.push(
      finding('DS706', `${domain} publishes no MX`, [dnsRef(domain, 'MX', domain, describeFailure(mxAns))]),
    );
  }
  // SPF (DS723) and DMARC (DS739) report their own lookup failures.
  for (const e of f.dnsErrors.filter((x) => x.type !== 'TXT')) {
    findings.push(finding('DS707', `${e.type} ${e.name}: ${e.error}`, [dnsRef(domain, e.type, e.name, e.error)]));
  }
  return findings;
}

/** SPF and DMARC lookups that failed belong with the other DNS failures (added once). */
function addPolicyDnsErrors(spf: SpfAudit, dmarc: DmarcAudit, dnsErrors: DomainExposure['dnsErrors']): void {
  for (const p of spf.problems) {
    if (p.code === 'temperror' && !dnsErrors.some((e) => e.name === p.domain && e.type === 'TXT')) {
      dnsErrors.push({ name: p.domain, type: 'TXT', error: p.message.replace(/^.*failed: /, '') });
    }
  }
  if (dmarc.failed && !dnsErrors.some((e) => e.name === dmarc.failed?.name && e.type === 'TXT')) {
    dnsErrors.push({ name: dmarc.failed.name, type: 'TXT', error: dmarc.failed.error });
  }
}

/** DMARC enforces: p=reject or quarantine, on every message (pct=100), not in testing mode. */
function dmarcEnforces(dmarc: DmarcAudit): boolean {
  return (
    dmarc.result === 'ok' &&
    (dmarc.policy === 'reject' || dmarc.policy === 'quarantine') &&
    (dmarc.pct ?? 100) === 100 &&
    dmarc.parsed?.testing !== true
  );
}

/** The exposure verdict and its reasons (the rules are in this module's documentation). */
function assessRisk(
  mx: MxRead,
  hosts: SmartHosts,
  gateway: Gateway,
  dmarc: DmarcAudit,
  exchangeOnline: boolean,
): { risk: ExposureRisk; reasons: string[] } {
  const { resolving } = hosts;
  if (gateway.gatewayBypass) {
    return {
      risk: 'high',
      reasons: [`the MX gateway (${gateway.gateway}) can be bypassed through ${resolving?.host}`],
    };
  }
  if (resolving !== null && !dmarcEnforces(dmarc) && dmarc.result !== 'temperror') {
    return {
      risk: 'high',
      reasons: [
        `Direct Send endpoint ${resolving.host} is reachable and DMARC does not enforce (${dmarcSummary(dmarc)})`,
      ],
    };
  }
  if (resolving !== null) {
    const reasons = [
      `Direct Send endpoint ${resolving.host} is reachable; DNS cannot show whether RejectDirectSend is on (run dsguard probe)`,
    ];
    if (dmarc.result === 'temperror') reasons.push('the DMARC lookup failed');
    return { risk: 'medium', reasons };
  }
  if (hosts.smartHostResolves === null || (mx.answer !== undefined && isTemporary(mx.answer))) {
    return { risk: 'unknown', reasons: ['the lookups that decide whether an Exchange Online endpoint exists failed'] };
  }
  return {
    risk: 'low',
    reasons: [
      exchangeOnline
        ? 'Exchange Online signals exist but no Exchange Online endpoint for the domain resolves'
        : 'no Exchange Online endpoint for the domain resolves',
    ],
  };
}

/** The SPF audit's summary fields, as reported. */
function spfSummary(spf: SpfAudit): DomainExposure['spf'] {
  return {
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
  };
}

/** The DMARC audit's summary fields, as reported. */
function dmarcFields(dmarc: DmarcAudit): DomainExposure['dmarc'] {
  return {
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
  };
}

/** Audit one domain over the answers fetched so far; `needs` lists the queries still missing. */
export function auditExposure(domainIn: string, answers: DnsAnswers): { result: DomainExposure; needs: DnsQuery[] } {
  const domain = normalizeDomain(domainIn);
  const dns = dnsReader(answers);
  const mx = readMx(domain, dns);
  const txtAns = dns.ask(domain, 'TXT');
  const msTxt = txtAns && txtAns.status === 'ok' ? txtAns.records.filter(isMicrosoftVerificationTxt) : [];
  const { tenant, dkimEvidence } = readDkimTenant(domain, dns);
  const exoMx = mx.mx.filter((m) => exchangeMxForm(m.host) !== null);
  const hosts = checkSmartHosts(domain, exoMx, tenant, dns);

  const spfRun = auditSpf(domain, answers);
  for (const q of spfRun.needs) dns.needs.add(q.name, q.type);
  const spf = spfRun.audit;
  const dmarcRun = auditDmarc(domain, answers);
  for (const q of dmarcRun.needs) dns.needs.add(q.name, q.type);
  const dmarc = dmarcRun.audit;

  const evidence = exchangeOnlineSignals(exoMx, hosts, spf, dkimEvidence, msTxt);
  const exchangeOnline = evidence.length > 0;
  const gateway = findGateway(mx.mx, exoMx, hosts.resolving);
  const { dnsErrors } = dns;
  const findings = endpointFindings({ domain, mx, exoMx, hosts, gateway, evidence, dnsErrors });
  // A domain that does not exist has no SPF or DMARC to judge.
  if (!mx.nxdomain) {
    spfFindings(domain, spf, exchangeOnline, findings);
    dmarcFindings(domain, dmarc, findings);
  }
  addPolicyDnsErrors(spf, dmarc, dnsErrors);
  const { risk, reasons } = assessRisk(mx, hosts, gateway, dmarc, exchangeOnline);
  const reachable = hosts.resolving !== null;
  const { smartHost } = hosts;
  const result: DomainExposure = {
    domain,
    status: mx.nxdomain ? 'nxdomain' : dnsErrors.length > 0 ? 'incomplete' : 'ok',
    exchangeOnline,
    exchangeOnlineEvidence: evidence,
    tenant,
    mx: mx.mx,
    mxError: mx.error,
    smartHost,
    smartHostResolves: hosts.smartHostResolves,
    smartHosts: hosts.checks,
    gatewayBypass: gateway.gatewayBypass,
    gateway: gateway.gateway,
    spf: spfSummary(spf),
    dmarc: dmarcFields(dmarc),
    risk,
    riskReasons: reasons,
    findings,
    // A domain that does not exist gets advice only when its smart host still resolves (a stale accepted domain).
    recommendations:
      mx.nxdomain && !reachable
        ? []
        : recommend({
            gatewayBypass: gateway.gatewayBypass,
            gateway: gateway.gateway,
            reachable,
            exchangeOnline,
            spf,
            dmarc,
            dmarcEnforced: dmarcEnforces(dmarc),
            smartHost,
          }),
    dnsErrors,
  };
  return { result, needs: dns.needs.list };
}
