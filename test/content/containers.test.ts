/**
 * The container checks in isolation: PNG data against its header (exact byte counts, interlaced too), the
 * compound-file check on a real .msg and on each broken link, the ZIP listing past unsafe names.
 */
import { describe, expect, it } from 'vitest';
import { checkCompoundFile } from '../../src/content/cfb-check.js';
import { checkImageData, jpegScans, pngRawBytes } from '../../src/content/image-check.js';
import { readImageHeader } from '../../src/content/image-header.js';
import { listZip } from '../../src/content/zip-listing.js';
import { buildMsg, msgVariants, pngWithIdat, traversalZip } from './hostile-fixtures.js';
import { qrJpeg, qrPng } from './make-fixtures.js';

const HEADERS = 'From: joe@contoso.com\r\nTo: joe@contoso.com\r\nSubject: fax\r\n\r\n';

describe('PNG data against its header', () => {
  it('knows how many bytes a PNG must inflate to', () => {
    expect(pngRawBytes(1, 1, 24, false)).toBe(4);
    expect(pngRawBytes(100, 100, 24, false)).toBe(30_100);
    // Adam7 on 8x8 grey: passes of 1x1, 1x1, 2x1, 2x2, 4x2, 4x4, 8x4 pixels, a filter byte a row.
    expect(pngRawBytes(8, 8, 8, true)).toBe(2 + 2 + 3 + 6 + 10 + 20 + 36);
    expect(pngRawBytes(1, 1, 8, true)).toBe(2);
  });

  it('passes real images and data as long as the header allows (and 1 KiB of padding), stops one byte more', async () => {
    const real = await qrPng('https://x.example/');
    expect(checkImageData(real, readImageHeader(real)!)).toBeNull();
    const exact = pngWithIdat(100, 100, 30_100);
    expect(checkImageData(exact, readImageHeader(exact)!)).toBeNull();
    const padded = pngWithIdat(100, 100, 30_100 + 1024);
    expect(checkImageData(padded, readImageHeader(padded)!)).toBeNull();
    const over = pngWithIdat(100, 100, 30_100 + 1025);
    expect(checkImageData(over, readImageHeader(over)!)).toEqual({
      kind: 'bomb',
      what: 'PNG data inflates past the 30100 bytes its 100x100 header allows: not decoded',
    });
  });
});

describe('compound file check', () => {
  it('accepts a real .msg and names the broken link of each crafted one', () => {
    const good = checkCompoundFile(
      buildMsg(HEADERS, { name: 'a.pdf', mime: 'application/pdf', data: Buffer.alloc(9000, 1) }),
    );
    expect(good).toMatchObject({ status: 'ok', stats: { sectorSize: 512 } });
    const results = Object.fromEntries(
      Object.entries(msgVariants(HEADERS)).map(([name, bytes]) => [name, checkCompoundFile(bytes)]),
    );
    expect(results['cyclic-directory.msg']).toEqual({ status: 'error', error: 'directory links loop at entry 1' });
    expect(results['cyclic-minifat.msg']).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/\(mini stream\): chain loops or shares sector \d+$/),
    });
    expect(results['cyclic-ministream.msg']).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/^mini stream: chain loops or shares sector \d+$/),
    });
    expect(results['stream-2g.msg']).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/declares 2147483632 bytes, more than the whole \d+-byte file$/),
    });
  });

  it('refuses what is not a compound file, or is cut short', () => {
    expect(checkCompoundFile(Buffer.alloc(100))).toMatchObject({ status: 'error' });
    const good = buildMsg(HEADERS);
    expect(checkCompoundFile(good.subarray(0, 1024))).toMatchObject({ status: 'error' });
  });
});

describe('ZIP listing', () => {
  it('lists past absolute and .. names and marks them', async () => {
    const facts = await listZip(traversalZip(), { maxEntries: 100, maxRatio: 100, maxTotal: 1 << 30 });
    expect(facts.error).toBeNull();
    expect(facts.entries.map((e) => [e.name, e.unsafePath ?? false])).toEqual([
      ['../readme.txt', true],
      ['/etc/cron.d/job', true],
      ['Invoice.pdf.exe', false],
    ]);
    expect(facts.unsafeEntries).toBe(2);
  });
});

describe('JPEG scan budget', () => {
  it('counts the scans of a real JPEG and refuses one that declares thousands', () => {
    const real = qrJpeg('https://x.example/');
    expect(jpegScans(real)).toBe(1);
    expect(checkImageData(real, readImageHeader(real)!)).toBeNull();
    // The same frame header, then 5,000 empty scans: tiny, and each scan would revisit every pixel.
    const sos = Buffer.from([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
    const eoi = real.subarray(real.length - 2);
    const head = real.subarray(0, real.indexOf(Buffer.from([0xff, 0xda])));
    const storm = Buffer.concat([head, ...Array.from({ length: 5_000 }, () => sos), eoi]);
    expect(jpegScans(storm)).toBe(5_000);
    expect(checkImageData(storm, readImageHeader(storm)!)).toMatchObject({ kind: 'budget' });
  });
});
