/**
 * `dsguard sources approve|deny <source id|ip>`: record the admin's decision on a Direct Send source in the
 * profile (dsguard.yml), keeping its comments and order; the next `dsguard report` re-assesses the source
 * (approved: legitimate, so it needs a connector; denied: never legitimate).
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { recordSourceDecision } from '../config/profile-edit.js';
import { looksLikeIp, normalizeIp } from '../core/net-address.js';
import { type SourceEntry, tenantReportFromFile } from '../report/tenant-report.js';
import { type CliIo, EXIT, fail, orFail, UsageError, write } from './io.js';
import { profileOption } from './options.js';

interface DecisionFlags {
  profile?: string;
  db: string;
  name?: string;
  owner?: string;
}

/** Printable ASCII only: what goes into a YAML comment comes from exports (attacker-controlled). */
function plain(text: string, max = 300): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function noteOf(s: SourceEntry, kind: 'approve' | 'deny'): string {
  const senders = s.senders
    .slice(0, 3)
    .map((x) => x.address)
    .join(', ');
  return plain(
    `dsguard sources ${kind} ${s.id}: ${s.verdict} when decided; ${s.counts.directSend} Direct Send message(s) on ${s.days} day(s), ${s.firstSeen.slice(0, 10)} to ${s.lastSeen.slice(0, 10)}${senders ? `; senders ${senders}` : ''}`,
  );
}

export function registerSources(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const sources = program
    .command('sources')
    .description('record your decision on a Direct Send source in the profile; the next report re-assesses it');
  for (const kind of ['approve', 'deny'] as const) {
    sources
      .command(`${kind} <source>`)
      .description(
        kind === 'approve'
          ? 'a source you vouch for (by report id such as S3, or its IP): legitimate from now on, so the report asks for its connector'
          : 'a source that is not yours (by report id or IP): never legitimate, whatever its evidence',
      )
      .requiredOption('-p, --profile <file>', 'the tenant profile (dsguard.yml) to record it in')
      .option('--db <path>', 'the store the report ids come from', 'dsguard.db')
      .option('--name <name>', kind === 'approve' ? 'what the source is (required), e.g. "Copier 2nd floor"' : 'a name')
      .option('--owner <owner>', 'who answers for it (for the change runbook)')
      .action(async (source: string, flags: DecisionFlags) => {
        setExit(await runDecision(kind, source, flags, io));
      });
  }
}

export async function runDecision(
  kind: 'approve' | 'deny',
  source: string,
  flags: DecisionFlags,
  io: CliIo,
): Promise<number> {
  const file = flags.profile!;
  if (kind === 'approve' && !flags.name?.trim())
    throw new UsageError('sources approve needs --name (what the source is)');
  for (const [flag, v] of [
    ['--name', flags.name],
    ['--owner', flags.owner],
  ] as const) {
    if (v !== undefined && (v.trim() === '' || v.length > 200 || /[\r\n]/.test(v))) {
      throw new UsageError(`${flag} must be one line of 1 to 200 characters`);
    }
  }
  const profile = await profileOption(file);
  const ipGiven = looksLikeIp(source) !== null ? normalizeIp(source) : null;
  if (ipGiven === null && !/^S\d{1,9}$/i.test(source)) {
    throw new UsageError(`"${plain(source, 80)}" is neither a source id from dsguard report (S3) nor an IP address`);
  }
  let entry: SourceEntry | null = null;
  if (existsSync(flags.db)) {
    const r = orFail(tenantReportFromFile(flags.db, { profile }));
    entry =
      r.report.sources.find((s) =>
        ipGiven !== null
          ? s.ips.some((ip) => normalizeIp(ip) === ipGiven)
          : s.id.toUpperCase() === source.toUpperCase(),
      ) ?? null;
  }
  if (entry === null && ipGiven === null) {
    throw new UsageError(
      `${source}: no such source in ${flags.db} (run dsguard report with the same --profile for the ids)`,
    );
  }
  const ips = entry ? entry.ips : [ipGiven!];
  if (ips.length === 0) throw new UsageError(`${source}: its connecting IP is unknown, so it cannot be recorded`);
  const name = flags.name?.trim() ?? `denied ${ips[0]}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    fail('io', `${file}: cannot read profile: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const r = orFail(
    recordSourceDecision(text, file, {
      kind,
      name,
      owner: flags.owner?.trim() ?? null,
      ips,
      note: entry ? noteOf(entry, kind) : null,
    }),
  );
  if (r.action !== 'unchanged') {
    const tmp = `${file}.dsguard-tmp`;
    try {
      await writeFile(tmp, r.text, 'utf8');
      await rename(tmp, file);
    } catch (error) {
      fail('io', `${file}: cannot write profile: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const what = entry ? `${entry.id} (${ips.join(', ')})` : ips.join(', ');
  const verb = kind === 'approve' ? 'approved' : 'denied';
  const done =
    r.action === 'unchanged'
      ? `${what} is already in ${r.list} of ${file}: nothing changed`
      : `${what} ${verb} as "${plain(name, 200)}" in ${r.list} of ${file}${r.action === 'updated' ? ' (owner updated)' : ''}: the next dsguard report re-assesses it`;
  await write(io.stdout, `${done}\n`);
  if (!entry) {
    io.stderr.write(`dsguard: note: ${ips[0]} is not a source in ${flags.db}; recorded as given\n`);
  }
  return EXIT.ok;
}
