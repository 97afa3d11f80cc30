/**
 * Property tests for every parser front door that reads attacker-controlled text: no exception escapes, and the
 * work stays near-linear in the input (see harness.ts). Deterministic in CI (fixed seed, fixed runs); `npm run
 * fuzz -- --minutes N` runs the same properties longer with new seeds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import { parseAuthResults } from '../../src/core/headers/auth-results.js';
import { parseAntispamFields } from '../../src/core/headers/forefront.js';
import { parseHeaderBlock } from '../../src/core/headers/header-block.js';
import { parseReceived } from '../../src/core/headers/received.js';
import { parseReceivedSpf } from '../../src/core/headers/received-spf.js';
import { parseDmarc } from '../../src/core/posture/dmarc.js';
import { parseSpf } from '../../src/core/posture/spf.js';
import { CsvRecordScanner, CsvRecordTooLong, type CsvScanRecord } from '../../src/ingest/exports/csv-records.js';
import { parseAuthenticationDetails } from '../../src/ingest/exports/email-events.js';
import { recipientsOfStatus } from '../../src/ingest/exports/historical-search.js';
import { readExportRows, sniffExportFile } from '../../src/ingest/exports/read-export.js';
import { parseCustomData, parseMepData, parseSfa } from '../../src/ingest/exports/trace-detail.js';
import { connectorLabel } from '../../src/report/connector-plan.js';
import { readerLimits } from '../../src/sources/limits.js';
import { evidenceFromRfc822 } from '../../src/sources/rfc822.js';
import { sniffKind } from '../../src/sources/sniff.js';
import {
  FUZZ_RUNS,
  GROWTH_RUNS,
  MAX_SUPERLINEARITY,
  mutant,
  noThrow,
  type Pump,
  params,
  pump,
  seedBytes,
  seedTexts,
  superlinearity,
} from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsguard-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A scanner over the first line's column count, fed in pieces of `piece` characters. */
function scanCsv(text: string, piece = 997, maxRecordChars = 1 << 20): CsvScanRecord[] | 'too long' {
  // The column count is the first record's (as the header's is for an export).
  let columns = 1;
  const first = new CsvRecordScanner({ delimiter: ',', columns: 1, maxRecordChars, firstLine: 1 });
  try {
    first.push(text.slice(0, 4096), (r) => {
      if (columns === 1) columns = Math.max(1, r.fields.length);
    });
  } catch {
    // a first record over the limit: the scan below says so
  }
  const sc = new CsvRecordScanner({ delimiter: ',', columns, maxRecordChars, firstLine: 2 });
  const out: CsvScanRecord[] = [];
  const emit = (r: CsvScanRecord) => out.push(r);
  try {
    for (let i = 0; i < text.length; i += piece) sc.push(text.slice(i, i + piece), emit);
    sc.end(emit);
  } catch (error) {
    if (error instanceof CsvRecordTooLong) return 'too long';
    throw error;
  }
  return out;
}

const CSV_SEEDS = [
  ...seedTexts('csv-utf8', 'utf8'),
  ...seedBytes('csv-utf16').map((b) => b.subarray(2).toString('utf16le')),
].map((t) => t.replace(/^\ufeff/, ''));

interface FrontDoor {
  name: string;
  seeds: string[];
  run: (input: string) => unknown;
  /** Pumps known to make naive parsers of this kind quadratic, checked besides the drawn ones. */
  pumps?: Pump[];
}

const SYNC: FrontDoor[] = [
  {
    name: 'header block',
    seeds: seedTexts('header-block'),
    run: (s) => parseHeaderBlock(s),
    pumps: [
      { seed: 'Subject: x\r\n\r\n', at: 12, piece: ' folded\r\n' },
      { seed: 'Subject: x\r\n\r\n', at: 12, piece: '\x01\x02\x1b junk\r\n' },
      { seed: 'Subject: x\r\n\r\n', at: 12, piece: 'X-A: 1\r\n' },
    ],
  },
  {
    name: 'Received',
    seeds: seedTexts('received'),
    run: (s) => parseReceived(s, { date: true }),
    pumps: [
      { seed: 'from a (b [1.2.3.4]) by c with ESMTPS; Thu, 26 Nov 2026 08:14:09 +0000', at: 7, piece: '(' },
      { seed: 'from a (b [1.2.3.4]) by c with ESMTPS; Thu, 26 Nov 2026 08:14:09 +0000', at: 9, piece: '[' },
      { seed: 'from a by c; Thu, 26 Nov 2026 08:14:09 +0000', at: 12, piece: ' by x' },
    ],
  },
  {
    name: 'Authentication-Results',
    seeds: seedTexts('auth-results'),
    run: (s) => [parseAuthResults(s), parseAuthResults(s, true)],
  },
  {
    name: 'antispam reports (X-Forefront-Antispam-Report, X-Microsoft-Antispam…)',
    seeds: seedTexts('antispam'),
    run: (s) => parseAntispamFields(s),
  },
  { name: 'Received-SPF', seeds: seedTexts('received-spf'), run: (s) => parseReceivedSpf(s) },
  { name: 'SPF record', seeds: seedTexts('spf'), run: (s) => parseSpf(s) },
  {
    name: 'DMARC record',
    seeds: seedTexts('dmarc'),
    run: (s) => parseDmarc(s),
    pumps: [{ seed: 'v=DMARC1; p=reject', at: 9, piece: '; rua=mailto:a@b' }],
  },
  {
    name: 'CSV records',
    seeds: CSV_SEEDS,
    run: (s) => scanCsv(s),
    // Quotes that open on every line, an unclosed quote before many lines, quote parities that differ by line.
    pumps: [
      { seed: 'a,b\n', at: 4, piece: '"x\n' },
      { seed: 'a,b\n', at: 4, piece: '""\n' },
      { seed: 'a,b\n', at: 4, piece: '"""x,\n' },
      { seed: 'a,b\n"', at: 5, piece: 'x,y\n' },
      { seed: 'a,b\n', at: 4, piece: 'a"b\n' },
      { seed: 'a,b\n"', at: 5, piece: '""' },
    ],
  },
  {
    name: 'trace detail XML (MEP data)',
    seeds: seedTexts('trace-detail-xml', 'utf8'),
    run: (s) => parseMepData(s),
    pumps: [
      { seed: '<root></root>', at: 6, piece: '<MEP Name="a" String="b" />' },
      { seed: '<root></root>', at: 6, piece: '<MEP Name="' },
      { seed: '<root></root>', at: 6, piece: '&amp;' },
    ],
  },
  {
    name: 'trace detail custom data and SFA',
    seeds: seedTexts('trace-detail-custom', 'utf8'),
    run: (s) => [parseCustomData(s), parseSfa(s)],
  },
  {
    name: 'EmailEvents AuthenticationDetails',
    seeds: seedTexts('auth-details', 'utf8'),
    run: (s) => parseAuthenticationDetails(s),
  },
  {
    name: 'message sniffing (message, mbox, header text or not mail)',
    seeds: [...seedTexts('header-block'), ...seedTexts('mime')],
    run: (s) => sniffKind(Buffer.from(s, 'latin1')),
  },
  {
    name: 'historical search Recipient_status',
    seeds: ['a@contoso.com##Receive, Deliver', 'a@contoso.com##Receive, Deliver;b@contoso.com##Receive, Fail'],
    run: (s) => recipientsOfStatus(s),
  },
  {
    name: 'profile YAML',
    seeds: seedTexts('profile-yaml', 'utf8'),
    run: (s) => parseProfile(s, 'fuzz.yml'),
    // Nesting on one line, and open brackets (the parser recursed once per level).
    pumps: [
      { seed: 'tenant:\n  name: Contoso\ndirectSendSources:\n  - name: MFP\n', at: 47, piece: '  - ' },
      { seed: 'tenant:\n  name: Contoso\nx: 1\n', at: 27, piece: '[' },
    ],
  },
  {
    name: 'connector label',
    seeds: seedTexts('connector-label', 'utf8'),
    run: (s) => connectorLabel(s),
    // A long run of ". " before the end (the trim expression once tried every start of it).
    pumps: [{ seed: 'MFP x', at: 4, piece: '. ' }],
  },
];

describe.each(SYNC)('$name', ({ seeds, run, pumps }) => {
  it('lets no exception escape', () => {
    expect(seeds.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(mutant(seeds), (s) => {
        noThrow(() => run(s), s);
      }),
      params(),
    );
  });

  it('does near-linear work in its input', async () => {
    for (const p of pumps ?? []) {
      const g = await superlinearity(run, p);
      expect(g.factor, `piece ${JSON.stringify(p.piece)} at ${p.at}`).toBeLessThan(MAX_SUPERLINEARITY);
    }
    await fc.assert(
      fc.asyncProperty(pump(seeds), async (p) => {
        const g = await superlinearity(run, p);
        expect(g.factor, `piece ${JSON.stringify(p.piece)} at ${p.at}`).toBeLessThan(MAX_SUPERLINEARITY);
      }),
      params(GROWTH_RUNS),
    );
  });
});

describe('CSV record scanner', () => {
  it('gives the same records whatever the pieces the text comes in', () => {
    fc.assert(
      fc.property(mutant(CSV_SEEDS), fc.integer({ min: 1, max: 64 }), (s, piece) => {
        expect(scanCsv(s, piece)).toEqual(scanCsv(s, s.length + 1));
      }),
      params(FUZZ_RUNS / 2),
    );
  });

  it('stops at a record over the limit alike whatever the pieces (a malformed line is dropped as it comes)', () => {
    fc.assert(
      fc.property(
        mutant(CSV_SEEDS),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 8, max: 200 }),
        (s, piece, max) => {
          expect(scanCsv(s, piece, max)).toEqual(scanCsv(s, s.length + 1, max));
        },
      ),
      params(FUZZ_RUNS / 2),
    );
  });

  it('reads every real export of the seeds without an error', () => {
    for (const s of CSV_SEEDS) {
      const records = scanCsv(s.replace(/^#TYPE[^\n]*\n/, ''));
      expect(records).not.toBe('too long');
      for (const r of records as CsvScanRecord[]) expect(r.error, `line ${r.line}`).toBeUndefined();
    }
  });
});

describe('export files (sniff + read, UTF-8 and UTF-16, CSV and JSON)', () => {
  const files: { name: string; bytes: Buffer }[] = [
    ...seedBytes('csv-utf8').map((b, i) => ({ name: `u8-${i}.csv`, bytes: b })),
    ...seedBytes('csv-utf16').map((b, i) => ({ name: `u16-${i}.csv`, bytes: b })),
    ...seedBytes('json-export').map((b, i) => ({ name: `j-${i}.json`, bytes: b })),
  ];
  const asText = (b: Buffer) =>
    b[0] === 0xff && b[1] === 0xfe ? b.subarray(2).toString('utf16le') : b.toString('utf8');
  const asBytes = (original: Buffer, text: string) =>
    original[0] === 0xff && original[1] === 0xfe
      ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
      : Buffer.from(text, 'utf8');

  it('read every row or end the file with a one-line input failure, never an exception', async () => {
    let k = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: files.length - 1 }).chain((i) => fc.tuple(fc.constant(i), mutant([asText(files[i]!.bytes)]))),
        async ([i, text]) => {
          const path = join(tmp, `${k++}-${files[i]!.name}`);
          writeFileSync(path, asBytes(files[i]!.bytes, text));
          const s = await sniffExportFile(path);
          if (s.status !== 'ok') return;
          let last = 0;
          let stopped = false;
          for await (const batch of readExportRows(path, s.info)) {
            // A failure is the last item: nothing comes after it.
            expect(stopped).toBe(false);
            if (!Array.isArray(batch)) {
              stopped = true;
              expect(batch.kind).toBe('input');
              expect(batch.error).not.toContain('\n');
              continue;
            }
            for (const r of batch) {
              // Rows are numbered one by one: none lost, none twice.
              expect(r.row).toBe(++last);
            }
          }
        },
      ),
      params(FUZZ_RUNS / 4),
    );
  });
});

describe('MIME walk (rfc822: header block, evidence, postal-mime)', () => {
  const seeds = seedTexts('mime');
  const limits = readerLimits();
  const parse = (s: string) =>
    evidenceFromRfc822(Buffer.from(s, 'latin1'), { input: 'fuzz.eml', sourceKind: 'eml', headersOnly: false, limits });

  it('lets no exception escape: a result or a one-line error', async () => {
    await fc.assert(
      fc.asyncProperty(mutant(seeds), async (s) => {
        let r: Awaited<ReturnType<typeof parse>>;
        try {
          r = await parse(s);
        } catch (error) {
          throw new Error(`exception escaped on ${JSON.stringify(s.slice(0, 200))}: ${(error as Error).stack}`);
        }
        if (r.status === 'error') expect(r.error).not.toContain('\n');
      }),
      params(FUZZ_RUNS / 4),
    );
  });

  it('does near-linear work in its input', async () => {
    await fc.assert(
      fc.asyncProperty(pump(seeds), async (p) => {
        const g = await superlinearity(parse, p);
        expect(g.factor, `piece ${JSON.stringify(p.piece)} at ${p.at}`).toBeLessThan(MAX_SUPERLINEARITY);
      }),
      params(GROWTH_RUNS),
    );
  });
});
