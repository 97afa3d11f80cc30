import { describe, expect, it } from 'vitest';
import { AnswerMap, type DnsAnswer, type DnsRecordType } from '../../src/core/posture/dns-answer.js';
import { auditSpf, parseSpf } from '../../src/core/posture/spf.js';

function answers(entries: [string, DnsRecordType, DnsAnswer][]): AnswerMap {
  const m = new AnswerMap();
  for (const [name, type, a] of entries) m.set(name, type, a);
  return m;
}
const txt = (...records: string[]): DnsAnswer => ({ status: 'ok', records });
const nx: DnsAnswer = { status: 'nxdomain' };

/** Run the audit to a fixpoint, answering needed queries from `world` (missing names are NXDOMAIN). */
function audit(domain: string, world: AnswerMap) {
  const got = new AnswerMap();
  for (let i = 0; i < 30; i++) {
    const r = auditSpf(domain, got);
    if (r.needs.length === 0) return r.audit;
    for (const q of r.needs) got.set(q.name, q.type, world.get(q.name, q.type) ?? nx);
  }
  throw new Error('no fixpoint');
}

describe('parseSpf', () => {
  it('parses mechanisms, qualifiers, CIDRs and modifiers', () => {
    const p = parseSpf(
      'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24//64 ~include:_spf.example.com exists:%{i}._spf.example.com ?all redirect=_spf.example.net exp=explain.example.com',
    );
    expect(p.errors).toEqual([]);
    expect(p.terms.map((t) => (t.kind === 'mechanism' ? `${t.qualifier}${t.name}` : `${t.name}=`))).toEqual([
      '+ip4',
      '+ip6',
      '+a',
      '+mx',
      '~include',
      '+exists',
      '?all',
      'redirect=',
      'exp=',
    ]);
  });
  it('reports syntax errors without throwing', () => {
    const p = parseSpf('v=spf1 ip4:300.1.1.1 includ:x.example.com a:bad_domain..com ip6:192.0.2.1 all:foo -all');
    expect(p.errors.map((e) => e.term)).toEqual([
      'ip4:300.1.1.1',
      'includ:x.example.com',
      'a:bad_domain..com',
      'ip6:192.0.2.1',
      'all:foo',
    ]);
  });
  it('rejects a second redirect and bad macros', () => {
    expect(parseSpf('v=spf1 redirect=a.example.com redirect=b.example.com').errors[0]?.reason).toMatch(
      /more than once/,
    );
    expect(parseSpf('v=spf1 exists:%{z}.example.com -all').errors).toHaveLength(1);
  });
  it('is linear on a pathological record', () => {
    const rec = `v=spf1 ${'%{'.repeat(2000)}`;
    const t = Date.now();
    parseSpf(rec);
    expect(Date.now() - t).toBeLessThan(200);
  });
});

describe('auditSpf', () => {
  it('counts include, a, mx, ptr, exists and redirect; takes all from the redirect target', () => {
    const world = answers([
      [
        'example.com',
        'TXT',
        txt('v=spf1 a mx ptr exists:x.example.com include:_i.example.com redirect=_r.example.com'),
      ],
      ['example.com', 'A', { status: 'ok', records: ['192.0.2.1'] }],
      ['example.com', 'AAAA', { status: 'nodata' }],
      ['example.com', 'MX', { status: 'ok', records: [{ exchange: 'mx.example.com', priority: 10 }] }],
      ['x.example.com', 'A', { status: 'ok', records: ['127.0.0.2'] }],
      ['_i.example.com', 'TXT', txt('v=spf1 ip4:192.0.2.0/24 -all')],
      ['_r.example.com', 'TXT', txt('v=spf1 ip4:198.51.100.0/24 -all')],
    ]);
    const a = audit('example.com', world);
    expect(a.dnsLookups).toBe(6);
    expect(a.voidLookups).toBe(0);
    expect(a.all).toBe('-all');
    expect(a.allFrom).toBe('_r.example.com');
    expect(a.usesPtr).toBe(true);
    expect(a.ip4).toEqual(['198.51.100.0/24']);
    expect(a.result).toBe('ok');
  });
  it('does not call a shared include (diamond) a loop', () => {
    const world = answers([
      ['d.example', 'TXT', txt('v=spf1 include:b.example include:c.example -all')],
      ['b.example', 'TXT', txt('v=spf1 include:shared.example -all')],
      ['c.example', 'TXT', txt('v=spf1 include:shared.example -all')],
      ['shared.example', 'TXT', txt('v=spf1 ip4:192.0.2.9 -all')],
    ]);
    const a = audit('d.example', world);
    expect(a.problems).toEqual([]);
    expect(a.dnsLookups).toBe(4);
  });
  it('reports an include target without SPF and a TXT temperror', () => {
    const world = answers([
      ['e.example', 'TXT', txt('v=spf1 include:nospf.example include:broken.example -all')],
      ['nospf.example', 'TXT', txt('google-site-verification=abc')],
      ['broken.example', 'TXT', { status: 'servfail' }],
    ]);
    const a = audit('e.example', world);
    expect(a.problems.map((p) => p.code).sort()).toEqual(['include-without-spf', 'temperror']);
    expect(a.result).toBe('temperror');
  });
  it('stops walking far past the limit but keeps counting to the cap', () => {
    const entries: [string, DnsRecordType, DnsAnswer][] = [];
    for (let i = 0; i < 60; i++) entries.push([`n${i}.example`, 'TXT', txt(`v=spf1 include:n${i + 1}.example -all`)]);
    const a = audit('n0.example', answers(entries));
    expect(a.problems.some((p) => p.code === 'lookup-limit')).toBe(true);
    expect(a.dnsLookups).toBeGreaterThan(10);
    expect(a.dnsLookups).toBeLessThanOrEqual(21);
  });
  it('says none for a domain without SPF', () => {
    const a = audit('none.example', answers([['none.example', 'TXT', txt('MS=ms1234567')]]));
    expect(a.result).toBe('none');
    expect(a.problems[0]?.code).toBe('missing');
  });
});
