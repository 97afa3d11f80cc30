/** The small parsers under the adapters: dates, trace detail Data/CustomData, AuthenticationDetails, ids. */
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import { assess, channelOf } from '../../src/core/assess.js';
import { hash53, normalizeMessageId } from '../../src/core/delivery-key.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { isCandidate, RowClassifier } from '../../src/ingest/classify.js';
import { EMAIL_EVENTS_ADAPTER, parseAuthenticationDetails } from '../../src/ingest/exports/email-events.js';
import { guessDateOrder, isoSeconds, numericDateOf, parseExportDate } from '../../src/ingest/exports/export-dates.js';
import { CsvRow, headerIndex } from '../../src/ingest/exports/export-row.js';
import { HISTORICAL_SEARCH_ADAPTER, recipientsOfStatus } from '../../src/ingest/exports/historical-search.js';
import { MESSAGE_TRACE_ADAPTER } from '../../src/ingest/exports/message-trace.js';
import { detectEncoding, formatOfColumns } from '../../src/ingest/exports/sniff-export.js';
import {
  connectorName,
  parseCustomData,
  parseMepData,
  parseSfa,
  TRACE_DETAIL_ADAPTER,
} from '../../src/ingest/exports/trace-detail.js';
import { fixtureProfile } from './helpers.js';

const iso = (t: string) => {
  const ms = parseExportDate(t);
  return ms === null ? null : new Date(ms).toISOString();
};

describe('export dates', () => {
  it.each([
    ['7/23/2026 10:01:22 PM', '2026-07-23T22:01:22.000Z'],
    ['7/23/2026 12:01:22 AM', '2026-07-23T00:01:22.000Z'],
    ['12/1/2026 12:00:00 PM', '2026-12-01T12:00:00.000Z'],
    ['2026-07-23T22:01:22.0480000Z', '2026-07-23T22:01:22.048Z'],
    ['2026-07-23 22:01:22', '2026-07-23T22:01:22.000Z'],
    ['2026-07-23T22:01:22+02:00', '2026-07-23T20:01:22.000Z'],
    ['23/07/2026 22:01:22', '2026-07-23T22:01:22.000Z'],
    ['Jul 23, 2026 10:01:22 PM', '2026-07-23T22:01:22.000Z'],
    ['23 Jul 2026 22:01:22', '2026-07-23T22:01:22.000Z'],
  ])('%s', (text, want) => {
    expect(iso(text)).toBe(want);
  });

  it.each(['31/31/2026 1:10:00 PM', '2026-02-30T00:00:00Z', '13:00 PM', 'yesterday', '7/23/2026 13:01:22 PM', ''])(
    'rejects %s',
    (text) => {
      expect(parseExportDate(text)).toBeNull();
    },
  );
});

describe('export dates: day-first or month-first, decided for the file', () => {
  const guess = (...texts: string[]) => guessDateOrder(texts.map((t) => numericDateOf(t)!));

  it("reads an ambiguous date the file's way, and a date that reads one way only that way", () => {
    expect(iso('05/07/2026 08:15:02')).toBe('2026-05-07T08:15:02.000Z');
    expect(new Date(parseExportDate('05/07/2026 08:15:02', 'dmy')!).toISOString()).toBe('2026-07-05T08:15:02.000Z');
    expect(new Date(parseExportDate('05.07.2026', 'dmy')!).toISOString()).toBe('2026-07-05T00:00:00.000Z');
    expect(new Date(parseExportDate('7/14/2026 9:00:00 PM', 'dmy')!).toISOString()).toBe('2026-07-14T21:00:00.000Z');
    expect(new Date(parseExportDate('14/07/2026 21:00:00', 'mdy')!).toISOString()).toBe('2026-07-14T21:00:00.000Z');
    // The per-text cache must not hand one order's answer to the other.
    expect(parseExportDate('06/07/2026 08:00:00', 'mdy')).not.toBe(parseExportDate('06/07/2026 08:00:00', 'dmy'));
  });

  it('is settled by a date that reads one way only', () => {
    expect(guess('05/07/2026 08:15:02', '14/07/2026 08:15:02')).toEqual({
      order: 'dmy',
      decided: true,
      why: '14/07/2026 is day-first',
    });
    expect(guess('7/5/2026 8:15:02 AM', '7/14/2026 8:15:02 AM')).toMatchObject({ order: 'mdy', decided: true });
  });

  it('takes the reading under which the days lie together (an export covers days, not months)', () => {
    // Day-first: 5 and 6 July; month-first: 7 May and 7 June.
    expect(guess('06/07/2026 08:15:02', '05/07/2026 23:59:00')).toEqual({
      order: 'dmy',
      decided: true,
      why: 'the dates span 1 day(s) read day-first, 31 the other way',
    });
    expect(guess('7/6/2026 8:15:02 AM', '7/5/2026 11:59:00 PM')).toMatchObject({ order: 'mdy', decided: true });
  });

  it("says when nothing tells, and falls back on the separator's usual order", () => {
    expect(guess('05/07/2026 08:15:02', '05/07/2026 09:00:00')).toEqual({
      order: 'mdy',
      decided: false,
      why: 'dates like 05/07/2026 read either way and none tells which: read month-first',
    });
    expect(guess('05.07.2026 08:15:02')).toMatchObject({ order: 'dmy', decided: false });
    expect(guess('14/07/2026', '7/14/2026')).toMatchObject({ order: 'mdy', decided: false });
    // Both kinds: the more numerous, unconfirmed.
    expect(guess('14/07/2026', '15/07/2026', '7/14/2026')).toEqual({
      order: 'dmy',
      decided: false,
      conflict: true,
      why: 'both 14/07/2026 (day-first, 2 such) and 7/14/2026 (month-first, 1 such) appear',
    });
    // A date that exists neither way (31/31) is left out: it neither settles the order nor stretches a span.
    expect(guess('31/31/2026 1:10:00 PM', '05/07/2026 08:00:00', '06/07/2026 08:00:00')).toMatchObject({
      order: 'dmy',
      decided: true,
    });
    expect(guess('31/31/2026')).toBeNull();
    expect(guessDateOrder([])).toBeNull();
    expect(numericDateOf('2026-07-05T08:15:02Z')).toBeNull();
    expect(numericDateOf('Invoice 05/07/2026')).toBeNull();
  });
});

describe('export dates: the numeric form at speed', () => {
  // parseExportDate keeps the date part of `M/D/YYYY h:mm:ss AM` in a table; every day and hour must still
  // come out exactly as Date.UTC says, day-first dates included, and impossible ones must stay null.
  it('matches Date.UTC for every day of 2023-2028 at the edges of AM/PM', () => {
    let checked = 0;
    for (let ms = Date.UTC(2023, 0, 1); ms < Date.UTC(2029, 0, 1); ms += 86_400_000) {
      const d = new Date(ms);
      const [y, mo, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
      for (const [h, text] of [
        [0, '12:00:00 AM'],
        [11, '11:59:59 AM'],
        [12, '12:00:00 PM'],
        [23, '11:59:59 PM'],
      ] as const) {
        const want = Date.UTC(
          y,
          mo - 1,
          day,
          h,
          text.slice(3, 5) === '59' ? 59 : 0,
          text.slice(6, 8) === '59' ? 59 : 0,
        );
        expect(parseExportDate(`${mo}/${day}/${y} ${text}`)).toBe(want);
        if (day > 12) expect(parseExportDate(`${day}/${mo}/${y} ${h}:${text.slice(3, 8)}`)).toBe(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(8000);
  });

  it.each([
    ['2/29/2025 1:00:00 AM', null],
    ['2/29/2024 1:00:00 AM', '2024-02-29T01:00:00.000Z'],
    ['7/23/2026 0:01:22 AM', null],
    ['7/23/2026 24:00:00', null],
    ['7/23/2026 10:60:00 PM', null],
    ['7/23/2026  10:01:22 PM', '2026-07-23T22:01:22.000Z'],
    ['7/23/2026 10:01:22.1234567 p.m.', '2026-07-23T22:01:22.000Z'],
    ['7/23/2026, 10:01:22 PM', '2026-07-23T22:01:22.000Z'],
    ['7/23/2026 10:01 PM', '2026-07-23T22:01:00.000Z'],
    ['7/23/2026 10:01:22 PM x', null],
  ])('%s', (text, want) => {
    expect(iso(text)).toBe(want);
  });
});

describe('trace detail Data', () => {
  it('reads MEP entries whatever the attribute order, unescaping XML', () => {
    const m = parseMepData(
      '<root><MEP Name="ReturnPath" String="a&amp;b@contoso.com" /><MEP Integer="25" Name="Port"/><MEP String=\'1.2.3.4\' Name="ClientIP"/></root>',
    );
    expect(Object.fromEntries(m)).toEqual({ returnpath: 'a&b@contoso.com', port: '25', clientip: '1.2.3.4' });
  });

  it('survives truncated or hostile XML', () => {
    expect(parseMepData('<root><MEP Name="x" String="unclosed').size).toBe(0);
    expect(parseMepData(`<MEP ${'a'.repeat(100_000)}`).size).toBe(0);
    expect(parseMepData('<MEP Name="a" String="&#x110000;&#65;"/>').get('a')).toBe('&#x110000;A');
  });

  it('parses CustomData with continued items and the connector name', () => {
    const c = parseCustomData(
      'S:InboundConnectorData=Name=Contoso Scanner;ConnectorType=Partner;S:tlsversion=SSLProtocols.Tls12;I:Size=10',
    );
    expect(c.get('inboundconnectordata')).toBe('Name=Contoso Scanner;ConnectorType=Partner');
    expect(connectorName(c.get('inboundconnectordata')!)).toBe('Contoso Scanner');
    expect(c.get('tlsversion')).toBe('SSLProtocols.Tls12');
    expect(parseSfa('SUM|SFV=SPM|H=WIN-1|CIP=1.2.3.4').get('H')).toBe('WIN-1');
  });
});

describe('EmailEvents and historical search helpers', () => {
  it('reads AuthenticationDetails as a JSON string or key=value text', () => {
    expect(
      Object.fromEntries(parseAuthenticationDetails('{"SPF":"pass","DKIM":"None","DMARC":"fail","CompAuth":"fail"}')),
    ).toEqual({
      spf: 'pass',
      dkim: 'none',
      dmarc: 'fail',
      compauth: 'fail',
    });
    expect(parseAuthenticationDetails('SPF=pass;DMARC=fail').get('dmarc')).toBe('fail');
    expect(parseAuthenticationDetails('{not json').size).toBe(0);
  });

  it('splits Recipient_status', () => {
    expect(recipientsOfStatus('a@x.com##Receive, Deliver;b@y.com##Receive, Fail')).toEqual(['a@x.com', 'b@y.com']);
  });
});

describe('sniffing and ids', () => {
  it('detects UTF-16 with and without BOM', () => {
    const withBom = readFileSync('test/fixtures/exports/historical-search.csv');
    expect(detectEncoding(withBom)).toEqual({ encoding: 'utf-16le', bomLength: 2 });
    expect(detectEncoding(withBom.subarray(2))).toEqual({ encoding: 'utf-16le', bomLength: 0 });
    expect(detectEncoding(Buffer.from('"a","b"\r\n'))).toEqual({ encoding: 'utf-8', bomLength: 0 });
  });

  it('knows formats by columns, not names', () => {
    expect(formatOfColumns(['Event', 'Data', 'MessageTraceId', 'Date'])).toBe('message-trace-detail');
    expect(formatOfColumns(['NetworkMessageId', 'Url', 'UrlLocation'])).toBe('email-url-info');
    expect(formatOfColumns(['name', 'colour'])).toBeNull();
  });

  it('treats a GUID with or without dashes as one id', () => {
    expect(normalizeMessageId('{A4ACD0A2-1B62-4D07-DB4F-08DEE905EE9B}')).toBe('a4acd0a21b624d07db4f08dee905ee9b');
    expect(normalizeMessageId('a4acd0a21b624d07db4f08dee905ee9b')).toBe('a4acd0a21b624d07db4f08dee905ee9b');
    expect(hash53('x')).not.toBe(hash53('y'));
    expect(Number.isSafeInteger(hash53('some longer text'))).toBe(true);
  });
});

/**
 * The profiles the class cache is held to: the fixture's (a connector matched by an IPv4 range), a plain one, none,
 * and one whose connector is matched by an IPv6 range.
 */
async function profilesUnderTest(): Promise<(TenantProfile | null)[]> {
  const plain = parseProfile('tenant:\n  domains: [contoso.com, contoso.co.uk]\n', 'plain.yml');
  const v6 = parseProfile(
    'tenant:\n  domains: [contoso.com]\nconnectors:\n  - name: v6 relay\n    type: OnPremises\n    senderIps: [2a01:111:f403::/48]\n',
    'v6.yml',
  );
  if (plain.status !== 'ok') throw new Error(plain.error);
  if (v6.status !== 'ok') throw new Error(v6.error);
  return [await fixtureProfile(), plain.profile, null, v6.profile];
}

describe('assessment cache contract', () => {
  // ingest() assesses one row per class key and reuses its channel and candidacy for rows with the same key:
  // rows that share a key must get the same channel and candidacy from assess() itself.
  it('rows with the same class key get the same channel from assess()', async () => {
    // With a connector matched by sender IP, an IP's class says which connector it falls in; without, IPs fold to
    // the broadcast address or any other.
    const profiles = await profilesUnderTest();
    const classifiers = profiles.map((p) => new RowClassifier({ profile: p }));
    const header = ['MessageTraceId', 'Received', 'SenderAddress', 'RecipientAddress', 'FromIP', 'Subject'];
    const index = headerIndex(header);
    const senders = ['a@contoso.com', 'B@Contoso.com', 'x@fabrikam.com', '"Eve" <eve@contoso.co.uk>', '', 'bad'];
    const recipients = ['b@contoso.com', 'c@contoso.com', 'd@fabrikam.com', 'E@CONTOSO.CO.UK'];
    const ips = [
      '198.51.100.20',
      '192.0.2.25',
      '255.255.255.255',
      '',
      '2a01:111:f403:c112::5',
      '::ffff:255.255.255.255',
      '[255.255.255.255]',
      '::ffff:ffff:ffff',
      '10.1.2.3',
      'not an ip',
      '0255.255.255.255',
      // IPv4 behind an IPv6 prefix or in hex-mapped form: parseIp reads them as IPv4 (192.0.2.0/24 is the
      // fixture's connector range).
      'IPv6:192.0.2.7',
      '[IPv6:192.0.2.7]',
      '::ffff:c000:207',
      'ipv6:2a01:111:f403::1',
    ];
    const subjects = ['Scan from MFP-2F', 'New Missed Fax-msg', 'Invoice 4711', 'hello'];
    const seen = new Map<string, string>();
    let n = 0;
    for (const s of senders)
      for (const r of recipients)
        for (const ip of ips)
          for (const subj of subjects) {
            n++;
            const row = new CsvRow(index, header, [
              `a1000001-0000-4000-8000-${String(n).padStart(12, '0')}`,
              '7/20/2026 8:15:02 AM',
              s,
              r,
              ip,
              subj,
            ]);
            const res = MESSAGE_TRACE_ADAPTER.adapt(row, { file: 'f.csv', row: n });
            if (res.status === 'error') continue;
            const ev = res.row.evidence();
            for (const [pi, p] of profiles.entries()) {
              const a = assess(ev, { profile: p });
              const got = `${a.channel}|${isCandidate(ev, { channel: a.channel, domains: a.tenant.domains })}`;
              // What ingest computes for rows it only counts: the channel rules alone.
              const c = channelOf(ev, { profile: p });
              expect(`${c.channel}|${isCandidate(ev, c)}`).toBe(got);
              const key = `${pi}|${classifiers[pi]!.keyText(res.row)}`;
              const prev = seen.get(key);
              if (prev === undefined) seen.set(key, got);
              else expect(got, `${key} row ${n}`).toBe(prev);
            }
          }
    expect(seen.size).toBeGreaterThan(50);
    // Folding works: without IP-matched connectors the fifteen IP forms make two classes; with one (192.0.2.0/24 in
    // the fixture profile), three: the broadcast address, an address it matches, any other.
    expect([...seen.keys()].filter((k) => k.startsWith('2|message-trace|contoso.com|contoso.com|'))).toHaveLength(2);
    expect([...seen.keys()].filter((k) => k.startsWith('0|message-trace|contoso.com|contoso.com|'))).toHaveLength(3);
    expect([...seen.keys()].filter((k) => k.startsWith('3|message-trace|contoso.com|contoso.com|'))).toHaveLength(3);
  });

  it('holds for EmailEvents, historical search and trace detail rows from any IP', async () => {
    const profiles = await profilesUnderTest();
    const classifiers = profiles.map((p) => new RowClassifier({ profile: p }));
    const ips = [
      '198.51.100.20',
      '45.14.71.10',
      '192.0.2.7',
      '255.255.255.255',
      '',
      '2a01:111:f403:c112::5',
      '2a01:4f8::1',
      '[255.255.255.255]',
    ];
    const read = (file: string, utf16 = false) => {
      const buf = readFileSync(`test/fixtures/exports/${file}`);
      const text = utf16 ? new TextDecoder('utf-16le').decode(buf) : buf.toString('utf8');
      return parseCsv(text, { bom: true, relax_column_count: true }) as string[][];
    };
    const cases = [
      {
        adapter: EMAIL_EVENTS_ADAPTER,
        rows: read('emailevents-portal.csv'),
        setIp: (header: string[], row: string[], ip: string) => {
          row[header.indexOf('SenderIPv4')] = ip;
        },
      },
      {
        adapter: HISTORICAL_SEARCH_ADAPTER,
        rows: read('historical-search.csv', true),
        setIp: (header: string[], row: string[], ip: string) => {
          row[header.indexOf('original_client_ip')] = ip;
        },
      },
      {
        adapter: TRACE_DETAIL_ADAPTER,
        rows: read('messagetrace-detail-v2.csv'),
        setIp: (header: string[], row: string[], ip: string) => {
          const i = header.indexOf('Data');
          row[i] = row[i]!.replace(/(Name="ClientIP" String=")[^"]*"/, `$1${ip}"`);
        },
      },
    ];
    const seen = new Map<string, string>();
    // Rows compared with an earlier row of the same class, per format: the contract is only tested by those.
    const compared = new Map<string, number>();
    for (const { adapter, rows, setIp } of cases) {
      const [header, ...body] = rows;
      const index = headerIndex(header!);
      for (const [n, template] of body.entries()) {
        for (const ip of ips) {
          const fields = [...template];
          setIp(header!, fields, ip);
          const res = adapter.adapt(new CsvRow(index, header!, fields), { file: 'f.csv', row: n + 1 });
          if (res.status === 'error' || res.row.role !== 'delivery') continue;
          const ev = res.row.evidence();
          for (const [pi, p] of profiles.entries()) {
            const a = assess(ev, { profile: p });
            const got = `${a.channel}|${isCandidate(ev, { channel: a.channel, domains: a.tenant.domains })}`;
            const key = `${pi}|${classifiers[pi]!.keyText(res.row)}`;
            const prev = seen.get(key);
            if (prev === undefined) seen.set(key, got);
            else {
              expect(got, `${adapter.format} row ${n + 1} ip ${ip}: ${key}`).toBe(prev);
              compared.set(adapter.format, (compared.get(adapter.format) ?? 0) + 1);
            }
          }
        }
      }
    }
    expect(Object.fromEntries(compared)).toEqual({
      'email-events': expect.any(Number),
      'historical-search': expect.any(Number),
      'message-trace-detail': expect.any(Number),
    });
    for (const n of compared.values()) expect(n).toBeGreaterThan(10);
  });
});

describe('clock fast path', () => {
  const at = (t: string) => {
    const ms = parseExportDate(`7/23/2026 ${t}`);
    return ms === null ? null : new Date(ms).toISOString().slice(11, 19);
  };
  it.each([
    ['12:00:00 AM', '00:00:00'],
    ['12:00:00 PM', '12:00:00'],
    ['1:02:03 am', '01:02:03'],
    ['11:59:59 pM', '23:59:59'],
    ['23:59:59', '23:59:59'],
    ['0:00:00', '00:00:00'],
    ['9:05', '09:05:00'],
    ['9:05:07PM', '21:05:07'],
    ['9:05:07 P.M.', '21:05:07'],
    ['09:05:07.123', '09:05:07'],
  ])('%s', (t, want) => {
    expect(at(t)).toBe(want);
  });
  it.each(['0:00:00 AM', '13:00:00 PM', '24:00:00', '10:60:00', '10:00:61', '10:00:00 XM', '10:00:00 AMX'])(
    'rejects %s',
    (t) => {
      expect(at(t)).toBeNull();
    },
  );
});

describe('isoSeconds', () => {
  it('equals toISOString to the second, across days, years and the range ends', () => {
    const cases = [0, 999, 1000, 86_399_999, 86_400_000, Date.UTC(2026, 6, 31, 23, 59, 59, 999), -1, -86_400_001];
    for (let ms = Date.UTC(2023, 11, 31, 23, 0, 0); ms < Date.UTC(2024, 0, 2); ms += 61_001) cases.push(ms);
    cases.push(253_402_300_799_000, 253_402_300_800_000, Date.UTC(2024, 1, 29, 12, 0, 0), Date.UTC(2026, 6, 1));
    for (const ms of cases) expect(isoSeconds(ms)).toBe(`${new Date(ms).toISOString().slice(0, 19)}Z`);
  });
});
