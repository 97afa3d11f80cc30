/**
 * `dsguard export [--db dsguard.db] [--profile dsguard.yml] [--format ndjson|csv|parquet] [--out DIR]`: one
 * record per stored message, with stable field names (docs/message-export.schema.json), for a SIEM or a Sentinel
 * DCR; or Parquet partitioned by tenant and day under DIR (src/report/message-parquet.ts).
 * `dsguard report --messages --format ndjson|csv` runs the same code ({@link runExport}).
 * @module
 */
import type { Command } from 'commander';
import type { IpLookup } from '../core/rules/origin.js';
import { openIpLookup } from '../enrich/ip-lookup.js';
import { csvBatch, type MessageRecord, messageRecords, ndjsonLine } from '../report/message-export.js';
import { loadDuckDb, ParquetUnavailable, tenantPathComponent, writeMessageParquet } from '../report/message-parquet.js';
import { terminalSafe } from '../report/safe-text.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { type CliIo, EXIT, fail, orFail, UsageError, write } from './io.js';
import { profileOption } from './options.js';

export interface ExportFlags {
  db: string;
  profile?: string;
  format: string;
  enrich: boolean;
  out?: string;
  tenant?: string;
}

export const EXPORT_FORMATS = ['ndjson', 'csv', 'parquet'] as const;
const BATCH = 1000;

export function registerExport(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('export')
    .description(
      'Write one record per stored message (NDJSON or CSV on stdout, or Parquet by tenant and day) for a SIEM or a Sentinel custom table',
    )
    .option('--db <path>', 'the store written by dsguard ingest', 'dsguard.db')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml): its tenant id fills the tenant field')
    .option('-f, --format <format>', EXPORT_FORMATS.join(' | '), 'ndjson')
    .option('--out <dir>', 'parquet: the folder to write tenant=<id>/day=<YYYY-MM-DD>/part-0.parquet under')
    .option('--tenant <id>', 'the tenant id to record (default: the profile’s first tenant id)')
    .option('--no-enrich', 'leave country and ASN empty (no IP data lookup)')
    .action(async (flags: ExportFlags) => {
      setExit(await runExport(flags, io));
    });
}

export async function runExport(flags: ExportFlags, io: CliIo): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format))
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got "${flags.format}")`);
  const parquet = flags.format === 'parquet';
  if (parquet && flags.out === undefined) throw new UsageError('--format parquet needs --out DIR');
  if (!parquet && flags.out !== undefined)
    throw new UsageError('--out is for --format parquet (ndjson and csv go to stdout)');
  const profile = await profileOption(flags.profile);
  const tenant = flags.tenant ?? profile?.tenantIds[0] ?? null;
  if (parquet && (tenant === null || tenantPathComponent(tenant) === null))
    throw new UsageError(
      '--format parquet partitions by tenant: give --profile with a tenant id, or --tenant <id> (1–253 characters, at most 240 bytes once percent-encoded)',
    );
  let lookup: IpLookup | null = null;
  if (flags.enrich) {
    const r = await openIpLookup();
    if (r.status === 'ok') lookup = r.lookup;
  }
  const duckdb = parquet ? await loadDuckDbOrFail() : null;
  const store = orFail(DsguardStore.open(flags.db, { readonly: true })).store;
  try {
    const records = messageRecords(store, { tenant, lookup });
    if (duckdb !== null && flags.out !== undefined && tenant !== null) {
      const r = await writeMessageParquet(records, { out: flags.out, tenant, duckdb });
      for (const s of r.skipped)
        io.stderr.write(
          `dsguard: ${flags.db}: message of file ${s.sourceId} row ${s.sourceRow} skipped: ${s.reason}\n`,
        );
      const rows = r.files.reduce((n, f) => n + f.rows, 0);
      await write(io.stdout, `${r.files.map((f) => `${terminalSafe(f.path, 4096)}\t${f.rows}\n`).join('')}`);
      if (io.progress) io.stderr.write(`dsguard: ${rows} message(s) in ${r.files.length} file(s)\n`);
      return EXIT.ok;
    }
    await writeRecords(records, flags.format === 'csv', io);
  } finally {
    store.close();
  }
  return EXIT.ok;
}

async function loadDuckDbOrFail() {
  try {
    return await loadDuckDb();
  } catch (e) {
    if (e instanceof ParquetUnavailable) fail('io', e.message);
    throw e;
  }
}

async function writeRecords(records: Iterable<MessageRecord>, csv: boolean, io: CliIo): Promise<void> {
  const batch: MessageRecord[] = [];
  let first = true;
  const flush = async () => {
    if (csv) await write(io.stdout, csvBatch(batch, first));
    else await write(io.stdout, batch.map(ndjsonLine).join(''));
    first = false;
    batch.length = 0;
  };
  for (const rec of records) {
    batch.push(rec);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0 || (first && csv)) await flush();
}
