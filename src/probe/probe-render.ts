/**
 * `dsguard probe` reports as text and Markdown (JSON is the report itself): where the probe went, whether
 * Direct Send is open, the reply, TLS, the findings and the SMTP transcript. Replies come from the server and
 * go through the safe-text escapes of their format.
 * @module
 */
import { RULES } from '../core/rules/catalog.js';
import { markdownSafe, terminalSafe } from '../report/safe-text.js';
import type { ProbeReport } from './probe.js';

function exposedText(r: ProbeReport): string {
  if (r.exposed === true) return 'YES — Direct Send is open';
  if (r.exposed === false) return 'no — RejectDirectSend rejected it';
  return 'unknown (not conclusive)';
}

export function renderProbeText(r: ProbeReport, explain: boolean): string {
  const t = (s: string, max = 300) => terminalSafe(s, max);
  const out = [
    `${t(r.domain)} via ${t(r.smartHost ?? '-')}:${r.port}${r.address ? ` (${t(r.address)})` : ''}`,
    `  Result      ${r.result} at ${r.stage}`,
    `  Exposed     ${exposedText(r)}`,
    `  Reply       ${t(r.reply ?? '-')}`,
    `  Why         ${t(r.explanation)}`,
  ];
  if (r.canary) out.push(`  Canary      "${t(r.canary.subject)}"`);
  out.push(
    `  TLS         ${
      r.tls
        ? `${t(r.tls.protocol ?? '?')} ${t(r.tls.cipher ?? '')}${r.tls.authorized ? ', certificate verified' : `, certificate not verified (${t(r.tls.authorizationError ?? 'unknown')})`}`
        : r.startTlsOffered
          ? 'offered, not used'
          : 'not offered'
    }`,
  );
  if (r.findings.length) {
    out.push('  Findings');
    for (const f of r.findings) {
      out.push(
        `    ${f.severity.toUpperCase().padEnd(6)} ${f.code} ${t(RULES.get(f.code)?.title ?? '')}: ${t(f.message)}`,
      );
      const info = RULES.get(f.code);
      if (explain && info) out.push(`           action: ${t(info.action, 1000)}`);
    }
  }
  if (r.transcript.length) {
    out.push('  Transcript');
    for (const l of r.transcript) out.push(`    ${t(l, 600)}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderProbeMarkdown(r: ProbeReport, explain: boolean): string {
  const m = (s: string, max = 300) => markdownSafe(s, max);
  const rows: [string, string][] = [
    ['Smart host', `${m(r.smartHost ?? '-')}:${r.port}`],
    ['Result', `**${r.result}** at ${r.stage}`],
    ['Exposed', m(exposedText(r))],
    ['Reply', m(r.reply ?? '-')],
    ['Why', m(r.explanation)],
  ];
  const out = [
    `# dsguard probe: ${m(r.domain)}`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ];
  for (const f of r.findings) {
    const info = RULES.get(f.code);
    out.push(`- **${f.code}** (${f.severity}): ${m(f.message)}${explain && info ? ` — ${m(info.action, 1000)}` : ''}`);
  }
  out.push('', '```', ...r.transcript.map((l) => terminalSafe(l, 600).replaceAll('```', "'''")), '```', '');
  return out.join('\n');
}
