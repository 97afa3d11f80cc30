/**
 * One source of truth for the hunting query: the text `dsguard collect` sends for a window is the inventory query
 * `dsguard kql` prints, with the window clause the only difference; it, the per-day totals query and the
 * EmailAttachmentInfo / EmailUrlInfo queries (a semi-join with the inventory) parse and bind without an error in
 * Microsoft's KQL language service against the documented email tables (goldens), hostile profile values stay
 * literals, and the semi-join keeps every inventory message that may have attachments / URLs. The emulator answers only a text it rebuilds exactly (so the check can fail).
 */
import { describe, expect, it } from 'vitest';
import { buildQuery } from '../../src/core/kql/queries.js';
import { dailyTotalsQuery, factsOfInventoryQuery, inventoryBody, windowClause } from '../../src/core/kql/windowed.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { answerHunting, factMessageIds, type Row } from '../emulators/hunting.js';
import { expectGoldenText } from '../helpers/golden.js';
import { fixtureProfile } from '../ingest/helpers.js';
import { checkKql, errorsOf } from '../kql/kusto.js';

const W = { from: '2026-07-20T00:00:00.000Z', to: '2026-07-21T00:00:00.000Z' };
/** The facts window of W: an hour's margin either side. */
const FW = { from: '2026-07-19T23:00:00.000Z', to: '2026-07-21T01:00:00.000Z' };

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
      ['attachments', factsOfInventoryQuery(p, 'EmailAttachmentInfo', W, FW)],
      ['urls', factsOfInventoryQuery(p, 'EmailUrlInfo', W, FW)],
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
    expect(checkKql(texts[3]![1]).columns).toEqual([
      'Timestamp',
      'NetworkMessageId',
      'Url',
      'UrlDomain',
      'UrlLocation',
      'ReportId',
    ]);
    // The check can fail: a column EmailUrlInfo lacks, a count EmailEvents lacks.
    expect(errorsOf(texts[3]![1].replace('UrlLocation', 'UrlPlace')).length).toBeGreaterThan(0);
    expect(errorsOf(texts[3]![1].replaceAll('UrlCount', 'UrlCounts')).length).toBeGreaterThan(0);
  });

  it('keeps hostile profile values and ids inside one literal each', async () => {
    const base = await fixtureProfile();
    const mk = (d: string[]): TenantProfile => ({ ...base, acceptedDomains: d });
    const hostile = ['evil.com") or true //', 'a\\"; EmailEvents | take 100000 //', 'line\nbreak | union *'];
    const benign = ['d0.example', 'd1.example', 'd2.example'];
    const builds = [
      inventoryBody,
      dailyTotalsQuery,
      (q: TenantProfile, w: typeof W) => factsOfInventoryQuery(q, 'EmailUrlInfo', w, FW),
    ];
    for (const build of builds) {
      const evil = checkKql(build(mk(hostile), W));
      expect(evil.diagnostics.filter((d) => d.severity === 'Error')).toEqual([]);
      expect(evil.tokens).toEqual(checkKql(build(mk(benign), W)).tokens);
    }
  });

  it('the semi-join keeps every inventory message that may have attachments / URLs, and no other', async () => {
    const p = await fixtureProfile();
    const d = p.acceptedDomains[0]!;
    const row = (id: string, count: unknown, over: Row = {}): Row => ({
      Timestamp: '2026-07-20T10:00:00Z',
      NetworkMessageId: id,
      EmailDirection: 'Inbound',
      Connectors: '',
      SenderIPv4: '203.0.113.9',
      SenderMailFromDomain: d,
      SenderFromDomain: d,
      RecipientEmailAddress: `a@${d}`,
      AttachmentCount: count,
      UrlCount: count,
      ...over,
    });
    const events = [
      row('two', 2),
      row('zero', 0),
      row('missing', null),
      row('text', '1'),
      row('outbound', 3, { EmailDirection: 'Outbound' }),
      row('late', 3, { Timestamp: '2026-07-21T00:00:00Z' }),
    ];
    const from = Date.parse(W.from);
    const to = Date.parse(W.to);
    for (const t of ['EmailAttachmentInfo', 'EmailUrlInfo'] as const)
      expect([...factMessageIds(events, p, t, from, to)].sort()).toEqual(['missing', 'text', 'two']);
    // The query states that selection: the inventory's conditions and the count.
    const q = factsOfInventoryQuery(p, 'EmailAttachmentInfo', W, FW);
    expect(q).toContain(inventoryBody(p, W).split('\n')[2]!.trim());
    expect(q).toContain('| where isnull(AttachmentCount) or AttachmentCount != 0');
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
    const fq = factsOfInventoryQuery(p, 'EmailUrlInfo', W, FW);
    expect(answerHunting(t, fq).status).toBe(200);
    expect(answerHunting(t, fq.replace('UrlCount != 0', 'UrlCount > 1')).status).toBe(400);
  });
});
