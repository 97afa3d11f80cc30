/**
 * `dsguard exposure <domains…>`: Direct Send exposure per domain from public DNS (MX, smart host, SPF, DMARC),
 * for one domain or thousands (`--input`, `--profile`), with bounded concurrency and results in input order.
 * @module
 */
import type { Command } from 'commander';
import { auditDomains, type DomainItem, isDomainInputError, readDomainList, toDomain } from '../exposure/exposure.js';
import { type ExposureRow, exposureRenderers } from '../exposure/exposure-render.js';
import {
  CachingResolver,
  parseDnsServer,
  RecordingResolver,
  ReplayResolver,
  type Resolver,
  SystemResolver,
} from '../net/dns.js';
import { terminalSafe } from '../report/safe-text.js';
import { type CliIo, CommandFailure, EXIT, fail, orFail, Progress, UsageError } from './io.js';
import { parseFailOn, parseFormat, positiveInt, profileOption, WorstSeverity } from './options.js';
import { RecordStream } from './record-stream.js';

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
  const out = new RecordStream<ExposureRow>(io, format, exposureRenderers(explain));
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
