/**
 * `dsguard probe <domain> --from a@domain --to b@domain`: does the tenant's smart host still accept Direct Send?
 * One SMTP conversation that stops before DATA (nothing is delivered) unless --send-canary.
 * @module
 */
import type { Command } from 'commander';
import { isSameOrSubdomain } from '../core/domain-name.js';
import { versioned } from '../core/json-record.js';
import { parseDnsServer, ReplayResolver, type Resolver, SystemResolver } from '../net/dns.js';
import { probeDomain, safeAddress } from '../probe/probe.js';
import { renderProbeMarkdown, renderProbeText } from '../probe/probe-render.js';
import { terminalSafe } from '../report/safe-text.js';
import { type CliIo, EXIT, orFail, UsageError, write } from './io.js';
import { parseFailOn, parseFormat, positiveInt, WorstSeverity } from './options.js';

interface ProbeFlags {
  from?: string;
  to?: string;
  smtpHost?: string;
  smtpPort?: number;
  sendCanary?: boolean;
  starttls?: boolean;
  ehlo?: string;
  timeout?: number;
  dnsServer?: string;
  dnsReplay?: string;
  format: string;
  failOn?: string;
  explain?: boolean;
}

export function registerProbe(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('probe')
    .description(
      'Check your own tenant: does its smart host accept Direct Send? Stops before DATA (nothing delivered) unless --send-canary',
    )
    .argument('<domain>', 'the accepted domain to probe')
    .requiredOption('--from <address>', 'envelope sender (MAIL FROM), normally an address in the domain')
    .requiredOption('--to <address>', 'recipient (RCPT TO): must be in the probed domain')
    .option('--smtp-host <host>', 'connect to this host instead of the smart host found in DNS')
    .option('--smtp-port <port>', 'connect to this port (default 25)', positiveInt('--smtp-port'))
    .option('--send-canary', 'after RCPT, send one fixed, self-describing test message and read the final reply')
    .option('--no-starttls', 'do not upgrade to TLS even when offered')
    .option('--ehlo <name>', 'name to give in EHLO (default: this host name)')
    .option('--timeout <ms>', 'timeout per reply in milliseconds (default 20000)', positiveInt('--timeout'))
    .option('--dns-server <host:port>', 'DNS server used to find the smart host')
    .option('--dns-replay <file>', 'answer DNS queries from a replay file')
    .option('-f, --format <format>', 'table | json | md', 'table')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity fires (high|medium|low|info|none)')
    .option('--explain', 'add what each finding means and what to do')
    .action(async (domain: string, flags: ProbeFlags) => {
      setExit(await runProbe(domain, flags, io));
    });
}

export async function runProbe(domain: string, flags: ProbeFlags, io: CliIo): Promise<number> {
  const format = parseFormat(flags.format, ['table', 'json', 'md']);
  const failOn = parseFailOn(flags.failOn);
  if (flags.smtpPort !== undefined && flags.smtpPort > 65535) throw new UsageError('--smtp-port must be 1–65535');
  let resolver: Resolver;
  if (flags.dnsReplay !== undefined) {
    if (flags.dnsServer !== undefined) throw new UsageError('--dns-replay and --dns-server cannot be combined');
    const r = orFail(await ReplayResolver.load(flags.dnsReplay));
    resolver = r.resolver;
  } else {
    const opts: { server?: string; timeoutMs?: number } = {};
    if (flags.dnsServer !== undefined) {
      opts.server = orFail(parseDnsServer(flags.dnsServer)).server;
    }
    resolver = new SystemResolver(opts);
  }
  const from = safeAddress(flags.from ?? '');
  if (from && !isSameOrSubdomain(from.domain, domain.trim().toLowerCase().replace(/\.$/, ''))) {
    io.stderr.write(
      `dsguard: note: --from ${terminalSafe(from.address)} is not in ${terminalSafe(domain)}; RejectDirectSend only covers envelope senders in the tenant's accepted domains\n`,
    );
  }
  const { report } = orFail(
    await probeDomain({
      domain,
      from: flags.from ?? '',
      to: flags.to ?? '',
      resolver,
      sendCanary: flags.sendCanary === true,
      starttls: flags.starttls !== false,
      ...(flags.smtpHost !== undefined ? { smtpHost: flags.smtpHost } : {}),
      ...(flags.smtpPort !== undefined ? { smtpPort: flags.smtpPort } : {}),
      ...(flags.ehlo !== undefined ? { ehloName: flags.ehlo } : {}),
      ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    }),
  );
  const explain = flags.explain === true;
  const text =
    format === 'json'
      ? `${JSON.stringify(versioned(report), null, 2)}\n`
      : format === 'md'
        ? renderProbeMarkdown(report, explain)
        : renderProbeText(report, explain);
  await write(io.stdout, text);
  if (report.result === 'error') {
    io.stderr.write(`dsguard: probe failed: ${terminalSafe(report.explanation)}\n`);
    return EXIT.failure;
  }
  const worst = new WorstSeverity();
  worst.add(report.findings);
  return worst.reaches(failOn) ? EXIT.findings : EXIT.ok;
}
