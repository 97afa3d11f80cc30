/**
 * `dsguard watch [--every 15m | --once]`: collect → report → compare with the last recorded cycle → alerts, on a
 * schedule (croner). Sinks: a generic JSON webhook, Teams (Workflows, Adaptive Card), Slack (incoming webhook) —
 * their URLs read from environment variables (they embed a signature: secrets, never a flag, never logged) —
 * an NDJSON file and syslog. Each alert once per sink, ever (state in the store), rate-limited per sink and
 * retried with backoff (`--rate` replaces a sink's limit). A payload a sink refuses in three deliveries is a dead
 * letter (said once; `--dead-letters` lists them, `--retry-dead` sends them again). One JSON line per cycle on
 * stdout. SIGINT/SIGTERM stops after the current cycle.
 * docs/watch.md.
 * @module
 */

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ndjsonSink, type Sink, syslogSink, webhookSink } from '../alerts/alerts.js';
import { slackSink, teamsSink } from '../alerts/chat-sinks.js';
import { evidenceUntil, lastCycle, recordCycle } from '../alerts/cycle-store.js';
import { deadLetters, deliverOutbox, type RateLimit, retryDead, type TokenBucket } from '../alerts/delivery.js';
import { watchAlerts } from '../alerts/watch-state.js';
import { terminalSafe } from '../report/safe-text.js';
import { tenantReportFromFile } from '../report/tenant-report.js';
import { DsguardStore } from '../store/dsguard-store.js';
import {
  addCollectOptions,
  type CollectFlags,
  type CollectPlan,
  collectAll,
  parseDuration,
  planCollect,
} from './collect-command.js';
import { type CliIo, EXIT, UsageError, write } from './io.js';

interface WatchFlags extends CollectFlags {
  every: string;
  once?: boolean;
  webhookEnv?: string;
  teamsEnv?: string;
  slackEnv?: string;
  ndjson?: string;
  syslog?: string;
  minimal?: boolean;
  baseline?: boolean;
  rate: string[];
  deadLetters?: boolean;
  retryDead?: boolean;
}

export function registerWatch(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('watch')
    .description('Collect, report and alert on a schedule: new or changed Direct Send sources, silence, readiness')
    .option('--every <duration>', 'time between cycles (15m, 1h)', '15m')
    .option('--once', 'run one cycle and exit (for cron or a scheduler of your own)')
    .option('--webhook-env <name>', 'environment variable holding a JSON webhook URL (a secret: never a flag)')
    .option('--teams-env <name>', 'environment variable holding a Teams Workflows webhook URL (Adaptive Card)')
    .option('--slack-env <name>', 'environment variable holding a Slack incoming webhook URL')
    .option('--ndjson <file>', 'append alerts to this NDJSON file')
    .option('--syslog <target>', 'send alerts to syslog (RFC 5424, CEF body): udp://host:port or tcp://host:port')
    .option('--minimal', 'leave subjects, senders, finding codes and blocker sentences out of alerts')
    .option('--baseline', 'a tenant’s first cycle takes the sources already stored as known (no new-source alerts)')
    .option(
      '--rate <sink=N/s[,burst]>',
      'rate limit of a sink (webhook, teams, slack, syslog, ndjson, or its full name): N per second, bursts of burst; repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--dead-letters', 'list the alerts a sink refused until they became dead letters (JSON lines) and exit')
    .option('--retry-dead', 'send the dead letters again (fresh refusal count) from the first cycle on');
  addCollectOptions(cmd).action(async (flags: WatchFlags) => {
    setExit(await runWatch(flags, io));
  });
}

/** A webhook URL from an environment variable: https (http only to this host). Never echoed. */
function secretUrl(flag: string, env: string, io: CliIo): string {
  const url = io.env[env]?.trim();
  if (!url) throw new UsageError(`${flag}: the environment variable ${env} is not set`);
  let u: URL | null;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (
    u?.protocol !== 'https:' &&
    !(u?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
  )
    throw new UsageError(`${flag}: ${env} must hold an https URL (http only to this host)`);
  return url;
}

async function sinksFrom(flags: WatchFlags, io: CliIo): Promise<Sink[]> {
  const sinks: Sink[] = [];
  if (flags.webhookEnv !== undefined)
    sinks.push(webhookSink(`webhook:${flags.webhookEnv}`, secretUrl('--webhook-env', flags.webhookEnv, io)));
  if (flags.teamsEnv !== undefined)
    sinks.push(teamsSink(`teams:${flags.teamsEnv}`, secretUrl('--teams-env', flags.teamsEnv, io)));
  if (flags.slackEnv !== undefined)
    sinks.push(slackSink(`slack:${flags.slackEnv}`, secretUrl('--slack-env', flags.slackEnv, io)));
  if (flags.ndjson !== undefined) sinks.push(ndjsonSink(flags.ndjson));
  if (flags.syslog !== undefined) {
    const syslog = await syslogSink(flags.syslog);
    if (syslog.status === 'error') throw new UsageError(syslog.error);
    sinks.push(syslog.sink);
  }
  if (sinks.length === 0)
    throw new UsageError(
      'give at least one alert sink: --webhook-env, --teams-env, --slack-env <name>, --ndjson <file>, --syslog <target>',
    );
  return withRates(sinks, flags.rate);
}

/** `SINK=N/s[,burst]`: N a number in (0, 1000], burst an integer 1–10000 (default: N rounded up). */
export function parseRate(spec: string): { sink: string; rate: RateLimit } {
  const m = /^([a-z]+(?::[^=]+)?)=(\d{1,4}(?:\.\d{1,3})?)\/s(?:,(\d{1,5}))?$/.exec(spec.trim());
  const perSecond = Number(m?.[2]);
  const burst = m?.[3] !== undefined ? Number(m[3]) : Math.max(1, Math.ceil(perSecond));
  if (!m || !(perSecond > 0 && perSecond <= 1000) || !(burst >= 1 && burst <= 10_000))
    throw new UsageError(
      `--rate must be SINK=N/s or SINK=N/s,BURST (N in (0, 1000], BURST 1–10000), e.g. teams=1/s,4; got ${JSON.stringify(spec.slice(0, 60))}`,
    );
  return { sink: m[1]!, rate: { perSecond, burst } };
}

/** Each --rate applied to the sinks it names (a kind such as `teams`, or a full name such as `teams:VAR`). */
function withRates(sinks: Sink[], specs: readonly string[]): Sink[] {
  const out = [...sinks];
  for (const spec of specs) {
    const { sink, rate } = parseRate(spec);
    const matched = out.filter((s) => s.name === sink || s.name.split(':')[0] === sink);
    if (matched.length === 0)
      throw new UsageError(`--rate ${sink}: no such sink (configured: ${out.map((s) => s.name).join(', ')})`);
    for (const s of matched) out[out.indexOf(s)] = { ...s, rate };
  }
  return out;
}

/**
 * One cycle: collect every tenant, then per tenant report, compare with the last recorded cycle, record this one
 * (its state and its alerts, one transaction) and deliver the outbox. A tenant whose collect was interrupted by
 * a signal is not recorded: the next run compares with the last complete cycle.
 */
async function cycle(
  plan: CollectPlan,
  flags: WatchFlags,
  io: CliIo,
  sinks: Sink[],
  signal: AbortSignal,
  buckets: Map<string, TokenBucket>,
): Promise<boolean> {
  const collected = await collectAll(plan, flags, io, signal);
  const tenants: Record<string, unknown>[] = [];
  let failed = false;
  for (const [i, job] of plan.jobs.entries()) {
    const c = collected[i]!.result;
    const entry: Record<string, unknown> = { name: job.name, collect: c.status, error: c.error };
    tenants.push(entry);
    if (c.status !== 'ok') failed = true;
    if (c.status === 'interrupted') {
      entry.recorded = false;
      continue;
    }
    const rep = tenantReportFromFile(job.db, { profile: job.profile });
    if (rep.status === 'error') {
      entry.error = rep.error;
      failed = true;
      continue;
    }
    const opened = DsguardStore.open(job.db);
    if (opened.status === 'error') {
      entry.error = opened.error;
      failed = true;
      continue;
    }
    const store = opened.store;
    try {
      const last = lastCycle(store, job.name);
      const seq = (last?.seq ?? 0) + 1;
      const reference = evidenceUntil(store, job.spec.tenantId);
      const { alerts, state } = watchAlerts(rep.report, last?.state ?? null, {
        tenant: job.name,
        cycle: seq,
        reference,
        minimal: flags.minimal === true,
        baseline: flags.baseline === true,
      });
      recordCycle(store, job.name, { seq, at: new Date().toISOString(), state, alerts });
      entry.cycle = seq;
      const d = await deliverOutbox(store, sinks, { signal, buckets });
      for (const x of d.dead)
        io.stderr.write(
          `dsguard watch: ${terminalSafe(job.name)}: alert ${x.id} (${x.kind}) is a dead letter for ${terminalSafe(x.sink)}: refused ${x.refusals} times, last ${x.status ?? 'no status'} (${terminalSafe(x.error)}); see --dead-letters, --retry-dead\n`,
        );
      entry.alerts = {
        raised: alerts.length,
        kinds: Object.fromEntries(
          [...new Set(alerts.map((a) => a.kind))].map((k) => [k, alerts.filter((a) => a.kind === k).length]),
        ),
        delivered: d.delivered,
        alreadyDelivered: d.skipped,
        failed: d.failed,
        deadLettered: d.dead.map(({ sink, id, kind, status, refusals }) => ({ sink, id, kind, status, refusals })),
        pending: d.pending,
      };
      if (d.failed.length > 0 || d.dead.length > 0) failed = true;
    } catch (error) {
      entry.error = terminalSafe((error as Error).message);
      failed = true;
    } finally {
      store.close();
    }
  }
  await write(io.stdout, `${JSON.stringify({ cycle: new Date().toISOString(), tenants })}\n`);
  return failed;
}

/** Run `fn` on each tenant's store; `true` when one could not be opened (said on stderr). */
function eachStore(plan: CollectPlan, io: CliIo, fn: (store: DsguardStore, job: CollectPlan['jobs'][number]) => void) {
  let bad = false;
  for (const job of plan.jobs) {
    // Listing or retrying dead letters reads a store watch wrote: a missing one is a wrong path, never created here.
    if (!existsSync(job.db)) {
      io.stderr.write(
        `dsguard watch: ${terminalSafe(job.name)}: no store at ${terminalSafe(job.db)} (nothing collected there yet)\n`,
      );
      bad = true;
      continue;
    }
    const opened = DsguardStore.open(job.db);
    if (opened.status === 'error') {
      io.stderr.write(`dsguard watch: ${terminalSafe(job.name)}: ${terminalSafe(opened.error)}\n`);
      bad = true;
      continue;
    }
    try {
      fn(opened.store, job);
    } finally {
      opened.store.close();
    }
  }
  return bad;
}

/** `--dead-letters`: one JSON line per dead letter of every tenant, then exit (no collect, no delivery). */
async function listDead(plan: CollectPlan, io: CliIo): Promise<number> {
  const lines: string[] = [];
  const bad = eachStore(plan, io, (store) => {
    for (const d of deadLetters(store)) lines.push(JSON.stringify(d));
  });
  await write(io.stdout, lines.map((l) => `${l}\n`).join(''));
  return bad ? EXIT.failure : EXIT.ok;
}

async function runWatch(flags: WatchFlags, io: CliIo): Promise<number> {
  const everyMs = parseDuration('--every', flags.every);
  if (everyMs < 60_000) throw new UsageError('--every must be at least 1m');
  const plan = await planCollect(flags);
  if (flags.deadLetters) return listDead(plan, io);
  const sinks = await sinksFrom(flags, io);
  if (flags.retryDead) {
    const bad = eachStore(plan, io, (store, job) => {
      const n = retryDead(store);
      io.stderr.write(`dsguard watch: ${terminalSafe(job.name)}: ${n} dead letter(s) to send again\n`);
    });
    if (bad) return EXIT.failure;
  }
  const controller = new AbortController();
  const buckets = new Map<string, TokenBucket>();
  // SIGINT/SIGTERM: the current cycle ends (its collect stops after the current window, delivery after the
  // current alert) and nothing new starts. A second signal is the default one: the process ends at once (the
  // store's transactions keep it consistent).
  let onSignal = () => controller.abort();
  const handler = () => onSignal();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  try {
    if (flags.once) return (await cycle(plan, flags, io, sinks, controller.signal, buckets)) ? EXIT.failure : EXIT.ok;
    const { Cron } = await import('croner');
    let lastFailed = false;
    await new Promise<void>((resolve) => {
      const job = new Cron('* * * * * *', { interval: Math.round(everyMs / 1000), protect: true }, async () => {
        try {
          lastFailed = await cycle(plan, flags, io, sinks, controller.signal, buckets);
        } catch (error) {
          lastFailed = true;
          io.stderr.write(`dsguard watch: ${terminalSafe((error as Error).message)}\n`);
        }
        if (controller.signal.aborted) {
          job.stop();
          resolve();
        }
      });
      onSignal = () => {
        controller.abort();
        // Between cycles: stop now; during one, the cycle finishes first (the callback above resolves).
        if (!job.isBusy()) {
          job.stop();
          resolve();
        }
      };
    });
    return lastFailed ? EXIT.failure : EXIT.ok;
  } finally {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  }
}
