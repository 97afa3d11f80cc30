/**
 * The store's certainly-new key filter: it may send a new key down the exact path (a false positive), but must
 * never call a key new twice, nor a key of a day that held keys before.
 */
import { describe, expect, it } from 'vitest';
import { FreshKeys } from '../../src/store/fresh-keys.js';
import { hash53 } from '../../src/store/keys.js';

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
