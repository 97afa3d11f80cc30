/**
 * Renderers for `dsguard analyze` results: a readable block per message (table), JSON / NDJSON, one CSV row
 * per message, and Markdown. Every attacker-controlled value goes through the sink's escaping.
 * @module
 */
import type { AnalyzedMessage, AnalyzeResult } from '../analyze/analyze.js';
import { isAnalyzeError } from '../analyze/analyze.js';
import type { Finding } from '../core/finding.js';
import { ruleInfo } from '../core/rules/catalog.js';
import { markdownSafe, terminalSafe } from './safe-text.js';
import { type Column, renderCsv } from './tabular.js';

export interface RenderOptions {
  explain: boolean;
}

function yesNo(v: boolean | null): string {
  return v === null ? 'unknown' : v ? 'yes' : 'no';
}

function evidenceText(f: Finding): string {
  return f.evidence
    .slice(0, 3)
    .map((e) => `${e.field}${e.location ? ` (${e.location})` : ''}: ${e.value}`)
    .join(' | ');
}

const SEV_LABEL = { high: 'HIGH', medium: 'MED ', low: 'LOW ', info: 'info' } as const;

export function renderMessageText(r: AnalyzeResult, opts: RenderOptions): string {
  const t = (s: string, max = 300) => terminalSafe(s, max);
  if (isAnalyzeError(r)) return `${t(r.input)}\n  error: ${t(r.error)}\n\n`;
  const lines: string[] = [];
  lines.push(t(r.input));
  lines.push(
    `  channel ${r.channel}   verdict ${r.verdict}   risk ${r.risk}   RejectDirectSend would block: ${yesNo(r.rejectDirectSendBlocks)}`,
  );
  const to = r.to.length > 3 ? `${r.to.slice(0, 3).join(', ')} (+${r.to.length - 3})` : r.to.join(', ');
  lines.push(`  from ${t(r.from ?? '?', 120)} (envelope ${t(r.envelopeFrom ?? '?', 120)}) to ${t(to || '?', 200)}`);
  if (r.subject !== null) lines.push(`  subject ${t(r.subject, 200)}`);
  lines.push(`  tenant ${t(tenantText(r), 300)}`);
  for (const f of r.findings) {
    lines.push(`  ${SEV_LABEL[f.severity]} ${f.code} ${t(f.message, 200)}`);
    const ev = evidenceText(f);
    if (ev) lines.push(`         ${t(ev, 300)}`);
    if (opts.explain) {
      const info = ruleInfo(f.code);
      lines.push(`         means: ${info.meaning}`);
      lines.push(`         do:    ${info.action}`);
    }
  }
  for (const a of r.attachments.slice(0, 20)) {
    lines.push(`  attachment ${t(a.name ?? '(unnamed)', 120)} ${t(a.contentType, 60)} ${a.size} bytes`);
  }
  for (const n of r.notes) lines.push(`  note: ${t(n, 200)}`);
  return `${lines.join('\n')}\n\n`;
}

/** How the tenant was known, for people: `from the profile`, `attested by Exchange: a.com`, `inferred: …`. */
export function tenantText(r: AnalyzedMessage): string {
  const domains = r.tenant.domains.join(', ');
  switch (r.tenantKnownFrom) {
    case 'profile':
      return 'from the profile';
    case 'attested':
      return `attested by Exchange (no profile): ${domains}`;
    default:
      return `inferred (no profile): ${domains || 'no domain known'}`;
  }
}

const CSV_COLUMNS: Column<AnalyzeResult>[] = [
  { header: 'input', value: (r) => r.input },
  { header: 'messageId', value: (r) => (isAnalyzeError(r) ? null : r.messageId) },
  { header: 'from', value: (r) => (isAnalyzeError(r) ? null : r.from) },
  { header: 'envelopeFrom', value: (r) => (isAnalyzeError(r) ? null : r.envelopeFrom) },
  { header: 'to', value: (r) => (isAnalyzeError(r) ? null : r.to.join(' ')) },
  { header: 'subject', value: (r) => (isAnalyzeError(r) ? null : r.subject) },
  { header: 'connectingIp', value: (r) => (isAnalyzeError(r) ? null : r.connectingIp) },
  { header: 'channel', value: (r) => (isAnalyzeError(r) ? null : r.channel) },
  { header: 'verdict', value: (r) => (isAnalyzeError(r) ? null : r.verdict) },
  { header: 'risk', value: (r) => (isAnalyzeError(r) ? null : r.risk) },
  { header: 'rejectDirectSendBlocks', value: (r) => (isAnalyzeError(r) ? null : yesNo(r.rejectDirectSendBlocks)) },
  { header: 'tenantKnownFrom', value: (r) => (isAnalyzeError(r) ? null : r.tenantKnownFrom) },
  { header: 'findings', value: (r) => (isAnalyzeError(r) ? null : r.findings.map((f) => f.code).join(' ')) },
  { header: 'error', value: (r) => (isAnalyzeError(r) ? r.error : null) },
];

export function renderCsvHeaderAndRow(r: AnalyzeResult, withHeader: boolean): string {
  const csv = renderCsv([r], CSV_COLUMNS);
  if (withHeader) return csv;
  const firstBreak = csv.indexOf('\r\n');
  return csv.slice(firstBreak + 2);
}

export function renderMessageMarkdown(r: AnalyzeResult, opts: RenderOptions): string {
  const m = (s: string, max = 300) => markdownSafe(s, max);
  if (isAnalyzeError(r)) return `### ${m(r.input)}\n\nError: ${m(r.error)}\n\n`;
  const out: string[] = [];
  out.push(`### ${m(r.input)}`, '');
  out.push(
    `**${r.channel}**, verdict **${r.verdict}**, risk **${r.risk}**, RejectDirectSend would block: **${yesNo(r.rejectDirectSendBlocks)}**`,
    '',
  );
  out.push(`- From: ${m(r.from ?? '?')} (envelope ${m(r.envelopeFrom ?? '?')})`);
  out.push(`- To: ${m(r.to.join(', ') || '?')}`);
  if (r.subject !== null) out.push(`- Subject: ${m(r.subject)}`);
  out.push(`- Tenant: ${m(tenantText(r))}`);
  out.push('', '| severity | code | finding | evidence |', '| --- | --- | --- | --- |');
  for (const f of r.findings) {
    const explain = opts.explain ? ` — ${m(ruleInfo(f.code).meaning, 1000)}` : '';
    out.push(`| ${f.severity} | ${f.code} | ${m(f.message)}${explain} | ${m(evidenceText(f))} |`);
  }
  return `${out.join('\n')}\n\n`;
}

export function summaryLine(results: {
  messages: number;
  errors: number;
  byChannel: Map<string, number>;
  /** Messages assessed without a profile, by how the tenant was known. */
  byTenantKnownFrom?: Map<string, number>;
}): string {
  const parts = [...results.byChannel.entries()].sort().map(([k, v]) => `${k} ${v}`);
  const noProfile = [...(results.byTenantKnownFrom ?? new Map<string, number>()).entries()]
    .filter(([k]) => k !== 'profile')
    .sort()
    .map(([k, v]) => `${v} ${k}`);
  const tenant = noProfile.length > 0 ? ` (no profile: tenant ${noProfile.join(', ')})` : '';
  return `${results.messages} message(s)${results.errors ? `, ${results.errors} error(s)` : ''}${parts.length ? `: ${parts.join(', ')}` : ''}${tenant}`;
}

export type { AnalyzedMessage };
