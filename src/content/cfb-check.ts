/**
 * Validation of an OLE2 compound file (MS-CFB, the container of Outlook .msg) before it is handed to
 * @kenjiuno/msgreader, which follows sector chains and directory links as they come: a cyclic FAT, mini-FAT,
 * mini-stream or directory chain made it loop without end, and a declared 2 GB stream made it allocate 2 GB.
 * Every chain is walked here once, with a visited set and a length limit; every sector may belong to one chain
 * only (so the total work is linear in the file size); every directory link is in range and visited once; every
 * declared stream size fits the chain that holds it. Pure: bytes in, a verdict out.
 * @module
 */

export interface CfbLimits {
  /** Most directory entries (each is 128 bytes; a .msg with 200 attachments has a few thousand). */
  maxEntries: number;
  /** Deepest nesting of storages (a .msg attached to a .msg attached to ...). */
  maxDepth: number;
}

export const DEFAULT_CFB_LIMITS: CfbLimits = { maxEntries: 100_000, maxDepth: 32 };

export interface CfbStats {
  sectorSize: number;
  sectors: number;
  entries: number;
  streams: number;
  /** Sectors and mini sectors walked in all (the work this check did). */
  sectorsWalked: number;
}

export type CfbCheck = { status: 'ok'; stats: CfbStats } | { status: 'error'; error: string };

const MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ENDOFCHAIN = 0xfffffffe;
const FREESECT = 0xffffffff;
const NOSTREAM = 0xffffffff;
const MAXREGSECT = 0xfffffffa;
const MINI_SECTOR = 64;
const MINI_CUTOFF = 4096;

class CfbError extends Error {}

function fail(message: string): never {
  throw new CfbError(message);
}

/** Check a compound file. Linear in its size; never throws. */
export function checkCompoundFile(bytes: Uint8Array, limits: CfbLimits = DEFAULT_CFB_LIMITS): CfbCheck {
  try {
    return { status: 'ok', stats: check(bytes, limits) };
  } catch (error) {
    if (error instanceof CfbError) return { status: 'error', error: error.message };
    throw error;
  }
}

function check(b: Uint8Array, limits: CfbLimits): CfbStats {
  return new CompoundFile(b, limits).check();
}

/** One check of one file: the header, the FAT, the directory, the mini stream, then the directory tree. */
class CompoundFile {
  private readonly view: DataView;
  private sectorSize = 512;
  private sectors = 0;
  private per = 128;
  private walked = 0;
  private fat = new Uint32Array(0);
  /** Sectors already owned by a chain: a sector in two chains is refused, so every chain is walked once. */
  private owned = new Uint8Array(0);
  private dirSectors: number[] = [];
  private entryCount = 0;
  private miniFat = new Uint32Array(0);
  private miniSectors = 0;
  private miniOwned = new Uint8Array(0);

  constructor(
    private readonly b: Uint8Array,
    private readonly limits: CfbLimits,
  ) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private u32(o: number): number {
    return this.view.getUint32(o, true);
  }

  check(): CfbStats {
    this.header();
    this.readFat();
    this.readDirectory();
    const root = this.entryOffset(0);
    if (this.b[root + 66] !== 5) fail('first directory entry is not the root storage');
    this.readMiniStream(root);
    const streams = this.walkTree(root);
    const { sectorSize, sectors, entryCount, walked } = this;
    return { sectorSize, sectors, entries: entryCount, streams, sectorsWalked: walked };
  }

  private header(): void {
    const b = this.b;
    if (b.length < 512) fail('compound file shorter than its 512-byte header');
    for (let i = 0; i < MAGIC.length; i++) if (b[i] !== MAGIC[i]) fail('not a compound file (bad signature)');
    const shift = this.view.getUint16(30, true);
    if (shift !== 9 && shift !== 12) fail(`sector shift ${shift} (only 9 and 12 exist)`);
    this.sectorSize = 1 << shift;
    const miniShift = this.view.getUint16(32, true);
    if (miniShift !== 6) fail(`mini sector shift ${miniShift} (must be 6)`);
    if (this.u32(56) !== MINI_CUTOFF) fail(`mini stream cutoff ${this.u32(56)} (must be 4096)`);
    this.sectors = Math.ceil((b.length - this.sectorSize) / this.sectorSize);
    if (this.sectors <= 0) fail('compound file has no sectors');
    this.per = this.sectorSize / 4;
    this.owned = new Uint8Array(this.sectors);
  }

  /** The FAT sectors: 109 in the header, the rest in the DIFAT chain (walked once, in range). */
  private readFat(): void {
    const { b, sectors, sectorSize, per } = this;
    const fatCount = this.u32(44);
    if (fatCount > sectors) fail(`header declares ${fatCount} FAT sectors, the file has ${sectors}`);
    const fatSectors: number[] = [];
    const take = (s: number): boolean => {
      if (s === FREESECT || s === ENDOFCHAIN) return false;
      if (s >= sectors) fail(`FAT sector ${s} is past the end of the file`);
      fatSectors.push(s);
      return true;
    };
    for (let i = 0; i < 109 && fatSectors.length < fatCount; i++) if (!take(this.u32(76 + i * 4))) break;
    const difatCount = this.u32(72);
    let difat = this.u32(68);
    const difatSeen = new Set<number>();
    for (let n = 0; n < difatCount && fatSectors.length < fatCount; n++) {
      if (difat === ENDOFCHAIN || difat === FREESECT) break;
      if (difat >= sectors) fail(`DIFAT sector ${difat} is past the end of the file`);
      if (difatSeen.has(difat)) fail(`DIFAT chain loops at sector ${difat}`);
      difatSeen.add(difat);
      this.walked++;
      const base = (difat + 1) * sectorSize;
      if (base + sectorSize > b.length) fail(`DIFAT sector ${difat} is cut short`);
      for (let i = 0; i < per - 1 && fatSectors.length < fatCount; i++) if (!take(this.u32(base + i * 4))) break;
      difat = this.u32(base + (per - 1) * 4);
    }
    this.fat = new Uint32Array(fatSectors.length * per);
    fatSectors.forEach((s, k) => {
      const base = (s + 1) * sectorSize;
      for (let i = 0; i < per; i++) {
        this.fat[k * per + i] = base + i * 4 + 4 <= b.length ? this.u32(base + i * 4) : FREESECT;
      }
    });
  }

  private chain(start: number, what: string, table: Uint32Array, size: number, own: Uint8Array): number[] {
    const out: number[] = [];
    let s = start;
    while (s !== ENDOFCHAIN) {
      if (s > MAXREGSECT || s >= size) fail(`${what}: sector ${s} is out of range`);
      if (own[s]) fail(`${what}: chain loops or shares sector ${s}`);
      if (s >= table.length) fail(`${what}: sector ${s} has no allocation table entry`);
      own[s] = 1;
      out.push(s);
      this.walked++;
      s = table[s]!;
    }
    return out;
  }

  private readDirectory(): void {
    this.dirSectors = this.chain(this.u32(48), 'directory', this.fat, this.sectors, this.owned);
    this.entryCount = (this.dirSectors.length * this.sectorSize) / 128;
    const { maxEntries } = this.limits;
    if (this.entryCount > maxEntries) fail(`directory holds ${this.entryCount} entries (limit ${maxEntries})`);
    if (this.entryCount === 0) fail('directory is empty');
  }

  private entryOffset(i: number): number {
    const { sectorSize } = this;
    const s = this.dirSectors[Math.floor((i * 128) / sectorSize)]!;
    const o = (s + 1) * sectorSize + ((i * 128) % sectorSize);
    if (o + 128 > this.b.length) fail(`directory entry ${i} is cut short`);
    return o;
  }

  /** The mini FAT, and the mini stream the root entry holds. */
  private readMiniStream(root: number): void {
    const { sectorSize, sectors, per } = this;
    const miniFatSectors = this.chain(this.u32(60), 'mini FAT', this.fat, sectors, this.owned);
    if (miniFatSectors.length < Math.min(this.u32(64), sectors)) {
      fail(`mini FAT chain holds ${miniFatSectors.length} sectors, the header declares ${this.u32(64)}`);
    }
    this.miniFat = new Uint32Array(miniFatSectors.length * per);
    miniFatSectors.forEach((s, k) => {
      for (let i = 0; i < per; i++) this.miniFat[k * per + i] = this.u32((s + 1) * sectorSize + i * 4);
    });
    const rootSize = this.u32(root + 120);
    const miniStream =
      rootSize > 0 ? this.chain(this.u32(root + 116), 'mini stream', this.fat, sectors, this.owned) : [];
    if (miniStream.length * sectorSize < rootSize) {
      fail(`mini stream declares ${rootSize} bytes, its chain holds ${miniStream.length * sectorSize}`);
    }
    this.miniSectors = Math.floor((miniStream.length * sectorSize) / MINI_SECTOR);
    this.miniOwned = new Uint8Array(this.miniSectors);
  }

  /** The directory tree: every link in range, every entry reached once, storages nested at most maxDepth. */
  private walkTree(root: number): number {
    const { b, entryCount, limits } = this;
    const seen = new Uint8Array(entryCount);
    seen[0] = 1;
    let streams = 0;
    const stack: { entry: number; depth: number }[] = [];
    const pushLink = (link: number, depth: number, from: number) => {
      if (link === NOSTREAM) return;
      if (link >= entryCount) fail(`directory entry ${from} links to entry ${link}, past the end of the directory`);
      if (seen[link]) fail(`directory links loop at entry ${link}`);
      seen[link] = 1;
      stack.push({ entry: link, depth });
    };
    pushLink(this.u32(root + 76), 1, 0);
    while (stack.length > 0) {
      const { entry, depth } = stack.pop()!;
      const o = this.entryOffset(entry);
      const type = b[o + 66];
      this.walked++;
      pushLink(this.u32(o + 68), depth, entry);
      pushLink(this.u32(o + 72), depth, entry);
      if (type === 1) {
        if (depth >= limits.maxDepth) fail(`storages nested deeper than ${limits.maxDepth}`);
        pushLink(this.u32(o + 76), depth + 1, entry);
      } else if (type === 2) {
        streams++;
        this.checkStream(entry, o);
      } else if (type !== 0) {
        fail(`directory entry ${entry} has unknown type ${type}`);
      }
    }
    return streams;
  }

  /** A stream's declared size fits the file and the chain (mini or regular) that holds it. */
  private checkStream(entry: number, o: number): void {
    const { b, sectorSize } = this;
    const size = this.u32(o + 120);
    // msgreader reads the size as a signed 32-bit number.
    if (size > 0x7fffffff || size > b.length) {
      fail(`stream entry ${entry} declares ${size} bytes, more than the whole ${b.length}-byte file`);
    }
    if (size === 0) return;
    const start = this.u32(o + 116);
    if (size < MINI_CUTOFF) {
      const need = Math.ceil(size / MINI_SECTOR);
      const got = this.chain(
        start,
        `stream entry ${entry} (mini stream)`,
        this.miniFat,
        this.miniSectors,
        this.miniOwned,
      );
      if (got.length < need) {
        fail(`stream entry ${entry} declares ${size} bytes, its mini chain holds ${got.length * MINI_SECTOR}`);
      }
      return;
    }
    const need = Math.ceil(size / sectorSize);
    const got = this.chain(start, `stream entry ${entry}`, this.fat, this.sectors, this.owned);
    if (got.length < need)
      fail(`stream entry ${entry} declares ${size} bytes, its chain holds ${got.length * sectorSize}`);
    const last = got[need - 1]!;
    if ((last + 1) * sectorSize + (size - (need - 1) * sectorSize) > b.length) {
      fail(`stream entry ${entry} runs past the end of the file`);
    }
  }
}
