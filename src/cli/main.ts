/**
 * The dsguard command line. Commands are thin: parse flags, call the library, render, return an exit code.
 * Results go to stdout, diagnostics to stderr. Exit 0 ok, 1 findings at/above --fail-on, 2 usage, 3 failure.
 *
 * Start-up is kept short: only the command that runs is imported (each `*-command.ts` pulls in its own heavy
 * modules: SQLite, the IP tables, the content analysers). `--version` and the top-level `--help` import no
 * command at all; the help lists the commands from {@link COMMANDS}, whose summaries a test keeps equal to the
 * commands' own descriptions.
 * @module
 */
import { createWriteStream, existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { terminalSafe } from '../report/safe-text.js';
import { ioErrorText } from '../sources/io-error.js';
import { type CliIo, CommandFailure, EXIT, exitCodeFor, fail, processIo, UsageError } from './io.js';

/** The package's version, read from package.json (one small file) so the two never differ. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * commander is CommonJS: required, not imported. Node 20's ES module loader pre-parses every CommonJS module it
 * imports for its export names; for commander, maxmind and ipaddr.js together that was about 50 ms of CPU, a
 * third of `analyze --headers-only`'s start-up. The classes are the same objects an `import` gives.
 */
const { Command: CommandClass, CommanderError } = createRequire(import.meta.url)(
  'commander',
) as typeof import('commander');

type Register = (program: Command, io: CliIo, setExit: (code: number) => void) => void;

interface CommandEntry {
  /** The command's description, shown by the top-level `--help` without importing the command. */
  summary: string;
  /** Examples shown after the command's own `--help`. */
  examples: readonly string[];
  load(): Promise<Register>;
}

/**
 * Every command, imported only when it runs. To add one: an entry here (the summary equal to the command's
 * `.description()`: test/cli/startup.test.ts checks it) and a `register…` function in its own module.
 */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  analyze: {
    summary:
      'Explained Direct Send verdict for each message: .eml, .msg, mbox, pasted headers, folders, or - for stdin',
    examples: [
      'dsguard analyze suspicious.eml',
      'dsguard analyze --headers-only --format json ./inbox-export/ -o verdicts.json',
      'pbpaste | dsguard analyze -',
    ],
    load: async () => (await import('./analyze-command.js')).registerAnalyze,
  },
  exposure: {
    summary: 'Is a domain open to Direct Send? MX, Exchange Online smart host, gateway bypass, SPF and DMARC from DNS',
    examples: ['dsguard exposure contoso.com', 'dsguard exposure --profile dsguard.yml --fail-on high'],
    load: async () => (await import('./exposure-command.js')).registerExposure,
  },
  probe: {
    summary:
      'Check your own tenant: does its smart host accept Direct Send? Stops before DATA (nothing delivered) unless --send-canary',
    examples: ['dsguard probe contoso.com --from it@contoso.com --to it@contoso.com'],
    load: async () => (await import('./probe-command.js')).registerProbe,
  },
  ingest: {
    summary:
      'Read message trace (V1/V2), trace detail, historical search, Defender EmailEvents/attachment/URL and Graph trace exports into the store; the format is detected from the content',
    examples: ['dsguard ingest ./exports/ --profile dsguard.yml', 'dsguard ingest trace.csv --db tenant.db'],
    load: async () => (await import('./ingest-command.js')).registerIngest,
  },
  report: {
    summary:
      'Direct Send in the tenant from the ingested exports: totals, daily timeline, source inventory, RejectDirectSend impact, connector plan',
    examples: ['dsguard report', 'dsguard report --format html -o report.html', 'dsguard report --since 30d'],
    load: async () => (await import('./report-command.js')).registerReport,
  },
  powershell: {
    summary: 'Print the Exchange Online PowerShell commands that collect the exports dsguard ingest reads',
    examples: ['dsguard powershell --profile dsguard.yml -o collect.ps1'],
    load: async () => (await import('./powershell-command.js')).registerPowershell,
  },
  kql: {
    summary: 'Print the Direct Send queries for Defender advanced hunting, custom detections or Sentinel',
    examples: ['dsguard kql --profile dsguard.yml', 'dsguard kql --help'],
    load: async () => (await import('./kql-command.js')).registerKql,
  },
  indicators: {
    summary: 'Print the indicators of malicious Direct Send (IPs, senders, URLs) as CSV, STIX 2.1 or block commands',
    examples: ['dsguard indicators --profile dsguard.yml --db dsguard.db', 'dsguard indicators --help'],
    load: async () => (await import('./indicators-command.js')).registerIndicators,
  },
  export: {
    summary:
      'Write one record per stored message (NDJSON or CSV on stdout, or Parquet by tenant and day) for a SIEM or a Sentinel custom table',
    examples: ['dsguard export --db dsguard.db -o messages.ndjson', 'dsguard export --help'],
    load: async () => (await import('./export-command.js')).registerExport,
  },
  sources: {
    summary: 'record your decision on a Direct Send source in the profile; the next report re-assesses it',
    examples: [
      'dsguard sources approve S3 --profile dsguard.yml',
      'dsguard sources deny 203.0.113.7 --profile dsguard.yml --db dsguard.db',
    ],
    load: async () => (await import('./sources-command.js')).registerSources,
  },
  profile: {
    summary: 'Build the tenant profile from the tenant configuration, or check it for drift',
    examples: [
      'dsguard profile init --config-dir ./dsguard-config',
      'dsguard profile check --config-dir ./dsguard-config --profile dsguard.yml',
    ],
    load: async () => (await import('./profile-command.js')).registerProfile,
  },
  audit: {
    summary: 'Score the tenant configuration against the Direct Send prevention checklist, with evidence and fixes',
    examples: [
      'dsguard audit --config-dir ./dsguard-config --db dsguard.db',
      'dsguard audit --config-dir ./dsguard-config --format junit -o audit.xml',
    ],
    load: async () => (await import('./audit-command.js')).registerAudit,
  },
  collect: {
    summary:
      'Read Direct Send evidence from Microsoft 365 into the store: advanced hunting (server-side filtered), or message trace for tenants without email tables; incremental',
    examples: ['dsguard collect --help'],
    load: async () => (await import('./collect-command.js')).registerCollect,
  },
  watch: {
    summary: 'Collect, report and alert on a schedule: new or changed Direct Send sources, silence, readiness',
    examples: ['dsguard watch --help'],
    load: async () => (await import('./watch-command.js')).registerWatch,
  },
  purge: {
    summary: 'Remove stored deliveries received before a day (UTC), past a retention period',
    examples: ['dsguard purge --help'],
    load: async () => (await import('./purge-command.js')).registerPurge,
  },
  completion: {
    summary: 'Print a shell completion script: bash, zsh, fish or powershell',
    examples: [
      'dsguard completion bash > /etc/bash_completion.d/dsguard',
      'dsguard completion powershell | Out-String | Invoke-Expression',
    ],
    load: async () => {
      const { registerCompletion } = await import('./completion-command.js');
      return (program, io, setExit) =>
        registerCompletion(program, io, setExit, () => buildProgram(io, () => {}, 'all'));
    },
  },
};

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  a finding at or above --fail-on
  2  usage error (bad flag or argument)
  3  runtime or I/O failure (unreadable file, store, network)

Environment:
  DSGUARD_PROFILE  profile used when --profile is not given (then ./dsguard.yml when present)
  DSGUARD_DB       store used when --db is not given (default ./dsguard.db)
  NO_COLOR         no colours; FORCE_COLOR=1 colours even when piped
`;

/** The command a command line names (`help <command>` included), or `null` for `--version`, `--help`, nothing. */
export function commandNamed(argv: readonly string[]): string | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0];
  if (first === 'help') return words[1] ?? null;
  return first ?? null;
}

function newProgram(io: CliIo): Command {
  return new CommandClass()
    .name('dsguard')
    .description('Find, track and shut down Microsoft 365 Direct Send abuse.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .addHelpText('after', `\nRun dsguard <command> --help for a command's options and examples.\n${EXIT_CODES_HELP}`);
}

function addExamples(cmd: Command, entry: CommandEntry): void {
  const lines = entry.examples.map((e) => `  $ ${e}`).join('\n');
  cmd.addHelpText('after', `\nExamples:\n${lines}\n${EXIT_CODES_HELP}`);
}

/**
 * The program with the named commands registered for real (`'all'`: every command, for completion and tests);
 * the others are listed by name and summary only. Every real command gets `-o/--output FILE`, and `--profile` /
 * `--db` fall back to `DSGUARD_PROFILE` / `DSGUARD_DB` and `./dsguard.yml` (see {@link applyConventions}).
 */
export async function buildProgram(
  io: CliIo,
  setExit: (code: number) => void,
  load: readonly string[] | 'all',
): Promise<Command> {
  const program = newProgram(io);
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (load === 'all' || load.includes(name)) {
      (await entry.load())(program, io, setExit);
      const cmd = program.commands.find((c) => c.name() === name);
      if (cmd) {
        addExamples(cmd, entry);
        // On the commands that run (a group's subcommands); a command with its own --output keeps it.
        for (const leaf of cmd.commands.length > 0 ? cmd.commands : [cmd]) {
          if (leaf.options.some((o) => o.long === '--output' || o.short === '-o')) continue;
          leaf.option('-o, --output <file>', 'write the result to this file (UTF-8) instead of stdout');
          OUTPUT_ADDED.add(leaf);
        }
      }
    } else {
      program.command(name).description(entry.summary);
    }
  }
  return program;
}

const PROFILE_AS_INPUT: ReadonlySet<string> = new Set(['exposure']);
/** The commands whose -o/--output is ours (stdout to a file); others define their own (profile init). */
const OUTPUT_ADDED = new WeakSet<Command>();

/** The profile found without `--profile`: `DSGUARD_PROFILE`, else `./dsguard.yml` when it exists. */
export function discoveredProfile(
  env: NodeJS.ProcessEnv,
  exists: (path: string) => boolean,
): { path: string; from: string } | null {
  if (env.DSGUARD_PROFILE) return { path: env.DSGUARD_PROFILE, from: 'DSGUARD_PROFILE' };
  if (exists('dsguard.yml')) return { path: 'dsguard.yml', from: './dsguard.yml found' };
  return null;
}

/**
 * Before a command runs: the flag beats the environment, which beats `./dsguard.yml` (profile) or the default
 * (`--db dsguard.db`); a profile not named on the command line is said on stderr. `-o FILE` swaps stdout for the
 * file (UTF-8, whatever the shell: Windows PowerShell 5.1's `>` writes UTF-16); returns the file's stream.
 */
function applyConventions(cmd: Command, run: CliIo): NodeJS.WritableStream | null {
  const has = (long: string) => cmd.options.some((o) => o.long === long);
  // exposure reads --profile as a list of domains to audit, not as the tenant's context: never found for it.
  // Nor with --tenants (audit): each tenant's settings come from tenants.yml.
  const oneTenant = cmd.getOptionValue('tenants') === undefined;
  if (
    has('--profile') &&
    cmd.getOptionValue('profile') === undefined &&
    !PROFILE_AS_INPUT.has(cmd.name()) &&
    oneTenant
  ) {
    const found = discoveredProfile(run.env, (p) => existsSync(p));
    if (found) {
      cmd.setOptionValueWithSource('profile', found.path, 'env');
      run.stderr.write(`dsguard: profile ${terminalSafe(found.path)} (${found.from}; --profile overrides)\n`);
    }
  }
  if (has('--db') && cmd.getOptionValueSource('db') === 'default' && run.env.DSGUARD_DB && oneTenant) {
    cmd.setOptionValueWithSource('db', run.env.DSGUARD_DB, 'env');
  }
  const output = OUTPUT_ADDED.has(cmd) ? (cmd.getOptionValue('output') as string | undefined) : undefined;
  if (output === undefined) return null;
  if (output === '' || output === '-') throw new UsageError('--output needs a file name (leave it out for stdout)');
  let fd: number;
  try {
    fd = openSync(output, 'w');
  } catch (error) {
    fail('io', `${output}: cannot write: ${ioErrorText(error)}`);
  }
  const file = createWriteStream(output, { fd, encoding: 'utf8' });
  // A .ps1 starts with a UTF-8 BOM: Windows PowerShell 5.1 reads a script without one in the machine's ANSI code
  // page, which garbles any non-ASCII value (a tenant or domain name) and can break parsing (Microsoft,
  // "Understanding file encoding in VS Code and PowerShell"; PSScriptAnalyzer UseBOMForUnicodeEncodedFile).
  if (/\.ps1$/i.test(output)) file.write('\uFEFF');
  run.stdout = file;
  run.colour = false;
  delete run.columns;
  return file;
}

/** Run the CLI; resolves to the exit code. Never throws for expected failures. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  // The commands hold this object: -o swaps its stdout before the action runs.
  // A copy that keeps io's getters as getters (a spread would read stdin, building a stream nothing may use).
  const run = Object.defineProperties({}, Object.getOwnPropertyDescriptors(io)) as CliIo;
  let file: NodeJS.WritableStream | null = null;
  try {
    const named = commandNamed(argv);
    const program = await buildProgram(
      run,
      (c) => {
        code = c;
      },
      named !== null && Object.hasOwn(COMMANDS, named) ? [named] : [],
    );
    program.hook('preAction', (_program, cmd) => {
      file = applyConventions(cmd, run);
    });
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CommandFailure) {
      io.stderr.write(`dsguard: ${terminalSafe(error.message)}\n`);
      return exitCodeFor(error.failure.kind);
    }
    if (isModuleNotFound(error)) {
      io.stderr.write(`dsguard: a dependency is not installed (${terminalSafe(error.message)}): run npm ci first\n`);
      return EXIT.failure;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`dsguard: ${terminalSafe(message)}\n`);
    if (io.env.DSGUARD_DEBUG && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return EXIT.failure;
  } finally {
    if (file) await closeOutput(file);
  }
}

function closeOutput(file: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    file.once('error', () => resolve());
    file.end(() => resolve());
  });
}

function isModuleNotFound(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND');
}
