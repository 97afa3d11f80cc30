/**
 * `dsguard collect [--tenant … | --tenants tenants.yml] [--since 30d] [--db …] -p profile`: read Direct Send
 * evidence from Microsoft 365 (advanced hunting, or message trace where the tenant has no email tables) into the
 * store, incrementally. Results (one per tenant) on stdout, progress on stderr. Exit 0 when every tenant was read,
 * 3 when one failed (the others are still read), 2 for a usage error.
 * @module
 */
import { type Command, Option } from 'commander';
import { type CollectResult, collectTenant, emptyResult } from '../collect/collect.js';
import { tenantStorePath } from '../collect/store-path.js';
import type { TenantProfile } from '../core/profile.js';
import { terminalSafe } from '../report/safe-text.js';
import { AuthError, type CredentialSpec, createTokenSource } from '../tenant/auth.js';
import { loadTenantsFile } from '../tenant/tenants-file.js';
import { type CliIo, EXIT, fail, UsageError, write } from './io.js';
import { parseFormat, positiveInt, profileOption } from './options.js';
import { addTenantOptions, credentialFromFlags, type TenantFlags } from './tenant-options.js';

export interface CollectFlags extends TenantFlags {
  db?: string;
  profile?: string;
  since: string;
  overlap: string;
  graphUrl?: string;
  format: string;
  jobs: number;
  huntingRowCap?: number;
  tracePageSize?: number;
  factQueryChars?: number;
  maxTraceDetails?: number;
}

/** `30d`, `12h`, `90m` → milliseconds. */
export function parseDuration(name: string, value: string): number {
  const m = /^(\d{1,5})([dhm])$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0) throw new UsageError(`${name} must be a duration like 30d, 12h or 90m (got "${value}")`);
  return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000);
}

function checkHttps(name: string, value: string | undefined): void {
  if (value === undefined) return;
  let u: URL | null;
  try {
    u = new URL(value);
  } catch {
    u = null;
  }
  if (u?.protocol !== 'https:') throw new UsageError(`${name} must be an https URL (got "${value.slice(0, 80)}")`);
}

export function registerCollect(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('collect')
    .description(
      'Read Direct Send evidence from Microsoft 365 into the store: advanced hunting (server-side filtered), or message trace for tenants without email tables; incremental',
    );
  addCollectOptions(cmd).action(async (flags: CollectFlags) => {
    setExit(await runCollect(flags, io));
  });
}

/** The flags `collect` and `watch` share. */
export function addCollectOptions(cmd: Command): Command {
  cmd
    .option('--db <path>', 'the store (SQLite, created when missing); with --tenants, each tenant’s db: or <name>.db')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml): its accepted domains select the rows')
    .option('--since <duration>', 'how far back a first run reads (hunting reaches 30d, message trace 90d)', '30d')
    .option('--overlap <duration>', 're-read this much before the checkpoint (late rows, changed status)', '6h')
    .option('--graph-url <url>', 'Microsoft Graph base (default https://graph.microsoft.com; sovereign clouds, tests)')
    .option('-f, --format <format>', 'table | json', 'table')
    .option('--jobs <n>', 'tenants read at once with --tenants (default 4)', positiveInt('--jobs'), 4)
    .addOption(new Option('--hunting-row-cap <n>').argParser(positiveInt('--hunting-row-cap')).hideHelp())
    .addOption(new Option('--trace-page-size <n>').argParser(positiveInt('--trace-page-size')).hideHelp())
    .addOption(new Option('--fact-query-chars <n>').argParser(positiveInt('--fact-query-chars')).hideHelp())
    .option(
      '--max-trace-details <n>',
      'message trace: most getDetailsByRecipient calls a run makes (100 per 5 minutes are allowed)',
      positiveInt('--max-trace-details'),
    );
  return addTenantOptions(cmd);
}

export interface Job {
  name: string;
  spec: CredentialSpec;
  db: string;
  profile: TenantProfile;
}

export interface CollectPlan {
  jobs: Job[];
  sinceMs: number;
  overlapMs: number;
}

/** The tenants the flags name, each with its credential, store and profile; usage errors name the flag. */
export async function planCollect(flags: CollectFlags): Promise<CollectPlan> {
  const sinceMs = parseDuration('--since', flags.since);
  const overlapMs = parseDuration('--overlap', flags.overlap);
  checkHttps('--graph-url', flags.graphUrl);
  if ((flags.tenant === undefined) === (flags.tenants === undefined))
    throw new UsageError('give one of --tenant <id>, --tenants <tenants.yml>');
  const jobs: Job[] = [];
  if (flags.tenant !== undefined) {
    const spec = credentialFromFlags(flags);
    const profile = await profileOption(flags.profile);
    if (!profile || profile.acceptedDomains.length === 0)
      throw new UsageError('-p/--profile with accepted domains is needed: they select the rows to collect');
    jobs.push({ name: flags.tenant, spec, db: flags.db ?? 'dsguard.db', profile });
  } else {
    const loaded = await loadTenantsFile(
      flags.tenants!,
      flags.authorityHost !== undefined ? { authorityHost: flags.authorityHost } : {},
    );
    if ('error' in loaded) fail('usage', loaded.error);
    const shared = await profileOption(flags.profile);
    for (const t of loaded.tenants) {
      if (t.credential === null)
        throw new UsageError(`${flags.tenants}: ${t.name}: collect needs live access, not configDir`);
      const profile = t.profile !== null ? await profileOption(t.profile) : shared;
      if (!profile || profile.acceptedDomains.length === 0)
        throw new UsageError(`${flags.tenants}: ${t.name}: a profile with accepted domains is needed (profile: or -p)`);
      const db = tenantStorePath(t, flags.db);
      jobs.push({ name: t.name, spec: t.credential, db, profile });
    }
    const dbs = new Set(jobs.map((j) => j.db));
    if (dbs.size !== jobs.length) throw new UsageError(`${flags.tenants}: two tenants share a db: give each its own`);
  }
  return { jobs, sinceMs, overlapMs };
}

/** Collect every tenant of the plan, `--jobs` at a time; one failing never stops the others. */
export async function collectAll(
  plan: CollectPlan,
  flags: CollectFlags,
  io: CliIo,
  signal: AbortSignal,
): Promise<{ name: string; result: CollectResult }[]> {
  const { jobs } = plan;
  const results: { name: string; result: CollectResult }[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= jobs.length) return;
      const job = jobs[i]!;
      results[i] = {
        name: job.name,
        result: await collectOne(job, flags, plan.sinceMs, plan.overlapMs, io, signal),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(flags.jobs, jobs.length) }, worker));
  return results;
}

async function runCollect(flags: CollectFlags, io: CliIo): Promise<number> {
  const format = parseFormat(flags.format, ['table', 'json']);
  const plan = await planCollect(flags);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let results: { name: string; result: CollectResult }[];
  try {
    results = await collectAll(plan, flags, io, controller.signal);
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  if (format === 'json') await write(io.stdout, `${JSON.stringify({ tenants: results.map(flat) }, null, 2)}\n`);
  else await write(io.stdout, renderTable(results));
  return results.every((r) => r.result.status === 'ok') ? EXIT.ok : EXIT.failure;
}

const flat = (r: { name: string; result: CollectResult }) => ({ name: r.name, ...r.result });

async function collectOne(
  job: Job,
  flags: CollectFlags,
  sinceMs: number,
  overlapMs: number,
  io: CliIo,
  signal: AbortSignal,
): Promise<CollectResult> {
  let tokens: Awaited<ReturnType<typeof createTokenSource>>;
  try {
    tokens = await createTokenSource(job.spec, {
      env: io.env,
      prompt: (m) => io.stderr.write(`${terminalSafe(m)}\n`),
    });
  } catch (error) {
    return {
      ...emptyResult(job.spec.tenantId),
      status: 'error',
      error: error instanceof AuthError ? error.message : String(error),
    };
  }
  return collectTenant({
    tenantId: job.spec.tenantId,
    tokens,
    db: job.db,
    profile: job.profile,
    sinceMs,
    overlapMs,
    signal,
    ...(flags.graphUrl !== undefined ? { graphUrl: flags.graphUrl } : {}),
    ...(flags.huntingRowCap !== undefined ? { rowCap: flags.huntingRowCap } : {}),
    ...(flags.tracePageSize !== undefined ? { tracePageSize: flags.tracePageSize } : {}),
    ...(flags.factQueryChars !== undefined ? { factQueryChars: flags.factQueryChars } : {}),
    ...(flags.maxTraceDetails !== undefined ? { maxTraceDetails: flags.maxTraceDetails } : {}),
    onProgress: (line) => {
      if (io.progress) io.stderr.write(`${terminalSafe(line)}\n`);
    },
  });
}

function renderTable(results: { name: string; result: CollectResult }[]): string {
  const lines: string[] = [];
  for (const { name, result: r } of results) {
    lines.push(
      `${terminalSafe(name)}: ${r.status}${r.source ? ` (${r.source})` : ''} — ${r.rows} rows in ${r.windows} window(s)` +
        `${r.splits ? `, ${r.splits} split(s) at the row cap` : ''}; stored ${r.stored}, counted ${r.aggregated}, rejected ${r.rejected}, already stored ${r.duplicates}; ${r.requests} requests, ${r.bytes} bytes` +
        `${r.checkpoint ? `; checkpoint ${r.checkpoint}` : ''}`,
    );
    if (r.totals) {
      const t = r.totals;
      lines.push(
        `  mail over ${t.days} day(s): ${t.total} in all, ${t.inbound} inbound, ${t.noConnector} inbound without a connector, ${t.directSend} Direct Send (${t.directSendPercentOfInbound ?? 0} % of inbound), ${t.internalSpoof} internal spoof (rows: message × recipient)`,
      );
    }
    if (r.facts && r.facts.messages > 0)
      lines.push(
        `  flagged messages: ${r.facts.messages}; ${r.facts.attachments} attachment and ${r.facts.urls} URL row(s) in ${r.facts.queries} query(ies)`,
      );
    if (r.details && r.details.planned > 0)
      lines.push(
        `  trace detail: ${r.details.asked} of ${r.details.planned} planned call(s), ${r.details.events} event(s)${r.details.deferred ? `; ${r.details.deferred} over --max-trace-details, not asked` : ''}`,
      );
    if (r.fallback) lines.push(`  ${terminalSafe(r.fallback)}`);
    if (r.error) lines.push(`  error: ${terminalSafe(r.error)}`);
  }
  return `${lines.join('\n')}\n`;
}
