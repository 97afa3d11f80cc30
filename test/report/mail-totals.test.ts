/** The per-day totals of all mail that `dsguard collect` stores, as the report reads them back. */
import { describe, expect, it } from 'vitest';
import { storedMailTotals } from '../../src/report/mail-totals.js';
import { mailTotalsLine } from '../../src/report/tenant-report-text.js';
import { DsguardStore } from '../../src/store/dsguard-store.js';

function store(): DsguardStore {
  const r = DsguardStore.open(':memory:');
  if (r.status === 'error') throw new Error(r.error);
  return r.store;
}

const add = (
  s: DsguardStore,
  tenant: string,
  day: string,
  n: [number, number, number, number, number],
  complete: 0 | 1,
) =>
  s.db
    .prepare(
      `INSERT INTO collect_daily_total (tenant, day, total, inbound, no_connector, direct_send, internal_spoof, complete,
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '2026-07-31T00:00:00Z')`,
    )
    .run(tenant, day, ...n, complete);

describe('stored mail totals', () => {
  it('sums the days of every tenant, counts only whole days as complete, and honours --since', () => {
    const s = store();
    add(s, 'contoso', '2026-07-01', [1000, 800, 60, 40, 5], 1);
    add(s, 'fabrikam', '2026-07-01', [500, 400, 20, 10, 0], 0);
    add(s, 'contoso', '2026-07-02', [900, 700, 30, 20, 1], 1);
    expect(storedMailTotals(s.db, null)).toEqual({
      days: 2,
      completeDays: 1,
      total: 2400,
      inbound: 1900,
      noConnector: 110,
      directSend: 70,
      internalSpoof: 6,
      directSendPercentOfInbound: 3.68,
    });
    expect(mailTotalsLine(storedMailTotals(s.db, null)!)).toContain('70 Direct Send (3.68 % of inbound)');
    expect(storedMailTotals(s.db, '2026-07-02')).toMatchObject({ days: 2 - 1, completeDays: 1, directSend: 20 });
    expect(storedMailTotals(s.db, '2026-07-03')).toBeNull();
    s.close();
  });

  it('gives no share of inbound mail when there was none', () => {
    const s = store();
    add(s, 'contoso', '2026-07-01', [10, 0, 0, 0, 0], 1);
    const t = storedMailTotals(s.db, null);
    expect(t?.directSendPercentOfInbound).toBeNull();
    // Said as missing, not as 0 %.
    expect(mailTotalsLine(t!)).toContain('0 Direct Send (no inbound mail to compare with)');
    s.close();
  });

  it('is null for a store of exports alone and for one that predates the table', () => {
    const s = store();
    expect(storedMailTotals(s.db, null)).toBeNull();
    s.db.exec('DROP TABLE collect_daily_total');
    expect(storedMailTotals(s.db, null)).toBeNull();
    s.close();
  });

  it('lets a real SQLite failure through instead of reporting no totals', () => {
    const s = store();
    s.db.exec('DROP TABLE collect_daily_total; CREATE TABLE collect_daily_total (tenant TEXT)');
    expect(() => storedMailTotals(s.db, null)).toThrow(/no such column/);
    s.close();
  });
});
