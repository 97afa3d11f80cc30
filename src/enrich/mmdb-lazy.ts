/**
 * The first lookups in an MMDB file (MaxMind DB format 2.0, https://maxmind.github.io/MaxMind-DB/) answered by
 * reading only the bytes each one needs: the search tree's nodes on the address's path (a few bytes a node),
 * from a data section read once at open. The bundled country database is 7.8 MB, almost all of it search tree;
 * reading it whole costs about 5 ms and a large allocation on every start-up that analyses one message, for
 * one lookup. After {@link LAZY_MMDB_LOOKUPS} lookups the caller loads the file whole into the full reader
 * (mmdb-lib), which is faster per lookup: this reader exists for start-up, and gives the same answers
 * (test/origin/mmdb-lazy.test.ts compares them on the bundled file).
 *
 * Only the data types a record can hold are decoded (map, array, UTF-8 string, unsigned and signed integers,
 * double, float, boolean, bytes; pointers). Anything unexpected — a damaged file, a type this decoder does not
 * know — makes {@link LazyMmdb.open} return `null` or a lookup throw, and the caller falls back to the full
 * reader, which reports a damaged file.
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CANONICAL_IPV4 } from '../core/net-address.js';
import ipaddr from '../vendor/ipaddr.js';

/** Lookups served by reading in place before the caller should load the database whole. */
export const LAZY_MMDB_LOOKUPS = 64;

/** The metadata section starts after this marker, within the file's last 128 KiB (the format's limit). */
const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
const METADATA_MAX = 128 * 1024;
/** A data section larger than this is not held in memory by the lazy reader (the bundled one is 1.7 KB). */
const DATA_MAX = 1 << 20;
/** Nesting deeper than this is not a record (the format's records are a few levels deep). */
const MAX_DEPTH = 32;

type Value = string | number | bigint | boolean | Buffer | Value[] | { [key: string]: Value };

/** Decodes values of a data section held in `buf`, whose offset 0 is the section's start. */
class Decoder {
  constructor(private readonly buf: Buffer) {}

  private byte(at: number): number {
    const b = this.buf[at];
    if (b === undefined) throw new Error('MMDB: read past the data section');
    return b;
  }

  private uint(at: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.byte(at + i);
    return v;
  }

  /** The value at `at` and the offset just after it (after the pointer, for a pointer). */
  decode(at: number, depth = 0): [Value, number] {
    if (depth > MAX_DEPTH) throw new Error('MMDB: nesting too deep');
    const ctrl = this.byte(at);
    let pos = at + 1;
    let type = ctrl >> 5;
    if (type === 1) {
      // Pointer: its target is decoded in its place (a pointer never points at a pointer).
      const ss = (ctrl >> 3) & 3;
      const vvv = ctrl & 7;
      const bases = [0, 2048, 526336, 0];
      const target = ss === 3 ? this.uint(pos, 4) : vvv * 256 ** (ss + 1) + this.uint(pos, ss + 1) + (bases[ss] ?? 0);
      const [value] = this.decode(target, depth + 1);
      return [value, pos + ss + 1];
    }
    if (type === 0) {
      type = 7 + this.byte(pos);
      pos += 1;
    }
    let size = ctrl & 0x1f;
    if (size >= 29) {
      const n = size - 28;
      size = [0, 29, 285, 65821][n]! + this.uint(pos, n);
      pos += n;
    }
    switch (type) {
      case 2:
        return [this.slice(pos, size).toString('utf8'), pos + size];
      case 3:
        return [this.slice(pos, 8).readDoubleBE(0), pos + 8];
      case 4:
        return [Buffer.from(this.slice(pos, size)), pos + size];
      case 5:
      case 6:
        return [this.uint(pos, size), pos + size];
      case 8:
        return [size === 0 ? 0 : this.slice(pos, size).readIntBE(0, size), pos + size];
      case 9:
      case 10: {
        let v = 0n;
        for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(this.byte(pos + i));
        return [v, pos + size];
      }
      case 7: {
        const map: { [key: string]: Value } = Object.create(null);
        for (let i = 0; i < size; i++) {
          const [key, afterKey] = this.decode(pos, depth + 1);
          if (typeof key !== 'string') throw new Error('MMDB: a map key is not a string');
          const [value, afterValue] = this.decode(afterKey, depth + 1);
          map[key] = value;
          pos = afterValue;
        }
        return [map, pos];
      }
      case 11: {
        const list: Value[] = [];
        for (let i = 0; i < size; i++) {
          const [value, after] = this.decode(pos, depth + 1);
          list.push(value);
          pos = after;
        }
        return [list, pos];
      }
      case 14:
        return [size !== 0, pos];
      case 15:
        return [this.slice(pos, 4).readFloatBE(0), pos + 4];
      default:
        throw new Error(`MMDB: data type ${type} is not a record's`);
    }
  }

  private slice(at: number, size: number): Buffer {
    if (at + size > this.buf.length) throw new Error('MMDB: read past the data section');
    return this.buf.subarray(at, at + size);
  }
}

interface Layout {
  nodeCount: number;
  recordSize: 24 | 28 | 32;
  ipVersion: 4 | 6;
  /** Bytes of the search tree: the data section starts 16 bytes after it. */
  treeSize: number;
}

/** An MMDB file's lookups by positional reads; see the module comment. */
export class LazyMmdb {
  private readonly node: Buffer;
  private ipv4Start: number | null = null;
  private fd: number | null = null;

  private constructor(
    private readonly file: string,
    private readonly layout: Layout,
    private readonly data: Decoder,
  ) {
    this.node = Buffer.alloc(layout.recordSize / 4);
  }

  /** The reader, or `null` when the file is not an MMDB this reader can serve (the caller loads it whole). */
  static open(file: string): LazyMmdb | null {
    let fd: number | null = null;
    try {
      fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      const tailSize = Math.min(size, METADATA_MAX);
      const tail = Buffer.alloc(tailSize);
      if (readSync(fd, tail, 0, tailSize, size - tailSize) !== tailSize) return null;
      const marker = tail.lastIndexOf(METADATA_MARKER);
      if (marker < 0) return null;
      const metaStart = marker + METADATA_MARKER.length;
      const [meta] = new Decoder(tail.subarray(metaStart)).decode(0);
      const layout = layoutOf(meta);
      if (layout === null) return null;
      const dataStart = layout.treeSize + 16;
      const dataEnd = size - tailSize + marker;
      if (dataEnd < dataStart || dataEnd - dataStart > DATA_MAX) return null;
      const data = Buffer.alloc(dataEnd - dataStart);
      if (readSync(fd, data, 0, data.length, dataStart) !== data.length) return null;
      return new LazyMmdb(file, layout, new Decoder(data));
    } catch {
      return null;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** The record of the network holding `ip` (a plain object), `null` when none; throws on a damaged file. */
  get(ip: string): unknown {
    // Only the forms every reader reads alike: dotted quads without leading zeros (ipaddr.js would read
    // `010` as octal) and IPv6. Anything else throws, and the caller asks the full reader.
    if (!CANONICAL_IPV4.test(ip) && !(ip.includes(':') && ipaddr.IPv6.isValid(ip)))
      throw new Error('MMDB: not an address');
    const bytes = ipaddr.parse(ip).toByteArray();
    this.fd = openSync(this.file, 'r');
    try {
      let node = 0;
      if (bytes.length === 4 && this.layout.ipVersion === 6) node = this.findIpv4Start();
      const { nodeCount } = this.layout;
      for (let depth = 0; depth < bytes.length * 8 && node < nodeCount; depth++) {
        const bit = ((bytes[depth >> 3] ?? 0) >> (7 - (depth & 7))) & 1;
        node = this.record(node, bit);
      }
      if (node <= nodeCount) return null;
      // A record's value: its offset in the data section is the record less the node count, less 16.
      return this.data.decode(node - nodeCount - 16)[0];
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /** IPv4 addresses sit 96 zero bits down an IPv6 tree (as the reference readers walk it). */
  private findIpv4Start(): number {
    if (this.ipv4Start !== null) return this.ipv4Start;
    let node = 0;
    for (let i = 0; i < 96 && node < this.layout.nodeCount; i++) node = this.record(node, 0);
    this.ipv4Start = node;
    return node;
  }

  /** The left (0) or right (1) record of a node, read from the file. */
  private record(node: number, side: number): number {
    const n = this.node;
    if (this.fd === null || readSync(this.fd, n, 0, n.length, node * n.length) !== n.length) {
      throw new Error('MMDB: short read in the search tree');
    }
    switch (this.layout.recordSize) {
      case 24:
        return side ? n.readUIntBE(3, 3) : n.readUIntBE(0, 3);
      case 28:
        return side
          ? ((n[3] ?? 0) & 0x0f) * 2 ** 24 + n.readUIntBE(4, 3)
          : ((n[3] ?? 0) >> 4) * 2 ** 24 + n.readUIntBE(0, 3);
      default:
        return side ? n.readUInt32BE(4) : n.readUInt32BE(0);
    }
  }
}

function layoutOf(meta: Value): Layout | null {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || Buffer.isBuffer(meta)) return null;
  const { node_count: nodeCount, record_size: recordSize, ip_version: ipVersion } = meta;
  if (typeof nodeCount !== 'number' || (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)) return null;
  if (ipVersion !== 4 && ipVersion !== 6) return null;
  return { nodeCount, recordSize, ipVersion, treeSize: (nodeCount * recordSize) / 4 };
}
