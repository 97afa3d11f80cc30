/**
 * `dsguard kql --profile dsguard.yml [--target hunting|detection|sentinel] [--rule name …]`: the Direct Send
 * queries over Defender's EmailEvents, generated from the profile (see docs/kql.md).
 * @module
 */
import type { Command } from 'commander';
import { type KqlTarget, QUERY_NAMES, type QueryName } from '../core/kql/queries.js';
import { KqlTargetError, renderKql } from '../report/kql-targets.js';
import { type CliIo, EXIT, UsageError, write } from './io.js';
import { profileOption } from './options.js';

interface KqlFlags {
  profile?: string;
  target: string;
  rule?: string[];
}

const TARGETS: readonly KqlTarget[] = ['hunting', 'detection', 'sentinel'];

export function registerKql(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('kql')
    .description('Print the Direct Send queries for Defender advanced hunting, custom detections or Sentinel')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml) with the accepted domains (required)')
    .option('--target <target>', 'hunting | detection | sentinel', 'hunting')
    .option('--rule <name...>', `queries to print: ${QUERY_NAMES.join(', ')} (default: all the target carries)`)
    .action(async (flags: KqlFlags) => {
      setExit(await runKql(flags, io));
    });
}

export async function runKql(flags: KqlFlags, io: CliIo): Promise<number> {
  if (flags.profile === undefined) throw new UsageError('kql needs --profile dsguard.yml (the accepted domains)');
  const target = flags.target as KqlTarget;
  if (!TARGETS.includes(target))
    throw new UsageError(`--target must be one of ${TARGETS.join(', ')} (got "${flags.target}")`);
  const names: QueryName[] = [];
  for (const r of flags.rule ?? []) {
    if (!(QUERY_NAMES as readonly string[]).includes(r))
      throw new UsageError(`--rule must be one of ${QUERY_NAMES.join(', ')} (got "${r}")`);
    if (!names.includes(r as QueryName)) names.push(r as QueryName);
  }
  if (names.length === 0) names.push(...(target === 'hunting' ? QUERY_NAMES : (['abuse', 'after-enable'] as const)));
  const profile = (await profileOption(flags.profile))!;
  if (profile.acceptedDomains.length === 0) throw new UsageError('the profile names no accepted domain');
  let text: string;
  try {
    text = renderKql(profile, target, names);
  } catch (e) {
    if (e instanceof KqlTargetError) throw new UsageError(e.message);
    throw e;
  }
  await write(io.stdout, text);
  return EXIT.ok;
}
