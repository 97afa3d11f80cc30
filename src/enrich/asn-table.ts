/**
 * IP → autonomous system from the `@ip-location-db/asn` package (RouteViews, the five RIRs and DB-IP ASN
 * Lite, CC BY 4.0), loaded once per process into sorted typed arrays and searched by bisection. No ASN MMDB
 * with an open licence is published on npm any more, so the package's CSV is read directly: it is our own
 * pinned, machine-written data with a fixed shape (`start,end,asn,org`, org quoted only when it has a comma),
 * and a dedicated reader loads its 412,000 IPv4 rows in about a quarter of the time csv-parse needs (0.24 s
 * against 1.2 s, measured). Rows that do not have that shape are rejected with the line number. The files are
 * read in 1 MiB pieces into typed columns (IPv6 as two 64-bit halves), so the table costs its columns, not its
 * 21 MB of text (the whole-file read lifted ingest's peak RSS by about 120 MB).
 * @module
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from '../vendor/ipaddr.js';

export interface AsnRecord {
  asn: number;
  org: string;
}

export interface AsnTable {
  lookup(ip: string): AsnRecord | null;
  readonly rows: number;
}

export const ASN_DATA_SOURCE = '@ip-location-db/asn (RouteViews, RIRs, DB-IP ASN Lite; CC BY 4.0)';

/** Read size: the files are read in pieces (never whole), so loading costs the tables, not the text. */
const READ_CHUNK = 1 << 20;

function unquote(field: string): string {
  return field.startsWith('"') && field.endsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;
}

/** Growable parallel columns of one table. */
interface Columns {
  rows: number;
  asns: Uint32Array;
  orgIndex: Uint32Array;
  orgs: string[];
  /** The compact form's names: decoded on lookup, not at load (no 100,000 strings made at start-up). */
  names?: { blob: Buffer; starts: Uint32Array };
}

function orgName(t: Columns, id: number): string {
  if (!t.names) return t.orgs[id] ?? '';
  const { blob, starts } = t.names;
  const a = starts[id];
  return a === undefined ? '' : blob.toString('utf8', a, (starts[id + 1] ?? blob.length + 1) - 1);
}

/** A line's fields as byte ranges of the read buffer (valid only during the callback). */
interface RawLine {
  line: number;
  buf: Buffer;
  start: [number, number];
  end: [number, number];
  asn: number;
  orgId: number;
}

/** Decimal digits of `buf[a, b)` as a number (`NaN` when empty, not all digits, or beyond 2^53). */
function decimal(buf: Buffer, a: number, b: number): number {
  if (b <= a || b - a > 15) return Number.NaN;
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = (buf[i] ?? 0) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Read `start,end,asn,org` lines in 1 MiB pieces and hand each to `row` as byte ranges: only the org name
 * becomes a string, and each distinct one is kept once (interned), so loading makes little garbage.
 */
function readRows(file: string, chunkBytes: number, row: (r: RawLine) => void): string[] {
  const orgs: string[] = [];
  const orgIds = new Map<string, number>();
  let buf = Buffer.alloc(chunkBytes);
  const fd = openSync(file, 'r');
  const r: RawLine = { line: 0, buf, start: [0, 0], end: [0, 0], asn: 0, orgId: 0 };
  let have = 0;
  const take = (a: number, b: number) => {
    r.line++;
    if (b > a && buf[b - 1] === 13) b--;
    if (b === a) return;
    const c1 = buf.indexOf(44, a);
    const c2 = c1 < 0 || c1 >= b ? -1 : buf.indexOf(44, c1 + 1);
    const c3 = c2 < 0 || c2 >= b ? -1 : buf.indexOf(44, c2 + 1);
    if (c3 < 0 || c3 >= b) throw new Error(`${file} line ${r.line}: expected start,end,asn,org`);
    const asn = decimal(buf, c2 + 1, c3);
    if (!(asn <= 0xffffffff)) throw new Error(`${file} line ${r.line}: malformed row`);
    const org = unquote(buf.toString('utf8', c3 + 1, b));
    let id = orgIds.get(org);
    if (id === undefined) {
      id = orgs.length;
      orgs.push(org);
      orgIds.set(org, id);
    }
    r.buf = buf;
    r.start[0] = a;
    r.start[1] = c1;
    r.end[0] = c1 + 1;
    r.end[1] = c2;
    r.asn = asn;
    r.orgId = id;
    row(r);
  };
  try {
    for (;;) {
      if (have === buf.length) {
        // One line longer than the buffer: grow it (the files' lines are short; this is for a corrupt file).
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = readSync(fd, buf, have, buf.length - have, null);
      const end = have + n;
      let pos = 0;
      for (let nl = buf.indexOf(10, pos); nl >= 0 && nl < end; nl = buf.indexOf(10, pos)) {
        take(pos, nl);
        pos = nl + 1;
      }
      if (n === 0) {
        if (pos < end) take(pos, end);
        break;
      }
      buf.copy(buf, 0, pos, end);
      have = end - pos;
    }
  } finally {
    closeSync(fd);
  }
  return orgs;
}

/** Double every typed column of a table (they all have the same length) when row `i` does not fit. */
function fitRow(t: Columns, i: number): void {
  if (i < t.asns.length) return;
  const cols = t as unknown as Record<string, unknown>;
  for (const [key, col] of Object.entries(cols)) {
    if (col instanceof Uint32Array) {
      const bigger = new Uint32Array(col.length * 2);
      bigger.set(col);
      cols[key] = bigger;
    } else if (col instanceof BigUint64Array) {
      const bigger = new BigUint64Array(col.length * 2);
      bigger.set(col);
      cols[key] = bigger;
    }
  }
}

interface V4Table extends Columns {
  starts: Uint32Array;
  ends: Uint32Array;
}

/** IPv4 rows (`start` and `end` as integers), sorted by start as the package writes them. */
export function readAsnV4(file: string, chunkBytes = READ_CHUNK): V4Table {
  const t: V4Table = {
    rows: 0,
    starts: new Uint32Array(1 << 16),
    ends: new Uint32Array(1 << 16),
    asns: new Uint32Array(1 << 16),
    orgIndex: new Uint32Array(1 << 16),
    orgs: [],
  };
  t.orgs = readRows(file, chunkBytes, ({ line, buf, start, end, asn, orgId }) => {
    const a = decimal(buf, start[0], start[1]);
    const b = decimal(buf, end[0], end[1]);
    const i = t.rows;
    if (!(a >= 0 && b <= 0xffffffff && b >= a)) {
      throw new Error(`${file} line ${line}: malformed row`);
    }
    if (i > 0 && a < (t.starts[i - 1] ?? 0)) throw new Error(`${file} line ${line}: rows out of order`);
    fitRow(t, i);
    t.starts[i] = a;
    t.ends[i] = b;
    t.asns[i] = asn;
    t.orgIndex[i] = orgId;
    t.rows++;
  });
  return t;
}

interface V6Table extends Columns {
  /** High and low 64 bits of each range's start and end (typed: no heap object per address). */
  startHi: BigUint64Array;
  startLo: BigUint64Array;
  endHi: BigUint64Array;
  endLo: BigUint64Array;
}

const DECIMAL_128 = /^\d{1,39}$/;
const MASK64 = (1n << 64n) - 1n;

/** IPv6 rows (`start` and `end` as decimal 128-bit integers), sorted by start. */
export function readAsnV6(file: string, chunkBytes = READ_CHUNK): V6Table {
  const cap = 1 << 14;
  const t: V6Table = {
    rows: 0,
    startHi: new BigUint64Array(cap),
    startLo: new BigUint64Array(cap),
    endHi: new BigUint64Array(cap),
    endLo: new BigUint64Array(cap),
    asns: new Uint32Array(cap),
    orgIndex: new Uint32Array(cap),
    orgs: [],
  };
  let last = -1n;
  t.orgs = readRows(file, chunkBytes, ({ line, buf, start, end, asn, orgId }) => {
    const s = buf.toString('latin1', start[0], start[1]);
    const e = buf.toString('latin1', end[0], end[1]);
    if (!DECIMAL_128.test(s) || !DECIMAL_128.test(e)) throw new Error(`${file} line ${line}: malformed row`);
    const a = BigInt(s);
    const b = BigInt(e);
    if (b < a || b >> 128n !== 0n) throw new Error(`${file} line ${line}: malformed row`);
    if (a < last) throw new Error(`${file} line ${line}: rows out of order`);
    last = a;
    const i = t.rows;
    fitRow(t, i);
    t.startHi[i] = a >> 64n;
    t.startLo[i] = a & MASK64;
    t.endHi[i] = b >> 64n;
    t.endLo[i] = b & MASK64;
    t.asns[i] = asn;
    t.orgIndex[i] = orgId;
    t.rows++;
  });
  return t;
}

/**
 * The 32-bit number of a canonical dotted quad (four decimal octets of at most 255, no leading zero, nothing
 * around them), or -1 for any other text: those go through ipaddr, which reads forms such as `010.1.1.1` its own
 * way.
 */
export function canonicalV4Key(ip: string): number {
  let key = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      key = key * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return key * 256 + octet;
}

/** Last index whose start is <= key (`before(i)`: start of row i is <= key), -1 when none. */
function bisect(count: number, atOrBefore: (i: number) => boolean): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (atOrBefore(mid)) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function v6Halves(ip: ipaddr.IPv6): [bigint, bigint] {
  const p = ip.parts;
  const half = (o: number) =>
    (BigInt(p[o] ?? 0) << 48n) |
    (BigInt(p[o + 1] ?? 0) << 32n) |
    (BigInt(p[o + 2] ?? 0) << 16n) |
    BigInt(p[o + 3] ?? 0);
  return [half(0), half(4)];
}

const le = (aHi: bigint, aLo: bigint, bHi: bigint, bLo: bigint) => aHi < bHi || (aHi === bHi && aLo <= bLo);

/** IPv4 lookups answered from the compact file itself before the table is loaded whole (see loadAsnTable). */
const LAZY_LOOKUPS = 64;

/**
 * The IPv4 compact table read where its values lie in the file (`DSASN2` only: it needs the name offsets), a
 * 4-byte read a probe: the same answers as the loaded table.
 */
class LazyV4 {
  private readonly word = Buffer.alloc(4);

  /** Open only during a lookup (no descriptor is held by a table that never loads whole). */
  private fd: number | null = null;

  private constructor(
    private readonly file: string,
    readonly rows: number,
    /** File offsets of the starts, ends, asns and orgIndex columns, then of the name offsets and names. */
    private readonly at: { starts: number; ends: number; asns: number; orgIndex: number },
    private readonly nameStarts: number,
    private readonly names: number,
    private readonly blob: number,
    private readonly blobLength: number,
  ) {}

  static open(file: string): LazyV4 | null {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(MAGIC.length + 4);
      if (readSync(fd, head, 0, head.length, 0) !== head.length) throw new Error('short');
      if (head.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error('not DSASN2');
      const headerLength = head.readUInt32LE(MAGIC.length);
      const hb = Buffer.alloc(headerLength);
      if (readSync(fd, hb, 0, headerLength, head.length) !== headerLength) throw new Error('short');
      const header = JSON.parse(hb.toString('utf8')) as { rows: number; columns: unknown; names?: number };
      if (JSON.stringify(header.columns) !== JSON.stringify(V4_COLUMNS) || typeof header.names !== 'number') {
        throw new Error('unexpected columns');
      }
      let pos = head.length + headerLength;
      const at: Record<string, number> = {};
      for (const name of Object.keys(V4_COLUMNS)) {
        pos = align8(pos);
        at[name] = pos;
        pos += header.rows * 4;
      }
      const nameStarts = align8(pos);
      const blob = nameStarts + header.names * 4;
      const size = fstatSync(fd).size;
      if (size < blob) throw new Error('short');
      return new LazyV4(
        file,
        header.rows,
        at as LazyV4['at'],
        nameStarts,
        header.names,
        blob,
        Math.max(0, size - blob),
      );
    } catch {
      // Anything unexpected: the table is loaded whole (which reports a damaged file).
      return null;
    } finally {
      closeSync(fd);
    }
  }

  private u32(offset: number): number {
    if (this.fd === null || readSync(this.fd, this.word, 0, 4, offset) !== 4) throw new Error('ASN table: short read');
    return this.word.readUInt32LE(0);
  }

  lookup(key: number): AsnRecord | null {
    this.fd = openSync(this.file, 'r');
    try {
      return this.find(key);
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private find(key: number): AsnRecord | null {
    const i = bisect(this.rows, (k) => this.u32(this.at.starts + k * 4) <= key);
    if (i < 0 || key > this.u32(this.at.ends + i * 4)) return null;
    const asn = this.u32(this.at.asns + i * 4);
    const id = this.u32(this.at.orgIndex + i * 4);
    if (id >= this.names) return { asn, org: '' };
    const a = this.u32(this.nameStarts + id * 4);
    const end = (id + 1 < this.names ? this.u32(this.nameStarts + (id + 1) * 4) : this.blobLength + 1) - 1;
    const text = Buffer.alloc(Math.max(0, end - a));
    if (this.fd !== null && text.length > 0) readSync(this.fd, text, 0, text.length, this.blob + a);
    return { asn, org: text.toString('utf8') };
  }
}

/**
 * Load the ASN table (IPv4 at once, IPv6 on first IPv6 lookup). Throws when the data is missing. `dir`: a folder
 * holding the compact tables ({@link writeAsnTables}) or the package's CSV files; by default the compact tables
 * `npm run build` writes to `data/` (the installed package ships those, not the 65 MB of CSV), else the
 * package's CSV.
 */
export async function loadAsnTable(dir?: string): Promise<AsnTable> {
  const base = dir ?? (existsSync(`${BUNDLED_DATA_DIR}asn-ipv4.bin`) ? BUNDLED_DATA_DIR : packageDir());
  const compact = existsSync(join(base, 'asn-ipv4.bin'));
  // The first IPv4 lookups read the compact file where the values lie (a few bytes a probe); the table is loaded
  // whole from the LAZY_LOOKUPS-th on. One message's analysis then reads 8.5 MB less, and its start-up is spared
  // a full garbage collection that the 16 MB of IP data read at once brought on (20–45 ms).
  let lazy: LazyV4 | null = compact ? LazyV4.open(join(base, 'asn-ipv4.bin')) : null;
  let lazyLookups = 0;
  let full: V4Table | null = null;
  const loadV4 = (): V4Table => {
    full ??= compact
      ? readCompact<V4Table>(join(base, 'asn-ipv4.bin'), V4_COLUMNS)
      : readAsnV4(join(base, 'asn-ipv4-num.csv'));
    lazy = null;
    return full;
  };
  const rows = lazy?.rows ?? loadV4().rows;
  let v6: V6Table | null = null;
  // IPv6 rows are read on the first IPv6 lookup (most exports are IPv4 only); lookups stay synchronous
  // because the rules that use them are pure functions.
  const loadV6 = (): V6Table => {
    v6 ??= compact
      ? readCompact<V6Table>(join(base, 'asn-ipv6.bin'), V6_COLUMNS)
      : readAsnV6(join(base, 'asn-ipv6-num.csv'));
    return v6;
  };
  const lookupV4 = (key: number): AsnRecord | null => {
    if (lazy !== null && lazyLookups++ < LAZY_LOOKUPS) return lazy.lookup(key);
    const v4 = loadV4();
    const i = bisect(v4.rows, (k) => (v4.starts[k] ?? 0) <= key);
    if (i < 0 || key > (v4.ends[i] ?? 0)) return null;
    return { asn: v4.asns[i] ?? 0, org: orgName(v4, v4.orgIndex[i] ?? 0) };
  };
  return {
    rows,
    lookup(ip: string): AsnRecord | null {
      // The form nearly every export writes, without ipaddr's parser (which tries IPv6 first).
      const plain = canonicalV4Key(ip);
      if (plain >= 0) return lookupV4(plain);
      let addr: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        addr = ipaddr.process(ip);
      } catch {
        return null;
      }
      if (addr.kind() === 'ipv4') return lookupV4((addr as ipaddr.IPv4).octets.reduce((a, o) => a * 256 + o, 0));
      const t = loadV6();
      const [hi, lo] = v6Halves(addr as ipaddr.IPv6);
      const i = bisect(t.rows, (k) => le(t.startHi[k] ?? 0n, t.startLo[k] ?? 0n, hi, lo));
      if (i < 0 || !le(hi, lo, t.endHi[i] ?? 0n, t.endLo[i] ?? 0n)) return null;
      return { asn: t.asns[i] ?? 0, org: orgName(t, t.orgIndex[i] ?? 0) };
    },
  };
}

function packageDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@ip-location-db/asn/package.json');
  return pkg.slice(0, pkg.length - '/package.json'.length);
}

/*
 * The compact form: the same columns as the CSV reader builds, written as they lie in memory, so loading is one
 * file read and a split of the organisation names (about 20 ms against 140–240 ms for the CSV's 412,000 lines).
 * Layout: `DSASN2\n`, a little-endian u32 header length, a JSON header `{rows, columns: [{name, bytes}], names}`,
 * then each column at an 8-byte-aligned offset, then the byte offset of each organisation name (u32, `names` of
 * them, 8-byte-aligned), then the names joined by newlines (UTF-8). The offsets are written by the build so that
 * loading makes no pass over the names (finding their 75,000 line ends took 14 ms of a one-message analyze's
 * start-up). `DSASN1` files (the same without the offsets) are still read.
 */
const MAGIC = 'DSASN2\n';
const MAGIC_V1 = 'DSASN1\n';
/** The bundled data folder (`data/ip-location-db/`), written by `npm run build`. */
export const BUNDLED_DATA_DIR = fileURLToPath(new URL('../../data/ip-location-db/', import.meta.url));
const V4_COLUMNS = { starts: 4, ends: 4, asns: 4, orgIndex: 4 } as const;
const V6_COLUMNS = { startHi: 8, startLo: 8, endHi: 8, endLo: 8, asns: 4, orgIndex: 4 } as const;
const align8 = (n: number) => Math.ceil(n / 8) * 8;

function writeCompact(file: string, t: Columns, columns: Record<string, 4 | 8>): void {
  if (t.orgs.some((o) => o.includes('\n'))) throw new Error('an organisation name holds a newline');
  const cols = t as unknown as Record<string, Uint32Array | BigUint64Array>;
  const names = Buffer.from(t.orgs.join('\n'));
  const nameStarts = new Uint32Array(t.orgs.length);
  for (let k = 1, at = 0; k < t.orgs.length; k++) {
    at += Buffer.byteLength(t.orgs[k - 1]!) + 1;
    nameStarts[k] = at;
  }
  const header = Buffer.from(JSON.stringify({ rows: t.rows, columns, names: t.orgs.length }));
  const parts: Buffer[] = [Buffer.from(MAGIC), Buffer.alloc(4), header];
  parts[1]?.writeUInt32LE(header.length);
  let size = MAGIC.length + 4 + header.length;
  for (const [name, bytes] of Object.entries(columns)) {
    const col = cols[name];
    if (!col) throw new Error(`no column ${name}`);
    parts.push(Buffer.alloc(align8(size) - size));
    size = align8(size);
    parts.push(Buffer.from(col.buffer, col.byteOffset, t.rows * bytes));
    size += t.rows * bytes;
  }
  parts.push(Buffer.alloc(align8(size) - size));
  parts.push(Buffer.from(nameStarts.buffer, nameStarts.byteOffset, nameStarts.byteLength));
  parts.push(names);
  writeFileSync(file, Buffer.concat(parts));
}

function readCompact<T extends Columns>(file: string, columns: Record<string, 4 | 8>): T {
  const raw = readFileSync(file);
  // Typed views need aligned offsets: copy when the buffer does not start on an 8-byte boundary.
  const buf = raw.byteOffset % 8 === 0 ? raw : Buffer.from(new Uint8Array(raw));
  const magic = buf.toString('latin1', 0, MAGIC.length);
  const headerLength = magic === MAGIC || magic === MAGIC_V1 ? buf.readUInt32LE(MAGIC.length) : -1;
  if (headerLength < 0) throw new Error(`${file}: not a dsguard ASN table`);
  let pos = MAGIC.length + 4;
  const header = JSON.parse(buf.toString('utf8', pos, pos + headerLength)) as {
    rows: number;
    columns: Record<string, number>;
    names?: number;
  };
  pos += headerLength;
  if (JSON.stringify(header.columns) !== JSON.stringify(columns)) throw new Error(`${file}: unexpected columns`);
  const t: Record<string, unknown> = { rows: header.rows };
  for (const [name, bytes] of Object.entries(columns)) {
    pos = align8(pos);
    const at = buf.byteOffset + pos;
    t[name] =
      bytes === 8 ? new BigUint64Array(buf.buffer, at, header.rows) : new Uint32Array(buf.buffer, at, header.rows);
    pos += header.rows * bytes;
  }
  t.orgs = [];
  if (magic === MAGIC && typeof header.names === 'number') {
    pos = align8(pos);
    const starts = new Uint32Array(buf.buffer, buf.byteOffset + pos, header.names);
    t.names = { blob: buf.subarray(pos + header.names * 4), starts };
    return t as unknown as T;
  }
  const blob = buf.subarray(pos);
  let count = 1;
  for (let nl = blob.indexOf(10); nl >= 0; nl = blob.indexOf(10, nl + 1)) count++;
  const starts = new Uint32Array(count);
  for (let k = 1, nl = blob.indexOf(10); nl >= 0; nl = blob.indexOf(10, nl + 1)) starts[k++] = nl + 1;
  t.names = { blob, starts };
  return t as unknown as T;
}

/** Write the compact tables of the package's CSV files (`csvDir`) into `outDir` (run by `npm run build`). */
export function writeAsnTables(csvDir: string, outDir: string): { v4Rows: number; v6Rows: number } {
  const v4 = readAsnV4(join(csvDir, 'asn-ipv4-num.csv'));
  const v6 = readAsnV6(join(csvDir, 'asn-ipv6-num.csv'));
  writeCompact(join(outDir, 'asn-ipv4.bin'), v4, V4_COLUMNS);
  writeCompact(join(outDir, 'asn-ipv6.bin'), v6, V6_COLUMNS);
  return { v4Rows: v4.rows, v6Rows: v6.rows };
}
