/**
 * The tenant report as one self-contained HTML page: no scripts, no external resources, every value escaped
 * with htmlEscape, and a Content-Security-Policy that allows only the page's own stylesheet (by hash).
 * @module
 */
import { createHash } from 'node:crypto';
import { emptyPlanText, readinessText, verdictLines } from './readiness-text.js';
import { htmlEscape } from './safe-text.js';
import { cut, type Enforcement, enforcementText, type SourceEntry, type TenantReport } from './tenant-report.js';
import type { TenantRenderOptions } from './tenant-report-text.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d0d7de;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:8rem}
.card b{display:block;font-size:1.3rem}.malicious{color:#b42318;font-weight:600}.suspicious{color:#b54708;font-weight:600}
.legitimate{color:#067647;font-weight:600}.unknown,.undetermined{color:#475467}.likely-legitimate{color:#067647}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
svg{max-width:100%}.legend span{margin-right:1rem}.sw{display:inline-block;width:.8rem;height:.8rem;vertical-align:middle;margin-right:.3rem}
.nw{white-space:nowrap}abbr{text-decoration:underline dotted;cursor:help}
.ok{background:#12b76a}.bad{background:#d92d20}.und{background:#98a2b3}small{color:#475467}
`;

const e = (v: string | number | boolean | null | undefined): string =>
  htmlEscape(v === null || v === undefined ? '' : String(v));

function readinessHtml(r: TenantReport): string {
  const rd = readinessText(r);
  const items = [...rd.blockers, ...rd.rejected].map((b) => `<li>${e(b)}</li>`).join('\n');
  return `<h2>Readiness</h2>
<p><b class="${r.readiness.ready ? 'legitimate' : 'malicious'}">${e(rd.verdict)}</b></p>${items ? `\n<ul>\n${items}\n</ul>` : ''}`;
}

function timelineSvg(r: TenantReport): string {
  const days = r.timeline;
  if (days.length === 0) return '<p>No messages.</p>';
  const w = 16;
  const h = 140;
  const max = Math.max(1, ...days.map((d) => d.directSend + d.internalSpoof + d.candidates));
  const bars = days
    .map((d, i) => {
      const legit = d.legitimate + d.likelyLegitimate;
      const bad = d.directSend + d.internalSpoof - legit;
      const und = d.candidates;
      const x = i * (w + 4) + 4;
      let y = h;
      const rect = (n: number, color: string) => {
        if (n <= 0) return '';
        const bh = Math.max(1, Math.round((n / max) * (h - 10)));
        y -= bh;
        return `<rect x="${x}" y="${y}" width="${w}" height="${bh}" fill="${color}"><title>${e(d.day)}: ${n}</title></rect>`;
      };
      return rect(legit, '#12b76a') + rect(bad, '#d92d20') + rect(und, '#98a2b3');
    })
    .join('');
  const width = days.length * (w + 4) + 8;
  return `<svg role="img" aria-label="Daily Direct Send volume" width="${width}" height="${h + 20}" viewBox="0 0 ${width} ${h + 20}">${bars}<text x="4" y="${h + 15}" font-size="11">${e(days[0]!.day)}</text><text x="${width - 4}" y="${h + 15}" font-size="11" text-anchor="end">${e(days[days.length - 1]!.day)}</text></svg>
<p class="legend"><span><i class="sw ok"></i>legitimate</span><span><i class="sw bad"></i>suspicious or malicious</span><span><i class="sw und"></i>undetermined (detail data needed)</span></p>`;
}

function sourceRow(s: SourceEntry): string {
  const verdict = s.channel === 'unknown' ? 'unknown' : s.verdict;
  const examples = s.examples.map((x) => `${e(x.file)} row ${e(x.row)}`).join('<br>');
  return `<tr><td>${e(s.id)}</td><td>${e(s.name ?? '')}${s.helos.length ? `<br><small>HELO ${e(s.helos.join(', '))}</small>` : ''}</td>
<td>${s.ips.map(e).join('<br>')}</td><td>${s.senders
    .slice(0, 5)
    .map((x) => `${e(x.address)} <small>(${e(x.messages)})</small>`)
    .join('<br>')}</td>
<td class="n">${e(s.messages)}</td><td class="n">${e(s.recipients)}</td><td class="nw">${e(s.firstSeen.slice(0, 10))}<br>${e(s.lastSeen.slice(0, 10))}</td>
<td>${e(s.tls)}</td><td>${e(s.channel)}</td><td class="${e(verdict)}">${e(verdict)}</td>
<td>${s.why.map((w) => `<abbr title="${e(w.title)} (${e(w.messages)} message(s))">${e(w.code)}</abbr>`).join(' ')}</td><td>${s.subjects.map(e).join('<br>')}</td><td><small>${examples}</small></td></tr>`;
}

const ENFORCEMENT_CLASS: Record<Enforcement['state'], string> = {
  holds: 'legitimate',
  fails: 'malicious',
  undetermined: 'unknown',
  'not-covered': 'unknown',
  unclear: 'suspicious',
};

function enforcementHtml(en: Enforcement, limit: number | null): string {
  const t = enforcementText(en, limit);
  const items = t.lines;
  return `<h2>${e(t.title)}</h2>
<p><b class="${ENFORCEMENT_CLASS[en.state]}">${e(t.verdict)}</b></p>
${
  items.length > 0
    ? `<ul>${items.map((i) => `<li>${e(i)}</li>`).join('')}</ul>
`
    : ''
}`;
}

export function renderTenantHtml(r: TenantReport, o: TenantRenderOptions): string {
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  // A constant of this module (no input in it): written as is so the hash stays readable.
  const csp = `default-src 'none'; style-src 'sha256-${styleHash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  const t = r.totals;
  const sources = o.limit === null ? r.sources : r.sources.slice(0, o.limit);
  const imp = r.impact;
  const stops = cut(imp.stoppedSpoofs, o.limit);
  const misses = cut(imp.p2OnlySpoofs, o.limit);
  const card = (label: string, n: number, cls = '') =>
    `<div class="card"><b class="${cls}">${e(n)}</b>${e(label)}</div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dsguard report${r.tenant.name ? ` – ${e(r.tenant.name)}` : ''}</title>
<style>${STYLE}</style></head><body>
<h1>Direct Send report${r.tenant.name ? `: ${e(r.tenant.name)}` : ''}</h1>
<p>${r.tenant.domains.length ? `Accepted domains: ${r.tenant.domains.map(e).join(', ')}` : 'No profile: accepted domains inferred per message.'}${r.since ? ` · since ${e(r.since)}` : ''} · ${e(r.files.length)} export file(s)</p>
${readinessHtml(r)}
<h2>Totals</h2>
<div class="cards">${card('messages', t.messages)}${card('Direct Send', t.directSend)}${card('internal spoof (P2 only)', t.internalSpoof)}${card('malicious', t.malicious, 'malicious')}${card('suspicious', t.suspicious, 'suspicious')}${card('legitimate', t.legitimate, 'legitimate')}${card('undetermined internal', t.candidates, 'unknown')}</div>
<p><small>By channel: ${Object.entries(t.byChannel)
    .sort()
    .map(([k, v]) => `${e(k)} ${e(v)}`)
    .join(', ')}</small></p>
<h2>Daily Direct Send volume</h2>
${timelineSvg(r)}
<h2>Direct Send sources (${e(r.sources.length)}${sources.length < r.sources.length ? `, first ${e(sources.length)} shown` : ''})</h2>
${
  sources.length === 0
    ? '<p>None.</p>'
    : `<table><thead><tr><th>id</th><th>source</th><th>IP</th><th>senders (P1)</th><th>msgs</th><th>rcpts</th><th>seen</th><th>TLS</th><th>channel</th><th>verdict</th><th>why</th><th>subjects</th><th>examples</th></tr></thead><tbody>
${sources.map(sourceRow).join('\n')}
</tbody></table>
<h3>Why each verdict</h3>
${sources.map((s) => `<pre>${verdictLines(s).map(e).join('\n')}</pre>`).join('\n')}`
}
${r.enforcement ? enforcementHtml(r.enforcement, o.limit) : ''}<h2>${r.enforcement ? 'Had RejectDirectSend been in force over all these exports' : 'If RejectDirectSend were enabled today'}</h2>
<p>It ${r.enforcement ? 'would have rejected' : 'would reject'} <b>${e(imp.wouldReject.messages)}</b> message(s): ${e(imp.wouldReject.legitimateMessages)} legitimate, ${e(imp.wouldReject.spoofMessages)} spoof, ${e(imp.wouldReject.undeterminedMessages)} undetermined.</p>
<ul>
${imp.legitimateSources.map((s) => `<li><b class="legitimate">Breaks</b> ${e(s.id)} ${e(s.name ?? s.ips.join(', '))}: ${e(s.messages)} message(s) — ${r.enforcement ? 'rejected once it is in force, unless a connector matches it' : 'create its connector first'}</li>`).join('\n')}
${stops.shown.map((s) => `<li><b class="malicious">Stops</b> ${e(s.id)} ${e(s.ips.join(', '))} (${e(s.verdict)}): ${e(s.messages)} message(s)</li>`).join('\n')}
${stops.more ? `<li><b class="malicious">Stops</b> ${e(stops.more)}</li>` : ''}
${misses.shown.map((s) => `<li><b class="suspicious">Does not stop</b> ${e(s.id)} ${e(s.ips.join(', '))}: P2-only spoof, ${e(s.messages)} message(s) — DMARC p=reject and anti-spoofing do</li>`).join('\n')}
${misses.more ? `<li><b class="suspicious">Does not stop</b> ${e(misses.more)}</li>` : ''}
${imp.undetermined.messages > 0 ? `<li><b class="unknown">Unknown</b> ${e(imp.undetermined.messages)} message(s) from ${e(imp.undetermined.sources)} source(s): detail data needed</li>` : ''}
</ul>
<h2>Connector plan</h2>
${r.connectorPlan.length === 0 ? `<p>${e(emptyPlanText(r))}</p>` : ''}
${r.connectorPlan
  .map(
    (c) =>
      `<h3>${e(c.source)}: ${e(c.name)}</h3>${c.notes.length ? `<ul>${c.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : ''}<pre>${e(c.command)}</pre>`,
  )
  .join('\n')}
<pre>${r.enableSteps.map(e).join('\n')}</pre>
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : ''}
<h2>Exports</h2>
<table><thead><tr><th>file</th><th>format</th><th>sha256</th><th>rows</th><th>stored</th><th>aggregated</th><th>rejected</th></tr></thead><tbody>
${r.files.map((f) => `<tr><td>${e(f.path)}</td><td>${e(f.format)}</td><td><small>${e(f.sha256)}</small></td><td class="n">${e(f.rows)}</td><td class="n">${e(f.stored)}</td><td class="n">${e(f.aggregated)}</td><td class="n">${e(f.rejected)}</td></tr>`).join('\n')}
</tbody></table>
</body></html>
`;
}
