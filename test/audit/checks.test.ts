/** The pure scorecard on small hand-built configurations: the rules that decide a status. */
import { describe, expect, it } from 'vitest';
import { auditTenant } from '../../src/audit/checks.js';
import { addBatch, CMDLETS, emptyConfig } from '../../src/audit/config.js';

function card(batches: Record<string, unknown[]>) {
  const config = emptyConfig();
  for (const [c, rows] of Object.entries(batches)) addBatch(config, c as (typeof CMDLETS)[number], rows, `${c}.json`);
  return auditTenant({ config, dns: null, store: null, knownSources: [] });
}
const status = (c: ReturnType<typeof card>, code: string) =>
  c.controls.filter((r) => r.code === code).map((r) => r.status);

describe('auditTenant', () => {
  it('with nothing read: every control unknown except the info rows, and each missing cmdlet said once', () => {
    const c = card({});
    expect(c.controls.every((r) => r.status === 'unknown')).toBe(true);
    expect(c.problems.filter((p) => p.startsWith('DS790')).length).toBe(CMDLETS.length);
    expect(status(c, 'DS759')).toEqual(['unknown']);
  });

  it('RejectDirectSend absent from the object is unknown, not a fail', () => {
    expect(status(card({ 'Get-OrganizationConfig': [{ Name: 'x' }] }), 'DS740')).toEqual(['unknown']);
    expect(status(card({ 'Get-OrganizationConfig': [{ Name: 'x', RejectDirectSend: false }] }), 'DS740')).toEqual([
      'fail',
    ]);
  });

  it('a Partner connector restricted by certificate passes; by domain only fails with no invented command', () => {
    const base = {
      Enabled: true,
      ConnectorType: 'Partner',
      SenderIPAddresses: [],
      SenderDomains: ['smtp:partner.example;1'],
    };
    const c = card({
      'Get-InboundConnector': [
        { ...base, Name: 'cert', TlsSenderCertificateName: 'mail.partner.example', RestrictDomainsToCertificate: true },
        { ...base, Name: 'domain only' },
      ],
    });
    const rows = c.controls.filter((r) => r.code === 'DS741');
    expect(rows.map((r) => [r.subject, r.status, r.fix.length])).toEqual([
      ['inbound connector cert', 'pass', 0],
      ['inbound connector domain only', 'fail', 0],
    ]);
  });

  it('a preset for all recipients hides the default policy; a custom rule for some does not', () => {
    const phish = (name: string, on: boolean, isDefault = false) => ({
      Name: name,
      IsDefault: isDefault,
      EnableSpoofIntelligence: on,
      HonorDmarcPolicy: on,
      EnableUnauthenticatedSender: on,
    });
    const preset = {
      Name: 'Strict Preset Security Policy',
      State: 'Enabled',
      HostedContentFilterPolicy: 'x',
      AntiPhishPolicy: 'Strict1',
      MalwareFilterPolicy: 'm',
      RecipientDomainIs: null,
    };
    const hidden = card({
      'Get-AntiPhishPolicy': [phish('Office365 AntiPhish Default', false, true)],
      'Get-AntiPhishRule': [],
      'Get-EOPProtectionPolicyRule': [preset],
    });
    // The preset's policy object was not dumped: its fixed settings (on) apply, and it covers everyone.
    expect(status(hidden, 'DS746')).toEqual(['pass']);
    const partial = card({
      'Get-AntiPhishPolicy': [phish('Office365 AntiPhish Default', false, true), phish('VIP', true)],
      'Get-AntiPhishRule': [
        { Name: 'VIP', State: 'Enabled', Priority: 0, AntiPhishPolicy: 'VIP', SentTo: ['ceo@x.test'] },
      ],
      'Get-EOPProtectionPolicyRule': [],
    });
    const row = partial.controls.find((r) => r.code === 'DS746')!;
    expect(row.status).toBe('fail');
    expect(row.fix).toEqual([
      "Set-AntiPhishPolicy -Identity 'Office365 AntiPhish Default' -EnableSpoofIntelligence $true  # turns on spoof intelligence",
    ]);
  });
});
