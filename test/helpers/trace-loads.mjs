// `node --import ./test/helpers/trace-loads.mjs …`: append the URL of every module the process loads to the file
// named by DSGUARD_TRACE_LOADS (one a line). Used to check what a command's start-up imports. ES modules are seen
// by a loader hook; CommonJS modules loaded through `require` (dsguard requires its CommonJS dependencies, see
// src/vendor/ipaddr.ts) by a wrapper of the CommonJS loader's compile step, as file URLs too.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./trace-loads-hooks.mjs', import.meta.url);

const trace = process.env.DSGUARD_TRACE_LOADS;
if (trace) {
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    appendFileSync(trace, `${pathToFileURL(filename).href}\n`);
    return compile.call(this, content, filename);
  };
}
