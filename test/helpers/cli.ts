/** Run the CLI in-process with captured streams, or the built CLI as a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `progress: true` runs as if stderr were a terminal (progress lines drawn). */
export async function runCli(
  argv: string[],
  stdin = '',
  env: NodeJS.ProcessEnv = {},
  options: { progress?: boolean } = {},
): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c) => {
    stdout += c;
  });
  err.on('data', (c) => {
    stderr += c;
  });
  const io: CliIo = {
    stdout: out,
    stderr: err,
    stdin: Readable.from([stdin]),
    progress: options.progress ?? false,
    env,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

export interface SpawnCliOptions {
  /** Receives the child as soon as it is started (a test that kills it midway). */
  onSpawn?: (child: ChildProcess) => void;
  /** Receives everything the run printed, when it ends (tests that scan every output for a secret). */
  record?: (stdout: string, stderr: string) => void;
}

/**
 * Run the built CLI (`bin/dsguard.js`) as a child process with exactly `env` (nothing inherited), for tests
 * against real local servers that need a real process (its own trust store, signals). A run ended by a signal
 * has code -9.
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, options: SpawnCliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/dsguard.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      options.record?.(stdout, stderr);
      resolve({ code: code ?? (signal ? -9 : -1), stdout, stderr });
    });
  });
}
