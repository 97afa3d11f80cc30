/**
 * CLI options shared by commands that assess messages or rows: content analysis (`--no-content`), IP origin
 * (`--geoip-db`, `--no-geoip`) and campaign indicators (`--indicators`). Turns the flags into the analysers
 * and extra rule families that `analyzeInputs` / `assess` take.
 * @module
 */
import type { Command } from 'commander';
import {
  type AnalysisExtras,
  buildAnalysisExtras,
  checkAnalysisExtras,
  type ExtrasFlags,
} from '../analyze/analysis-extras.js';
import { orFail } from './io.js';

export type { ExtrasFlags };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addExtrasOptions(cmd: Command, opts: { content: boolean }): Command {
  if (opts.content) cmd.option('--no-content', 'skip attachment and body analysis (QR codes, PDFs, archives, URLs)');
  return cmd
    .option('--geoip-db <file>', 'your own MaxMind-format database (country, city or ASN); repeatable', collect)
    .option('--no-geoip', 'skip the bundled offline country / ASN lookup of the connecting IP')
    .option('--indicators <file>', 'campaign IP indicators: one address or CIDR a line, optional ",campaign,source"');
}

/** Check the flags without building the rules (see checkAnalysisExtras), failures as CLI errors. */
export async function checkExtras(flags: ExtrasFlags): Promise<void> {
  orFail(await checkAnalysisExtras(flags));
}

/** The analysis families for a command, with failures as CLI errors (exit 2 for usage, 3 for I/O). */
export async function buildExtras(flags: ExtrasFlags, opts: { content: boolean }): Promise<AnalysisExtras> {
  const r = orFail(await buildAnalysisExtras(flags, opts));
  return { analyzers: r.analyzers, extraRules: r.extraRules };
}
