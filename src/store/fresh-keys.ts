/**
 * Which delivery keys a store connection may insert without asking SQLite first. A key can only exist already
 * when its day held deliveries before the connection was opened, or when this connection inserted it since:
 * the first is a set of days, the second a Bloom filter (no false negatives, a small share of false positives).
 * A key outside both is certainly new, so its insert can wait and go out with 63 others in one statement —
 * one call into SQLite instead of 64 (see bench/README.md for what that saves). Every other key takes the exact
 * path: one `INSERT OR IGNORE` that says whether the key was new.
 *
 * The filter is blocked (the probes of a key fall in one 64-byte block: one cache miss a key) and sized from
 * the expected number of keys; when more keys come than expected, another filter twice the size is added, so
 * the rate of false positives (exact checks that were not needed) stays low without a bound given up front.
 * @module
 */

/** Bits a key when the filter is sized (with 4 probes in a 512-bit block: about 3 % false positives when full). */
const BITS_PER_KEY = 8;
const MIN_KEYS = 1 << 16;
/** 16 MiB: 10,000,000 keys at 13 bits a key. */
const MAX_BITS = 2 ** 27;
/**
 * 64 MiB in all: past this (some 70,000,000 keys in one run) the last filter fills up instead of another being
 * added, so more keys take the exact path — slower, never wrong — and memory stays bounded.
 */
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

class BlockedBloom {
  readonly words: Int32Array;
  /** Mask of the block number (blocks of 16 words). */
  readonly blockMask: number;
  /** Keys it takes before another filter is added. */
  readonly capacity: number;
  keys = 0;

  /** Bits of a filter sized for `keys` (a power of two, at most MAX_BITS). */
  static bitsFor(keys: number): number {
    return Math.min(MAX_BITS, Math.max(512, 2 ** Math.ceil(Math.log2(keys * BITS_PER_KEY))));
  }

  constructor(keys: number) {
    const bits = BlockedBloom.bitsFor(keys);
    this.words = new Int32Array(bits >>> 5);
    this.blockMask = (bits >>> 9) - 1;
    this.capacity = Math.floor(bits / BITS_PER_KEY);
  }

  has(a: number, b: number): boolean {
    const w = this.words;
    const base = (a & this.blockMask) << 4;
    // Four 9-bit positions in the block: three from b, one from the top bits of a (not used by the block).
    let p = b & 511;
    if ((w[base + (p >>> 5)]! & (1 << (p & 31))) === 0) return false;
    p = (b >>> 9) & 511;
    if ((w[base + (p >>> 5)]! & (1 << (p & 31))) === 0) return false;
    p = (b >>> 18) & 511;
    if ((w[base + (p >>> 5)]! & (1 << (p & 31))) === 0) return false;
    p = ((b >>> 27) | ((a >>> 23) & 0x1e0)) & 511;
    return (w[base + (p >>> 5)]! & (1 << (p & 31))) !== 0;
  }

  add(a: number, b: number): void {
    const w = this.words;
    const base = (a & this.blockMask) << 4;
    let p = b & 511;
    w[base + (p >>> 5)]! |= 1 << (p & 31);
    p = (b >>> 9) & 511;
    w[base + (p >>> 5)]! |= 1 << (p & 31);
    p = (b >>> 18) & 511;
    w[base + (p >>> 5)]! |= 1 << (p & 31);
    p = ((b >>> 27) | ((a >>> 23) & 0x1e0)) & 511;
    w[base + (p >>> 5)]! |= 1 << (p & 31);
    this.keys++;
  }
}

export class FreshKeys {
  private readonly filters: BlockedBloom[];

  /**
   * `daysBefore`: every day that may hold delivery keys written before (by anyone); `expectedKeys`: how many
   * keys this connection will likely insert (sizes the first filter).
   */
  constructor(
    private readonly daysBefore: ReadonlySet<number>,
    expectedKeys = MIN_KEYS,
    /** The most the filters take together before the last one is left to fill up (tests lower it). */
    private readonly maxBytes = MAX_TOTAL_BYTES,
  ) {
    this.filters = [new BlockedBloom(Math.max(MIN_KEYS, expectedKeys))];
    this.total = this.filters[0]!.words.byteLength;
  }

  /** `true` when (day, h) was certainly never inserted; either way it counts as inserted from now on. */
  claim(day: number, h: number): boolean {
    if (this.daysBefore.has(day)) return false;
    // h is a 53-bit hash, already well mixed; the day is mixed in so equal hashes on two days differ.
    const lo = h >>> 0;
    const hi = Math.floor(h / 4294967296);
    const a = lo ^ Math.imul(day, 0x9e3779b1);
    const b = Math.imul(hi ^ (lo >>> 13) ^ Math.imul(day, 0xc2b2ae35), 0x85ebca6b) ^ (lo << 7);
    for (const f of this.filters) if (f.has(a, b)) return false;
    // A key that tested positive stays positive: only new ones need adding.
    let last = this.filters[this.filters.length - 1]!;
    if (last.keys >= last.capacity && this.bytes + BlockedBloom.bitsFor(last.capacity * 2) / 8 <= this.maxBytes) {
      last = new BlockedBloom(last.capacity * 2);
      this.filters.push(last);
      this.total += last.words.byteLength;
    }
    last.add(a, b);
    return true;
  }

  private total: number;

  /** Bytes held by the filters. */
  get bytes(): number {
    return this.total;
  }
}
