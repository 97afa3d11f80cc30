/** Run the CLI in-process with captured streams. */
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
