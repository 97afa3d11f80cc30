#!/usr/bin/env node
/**
 * Build the seed corpus of the fuzz tests (test/fuzz/seeds/<parser>/) from real-shaped samples: the analyze and
 * export fixtures, the DNS zones, and a few small messages of the phishing corpus (../shared/corpus). Run from the
 * repository root: `node test/fuzz/make-seeds.mjs`. The seeds are committed; this script says where they came from.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'test/fuzz/seeds';
const ANALYZE = 'test/fixtures/analyze';
const EXPORTS = 'test/fixtures/exports';
const DNS = 'test/fixtures/dns';
const CORPUS = '../../shared/corpus/phishing_pot';
const CORPUS_FILES = ['sample-390.eml', 'sample-1257.eml', 'sample-2478.eml', 'sample-552.eml'];

const seeds = new Map();
const add = (parser, name, data) => {
  if (!seeds.has(parser)) seeds.set(parser, new Map());
  const m = seeds.get(parser);
  if ([...m.values()].some((d) => Buffer.compare(Buffer.from(d), Buffer.from(data)) === 0)) return;
  m.set(name, data);
};

/** The unfolded fields of a header block. */
function fields(block) {
  const out = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) out[out.length - 1].value += line;
    else {
      const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
      if (m) out.push({ name: m[1].toLowerCase(), value: m[2].trim() });
    }
  }
  return out;
}

const messages = readdirSync(ANALYZE)
  .filter((f) => f.endsWith('.eml'))
  .sort()
  .map((f) => ({ name: f, bytes: readFileSync(join(ANALYZE, f)) }));
for (const f of CORPUS_FILES) {
  const p = join(CORPUS, f);
  if (existsSync(p)) messages.push({ name: `phishing-pot-${f}`, bytes: readFileSync(p) });
}

let n = 0;
for (const { name, bytes } of messages) {
  const text = bytes.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = end < 0 ? text : text.slice(0, end + 2);
  if (n < 12) add('header-block', name.replace(/\.eml$/, '.txt'), block);
  if (n % 3 === 0 || name.startsWith('phishing-pot')) add('mime', name, bytes);
  n++;
  let i = 0;
  for (const f of fields(block)) {
    i++;
    const id = `${name.replace(/\.eml$/, '')}-${i}.txt`;
    if (f.name === 'received') add('received', id, f.value);
    else if (f.name === 'authentication-results' || f.name === 'arc-authentication-results')
      add('auth-results', id, f.value);
    else if (f.name.includes('antispam')) add('antispam', id, f.value);
    else if (f.name === 'received-spf') add('received-spf', id, f.value);
  }
}

for (const f of readdirSync(DNS).filter((x) => x.endsWith('.zone'))) {
  let i = 0;
  for (const m of readFileSync(join(DNS, f), 'utf8').matchAll(/IN TXT "((?:[^"\\]|\\.)*)"/g)) {
    i++;
    const txt = m[1];
    if (/^v=spf1/i.test(txt)) add('spf', `${f}-${i}.txt`, txt);
    if (/^v=DMARC1/i.test(txt)) add('dmarc', `${f}-${i}.txt`, txt);
  }
}

for (const f of readdirSync(EXPORTS).sort()) {
  const p = join(EXPORTS, f);
  if (f.endsWith('.csv')) {
    const bytes = readFileSync(p);
    const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe;
    add(utf16 ? 'csv-utf16' : 'csv-utf8', f, bytes);
    const text = utf16 ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8');
    let i = 0;
    for (const m of text.matchAll(/"(<root>(?:[^"]|"")*)"/g))
      add('trace-detail-xml', `${f}-${++i}.xml`, m[1].replace(/""/g, '"'));
    for (const m of text.matchAll(/"(S:[^"]*(?:""[^"]*)*)"/g))
      add('trace-detail-custom', `${f}-${++i}.txt`, m[1].replace(/""/g, '"'));
  }
  if (f.endsWith('.yml')) add('profile-yaml', f, readFileSync(p));
  if (f.endsWith('.json') && !f.endsWith('.expected.json')) add('json-export', f, readFileSync(p));
  if (f.endsWith('.ndjson')) add('json-export', f, readFileSync(p));
}
for (const f of readdirSync(ANALYZE).filter((x) => x.endsWith('.yml')))
  add('profile-yaml', f, readFileSync(join(ANALYZE, f)));
for (const f of readdirSync(EXPORTS).filter((x) => x.startsWith('emailevents') && x.endsWith('.csv'))) {
  let i = 0;
  for (const m of readFileSync(join(EXPORTS, f), 'utf8').matchAll(/"(\{(?:[^"]|"")*\})"/g))
    add('auth-details', `${f}-${++i}.json`, m[1].replace(/""/g, '"'));
}
add('auth-details', 'key-value.txt', 'SPF=fail;DKIM=none;DMARC=fail;CompAuth=fail reason=601');
add('connector-label', 'source.txt', 'MFP 2nd floor (Contoso) scanner@contoso.com');
add('connector-label', 'hostile.txt', ". . . evil'; Remove-Item -Recurse C:\\ #\n. . .");

rmSync(OUT, { recursive: true, force: true });
for (const [parser, files] of seeds) {
  mkdirSync(join(OUT, parser), { recursive: true });
  for (const [name, data] of files) writeFileSync(join(OUT, parser, name), data);
  console.log(`${parser}: ${files.size}`);
}
