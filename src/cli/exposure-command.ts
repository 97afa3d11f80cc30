/**
 * `dsguard exposure <domains…>`: Direct Send exposure per domain from public DNS (MX, smart host, SPF, DMARC),
 * for one domain or thousands (`--input`, `--profile`), with bounded concurrency and results in input order.
 * @module
 */
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { bySeverityDescending, type Finding } from '../core/finding.js';
import type { DomainExposure } from '../core/posture/exposure-audit.js';
import { RULES } from '../core/rules/catalog.js';
import {
  auditDomains,
  type DomainInputError,
  type DomainItem,
  isDomainInputError,
  readDomainList,
  toDomain,
} from '../exposure/exposure.js';
import {
  CachingResolver,
  parseDnsServer,
  RecordingResolver,
  ReplayResolver,
  type Resolver,
  SystemResolver,
} from '../net/dns.js';
import { csvSafe, markdownSafe, terminalSafe } from '../report/safe-text.js';
import { type CliIo, CommandFailure, EXIT, fail, orFail, Progress, UsageError } from './io.js';
import { parseFailOn, parseFormat, positiveInt, profileOption, WorstSeverity } from './options.js';
import { type RecordRenderers, RecordStream } from './record-stream.js';

interface ExposureFlags {
  format: string;
  input?: string;
  profile?: string;
  failOn?: string;
  explain?: boolean;
  dnsServer?: string;
  dnsReplay?: string;
  dnsRecord?: string;
  timeout?: number;
  tries?: number;
  concurrency?: number;
}

export function registerExposure(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('exposure')
    .description(
      'Is a domain open to Direct Send? MX, Exchange Online smart host, gateway bypass, SPF and DMARC from DNS',
    )
    .argument('[domains...]', 'domains to audit')
    .option('-f, --format <format>', 'table | json | ndjson | csv | md', 'table')
    .option('-i, --input <file>', 'read domains from a file, one a line (# comments); - for stdin')
    .option('-p, --profile <file>', 'audit the accepted domains of a tenant profile (dsguard.yml)')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity fires (high|medium|low|info|none)')
    .option('--explain', 'add what each finding means and what to do')
    .option('--dns-server <host:port>', 'send every DNS query to this server (IP address, default port 53)')
    .option('--dns-replay <file>', 'answer DNS queries from a replay file instead of the network')
    .option('--dns-record <file>', 'write every DNS answer to a replay file (for --dns-replay)')
    .option('--timeout <ms>', 'DNS timeout per try in milliseconds (default 3000)', positiveInt('--timeout'))
    .option('--tries <n>', 'DNS tries per query (default 2)', positiveInt('--tries'))
    .option('--concurrency <n>', 'domains audited at once (default 16)', positiveInt('--concurrency'))
    .action(async (domains: string[], flags: ExposureFlags) => {
      setExit(await runExposure(domains, flags, io));
    });
}

async function* sources(
  domains: string[],
  flags: ExposureFlags,
  io: CliIo,
  accepted: string[],
): AsyncGenerator<DomainItem> {
  for (const d of domains) {
    const domain = toDomain(d);
    yield domain ? { domain, input: d } : { input: d, error: `not a domain name: "${d.slice(0, 80)}"` };
  }
  for (const d of accepted) {
    const domain = toDomain(d);
    yield domain ? { domain, input: `profile:${d}` } : { input: `profile:${d}`, error: `not a domain name: "${d}"` };
  }
  if (flags.input !== undefined) {
    yield* flags.input === '-' ? readDomainList(io.stdin, 'stdin') : readDomainList(flags.input);
  }
}

async function buildResolver(
  flags: ExposureFlags,
): Promise<{ resolver: Resolver; recorder: RecordingResolver | null }> {
  let base: Resolver;
  if (flags.dnsReplay !== undefined) {
    if (flags.dnsServer !== undefined) throw new UsageError('--dns-replay and --dns-server cannot be combined');
    const r = orFail(await ReplayResolver.load(flags.dnsReplay));
    base = r.resolver;
  } else {
    const opts: { server?: string; timeoutMs?: number; tries?: number } = {};
    if (flags.dnsServer !== undefined) {
      opts.server = orFail(parseDnsServer(flags.dnsServer)).server;
    }
    if (flags.timeout !== undefined) opts.timeoutMs = flags.timeout;
    if (flags.tries !== undefined) opts.tries = flags.tries;
    base = new SystemResolver(opts);
  }
  const recorder = flags.dnsRecord !== undefined ? new RecordingResolver(base) : null;
  return { resolver: new CachingResolver(recorder ?? base), recorder };
}

export async function runExposure(domains: string[], flags: ExposureFlags, io: CliIo): Promise<number> {
  const format = parseFormat(flags.format, ['table', 'json', 'ndjson', 'csv', 'md']);
  const failOn = parseFailOn(flags.failOn);
  const profile = await profileOption(flags.profile);
  if (domains.length === 0 && flags.input === undefined && !profile) {
    throw new UsageError('name at least one domain, or use --input <file> or --profile <dsguard.yml>');
  }
  if (flags.input === '-' && domains.includes('-')) throw new UsageError('stdin (-) can be named only once');
  const accepted = profile ? profile.acceptedDomains : [];
  if (profile && accepted.length === 0 && domains.length === 0 && flags.input === undefined) {
    throw new UsageError('the profile lists no accepted domains');
  }
  const { resolver, recorder } = await buildResolver(flags);
  const explain = flags.explain === true;
  const worst = new WorstSeverity();
  const byRisk = new Map<string, number>();
  let audited = 0;
  let errors = 0;
  let incomplete = 0;
  const out = new RecordStream<Row>(io, format, renderers(explain));
  const progress = new Progress(io, 'auditing domains');
  await out.open();
  try {
    for await (const r of auditDomains(sources(domains, flags, io, accepted), {
      resolver,
      concurrency: flags.concurrency ?? 16,
    })) {
      if (isDomainInputError(r)) {
        errors++;
        io.stderr.write(`dsguard: ${terminalSafe(r.input)}: ${terminalSafe(r.error)}\n`);
      } else {
        audited++;
        byRisk.set(r.risk, (byRisk.get(r.risk) ?? 0) + 1);
        if (r.status === 'incomplete') {
          incomplete++;
          io.stderr.write(
            `dsguard: ${terminalSafe(r.domain)}: DNS lookups failed (${terminalSafe(r.dnsErrors.map((e) => `${e.type} ${e.name}: ${e.error}`).join('; '), 300)})\n`,
          );
        }
        worst.add(r.findings);
      }
      await out.push(r);
      progress.tick(audited + errors);
    }
  } catch (err) {
    if (err instanceof CommandFailure) throw err;
    fail('io', (err as Error).message);
  }
  progress.done();
  await out.close();
  if (recorder && flags.dnsRecord !== undefined) {
    try {
      await recorder.save(flags.dnsRecord);
    } catch (err) {
      fail('io', `cannot write ${flags.dnsRecord}: ${(err as Error).message}`);
    }
  }
  if (format === 'table' && audited + errors > 1) {
    const risks = ['high', 'medium', 'low', 'unknown'].filter((k) => byRisk.has(k)).map((k) => `${byRisk.get(k)} ${k}`);
    io.stderr.write(
      `${audited} domain(s) audited${risks.length ? ` (risk: ${risks.join(', ')})` : ''}${errors ? `, ${errors} input error(s)` : ''}\n`,
    );
  }
  if (audited + errors === 0) {
    io.stderr.write('dsguard: no domains to audit\n');
    return EXIT.failure;
  }
  if (errors > 0 || incomplete > 0) return EXIT.failure;
  return worst.reaches(failOn) ? EXIT.findings : EXIT.ok;
}

type Row = DomainExposure | DomainInputError;

function renderers(explain: boolean): RecordRenderers<Row> {
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

export function renderText(r: Row, explain: boolean): string {
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

export function renderMarkdown(r: Row, explain: boolean): string {
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

function csvCells(r: Row): (string | number | boolean | null)[] {
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

function renderCsvRow(r: Row, first: boolean): string {
  const cells = csvCells(r).map((v) => csvSafe(v === null ? '' : String(v)));
  return stringify(first ? [[...CSV_COLUMNS], cells] : [cells], { record_delimiter: '\r\n' });
}
