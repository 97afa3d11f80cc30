/**
 * `tenantReport(store, options)`: what the ingested exports say about Direct Send in the tenant. Totals by channel
 * and verdict, the daily timeline, the inventory of Direct Send sources (one printer or app per line), what
 * RejectDirectSend would reject or stop today, and the connector plan that must come first.
 * Reads only aggregate tables: fast on stores of tens of millions of rows.
 * @module
 */
import { parseIp } from './core/net-address.js';
import { connectorForIp, matchKnownSource, type TenantProfile } from './core/profile.js';
import { RULES } from './core/rules/catalog.js';
import { connectorLabel, newInboundConnectorCommand, shQuote } from './report/tenant-report-powershell.js';
import { DsguardStore } from './store/dsguard-store.js';
import { dayText } from './store/keys.js';
import { type IngestedFile, ReportQueries, type SourceClassRow } from './store/report-queries.js';
import { rebuildSourceStats, sourceStatsStale } from './store/source-stats.js';

export type SourceVerdict = 'malicious' | 'suspicious' | 'legitimate' | 'unknown';

export interface Totals {
  /** Deliveries (message × recipient) in the store. */
  messages: number;
  directSend: number;
  internalSpoof: number;
  malicious: number;
  suspicious: number;
  legitimate: number;
  /** Channel unknown (summary rows), internal sender to internal recipient: detail data needed. */
  candidates: number;
  byChannel: Record<string, number>;
}

export interface TimelineDay {
  day: string;
  messages: number;
  directSend: number;
  internalSpoof: number;
  legitimate: number;
  suspicious: number;
  malicious: number;
  candidates: number;
}

export interface SourceEntry {
  id: string;
  /** The profile's name for a known legitimate source, when it matches. */
  name: string | null;
  ip: string | null;
  ips: string[];
  helo: string | null;
  helos: string[];
  senders: { address: string; messages: number }[];
  recipients: number;
  messages: number;
  subjects: string[];
  firstSeen: string;
  lastSeen: string;
  tls: 'yes' | 'no' | 'mixed' | 'unknown';
  channel: 'direct-send' | 'internal-spoof' | 'unknown';
  verdict: SourceVerdict;
  counts: { directSend: number; internalSpoof: number; undetermined: number } & Record<SourceVerdict, number>;
  /** Would RejectDirectSend reject this source's messages: true, false (P2-only spoof), null (unknown). */
  rejectDirectSendBlocks: boolean | null;
  why: { code: string; title: string; messages: number }[];
  examples: { file: string; sha256: string; row: number; receivedAt: string; subject: string; sender: string | null }[];
}

export interface ConnectorPlanEntry {
  source: string;
  name: string;
  ips: string[];
  certificate: string | null;
  senderDomains: string[];
  requireTls: boolean;
  command: string;
  notes: string[];
}

export interface Impact {
  wouldReject: { messages: number; legitimateMessages: number; spoofMessages: number; undeterminedMessages: number };
  legitimateSources: { id: string; name: string | null; ips: string[]; senders: string[]; messages: number }[];
  stoppedSpoofs: { id: string; ips: string[]; verdict: SourceVerdict; messages: number }[];
  p2OnlySpoofs: { id: string; ips: string[]; verdict: SourceVerdict; messages: number }[];
  undetermined: { sources: number; messages: number };
}

export interface TenantReport {
  since: string | null;
  tenant: { name: string | null; domains: string[]; profile: boolean };
  files: IngestedFile[];
  totals: Totals;
  timeline: TimelineDay[];
  sources: SourceEntry[];
  impact: Impact;
  connectorPlan: ConnectorPlanEntry[];
  /** After the connectors: enable RejectDirectSend and verify it. */
  enableSteps: string[];
  notes: string[];
}

export interface TenantReportOptions {
  profile: TenantProfile | null;
  /** Only days on or after this one (YYYY-MM-DD). */
  since?: string | null;
}

const ABUSE_VERDICTS: readonly SourceVerdict[] = ['malicious', 'suspicious', 'legitimate'];
const SEVERITY_RANK = { high: 0, medium: 1, low: 2, info: 3 } as const;
const VERDICT_RANK: Record<SourceVerdict, number> = { malicious: 0, suspicious: 1, unknown: 2, legitimate: 3 };
/** Info findings that say nothing a reader needs in "why". */
const QUIET = new Set(['DS100', 'DS101', 'DS102', 'DS103', 'DS104', 'DS109', 'DS111', 'DS114', 'DS116', 'DS604']);

interface IpAgg {
  ip: string;
  classes: SourceClassRow[];
  messages: number;
  senders: Map<string, number>;
  verdict: SourceVerdict;
}

function ipVerdict(classes: readonly SourceClassRow[]): SourceVerdict {
  const has = (v: string) => classes.some((c) => c.verdict === v && c.channel !== 'unknown' && c.messages > 0);
  if (has('malicious')) return 'malicious';
  if (has('suspicious')) return 'suspicious';
  if (has('legitimate')) return 'legitimate';
  return 'unknown';
}

/** The network an address belongs to for grouping: IPv4 /24, IPv6 /48. */
function prefixOf(ip: string): string {
  const p = parseIp(ip);
  if (!p) return ip;
  if (p.kind() === 'ipv4') return p.toString().split('.').slice(0, 3).join('.');
  const parts = (p as unknown as { parts: number[] }).parts;
  return parts
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':');
}

/** Union IPs of one network that share an envelope sender and a verdict: one printer or app, one line. */
function groupIps(ips: IpAgg[]): IpAgg[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const a of ips) parent.set(a.ip, a.ip);
  const owner = new Map<string, string>();
  for (const a of ips) {
    if (a.ip === '') continue;
    const net = `${prefixOf(a.ip)}|${a.verdict}`;
    for (const sender of a.senders.keys()) {
      if (sender === '') continue;
      const k = `${net}|${sender}`;
      const o = owner.get(k);
      if (o === undefined) owner.set(k, a.ip);
      else parent.set(find(a.ip), find(o));
    }
  }
  const groups = new Map<string, IpAgg[]>();
  for (const a of ips) {
    const r = find(a.ip);
    let g = groups.get(r);
    if (!g) {
      g = [];
      groups.set(r, g);
    }
    g.push(a);
  }
  return [...groups.values()];
}

function sinceDay(since: string | null | undefined): number | null {
  if (!since) return null;
  return Math.floor(Date.parse(`${since}T00:00:00Z`) / 86_400_000);
}

export function buildTenantReport(store: DsguardStore, opts: TenantReportOptions): TenantReport {
  const q = new ReportQueries(store.db);
  const since = sinceDay(opts.since);
  const profile = opts.profile;
  const notes: string[] = [];

  // Totals and timeline from the count buckets.
  const totals: Totals = {
    messages: 0,
    directSend: 0,
    internalSpoof: 0,
    malicious: 0,
    suspicious: 0,
    legitimate: 0,
    candidates: 0,
    byChannel: {},
  };
  const days = new Map<number, TimelineDay>();
  for (const b of q.buckets(since)) {
    let d = days.get(b.day);
    if (!d) {
      d = {
        day: dayText(b.day),
        messages: 0,
        directSend: 0,
        internalSpoof: 0,
        legitimate: 0,
        suspicious: 0,
        malicious: 0,
        candidates: 0,
      };
      days.set(b.day, d);
    }
    const n = b.messages;
    totals.messages += n;
    d.messages += n;
    totals.byChannel[b.channel] = (totals.byChannel[b.channel] ?? 0) + n;
    if (b.channel === 'direct-send') {
      totals.directSend += n;
      d.directSend += n;
    } else if (b.channel === 'internal-spoof') {
      totals.internalSpoof += n;
      d.internalSpoof += n;
    } else if (b.channel === 'unknown' && b.candidate) {
      totals.candidates += n;
      d.candidates += n;
    }
    if (b.channel === 'direct-send' || b.channel === 'internal-spoof') {
      if (b.verdict === 'malicious' || b.verdict === 'suspicious' || b.verdict === 'legitimate') {
        totals[b.verdict] += n;
        d[b.verdict] += n;
      }
    }
  }
  const timeline = [...days.values()].sort((a, b) => a.day.localeCompare(b.day));

  // Per-IP aggregates → sources.
  const perIp = new Map<string, IpAgg>();
  for (const c of q.sourceClasses(since)) {
    if (c.channel !== 'direct-send' && c.channel !== 'internal-spoof' && !(c.channel === 'unknown' && c.candidate))
      continue;
    let a = perIp.get(c.ip);
    if (!a) {
      a = { ip: c.ip, classes: [], messages: 0, senders: new Map(), verdict: 'unknown' };
      perIp.set(c.ip, a);
    }
    a.classes.push(c);
    a.messages += c.messages;
  }
  for (const s of q.senders()) {
    const a = perIp.get(s.ip);
    if (a) a.senders.set(s.sender, (a.senders.get(s.sender) ?? 0) + s.messages);
  }
  for (const a of perIp.values()) a.verdict = ipVerdict(a.classes);
  const recipientsByIp = q.recipientCounts();
  const codesByIp = new Map<string, Map<string, number>>();
  for (const c of q.codes()) {
    if (!perIp.has(c.ip)) continue;
    let m = codesByIp.get(c.ip);
    if (!m) {
      m = new Map();
      codesByIp.set(c.ip, m);
    }
    m.set(c.code, c.messages);
  }
  const samplesByIp = new Map<string, ReturnType<ReportQueries['samples']>>();
  for (const s of q.samples()) {
    if (!perIp.has(s.ip)) continue;
    const list = samplesByIp.get(s.ip) ?? [];
    list.push(s);
    samplesByIp.set(s.ip, list);
  }

  const sources: SourceEntry[] = [];
  for (const group of groupIps([...perIp.values()])) {
    const ips = group.map((g) => g.ip).sort();
    const classes = group.flatMap((g) => g.classes);
    const counts = {
      directSend: 0,
      internalSpoof: 0,
      undetermined: 0,
      malicious: 0,
      suspicious: 0,
      legitimate: 0,
      unknown: 0,
    };
    let tlsYes = 0;
    let tlsNo = 0;
    let first = '';
    let last = '';
    const helos = new Set<string>();
    for (const c of classes) {
      if (c.channel === 'direct-send') counts.directSend += c.messages;
      else if (c.channel === 'internal-spoof') counts.internalSpoof += c.messages;
      else counts.undetermined += c.messages;
      if (c.channel !== 'unknown' && (ABUSE_VERDICTS as readonly string[]).includes(c.verdict)) {
        counts[c.verdict as SourceVerdict] += c.messages;
      } else counts.unknown += c.messages;
      tlsYes += c.tlsYes;
      tlsNo += c.tlsNo;
      if (first === '' || c.firstSeen < first) first = c.firstSeen;
      if (c.lastSeen > last) last = c.lastSeen;
      if (c.helo) helos.add(c.helo);
    }
    const messages = classes.reduce((n, c) => n + c.messages, 0);
    const senders = new Map<string, number>();
    for (const g of group) for (const [s, n] of g.senders) senders.set(s, (senders.get(s) ?? 0) + n);
    const senderList = [...senders.entries()]
      .filter(([s]) => s !== '')
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([address, n]) => ({ address, messages: n }));
    const codes = new Map<string, number>();
    for (const g of group) for (const [c, n] of codesByIp.get(g.ip) ?? []) codes.set(c, (codes.get(c) ?? 0) + n);
    const why = [...codes.entries()]
      .filter(([c]) => !QUIET.has(c) && RULES.has(c))
      .sort(
        (a, b) =>
          SEVERITY_RANK[RULES.get(a[0])!.severity] - SEVERITY_RANK[RULES.get(b[0])!.severity] ||
          b[1] - a[1] ||
          a[0].localeCompare(b[0]),
      )
      .slice(0, 6)
      .map(([code, n]) => ({ code, title: RULES.get(code)!.title, messages: n }));
    const samples = group.flatMap((g) => samplesByIp.get(g.ip) ?? []).slice(0, 3);
    const channel: SourceEntry['channel'] =
      counts.directSend > 0 ? 'direct-send' : counts.internalSpoof > 0 ? 'internal-spoof' : 'unknown';
    const verdict = ipVerdict(classes);
    const known =
      profile && ips[0]
        ? matchKnownSource(profile, {
            ip: ips[0],
            senders: senderList.map((s) => s.address),
            subject: samples[0]?.subject ?? null,
          })
        : null;
    sources.push({
      id: '',
      name: known?.name ?? null,
      ip: ips[0] === '' || ips[0] === undefined ? null : ips[0],
      ips: ips.filter((i) => i !== ''),
      helo: [...helos][0] ?? null,
      helos: [...helos].sort(),
      senders: senderList.slice(0, 20),
      recipients:
        group.length === 1 ? (recipientsByIp.get(group[0]!.ip) ?? 0) : q.distinctRecipients(group.map((g) => g.ip)),
      messages,
      subjects: [...new Set(samples.map((s) => s.subject))],
      firstSeen: first,
      lastSeen: last,
      tls: tlsYes > 0 && tlsNo > 0 ? 'mixed' : tlsYes > 0 ? 'yes' : tlsNo > 0 ? 'no' : 'unknown',
      channel,
      verdict,
      counts,
      rejectDirectSendBlocks: counts.directSend > 0 ? true : counts.internalSpoof > 0 ? false : null,
      why,
      examples: samples.map((s) => ({
        file: s.file,
        sha256: s.sha256,
        row: s.row,
        receivedAt: s.receivedAt,
        subject: s.subject,
        sender: s.sender,
      })),
    });
  }
  sources.sort(
    (a, b) =>
      VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] ||
      b.messages - a.messages ||
      (a.ip ?? '').localeCompare(b.ip ?? ''),
  );
  sources.forEach((s, i) => {
    s.id = `S${i + 1}`;
  });

  // RejectDirectSend impact.
  const impact: Impact = {
    wouldReject: { messages: 0, legitimateMessages: 0, spoofMessages: 0, undeterminedMessages: 0 },
    legitimateSources: [],
    stoppedSpoofs: [],
    p2OnlySpoofs: [],
    undetermined: { sources: 0, messages: 0 },
  };
  for (const s of sources) {
    if (s.counts.directSend > 0) {
      impact.wouldReject.messages += s.counts.directSend;
      if (s.verdict === 'legitimate') {
        impact.wouldReject.legitimateMessages += s.counts.directSend;
        impact.legitimateSources.push({
          id: s.id,
          name: s.name,
          ips: s.ips,
          senders: s.senders.map((x) => x.address),
          messages: s.counts.directSend,
        });
      } else if (s.verdict === 'malicious' || s.verdict === 'suspicious') {
        impact.wouldReject.spoofMessages += s.counts.directSend;
        impact.stoppedSpoofs.push({ id: s.id, ips: s.ips, verdict: s.verdict, messages: s.counts.directSend });
      } else impact.wouldReject.undeterminedMessages += s.counts.directSend;
    }
    if (s.counts.internalSpoof > 0) {
      impact.p2OnlySpoofs.push({ id: s.id, ips: s.ips, verdict: s.verdict, messages: s.counts.internalSpoof });
    }
    if (s.counts.undetermined > 0) {
      impact.undetermined.sources++;
      impact.undetermined.messages += s.counts.undetermined;
    }
  }

  const domains = profile?.acceptedDomains ?? [];
  const connectorPlan = planConnectors(sources, profile, notes);
  const probeDomain = domains[0] ?? sources.flatMap((s) => s.senders)[0]?.address.split('@')[1] ?? 'contoso.com';
  const probeTo = sources.flatMap((s) => s.examples).find((e) => e.sender)?.sender ?? `postmaster@${probeDomain}`;
  const enableSteps = [
    '# 1. Create the connectors above; wait until message trace detail of each source shows S:InboundConnectorData=Name=<connector>.',
    '# 2. Enable RejectDirectSend (anonymous mail from your own domains that matches no connector is then refused with 550 5.7.68):',
    'Set-OrganizationConfig -RejectDirectSend $true',
    'Get-OrganizationConfig | Format-List RejectDirectSend',
    '# 3. Verify from a host outside your connectors (expect 550 5.7.68 TenantInboundAttribution):',
    `dsguard probe ${shQuote(probeDomain)} --from ${shQuote(`dsguard-probe@${probeDomain}`)} --to ${shQuote(probeTo)}`,
  ];
  if (impact.p2OnlySpoofs.length > 0) {
    notes.push(
      'Internal spoofs with an external envelope sender (P2 only) are not stopped by RejectDirectSend: publish DMARC p=reject for your domains and keep anti-spoofing on.',
    );
  }
  if (totals.candidates > 0) {
    notes.push(
      `${totals.candidates} message(s) from internal senders to internal recipients come from message trace summary rows, which cannot tell Direct Send from authenticated mail: ingest Get-MessageTraceDetailV2, a historical search or EmailEvents for them (dsguard powershell prints the commands).`,
    );
  }
  if (!profile) {
    notes.push(
      'No profile: accepted domains were inferred from each message’s recipients. Pass --profile dsguard.yml.',
    );
  }
  return {
    since: opts.since ?? null,
    tenant: { name: profile?.name ?? null, domains, profile: profile !== null },
    files: q.files(),
    totals,
    timeline,
    sources,
    impact,
    connectorPlan,
    enableSteps,
    notes,
  };
}

function planConnectors(
  sources: readonly SourceEntry[],
  profile: TenantProfile | null,
  notes: string[],
): ConnectorPlanEntry[] {
  const plan: ConnectorPlanEntry[] = [];
  const accepted = new Set(profile?.acceptedDomains ?? []);
  for (const s of sources) {
    const legit = s.channel === 'direct-send' && s.verdict === 'legitimate';
    const declared = s.name !== null && s.verdict !== 'malicious' && s.verdict !== 'suspicious';
    if (!legit && !declared) continue;
    if (profile && s.ips.length > 0 && s.ips.every((ip) => connectorForIp(profile, ip) !== null)) {
      notes.push(`${s.id} (${s.ips.join(', ')}) is already covered by a connector in the profile.`);
      continue;
    }
    const senderDomains = [
      ...new Set(
        s.senders
          .map((x) => x.address.split('@')[1] ?? '')
          .filter((d) => d.length > 0 && (accepted.size === 0 || accepted.has(d))),
      ),
    ].sort();
    if (senderDomains.length === 0) continue;
    const ipv4 = s.ips.filter((ip) => parseIp(ip)?.kind() === 'ipv4');
    const ipv6 = s.ips.filter((ip) => parseIp(ip)?.kind() === 'ipv6');
    const entryNotes: string[] = [];
    let certificate: string | null = null;
    if (ipv6.length > 0 || ipv4.length === 0) {
      // Partner connectors match IPv4 addresses only: an IPv6 sender needs a certificate.
      const helo = s.helo && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(s.helo) ? s.helo.toLowerCase() : null;
      certificate = helo ? `*.${helo.split('.').slice(1).join('.')}` : `*.${senderDomains[0]}`;
      entryNotes.push(
        `Sends over IPv6 (${ipv6.join(', ') || 'no IPv4 seen'}): connectors match IPv4 only, so this one matches the TLS certificate; confirm the certificate name the device presents.`,
      );
    }
    if (s.tls !== 'yes') {
      entryNotes.push(
        s.tls === 'unknown'
          ? 'TLS use unknown from these exports: RequireTls is off; turn it on once the device is seen using TLS.'
          : 'This source sent without TLS: RequireTls is off; enable TLS on the device and then turn RequireTls on.',
      );
    }
    const label = connectorLabel(
      `dsguard ${s.name ?? s.helo ?? s.senders[0]?.address.split('@')[0] ?? s.id} ${s.ip ?? ''}`,
    );
    const input = {
      name: label,
      ipv4,
      certificate,
      senderDomains,
      requireTls: s.tls === 'yes',
      comment: `Direct Send source ${s.id} found by dsguard: ${s.messages} message(s), ${s.firstSeen.slice(0, 10)} to ${s.lastSeen.slice(0, 10)}`,
    };
    plan.push({
      source: s.id,
      name: label,
      ips: s.ips,
      certificate,
      senderDomains,
      requireTls: input.requireTls || certificate !== null,
      command: newInboundConnectorCommand(input),
      notes: entryNotes,
    });
  }
  return plan;
}

/**
 * Open a store and build its report. Read-only, unless an interrupted ingest left the source aggregates stale:
 * then they are rebuilt first.
 */
export function tenantReportFromFile(
  path: string,
  opts: TenantReportOptions,
): { status: 'ok'; report: TenantReport } | { status: 'error'; error: string } {
  let r = DsguardStore.open(path, { readonly: true });
  if (r.status === 'error') return r;
  if (sourceStatsStale(r.store.db)) {
    r.store.close();
    r = DsguardStore.open(path);
    if (r.status === 'error') return r;
    const store = r.store;
    store.transaction(() => rebuildSourceStats(store.db));
  }
  try {
    return { status: 'ok', report: buildTenantReport(r.store, opts) };
  } finally {
    r.store.close();
  }
}
