/**
 * `dsguard profile init [--config-dir DIR | --tenant …] [-o dsguard.yml] [--force]`: the profile from the tenant's
 * configuration, a comment per value saying where it came from; never overwrites without --force, and keeps the
 * admin's directSendSources and homeCountries when it does.
 * `dsguard profile check [-p dsguard.yml] [--config-dir DIR | --tenant …]`: drift between the profile and the
 * tenant, one line each; exit 1 on drift.
 * @module
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ConfigSource, loadTenantConfig } from '../audit/audit-run.js';
import { deriveProfile, profileDrift, profileYaml } from '../audit/profile-from-config.js';
import { terminalSafe } from '../report/safe-text.js';
import { type CliIo, EXIT, fail, UsageError, write } from './io.js';
import { profileOption } from './options.js';
import { addTenantOptions, credentialFromFlags, type TenantFlags } from './tenant-options.js';

interface InitFlags extends TenantFlags {
  configDir?: string;
  output: string;
  force?: boolean;
}

interface CheckFlags extends TenantFlags {
  configDir?: string;
  profile: string;
}

export function registerProfile(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const profile = program
    .command('profile')
    .description('Build the tenant profile from the tenant configuration, or check it for drift');
  const init = profile
    .command('init')
    .description('Write dsguard.yml from the tenant configuration (dump folder or live)')
    .option('--config-dir <dir>', 'folder of configuration dumps (dsguard powershell --config)');
  addTenantOptions(init, { multi: false })
    .option('-o, --output <file>', 'where to write the profile (- for stdout)', 'dsguard.yml')
    .option('--force', 'overwrite an existing profile (its directSendSources and homeCountries are kept)')
    .action(async (flags: InitFlags) => {
      setExit(await runProfileInit(flags, io));
    });
  const check = profile
    .command('check')
    .description('Report drift between the profile and the tenant configuration; exit 1 on drift')
    .option('--config-dir <dir>', 'folder of configuration dumps (dsguard powershell --config)');
  addTenantOptions(check, { multi: false })
    .option('-p, --profile <file>', 'the profile to check', 'dsguard.yml')
    .action(async (flags: CheckFlags) => {
      setExit(await runProfileCheck(flags, io));
    });
}

function sourceFrom(flags: TenantFlags & { configDir?: string }, io: CliIo): ConfigSource {
  if ((flags.configDir !== undefined) === (flags.tenant !== undefined))
    throw new UsageError('give exactly one of --config-dir <dir> or --tenant <id>');
  if (flags.configDir !== undefined) return { kind: 'dir', dir: flags.configDir };
  return {
    kind: 'live',
    credential: credentialFromFlags(flags),
    env: io.env,
    prompt: (m) => io.stderr.write(`${terminalSafe(m, 2000)}\n`),
    ...(flags.exchangeUrl ? { exchangeUrl: flags.exchangeUrl } : {}),
  };
}

export async function runProfileInit(flags: InitFlags, io: CliIo): Promise<number> {
  const toStdout = flags.output === '-';
  if (!toStdout && existsSync(flags.output) && !flags.force)
    throw new UsageError(
      `${flags.output} exists: use --force to replace it (its directSendSources and homeCountries are kept)`,
    );
  const src = sourceFrom(flags, io);
  const loaded = await loadTenantConfig(src);
  if (loaded.status === 'error') fail('io', loaded.error);
  for (const p of loaded.config.problems) io.stderr.write(`dsguard: ${terminalSafe(p.message, 2000)}\n`);
  const existing = !toStdout && existsSync(flags.output) ? readFileSync(flags.output, 'utf8') : null;
  const y = profileYaml(deriveProfile(loaded.config), existing);
  if ('error' in y) fail('io', `${loaded.label}: ${y.error}`);
  if (toStdout) {
    await write(io.stdout, y.text);
    return EXIT.ok;
  }
  const tmp = `${flags.output}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, y.text, { mode: 0o644 });
    renameSync(tmp, flags.output);
  } catch (error) {
    fail('io', `${flags.output}: cannot write: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  await write(io.stdout, `wrote ${flags.output}\n`);
  return EXIT.ok;
}

export async function runProfileCheck(flags: CheckFlags, io: CliIo): Promise<number> {
  const profile = (await profileOption(flags.profile))!;
  const src = sourceFrom(flags, io);
  const loaded = await loadTenantConfig(src);
  if (loaded.status === 'error') fail('io', loaded.error);
  for (const p of loaded.config.problems) io.stderr.write(`dsguard: ${terminalSafe(p.message, 2000)}\n`);
  const o = loaded.config.origins;
  const have = {
    org: o['Get-OrganizationConfig'] !== undefined,
    domains: o['Get-AcceptedDomain'] !== undefined,
    connectors: o['Get-InboundConnector'] !== undefined,
  };
  for (const [k, c] of [
    ['org', 'Get-OrganizationConfig'],
    ['domains', 'Get-AcceptedDomain'],
    ['connectors', 'Get-InboundConnector'],
  ] as const)
    if (!have[k]) io.stderr.write(`dsguard: ${c} output is missing: its part of the profile is not checked\n`);
  const drift = profileDrift(profile, deriveProfile(loaded.config), have);
  if (drift.length === 0) {
    await write(io.stdout, `${flags.profile}: matches the tenant\n`);
    return EXIT.ok;
  }
  await write(io.stdout, drift.map((l) => `drift: ${terminalSafe(l, 2000)}\n`).join(''));
  io.stderr.write(
    `dsguard: DS794 ${drift.length} difference(s) between ${terminalSafe(flags.profile)} and the tenant\n`,
  );
  return EXIT.findings;
}
