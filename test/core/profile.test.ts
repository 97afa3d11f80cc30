import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import { ipKind, parseCidr } from '../../src/core/net-address.js';
import { enabledAfter, globMatch, matchKnownSource } from '../../src/core/profile.js';

describe('profile', () => {
  it('validates and normalises', () => {
    const r = parseProfile(
      'tenant:\n  ids: [2F1C0A9E-5D4B-4C1E-9A7B-0C3D5E7F9A1B]\n  domains: [Contoso.COM.]\ndirectSendSources:\n  - name: MFP\n    ips: [192.0.2.0/29]\n    subject: "Scanned from *"\nhomeCountries: [us]\n',
      'p.yml',
    );
    if (r.status !== 'ok') throw new Error(r.error);
    expect(r.profile.tenantIds).toEqual(['2f1c0a9e-5d4b-4c1e-9a7b-0c3d5e7f9a1b']);
    expect(r.profile.acceptedDomains).toEqual(['contoso.com']);
    expect(r.profile.homeCountries).toEqual(['US']);
    expect(matchKnownSource(r.profile, { ip: '192.0.2.5', senders: [], subject: 'Scanned from MFP 2' })?.name).toBe(
      'MFP',
    );
    expect(matchKnownSource(r.profile, { ip: '192.0.2.9', senders: [], subject: 'Scanned from MFP 2' })).toBeNull();
    expect(matchKnownSource(r.profile, { ip: '192.0.2.5', senders: [], subject: 'Invoice' })).toBeNull();
  });

  it('names the line of each problem', () => {
    expect(parseProfile('tenant:\n  domains: []\n', 'p.yml')).toEqual({
      status: 'error',
      kind: 'usage',
      error: 'p.yml:2: tenant.domains: list at least one accepted domain',
    });
    expect(parseProfile('tenant: [\n', 'p.yml')).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/^p\.yml:\d+: invalid YAML/),
    });
    expect(parseProfile('tenant:\n  domains: [a.com]\n  ids: [nope]\n', 'p.yml')).toMatchObject({
      error: 'p.yml:3: tenant.ids.0: must be a tenant GUID',
    });
  });

  it('takes rejectDirectSend as true, false, or when it was enabled (a day or a time)', () => {
    const parse = (v: string) => parseProfile(`tenant:\n  domains: [contoso.com]\n  rejectDirectSend: ${v}\n`, 'p.yml');
    const ok = (v: string) => {
      const r = parse(v);
      if (r.status !== 'ok') throw new Error(r.error);
      return [r.profile.rejectDirectSend, r.profile.rejectDirectSendSince];
    };
    expect(ok('true')).toEqual([true, null]);
    expect(ok('false')).toEqual([false, null]);
    expect(ok('2026-08-01')).toEqual([true, '2026-08-01']);
    expect(ok("'2026-08-01'")).toEqual([true, '2026-08-01']);
    // A time is kept in UTC, to the second.
    expect(ok('2026-08-01T14:30:00Z')).toEqual([true, '2026-08-01T14:30:00Z']);
    expect(ok('2026-08-01T16:30+02:00')).toEqual([true, '2026-08-01T14:30:00Z']);
    expect(enabledAfter('2026-08-01')).toEqual({
      from: Date.parse('2026-08-02T00:00:00Z'),
      day: '2026-08-01',
      exact: false,
    });
    expect(enabledAfter('2026-08-01T14:30:00Z')).toEqual({
      from: Date.parse('2026-08-01T14:30:00Z'),
      day: '2026-08-01',
      exact: true,
    });
    for (const bad of ['2026-02-30', '2026-13-01T10:00:00Z']) {
      expect(parse(bad)).toEqual({
        status: 'error',
        kind: 'usage',
        error: 'p.yml:3: tenant.rejectDirectSend: is not a calendar day or time',
      });
    }
    for (const bad of ['yes please', '1', '01/08/2026', '2026-08-01T14:30']) {
      expect(parse(bad)).toEqual({
        status: 'error',
        kind: 'usage',
        error:
          'p.yml:3: tenant.rejectDirectSend: must be true, false, or when it was enabled: a day (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SSZ or with an offset)',
      });
    }
  });

  it('glob matching is linear and case-insensitive', () => {
    expect(globMatch('Scanned from *', 'scanned FROM hp')).toBe(true);
    expect(globMatch('a?c*', 'abcdef')).toBe(true);
    expect(globMatch('a*b', 'aaaa')).toBe(false);
    const t0 = performance.now();
    globMatch(`${'*a'.repeat(200)}b`, 'a'.repeat(500));
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('addresses', () => {
  it('classifies IPs and matches CIDRs', () => {
    expect(ipKind('185.234.72.19')).toBe('public');
    expect(ipKind('10.1.2.3')).toBe('private');
    expect(ipKind('[127.0.0.1]')).toBe('loopback');
    expect(ipKind('::ffff:192.0.2.1')).not.toBeNull();
    expect(ipKind('1')).toBeNull();
    expect(parseCidr('198.51.100.0/29')?.matches('198.51.100.7')).toBe(true);
    expect(parseCidr('198.51.100.0/29')?.matches('198.51.100.8')).toBe(false);
    expect(parseCidr('2001:db8::/32')?.matches('2001:db8:1::1')).toBe(true);
    expect(parseCidr('1.2.3.4/33')).toBeNull();
  });
});
