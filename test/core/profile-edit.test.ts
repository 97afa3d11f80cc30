/**
 * `dsguard sources approve|deny` edits of dsguard.yml: the admin's comments, order and formatting stay; the
 * edit is validated; hostile text from exports cannot break out of the comment it is written in.
 */
import { describe, expect, it } from 'vitest';
import { recordSourceDecision } from '../../src/config/profile-edit.js';
import { parseProfile } from '../../src/config/profile-file.js';

const PROFILE = `# Contoso — kept by the mail team. Do not reorder.
tenant:
  name: Contoso   # display name
  domains: [contoso.com, "contoso.co.uk"]

homeCountries: [DE] # where we send from

directSendSources:
  # The copier on 2F (declared by hand)
  - name: MFP 2nd floor
    ips: [198.51.100.20]
    senders: ['scanner@contoso.com']
`;

describe('recordSourceDecision', () => {
  it('appends an approved source after the admin’s entries, keeping every line of theirs', () => {
    const r = recordSourceDecision(PROFILE, 'dsguard.yml', {
      kind: 'approve',
      name: 'HR portal',
      owner: 'hr-it@contoso.com',
      ips: ['20.38.100.45'],
      note: 'dsguard sources approve S3: likely-legitimate when decided',
    });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.action).toBe('added');
    expect(r.text).toBe(
      `${PROFILE}  # dsguard sources approve S3: likely-legitimate when decided
  - name: HR portal
    ips: [20.38.100.45]
    owner: hr-it@contoso.com
    approved: true
`,
    );
    const p = parseProfile(r.text, 'dsguard.yml');
    expect(p.status === 'ok' && p.profile.knownSources[1]).toMatchObject({
      name: 'HR portal',
      owner: 'hr-it@contoso.com',
      approved: true,
    });
  });

  it('creates the denied list at the end when there is none, and refuses to contradict an entry', () => {
    const r = recordSourceDecision(PROFILE, 'dsguard.yml', {
      kind: 'deny',
      name: 'denied 45.14.71.10',
      owner: null,
      ips: ['45.14.71.10'],
      note: null,
    });
    expect(r.status === 'ok' && r.text).toBe(
      `${PROFILE}deniedSources:\n  - name: denied 45.14.71.10\n    ips: [45.14.71.10]\n`,
    );
    const contradict = recordSourceDecision(PROFILE, 'dsguard.yml', {
      kind: 'deny',
      name: 'x',
      owner: null,
      ips: ['198.51.100.20'],
      note: null,
    });
    expect(contradict).toEqual({
      status: 'error',
      kind: 'usage',
      error:
        'dsguard.yml: directSendSources[0] ("MFP 2nd floor") already covers 198.51.100.20: remove or edit that entry first',
    });
  });

  it('leaves an entry with the same IPs alone, or completes its owner', () => {
    const same = { kind: 'approve' as const, name: 'y', owner: null, ips: ['198.51.100.20'], note: null };
    expect(recordSourceDecision(PROFILE, 'dsguard.yml', same)).toMatchObject({
      status: 'ok',
      action: 'unchanged',
      text: PROFILE,
    });
    const owned = recordSourceDecision(PROFILE, 'dsguard.yml', { ...same, owner: 'facilities' });
    expect(owned).toMatchObject({ status: 'ok', action: 'updated' });
    expect(owned.status === 'ok' && owned.text).toContain(
      "    senders: ['scanner@contoso.com']\n    owner: facilities\n",
    );
  });

  it('turns an empty flow list into a block list in place, keeping the rest', () => {
    const text = 'tenant:\n  domains: [contoso.com]\ndirectSendSources: [] # none yet\nhomeCountries: [DE]\n';
    const r = recordSourceDecision(text, 'dsguard.yml', {
      kind: 'approve',
      name: 'Copier',
      owner: null,
      ips: ['198.51.100.20'],
      note: null,
    });
    expect(r.status === 'ok' && r.text).toBe(
      'tenant:\n  domains: [contoso.com]\ndirectSendSources: # none yet\n  - name: Copier\n    ips: [198.51.100.20]\n    approved: true\nhomeCountries: [DE]\n',
    );
  });

  it('quotes names and owners that YAML would otherwise read as something else', () => {
    const r = recordSourceDecision(PROFILE, 'dsguard.yml', {
      kind: 'approve',
      name: "Copier: 2F # east 'wing'",
      owner: '@helpdesk',
      ips: ['203.0.113.7'],
      note: null,
    });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    const p = parseProfile(r.text, 'dsguard.yml');
    expect(p.status === 'ok' && p.profile.knownSources[1]).toMatchObject({
      name: "Copier: 2F # east 'wing'",
      owner: '@helpdesk',
    });
  });

  it('keeps hostile text from an export inside its comment, and refuses a broken profile', () => {
    const r = recordSourceDecision(PROFILE, 'dsguard.yml', {
      kind: 'approve',
      name: 'x',
      owner: null,
      ips: ['203.0.113.9'],
      note: 'senders evil@x\n- name: injected\n  ips: [0.0.0.0/0]',
    });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    const p = parseProfile(r.text, 'dsguard.yml');
    expect(p.status === 'ok' && p.profile.knownSources.map((k) => k.name)).toEqual(['MFP 2nd floor', 'x']);
    expect(
      recordSourceDecision('tenant: [', 'bad.yml', {
        kind: 'approve',
        name: 'x',
        owner: null,
        ips: ['1.2.3.4'],
        note: null,
      }).status,
    ).toBe('error');
  });
});
