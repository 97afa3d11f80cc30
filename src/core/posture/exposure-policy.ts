/**
 * The SPF and DMARC part of a domain's exposure (pure): the findings DS710–DS739 over the audits of spf.ts and
 * dmarc.ts, and the one-line DMARC summary the risk reasons quote.
 * @module
 */
import type { EvidenceRef, Finding } from '../finding.js';
import { finding } from '../rules/make-finding.js';
import type { DmarcAudit } from './dmarc.js';
import { EXO_SPF_INCLUDE } from './smart-host.js';
import type { SpfAudit } from './spf.js';

/** Evidence from a DNS answer: `dns:<audited domain>`, `<type> <name>`, the value. */
export function dnsRef(domain: string, type: string, name: string, value: string): EvidenceRef {
  return { source: `dns:${domain}`, field: `${type} ${name}`, value };
}

export function dmarcSummary(d: DmarcAudit): string {
  if (d.result === 'none') return 'no DMARC record';
  if (d.result !== 'ok') return `DMARC ${d.result}`;
  const parts = [`p=${d.policy}`];
  if ((d.pct ?? 100) < 100) parts.push(`pct=${d.pct}`);
  if (d.parsed?.testing) parts.push('t=y');
  return parts.join(' ');
}

export function spfFindings(domain: string, spf: SpfAudit, exchangeOnline: boolean, findings: Finding[]): void {
  const recRef = dnsRef(domain, 'TXT', domain, spf.record ?? '');
  for (const p of spf.problems) {
    const ev = dnsRef(domain, 'TXT', p.domain, p.message);
    switch (p.code) {
      case 'missing':
        findings.push(finding('DS710', p.message, [dnsRef(domain, 'TXT', domain, 'no v=spf1 record')]));
        break;
      case 'lookup-limit':
        findings.push(
          finding('DS714', `SPF needs ${spf.dnsLookups} DNS lookups (limit 10)`, [
            recRef,
            ...spf.lookups.slice(0, 12).map((s) => dnsRef(domain, 'SPF', s.in, `${s.count}: ${s.term}`)),
          ]),
        );
        break;
      case 'void-limit':
        findings.push(
          finding('DS715', `SPF has ${spf.voidLookups} void lookups (limit 2)`, [
            recRef,
            ...spf.lookups.filter((s) => s.void).map((s) => dnsRef(domain, 'SPF', s.in, `void: ${s.term}`)),
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
            spf.records.map((r) => dnsRef(domain, 'TXT', domain, r)),
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
    const allRef = dnsRef(domain, 'TXT', spf.allFrom ?? domain, spf.all ?? '(no all mechanism)');
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

export function dmarcFindings(domain: string, d: DmarcAudit, findings: Finding[]): void {
  const name = d.recordDomain ? `_dmarc.${d.recordDomain}` : `_dmarc.${domain}`;
  const recRef = dnsRef(domain, 'TXT', name, d.record ?? '');
  switch (d.result) {
    case 'none':
      findings.push(
        finding(
          'DS730',
          d.error ?? 'no DMARC record',
          d.looked.map((n) => dnsRef(domain, 'TXT', n, 'no v=DMARC1 record')),
        ),
      );
      return;
    case 'temperror':
      findings.push(finding('DS739', d.error ?? 'DMARC lookup failed', [dnsRef(domain, 'TXT', name, d.error ?? '')]));
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
