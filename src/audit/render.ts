/**
 * Renderers for the scorecard: an aligned table, JSON, Markdown, one self-contained HTML page and JUnit XML (each
 * control a test case, so a pipeline shows it as Maester does). Every value is escaped for its sink; fixing
 * commands are printed whole, never cut.
 * @module
 */
import { htmlEscape, markdownSafe, terminalSafe } from '../report/safe-text.js';
import { renderTextTable } from '../report/tabular.js';
import type { ControlStatus, Scorecard } from './checks.js';

const WHOLE = 1_000_000;
const MARK: Record<ControlStatus, string> = { pass: 'PASS', fail: 'FAIL', unknown: 'UNKNOWN', info: 'INFO' };

function header(card: Scorecard): string {
  const t = card.tenant;
  return `Tenant: ${t.name ?? '(name unknown)'}${t.id ? ` (${t.id})` : ''}; accepted domains: ${t.domains.join(', ') || '(unknown)'}`;
}

function summaryText(card: Scorecard): string {
  const s = card.summary;
  return `${s.pass} pass, ${s.fail} fail, ${s.unknown} unknown, ${s.info} info`;
}

export function renderAuditTable(card: Scorecard): string {
  const out: string[] = [terminalSafe(header(card), WHOLE), ''];
  out.push(
    renderTextTable(card.controls, [
      { header: 'code', value: (r) => r.code },
      { header: 'status', value: (r) => MARK[r.status] },
      { header: 'control', value: (r) => r.control, width: 60 },
      { header: 'subject', value: (r) => r.subject ?? '', width: 40 },
    ]),
  );
  out.push('Details');
  for (const r of card.controls) {
    out.push(
      '',
      `${r.code} ${MARK[r.status]} ${terminalSafe(r.control, WHOLE)}${r.subject ? ` — ${terminalSafe(r.subject, 200)}` : ''}`,
    );
    out.push(`  ${terminalSafe(r.detail, WHOLE)}`);
    for (const e of r.evidence) out.push(`  evidence: ${terminalSafe(`${e.object} ${e.property} = ${e.value}`, 2000)}`);
    for (const f of r.fix) out.push(`  fix: ${terminalSafe(f, WHOLE)}`);
  }
  if (card.problems.length > 0) {
    out.push('', 'Configuration input');
    for (const p of card.problems) out.push(`  ${terminalSafe(p, 2000)}`);
  }
  out.push('', summaryText(card));
  return `${out.join('\n')}\n`;
}

export function renderAuditJson(card: Scorecard): string {
  return `${JSON.stringify(card, null, 2)}\n`;
}

export function renderAuditMarkdown(card: Scorecard): string {
  const out: string[] = ['# dsguard audit', '', markdownSafe(header(card), WHOLE), '', `**${summaryText(card)}**`, ''];
  out.push('| code | status | control | subject |', '| --- | --- | --- | --- |');
  for (const r of card.controls)
    out.push(`| ${r.code} | ${MARK[r.status]} | ${markdownSafe(r.control)} | ${markdownSafe(r.subject ?? '')} |`);
  for (const r of card.controls) {
    out.push(
      '',
      `## ${r.code} ${MARK[r.status]}: ${markdownSafe(r.control, WHOLE)}${r.subject ? ` — ${markdownSafe(r.subject)}` : ''}`,
      '',
    );
    out.push(markdownSafe(r.detail, WHOLE));
    if (r.evidence.length) {
      out.push('');
      for (const e of r.evidence)
        out.push(`- ${markdownSafe(e.object)} · ${markdownSafe(e.property)} = ${markdownSafe(e.value, 2000)}`);
    }
    if (r.fix.length) {
      // A fenced block holds the commands verbatim; a fence longer than any backtick run inside keeps it closed.
      const longest = Math.max(0, ...r.fix.map((f) => Math.max(0, ...(f.match(/`+/g) ?? []).map((m) => m.length))));
      const fence = '`'.repeat(Math.max(3, longest + 1));
      out.push('', fence, ...r.fix.map((f) => terminalSafe(f, WHOLE)), fence);
    }
  }
  if (card.problems.length) {
    out.push('', '## Configuration input', '');
    for (const p of card.problems) out.push(`- ${markdownSafe(p, 2000)}`);
  }
  return `${out.join('\n')}\n`;
}

const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** HTML text: control, bidi and zero-width characters dropped, then escaped. */
function h(value: string): string {
  return htmlEscape(value.replace(CONTROLS, ''));
}

export function renderAuditHtml(card: Scorecard): string {
  const rows = card.controls
    .map(
      (r) =>
        `<tr class="${r.status}"><td>${r.code}</td><td>${MARK[r.status]}</td><td>${h(r.control)}${r.subject ? `<br><small>${h(r.subject)}</small>` : ''}</td><td>${h(r.detail)}${
          r.evidence.length
            ? `<ul>${r.evidence.map((e) => `<li>${h(e.object)} · ${h(e.property)} = <code>${h(e.value)}</code></li>`).join('')}</ul>`
            : ''
        }${r.fix.length ? `<pre>${r.fix.map((f) => h(f)).join('\n')}</pre>` : ''}</td></tr>`,
    )
    .join('\n');
  const problems = card.problems.length
    ? `<h2>Configuration input</h2><ul>${card.problems.map((p) => `<li>${h(p)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>dsguard audit</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}tr.fail td:nth-child(2){color:#b00;font-weight:bold}tr.pass td:nth-child(2){color:#070}tr.unknown td:nth-child(2){color:#a60}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5em}</style>
</head><body><h1>dsguard audit</h1><p>${h(header(card))}</p><p><strong>${h(summaryText(card))}</strong></p>
<table><thead><tr><th>code</th><th>status</th><th>control</th><th>detail, evidence, fix</th></tr></thead><tbody>
${rows}
</tbody></table>${problems}</body></html>
`;
}

/** XML 1.0 text: escaped, with characters XML cannot hold removed. */
function xml(value: string): string {
  return (
    value
      .replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
      // Bidi overrides and zero-width characters would reorder or hide text in a CI viewer.
      .replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, '')
      .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  );
}

export function renderAuditJunit(card: Scorecard): string {
  const s = card.summary;
  const cases = card.controls.map((r) => {
    const name = xml(`${r.code} ${r.control}${r.subject ? ` — ${r.subject}` : ''}`);
    const body = xml(
      [
        r.detail,
        ...r.evidence.map((e) => `${e.object} ${e.property} = ${e.value}`),
        ...r.fix.map((f) => `fix: ${f}`),
      ].join('\n'),
    );
    const inner =
      r.status === 'fail'
        ? `<failure message="${xml(r.detail.slice(0, 300))}" type="${r.code}">${body}</failure>`
        : r.status === 'unknown'
          ? `<skipped message="${xml(r.detail.slice(0, 300))}"/>`
          : `<system-out>${body}</system-out>`;
    return `    <testcase classname="dsguard.audit" name="${name}">${inner}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="dsguard audit" tests="${card.controls.length}" failures="${s.fail}" skipped="${s.unknown}">
  <testsuite name="${xml(card.tenant.name ?? card.tenant.id ?? 'tenant')}" tests="${card.controls.length}" failures="${s.fail}" skipped="${s.unknown}" errors="0">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
