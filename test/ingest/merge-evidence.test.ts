/**
 * Merging the evidence of every row about one delivery: the most informative source leads, gaps are filled from
 * the others, lists are united without duplicates — in time linear in the rows, since one message can have
 * hundreds of URL or attachment rows and thousands of recipients.
 */
import { describe, expect, it } from 'vitest';
import { emptyEvidence, type MessageEvidence } from '../../src/core/evidence.js';
import { mergeEvidence } from '../../src/ingest/exports/merge-evidence.js';

const ref = (source: string, field: string, value: string) => ({ source, field, value });

function urlRow(i: number, url: string): MessageEvidence {
  const ev = emptyEvidence(`urls.json:${i}`, 'email-events');
  ev.urls.push({ url, location: 'body', ref: ref('urls.json', 'Url', url) });
  return ev;
}

describe('mergeEvidence', () => {
  it('lets the most informative row lead, fills gaps from the others and unites lists once', () => {
    const trace = emptyEvidence('trace.csv', 'message-trace');
    trace.subject = { value: 'Notice', ref: ref('trace.csv', 'Subject', 'Notice') };
    trace.connectingIp = { value: '203.0.113.77', ref: ref('trace.csv', 'FromIP', '203.0.113.77') };
    const events = emptyEvidence('events.json', 'email-events');
    events.subject = { value: 'Notice (events)', ref: ref('events.json', 'Subject', 'Notice (events)') };
    const merged = mergeEvidence([trace, urlRow(1, 'https://a.example/'), events, urlRow(2, 'https://a.example/')]);
    expect(merged.subject?.value).toBe('Notice (events)');
    expect(merged.connectingIp?.ref.source).toBe('trace.csv');
    expect(merged.urls.map((u) => u.url)).toEqual(['https://a.example/']);
    // The inputs are left as they were.
    expect(events.urls).toEqual([]);
  });

  it('unites 20,000 URL rows of one message in linear time', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => urlRow(i, `https://intranet.example/page/${i}`));
    const started = performance.now();
    const merged = mergeEvidence([emptyEvidence('trace.csv', 'message-trace'), ...rows, rows[5]!]);
    const ms = performance.now() - started;
    expect(merged.urls).toHaveLength(20_000);
    expect(new Set(merged.urls.map((u) => u.url)).size).toBe(20_000);
    // About 60 ms; rebuilding the set of seen URLs for every row took minutes.
    expect(ms).toBeLessThan(3_000);
  });
});
