/**
 * The store's buffer of certainly-new delivery keys (see DsguardStore.insertDelivery): typed columns that grow,
 * the order to write them in, and the arguments of one multi-row INSERT at a time.
 * @module
 */

/** Delivery keys written together in one statement when they are certainly new. */
export const KEYS_PER_STATEMENT = 64;

/**
 * Keys of one day this connection has written past which its waiting keys are sorted before they are written
 * (2,000,000 rows of one day: 39.6 -> 31.2 s); below it, a day's pages stay in the page cache and sorting only costs.
 */
const LARGE_DAY = 200_000;

/**
 * Certainly-new delivery keys waiting for their statements: a whole commit's worth, written in key order. Keys land
 * at random places within a day; written as they come, a day of a million deliveries outgrows the page cache and
 * every insert reads and rewrites pages; sorted, each commit sweeps the day's pages once.
 */
export class KeyBuffer {
  count = 0;
  private days = new Float64Array(1024);
  private hs = new Float64Array(1024);
  private buckets = new Float64Array(1024);
  private stored = new Uint8Array(1024);
  readonly args: number[] = new Array<number>(KEYS_PER_STATEMENT * 4).fill(0);

  push(day: number, h: number, bucket: number, stored: number): void {
    if (this.count === this.days.length) this.grow();
    const i = this.count++;
    this.days[i] = day;
    this.hs[i] = h;
    this.buckets[i] = bucket;
    this.stored[i] = stored;
  }

  private grow(): void {
    const n = this.days.length * 2;
    const copy = <T extends Float64Array | Uint8Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.days = copy(this.days, new Float64Array(n));
    this.hs = copy(this.hs, new Float64Array(n));
    this.buckets = copy(this.buckets, new Float64Array(n));
    this.stored = copy(this.stored, new Uint8Array(n));
  }

  /**
   * The order to write the waiting keys in: (day, h) when one of their days already holds `LARGE_DAY` keys of
   * this connection (its pages no longer fit the cache), as they came otherwise (sorting costs more than it saves
   * while a day is small). Counts the keys per day for the next time.
   */
  order(written: Map<number, number>): number[] {
    const order = Array.from({ length: this.count }, (_, i) => i);
    const { days, hs } = this;
    let large = false;
    let day = Number.NaN;
    let run = 0;
    const close = () => {
      if (run === 0) return;
      const n = (written.get(day) ?? 0) + run;
      written.set(day, n);
      if (n >= LARGE_DAY) large = true;
    };
    for (let i = 0; i < this.count; i++) {
      if (days[i] !== day) {
        close();
        day = days[i]!;
        run = 0;
      }
      run++;
    }
    close();
    if (large) order.sort((a, b) => days[a]! - days[b]! || hs[a]! - hs[b]!);
    return order;
  }

  fill(order: readonly number[], from: number): number {
    const n = Math.min(KEYS_PER_STATEMENT, order.length - from);
    for (let k = 0; k < n; k++) {
      const i = order[from + k]!;
      const j = k * 4;
      this.args[j] = this.days[i]!;
      this.args[j + 1] = this.hs[i]!;
      this.args[j + 2] = this.buckets[i]!;
      this.args[j + 3] = this.stored[i]!;
    }
    return n;
  }
}
