#!/usr/bin/env node
// `npm run bench`: runs every bench/*-bench.mjs in turn (each prints its own ratios against a reference
// measured in the same run). Pass names to run a subset: `npm run bench -- analyze ingest`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('-bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n### ${b}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', `bench/${b}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
