import { describe, expect, it } from 'vitest';
import { auditDmarc, dmarcCandidates, parseDmarc } from '../../src/core/posture/dmarc.js';
import { AnswerMap } from '../../src/core/posture/dns-answer.js';

describe('parseDmarc', () => {
  it('applies the RFC 7489 defaults', () => {
    const r = parseDmarc('v=DMARC1; p=reject').record!;
    expect(r).toMatchObject({
      p: 'reject',
      sp: 'reject',
      pct: 100,
      adkim: 'r',
      aspf: 'r',
      fo: '0',
      rf: 'afrf',
      ri: 86400,
      rua: [],
      ruf: [],
    });
  });
  it('parses every tag', () => {
    const r = parseDmarc(
      'v=DMARC1;p=quarantine;sp=none;pct=25;adkim=s;aspf=s;fo=1:d;rf=afrf;ri=3600;rua=mailto:a@example.com!10m,mailto:b@example.net;ruf=mailto:f@example.com',
    ).record!;
    expect(r).toMatchObject({ p: 'quarantine', sp: 'none', pct: 25, adkim: 's', aspf: 's', fo: '1:d', ri: 3600 });
    expect(r.rua).toEqual(['mailto:a@example.com', 'mailto:b@example.net']);
  });
  it('reports invalid values and a missing p', () => {
    expect(parseDmarc('v=DMARC1; p=rejected').record).toBeNull();
    expect(parseDmarc('v=DMARC1; pct=50').errors).toContain('"p" is missing (required)');
    const bad = parseDmarc('v=DMARC1; p=reject; pct=150; adkim=x');
    expect(bad.record?.pct).toBe(100);
    expect(bad.errors.length).toBe(2);
  });
  it('treats a bad p with a valid rua as none (RFC 7489 §6.6.3)', () => {
    expect(parseDmarc('v=DMARC1; p=bogus; rua=mailto:r@example.com').record?.p).toBe('none');
  });
  it('is not a DMARC record unless it starts with v=DMARC1', () => {
    expect(parseDmarc('p=reject; v=DMARC1').record).toBeNull();
  });
});

describe('auditDmarc', () => {
  it('walks up to the parent and applies sp', () => {
    const m = new AnswerMap();
    m.set('_dmarc.a.b.example.com', 'TXT', { status: 'nxdomain' });
    m.set('_dmarc.b.example.com', 'TXT', { status: 'nodata' });
    m.set('_dmarc.example.com', 'TXT', { status: 'ok', records: ['v=DMARC1; p=reject; sp=quarantine'] });
    const { audit, needs } = auditDmarc('a.b.example.com', m);
    expect(needs).toEqual([]);
    expect(audit).toMatchObject({
      inherited: true,
      recordDomain: 'example.com',
      policy: 'quarantine',
      subdomainPolicy: 'quarantine',
    });
    expect(audit.looked).toEqual(['_dmarc.a.b.example.com', '_dmarc.b.example.com', '_dmarc.example.com']);
  });
  it('never queries the bare TLD and asks one name at a time', () => {
    expect(dmarcCandidates('x.example.co.uk')).toEqual(['x.example.co.uk', 'example.co.uk', 'co.uk']);
    expect(auditDmarc('a.example.com', new AnswerMap()).needs).toEqual([{ name: '_dmarc.a.example.com', type: 'TXT' }]);
  });
  it('keeps a SERVFAIL apart from no record', () => {
    const m = new AnswerMap();
    m.set('_dmarc.example.com', 'TXT', { status: 'servfail' });
    expect(auditDmarc('example.com', m).audit.result).toBe('temperror');
  });
});
