/**
 * ZIP archives: list the central directory with yauzl from a buffer. Nothing is extracted (not to disk, not to
 * memory): names, declared sizes, compression ratios and the encryption flag are all an analyst needs to see
 * a password-protected archive, a risky inner file or a decompression bomb. Bounded entry count. Names are
 * decoded here, not by yauzl: yauzl stops the listing at the first absolute or `..` name, which hid every entry
 * after it (`../readme.txt` before `Invoice.pdf.exe`); here such a name is marked unsafe and the listing goes on.
 * @module
 */
import yauzl from 'yauzl';
import type { ArchiveEntryFact, ArchiveFacts } from '../core/content-facts.js';
import { boundValue } from '../core/finding.js';

export interface ZipListOptions {
  maxEntries: number;
  maxRatio: number;
  maxTotal: number;
}

/** The entries kept in the facts (the count and the totals cover every listed entry). */
const KEPT_ENTRIES = 200;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

export function listZip(bytes: Uint8Array, opts: ZipListOptions): Promise<ArchiveFacts> {
  const facts: ArchiveFacts = {
    format: 'zip',
    entryCount: 0,
    entries: [],
    encryptedEntries: 0,
    totalUncompressed: 0,
    maxRatio: 0,
    bomb: null,
    truncated: false,
    error: null,
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new Promise((resolve) => {
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      if (error) {
        facts.error = boundValue(error, 300);
        if (facts.entries.length > 0) facts.truncated = true;
      }
      if (!facts.bomb && facts.totalUncompressed > opts.maxTotal) {
        facts.bomb = `declares ${facts.totalUncompressed} bytes uncompressed (limit ${opts.maxTotal})`;
      }
      resolve(facts);
    };
    yauzl.fromBuffer(
      buf,
      { lazyEntries: true, decodeStrings: false, strictFileNames: false, validateEntrySizes: false },
      (err, zip) => {
        if (err || !zip) {
          finish(`not a readable ZIP archive: ${err?.message ?? 'unknown error'}`);
          return;
        }
        facts.entryCount = zip.entryCount;
        let seen = 0;
        zip.on('entry', (entry: yauzl.Entry) => {
          seen++;
          const raw = entry.fileName as unknown as Buffer;
          const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
          const unsafe = yauzl.validateFileName(name.replace(/\\/g, '/'));
          const e: ArchiveEntryFact = {
            name: boundValue(name, 255),
            size: entry.uncompressedSize,
            compressedSize: entry.compressedSize,
            encrypted: entry.isEncrypted(),
          };
          if (unsafe) {
            e.unsafePath = true;
            facts.unsafeEntries = (facts.unsafeEntries ?? 0) + 1;
          }
          if (e.encrypted) facts.encryptedEntries++;
          facts.totalUncompressed += e.size;
          const ratio = e.compressedSize > 0 ? e.size / e.compressedSize : e.size > 0 ? Number.POSITIVE_INFINITY : 0;
          if (Number.isFinite(ratio)) facts.maxRatio = Math.max(facts.maxRatio, Math.round(ratio * 10) / 10);
          if (!facts.bomb && ratio > opts.maxRatio && e.size > 1024 * 1024) {
            facts.bomb = `entry ${e.name} expands ${Number.isFinite(ratio) ? Math.round(ratio) : 'infinitely'}x to ${e.size} bytes`;
          }
          if (facts.entries.length < KEPT_ENTRIES) facts.entries.push(e);
          if (seen >= opts.maxEntries) {
            facts.truncated = zip.entryCount > seen;
            zip.close();
            finish(null);
            return;
          }
          zip.readEntry();
        });
        zip.on('end', () => finish(null));
        zip.on('error', (e: Error) => finish(`ZIP listing stopped: ${e.message}`));
        zip.readEntry();
      },
    );
  }).then((f) => {
    const out = f as ArchiveFacts;
    if (out.entryCount > opts.maxEntries && !out.bomb) {
      out.bomb = `declares ${out.entryCount} entries (limit ${opts.maxEntries})`;
    }
    return out;
  });
}
