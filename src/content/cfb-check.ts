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
  if (b.length < 512) fail('compound file shorter than its 512-byte header');
  for (let i = 0; i < MAGIC.length; i++) if (b[i] !== MAGIC[i]) fail('not a compound file (bad signature)');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => view.getUint32(o, true);
  const u16 = (o: number) => view.getUint16(o, true);
  // msgreader decides the sector size from the shift's low byte alone; so do we, and require the two to agree.
  const shift = u16(30);
  if (shift !== 9 && shift !== 12) fail(`sector shift ${shift} (only 9 and 12 exist)`);
  const sectorSize = 1 << shift;
  if (u16(32) !== 6) fail(`mini sector shift ${u16(32)} (must be 6)`);
  if (u32(56) !== MINI_CUTOFF) fail(`mini stream cutoff ${u32(56)} (must be 4096)`);
  const sectors = Math.floor((b.length - sectorSize) / sectorSize) + ((b.length - sectorSize) % sectorSize > 0 ? 1 : 0);
  if (sectors <= 0) fail('compound file has no sectors');
  const per = sectorSize / 4;
  let walked = 0;

  // The FAT sectors: 109 in the header, the rest in the DIFAT chain.
  const fatCount = u32(44);
  if (fatCount > sectors) fail(`header declares ${fatCount} FAT sectors, the file has ${sectors}`);
  const fatSectors: number[] = [];
  for (let i = 0; i < 109 && fatSectors.length < fatCount; i++) {
    const s = u32(76 + i * 4);
    if (s === FREESECT || s === ENDOFCHAIN) break;
    if (s >= sectors) fail(`FAT sector ${s} is past the end of the file`);
    fatSectors.push(s);
  }
  const difatCount = u32(72);
  let difat = u32(68);
  const difatSeen = new Set<number>();
  for (let n = 0; n < difatCount && fatSectors.length < fatCount; n++) {
    if (difat === ENDOFCHAIN || difat === FREESECT) break;
    if (difat >= sectors) fail(`DIFAT sector ${difat} is past the end of the file`);
    if (difatSeen.has(difat)) fail(`DIFAT chain loops at sector ${difat}`);
    difatSeen.add(difat);
    walked++;
    const base = (difat + 1) * sectorSize;
    if (base + sectorSize > b.length) fail(`DIFAT sector ${difat} is cut short`);
    for (let i = 0; i < per - 1 && fatSectors.length < fatCount; i++) {
      const s = u32(base + i * 4);
      if (s === FREESECT || s === ENDOFCHAIN) break;
      if (s >= sectors) fail(`FAT sector ${s} is past the end of the file`);
      fatSectors.push(s);
    }
    difat = u32(base + (per - 1) * 4);
  }
  const fat = new Uint32Array(fatSectors.length * per);
  fatSectors.forEach((s, k) => {
    const base = (s + 1) * sectorSize;
    for (let i = 0; i < per; i++) fat[k * per + i] = base + i * 4 + 4 <= b.length ? u32(base + i * 4) : FREESECT;
  });

  /** Sectors already owned by a chain: a sector in two chains is refused, so every chain is walked once. */
  const owned = new Uint8Array(sectors);
  const chain = (start: number, what: string, table: Uint32Array, size: number, own: Uint8Array): number[] => {
    const out: number[] = [];
    let s = start;
    while (s !== ENDOFCHAIN) {
      if (s > MAXREGSECT || s >= size) fail(`${what}: sector ${s} is out of range`);
      if (own[s]) fail(`${what}: chain loops or shares sector ${s}`);
      if (s >= table.length) fail(`${what}: sector ${s} has no allocation table entry`);
      own[s] = 1;
      out.push(s);
      walked++;
      s = table[s]!;
    }
    return out;
  };

  // Directory.
  const dirSectors = chain(u32(48), 'directory', fat, sectors, owned);
  const entryCount = (dirSectors.length * sectorSize) / 128;
  if (entryCount > limits.maxEntries) fail(`directory holds ${entryCount} entries (limit ${limits.maxEntries})`);
  const entryOffset = (i: number) => {
    const s = dirSectors[Math.floor((i * 128) / sectorSize)]!;
    const o = (s + 1) * sectorSize + ((i * 128) % sectorSize);
    if (o + 128 > b.length) fail(`directory entry ${i} is cut short`);
    return o;
  };
  if (entryCount === 0) fail('directory is empty');
  const root = entryOffset(0);
  if (b[root + 66] !== 5) fail('first directory entry is not the root storage');

  // Mini FAT and the mini stream (held by the root entry).
  const miniFatSectors = chain(u32(60), 'mini FAT', fat, sectors, owned);
  if (miniFatSectors.length < Math.min(u32(64), sectors)) {
    fail(`mini FAT chain holds ${miniFatSectors.length} sectors, the header declares ${u32(64)}`);
  }
  const miniFat = new Uint32Array(miniFatSectors.length * per);
  miniFatSectors.forEach((s, k) => {
    for (let i = 0; i < per; i++) miniFat[k * per + i] = u32((s + 1) * sectorSize + i * 4);
  });
  const rootSize = u32(root + 120);
  const miniStream = rootSize > 0 ? chain(u32(root + 116), 'mini stream', fat, sectors, owned) : [];
  if (miniStream.length * sectorSize < rootSize) {
    fail(`mini stream declares ${rootSize} bytes, its chain holds ${miniStream.length * sectorSize}`);
  }
  const miniSectors = Math.floor((miniStream.length * sectorSize) / MINI_SECTOR);
  const miniOwned = new Uint8Array(miniSectors);

  // The directory tree: every link in range, every entry reached once, storages nested at most maxDepth.
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
  pushLink(u32(root + 76), 1, 0);
  while (stack.length > 0) {
    const { entry, depth } = stack.pop()!;
    const o = entryOffset(entry);
    const type = b[o + 66];
    walked++;
    pushLink(u32(o + 68), depth, entry);
    pushLink(u32(o + 72), depth, entry);
    if (type === 1) {
      if (depth >= limits.maxDepth) fail(`storages nested deeper than ${limits.maxDepth}`);
      pushLink(u32(o + 76), depth + 1, entry);
    } else if (type === 2) {
      streams++;
      const size = u32(o + 120);
      // msgreader reads the size as a signed 32-bit number.
      if (size > 0x7fffffff || size > b.length) {
        fail(`stream entry ${entry} declares ${size} bytes, more than the whole ${b.length}-byte file`);
      }
      if (size === 0) continue;
      if (size < MINI_CUTOFF) {
        const need = Math.ceil(size / MINI_SECTOR);
        const got = chain(u32(o + 116), `stream entry ${entry} (mini stream)`, miniFat, miniSectors, miniOwned);
        if (got.length < need)
          fail(`stream entry ${entry} declares ${size} bytes, its mini chain holds ${got.length * MINI_SECTOR}`);
      } else {
        const need = Math.ceil(size / sectorSize);
        const got = chain(u32(o + 116), `stream entry ${entry}`, fat, sectors, owned);
        if (got.length < need)
          fail(`stream entry ${entry} declares ${size} bytes, its chain holds ${got.length * sectorSize}`);
        const last = got[need - 1]!;
        if ((last + 1) * sectorSize + (size - (need - 1) * sectorSize) > b.length) {
          fail(`stream entry ${entry} runs past the end of the file`);
        }
      }
    } else if (type !== 0) {
      fail(`directory entry ${entry} has unknown type ${type}`);
    }
  }
  return { sectorSize, sectors, entries: entryCount, streams, sectorsWalked: walked };
}
