/**
 * `dsguard report --all-tenants --tenants tenants.yml`: one row per tenant of an MSP, from the stores `collect`
 * wrote (each tenant's own store, laid out as `collect --tenants` lays them out, with the tenant's profile):
 * readiness for RejectDirectSend (and the first blocker), Direct Send volume (and its share of inbound mail where
 * per-day totals were collected), internal spoofs, malicious and suspicious sources, the RejectDirectSend state
 * (the profile's, and whether it holds where it is on), and when the tenant was last collected. A tenant whose
 * store cannot be read is a row with its error; it never hides the others.
 * @module
 */
import { existsSync } from 'node:fs';
import type { TenantProfile } from '../core/profile.js';
import { type Failure, failure } from '../core/result.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { type Column, renderCsv, renderMarkdownTable, renderTextTable } from './tabular.js';
import { type TenantReport, tenantReportFromFile } from './tenant-report.js';

export interface AllTenantsInput {
  name: string;
  db: string;
  profile: TenantProfile | null;
}

export interface TenantRollup {
  name: string;
  status: 'ok' | 'error';
  error: string | null;
  /** `null` when the store could not be read. */
  ready: boolean | null;
  /** The most important readiness blocker (code and text), when not ready. */
  blocker: { code: string; text: string } | null;
  blockers: number;
  /** Deliveries (message × recipient). */
  messages: number;
  directSend: number;
  internalSpoof: number;
  /** Direct Send per 100 inbound rows, from the collected per-day totals (`null`: none collected). */
  directSendPercentOfInbound: number | null;
  /** Days of per-day totals behind the share. */
  totalsDays: number;
  maliciousSources: number;
  suspiciousSources: number;
  /** What the profile says: `on`, `off`, or `unknown` (the profile does not say, or there is no profile). */
  rejectDirectSend: 'on' | 'off' | 'unknown';
  /** Where it is on: whether it holds (report's enforcement check), else `null`. */
  enforcement: string | null;
  /** Last collect checkpoint written (ISO), `null` when the store was never collected into. */
  lastCollected: string | null;
}

function errorRow(name: string, error: string, profile: TenantProfile | null): TenantRollup {
  return {
    name,
    status: 'error',
    error,
    ready: null,
    blocker: null,
    blockers: 0,
    messages: 0,
    directSend: 0,
    internalSpoof: 0,
    directSendPercentOfInbound: null,
    totalsDays: 0,
    maliciousSources: 0,
    suspiciousSources: 0,
    rejectDirectSend: rejectState(profile),
    enforcement: null,
    lastCollected: null,
  };
}

const rejectState = (p: TenantProfile | null): TenantRollup['rejectDirectSend'] =>
  p?.rejectDirectSend === true ? 'on' : p?.rejectDirectSend === false ? 'off' : 'unknown';

/** The last collect checkpoint written (table from migration 7), `null` when never collected into. */
function lastCollected(db: string): string | null | Failure {
  const r = DsguardStore.open(db, { readonly: true });
  if (r.status === 'error') return r;
  try {
    return (r.store.db.prepare('SELECT max(until) AS until FROM collect_checkpoint').get() as { until: string | null })
      .until;
  } catch (error) {
    return failure('io', `${db}: ${(error as Error).message}`);
  } finally {
    r.store.close();
  }
}

export function rollupOf(name: string, report: TenantReport, profile: TenantProfile | null): TenantRollup {
  const first = report.readiness.blockers[0];
  return {
    name,
    status: 'ok',
    error: null,
    ready: report.readiness.ready,
    blocker: first ? { code: first.code, text: first.text } : null,
    blockers: report.readiness.blockers.length,
    messages: report.totals.messages,
    directSend: report.totals.directSend,
    internalSpoof: report.totals.internalSpoof,
    directSendPercentOfInbound: report.mailTotals?.directSendPercentOfInbound ?? null,
    totalsDays: report.mailTotals?.days ?? 0,
    maliciousSources: report.sources.filter((s) => s.verdict === 'malicious').length,
    suspiciousSources: report.sources.filter((s) => s.verdict === 'suspicious').length,
    rejectDirectSend: rejectState(profile),
    enforcement: report.enforcement?.state ?? null,
    lastCollected: null,
  };
}

/** One row per tenant, in the file's order. */
export function buildAllTenants(tenants: readonly AllTenantsInput[], since: string | null): TenantRollup[] {
  return tenants.map((t) => {
    if (!existsSync(t.db)) return errorRow(t.name, `${t.db}: no such store (run dsguard collect first)`, t.profile);
    const r = tenantReportFromFile(t.db, { profile: t.profile, since });
    if (r.status === 'error') return errorRow(t.name, r.error, t.profile);
    const row = rollupOf(t.name, r.report, t.profile);
    const c = lastCollected(t.db);
    if (c === null || typeof c === 'string') row.lastCollected = c;
    return row;
  });
}

const yesNo = (v: boolean | null) => (v === null ? '' : v ? 'yes' : 'no');

const COLUMNS: Column<TenantRollup>[] = [
  { header: 'tenant', value: (r) => r.name, width: 40 },
  { header: 'status', value: (r) => (r.status === 'ok' ? 'ok' : `error: ${r.error ?? ''}`), width: 60 },
  { header: 'ready', value: (r) => yesNo(r.ready) },
  { header: 'blocker', value: (r) => (r.blocker ? `${r.blocker.code} ${r.blocker.text}` : ''), width: 60 },
  { header: 'messages', value: (r) => r.messages, align: 'right' },
  { header: 'direct send', value: (r) => r.directSend, align: 'right' },
  {
    header: '% of inbound',
    value: (r) => (r.directSendPercentOfInbound === null ? '' : r.directSendPercentOfInbound.toFixed(2)),
    align: 'right',
  },
  { header: 'internal spoof', value: (r) => r.internalSpoof, align: 'right' },
  { header: 'malicious sources', value: (r) => r.maliciousSources, align: 'right' },
  { header: 'suspicious sources', value: (r) => r.suspiciousSources, align: 'right' },
  {
    header: 'RejectDirectSend',
    value: (r) => (r.enforcement ? `${r.rejectDirectSend} (${r.enforcement})` : r.rejectDirectSend),
  },
  { header: 'last collected', value: (r) => r.lastCollected ?? '' },
];

export function renderAllTenantsText(rows: readonly TenantRollup[], width?: number): string {
  const ready = rows.filter((r) => r.ready === true).length;
  const failed = rows.filter((r) => r.status === 'error').length;
  const head = `${rows.length} tenant(s): ${ready} ready for RejectDirectSend, ${rows.filter((r) => r.maliciousSources > 0).length} with malicious Direct Send sources${failed ? `, ${failed} unreadable` : ''}\n\n`;
  return head + renderTextTable(rows, COLUMNS, width !== undefined ? { maxWidth: width } : {});
}

export function renderAllTenantsCsv(rows: readonly TenantRollup[]): string {
  return renderCsv(rows, COLUMNS);
}

export function renderAllTenantsMarkdown(rows: readonly TenantRollup[]): string {
  return `# Direct Send across ${rows.length} tenant(s)\n\n${renderMarkdownTable(rows, COLUMNS)}`;
}
