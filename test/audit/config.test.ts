/** Reading configuration objects: recognition by content, noise, validation that names the property, encodings. */
import { describe, expect, it } from 'vitest';
import { addDocument, emptyConfig, parseBatch, recognise } from '../../src/audit/config.js';
import { decodeDump } from '../../src/audit/config-source.js';
import { rangeToCidrs } from '../../src/audit/profile-from-config.js';

describe('configuration objects', () => {
  it('recognises each cmdlet by its properties, presets before plain rules', () => {
    expect(
      recognise({ HostedContentFilterPolicy: 'a', AntiPhishPolicy: 'b', MalwareFilterPolicy: 'c', Priority: 0 }),
    ).toBe('Get-EOPProtectionPolicyRule');
    expect(recognise({ AntiPhishPolicy: 'b', Priority: 0 })).toBe('Get-AntiPhishRule');
    expect(recognise({ ConnectorType: 'Partner', SenderIPAddresses: [], RestrictDomainsToIPAddresses: false })).toBe(
      'Get-InboundConnector',
    );
    expect(recognise({ DomainName: 'x.test', DomainType: 'Authoritative' })).toBe('Get-AcceptedDomain');
    expect(recognise({ Name: 'x' })).toBeNull();
    expect(recognise([1])).toBeNull();
  });

  it('an enum written as a number is malformed, with what to do', () => {
    const r = parseBatch(
      'Get-HostedContentFilterPolicy',
      [{ Name: 'Default', MarkAsSpamSpfRecordHardFail: 1 }],
      'spam.json',
    );
    expect(r.objects).toEqual([]);
    expect(r.problems[0]!.message).toContain(
      'spam.json: Get-HostedContentFilterPolicy object 1 (Default): property MarkAsSpamSpfRecordHardFail',
    );
    expect(r.problems[0]!.message).toContain('PowerShell 7');
  });

  it('ignores @odata and @data.type noise, keeps the rest', () => {
    const r = parseBatch(
      'Get-AcceptedDomain',
      [{ 'DomainName@data.type': 'System.String', DomainName: 'a.test', '@odata.id': 'x' }],
      'f',
    );
    expect(r.objects.map((o) => o.DomainName)).toEqual(['a.test']);
  });

  it('an empty list without a cmdlet name, and a second dump of one cmdlet, are reported', () => {
    const c = emptyConfig();
    addDocument(c, [], 'empty.json');
    addDocument(c, { Cmdlet: 'Get-ArcConfig', Value: [{ ArcTrustedSealers: [] }] }, 'a.json');
    addDocument(c, { Cmdlet: 'Get-ArcConfig', Value: [] }, 'b.json');
    addDocument(c, { Cmdlet: 'Set-Something', Value: [] }, 'c.json');
    expect(c.problems.map((p) => [p.code, p.source])).toEqual([
      ['DS792', 'empty.json'],
      ['DS792', 'b.json'],
      ['DS792', 'c.json'],
    ]);
    expect(c.origins['Get-ArcConfig']).toBe('a.json');
  });

  it('decodes UTF-16 LE and BE with a BOM, and UTF-8 with or without one', () => {
    const text = '{"a":"é"}';
    expect(decodeDump(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]))).toBe(text);
    const be = Buffer.from(text, 'utf16le');
    be.swap16();
    expect(decodeDump(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toBe(text);
    expect(decodeDump(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toBe(text);
    expect(decodeDump(Buffer.from(text))).toBe(text);
  });

  it('turns an IPv4 range into the CIDRs that cover exactly it', () => {
    expect(rangeToCidrs('192.168.0.1-192.168.0.254')).toEqual([
      '192.168.0.1',
      '192.168.0.2/31',
      '192.168.0.4/30',
      '192.168.0.8/29',
      '192.168.0.16/28',
      '192.168.0.32/27',
      '192.168.0.64/26',
      '192.168.0.128/26',
      '192.168.0.192/27',
      '192.168.0.224/28',
      '192.168.0.240/29',
      '192.168.0.248/30',
      '192.168.0.252/31',
      '192.168.0.254',
    ]);
    expect(rangeToCidrs('10.0.0.0-10.0.0.255')).toEqual(['10.0.0.0/24']);
    expect(rangeToCidrs('203.0.113.0/28')).toEqual(['203.0.113.0/28']);
  });
});
