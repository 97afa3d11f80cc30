import { describe, expect, it } from 'vitest';
import { parseAuthResults, resultFor } from '../../src/core/headers/auth-results.js';
import { parseAntispamFields } from '../../src/core/headers/forefront.js';
import { parseHeaderBlock } from '../../src/core/headers/header-block.js';
import { parseReceived } from '../../src/core/headers/received.js';

describe('header block', () => {
  it('unfolds values, keeps raw lines, order, duplicates and line numbers', () => {
    const r = parseHeaderBlock('Received: a\r\n b\r\nReceived: c\r\nSubject:  Hello\r\n\tWorld \r\n\r\nbody');
    if (r.status !== 'ok') throw new Error(r.error);
    expect(r.fields.map((f) => [f.name, f.value, f.line])).toEqual([
      ['Received', 'a b', 1],
      ['Received', 'c', 3],
      ['Subject', 'Hello\tWorld', 4],
    ]);
    expect(r.fields[0]!.raw).toBe('Received: a\n b');
    expect(r.bodyOffset).toBe('Received: a\r\n b\r\nReceived: c\r\nSubject:  Hello\r\n\tWorld \r\n\r\n'.length);
  });

  it('skips an mbox separator and leading blank lines, counts malformed lines', () => {
    const r = parseHeaderBlock('\n\nFrom: a@b.c\nnot a header\nTo: d@e.f\n');
    if (r.status !== 'ok') throw new Error(r.error);
    expect(r.fields.map((f) => f.key)).toEqual(['from', 'to']);
    expect(r.malformedLines).toBe(1);
    const m = parseHeaderBlock('From MAILER-DAEMON Thu Nov 26 2026\nFrom: a@b.c\n');
    expect(m.status === 'ok' && m.fields.map((f) => f.value)).toEqual(['a@b.c']);
  });

  it('enforces validated limits', () => {
    expect(parseHeaderBlock('A: 1\nB: 2\nC: 3\n', { maxFields: 2 })).toEqual({
      status: 'error',
      error: 'header block has more than 2 fields',
    });
    expect(() => parseHeaderBlock('A: 1', { maxFields: Number.NaN })).toThrow(TypeError);
    expect(() => parseHeaderBlock('A: 1', { maxHeaderBytes: -1 })).toThrow(TypeError);
  });
});

describe('Received', () => {
  it('parses Exchange Online front-door hops', () => {
    const h = parseReceived(
      'from WIN-JQ2K1L3PVA4 (185.234.72.19) by BN2PEPF000044A5.mail.protection.outlook.com (10.167.243.156) with Microsoft SMTP Server id 15.20.8835.3 via Frontend Transport; Thu, 26 Nov 2026 08:14:09 +0000',
    );
    expect(h).toMatchObject({
      from: 'WIN-JQ2K1L3PVA4',
      helo: 'WIN-JQ2K1L3PVA4',
      fromIp: '185.234.72.19',
      by: 'bn2pepf000044a5.mail.protection.outlook.com',
      byIp: '10.167.243.156',
      tls: false,
      date: '2026-11-26T08:14:09.000Z',
    });
    const tls = parseReceived(
      'from X (40.107.92.61) by Y.mail.protection.outlook.com (10.0.0.1) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.8835.3 via Frontend Transport; Thu, 26 Nov 2026 08:14:09 +0000',
    );
    expect(tls.tls).toBe(true);
  });

  it('parses Postfix, Exim and bracketed-literal forms', () => {
    expect(
      parseReceived(
        'from mail.example.com (mail.example.com [192.0.2.7]) by mx.example.org (Postfix) with ESMTPS id 4A1B for <x@y.org>; Thu, 26 Nov 2026 08:31:08 +0000',
      ),
    ).toMatchObject({
      from: 'mail.example.com',
      fromRdns: 'mail.example.com',
      fromIp: '192.0.2.7',
      tls: true,
      for: 'x@y.org',
    });
    expect(
      parseReceived('from host.example ([198.51.100.4] helo=fake.example) by mx with esmtp (Exim 4.96)'),
    ).toMatchObject({
      helo: 'fake.example',
      fromIp: '198.51.100.4',
      tls: false,
    });
    expect(parseReceived('from [127.0.0.1] (unknown [203.0.113.9]) by mx with SMTP')).toMatchObject({
      helo: '[127.0.0.1]',
      fromIp: '203.0.113.9',
    });
  });

  it('is linear on pathological input', () => {
    const t0 = performance.now();
    parseReceived(`from ${'('.repeat(50_000)}x${')'.repeat(50_000)} by ${'a '.repeat(50_000)}`);
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('Authentication-Results', () => {
  it('reads Exchange Online form without authserv-id, the recipient-domain unit, and wrapped compauth', () => {
    const ar = parseAuthResults(
      'spf=fail (sender IP is 5.188.206.14) smtp.mailfrom=contoso.com; contoso.com; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=contoso.com;compauth=fail\n reason=601',
    );
    expect(ar.authservId).toBeNull();
    expect(resultFor(ar, 'spf')).toMatchObject({ result: 'fail', props: { 'smtp.mailfrom': 'contoso.com' } });
    expect(resultFor(ar, 'dmarc')).toMatchObject({
      result: 'fail',
      props: { action: 'oreject', 'header.from': 'contoso.com' },
    });
    expect(resultFor(ar, 'compauth')).toMatchObject({ result: 'fail', props: { reason: '601' } });
  });

  it('reads RFC 8601 and ARC forms with authserv-id', () => {
    const ar = parseAuthResults('mx.google.com; dkim=pass header.i=@example.com; spf=pass smtp.mailfrom=example.com');
    expect(ar.authservId).toBe('mx.google.com');
    expect(ar.results.map((r) => r.method)).toEqual(['dkim', 'spf']);
    const arc = parseAuthResults(
      'i=2; mx.microsoft.com 1; spf=pass smtp.mailfrom=x.org; arc=pass (0 oda=1 ltdi=1)',
      true,
    );
    expect(arc).toMatchObject({ authservId: 'mx.microsoft.com', instance: 2 });
    expect(resultFor(arc, 'arc')?.result).toBe('pass');
  });
});

describe('X-Forefront-Antispam-Report', () => {
  it('keeps every key, IPv6 CIP, spaces after separators', () => {
    const f = parseAntispamFields(
      'CIP:2603:10b6:408:13a::26; CTRY:; LANG:en;SCL:5;CAT:SPOOF;SFTY:9.11;XYZ:new;DIR:INB;',
    );
    expect(f.get('CIP')).toBe('2603:10b6:408:13a::26');
    expect(f.get('CTRY')).toBe('');
    expect(f.get('XYZ')).toBe('new');
    expect(f.get('SFTY')).toBe('9.11');
  });
});

describe('Received-SPF and Received details', () => {
  it('parses Exchange Received-SPF', async () => {
    const { parseReceivedSpf } = await import('../../src/core/headers/received-spf.js');
    expect(
      parseReceivedSpf(
        'Pass (protection.outlook.com: domain of 163.com designates 123.126.97.3 as permitted sender) receiver=protection.outlook.com; client-ip=123.126.97.3; helo=m15.mail.163.com; pr=C',
      ),
    ).toEqual({
      result: 'pass',
      comment: 'protection.outlook.com: domain of 163.com designates 123.126.97.3 as permitted sender',
      params: { receiver: 'protection.outlook.com', 'client-ip': '123.126.97.3', helo: 'm15.mail.163.com', pr: 'C' },
    });
    expect(parseReceivedSpf('Bogus stuff')).toBeNull();
  });

  it('converts dates with offsets to UTC and unescapes comments', () => {
    expect(parseReceived('from a (b) by c; 26 Nov 2026 09:14:06 +0100').date).toBe('2026-11-26T08:14:06.000Z');
    expect(parseReceived('from a (b) by c; Thu, 26 Nov 2026 08:14:09 -0530 (EST)').date).toBe(
      '2026-11-26T13:44:09.000Z',
    );
    expect(parseReceived('from a (b) by c; not a date').date).toBeNull();
    expect(parseReceived('from x (helo \\(weird\\) [192.0.2.1]) by y').fromIp).toBe('192.0.2.1');
  });
});

describe('header end', () => {
  it('finds the blank line in CRLF, LF and mixed messages', async () => {
    const { headerEnd } = await import('../../src/sources/rfc822.js');
    expect(headerEnd(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody\n\nmore'))).toBe(14);
    expect(headerEnd(Buffer.from('A: 1\nB: 2\n\nbody\r\n\r\n'))).toBe(11);
    expect(headerEnd(Buffer.from('A: 1\r\nB: 2\n\nbody\r\n\r\nx'))).toBe(12);
    expect(headerEnd(Buffer.from('A: 1\r\nB: 2\r\n'))).toBe(-1);
  });
});
