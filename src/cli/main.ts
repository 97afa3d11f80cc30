/**
 * The dsguard command line. Commands are thin: parse flags, call the library, render, return an exit code.
 * Results go to stdout, diagnostics to stderr. Exit 0 ok, 1 findings at/above --fail-on, 2 usage, 3 failure.
 * @module
 */
import { Command, CommanderError } from 'commander';
import { terminalSafe } from '../report/safe-text.js';
import { registerAnalyze } from './analyze-command.js';
import { registerAudit } from './audit-command.js';
import { registerExport } from './export-command.js';
import { registerExposure } from './exposure-command.js';
import { registerIndicators } from './indicators-command.js';
import { registerIngest } from './ingest-command.js';
import { type CliIo, CommandFailure, EXIT, exitCodeFor, processIo } from './io.js';
import { registerKql } from './kql-command.js';
import { registerPowershell } from './powershell-command.js';
import { registerProbe } from './probe-command.js';
import { registerProfile } from './profile-command.js';
import { registerReport } from './report-command.js';
import { registerSources } from './sources-command.js';

export const VERSION = '0.1.0';

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('dsguard')
    .description('Find, track and shut down Microsoft 365 Direct Send abuse.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerAnalyze(program, io, setExit);
  registerExposure(program, io, setExit);
  registerProbe(program, io, setExit);
  registerIngest(program, io, setExit);
  registerReport(program, io, setExit);
  registerPowershell(program, io, setExit);
  registerKql(program, io, setExit);
  registerIndicators(program, io, setExit);
  registerExport(program, io, setExit);
  registerSources(program, io, setExit);
  registerProfile(program, io, setExit);
  registerAudit(program, io, setExit);
  return program;
}

/** Run the CLI; resolves to the exit code. Never throws for expected failures. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
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
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`dsguard: ${terminalSafe(message)}\n`);
    if (io.env.DSGUARD_DEBUG && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return EXIT.failure;
  }
}
