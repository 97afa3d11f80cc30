/**
 * The connector plan and the change runbook as text (terminal), Markdown and HTML sections. Commands are printed
 * whole in every format — never cut — each with its `-WhatIf` variant and what it changes. Command text holds
 * only printable ASCII (values are checked by core/quote), so it needs no cleaning; prose goes through each
 * sink's escaping.
 * @module
 */
import type { ConnectorPlan, PlannedCommand, PlannedConnector, SourceChoice, SourcePlan } from './connector-plan.js';
import type { Runbook } from './runbook.js';
import { htmlEscape, markdownSafe, terminalSafe } from './safe-text.js';

/** Prose may quote export values (HELO names, IPs): long enough never to cut a sentence of ours. */
const PROSE_MAX = 4000;
const WHOLE = Number.MAX_SAFE_INTEGER;

export const CHOICE_TEXT: Record<SourceChoice, string> = {
  'onpremises-ip': 'OnPremises connector by IP',
  'onpremises-certificate': 'OnPremises connector by certificate',
  'partner-ip': 'Partner connector restricted to its IPs',
  'partner-certificate': 'Partner connector restricted to its certificate',
  covered: 'already covered by an existing connector',
  'no-connector': 'no connector',
  'not-needed': 'needs no connector',
  'awaiting-confirmation': 'awaiting confirmation',
};

function matchText(c: PlannedConnector): string {
  return `${c.type}, by ${c.match === 'ip' ? `IP ${c.ips.join(', ')}` : `certificate ${c.certificate}`}`;
}

function sourceHead(s: SourcePlan): string {
  const who = [s.name, s.owner ? `owner: ${s.owner}` : null].filter((x) => x !== null).join(', ');
  return `${s.source}${who ? ` (${who})` : ''}: ${CHOICE_TEXT[s.choice]}${s.connectors.length ? ` -> ${s.connectors.join(', ')}` : ''}`;
}

/** The commands of one entry, in the order an admin runs them: dry run first. */
function commandLines(c: PlannedCommand, label: string): { comment: string; text: string }[] {
  const out: { comment: string; text: string }[] = [];
  const withheld = c.withheld.length ? ` NOT RUNNABLE, value(s) withheld: ${c.withheld.join('; ')}.` : '';
  if (c.whatIf) out.push({ comment: `${label}, dry run (-WhatIf: changes nothing)`, text: c.whatIf });
  out.push({ comment: `${label}: ${c.effect}${withheld}`, text: c.text });
  return out;
}

export function planText(plan: ConnectorPlan, runbook: Runbook): string[] {
  const t = (s: string) => terminalSafe(s, PROSE_MAX);
  const cmd = (s: string) => terminalSafe(s, WHOLE);
  const out: string[] = ['Connector plan:'];
  if (plan.sources.length === 0) out.push('  no legitimate Direct Send source needs a connector');
  for (const s of plan.sources) {
    out.push(`  ${t(sourceHead(s))}`);
    for (const w of s.why) out.push(`    - ${t(w)}`);
    for (const c of s.commands)
      for (const l of commandLines(c, 'record')) out.push(`    # ${t(l.comment)}`, `    ${cmd(l.text)}`);
  }
  for (const c of plan.connectors) {
    out.push(
      '',
      `  Connector ${t(c.name)} (${t(matchText(c))}; for ${c.sources.join(', ')}${c.owners.length ? `; owners: ${t(c.owners.join(', '))}` : ''}):`,
    );
    for (const a of c.allows) out.push(`    allows:  ${t(a)}`);
    if (c.rejects.length === 0) out.push('    rejects: nothing');
    for (const r of c.rejects) out.push(`    rejects: ${t(r)}`);
    for (const n of c.notes) out.push(`    note:    ${t(n)}`);
    for (const l of commandLines(c.create, 'create')) out.push(`    # ${t(l.comment)}`, `    ${cmd(l.text)}`);
    for (const l of commandLines(c.check, 'check')) out.push(`    # ${t(l.comment)}`, `    ${cmd(l.text)}`);
  }
  out.push('', 'Change runbook:');
  runbook.steps.forEach((step, i) => {
    out.push(`  ${i + 1}. ${t(step.title)}${step.owners.length ? ` (owners: ${t(step.owners.join(', '))})` : ''}`);
    for (const x of step.text) out.push(`     ${t(x)}`);
    for (const c of step.commands) {
      for (const l of commandLines(c, step.phase)) out.push(`     # ${t(l.comment)}`, `     ${cmd(l.text)}`);
    }
  });
  return out;
}

/** A fenced code block that no run of backticks inside it can close (CommonMark: the fence is longer). */
export function fenced(lang: string, lines: readonly string[]): string {
  const body = lines.join('\n');
  let longest = 0;
  for (const m of body.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

function mdCommands(cs: readonly { c: PlannedCommand; label: string }[]): string[] {
  const out: string[] = [];
  for (const { c, label } of cs) {
    for (const l of commandLines(c, label)) {
      out.push(markdownSafe(l.comment, PROSE_MAX), '', fenced(c.shell === 'posix' ? 'sh' : 'powershell', [l.text]), '');
    }
  }
  return out;
}

export function planMarkdown(plan: ConnectorPlan, runbook: Runbook): string[] {
  const m = (s: string) => markdownSafe(s, PROSE_MAX);
  const out: string[] = ['## Connector plan', ''];
  if (plan.sources.length === 0) out.push('No legitimate Direct Send source needs a connector.', '');
  for (const s of plan.sources) {
    out.push(`- **${m(sourceHead(s))}**`);
    for (const w of s.why) out.push(`  - ${m(w)}`);
  }
  out.push('');
  for (const s of plan.sources)
    if (s.commands.length) out.push(...mdCommands(s.commands.map((c) => ({ c, label: `${s.source}: record` }))));
  for (const c of plan.connectors) {
    out.push(
      `### ${m(c.name)}`,
      '',
      `${m(matchText(c))}; for ${c.sources.join(', ')}${c.owners.length ? `; owners: ${m(c.owners.join(', '))}` : ''}.`,
      '',
    );
    for (const a of c.allows) out.push(`- Allows: ${m(a)}`);
    if (c.rejects.length === 0) out.push('- Rejects: nothing.');
    for (const r of c.rejects) out.push(`- **Rejects**: ${m(r)}`);
    for (const n of c.notes) out.push(`- Note: ${m(n)}`);
    out.push(
      '',
      ...mdCommands([
        { c: c.create, label: 'Create' },
        { c: c.check, label: 'Check' },
      ]),
    );
  }
  out.push('## Change runbook', '');
  runbook.steps.forEach((step, i) => {
    out.push(`### ${i + 1}. ${m(step.title)}`, '');
    if (step.owners.length) out.push(`Owners: ${m(step.owners.join(', '))}`, '');
    for (const x of step.text) out.push(`- ${m(x)}`);
    out.push('', ...mdCommands(step.commands.map((c) => ({ c, label: step.phase }))));
  });
  return out;
}

export function planHtml(plan: ConnectorPlan, runbook: Runbook): string {
  const e = htmlEscape;
  const cmds = (cs: readonly { c: PlannedCommand; label: string }[]) =>
    cs
      .flatMap(({ c, label }) => commandLines(c, label))
      .map((l) => `<p><small>${e(l.comment)}</small></p><pre>${e(l.text)}</pre>`)
      .join('\n');
  const parts: string[] = ['<h2>Connector plan</h2>'];
  if (plan.sources.length === 0) parts.push('<p>No legitimate Direct Send source needs a connector.</p>');
  else {
    parts.push(
      `<ul>${plan.sources
        .map(
          (s) =>
            `<li><b>${e(sourceHead(s))}</b><ul>${s.why.map((w) => `<li>${e(w)}</li>`).join('')}</ul>${cmds(s.commands.map((c) => ({ c, label: 'record' })))}</li>`,
        )
        .join('\n')}</ul>`,
    );
  }
  for (const c of plan.connectors) {
    parts.push(
      `<h3>${e(c.name)}</h3><p>${e(matchText(c))}; for ${e(c.sources.join(', '))}${c.owners.length ? `; owners: ${e(c.owners.join(', '))}` : ''}</p>`,
      `<ul>${c.allows.map((a) => `<li>Allows: ${e(a)}</li>`).join('')}${c.rejects.length === 0 ? '<li>Rejects: nothing.</li>' : c.rejects.map((r) => `<li><b class="malicious">Rejects</b>: ${e(r)}</li>`).join('')}${c.notes.map((n) => `<li>Note: ${e(n)}</li>`).join('')}</ul>`,
      cmds([
        { c: c.create, label: 'create' },
        { c: c.check, label: 'check' },
      ]),
    );
  }
  parts.push('<h2>Change runbook</h2><ol>');
  for (const step of runbook.steps) {
    parts.push(
      `<li><h3>${e(step.title)}</h3>${step.owners.length ? `<p>Owners: ${e(step.owners.join(', '))}</p>` : ''}<ul>${step.text.map((x) => `<li>${e(x)}</li>`).join('')}</ul>${cmds(step.commands.map((c) => ({ c, label: step.phase })))}</li>`,
    );
  }
  parts.push('</ol>');
  return parts.join('\n');
}
