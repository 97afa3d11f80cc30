/**
 * `dsguard audit [--config-dir DIR | --tenant … | --tenants tenants.yml] [--db store] [--profile …]`: the seed's
 * prevention checklist scored against the tenant's configuration, with evidence and fixing commands.
 * `--format table|json|md|html|junit`, `--fail-on fail` exits 1 when a control fails.
 * @module
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type ConfigSource, domainPosture, loadTenantConfig, storeFactsFrom } from '../audit/audit-run.js';
import { auditTenant, type Scorecard, type StoreFacts } from '../audit/checks.js';
import {
  renderAuditHtml,
  renderAuditJson,
  renderAuditJunit,
  renderAuditMarkdown,
  renderAuditTable,
} from '../audit/render.js';
import type { TenantProfile } from '../core/profile.js';
import { CachingResolver, parseDnsServer, ReplayResolver, type Resolver, SystemResolver } from '../net/dns.js';
import { terminalSafe } from '../report/safe-text.js';
import { loadTenantsFile } from '../tenant/tenants-file.js';
import { type CliIo, EXIT, fail, Progress, UsageError, write } from './io.js';
import { profileOption } from './options.js';
import { addTenantOptions, credentialFromFlags, type TenantFlags } from './tenant-options.js';

interface AuditFlags extends TenantFlags {
  configDir?: string;
  db?: string;
  profile?: string;
  format: string;
  failOn?: string;
  dnsServer?: string;
  dnsReplay?: string;
  dns: boolean;
}

const FORMATS = ['table', 'json', 'md', 'html', 'junit'] as const;

export function registerAudit(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('audit')
    .description('Score the tenant configuration against the Direct Send prevention checklist, with evidence and fixes')
    .option('--config-dir <dir>', 'folder of configuration dumps (dsguard powershell --config)');
  addTenantOptions(cmd)
    .option(
      '--db <path>',
      'store written by dsguard ingest: counts the legitimate sources RejectDirectSend would break',
    )
    .option(
      '-p, --profile <file>',
      'tenant profile: its directSendSources are excepted from the suggested transport rule',
    )
    .option('-f, --format <format>', FORMATS.join(' | '), 'table')
    .option('--fail-on <level>', 'fail: exit 1 when a control fails; none (default)')
    .option('--dns-server <host:port>', 'DNS server for the SPF/DMARC/MX lookups of the accepted domains')
    .option('--dns-replay <file>', 'answer DNS from a replay file (dsguard exposure --dns-record)')
    .option('--no-dns', 'skip DNS: SPF, DMARC, MX controls are unknown')
    .action(async (flags: AuditFlags) => {
      setExit(await runAudit(flags, io));
    });
}

async function resolverFrom(flags: AuditFlags): Promise<Resolver | null> {
  if (!flags.dns) return null;
  if (flags.dnsReplay !== undefined) {
    if (flags.dnsServer !== undefined) throw new UsageError('--dns-replay and --dns-server cannot be combined');
    const r = await ReplayResolver.load(flags.dnsReplay);
    if ('error' in r) throw new UsageError(r.error);
    return new CachingResolver(r.resolver);
  }
  const opts: { server?: string } = {};
  if (flags.dnsServer !== undefined) {
    const s = parseDnsServer(flags.dnsServer);
    if ('error' in s) throw new UsageError(s.error);
    opts.server = s.server;
  }
  return new CachingResolver(new SystemResolver(opts));
}

export interface OneAudit {
  tenant: string;
  card: Scorecard | null;
  error: string | null;
}

async function auditOne(
  name: string,
  src: ConfigSource,
  profile: TenantProfile | null,
  resolver: Resolver | null,
  store: StoreFacts | null,
  io: CliIo,
): Promise<OneAudit> {
  const progress = new Progress(io, `${terminalSafe(name, 80)}: reading the configuration`);
  const loaded = await loadTenantConfig(
    src.kind === 'live' ? { ...src, onProgress: (d, t) => progress.tick(d, t) } : src,
  );
  progress.done();
  if (loaded.status === 'error') return { tenant: name, card: null, error: loaded.error };
  const domains = (loaded.config.objects['Get-AcceptedDomain'] ?? []).map((d) => d.DomainName.toLowerCase()).sort();
  const dns = resolver ? await domainPosture(domains, resolver) : null;
  const card = auditTenant({
    config: loaded.config,
    dns,
    store,
    knownSources: (profile?.knownSources ?? []).map((k) => ({ name: k.name, ips: k.ips.map((c) => c.text) })),
  });
  return { tenant: name, card, error: null };
}

export async function runAudit(flags: AuditFlags, io: CliIo): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(flags.format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${flags.format}")`);
  if (flags.failOn !== undefined && flags.failOn !== 'fail' && flags.failOn !== 'none')
    throw new UsageError(`--fail-on must be fail or none (got "${flags.failOn}")`);
  const sources = [flags.configDir !== undefined, flags.tenant !== undefined, flags.tenants !== undefined].filter(
    Boolean,
  ).length;
  if (sources !== 1)
    throw new UsageError('give exactly one of --config-dir <dir>, --tenant <id>, --tenants <tenants.yml>');
  if (flags.tenants !== undefined && flags.db !== undefined)
    throw new UsageError('--db is one tenant’s store: with --tenants, give each tenant its own db: in tenants.yml');
  if (flags.tenants !== undefined && flags.format === 'html')
    throw new UsageError('--format html shows one tenant: with --tenants use json, md, junit or table');
  const profile = await profileOption(flags.profile);
  const resolver = await resolverFrom(flags);
  let store: StoreFacts | null = null;
  if (flags.db !== undefined) {
    if (!existsSync(flags.db)) fail('io', `${flags.db}: no such store (run dsguard ingest first)`);
    const r = storeFactsFrom(flags.db, profile);
    if ('error' in r) fail('io', r.error);
    store = r.facts;
  }
  const prompt = (m: string) => io.stderr.write(`${terminalSafe(m, 2000)}\n`);
  const results: OneAudit[] = [];
  if (flags.tenants !== undefined) {
    const t = await loadTenantsFile(
      flags.tenants,
      flags.authorityHost !== undefined ? { authorityHost: flags.authorityHost } : {},
    );
    if ('error' in t) throw new UsageError(t.error);
    for (const e of t.tenants) {
      let p: TenantProfile | null = profile;
      let tenantStore: StoreFacts | null = null;
      try {
        if (e.profile) p = await profileOption(e.profile);
        if (e.db) {
          if (!existsSync(e.db)) throw new Error(`${e.db}: no such store (run dsguard ingest first)`);
          const r = storeFactsFrom(e.db, p);
          if ('error' in r) throw new Error(r.error);
          tenantStore = r.facts;
        }
      } catch (error) {
        results.push({ tenant: e.name, card: null, error: (error as Error).message });
        continue;
      }
      const src: ConfigSource = e.credential
        ? {
            kind: 'live',
            credential: e.credential,
            env: io.env,
            prompt,
            anchorMailbox: e.anchorMailbox,
            ...(flags.exchangeUrl ? { exchangeUrl: flags.exchangeUrl } : {}),
          }
        : { kind: 'dir', dir: e.configDir! };
      try {
        results.push(await auditOne(e.name, src, p, resolver, tenantStore, io));
      } catch (error) {
        results.push({ tenant: e.name, card: null, error: (error as Error).message });
      }
    }
  } else {
    const src: ConfigSource =
      flags.configDir !== undefined
        ? { kind: 'dir', dir: flags.configDir }
        : {
            kind: 'live',
            credential: credentialFromFlags(flags),
            env: io.env,
            prompt,
            ...(flags.exchangeUrl ? { exchangeUrl: flags.exchangeUrl } : {}),
          };
    const one = await auditOne(flags.configDir ?? flags.tenant!, src, profile, resolver, store, io);
    if (one.error !== null) fail('remote', one.error);
    results.push(one);
  }
  for (const r of results)
    if (r.error !== null)
      io.stderr.write(`dsguard: DS795 tenant ${terminalSafe(r.tenant)}: ${terminalSafe(r.error, 2000)}\n`);
  const cards = results.filter((r) => r.card !== null) as (OneAudit & { card: Scorecard })[];
  await write(io.stdout, render(flags.format, cards, flags.tenants !== undefined, results));
  if (results.some((r) => r.error !== null)) return EXIT.failure;
  if (flags.failOn === 'fail' && cards.some((c) => c.card.summary.fail > 0)) return EXIT.findings;
  return EXIT.ok;
}

function render(format: string, cards: (OneAudit & { card: Scorecard })[], multi: boolean, all: OneAudit[]): string {
  if (!multi) {
    const card = cards[0]!.card;
    switch (format) {
      case 'json':
        return renderAuditJson(card);
      case 'md':
        return renderAuditMarkdown(card);
      case 'html':
        return renderAuditHtml(card);
      case 'junit':
        return renderAuditJunit(card);
      default:
        return renderAuditTable(card);
    }
  }
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        all.map((r) => ({ tenant: r.tenant, error: r.error, scorecard: r.card })),
        null,
        2,
      )}\n`;
    case 'junit': {
      const suites = cards.map((c) => /<testsuite [\s\S]*<\/testsuite>/.exec(renderAuditJunit(c.card))?.[0] ?? '');
      const n = (k: 'fail' | 'unknown') => cards.reduce((s, c) => s + c.card.summary[k], 0);
      const tests = cards.reduce((s, c) => s + c.card.controls.length, 0);
      return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dsguard audit" tests="${tests}" failures="${n('fail')}" skipped="${n('unknown')}">\n  ${suites.join('\n  ')}\n</testsuites>\n`;
    }
    case 'md':
      return cards
        .map((c) =>
          renderAuditMarkdown(c.card).replace(
            /^# dsguard audit/,
            `# dsguard audit: ${c.tenant.replace(/[\r\n#]/g, ' ')}`,
          ),
        )
        .join('\n');
    default:
      return cards.map((c) => `== ${terminalSafe(c.tenant)} ==\n${renderAuditTable(c.card)}`).join('\n');
  }
}
