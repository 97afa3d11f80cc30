/** collect's progress line as a pure function: tenant, source, window, rows, requests, the estimate of time left. */
import { describe, expect, it } from 'vitest';
import { etaMs, formatDuration, formatProgress } from '../../src/collect/progress.js';

describe('collect progress', () => {
  it('says tenant, source, window, rows, requests and ETA', () => {
    expect(
      formatProgress({
        tenant: 'contoso.onmicrosoft.com',
        source: 'hunting',
        window: { from: '2026-07-20T00:00:00.000Z', to: '2026-07-21T00:00:00.000Z' },
        rows: 812,
        totalRows: 5120,
        requests: 9,
        done: 6,
        total: 30,
        elapsedMs: 12_000,
      }),
    ).toBe(
      'contoso.onmicrosoft.com hunting · 2026-07-20 00:00Z → 2026-07-21 00:00Z · 812 rows (5120 in all) · 9 requests · 6/30 · ETA 48s',
    );
  });

  it('has no estimate before the first unit, and says what a note says', () => {
    const line = formatProgress({
      tenant: 't',
      source: 'message trace',
      rows: 0,
      totalRows: 0,
      requests: 1,
      done: 0,
      total: 9,
      elapsedMs: 500,
      note: '3 page(s)',
    });
    expect(line).toBe('t message trace · 0 rows (0 in all) · 1 requests · 0/9 · ETA … · 3 page(s)');
  });

  it('estimates from the mean time of a unit', () => {
    expect(etaMs({ done: 4, total: 10, elapsedMs: 8_000 })).toBe(12_000);
    expect(etaMs({ done: 0, total: 10, elapsedMs: 8_000 })).toBeNull();
    expect(etaMs({ done: 10, total: 10, elapsedMs: 8_000 })).toBe(0);
    expect([formatDuration(400), formatDuration(65_000), formatDuration(3_725_000)]).toEqual(['0s', '1m05s', '1h02m']);
  });
});
