/**
 * `dsguard indicators [--db dsguard.db] [--profile dsguard.yml] [--format csv|stix|powershell]`: the malicious
 * sources' IPs, sender addresses and URLs from the store, as CSV, a STIX 2.1 bundle, or the block commands that
 * are safe (see docs/indicators.md).
 * @module
 */
import type { Command } from 'commander';
import { indicatorMessagesFromFile } from '../report/indicator-store.js';
import {
  blockPlan,
  collectIndicators,
  renderBlockScript,
  renderIndicatorsCsv,
  stixBundle,
} from '../report/indicators.js';
import { type CliIo, EXIT, orFail, UsageError, write } from './io.js';
import { profileOption } from './options.js';

interface IndicatorsFlags {
  db: string;
  profile?: string;
  format: string;
}

const FORMATS = ['csv', 'stix', 'powershell'] as const;

export function registerIndicators(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('indicators')
    .description(
      'Print the indicators of malicious Direct Send (IPs, senders, URLs) as CSV, STIX 2.1 or block commands',
    )
    .option('--db <path>', 'the store written by dsguard ingest', 'dsguard.db')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml) with the accepted domains (required)')
    .option('-f, --format <format>', FORMATS.join(' | '), 'csv')
    .action(async (flags: IndicatorsFlags) => {
      setExit(await runIndicators(flags, io));
    });
}

export async function runIndicators(flags: IndicatorsFlags, io: CliIo): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(flags.format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${flags.format}")`);
  if (flags.profile === undefined)
    throw new UsageError(
      'indicators needs --profile dsguard.yml: your own accepted domains are never listed or blocked',
    );
  const profile = (await profileOption(flags.profile))!;
  const { messages } = orFail(indicatorMessagesFromFile(flags.db));
  const list = collectIndicators(messages, profile);
  const text =
    flags.format === 'csv'
      ? renderIndicatorsCsv(list)
      : flags.format === 'stix'
        ? `${JSON.stringify(stixBundle(list), null, 2)}\n`
        : renderBlockScript(blockPlan(list, profile));
  await write(io.stdout, text);
  return EXIT.ok;
}
