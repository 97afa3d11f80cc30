/**
 * Property tests of the content decoders' front doors: image headers and PNG data, the ZIP listing, the
 * compound-file (.msg) check, the PDF pre-scan. For any input — real seeds (test/fuzz/seeds/content-*, rebuilt
 * with UPDATE_GOLDEN=1 from the fixture builders) mutated byte by byte or word by word, or plain random bytes —
 * no exception escapes and the work stays within its budget (counted, never timed): the pre-scan never decodes
 * past its byte cap, the compound-file check walks no more sectors than the file holds, the ZIP listing lists no
 * more than its entry limit, and a .msg the check accepts is read by @kenjiuno/msgreader to the end.
 *
 * Deterministic in CI (fixed seed, a few hundred runs); DSGUARD_FUZZ_SEED / DSGUARD_FUZZ_RUNS run it longer
 * (the same variables as the other parsers' harness, so `npm run fuzz -- --minutes N` scales it too).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCompoundFile } from '../../src/content/cfb-check.js';
import { checkImageData } from '../../src/content/image-check.js';
import { readImageHeader } from '../../src/content/image-header.js';
import { readMsgContainer } from '../../src/content/msg-container.js';
import { DEFAULT_PDF_BUDGET, prescanPdf } from '../../src/content/pdf-prescan.js';
import { listZip } from '../../src/content/zip-listing.js';
import {
  buildMsg,
  inflatingContentPdf,
  msgVariants,
  nestedFormsPdf,
  pngWithIdat,
  traversalZip,
} from '../content/hostile-fixtures.js';
import { makeZip, noticePdf, qrJpeg, qrPng } from '../content/make-fixtures.js';

const SEED = Number(process.env.DSGUARD_FUZZ_SEED ?? 20261207);
const RUNS = Number(process.env.DSGUARD_FUZZ_RUNS ?? 200);
const params = (runs = RUNS) => ({ seed: SEED, numRuns: Math.max(1, Math.round(runs)), endOnFailure: true });

const SEEDS = 'test/fuzz/seeds';
const HEADERS =
  'Received: from WIN-1 (185.234.72.19) by x.mail.protection.outlook.com with SMTP; Thu, 26 Nov 2026 08:14:09 +0000\r\nFrom: joe@contoso.com\r\nTo: joe@contoso.com\r\nSubject: fax\r\n\r\n';

async function buildSeeds(): Promise<Record<string, Record<string, Uint8Array>>> {
  return {
    'content-image': {
      'qr.png': await qrPng('https://x.example/', 2),
      'qr.jpg': qrJpeg('https://x.example/', 2),
      'idat-over.png': pngWithIdat(20, 20, 64 * 1024),
      'interlaced.png': (() => {
        const b = pngWithIdat(7, 9, 256);
        b[28] = 1; // interlace flag (CRC left stale: readers do not check it)
        return b;
      })(),
    },
    'content-zip': {
      'traversal.zip': traversalZip(),
      'two.zip': makeZip([
        { name: 'a.txt', data: Buffer.from('hello') },
        { name: 'b.pdf.exe', data: Buffer.from('MZ'), encrypted: true },
      ]),
    },
    'content-cfb': {
      'good.msg': buildMsg(HEADERS, { name: 'a.html', mime: 'text/html', data: Buffer.from('<html></html>') }),
      ...msgVariants(HEADERS),
    },
    'content-pdf': {
      'notice.pdf': await noticePdf('https://x.example/', 'https://y.example/'),
      'nested-forms.pdf': nestedFormsPdf(4, 3),
      'inflate.pdf': inflatingContentPdf(2 * 1024 * 1024),
    },
  };
}

function seeds(kind: string): Uint8Array[] {
  return readdirSync(join(SEEDS, kind))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(SEEDS, kind, f))));
}

/** Edits that matter to binary formats: bytes, little- and big-endian words of telling values, truncation. */
const WORDS = [0, 1, 2, 3, 5, 0x40, 0x200, 0x1000, 0x7fffffff, 0xfffffffa, 0xfffffffd, 0xfffffffe, 0xffffffff];
function mutated(kind: string): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ at: fc.nat(), word: fc.constantFrom(...WORDS), le: fc.boolean() }),
  );
  return fc
    .record({
      seed: fc.constantFrom(...seeds(kind)),
      edits: fc.array(edit, { maxLength: 12 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ seed, edits, cut }) => {
      const b = Buffer.from(seed);
      for (const e of edits) {
        if ('byte' in e) b[e.at % b.length] = e.byte;
        else {
          const at = (e.at % Math.max(1, b.length >> 2)) << 2;
          if (at + 4 <= b.length) e.le ? b.writeUInt32LE(e.word, at) : b.writeUInt32BE(e.word, at);
        }
      }
      return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
    });
}

describe('content seeds', () => {
  it.runIf(process.env.UPDATE_GOLDEN === '1')('rebuilds the seeds', async () => {
    for (const [kind, files] of Object.entries(await buildSeeds())) {
      mkdirSync(join(SEEDS, kind), { recursive: true });
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(SEEDS, kind, name), bytes);
    }
  });
});

describe('content front doors under fuzzing', () => {
  it('image headers and PNG data: no exception, inflation capped by the header', () => {
    fc.assert(
      fc.property(fc.oneof(mutated('content-image'), fc.uint8Array({ maxLength: 2048 })), (bytes) => {
        const header = readImageHeader(bytes);
        if (!header) return;
        expect(header.width).toBeGreaterThanOrEqual(0);
        expect(header.height).toBeGreaterThanOrEqual(0);
        const problem = checkImageData(bytes, header);
        if (problem) expect(['bomb', 'budget']).toContain(problem.kind);
      }),
      params(RUNS * 2),
    );
  });

  it('ZIP listing: always resolves, never lists past its limit, keeps going past unsafe names', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated('content-zip'), fc.uint8Array({ maxLength: 2048 })), async (bytes) => {
        const facts = await listZip(bytes, { maxEntries: 50, maxRatio: 100, maxTotal: 1 << 30 });
        expect(facts.entries.length).toBeLessThanOrEqual(50);
        expect(facts.unsafeEntries ?? 0).toBeLessThanOrEqual(facts.entries.length);
      }),
      params(RUNS / 2),
    );
  });

  it('compound file check: no exception, sectors walked bounded by the file, accepted files read to the end', () => {
    fc.assert(
      fc.property(fc.oneof(mutated('content-cfb'), fc.uint8Array({ maxLength: 4096 })), (bytes) => {
        const r = checkCompoundFile(bytes);
        if (r.status === 'error') return;
        // Each sector and mini sector belongs to one chain at most, each entry is visited once.
        const { sectors, sectorSize, entries } = r.stats;
        expect(r.stats.sectorsWalked).toBeLessThanOrEqual(sectors * (2 + sectorSize / 64) + entries);
        // What the check accepts, msgreader reads to the end (an error result is fine; a hang or a throw is not).
        const read = readMsgContainer(bytes, { maxParts: 50, headersOnly: false });
        expect(['ok', 'error']).toContain(read.status);
      }),
      params(RUNS),
    );
  }, 60_000);

  it('PDF pre-scan: no exception, never decodes past its byte cap', () => {
    const budget = { ...DEFAULT_PDF_BUDGET, maxDecodedBytes: 4 * 1024 * 1024, maxStreamBytes: 1024 * 1024 };
    fc.assert(
      fc.property(fc.oneof(mutated('content-pdf'), fc.uint8Array({ maxLength: 4096 })), (bytes) => {
        const r = prescanPdf(bytes, budget);
        expect(r.decodedBytes).toBeLessThanOrEqual(budget.maxDecodedBytes + 1);
        for (let num = 0; num < 12; num++) {
          const cost = r.pageCost(num);
          if ('ops' in cost) expect(cost.ops).toBeLessThanOrEqual(budget.maxOperators);
        }
      }),
      params(RUNS),
    );
  }, 60_000);
});
