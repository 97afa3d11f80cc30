/**
 * The launcher in a pipeline: when the reader of stdout goes away (`dsguard … | head`), dsguard stops quietly
 * instead of dying on an unhandled EPIPE with a stack trace.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('bin/dsguard.js in a pipeline', () => {
  it('stops quietly with exit 0 when stdout is closed early', async () => {
    const child = spawn(process.execPath, ['bin/dsguard.js', 'analyze', 'samples/messages', '--format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader goes away before anything is read, as `head -c 0` would.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(code).toBe(0);
  });
});
