// Loader hooks for trace-loads.mjs (they run off the main thread, hence the synchronous file append).
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  if (process.env.DSGUARD_TRACE_LOADS) appendFileSync(process.env.DSGUARD_TRACE_LOADS, `${url}\n`);
  return next(url, context);
}
