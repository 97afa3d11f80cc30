// Benchmark: QR decoding in PDF attachments. Reference measured in the same run: zxing-wasm decoding the
// same QR as a PNG file (the cheapest possible path to the same answer). Measured: the PDF scan of a 1-page
// QR PDF (pdfjs page → operator list → image → decoder, plus annotations and text), cold and warm, and a
// 50-page image-heavy PDF, which must stop at its page budget and say so.
// Targets (content issue): 1-page QR PDF under 500 ms; 50-page PDF bounded by the budget.
// Drawn codes (issue 19): each generated fixture of test/fixtures/content/drawn/ (written by
// test/content/drawn-catalogue.test.ts) analysed in-process with the content analyser and the same decoder;
// CPU time (user + system) per message, median of --rounds; the work counts are in drawn/work.expected.json.
// Usage: npm run build && node bench/content-bench.mjs [--rounds 20]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import { PDFDocument } from 'pdf-lib';
import QRCode from 'qrcode';
import { analyzeMessage } from '../dist/analyze/analyze.js';
import { createCodeDecoder } from '../dist/content/code-decoder.js';
import { createContentAnalyzer } from '../dist/content/content-analyzer.js';
import { scanPdf } from '../dist/content/pdf-scan.js';
import { createContentRule } from '../dist/core/rules/content.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const ROUNDS = Number(values.rounds);
const URL_TEXT = 'https://login.micros0ft-secure.example/owa/?u=joe@contoso.com';

const png = await QRCode.toBuffer(URL_TEXT, { type: 'png', scale: 4, margin: 4 });

async function qrPdf() {
  const doc = await PDFDocument.create();
  const page = doc.addPage([612, 792]);
  page.drawImage(await doc.embedPng(png), { x: 206, y: 400, width: 200, height: 200 });
  return doc.save();
}

async function heavyPdf(pages) {
  const doc = await PDFDocument.create();
  const w = 600;
  const h = 600;
  const data = Buffer.alloc(w * h * 4, 255);
  let seed = 7;
  for (let i = 0; i < w * h; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    data.fill(seed & 255, i * 4, i * 4 + 3);
  }
  for (let p = 0; p < pages; p++) {
    // A distinct image per page, as in a scanned document: no decode is shared between pages.
    data[p * 4] = p & 255;
    const img = await doc.embedJpg(new Uint8Array(jpeg.encode({ data, width: w, height: h }, 75).data));
    doc.addPage([612, 792]).drawImage(img, { x: 6, y: 96, width: 600, height: 600 });
  }
  return doc.save();
}

const decoder = createCodeDecoder({ maxImagePixels: 25_000_000 });
const opts = { decoder, maxPages: 10, maxImagePixels: 25_000_000, maxImages: 40 };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const onePage = await qrPdf();
const fifty = await heavyPdf(50);

let t = performance.now();
const cold = await scanPdf(onePage, opts);
const coldMs = performance.now() - t;
if (cold.codes[0]?.text !== URL_TEXT) throw new Error('QR not decoded from the PDF');

const ref = [];
const pdf = [];
for (let i = 0; i < ROUNDS; i++) {
  t = performance.now();
  const r = await decoder.decodeImageFile(png);
  ref.push(performance.now() - t);
  if (r.status !== 'ok' || r.codes[0]?.text !== URL_TEXT) throw new Error('reference decode failed');
  t = performance.now();
  await scanPdf(onePage, opts);
  pdf.push(performance.now() - t);
}

t = performance.now();
const big = await scanPdf(fifty, opts);
const bigMs = performance.now() - t;

const refMs = median(ref);
const pdfMs = median(pdf);
console.log(`reference: zxing decode of the QR as PNG      ${refMs.toFixed(1)} ms (median of ${ROUNDS})`);
console.log(
  `1-page QR PDF, cold (loads pdfjs + zxing)     ${coldMs.toFixed(1)} ms  ${coldMs < 500 ? 'OK' : 'OVER'} (target < 500 ms)`,
);
console.log(
  `1-page QR PDF, warm                           ${pdfMs.toFixed(1)} ms  = ${(pdfMs / refMs).toFixed(1)}x the reference  ${pdfMs < 500 ? 'OK' : 'OVER'} (target < 500 ms)`,
);
console.log(
  `50-page image PDF (10-page budget)            ${bigMs.toFixed(1)} ms  = ${(bigMs / refMs).toFixed(1)}x the reference; scanned ${big.facts.pagesScanned}/${big.facts.pages}; says: ${big.facts.budget ?? '(nothing)'}`,
);
if (pdfMs >= 500 || !big.facts.budget) process.exitCode = 1;

// Drawn codes: CPU per message, in-process (the decoder injected, so no sandbox process is timed).
const DRAWN = join(import.meta.dirname, '..', 'test', 'fixtures', 'content', 'drawn');
const analyzers = [createContentAnalyzer({ decoder })];
const extraRules = [createContentRule()];
const drawnRounds = Math.max(3, Math.min(ROUNDS, 10));
let drawnFailed = false;
console.log(`\ndrawn codes (CPU ms per message, median of ${drawnRounds}; size of the .eml)`);
for (const file of readdirSync(DRAWN)
  .filter((f) => f.endsWith('.eml'))
  .sort()) {
  const raw = readFileSync(join(DRAWN, file), 'utf8');
  const cpu = [];
  let found = [];
  for (let i = 0; i <= drawnRounds; i++) {
    const before = process.cpuUsage();
    const r = await analyzeMessage(raw, { input: file, profile: null, analyzers, extraRules });
    const used = process.cpuUsage(before);
    if (i > 0) cpu.push((used.user + used.system) / 1000);
    found = r.findings.filter((f) => /^DS44\d$/.test(f.code)).map((f) => f.code);
    if (r.partial) drawnFailed = true;
  }
  const negative = file.startsWith('negative-');
  if (negative === found.length > 0) drawnFailed = true;
  console.log(
    `  ${file.padEnd(36)} ${median(cpu).toFixed(1).padStart(7)} ms  ${(raw.length / 1024).toFixed(0).padStart(4)} KiB  ${found.join(',') || '(no QR finding)'}`,
  );
}
if (drawnFailed) {
  console.log('a drawn fixture was partial, undecoded, or a negative gave a QR finding');
  process.exitCode = 1;
}
