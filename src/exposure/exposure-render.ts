/**
 * `dsguard exposure` records as text, Markdown and CSV (JSON is the record itself): the domain's risk, MX,
 * smart host, gateway bypass, SPF and DMARC, its findings most severe first and the recommendations. Every
 * value from DNS is attacker-controlled and goes through the safe-text escapes of its format.
 * @module
 */
import { stringify } from 'csv-stringify/sync';
import { bySeverityDescending, type Finding } from '../core/finding.js';
import type { DomainExposure } from '../core/posture/exposure-audit.js';
import { RULES } from '../core/rules/catalog.js';
import type { RecordRenderers } from '../report/record-renderers.js';
import { csvSafe, markdownSafe, terminalSafe } from '../report/safe-text.js';
import { type DomainInputError, isDomainInputError } from './exposure.js';

/** One record of the stream: a domain's audit, or the input line that was not a domain. */
export type ExposureRow = DomainExposure | DomainInputError;

export function exposureRenderers(explain: boolean): RecordRenderers<ExposureRow> {
  return {
    title: 'dsguard exposure',
    text: (r) => renderText(r, explain),
    markdown: (r) => renderMarkdown(r, explain),
    csv: (r, header) => renderCsvRow(r, header),
  };
}

function sortedFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => bySeverityDescending(a.severity, b.severity) || a.code.localeCompare(b.code));
}

function yesNo(v: boolean | null): string {
  return v === null ? 'unknown' : v ? 'yes' : 'no';
}

function dmarcLine(d: DomainExposure['dmarc']): string {
  if (d.result === 'none') return 'none published';
  if (d.result !== 'ok') return `${d.result}${d.error ? ` (${d.error})` : ''}`;
  const parts = [
    `p=${d.policy}`,
    `sp=${d.subdomainPolicy}`,
    `pct=${d.pct}`,
    d.rua.length ? `rua ${d.rua.length}` : 'no rua',
  ];
  return `${parts.join(' ')} at _dmarc.${d.recordDomain}${d.inherited ? ' (inherited)' : ''}`;
}

function spfLine(s: DomainExposure['spf']): string {
  if (s.result === 'none') return 'none published';
  const parts = [
    s.result,
    `all ${s.all ?? '(none: neutral)'}`,
    `${s.dnsLookups}/10 lookups`,
    `${s.voidLookups}/2 void`,
    `Exchange Online include ${s.includesExchangeOnline ? 'yes' : 'no'}`,
  ];
  return parts.join(', ');
}

export function renderText(r: ExposureRow, explain: boolean): string {
  const t = (s: string, max = 200) => terminalSafe(s, max);
  if (isDomainInputError(r)) return `${t(r.input)}: error: ${t(r.error)}\n\n`;
  const out: string[] = [];
  out.push(`${t(r.domain)} — risk ${r.risk.toUpperCase()}${r.status !== 'ok' ? ` (${r.status})` : ''}`);
  const ev = [...new Set(r.exchangeOnlineEvidence.map((e) => e.signal))];
  out.push(
    `  Exchange Online  ${r.exchangeOnline ? `yes (${ev.join(', ')})` : 'no'}${r.tenant ? `, tenant ${t(r.tenant)}` : ''}`,
  );
  if (r.mx.length === 0) out.push(`  MX               ${r.mxError ? t(r.mxError) : 'none'}`);
  r.mx.slice(0, 5).forEach((m, i) => {
    out.push(
      `  ${i === 0 ? 'MX              ' : '                '} ${m.preference} ${t(m.host)} [${t(m.provider ?? 'unknown provider')}]`,
    );
  });
  if (r.mx.length > 5) out.push(`                   … ${r.mx.length - 5} more`);
  const sh = r.smartHosts.find((c) => c.host === r.smartHost);
  out.push(
    `  Smart host       ${t(r.smartHost ?? '-')} ${
      r.smartHostResolves === true
        ? `resolves (${sh?.addresses.slice(0, 3).join(', ') ?? ''})`
        : r.smartHostResolves === false
          ? 'does not resolve'
          : 'unknown (lookup failed)'
    }`,
  );
  out.push(
    `  Gateway bypass   ${r.gatewayBypass ? `YES — MX at ${t(r.gateway ?? '')}, Exchange Online reachable directly` : 'no'}`,
  );
  out.push(`  SPF              ${t(spfLine(r.spf))}`);
  if (r.spf.record) out.push(`                   ${t(r.spf.record, 300)}`);
  out.push(`  DMARC            ${t(dmarcLine(r.dmarc))}`);
  if (r.dmarc.record) out.push(`                   ${t(r.dmarc.record, 300)}`);
  for (const reason of r.riskReasons) out.push(`  Why              ${t(reason, 300)}`);
  if (r.findings.length > 0) {
    out.push('  Findings');
    for (const f of sortedFindings(r.findings)) {
      out.push(
        `    ${f.severity.toUpperCase().padEnd(6)} ${f.code} ${t(RULES.get(f.code)?.title ?? '')}: ${t(f.message, 300)}`,
      );
      if (explain) {
        const info = RULES.get(f.code);
        if (info) {
          out.push(`           meaning: ${t(info.meaning, 1000)}`);
          out.push(`           action:  ${t(info.action, 1000)}`);
        }
      }
    }
  }
  if (r.recommendations.length > 0) {
    out.push('  Recommendations');
    for (const rec of r.recommendations) {
      out.push(`    ${rec.priority}. ${t(rec.title)}: ${t(rec.action, 600)}`);
      if (explain) out.push(`       why: ${t(rec.why, 600)}`);
    }
  }
  return `${out.join('\n')}\n\n`;
}

export function renderMarkdown(r: ExposureRow, explain: boolean): string {
  const m = (s: string, max = 300) => markdownSafe(s, max);
  if (isDomainInputError(r)) return `## ${m(r.input)}\n\nerror: ${m(r.error)}\n\n`;
  const rows: [string, string][] = [
    ['Risk', `**${r.risk}**${r.status !== 'ok' ? ` (${r.status})` : ''}`],
    [
      'Exchange Online',
      r.exchangeOnline ? `yes (${m([...new Set(r.exchangeOnlineEvidence.map((e) => e.signal))].join(', '))})` : 'no',
    ],
    [
      'MX',
      r.mx.length
        ? r.mx.map((x) => `${x.preference} ${m(x.host)} (${m(x.provider ?? 'unknown')})`).join('<br>')
        : m(r.mxError ?? 'none'),
    ],
    [
      'Smart host',
      `${m(r.smartHost ?? '-')}: ${yesNo(r.smartHostResolves) === 'yes' ? 'resolves' : yesNo(r.smartHostResolves) === 'no' ? 'does not resolve' : 'unknown'}`,
    ],
    ['Gateway bypass', r.gatewayBypass ? `**yes** (MX at ${m(r.gateway ?? '')})` : 'no'],
    ['SPF', m(spfLine(r.spf))],
    ['DMARC', m(dmarcLine(r.dmarc))],
  ];
  const out = [`## ${m(r.domain)}`, '', '| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ''];
  for (const reason of r.riskReasons) out.push(`${m(reason)}`, '');
  if (r.findings.length) {
    out.push('| severity | code | finding |', '| --- | --- | --- |');
    for (const f of sortedFindings(r.findings)) {
      const info = RULES.get(f.code);
      const extra = explain && info ? `<br>*${m(info.action, 1000)}*` : '';
      out.push(`| ${f.severity} | ${f.code} | ${m(f.message)}${extra} |`);
    }
    out.push('');
  }
  if (r.recommendations.length) {
    for (const rec of r.recommendations) out.push(`${rec.priority}. **${m(rec.title)}**: ${m(rec.action, 600)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const CSV_COLUMNS = [
  'domain',
  'risk',
  'status',
  'exchange_online',
  'tenant',
  'mx',
  'mx_provider',
  'smart_host',
  'smart_host_resolves',
  'gateway_bypass',
  'gateway',
  'spf_result',
  'spf_all',
  'spf_dns_lookups',
  'spf_void_lookups',
  'spf_includes_exchange_online',
  'spf_error',
  'dmarc_result',
  'dmarc_policy',
  'dmarc_subdomain_policy',
  'dmarc_pct',
  'dmarc_record_domain',
  'dmarc_error',
  'findings',
  'dns_errors',
  'error',
] as const;

/** `-all` reads as a formula to spreadsheets; the CSV says what it means first. */
const ALL_WORDS = { '-all': 'fail', '~all': 'softfail', '?all': 'neutral', '+all': 'pass' } as const;

function csvCells(r: ExposureRow): (string | number | boolean | null)[] {
  if (isDomainInputError(r)) {
    return CSV_COLUMNS.map((c) => (c === 'domain' ? r.input : c === 'error' ? r.error : null));
  }
  const primary = r.mx[0];
  return [
    r.domain,
    r.risk,
    r.status,
    r.exchangeOnline,
    r.tenant,
    r.mx.map((m) => `${m.preference} ${m.host}`).join(' | '),
    primary ? (primary.provider ?? 'unknown') : null,
    r.smartHost,
    r.smartHostResolves,
    r.gatewayBypass,
    r.gateway,
    r.spf.result,
    r.spf.all ? `${ALL_WORDS[r.spf.all]} (${r.spf.all})` : null,
    r.spf.dnsLookups,
    r.spf.voidLookups,
    r.spf.includesExchangeOnline,
    r.spf.error,
    r.dmarc.result,
    r.dmarc.policy,
    r.dmarc.subdomainPolicy,
    r.dmarc.pct,
    r.dmarc.recordDomain,
    r.dmarc.error,
    sortedFindings(r.findings)
      .map((f) => f.code)
      .join(' '),
    r.dnsErrors.map((e) => `${e.type} ${e.name}: ${e.error}`).join(' | '),
    null,
  ];
}

function renderCsvRow(r: ExposureRow, first: boolean): string {
  const cells = csvCells(r).map((v) => csvSafe(v === null ? '' : String(v)));
  return stringify(first ? [[...CSV_COLUMNS], cells] : [cells], { record_delimiter: '\r\n' });
}
