/** One printer or one app is one source: how connecting IPs are grouped. */
import { describe, expect, it } from 'vitest';
import { networkOf } from '../../src/core/net-address.js';
import { groupSources, type SourceVerdict, worstVerdict } from '../../src/store/source-stats.js';

const v = (entries: [string, SourceVerdict][]) => new Map(entries);

describe('source grouping', () => {
  it('keeps two devices of one office apart when they send as different senders', () => {
    const g = groupSources(
      v([
        ['198.51.100.20', 'legitimate'],
        ['198.51.100.21', 'legitimate'],
      ]),
      [
        { ip: '198.51.100.20', sender: 'scanner@contoso.com' },
        { ip: '198.51.100.21', sender: 'copier@contoso.com' },
      ],
    );
    expect(g.get('198.51.100.20')).not.toBe(g.get('198.51.100.21'));
  });

  it('joins the addresses of one app (same network, a shared sender, same verdict)', () => {
    const g = groupSources(
      v([
        ['203.0.113.45', 'legitimate'],
        ['203.0.113.46', 'legitimate'],
        ['203.0.113.47', 'legitimate'],
        ['203.0.114.45', 'legitimate'],
      ]),
      [
        { ip: '203.0.113.45', sender: 'erp@contoso.com' },
        { ip: '203.0.113.46', sender: 'erp@contoso.com' },
        { ip: '203.0.113.46', sender: 'erp-alerts@contoso.com' },
        { ip: '203.0.113.47', sender: 'erp-alerts@contoso.com' },
        { ip: '203.0.114.45', sender: 'erp@contoso.com' },
      ],
    );
    expect(new Set([g.get('203.0.113.45'), g.get('203.0.113.46'), g.get('203.0.113.47')]).size).toBe(1);
    expect(g.get('203.0.114.45')).not.toBe(g.get('203.0.113.45'));
  });

  it('never merges an attacker into a legitimate source, even spoofing its sender', () => {
    const g = groupSources(
      v([
        ['198.51.100.20', 'legitimate'],
        ['198.51.100.99', 'malicious'],
      ]),
      [
        { ip: '198.51.100.20', sender: 'scanner@contoso.com' },
        { ip: '198.51.100.99', sender: 'scanner@contoso.com' },
      ],
    );
    expect(g.get('198.51.100.20')).not.toBe(g.get('198.51.100.99'));
  });

  it('groups IPv6 by /48 and gives the same numbers whatever the input order', () => {
    expect(networkOf('2a01:111:f403:c112::5')).toBe('2a01:111:f403');
    expect(networkOf('198.51.100.20')).toBe('198.51.100');
    const verdicts = v([
      ['2a01:111:f403:c112::5', 'unknown'],
      ['2a01:111:f403:c001::9', 'unknown'],
      ['45.14.71.10', 'malicious'],
    ]);
    const pairs = [
      { ip: '2a01:111:f403:c112::5', sender: 'anna@contoso.com' },
      { ip: '2a01:111:f403:c001::9', sender: 'anna@contoso.com' },
      { ip: '45.14.71.10', sender: 'liam@contoso.com' },
    ];
    const a = groupSources(verdicts, pairs);
    const b = groupSources(new Map([...verdicts].reverse()), [...pairs].reverse());
    expect(a).toEqual(b);
    expect(a.get('2a01:111:f403:c112::5')).toBe(a.get('2a01:111:f403:c001::9'));
  });

  it('takes the worst determined verdict; undetermined rows do not count', () => {
    expect(
      worstVerdict([
        { channel: 'direct-send', verdict: 'legitimate', messages: 9 },
        { channel: 'direct-send', verdict: 'suspicious', messages: 1 },
      ]),
    ).toBe('suspicious');
    expect(worstVerdict([{ channel: 'unknown', verdict: 'malicious', messages: 3 }])).toBe('unknown');
  });
});
