/**
 * `dsguard report`: totals, timeline, Direct Send source inventory, RejectDirectSend impact and connector plan
 * from the store. `--format html` writes one self-contained page (redirect it to a file).
 * @module
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { tenantStorePath } from '../collect/store-path.js';
import { versioned } from '../core/json-record.js';
import {
  buildAllTenants,
  renderAllTenantsCsv,
  renderAllTenantsMarkdown,
  renderAllTenantsText,
} from '../report/all-tenants.js';
import { REPORT_FAIL_ON, type ReportFailOn, reportFailures } from '../report/fail-on.js';
import { tenantReportFromFile } from '../report/tenant-report.js';
import { renderTenantHtml } from '../report/tenant-report-html.js';
import { renderTenantCsv, renderTenantMarkdown, renderTenantText } from '../report/tenant-report-text.js';
import { loadTenantsFile } from '../tenant/tenants-file.js';
import { type CliIo, EXIT, fail, orFail, UsageError, write } from './io.js';
import { parseFormat, positiveInt, profileOption } from './options.js';
import { styleSeverities } from './style.js';

interface ReportFlags {
  db: string;
  profile?: string;
  /** `--messages`: the per-message export instead ({@link runReportMessages}). */
  messages?: boolean;
  since?: string;
  format: string;
  limit?: number;
  failOn?: string;
  allTenants?: boolean;
  tenants?: string;
}

/** `not-ready,malicious` → the conditions; anything else is a usage error. */
export function parseReportFailOn(value: string | undefined): ReportFailOn[] {
  if (value === undefined) return [];
  const list = value.split(',').map((v) => v.trim());
  for (const v of list) {
    if (!(REPORT_FAIL_ON as readonly string[]).includes(v)) {
      throw new UsageError(`--fail-on must be one or more of ${REPORT_FAIL_ON.join(', ')} (got "${value}")`);
    }
  }
  return [...new Set(list)] as ReportFailOn[];
}

export function registerReport(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('report')
    .description(
      'Direct Send in the tenant from the ingested exports: totals, daily timeline, source inventory, RejectDirectSend impact, connector plan',
    )
    .option('--db <path>', 'the store written by dsguard ingest', 'dsguard.db')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml): names known sources, skips sources with a connector')
    .option('--since <date>', 'only days on or after YYYY-MM-DD, or the last N days (30d)')
    .option('--messages', 'one record per stored message instead (--format ndjson | csv): as dsguard export')
    .option('-f, --format <format>', 'table | json | md | csv | html (with --messages: ndjson | csv)', 'table')
    .option('--limit <n>', 'most sources listed in table, md and html (default 50)', positiveInt('--limit'))
    .option(
      '--fail-on <conditions>',
      'exit 1 when any of these holds (comma-separated): not-ready, malicious, new-source, enforcement-fails',
    )
    .option('--all-tenants', 'one row per tenant of --tenants tenants.yml (the stores collect wrote)')
    .option('--tenants <file>', 'tenants.yml, with --all-tenants')
    .action(async (flags: ReportFlags) => {
      setExit(
        flags.allTenants || flags.tenants !== undefined ? await runAllTenants(flags, io) : await runReport(flags, io),
      );
    });
}

/** `report --messages`: the per-message export (`dsguard export`), ndjson (also for the default) or csv. */
async function runReportMessages(flags: ReportFlags, io: CliIo): Promise<number> {
  const format = flags.format === 'table' ? 'ndjson' : flags.format;
  if (format !== 'ndjson' && format !== 'csv')
    throw new UsageError(`--messages writes --format ndjson or csv (got "${flags.format}"); parquet: dsguard export`);
  for (const [flag, v] of [
    ['--since', flags.since],
    ['--limit', flags.limit],
    ['--fail-on', flags.failOn],
  ] as const)
    if (v !== undefined) throw new UsageError(`${flag} does not apply to --messages`);
  const { runExport } = await import('./export-command.js');
  return runExport(
    { db: flags.db, ...(flags.profile !== undefined ? { profile: flags.profile } : {}), format, enrich: true },
    io,
  );
}

/** `2026-07-01` or `30d` (relative to today, UTC) → YYYY-MM-DD. */
export function parseSince(value: string | undefined, now: Date = new Date()): string | null {
  if (value === undefined) return null;
  const rel = /^(\d{1,4})d$/.exec(value);
  if (rel) {
    const d = new Date(now.getTime() - Number(rel[1]) * 86_400_000);
    return d.toISOString().slice(0, 10);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return value;
  throw new UsageError(`--since must be YYYY-MM-DD or a number of days like 30d (got "${value}")`);
}

export async function runReport(flags: ReportFlags, io: CliIo): Promise<number> {
  if (flags.messages) return runReportMessages(flags, io);
  const format = parseFormat(flags.format, ['table', 'json', 'md', 'csv', 'html']);
  const since = parseSince(flags.since);
  const failOn = parseReportFailOn(flags.failOn);
  const profile = await profileOption(flags.profile);
  if (!existsSync(flags.db)) fail('io', `${flags.db}: no such store (run dsguard ingest first)`);
  const r = orFail(tenantReportFromFile(flags.db, { profile, since }));
  const limit = format === 'json' || format === 'csv' ? null : (flags.limit ?? 50);
  const report = r.report;
  let text: string;
  switch (format) {
    case 'json':
      text = `${JSON.stringify(versioned(report), null, 2)}\n`;
      break;
    case 'csv':
      text = renderTenantCsv(report);
      break;
    case 'md':
      text = renderTenantMarkdown(report, { limit });
      break;
    case 'html':
      text = renderTenantHtml(report, { limit });
      break;
    default:
      text = renderTenantText(report, io.columns ? { limit, width: io.columns } : { limit });
      if (io.colour) text = styleSeverities(text);
  }
  await write(io.stdout, text);
  const failures = reportFailures(report, failOn);
  for (const f of failures) io.stderr.write(`dsguard: --fail-on ${f}\n`);
  return failures.length > 0 ? EXIT.findings : EXIT.ok;
}

/** `report --all-tenants --tenants tenants.yml`: a row per tenant; exit 3 when a store could not be read. */
async function runAllTenants(flags: ReportFlags & { db: string }, io: CliIo): Promise<number> {
  if (!flags.allTenants || flags.tenants === undefined)
    throw new UsageError('--all-tenants and --tenants <tenants.yml> go together');
  if (flags.failOn !== undefined) throw new UsageError('--fail-on is per tenant: not with --all-tenants');
  const format = parseFormat(flags.format, ['table', 'json', 'md', 'csv']);
  const since = parseSince(flags.since);
  const loaded = await loadTenantsFile(flags.tenants, {});
  if ('error' in loaded) fail('usage', loaded.error);
  const shared = await profileOption(flags.profile);
  const inputs = [];
  for (const t of loaded.tenants) {
    const profile = t.profile !== null ? await profileOption(t.profile) : shared;
    inputs.push({ name: t.name, db: tenantStorePath(t, flags.db), profile });
  }
  const rows = buildAllTenants(inputs, since);
  let text: string;
  if (format === 'json') text = `${JSON.stringify(versioned({ tenants: rows }), null, 2)}\n`;
  else if (format === 'csv') text = renderAllTenantsCsv(rows);
  else if (format === 'md') text = renderAllTenantsMarkdown(rows);
  else text = renderAllTenantsText(rows, io.columns);
  await write(io.stdout, text);
  return rows.every((r) => r.status === 'ok') ? EXIT.ok : EXIT.failure;
}
