/**
 * `dsguard watch [--every 15m | --once]`: collect → report → alerts, on a schedule (croner). Alerts go to a
 * generic JSON webhook (its URL read from an environment variable: it embeds a signature, so it is a secret, never
 * a flag and never logged) and/or an NDJSON file; each alert once per sink, ever (state in the store). One JSON
 * line per cycle on stdout. SIGINT/SIGTERM stops after the current cycle.
 * @module
 */
import type { Command } from 'commander';
import {
  type Alert,
  alertsFromReport,
  deliver,
  ndjsonSink,
  type Sink,
  syslogSink,
  webhookSink,
} from '../alerts/alerts.js';
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
  ndjson?: string;
  syslog?: string;
  minimal?: boolean;
}

export function registerWatch(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('watch')
    .description('Collect, report and alert on a schedule: new malicious, suspicious or unseen Direct Send sources')
    .option('--every <duration>', 'time between cycles (15m, 1h)', '15m')
    .option('--once', 'run one cycle and exit (for cron or a scheduler of your own)')
    .option('--webhook-env <name>', 'environment variable holding a JSON webhook URL (a secret: never a flag)')
    .option('--ndjson <file>', 'append alerts to this NDJSON file')
    .option('--syslog <target>', 'send alerts to syslog (RFC 5424, CEF body): udp://host:port or tcp://host:port')
    .option('--minimal', 'leave subjects, senders and finding codes out of alerts');
  addCollectOptions(cmd).action(async (flags: WatchFlags) => {
    setExit(await runWatch(flags, io));
  });
}

async function sinksFrom(flags: WatchFlags, io: CliIo): Promise<Sink[]> {
  const sinks: Sink[] = [];
  if (flags.webhookEnv !== undefined) {
    const url = io.env[flags.webhookEnv]?.trim();
    if (!url) throw new UsageError(`--webhook-env: the environment variable ${flags.webhookEnv} is not set`);
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
      throw new UsageError(`--webhook-env: ${flags.webhookEnv} must hold an https URL (http only to this host)`);
    sinks.push(webhookSink(`webhook:${flags.webhookEnv}`, url));
  }
  if (flags.ndjson !== undefined) sinks.push(ndjsonSink(flags.ndjson));
  if (flags.syslog !== undefined) {
    try {
      sinks.push(await syslogSink(flags.syslog));
    } catch (error) {
      throw new UsageError(
        (error as Error).message.startsWith('--syslog')
          ? (error as Error).message
          : `--syslog must be udp://host:port or tcp://host:port`,
      );
    }
  }
  if (sinks.length === 0)
    throw new UsageError('give at least one alert sink: --webhook-env <name>, --ndjson <file>, --syslog <target>');
  return sinks;
}

async function cycle(plan: CollectPlan, flags: WatchFlags, io: CliIo, sinks: Sink[], signal: AbortSignal) {
  const collected = await collectAll(plan, flags, io, signal);
  const tenants: Record<string, unknown>[] = [];
  let failed = false;
  for (const [i, job] of plan.jobs.entries()) {
    const c = collected[i]!.result;
    const entry: Record<string, unknown> = { name: job.name, collect: c.status, error: c.error };
    if (c.status !== 'ok') failed = true;
    const rep = tenantReportFromFile(job.db, { profile: job.profile });
    if (rep.status === 'error') {
      entry.error = rep.error;
      failed = true;
      tenants.push(entry);
      continue;
    }
    const alerts: Alert[] = alertsFromReport(job.name, rep.report, { minimal: flags.minimal === true });
    const opened = DsguardStore.open(job.db);
    if (opened.status === 'error') {
      entry.error = opened.error;
      failed = true;
      tenants.push(entry);
      continue;
    }
    try {
      const d = await deliver(opened.store, alerts, sinks);
      entry.alerts = {
        supported: alerts.length,
        delivered: d.delivered,
        alreadyDelivered: d.skipped,
        failed: d.failed,
      };
      if (d.failed.length > 0) failed = true;
    } finally {
      opened.store.close();
    }
    tenants.push(entry);
  }
  await write(io.stdout, `${JSON.stringify({ cycle: new Date().toISOString(), tenants })}\n`);
  return failed;
}

async function runWatch(flags: WatchFlags, io: CliIo): Promise<number> {
  const everyMs = parseDuration('--every', flags.every);
  if (everyMs < 60_000) throw new UsageError('--every must be at least 1m');
  const plan = await planCollect(flags);
  const sinks = await sinksFrom(flags, io);
  const controller = new AbortController();
  if (flags.once) return (await cycle(plan, flags, io, sinks, controller.signal)) ? EXIT.failure : EXIT.ok;
  const { Cron } = await import('croner');
  let lastFailed = false;
  await new Promise<void>((resolve) => {
    const job = new Cron('* * * * * *', { interval: Math.round(everyMs / 1000), protect: true }, async () => {
      lastFailed = await cycle(plan, flags, io, sinks, controller.signal);
      if (controller.signal.aborted) {
        job.stop();
        resolve();
      }
    });
    const stop = () => {
      controller.abort();
      // Between cycles: stop now; during one, the cycle ends after its current window and then stops.
      if (!job.isBusy()) {
        job.stop();
        resolve();
      }
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return lastFailed ? EXIT.failure : EXIT.ok;
}
