/**
 * Alert delivery against real local receivers and a real store: Teams and Slack payloads (shape checked by the
 * receiver, hostile subjects made inert), the token bucket and the backoff on an injected clock (no waiting),
 * 429 Retry-After honoured, a refusal not retried, a sink that is down left for the next cycle, a restart that
 * resends nothing delivered, and the webhook URL (a secret) in no error.
 */

import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjsonSink, syslogLine, syslogSink, webhookSink } from '../../src/alerts/alerts.js';
import { defang, slackEscape, slackPayload, slackSink, teamsPayload, teamsSink } from '../../src/alerts/chat-sinks.js';
import {
  type Clock,
  deadLetters,
  deliverOutbox,
  enqueue,
  outbox,
  retryAfterMs,
  retryDead,
  type Sink,
  TokenBucket,
} from '../../src/alerts/delivery.js';
import type { Alert } from '../../src/alerts/watch-state.js';
import { UsageError } from '../../src/cli/io.js';
import { parseRate } from '../../src/cli/watch-command.js';
import { DsguardStore } from '../../src/store/dsguard-store.js';
import { assertInert, checkSlack, checkTeams, startReceiver } from './receivers.js';

const SECRET = '/workflows/8c1f0e3b2a/triggers/manual/paths/invoke?sig=Zr8-secret-SIGNATURE-4417';

const HOSTILE = [
  '[Verify your account](https://evil.example/login)',
  '<!channel> <@U024BE7LH> <https://evil.example|Your bank> ping',
  '**URGENT** _pay_ `now` # heading > quote',
  '{{DATE(2017-02-14T06:08:00Z, SHORT)}} <at>Admin</at>',
  'www.evil.example and ceo@contoso.com via hxxp ftp://files.evil.example',
  'invoice\u202Efdp.exe line1\nline2\r\u0007',
  '&lt;pre-escaped&gt; & more',
];

function alert(i: number, over: Partial<Alert> = {}): Alert {
  return {
    id: `a${String(i).padStart(23, '0')}`,
    kind: 'new-malicious-source',
    tenant: 'Contoso',
    cycle: 1,
    text: `new malicious source: 45.14.71.${i}: malicious internal spoof, 3 message(s)`,
    source: {
      ips: [`45.14.71.${i}`],
      verdict: 'malicious',
      channel: 'internal-spoof',
      messages: 3,
      firstSeen: '2026-11-29T10:00:00.000Z',
      lastSeen: '2026-11-30T10:00:00.000Z',
      name: null,
      senders: ['kate.ng@contoso.com', '<@U0>@evil.example'],
      subjects: HOSTILE,
      why: ['DS101'],
    },
    ...over,
  };
}

/** A clock that only moves when slept on: every wait is recorded, none is real. */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: Date.parse('2026-12-01T00:00:00Z'),
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

let tmp: string;
let n = 0;
function freshStore(alerts: Alert[]): DsguardStore {
  const opened = DsguardStore.open(join(tmp, `s${n++}.db`));
  if (opened.status !== 'ok') throw new Error(opened.error);
  opened.store.transaction(() => enqueue(opened.store, alerts, '2026-12-01T00:00:00Z'));
  return opened.store;
}
const sentRows = (s: DsguardStore) => s.db.prepare('SELECT id, sink FROM alert_sent ORDER BY id, sink').all();

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dsguard-alerts-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('chat payloads', () => {
  it('Teams: a Workflows message with an Adaptive Card; every evidence value inert', () => {
    const p = teamsPayload(alert(1));
    checkTeams(p);
    const text = JSON.stringify(p);
    // The evidence is there, defanged, not dropped.
    expect(text).toContain('Verify your account');
    expect(text).toContain('hxxps[:]//evil[.]example/login');
    expect(text).toContain('ceo[@]contoso[.]com');
  });

  it('Slack: text escaped per Slack (&, <, >), plain_text blocks; no mention or link can form', () => {
    const p = slackPayload(alert(1)) as { text: string; blocks: { text: { text: string } }[] };
    checkSlack(p);
    const all = p.blocks.map((b) => b.text.text).join('\n');
    expect(all).toContain('‹!channel› ‹[@]U024BE7LH›'); // shown, never a mention
    expect(slackPayload(alert(2, { text: 'a <!here> & b' })) as { text: string }).toMatchObject({
      text: expect.stringContaining('a ‹!here› &amp; b'),
    });
    expect(slackEscape('<!here> & <@U1>')).toBe('&lt;!here&gt; &amp; &lt;@U1&gt;');
  });

  it('a readiness flip with many blockers stays within the 50 blocks Slack takes', () => {
    const blockers = Array.from({ length: 40 }, (_, i) => ({
      code: 'DS902',
      text: `S${i} 192.0.2.${i} is undetermined`,
    }));
    const a: Alert = {
      id: 'b'.repeat(24),
      kind: 'readiness-changed',
      tenant: 'Contoso',
      cycle: 4,
      text: 'readiness changed: RejectDirectSend can no longer be enabled (new blockers: DS902)',
      readiness: { ready: false, was: true, added: blockers, removed: blockers },
    };
    const p = slackPayload(a) as { blocks: unknown[] };
    checkSlack(p);
    expect(p.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(p)).toContain('and 25 more');
    checkTeams(teamsPayload(a));
  });

  it('defang is bounded and leaves IPs and times readable', () => {
    expect(defang('45.14.71.10 at 2026-11-30T10:00:00.000Z')).toBe('45.14.71.10 at 2026-11-30T10:00:00.000Z');
    expect(defang('x'.repeat(5000)).length).toBeLessThanOrEqual(300);
    for (const h of HOSTILE) assertInert(defang(h), 'defang');
    // A checker that cannot fail is no check: the raw strings are caught.
    expect(() => assertInert(HOSTILE[0]!, 'raw')).toThrow(/URL scheme/);
    expect(() => checkSlack({ text: '<!channel>', blocks: [] })).toThrow();
    expect(() => checkTeams({ type: 'message', attachments: [{ contentType: 'x' }] })).toThrow(/contentType/);
  });

  it('syslog: one RFC 5424 line with a CEF body, hostile text escaped', () => {
    const line = syslogLine(alert(3, { text: 'a|b=c\nd\\e' }), { now: new Date('2026-12-01T00:00:00Z') });
    expect(line).toMatch(/^<36>1 2026-12-01T00:00:00.000Z dsguard dsguard - new-malicious-source - CEF:0\|/);
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain('msg=a|b\\=c\\nd\\\\e');
  });
});

describe('delivery', () => {
  it('the token bucket lets a burst through, then one per interval, on the injected clock', async () => {
    const clock = fakeClock();
    const b = new TokenBucket({ perSecond: 2, burst: 3 }, clock);
    for (let i = 0; i < 6; i++) await b.take();
    expect(clock.sleeps).toEqual([500, 500, 500]);
    clock.t += 10_000; // idle: the bucket refills to its burst, no more
    for (let i = 0; i < 4; i++) await b.take();
    expect(clock.sleeps).toEqual([500, 500, 500, 500]);
  });

  it('Retry-After: seconds and HTTP-date', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Tue, 01 Dec 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('Teams and Slack receivers get every alert once; 429 Retry-After and 503 backoff honoured; rate-limited', async () => {
    const teams = await startReceiver(SECRET, checkTeams, 202);
    const slack = await startReceiver(SECRET, checkSlack, 200);
    teams.faults.push({ status: 429, retryAfter: '7' });
    slack.faults.push({ status: 503 }, { status: 503 });
    const alerts = [1, 2, 3, 4, 5].map((i) => alert(i));
    const store = freshStore(alerts);
    const clock = fakeClock();
    try {
      const d = await deliverOutbox(store, [teamsSink('teams:T', teams.url), slackSink('slack:S', slack.url)], {
        clock,
      });
      expect(d).toMatchObject({ delivered: 10, skipped: 0, failed: [], pending: 0 });
      expect(teams.errors).toEqual([]);
      expect(slack.errors).toEqual([]);
      expect(teams.accepted.length).toBe(5);
      expect(slack.accepted.length).toBe(5);
      // 7 s asked by Teams; 1 s then 2 s of backoff for Slack; the rest is the buckets (1/s after the burst).
      expect(clock.sleeps).toContain(7000);
      expect(clock.sleeps.filter((s) => s === 1000 || s === 2000).length).toBeGreaterThanOrEqual(2);
      expect(outbox(store)).toEqual([]);
      // Again (a restart): nothing resent.
      const again = await deliverOutbox(store, [teamsSink('teams:T', teams.url), slackSink('slack:S', slack.url)], {
        clock,
      });
      expect(again.delivered).toBe(0);
      expect(teams.accepted.length + slack.accepted.length).toBe(10);
    } finally {
      store.close();
      await teams.close();
      await slack.close();
    }
  });

  it('a refusal is not retried; a sink that is down keeps its alerts for the next cycle; no URL in any error', async () => {
    const hook = await startReceiver(SECRET);
    hook.faults.push({ status: 400 });
    const down = await startReceiver(SECRET);
    const downUrl = down.url;
    await down.close(); // nothing listens there now: ECONNREFUSED
    const alerts = [1, 2, 3].map((i) => alert(i));
    const store = freshStore(alerts);
    const ndjson = join(tmp, 'a.ndjson');
    const sinks: Sink[] = [
      webhookSink('webhook:HOOK', hook.url),
      webhookSink('webhook:DOWN', downUrl),
      ndjsonSink(ndjson),
    ];
    try {
      const clock = fakeClock();
      const d = await deliverOutbox(store, sinks, { clock });
      expect(hook.requests.filter((r) => r.status === 400).length).toBe(1); // 400: once, no retry
      expect(hook.accepted.length).toBe(2);
      expect(d.failed.map((f) => [f.sink, f.id])).toEqual([
        ['webhook:HOOK', alerts[0]!.id],
        ['webhook:DOWN', alerts[0]!.id], // four tries, then the sink waits for the next cycle
      ]);
      expect(clock.sleeps).toEqual([1000, 2000, 4000]);
      expect(d.failed[1]!.error).toBe('webhook:DOWN: ECONNREFUSED');
      for (const f of d.failed) {
        expect(f.error).not.toContain('sig=');
        expect(f.error).not.toContain('127.0.0.1');
      }
      expect(d.pending).toBe(3);
      expect(readFileSync(ndjson, 'utf8').trim().split('\n').length).toBe(3);
      // Next cycle, the hook is up again (same store: a restart reads the same outbox).
      const up = await startReceiver(SECRET);
      const later = await deliverOutbox(
        store,
        [webhookSink('webhook:HOOK', hook.url), webhookSink('webhook:DOWN', up.url), ndjsonSink(ndjson)],
        { clock: fakeClock() },
      );
      expect(later).toMatchObject({ delivered: 4, skipped: 5, failed: [], pending: 0 });
      expect(up.accepted.length).toBe(3);
      expect(readFileSync(ndjson, 'utf8').trim().split('\n').length).toBe(3); // not appended again
      expect(JSON.stringify(sentRows(store))).not.toContain('sig=');
      await up.close();
    } finally {
      store.close();
      await hook.close();
    }
  });

  it('a payload refused in 3 cycles is a dead letter: reported once, skipped, listed, sent again by retryDead', async () => {
    const hook = await startReceiver(SECRET);
    const ndjson = join(tmp, 'dead.ndjson');
    const store = freshStore([alert(1), alert(2)]);
    const sinks = () => [webhookSink('webhook:HOOK', hook.url), ndjsonSink(ndjson)];
    try {
      const results = [];
      for (let cycle = 1; cycle <= 4; cycle++) {
        if (cycle <= 3) hook.faults.push({ status: 400 }); // alert 1 refused each cycle; alert 2 accepted once
        results.push(await deliverOutbox(store, sinks(), { clock: fakeClock() }));
      }
      const [c1, c2, c3, c4] = results;
      expect(c1!.failed.map((f) => f.id)).toEqual([alert(1).id]);
      expect(c1!.dead).toEqual([]);
      expect(c2!.failed.map((f) => f.id)).toEqual([alert(1).id]);
      expect(c3!.failed).toEqual([]);
      expect(c3!.dead).toEqual([
        {
          sink: 'webhook:HOOK',
          id: alert(1).id,
          kind: 'new-malicious-source',
          tenant: 'Contoso',
          status: 400,
          error: 'webhook:HOOK: the webhook answered 400',
          refusals: 3,
          deadAt: '2026-12-01T00:00:00.000Z',
        },
      ]);
      expect(c3!.pending).toBe(0); // a dead letter is not pending: the next cycle has nothing to retry
      // Cycle 4: nothing is sent again, nothing is reported again.
      expect(c4).toMatchObject({ delivered: 0, failed: [], dead: [], pending: 0 });
      expect(hook.requests.map((r) => r.status)).toEqual([400, 204, 400, 400]);
      expect(deadLetters(store)).toEqual(c3!.dead);
      expect(JSON.stringify(deadLetters(store))).not.toContain('sig=');
      // The admin fixed the receiver: retry-dead sends it again, and it leaves the outbox.
      expect(retryDead(store)).toBe(1);
      const again = await deliverOutbox(store, sinks(), { clock: fakeClock() });
      expect(again).toMatchObject({ delivered: 1, failed: [], dead: [], pending: 0 });
      expect(hook.accepted.map((a) => (a.body as { alert: Alert }).alert.id)).toEqual([alert(2).id, alert(1).id]);
      expect(outbox(store)).toEqual([]);
      expect(deadLetters(store)).toEqual([]);
      expect(store.db.prepare('SELECT count(*) AS n FROM alert_refusal').get()).toEqual({ n: 0 });
    } finally {
      store.close();
      await hook.close();
    }
  });

  it('syslog over UDP: one RFC 5424 datagram per alert at a real local listener, once each', async () => {
    const sock = createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const store = freshStore([alert(1), alert(2), alert(3)]);
    try {
      const opened = await syslogSink(`udp://127.0.0.1:${sock.address().port}`);
      if (opened.status !== 'ok') throw new Error(opened.error);
      const { sink } = opened;
      const d = await deliverOutbox(store, [sink], { clock: fakeClock() });
      expect(d).toMatchObject({ delivered: 3, failed: [], pending: 0 });
      const again = await deliverOutbox(store, [sink], { clock: fakeClock() });
      expect(again.delivered).toBe(0);
      for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got.map((l) => /cs1=([0-9a-f]{24})/.exec(l)?.[1]).sort()).toEqual([1, 2, 3].map((i) => alert(i).id));
      for (const l of got) expect(l).toMatch(/^<36>1 \S+ \S+ dsguard - new-malicious-source - CEF:0\|dsguard\|/);
    } finally {
      store.close();
      sock.close();
    }
  });

  it('--rate values: N/s with an optional burst; anything else is a usage error', () => {
    expect(parseRate('teams=1/s,4')).toEqual({ sink: 'teams', rate: { perSecond: 1, burst: 4 } });
    expect(parseRate('webhook:HOOK=0.5/s')).toEqual({ sink: 'webhook:HOOK', rate: { perSecond: 0.5, burst: 1 } });
    expect(parseRate('syslog=250/s')).toEqual({ sink: 'syslog', rate: { perSecond: 250, burst: 250 } });
    for (const bad of [
      'teams=0/s',
      'teams=1001/s',
      'teams=1/m',
      'teams=1',
      '=1/s',
      'teams=1/s,0',
      'teams=1/s,x',
      'teams=1e3/s',
    ])
      expect(() => parseRate(bad), bad).toThrow(UsageError);
  });

  it('a Retry-After past the longest wait leaves the sink for the next cycle instead of sleeping an hour', async () => {
    const hook = await startReceiver(SECRET);
    hook.faults.push({ status: 429, retryAfter: '3600' });
    const store = freshStore([alert(1), alert(2)]);
    try {
      const clock = fakeClock();
      const d = await deliverOutbox(store, [webhookSink('webhook:H', hook.url)], { clock });
      expect(clock.sleeps).toEqual([]);
      expect(d.failed).toEqual([
        { sink: 'webhook:H', id: alert(1).id, error: 'webhook:H: the webhook answered 429; asked to wait 3600 s' },
      ]);
      expect(d.pending).toBe(2);
      expect(hook.requests.length).toBe(1);
    } finally {
      store.close();
      await hook.close();
    }
  });

  it('stops between alerts once the signal is aborted (the rest stays in the outbox)', async () => {
    const hook = await startReceiver(SECRET);
    const store = freshStore([alert(1), alert(2), alert(3)]);
    const controller = new AbortController();
    const sink: Sink = {
      name: 'stopper',
      rate: null,
      send: async (a) => {
        controller.abort();
        return webhookSink('w', hook.url).send(a);
      },
    };
    try {
      const d = await deliverOutbox(store, [sink], { signal: controller.signal, clock: fakeClock() });
      expect(d.delivered).toBe(1);
      expect(d.pending).toBe(2);
    } finally {
      store.close();
      await hook.close();
    }
  });
});
