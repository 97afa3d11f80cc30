/**
 * The CSV record reader on malformed and unusual lines, in small files and in files of many reads (where a
 * record may straddle two reads): every record comes out with its own number, a malformed one or one with a
 * wrong number of fields with an error naming its line (reported and skipped by ingest), none dropped, run into
 * another or read with its columns shifted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CsvRecord, readExportRows, sniffExportFile } from '../../src/ingest/exports/read-export.js';
import { tempDir } from './helpers.js';

const HEADER = ['MessageTraceId', 'Received', 'SenderAddress', 'RecipientAddress', 'FromIP', 'Subject'];
const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
const line = (i: number, subject = `subject ${i}, with a comma`) =>
  [
    `a1000001-0000-4000-8000-${String(i).padStart(12, '0')}`,
    '7/20/2026 8:15:02 AM',
    'a@contoso.com',
    'b@contoso.com',
    '198.51.100.20',
    subject,
  ]
    .map(q)
    .join(',');

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

async function read(text: string): Promise<{ row: number; fields: readonly string[]; error?: string }[]> {
  const path = join(tmp.dir, 'x.csv');
  writeFileSync(path, `${HEADER.map(q).join(',')}\r\n${text}`);
  const s = await sniffExportFile(path);
  if (s.status !== 'ok') throw new Error(s.error);
  const out: { row: number; fields: readonly string[]; error?: string }[] = [];
  for await (const rows of readExportRows(path, s.info)) {
    if (!Array.isArray(rows)) throw new Error(rows.error);
    for (const r of rows as CsvRecord[]) {
      const e: { row: number; fields: readonly string[]; error?: string } = { row: r.row, fields: r.fields };
      if (r.error !== undefined) e.error = r.error;
      out.push(e);
    }
  }
  return out;
}

/** Rows 1..n well formed, with `bad` (raw text, no line end) in place of row `at`. */
function fileWith(n: number, at: number, bad: string): string {
  let t = '';
  for (let i = 1; i <= n; i++) t += `${i === at ? bad : line(i)}\r\n`;
  return t;
}

describe.each([
  ['a small file', 5, 3],
  ['a file of many reads, malformed line far in', 3000, 2600],
])('CSV reader, %s', (_name, n, at) => {
  const expectIntact = (rows: Awaited<ReturnType<typeof read>>, skip: number[] = []) => {
    for (let i = 1; i <= n; i++) {
      if (i === at || skip.includes(i)) continue;
      const r = rows.find((x) => x.row === i);
      expect(r?.fields).toEqual(
        line(i)
          .slice(1, -1)
          .split('","')
          .map((f) => f.replace(/""/g, '"')),
      );
      expect(r?.error).toBeUndefined();
    }
  };

  it('rejects a line holding one quoted field, naming its line', async () => {
    const rows = await read(fileWith(n, at, '"lonely"'));
    expect(rows).toHaveLength(n);
    expect(rows[at - 1]).toMatchObject({
      row: at,
      fields: ['lonely'],
      error: `wrong column count on line ${at + 1}: 1 field(s) where the header has 6`,
    });
    expectIntact(rows);
  });

  it('rejects a short or long record whole, and keeps the records around it', async () => {
    for (const [bad, count] of [
      ['"x",broken', 2],
      ['"x","y"', 2],
      [`${line(at)},"extra"`, 7],
    ] as const) {
      const rows = await read(fileWith(n, at, bad));
      expect(rows).toHaveLength(n);
      expect(rows[at - 1]!.error).toBe(
        `wrong column count on line ${at + 1}: ${count} field(s) where the header has 6`,
      );
      expectIntact(rows);
    }
  });

  it('rejects a record with an unclosed or stray quote instead of shifting its columns', async () => {
    // The issue's case: a Subject whose quote is never closed ran into the next fields (Subject lost, the next
    // column's value read as the Subject, the Size as the Status).
    const open = line(at).replace(/"subject [^"]*"$/, '"Invoice');
    for (const [bad, why] of [
      [`${open},"Delivered","1234"`, '"D" after a closing quote'],
      [line(at).replace('"subject', '"Invoice "urgent" subject'), '"u" after a closing quote'],
      [line(at).replace('"198.51.100.20"', '198"51.100.20'), 'a quote inside an unquoted field'],
      [line(at).replace('"198.51.100.20"', '"198.51.100.20" '), 'a space after a closing quote'],
    ] as const) {
      const rows = await read(fileWith(n, at, bad));
      expect(rows).toHaveLength(n);
      expect(rows[at - 1]).toEqual({ row: at, fields: [], error: `malformed CSV on line ${at + 1}: ${why}` });
      expectIntact(rows);
    }
  });

  it('reports malformed quotes on the line after a broken one', async () => {
    const rows = await read(fileWith(n, at, `"lonely"\r\n${line(at).replace('"198.51', '"1"98.51')}`));
    expect(rows).toHaveLength(n + 1);
    expect(rows[at]!.error).toMatch(/^malformed CSV/);
    expect(rows[at + 1]!.row).toBe(at + 2);
  });

  it('keeps a quoted value that runs over lines, and numbers the records after it', async () => {
    const rows = await read(fileWith(n, at, line(at, 'first line\r\nsecond "quoted" line\nthird')));
    expect(rows).toHaveLength(n);
    expect(rows[at - 1]!.fields[5]).toBe('first line\r\nsecond "quoted" line\nthird');
    expectIntact(rows);
  });

  it('skips blank and whitespace-only lines without numbering them', async () => {
    const rows = await read(fileWith(n, at, `${line(at)}\r\n\r\n   `));
    expect(rows).toHaveLength(n);
    expectIntact(rows, [at]);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  it('reads a last record without a line end, rejects a cut last line, and reads on past a stray quote', async () => {
    const text = fileWith(n, 0, '');
    expect(await read(text.slice(0, -2))).toHaveLength(n);
    const notClosed = (l: number) =>
      `malformed CSV on line ${l}: a quoted field is not closed at the end of the file (a cut export?)`;
    // Cut in its last line (with or without the line end): that record is rejected, the others read.
    for (const end of ['', '\r\n']) {
      const cut = await read(`${text}"x","never closed${end}`);
      expect(cut).toHaveLength(n + 1);
      expectIntact(cut);
      expect(cut[n]).toMatchObject({ row: n + 1, error: notClosed(n + 2) });
    }
    // A quote never closed that would take the lines after it: its own line is rejected, the records after it
    // are read (one that is no record is reported too), none lost.
    const stray = await read(`${text}"x","stray quote\r\n${line(n + 2)}\r\nplain,line,two\r\n${line(n + 4)}\r\n`);
    expect(stray.map((r) => r.row)).toEqual(Array.from({ length: n + 4 }, (_, i) => i + 1));
    // (its quote closes at the next line's first quote, and what follows that is no delimiter)
    expect(stray[n]!.error).toBe(`malformed CSV on line ${n + 2}: "a" after a closing quote`);
    expect(stray[n + 1]!.error).toBeUndefined();
    expect(stray[n + 1]!.fields[5]).toBe(`subject ${n + 2}, with a comma`);
    expect(stray[n + 2]!.error).toBe(`wrong column count on line ${n + 4}: 3 field(s) where the header has 6`);
    expect(stray[n + 3]!.fields[0]).toMatch(/^a1000001/);
    // Blank lines before it are not rows; a malformed line is.
    const after = await read(`${text}\r\n  \r\n"lonely"\r\n"x","never closed`);
    expect(after.map((r) => r.row)).toEqual(Array.from({ length: n + 2 }, (_, i) => i + 1));
    expect(after[n]!.error).toBe(`wrong column count on line ${n + 4}: 1 field(s) where the header has 6`);
    expect(after[n + 1]!.error).toBe(notClosed(n + 5));
  });
});

describe('CSV reader over many reads', () => {
  it('keeps values that run over lines, numbering rows and lines after them, and still catches a later odd line', async () => {
    const n = 4000;
    let t = '';
    for (let i = 1; i <= n; i++) {
      if (i === 5) t += `${line(i, 'runs\r\nover lines')}\r\n`;
      else if (i === 3900) t += '"lonely"\r\n';
      else if (i === 3950) t += `${line(i, 'again\nover lines')}\r\n`;
      else t += `${line(i)}\r\n`;
    }
    const rows = await read(t);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(rows[4]!.fields[5]).toBe('runs\r\nover lines');
    // Two earlier records ran over two lines each: the header is line 1, so row 3900 starts on line 3903.
    expect(rows[3899]).toMatchObject({
      fields: ['lonely'],
      error: expect.stringMatching(/^wrong column count on line 3902:/),
    });
    expect(rows[3949]!.fields[5]).toBe('again\nover lines');
    expect(rows.filter((r) => r.error !== undefined)).toHaveLength(1);
    expect(rows[2000]!.fields).toEqual(line(2001).slice(1, -1).split('","'));
  });
});

describe('CSV reader batches', () => {
  it('end at a byte budget as well as a row count, so long rows keep memory bounded', async () => {
    const path = join(tmp.dir, 'long.csv');
    const rows = 400;
    let text = `${HEADER.map(q).join(',')}\r\n`;
    for (let i = 1; i <= rows; i++) text += `${line(i, `${'x'.repeat(10_000)} ${i}`)}\r\n`;
    writeFileSync(path, text);
    const s = await sniffExportFile(path);
    if (s.status !== 'ok') throw new Error(s.error);
    const sizes: number[] = [];
    const limits = { maxJsonBytes: 1 << 20, maxRecordBytes: 1 << 24, batchRows: 2_000, batchBytes: 256 * 1024 };
    let seen = 0;
    for await (const batch of readExportRows(path, s.info, { limits })) {
      if (!Array.isArray(batch)) throw new Error(batch.error);
      sizes.push(batch.length);
      for (const r of batch) expect(r.row).toBe(++seen);
    }
    expect(seen).toBe(rows);
    // 4 MB of rows in batches of about 256 KiB (one read of 32 KiB past the budget at most), not one batch.
    expect(sizes.length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(30);
  });
});

describe('CSV reader, UTF-16 (historical search reports)', () => {
  it('rejects a malformed record with its line as in UTF-8, and keeps the others', async () => {
    const header = ['origin_timestamp_utc', 'sender_address', 'Recipient_status', 'message_subject', 'total_bytes'];
    const rec = (i: number, subject: string) =>
      [
        `"2026-07-2${i}T03:20:00.0000000Z"`,
        '"a@contoso.com"',
        '"b@contoso.com##Receive, Deliver"',
        subject,
        `"9${i}"`,
      ].join(',');
    const text = `${header.map(q).join(',')}\r\n${rec(1, '"ok"')}\r\n${rec(2, '"Voicemail')}\r\n${rec(3, '"ok, too"')}\r\n${rec(4, '"short"').replace(/,"94"$/, '')}\r\n`;
    const path = join(tmp.dir, 'historical.csv');
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const s = await sniffExportFile(path);
    if (s.status !== 'ok') throw new Error(s.error);
    expect(s.info.encoding).toBe('utf-16le');
    const rows: { row: number; error?: string; subject?: string }[] = [];
    for await (const batch of readExportRows(path, s.info)) {
      for (const r of batch as CsvRecord[]) {
        rows.push(r.error === undefined ? { row: r.row, subject: r.fields[3]! } : { row: r.row, error: r.error });
      }
    }
    expect(rows).toEqual([
      { row: 1, subject: 'ok' },
      { row: 2, error: 'malformed CSV on line 3: "9" after a closing quote' },
      { row: 3, subject: 'ok, too' },
      { row: 4, error: 'wrong column count on line 5: 4 field(s) where the header has 5' },
    ]);
  });
});
