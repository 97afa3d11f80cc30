/**
 * `dsguard purge --before YYYY-MM-DD [--db …]`: remove what the store holds about deliveries received before a
 * day (UTC): stored messages and their raw rows, facts, delivery keys, per-day counts and pending re-assessments;
 * then rebuild the source aggregates from what is left. One transaction: an interruption leaves the store as it
 * was. The files ledger is kept (it says what was read, not what it held), so a purged export is not re-read.
 * @module
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { dayOf } from '../core/delivery-key.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { rebuildSourceStats } from '../store/source-stats.js';
import { type CliIo, EXIT, fail, UsageError, write } from './io.js';

export function registerPurge(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('purge')
    .description('Remove stored deliveries received before a day (UTC), past a retention period')
    .requiredOption('--before <date>', 'YYYY-MM-DD: deliveries received before this day are removed')
    .option('--db <path>', 'the store', 'dsguard.db')
    .action(async (flags: { before: string; db: string }) => {
      setExit(await runPurge(flags, io));
    });
}

async function runPurge(flags: { before: string; db: string }, io: CliIo): Promise<number> {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(flags.before);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== flags.before)
    throw new UsageError(`--before must be a day YYYY-MM-DD (got "${flags.before.slice(0, 40)}")`);
  if (!existsSync(flags.db)) fail('input', `${flags.db}: no such store`);
  const opened = DsguardStore.open(flags.db);
  if (opened.status === 'error') fail('io', opened.error);
  const store = opened.store;
  const day = dayOf(ms);
  const counts: Record<string, number> = {};
  try {
    store.transaction(() => {
      for (const table of ['message', 'message_data', 'fact', 'delivery', 'pending', 'bucket', 'source_candidate']) {
        counts[table] = store.db.prepare(`DELETE FROM ${table} WHERE day < ?`).run(day).changes;
      }
      rebuildSourceStats(store.db);
    });
    store.db.exec('PRAGMA optimize');
  } finally {
    store.close();
  }
  await write(
    io.stdout,
    `${flags.db}: removed ${counts.delivery ?? 0} deliveries (${counts.message ?? 0} stored in full) received before ${flags.before}\n`,
  );
  return EXIT.ok;
}
