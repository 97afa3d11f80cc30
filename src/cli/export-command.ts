/**
 * `dsguard export [--db dsguard.db] [--profile dsguard.yml] [--format ndjson|csv]`: one record per stored
 * message, with stable field names (docs/message-export.schema.json), for a SIEM or a Sentinel DCR.
 * @module
 */
import type { Command } from 'commander';
import type { IpLookup } from '../core/rules/origin.js';
import { openIpLookup } from '../enrich/ip-lookup.js';
import { csvBatch, type MessageRecord, messageRecords, ndjsonLine } from '../report/message-export.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { type CliIo, EXIT, orFail, UsageError, write } from './io.js';
import { profileOption } from './options.js';

interface ExportFlags {
  db: string;
  profile?: string;
  format: string;
  enrich: boolean;
}

const FORMATS = ['ndjson', 'csv'] as const;
const BATCH = 1000;

export function registerExport(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('export')
    .description('Write one record per stored message (NDJSON or CSV) for a SIEM or a Sentinel custom table')
    .option('--db <path>', 'the store written by dsguard ingest', 'dsguard.db')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml): its tenant id fills the tenant field')
    .option('-f, --format <format>', FORMATS.join(' | '), 'ndjson')
    .option('--no-enrich', 'leave country and ASN empty (no IP data lookup)')
    .action(async (flags: ExportFlags) => {
      setExit(await runExport(flags, io));
    });
}

export async function runExport(flags: ExportFlags, io: CliIo): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(flags.format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${flags.format}")`);
  const profile = await profileOption(flags.profile);
  let lookup: IpLookup | null = null;
  if (flags.enrich) {
    const r = await openIpLookup();
    if (r.status === 'ok') lookup = r.lookup;
  }
  const store = orFail(DsguardStore.open(flags.db, { readonly: true })).store;
  try {
    const batch: MessageRecord[] = [];
    let first = true;
    const flush = async () => {
      if (flags.format === 'csv') await write(io.stdout, csvBatch(batch, first));
      else await write(io.stdout, batch.map(ndjsonLine).join(''));
      first = false;
      batch.length = 0;
    };
    for (const rec of messageRecords(store, { tenant: profile?.tenantIds[0] ?? null, lookup })) {
      batch.push(rec);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0 || (first && flags.format === 'csv')) await flush();
  } finally {
    store.close();
  }
  return EXIT.ok;
}
