/**
 * `dsguard powershell --profile dsguard.yml`: the Exchange Online PowerShell commands that collect the files
 * `dsguard ingest` reads (historical search without connector, Get-MessageTraceV2 in 10-day windows,
 * Get-MessageTraceDetailV2 only where it can change a verdict). Values from the profile and options are checked
 * and quoted by core/quote.
 * @module
 */
import type { Command } from 'commander';
import { configDumpScript } from '../audit/dump-script.js';
import { checkValue } from '../core/quote/values.js';
import { collectionScript } from '../report/tenant-report-powershell.js';
import { type CliIo, EXIT, UsageError, write } from './io.js';
import { positiveInt, profileOption } from './options.js';

interface PowershellFlags {
  profile?: string;
  days?: number;
  notify?: string;
  outDir: string;
  config?: boolean;
}

export function registerPowershell(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('powershell')
    .description('Print the Exchange Online PowerShell commands that collect the exports dsguard ingest reads')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml) with the accepted domains (required)')
    .option('--days <n>', 'days of history, at most 90 (default 90)', positiveInt('--days'))
    .option('--notify <address>', 'mailbox told when the historical search report is ready')
    .option('--out-dir <path>', 'folder the commands write the exports to', '.\\dsguard-exports')
    .option('--config', 'print the commands that dump the configuration dsguard audit and profile init read')
    .action(async (flags: PowershellFlags) => {
      setExit(await runPowershell(flags, io));
    });
}

export async function runPowershell(flags: PowershellFlags, io: CliIo): Promise<number> {
  if (flags.config) {
    await write(
      io.stdout,
      configDumpScript(flags.outDir === '.\\dsguard-exports' ? '.\\dsguard-config' : flags.outDir),
    );
    return EXIT.ok;
  }
  if (flags.profile === undefined)
    throw new UsageError('powershell needs --profile dsguard.yml (the accepted domains)');
  const days = flags.days ?? 90;
  if (days > 90) throw new UsageError(`--days must be at most 90: message trace keeps 90 days (got ${days})`);
  // Both go into the script: a value PowerShell could misread is refused here rather than withheld there.
  if (flags.notify !== undefined) {
    const c = checkValue('address', flags.notify);
    if (!c.ok) throw new UsageError(`--notify must be a plain e-mail address (${c.reason})`);
  }
  const outDir = checkValue('path', flags.outDir);
  if (!outDir.ok) throw new UsageError(`--out-dir cannot go into a PowerShell command: ${outDir.reason}`);
  const profile = (await profileOption(flags.profile))!;
  await write(
    io.stdout,
    collectionScript({
      tenantName: profile.name,
      domains: profile.acceptedDomains,
      days,
      notifyAddress: flags.notify ?? null,
      outDir: flags.outDir,
    }),
  );
  return EXIT.ok;
}
