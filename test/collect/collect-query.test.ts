/**
 * One source of truth for the hunting query: the text `dsguard collect` sends for a window is the inventory query
 * `dsguard kql` prints, with the window clause the only difference; it, the per-day totals query and the
 * EmailAttachmentInfo / EmailUrlInfo batches parse and bind without an error in Microsoft's KQL language service
 * against the documented email tables (goldens), hostile profile values stay literals, and fact batches respect
 * the text budget. The emulator answers only a text it rebuilds exactly (so the check can fail).
 */
import { describe, expect, it } from 'vitest';
import { buildQuery } from '../../src/core/kql/queries.js';
import {
  dailyTotalsQuery,
  FACT_QUERY_MAX_CHARS,
  inventoryBody,
  messageFactsBatches,
  windowClause,
} from '../../src/core/kql/windowed.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { answerHunting } from '../emulators/hunting.js';
import { expectGoldenText } from '../helpers/golden.js';
import { fixtureProfile } from '../ingest/helpers.js';
import { checkKql, errorsOf } from '../kql/kusto.js';

const W = { from: '2026-07-20T00:00:00.000Z', to: '2026-07-21T00:00:00.000Z' };
const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `${String(i).padStart(8, '0')}-1b62-4c2e-8f7d-08dee9000001`);

describe('the collect queries', () => {
  it('collect sends the inventory `dsguard kql` prints, with datetime bounds instead of ago(30d)', async () => {
    const p = await fixtureProfile();
    const printed = buildQuery('inventory', p, 'hunting').kql;
    const sent = inventoryBody(p, W);
    // The printed query = header comments + the same body; only the window clause differs.
    const body = printed
      .split('\n')
      .filter((l) => !l.startsWith('//'))
      .join('\n');
    expect(body).toContain(`| where ${windowClause({ lookback: '30d' })}\n`);
    expect(sent.replace(windowClause(W), windowClause({ lookback: '30d' }))).toBe(body);
    expect(sent).not.toBe(body);
    expectGoldenText('test/fixtures/collect/inventory-window.kql', `${sent}\n`);
  });

  it('every collect query parses and binds against the documented email tables (goldens)', async () => {
    const p = await fixtureProfile();
    const texts: [string, string][] = [
      ['inventory', inventoryBody(p, W)],
      ['daily-totals', dailyTotalsQuery(p, W)],
      ...messageFactsBatches('EmailAttachmentInfo', W, ids(3)).map(
        (b, i) => [`attachments-${i}`, b.query] as [string, string],
      ),
      ...messageFactsBatches('EmailUrlInfo', W, ids(3)).map((b, i) => [`urls-${i}`, b.query] as [string, string]),
    ];
    for (const [name, q] of texts) expect(errorsOf(q), name).toEqual([]);
    expect(checkKql(dailyTotalsQuery(p, W)).columns).toEqual([
      'Day',
      'Total',
      'Inbound',
      'NoConnector',
      'DirectSend',
      'InternalSpoof',
    ]);
    expectGoldenText('test/fixtures/collect/daily-totals.kql', `${texts[1]![1]}\n`);
    expectGoldenText('test/fixtures/collect/attachments.kql', `${texts[2]![1]}\n`);
    expectGoldenText('test/fixtures/collect/urls.kql', `${texts[3]![1]}\n`);
    // The check can fail: a column EmailUrlInfo lacks.
    expect(errorsOf(texts[3]![1].replace('UrlLocation', 'UrlPlace')).length).toBeGreaterThan(0);
  });

  it('keeps hostile profile values and ids inside one literal each', async () => {
    const base = await fixtureProfile();
    const mk = (d: string[]): TenantProfile => ({ ...base, acceptedDomains: d });
    const hostile = ['evil.com") or true //', 'a\\"; EmailEvents | take 100000 //', 'line\nbreak | union *'];
    const benign = ['d0.example', 'd1.example', 'd2.example'];
    for (const build of [inventoryBody, dailyTotalsQuery]) {
      const evil = checkKql(build(mk(hostile), W));
      expect(evil.diagnostics.filter((d) => d.severity === 'Error')).toEqual([]);
      expect(evil.tokens).toEqual(checkKql(build(mk(benign), W)).tokens);
    }
    const [evilIds] = messageFactsBatches('EmailUrlInfo', W, ['x") | union *', 'y\\"z']);
    const [goodIds] = messageFactsBatches('EmailUrlInfo', W, ['a', 'b']);
    expect(checkKql(evilIds!.query).tokens).toEqual(checkKql(goodIds!.query).tokens);
  });

  it('batches NetworkMessageIds under the text budget, each once, the same batches for the same ids', () => {
    const all = ids(500);
    for (const max of [600, 2_000, FACT_QUERY_MAX_CHARS]) {
      const batches = messageFactsBatches('EmailAttachmentInfo', W, [...all].reverse(), max);
      for (const b of batches) expect(b.query.length).toBeLessThanOrEqual(max);
      expect(batches.flatMap((b) => b.ids)).toEqual(all);
      expect(messageFactsBatches('EmailAttachmentInfo', W, [...all, ...all], max)).toEqual(batches);
    }
    expect(messageFactsBatches('EmailAttachmentInfo', W, all).length).toBe(
      Math.ceil(500 / Math.floor((FACT_QUERY_MAX_CHARS - 300) / 42)),
    );
    expect(() => messageFactsBatches('EmailUrlInfo', W, ['x'.repeat(700)], 600)).toThrow(/too long/);
  });

  it('the emulator answers only a text it rebuilds exactly', async () => {
    const p = await fixtureProfile();
    const t = { profile: p, events: [], rowCap: 10 };
    expect(answerHunting(t, inventoryBody(p, W)).status).toBe(200);
    expect(answerHunting(t, inventoryBody(p, W).replace('isempty(Connectors)', 'true')).status).toBe(400);
    expect(
      answerHunting({ ...t, profile: { ...p, acceptedDomains: ['other.example'] } }, inventoryBody(p, W)).status,
    ).toBe(400);
    expect(answerHunting(null, inventoryBody(p, W)).status).toBe(400);
  });
});
