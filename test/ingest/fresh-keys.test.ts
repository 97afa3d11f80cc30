/**
 * The store's certainly-new key filter: it may send a new key down the exact path (a false positive), but must
 * never call a key new twice, nor a key of a day that held keys before.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hash53 } from '../../src/core/delivery-key.js';
import { FreshKeys } from '../../src/store/fresh-keys.js';
import { openStore, tempDir } from './helpers.js';

/** Delivery-like keys: 53-bit hashes of distinct texts, over a few days. */
function keys(n: number, salt: string): { day: number; h: number }[] {
  return Array.from({ length: n }, (_, i) => ({ day: 20660 + (i % 9), h: hash53(`${salt}-${i}@contoso.com`) }));
}

describe('FreshKeys', () => {
  it('never calls a key new twice, also once the filter has grown well past its expected size', () => {
    const f = new FreshKeys(new Set(), 1000);
    const ks = keys(400_000, 'a');
    let fresh = 0;
    for (const k of ks) if (f.claim(k.day, k.h)) fresh++;
    let again = 0;
    for (const k of ks) if (f.claim(k.day, k.h)) again++;
    expect(again).toBe(0);
    // Grown from 65,536 keys (the least) in filters of twice the size: some new keys were doubted, few.
    expect(fresh).toBeGreaterThan(ks.length * 0.95);
    expect(f.bytes).toBeLessThan(2 * 1024 * 1024);
  });

  it('stops growing at its memory bound, and still never calls a key new twice', () => {
    const f = new FreshKeys(new Set(), 1000, 256 * 1024);
    const ks = keys(600_000, 'm');
    for (const k of ks) f.claim(k.day, k.h);
    // 64 + 128 KiB of filters: a third of 256 KiB would pass the bound, so the second fills up instead.
    expect(f.bytes).toBe(192 * 1024);
    let again = 0;
    for (const k of ks) if (f.claim(k.day, k.h)) again++;
    expect(again).toBe(0);
  });

  it('doubts few new keys when sized for them', () => {
    const f = new FreshKeys(new Set(), 200_000);
    const ks = keys(200_000, 'b');
    let fresh = 0;
    for (const k of ks) if (f.claim(k.day, k.h)) fresh++;
    expect(fresh).toBeGreaterThan(ks.length * 0.97);
    // Keys it never saw, tested after: the rate of false positives at the expected size.
    let doubted = 0;
    for (const k of keys(100_000, 'c')) if (!f.claim(k.day, k.h)) doubted++;
    expect(doubted).toBeLessThan(3_000);
  });

  it('tells the same hash on two days apart', () => {
    const f = new FreshKeys(new Set(), 10_000);
    const h = hash53('x@contoso.com');
    expect(f.claim(20660, h)).toBe(true);
    expect(f.claim(20661, h)).toBe(true);
    expect(f.claim(20660, h)).toBe(false);
  });

  it('never calls a key of a day that held keys before new', () => {
    const f = new FreshKeys(new Set([20660]));
    for (const k of keys(1000, 'd')) expect(f.claim(20660, k.h)).toBe(false);
    expect(f.claim(20661, hash53('y@contoso.com'))).toBe(true);
  });
});

describe('DsguardStore delivery keys, certainly-new ones written in bulk', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  /** 300 keys over three days, every tenth one a repeat of an earlier key (with another bucket). */
  const script = Array.from({ length: 300 }, (_, i) => {
    const n = i % 10 === 9 ? i - 5 : i;
    return { day: 20660 + (n % 3), h: hash53(`k${n}`), bucket: 1 + (i % 4), stored: i % 7 === 0 };
  });

  function run(path: string, exact: boolean) {
    const store = openStore(path);
    if (exact) store.exactKeysOnly();
    const answers: boolean[] = [];
    const put = (k: (typeof script)[number]) => answers.push(store.insertDelivery(k.day, k.h, k.bucket, k.stored));
    try {
      store.transaction(() => script.slice(0, 150).forEach(put));
      // A rolled-back transaction takes its keys with it, waiting ones included.
      expect(() =>
        store.transaction(() => {
          script.slice(150, 230).forEach(put);
          throw new Error('rolled back');
        }),
      ).toThrow('rolled back');
      store.transaction(() => {
        script.slice(150, 200).forEach(put);
        // A nested transaction (a savepoint) that fails takes back only its own keys.
        expect(() =>
          store.transaction(() => {
            script.slice(200, 260).forEach(put);
            throw new Error('inner');
          }),
        ).toThrow('inner');
        script.slice(200, 280).forEach(put);
        // A read sees keys still waiting.
        expect(store.delivery(script[210]!.day, script[210]!.h)).not.toBeNull();
      });
      // Outside a transaction a key is written at once.
      script.slice(280).forEach(put);
      const rows = store.db.prepare('SELECT day, h, bucket, stored FROM delivery ORDER BY day, h').all();
      return { answers, rows };
    } finally {
      store.close();
    }
  }

  it('gives the answers and rows of one statement a key, rollbacks and a nested transaction included', () => {
    const bulk = run(join(tmp.dir, 'bulk.db'), false);
    const exact = run(join(tmp.dir, 'exact.db'), true);
    expect(bulk).toEqual(exact);
    expect(bulk.rows.length).toBeGreaterThan(200);
  });

  it("writes a busy day's waiting keys in key order, to the same rows as one statement a key", () => {
    // Past 200,000 keys of one day the waiting keys of a commit are sorted before they are written (and the
    // buffer has grown far past its first 1,024 slots): every key must keep its own bucket and flag.
    const day = 20660;
    const keys = Array.from({ length: 210_000 }, (_, i) => hash53(`busy${i}`));
    const write = (path: string, exact: boolean) => {
      const store = openStore(path);
      if (exact) store.exactKeysOnly();
      let fresh = 0;
      const put = (h: number, bucket: number, stored: boolean) => {
        if (store.insertDelivery(day, h, bucket, stored)) fresh++;
      };
      try {
        store.transaction(() => {
          for (const [i, h] of keys.entries()) put(h, 1 + (i % 3), i % 5 === 0);
        });
        store.transaction(() => {
          for (const h of keys.slice(0, 1_000)) put(h, 9, true);
          for (let i = 0; i < 3_000; i++) put(hash53(`late${i}`), 4 + (i % 2), i % 2 === 0);
        });
        const rows = store.db
          .prepare(
            'SELECT count(*) AS n, sum((h % 1000003) * (bucket + 7 * stored)) AS check_sum, max(day) AS day FROM delivery',
          )
          .get();
        return { fresh, rows };
      } finally {
        store.close();
      }
    };
    const bulk = write(join(tmp.dir, 'bulk.db'), false);
    expect(bulk.fresh).toBe(213_000);
    expect(bulk).toEqual(write(join(tmp.dir, 'exact.db'), true));
  });

  it('notices keys another connection wrote meanwhile in a full 64-key statement', () => {
    const path = join(tmp.dir, 'a.db');
    const late = openStore(path);
    const other = openStore(path);
    try {
      const keys = Array.from({ length: 128 }, (_, i) => hash53(`x${i}`));
      other.transaction(() => {
        for (const h of keys) other.insertDelivery(20660, h, 1, false);
      });
      // `late` was opened while 20660 held no key: it takes these for certainly new.
      expect(
        late.keysInStep(() =>
          late.transaction(() => {
            for (const h of keys) late.insertDelivery(20660, h, 1, false);
            return 'written';
          }),
        ),
      ).toBeNull();
      late.exactKeysOnly();
      late.transaction(() => {
        for (const h of keys) expect(late.insertDelivery(20660, h, 1, false)).toBe(false);
      });
      expect(late.db.prepare('SELECT count(*) AS n FROM delivery').get()).toEqual({ n: 128 });
    } finally {
      late.close();
      other.close();
    }
  });
});
