/**
 * The trace fast counter (count key read straight from CSV fields) against adapt(), the general path it stands
 * in for: on every shape it accepts, the day, delivery hash and class key halves must be the same; shapes it
 * does not handle must be refused (the caller then adapts the row), never counted differently.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import { dayOf, deliveryHash, hash53, hashPair, StreamHash53 } from '../../src/core/delivery-key.js';
import { RowClassifier } from '../../src/ingest/classify.js';
import type { CountKey } from '../../src/ingest/exports/export-adapter.js';
import { CsvRow, headerIndex } from '../../src/ingest/exports/export-row.js';
import { MESSAGE_TRACE_ADAPTER } from '../../src/ingest/exports/message-trace.js';

const HEADER = ['MessageTraceId', 'MessageId', 'Received', 'SenderAddress', 'RecipientAddress', 'FromIP', 'Subject'];

// Both kinds of classifier: one folds IPs to the two classes the channel rules tell apart (no IP-matched
// connector), the other keeps every IP (a connector matched by sender IP).
const FOLDING = new RowClassifier({ profile: null });
const connectorProfile = parseProfile(
  'tenant:\n  domains: [contoso.com]\nconnectors:\n  - name: P\n    type: Partner\n    senderIps: [192.0.2.0/24]\n',
  'p.yml',
);
if (connectorProfile.status !== 'ok') throw new Error(connectorProfile.error);
const KEEPING = new RowClassifier({ profile: connectorProfile.profile });
let classifier = FOLDING;

/** What the general path gives for a record, or null when it would not count it (error, no id, …). */
function slowKey(header: string[], fields: string[]): CountKey | null {
  const res = MESSAGE_TRACE_ADAPTER.adapt(new CsvRow(headerIndex(header), header, fields), { file: 'f', row: 1 });
  if (res.status === 'error' || res.row.messageId === null || res.row.recipients.length !== 1) return null;
  const [classKey, classCheck] = hashPair(classifier.keyText(res.row));
  return {
    day: dayOf(res.row.receivedMs),
    h: deliveryHash(res.row.messageId, res.row.recipients[0]!),
    classKey,
    classCheck,
  };
}

function fastKey(header: string[], fields: string[]): CountKey | null {
  const counter = MESSAGE_TRACE_ADAPTER.fastCounter!(headerIndex(header), (ip) => classifier.ipToken(ip));
  expect(counter).not.toBeNull();
  const out: CountKey = { day: -1, h: -1, classKey: -1, classCheck: -1 };
  return counter!(fields, out) ? out : null;
}

const GUID = '0bf818a2-6daf-e6bd-cf98-08de8d6b8fa3';
const base = (over: Partial<Record<string, string>> = {}) =>
  HEADER.map(
    (h) =>
      ({
        MessageTraceId: GUID,
        MessageId: '<x@contoso.com>',
        Received: '7/31/2026 11:00:00 PM',
        SenderAddress: 'anna.tanaka@outlook.com',
        RecipientAddress: 'jonas.olsen@contoso.com',
        FromIP: '75.73.124.215',
        Subject: 'Hello, world',
        ...over,
      })[h] ?? '',
  );

describe.each([
  ['IPs folded', FOLDING],
  ['IPs kept', KEEPING],
])('trace fast counter, %s', (_name, c) => {
  beforeEach(() => {
    classifier = c;
  });

  it('reads the plain export shape, with the same keys as adapt()', () => {
    const f = base();
    expect(fastKey(HEADER, f)).toEqual(slowKey(HEADER, f));
    expect(fastKey(HEADER, f)).not.toBeNull();
  });

  // Every variant is either refused or counted exactly as adapt() counts it.
  const variants: [string, Partial<Record<string, string>>, 'fast' | 'either'][] = [
    ['upper-case GUID', { MessageTraceId: GUID.toUpperCase() }, 'fast'],
    [
      'upper-case addresses',
      { SenderAddress: 'Anna.Tanaka@OUTLOOK.com', RecipientAddress: 'JONAS@Contoso.COM' },
      'fast',
    ],
    [
      'non-ASCII local parts',
      { SenderAddress: 'chloé.müller@contoso.co.uk', RecipientAddress: 'Jonas.MÜLLER@contoso.com' },
      'fast',
    ],
    ['non-ASCII first character', { RecipientAddress: 'ÉMILE@contoso.com' }, 'either'],
    ['IDN domain', { SenderAddress: 'a@Münich.example', RecipientAddress: 'b@ÉXAMPLE.com' }, 'fast'],
    ['trailing dot domain', { SenderAddress: 'a@contoso.com.', RecipientAddress: 'b@contoso.com..' }, 'fast'],
    ['space inside domain', { SenderAddress: 'a@ contoso.com' }, 'fast'],
    ['empty sender', { SenderAddress: '' }, 'fast'],
    ['blank sender', { SenderAddress: '   ' }, 'either'],
    ['sender without @', { SenderAddress: 'MAILER-DAEMON' }, 'fast'],
    ['sender with display name', { SenderAddress: 'Anna <anna@contoso.com>' }, 'either'],
    ['recipient with angle brackets', { RecipientAddress: '<jonas@contoso.com>' }, 'either'],
    ['recipient padded', { RecipientAddress: ' jonas@contoso.com ' }, 'either'],
    ['empty recipient', { RecipientAddress: '' }, 'either'],
    ['IPv6 FromIP', { FromIP: '2A01:111:F403:C000::1' }, 'fast'],
    ['broadcast FromIP', { FromIP: '255.255.255.255' }, 'fast'],
    ['mapped broadcast FromIP', { FromIP: '::ffff:255.255.255.255' }, 'fast'],
    ['connector FromIP', { FromIP: '192.0.2.7' }, 'fast'],
    ['padded FromIP', { FromIP: '  10.0.0.1 ' }, 'fast'],
    ['empty FromIP', { FromIP: '' }, 'fast'],
    ['GUID in braces', { MessageTraceId: `{${GUID}}` }, 'either'],
    ['GUID without dashes', { MessageTraceId: GUID.replaceAll('-', '') }, 'either'],
    ['not a GUID, 36 chars', { MessageTraceId: 'zbf818a2-6daf-e6bd-cf98-08de8d6b8fa3' }, 'either'],
    ['G is not hex', { MessageTraceId: 'Gbf818a2-6daf-e6bd-cf98-08de8d6b8fa3' }, 'either'],
    ['dash out of place', { MessageTraceId: '0bf818a26-daf-e6bd-cf98-08de8d6b8fa3' }, 'either'],
    ['no message trace id', { MessageTraceId: '' }, 'either'],
    ['ISO date', { Received: '2026-07-31T23:00:00.0000000Z' }, 'fast'],
    ['24-hour date', { Received: '31/07/2026 23:00:00' }, 'fast'],
    ['padded date', { Received: ' 7/31/2026 11:00:00 PM ' }, 'fast'],
    ['midnight', { Received: '7/31/2026 12:00:00 AM' }, 'fast'],
    ['not a date', { Received: 'yesterday' }, 'either'],
    ['hour 13 PM', { Received: '7/31/2026 13:00:00 PM' }, 'either'],
    ['empty date', { Received: '' }, 'either'],
  ];
  it.each(variants)('%s', (_name, over, expectation) => {
    const f = base(over);
    const fast = fastKey(HEADER, f);
    const slow = slowKey(HEADER, f);
    if (fast !== null) expect(fast).toEqual(slow);
    if (expectation === 'fast') expect(fast).not.toBeNull();
  });

  it('is the same under another column order, and without the optional columns', () => {
    const header = ['RecipientAddress', 'Received', 'MessageTraceId'];
    const f = ['Jonas@Contoso.com', '7/31/2026 11:00:00 PM', GUID];
    expect(fastKey(header, f)).toEqual(slowKey(header, f));
    expect(fastKey(header, f)).not.toBeNull();
    // Short records (fewer fields than the header) are refused or counted alike.
    const short = [GUID, '<x@y>', '7/31/2026 11:00:00 PM'];
    const fast = fastKey(HEADER, short);
    if (fast !== null) expect(fast).toEqual(slowKey(HEADER, short));
  });

  it('is not offered without the key columns', () => {
    expect(MESSAGE_TRACE_ADAPTER.fastCounter!(headerIndex(['Received', 'RecipientAddress']), (ip) => ip)).toBeNull();
  });

  it('agrees with adapt() on many generated rows', () => {
    let state = 7;
    const rnd = (n: number) => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const pick = <T>(a: T[]) => a[rnd(a.length)]!;
    const locals = ['anna', 'Ben', 'chloé', 'DAVID', 'émile', 'x.y+z', 'İnci'];
    const domains = ['contoso.com', 'Contoso.CO.UK', 'fabrikam.com.', 'münich.example', 'EXAMPLE.org', ''];
    let fastCount = 0;
    for (let i = 0; i < 3000; i++) {
      const hex = '0123456789abcdefABCDEF';
      let guid = '';
      for (let k = 0; k < 32; k++) guid += hex[rnd(hex.length)];
      const id = `${guid.slice(0, 8)}-${guid.slice(8, 12)}-${guid.slice(12, 16)}-${guid.slice(16, 20)}-${guid.slice(20)}`;
      const f = base({
        MessageTraceId: id,
        SenderAddress: rnd(10) === 0 ? '' : `${pick(locals)}@${pick(domains)}`,
        RecipientAddress: `${pick(locals)}@${pick(domains)}`,
        FromIP: pick(['', '1.2.3.4', '2a01:111:f403::1', ' 10.0.0.1', '255.255.255.255']),
        Received: `${1 + rnd(12)}/${1 + rnd(28)}/2026 ${1 + rnd(12)}:${String(rnd(60)).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')} ${pick(['AM', 'PM', 'pm'])}`,
      });
      const fast = fastKey(HEADER, f);
      if (fast === null) continue;
      fastCount++;
      expect(fast).toEqual(slowKey(HEADER, f));
    }
    // Addresses starting with a non-ASCII letter are not bare for toMailAddress either: those rows are refused.
    expect(fastCount).toBeGreaterThan(1200);
  });
});

describe('StreamHash53', () => {
  it('equals hash53 of the concatenation, fed in pieces', () => {
    const h = new StreamHash53();
    for (const parts of [
      [''],
      ['a'],
      ['message-trace|', 'contoso.com', '|', 'x'],
      ['İnci', 'é', '北京', '\u{1F600}'],
    ]) {
      h.start();
      for (const p of parts) h.text(p);
      expect(h.end()).toBe(hash53(parts.join('')));
      h.start(0x5eed);
      for (const c of parts.join('')) for (let i = 0; i < c.length; i++) h.char(c.charCodeAt(i));
      expect(h.end()).toBe(hash53(parts.join(''), 0x5eed));
    }
  });
});
