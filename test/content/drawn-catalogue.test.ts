/**
 * The generated drawn-code fixtures of issue 19 (test/content/drawn-fixtures.ts `drawnCatalogue`), written to
 * test/fixtures/content/drawn/*.eml (golden: UPDATE_GOLDEN=1 rewrites them; bench/content-bench.mjs reads them)
 * and analysed end to end with the real decoder: every technique decodes to a URL found nowhere else in the
 * message, every negative gives no QR finding, and no fixture reaches a content limit. The work each did is a
 * golden (drawn/work.expected.json) whose figures are quoted in bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textDrawings } from '../../src/content/drawn-codes.js';
import { scanHtml } from '../../src/content/html-inspect.js';
import { vectorDrawing } from '../../src/content/pdf-vector.js';
import { expectGolden, expectGoldenText } from '../helpers/golden.js';
import { distIsCurrent } from '../ingest/helpers.js';
import { drawnCatalogue } from './drawn-fixtures.js';
import { analyzeWithContent } from './make-fixtures.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'content', 'drawn');
const CODES = {
  'html-table': 'DS440',
  svg: 'DS441',
  'text-blocks': 'DS442',
  'css-boxes': 'DS443',
  'pdf-vector': 'DS444',
};

async function vectorWork(pdf: Uint8Array) {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false }).promise;
  const ops = await (await doc.getPage(1)).getOperatorList();
  const v = vectorDrawing(ops, pdfjs.OPS);
  await doc.destroy();
  return { operators: ops.fnArray.length, shapes: v.shapes, ...v.work, grid: v.grid?.rows.length ?? null };
}

describe('generated drawn-code fixtures (issue 19)', async () => {
  const catalogue = await drawnCatalogue();
  const work: Record<string, unknown> = {};
  for (const f of catalogue) {
    it(`${f.name}: ${f.technique ? `decodes, ${CODES[f.technique]}` : 'no QR finding'}, within the budget`, async () => {
      expectGoldenText(join(DIR, `${f.name}.eml`), f.raw);
      const r = await analyzeWithContent(f.raw, `${f.name}.eml`);
      expect(r.partial).toBeUndefined();
      const qr = r.findings.filter((x) => /^DS(407|44\d)$/.test(x.code)).map((x) => x.code);
      if (f.technique && f.url) {
        const host = new URL(f.url).hostname;
        for (const source of [f.raw, f.html ?? '', f.text ?? '', Buffer.from(f.pdf ?? []).toString('latin1')]) {
          expect(source).not.toContain(host);
        }
        expect(r.urls).toContainEqual({ url: f.url, location: 'qr-code' });
        expect(qr).toContain(CODES[f.technique]);
      } else expect(qr).toEqual([]);
      work[f.name] = {
        ...(f.html !== null ? { html: scanHtml(f.html).work } : {}),
        ...(f.text !== null ? { textLines: textDrawings(f.text).lines } : {}),
        ...(f.pdf !== null ? { pdf: await vectorWork(f.pdf) } : {}),
      };
    });
  }
  it('work done per fixture (golden)', () => {
    expect(Object.keys(work)).toHaveLength(catalogue.length);
    expectGolden(join(DIR, 'work.expected.json'), work);
  });
});

describe('the built CLI decodes the drawn fixtures in its sandbox process', () => {
  it('each positive gives its finding and URL, each negative none, none partial', async () => {
    expect(distIsCurrent(), 'dist/ is older than src/: build first').toBe(true);
    const catalogue = await drawnCatalogue();
    const r = spawnSync(process.execPath, ['bin/dsguard.js', 'analyze', DIR, '--format', 'ndjson', '--no-geoip'], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input: string; partial?: true; findings: { code: string }[]; urls: unknown[] });
    expect(records).toHaveLength(catalogue.length);
    for (const f of catalogue) {
      const rec = records.find((x) => x.input.endsWith(`${f.name}.eml`));
      expect(rec?.partial, f.name).toBeUndefined();
      const qr = (rec?.findings ?? []).map((x) => x.code).filter((c) => /^DS(407|44\d)$/.test(c));
      if (f.technique && f.url) {
        expect(qr, f.name).toContain(CODES[f.technique]);
        expect(rec?.urls, f.name).toContainEqual(expect.objectContaining({ url: f.url, location: 'qr-code' }));
      } else expect(qr, f.name).toEqual([]);
    }
  }, 120_000);
});
