/**
 * Renderers of the tenant report for terminals (table), Markdown and CSV (the source inventory, one row per
 * source). Every value from an export goes through the sink's escaping (terminalSafe, markdownSafe, csvSafe).
 * @module
 */

import type { DailyTotalsSummary } from './mail-totals.js';
import { planMarkdown, planText } from './plan-render.js';
import { readinessText, verdictLines } from './readiness-text.js';
import { markdownSafe, terminalSafe } from './safe-text.js';
import { type Column, renderCsv, renderMarkdownTable, renderTextTable } from './tabular.js';
import { cut, enforcementText, type SourceEntry, type TenantReport } from './tenant-report.js';

export interface TenantRenderOptions {
  /** Most sources shown (table, md, html); `null` = all. */
  limit: number | null;
  /** The terminal's width: tables are fitted to it (set only when writing to a terminal). */
  width?: number;
}

function list(values: readonly string[], max = 3): string {
  return values.length > max ? `${values.slice(0, max).join(', ')} (+${values.length - max})` : values.join(', ');
}

function seen(s: SourceEntry): string {
  const a = s.firstSeen.slice(0, 10);
  const b = s.lastSeen.slice(0, 10);
  return a === b ? a : `${a}..${b}`;
}

function verdictText(s: SourceEntry): string {
  if (s.channel === 'unknown') return 'unknown (detail needed)';
  return s.verdict;
}

export const SOURCE_COLUMNS: Column<SourceEntry>[] = [
  { header: 'id', value: (s) => s.id },
  { header: 'source', value: (s) => s.name ?? s.helo ?? '', width: 30 },
  { header: 'ip', value: (s) => list(s.ips, 2), width: 40 },
  {
    header: 'senders',
    value: (s) =>
      list(
        s.senders.map((x) => x.address),
        2,
      ),
    width: 60,
  },
  { header: 'msgs', value: (s) => s.messages, align: 'right' },
  { header: 'rcpts', value: (s) => s.recipients, align: 'right' },
  { header: 'seen', value: (s) => seen(s) },
  { header: 'tls', value: (s) => s.tls },
  { header: 'channel', value: (s) => s.channel },
  { header: 'verdict', value: (s) => verdictText(s) },
  { header: 'why', value: (s) => s.why.map((w) => w.code).join(' '), width: 40 },
];

/** CSV of the source inventory: every field, one source a row. */
export const SOURCE_CSV_COLUMNS: Column<SourceEntry>[] = [
  { header: 'id', value: (s) => s.id },
  { header: 'name', value: (s) => s.name },
  { header: 'ips', value: (s) => s.ips.join(' ') },
  { header: 'helo', value: (s) => s.helos.join(' ') },
  { header: 'senders', value: (s) => s.senders.map((x) => `${x.address}:${x.messages}`).join(' ') },
  { header: 'recipients', value: (s) => s.recipients },
  { header: 'messages', value: (s) => s.messages },
  { header: 'directSend', value: (s) => s.counts.directSend },
  { header: 'internalSpoof', value: (s) => s.counts.internalSpoof },
  { header: 'undetermined', value: (s) => s.counts.undetermined },
  { header: 'firstSeen', value: (s) => s.firstSeen },
  { header: 'lastSeen', value: (s) => s.lastSeen },
  { header: 'tls', value: (s) => s.tls },
  { header: 'channel', value: (s) => s.channel },
  { header: 'verdict', value: (s) => s.verdict },
  { header: 'rejectDirectSendBlocks', value: (s) => s.rejectDirectSendBlocks },
  { header: 'why', value: (s) => s.why.map((w) => `${w.code} ${w.title}`).join('; ') },
  { header: 'subjects', value: (s) => s.subjects.join(' | ') },
  { header: 'example', value: (s) => (s.examples[0] ? `${s.examples[0].file} row ${s.examples[0].row}` : null) },
  { header: 'inferred', value: (s) => s.counts.inferred },
  { header: 'confirmed', value: (s) => s.confirmed },
  { header: 'decision', value: (s) => s.decision },
  { header: 'signals', value: (s) => s.signals.map((g) => `${g.effect}:${g.signal}`).join(' ') },
  { header: 'summary', value: (s) => s.summary },
];

function shown(r: TenantReport, o: TenantRenderOptions): SourceEntry[] {
  return o.limit === null ? r.sources : r.sources.slice(0, o.limit);
}

export function renderTenantCsv(r: TenantReport): string {
  return renderCsv(r.sources, SOURCE_CSV_COLUMNS);
}

export function renderTenantText(r: TenantReport, o: TenantRenderOptions): string {
  const t = (s: string) => terminalSafe(s, 300);
  const out: string[] = [];
  const tenant = r.tenant.profile ? `${r.tenant.name ?? 'tenant'} (${r.tenant.domains.join(', ')})` : 'no profile';
  out.push(`dsguard report: ${t(tenant)}${r.since ? `, since ${r.since}` : ''}`, '');
  // Readiness and the verdicts' explanations are advice: never cut (their values are escaped, not shortened).
  const whole = (s: string) => terminalSafe(s, 10_000);
  const rd = readinessText(r);
  out.push(`Readiness: ${whole(rd.verdict)}`);
  for (const b of rd.blockers) out.push(`  ${whole(b)}`);
  for (const f of rd.rejected) out.push(`  ${whole(f)}`);
  out.push('');
  const tot = r.totals;
  out.push(
    `Messages ${tot.messages}: Direct Send ${tot.directSend} (${tot.inferredDirectSend} inferred), internal spoof (P2 only) ${tot.internalSpoof}, undetermined internal ${tot.candidates}`,
  );
  out.push(
    `  Direct Send / spoof by source verdict: malicious ${tot.malicious}, suspicious ${tot.suspicious}, undetermined ${tot.undetermined}, likely legitimate ${tot.likelyLegitimate}, legitimate ${tot.legitimate}`,
  );
  if (r.mailTotals) out.push(`  ${mailTotalsLine(r.mailTotals)}`);
  out.push(
    `  by channel: ${Object.entries(tot.byChannel)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
  );
  if (r.timeline.length > 0) {
    out.push('Daily Direct Send (legitimate / not):');
    const max = Math.max(1, ...r.timeline.map((d) => d.directSend + d.internalSpoof));
    for (const d of r.timeline) {
      const legit = d.legitimate + d.likelyLegitimate;
      const bad = d.directSend + d.internalSpoof - legit;
      const width = 30;
      const lw = Math.round((legit / max) * width);
      const bw = Math.round((bad / max) * width);
      out.push(
        `  ${d.day}  ${'='.repeat(lw)}${'#'.repeat(bw)}${' '.repeat(Math.max(0, width - lw - bw))}  ${legit} legitimate, ${bad} not${d.candidates ? `, ${d.candidates} undetermined` : ''}`,
      );
    }
    out.push('  (= legitimate or likely legitimate, # the rest)', '');
  }
  const sources = shown(r, o);
  out.push(
    `Direct Send sources (${r.sources.length}${sources.length < r.sources.length ? `, first ${sources.length} shown` : ''}):`,
  );
  out.push(
    r.sources.length === 0
      ? '  none'
      : renderTextTable(sources, SOURCE_COLUMNS, o.width ? { maxWidth: o.width } : {}).trimEnd(),
    '',
  );
  if (sources.length > 0) {
    out.push('Why each verdict (signals, and rows that show them):');
    for (const s of sources) for (const l of verdictLines(s)) out.push(`  ${whole(l)}`);
    out.push('');
  }
  if (r.enforcement) {
    const en = enforcementText(r.enforcement, o.limit);
    out.push(`${t(en.title)}:`, `  ${t(en.verdict)}`);
    for (const s of en.lines) out.push(`    ${t(s)}`);
    out.push('');
  }
  const imp = r.impact;
  out.push(
    r.enforcement
      ? 'Had RejectDirectSend been in force over all these exports:'
      : 'If RejectDirectSend were enabled today:',
  );
  out.push(
    `  it ${r.enforcement ? 'would have rejected' : 'would reject'} ${imp.wouldReject.messages} message(s): ${imp.wouldReject.legitimateMessages} legitimate, ${imp.wouldReject.spoofMessages} spoof, ${imp.wouldReject.undeterminedMessages} undetermined`,
  );
  for (const s of imp.legitimateSources) {
    out.push(`  BREAKS  ${s.id} ${t(s.name ?? list(s.ips))} (${t(list(s.senders))}): ${s.messages} message(s)`);
  }
  const stops = cut(imp.stoppedSpoofs, o.limit);
  for (const s of stops.shown) out.push(`  STOPS   ${s.id} ${t(list(s.ips))} (${s.verdict}): ${s.messages} message(s)`);
  if (stops.more) out.push(`  STOPS   ${stops.more}`);
  const misses = cut(imp.p2OnlySpoofs, o.limit);
  for (const s of misses.shown) {
    out.push(
      `  MISSES  ${s.id} ${t(list(s.ips))} (${s.verdict}, P2-only spoof: DMARC/anti-spoofing stop it): ${s.messages}`,
    );
  }
  if (misses.more) out.push(`  MISSES  ${misses.more}`);
  if (imp.undetermined.messages > 0) {
    out.push(
      `  unknown ${imp.undetermined.messages} message(s) from ${imp.undetermined.sources} source(s) need detail data`,
    );
  }
  out.push('');
  out.push(...planText(r.connectorPlan, r.runbook));
  if (r.notes.length > 0) {
    out.push('', 'Notes:');
    for (const n of r.notes) out.push(`  - ${t(n)}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderTenantMarkdown(r: TenantReport, o: TenantRenderOptions): string {
  const m = (s: string) => markdownSafe(s, 500);
  const out: string[] = [];
  out.push(`# dsguard report${r.tenant.name ? `: ${m(r.tenant.name)}` : ''}`, '');
  if (r.tenant.domains.length > 0) out.push(`Accepted domains: ${r.tenant.domains.map(m).join(', ')}`, '');
  const whole = (s: string) => markdownSafe(s, 10_000);
  const rd = readinessText(r);
  out.push('## Readiness', '', `**${whole(rd.verdict)}**`, '');
  for (const b of [...rd.blockers, ...rd.rejected]) out.push(`- ${whole(b)}`);
  if (rd.blockers.length + rd.rejected.length > 0) out.push('');
  const tot = r.totals;
  out.push('## Totals', '');
  out.push(
    renderMarkdownTable<[string, number]>(
      [
        ['messages', tot.messages],
        ['Direct Send', tot.directSend],
        ['internal spoof (P2 only)', tot.internalSpoof],
        ['malicious', tot.malicious],
        ['suspicious', tot.suspicious],
        ['inferred Direct Send (summary rows)', tot.inferredDirectSend],
        ['undetermined sources', tot.undetermined],
        ['likely legitimate', tot.likelyLegitimate],
        ['legitimate', tot.legitimate],
        ['undetermined internal (detail needed)', tot.candidates],
        ...Object.entries(tot.byChannel)
          .sort()
          .map(([k, v]) => [`channel ${k}`, v] as [string, number]),
      ],
      [
        { header: 'what', value: (x) => x[0] },
        { header: 'messages', value: (x) => x[1], align: 'right' },
      ],
    ),
  );
  if (r.mailTotals) out.push('', mailTotalsLine(r.mailTotals));
  out.push('## Daily timeline', '');
  out.push(
    renderMarkdownTable(r.timeline, [
      { header: 'day', value: (d) => d.day },
      { header: 'messages', value: (d) => d.messages, align: 'right' },
      { header: 'Direct Send', value: (d) => d.directSend, align: 'right' },
      { header: 'internal spoof', value: (d) => d.internalSpoof, align: 'right' },
      { header: 'legitimate', value: (d) => d.legitimate, align: 'right' },
      { header: 'suspicious', value: (d) => d.suspicious, align: 'right' },
      { header: 'malicious', value: (d) => d.malicious, align: 'right' },
      { header: 'undetermined', value: (d) => d.candidates, align: 'right' },
    ]),
  );
  out.push('## Direct Send sources', '');
  out.push(r.sources.length === 0 ? 'None.\n' : renderMarkdownTable(shown(r, o), SOURCE_COLUMNS));
  for (const s of shown(r, o)) {
    const [head, ...rest] = verdictLines(s);
    out.push(`- **${whole(head!)}**`, ...rest.map((l) => `  - ${whole(l.trim())}`));
  }
  if (r.sources.length > 0) out.push('');
  if (r.enforcement) {
    const en = enforcementText(r.enforcement, o.limit);
    out.push(`## ${m(en.title)}`, '', `**${m(en.verdict)}**`, '');
    for (const s of en.lines) out.push(`- ${m(s)}`);
    if (en.lines.length > 0) out.push('');
  }
  out.push('## RejectDirectSend impact', '');
  const imp = r.impact;
  out.push(
    `${r.enforcement ? 'Had RejectDirectSend been in force over all these exports, it would have rejected' : 'Enabling RejectDirectSend today would reject'} **${imp.wouldReject.messages}** message(s): ${imp.wouldReject.legitimateMessages} legitimate, ${imp.wouldReject.spoofMessages} spoof, ${imp.wouldReject.undeterminedMessages} undetermined.`,
    '',
  );
  for (const s of imp.legitimateSources)
    out.push(`- **Breaks** ${s.id} ${m(s.name ?? list(s.ips))}: ${s.messages} message(s)`);
  const stops = cut(imp.stoppedSpoofs, o.limit);
  for (const s of stops.shown)
    out.push(`- **Stops** ${s.id} ${m(list(s.ips))} (${s.verdict}): ${s.messages} message(s)`);
  if (stops.more) out.push(`- **Stops** ${stops.more}`);
  const misses = cut(imp.p2OnlySpoofs, o.limit);
  for (const s of misses.shown) {
    out.push(
      `- **Does not stop** ${s.id} ${m(list(s.ips))}: P2-only spoof, ${s.messages} message(s) (DMARC p=reject and anti-spoofing do)`,
    );
  }
  if (misses.more) out.push(`- **Does not stop** ${misses.more}`);
  out.push('', ...planMarkdown(r.connectorPlan, r.runbook));
  if (r.notes.length > 0) {
    out.push('## Notes', '');
    for (const n of r.notes) out.push(`- ${m(n)}`);
    out.push('');
  }
  return `${out.join('\n')}`;
}

/** What share of the tenant's mail is Direct Send, from the per-day totals `dsguard collect` reads. */
export function mailTotalsLine(t: DailyTotalsSummary): string {
  return `All mail (collected per-day totals, ${t.days} day(s), message × recipient): ${t.total} in all, ${t.inbound} inbound, ${t.noConnector} inbound without a connector, ${t.directSend} Direct Send (${t.directSendPercentOfInbound === null ? 'no inbound mail to compare with' : `${t.directSendPercentOfInbound} % of inbound`}), ${t.internalSpoof} internal spoof`;
}
