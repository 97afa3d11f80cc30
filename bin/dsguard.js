#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm ci`).
import module from 'node:module';

// Node 22.1+ keeps compiled code between runs (in the OS temp folder): start-up then costs file reads, not
// compilation. Older Node has no such cache and starts as before.
module.enableCompileCache?.();

// The reader of stdout went away (`dsguard report | head`): stop quietly, as a pipeline expects, instead of dying
// on an unhandled EPIPE with a stack trace. Writes to the store are committed before any result is written.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

let main;
try {
  ({ main } = await import('../dist/bundle/main.js'));
} catch (error) {
  // A clone without `npm ci`, or an install that lost a dependency: say what to do, not a module stack trace.
  if (error?.code === 'ERR_MODULE_NOT_FOUND' || error?.code === 'MODULE_NOT_FOUND') {
    const missing = String(error.message).match(/(?:package|module) '([^']+)'/)?.[1] ?? 'a module';
    process.stderr.write(
      missing.includes('dist')
        ? 'dsguard: not built yet (dist/ is missing): run npm ci first (it builds), or npm run build\n'
        : `dsguard: ${missing} is not installed: run npm ci first (or reinstall dsguard)\n`,
    );
    process.exit(3);
  }
  throw error;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`dsguard: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 3;
  },
);
