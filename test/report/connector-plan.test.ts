/**
 * The connector plan over hand-built tenants that exercise each choice: golden plan + runbook in JSON, text,
 * Markdown and HTML (commands whole, each with its stated effect); a property test that no two connectors restrict
 * one accepted domain, and that no restriction is planned while another sender of its domain is known.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  connectorName,
  type PlanInput,
  type PlanSourceInput,
  planConnectors,
  planInputOf,
  probeRecipientOf,
  restrictionConflicts,
} from '../../src/report/connector-plan.js';
import { fenced, planHtml, planMarkdown, planText } from '../../src/report/plan-render.js';
import { buildRunbook, SHOW_REJECT_DIRECT_SEND, SOAK_DETAIL_PIPE } from '../../src/report/runbook.js';
import { psProblems, shProblems } from '../core/quote-tokenizers.js';
import { expectGolden, expectGoldenText } from '../helpers/golden.js';

const DIR = 'test/fixtures/report/plan';

function source(p: Partial<PlanSourceInput> & { id: string }): PlanSourceInput {
  return {
    name: null,
    owner: null,
    ips: [],
    helos: [],
    senders: [],
    tls: 'unknown',
    certificateNames: [],
    verdict: 'legitimate',
    confirmed: true,
    directSend: true,
    infrastructure: { kind: 'unknown', why: 'no HELO name tells whose network it is' },
    messages: 10,
    firstSeen: '2026-06-01T08:00:00Z',
    lastSeen: '2026-07-27T17:00:00Z',
    ...p,
  };
}

const org = (helo: string) => ({ kind: 'organisation' as const, why: `its HELO name ${helo} is in your domain` });
const shared = (helo: string) => ({
  kind: 'shared' as const,
  why: `its HELO name ${helo} is not in your domains: a provider's server, likely shared with its other customers`,
});

/** The tenant of issue #13: a copier, an HR app on a cloud host, a helpdesk SaaS, and what else a tenant holds. */
const MIXED: PlanInput = {
  acceptedDomains: ['contoso.com', 'contoso.co.uk'],
  existingConnectors: [{ name: 'Branch relay', type: 'OnPremises', senderIps: ['192.0.2.0/24'], certificateNames: [] }],
  otherSenders: [],
  sources: [
    source({
      id: 'S1',
      name: 'Copier 3rd floor',
      owner: 'Facilities (Ana Ruiz)',
      ips: ['198.51.100.20'],
      helos: ['mfp-3f.contoso.com'],
      senders: ['scan@contoso.com'],
      tls: 'no',
      infrastructure: org('mfp-3f.contoso.com'),
    }),
    source({
      id: 'S2',
      name: 'HR app',
      owner: 'HR IT',
      ips: ['203.0.113.45', '203.0.113.46'],
      helos: ['hr-app.cloudhost.example'],
      senders: ['payroll@contoso.co.uk'],
      tls: 'yes',
      infrastructure: shared('hr-app.cloudhost.example'),
    }),
    source({
      id: 'S3',
      name: 'Helpdesk',
      owner: 'Service desk',
      ips: ['192.0.2.200', '198.18.7.9'],
      helos: ['out.helpdesk.example'],
      senders: ['support@contoso.com'],
      tls: 'yes',
      certificateNames: ['mail.helpdesk.example'],
      infrastructure: shared('out.helpdesk.example'),
    }),
    source({
      id: 'S4',
      ips: ['198.51.100.77'],
      helos: ['NPI5A1B2C'],
      senders: ['reports@contoso.com'],
      verdict: 'likely-legitimate',
      confirmed: false,
    }),
    source({ id: 'S5', name: 'Branch scanner', ips: ['192.0.2.44'], senders: ['scan@contoso.com'] }),
    source({
      id: 'S6',
      name: 'Lab printer',
      ips: ['2001:db8::25'],
      helos: ['lab-prn.contoso.com'],
      senders: ['lab@contoso.com'],
      infrastructure: org('lab-prn.contoso.com'),
    }),
    source({
      id: 'S7',
      name: "O’Brien's $(calc) scanner; with a very long name that cannot fit in a connector name at all",
      owner: "Bob'; Remove-Item C:\\ -Recurse; '",
      ips: ['198.51.100.101'],
      senders: ['o.brien@contoso.com'],
      tls: 'mixed',
    }),
    source({ id: 'S8', ips: ['45.14.71.10'], senders: ['ceo@contoso.com'], verdict: 'malicious', confirmed: false }),
    source({ id: 'S9', name: 'Newsletter', ips: ['198.51.100.5'], senders: ['news@mailer.example.net'] }),
  ],
};

/** Two services on shared infrastructure, the only senders of the domain: one Partner connector holds both. */
const PARTNERS: PlanInput = {
  acceptedDomains: ['fabrikam.com'],
  existingConnectors: [],
  otherSenders: [],
  sources: [
    source({
      id: 'S1',
      name: 'Billing SaaS',
      owner: 'Finance',
      ips: ['203.0.113.10'],
      helos: ['smtp1.billing.example'],
      senders: ['invoices@fabrikam.com'],
      tls: 'yes',
      infrastructure: shared('smtp1.billing.example'),
    }),
    source({
      id: 'S2',
      name: 'Survey tool',
      ips: ['203.0.113.200'],
      helos: ['mta.survey.example'],
      senders: ['survey@fabrikam.com'],
      tls: 'unknown',
      infrastructure: shared('mta.survey.example'),
    }),
  ],
};

/** The same, but something else is known to send as the domain: no restriction. */
const PARTNERS_WITH_OTHER: PlanInput = {
  ...PARTNERS,
  otherSenders: [
    { domain: 'fabrikam.com', what: 'the CRM (sends as fabrikam.com from its own servers, per the profile)' },
  ],
};

const CASES: [string, PlanInput][] = [
  ['mixed', MIXED],
  ['partners', PARTNERS],
  ['partners-other-sender', PARTNERS_WITH_OTHER],
];

function runbookOf(input: PlanInput, ready: boolean | null) {
  const plan = planConnectors(input);
  return {
    plan,
    runbook: buildRunbook({
      plan,
      probeDomain: input.acceptedDomains[0] ?? null,
      probeRecipient: `anna.smith@${input.acceptedDomains[0]}`,
      enabled: false,
      ready,
      blockers: ready === false ? ['S4 is likely-legitimate and not confirmed: approve or deny it.'] : [],
    }),
  };
}

describe('connector plan goldens', () => {
  for (const [name, input] of CASES) {
    it(`${name}: plan and runbook in JSON, text, Markdown and HTML`, () => {
      const { plan, runbook } = runbookOf(input, name === 'mixed' ? false : null);
      expectGolden(`${DIR}/${name}.expected.json`, { plan, runbook });
      expectGoldenText(`${DIR}/${name}.expected.txt`, `${planText(plan, runbook).join('\n')}\n`);
      expectGoldenText(`${DIR}/${name}.expected.md`, `${planMarkdown(plan, runbook).join('\n')}\n`);
      expectGoldenText(`${DIR}/${name}.expected.html`, `${planHtml(plan, runbook)}\n`);
      expect(restrictionConflicts(plan)).toEqual([]);
      // Every command, whole, in every format (the text output used to cut them at 300 characters).
      const text = planText(plan, runbook).join('\n');
      if (name === 'mixed')
        expect(Math.max(...plan.connectors.map((c) => c.create.whatIf!.length))).toBeGreaterThan(300);
      const md = planMarkdown(plan, runbook).join('\n');
      const html = planHtml(plan, runbook);
      for (const c of allCommands(plan, runbook)) {
        for (const t of [c.text, ...(c.whatIf ? [c.whatIf] : [])]) {
          expect(text).toContain(t);
          expect(md).toContain(t);
          expect(html).toContain(t.replace(/[&<>"'`]/g, (x) => `&#${x.charCodeAt(0)};`));
        }
      }
    });
  }
});

function allCommands(plan: ReturnType<typeof planConnectors>, runbook: ReturnType<typeof buildRunbook>) {
  return [
    ...plan.connectors.flatMap((c) => [c.create, c.check, c.rollback]),
    ...plan.sources.flatMap((s) => s.commands),
    ...runbook.steps.flatMap((s) => s.commands),
  ];
}

describe('the mixed tenant', () => {
  const { plan, runbook } = runbookOf(MIXED, false);
  const choice = (id: string) => plan.sources.find((s) => s.source === id);

  it('chooses per source and says why', () => {
    expect(plan.sources.map((s) => [s.source, s.choice])).toEqual([
      ['S1', 'onpremises-ip'],
      ['S2', 'partner-ip'],
      ['S3', 'onpremises-certificate'],
      ['S4', 'awaiting-confirmation'],
      ['S5', 'covered'],
      ['S6', 'no-connector'],
      ['S7', 'onpremises-ip'],
      ['S9', 'not-needed'],
    ]);
    // The helpdesk would restrict contoso.com, which the copier and others also send as: matched by its
    // certificate on an OnPremises connector instead, which rejects no one, and the plan says what that admits.
    expect(choice('S3')!.why.join(' ')).toMatch(/would reject the other senders of contoso\.com: S1 .*S4 /);
    const helpdesk = plan.connectors.find((c) => c.sources.includes('S3'))!;
    expect(helpdesk).toMatchObject({ type: 'OnPremises', match: 'certificate', certificate: 'mail.helpdesk.example' });
    expect(helpdesk.rejects).toEqual([]);
    expect(helpdesk.allows.join(' ')).toContain("admits the provider's other customers");
    // The HR app is the only sender of contoso.co.uk: restricted to its IPs, with TLS as seen, and the shared-IP caveat.
    const hr = plan.connectors.find((c) => c.sources.includes('S2'))!;
    expect(hr).toMatchObject({ type: 'Partner', senderDomains: ['contoso.co.uk'], requireTls: true, restricts: true });
    expect(hr.create.text).toContain(
      "-SenderDomains 'contoso.co.uk' -SenderIPAddresses '203.0.113.45','203.0.113.46' -RestrictDomainsToIPAddresses $true -RequireTls $true",
    );
    expect(hr.allows.join(' ')).toContain("also admits the provider's other customers");
    expect(hr.rejects[0]).toContain(
      'every message whose sender domain is contoso.co.uk arriving from any IP other than',
    );
    // The copier sends without TLS: OnPremises, which has no RequireTls, and rejects no one.
    const copier = plan.connectors.find((c) => c.sources.includes('S1'))!;
    expect(copier).toMatchObject({
      type: 'OnPremises',
      rejects: [],
      requireTls: null,
      owners: ['Facilities (Ana Ruiz)'],
    });
    expect(copier.create.text).not.toMatch(/RequireTls|Restrict/);
  });

  it('never guesses a certificate from a HELO name, and never writes SenderDomains * with a restriction', () => {
    for (const c of plan.connectors) {
      expect(c.create.text).not.toMatch(/-SenderDomains '?\*'?( |$)/);
      if (c.certificate) expect(MIXED.sources.flatMap((s) => s.certificateNames)).toContain(c.certificate);
    }
    expect(JSON.stringify(plan)).not.toContain('*.contoso.com');
    expect(JSON.stringify(plan)).not.toContain('*.helpdesk.example');
  });

  it('keeps connector names within 64 characters, cutting the label, never the IP', () => {
    const s7 = plan.connectors.find((c) => c.sources.includes('S7'))!;
    expect(s7.name.length).toBeLessThanOrEqual(64);
    expect(s7.name.endsWith(' 198.51.100.101')).toBe(true);
    expect(connectorName('x'.repeat(200), '203.0.113.255')).toMatch(/^dsguard x+ 203\.0\.113\.255$/);
    expect(connectorName('x'.repeat(200), '203.0.113.255').length).toBe(64);
  });

  it('prints every command so that the shell reads exactly the values it holds', () => {
    for (const c of allCommands(plan, runbook)) {
      for (const t of [c.text, ...(c.whatIf ? [c.whatIf] : [])]) {
        if (c.shell === 'posix') expect(shProblems(t, null), t).toEqual([]);
        else if (t === SHOW_REJECT_DIRECT_SEND) continue;
        else expect(psProblems(t.replace(SOAK_DETAIL_PIPE, ''), null), t).toEqual([]);
      }
    }
    // Approved by IP (report ids change between reports), named after its HELO until the admin names it.
    const approve = choice('S4')!.commands[0]!;
    expect(approve.text).toBe("dsguard sources approve '198.51.100.77' --name 'NPI5A1B2C'");
  });

  it('does not give the enable command while the tenant is not ready', () => {
    const enable = runbook.steps.find((s) => s.phase === 'enable')!;
    expect(enable.commands.map((c) => c.text)).toEqual([SHOW_REJECT_DIRECT_SEND]);
    expect(enable.text.join(' ')).toContain('S4 is likely-legitimate');
    const rollback = runbook.steps.find((s) => s.phase === 'rollback')!;
    expect(rollback.commands[0]!.text).toBe('Set-OrganizationConfig -RejectDirectSend $false');
    expect(rollback.commands.slice(1).map((c) => c.text)).toEqual(
      plan.connectors.map((c) => `Remove-InboundConnector -Identity '${c.name}'`),
    );
  });
});

describe('restrictions', () => {
  it('merges the senders of one domain into one restricting connector', () => {
    const plan = planConnectors(PARTNERS);
    expect(plan.connectors).toHaveLength(1);
    expect(plan.connectors[0]).toMatchObject({
      type: 'Partner',
      senderDomains: ['fabrikam.com'],
      ips: ['203.0.113.10', '203.0.113.200'],
      // One of them is not known to use TLS: the default would reject it.
      requireTls: false,
    });
  });

  it('restricts nothing when another sender of the domain is known: OnPremises by IP, saying what it admits', () => {
    const plan = planConnectors(PARTNERS_WITH_OTHER);
    expect(plan.connectors.map((c) => [c.type, c.restricts, c.ips])).toEqual([
      ['OnPremises', false, ['203.0.113.10']],
      ['OnPremises', false, ['203.0.113.200']],
    ]);
    for (const s of plan.sources) expect(s.why.join(' ')).toContain('the CRM');
    for (const c of plan.connectors) expect(c.allows.join(' ')).toContain("admits the provider's other customers");
  });

  it('never has two connectors restricting one domain, nor a restriction with another sender known', () => {
    const domains = ['contoso.com', 'contoso.co.uk', 'fabrikam.com'];
    const arbSource = fc.record({
      ips: fc.uniqueArray(
        fc.oneof(
          fc
            .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 255 }))
            .map(([a, b]) => `203.0.11${a}.${b}`),
          fc.constant('2001:db8::1'),
        ),
        { maxLength: 3 },
      ),
      senders: fc.uniqueArray(
        fc.constantFrom(...domains, 'mailer.example.net').map((d) => `x@${d}`),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
      tls: fc.constantFrom('yes', 'no', 'mixed', 'unknown') as fc.Arbitrary<PlanSourceInput['tls']>,
      cert: fc.option(fc.constantFrom('mail.a.example', 'mail.b.example'), { nil: null }),
      kind: fc.constantFrom('organisation', 'shared', 'unknown') as fc.Arbitrary<
        PlanSourceInput['infrastructure']['kind']
      >,
      verdict: fc.constantFrom('legitimate', 'likely-legitimate', 'undetermined', 'suspicious', 'malicious'),
      confirmed: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(arbSource, { maxLength: 8 }), fc.boolean(), (raw, other) => {
        const input: PlanInput = {
          acceptedDomains: domains,
          existingConnectors: [],
          otherSenders: other ? [{ domain: 'contoso.com', what: 'a SaaS sending as contoso.com' }] : [],
          sources: raw.map((r, i) =>
            source({
              id: `S${i + 1}`,
              ips: r.ips,
              senders: r.senders,
              tls: r.tls,
              certificateNames: r.cert ? [r.cert] : [],
              infrastructure: { kind: r.kind, why: 'test' },
              verdict: r.verdict,
              confirmed: r.confirmed,
            }),
          ),
        };
        const plan = planConnectors(input);
        expect(restrictionConflicts(plan)).toEqual([]);
        for (const c of plan.connectors.filter((x) => x.restricts)) {
          for (const d of c.senderDomains) {
            if (other) expect(d).not.toBe('contoso.com');
            // Every source sending as a restricted domain is in that connector (or known abuse, unconfirmed).
            for (const s of input.sources) {
              const sends = s.senders.some((a) => a.endsWith(`@${d}`));
              const abuse = !s.confirmed && /^(malicious|suspicious)$/.test(s.verdict);
              if (sends && !abuse) expect(c.sources).toContain(s.id);
            }
          }
          if (c.requireTls && c.match === 'ip') {
            for (const id of c.sources) expect(input.sources.find((s) => s.id === id)!.tls).toBe('yes');
          }
          if (c.requireTls && input.sources.some((s) => c.sources.includes(s.id) && /^(no|mixed)$/.test(s.tls))) {
            expect(c.notes.join(' ')).toContain('rejected');
          }
        }
        for (const c of plan.connectors) expect(c.create.text).not.toMatch(/SenderDomains '\*'/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('plan input from a report and its profile', () => {
  const cidr = (text: string) => ({ text });
  const profile = {
    acceptedDomains: ['contoso.com'],
    connectors: [],
    knownSources: [
      { name: 'MFP', owner: 'Facilities', ips: [cidr('198.51.100.20/32')], senders: ['scanner@contoso.com'] },
      { name: 'Payroll run', owner: 'HR', ips: [cidr('203.0.113.0/28')], senders: ['*@contoso.com'] },
      { name: 'Old branch', ips: [cidr('10.0.0.0/16')], senders: [] },
    ],
  };
  const seen = {
    id: 'S1',
    name: 'MFP',
    ips: ['198.51.100.20'],
    helos: ['mfp.contoso.com'],
    senders: [{ address: 'scanner@contoso.com' }],
    tls: 'no' as const,
    channel: 'direct-send',
    verdict: 'legitimate',
    counts: { directSend: 3 },
    messages: 3,
    firstSeen: '2026-07-01T08:00:00Z',
    lastSeen: '2026-07-20T08:00:00Z',
  };

  it('plans the declared sources the exports did not show, and withholds a range a connector cannot take', () => {
    const input = planInputOf([seen], profile);
    expect(input.sources.map((s) => [s.id, s.name, s.owner, s.ips])).toEqual([
      ['S1', 'MFP', 'Facilities', ['198.51.100.20']],
      ['D1', 'Payroll run', 'HR', ['203.0.113.0/28']],
      ['D2', 'Old branch', null, ['10.0.0.0/16']],
    ]);
    expect(input.sources[0]!.infrastructure.kind).toBe('organisation');
    const plan = planConnectors(input);
    const payroll = plan.connectors.find((c) => c.sources.includes('D1'))!;
    expect(payroll.create.text).toBe(
      "New-InboundConnector -Name 'dsguard Payroll run D1' -ConnectorType OnPremises -SenderDomains 'contoso.com' -SenderIPAddresses '203.0.113.0/28' -Comment 'Direct Send source(s) D1 declared in the dsguard profile, not seen in the exports'",
    );
    // A /16 is wider than SenderIPAddresses takes: the value is withheld and the command is a comment.
    const branch = plan.connectors.find((c) => c.sources.includes('D2'))!;
    expect(branch.create.text.startsWith('# New-InboundConnector')).toBe(true);
    expect(branch.create.withheld).toEqual(['range wider than /24 (connectors take /24 to /32)']);
    expect(psProblems(branch.create.text, null)).toEqual([]);
  });

  it('takes the probe recipient from recipients in accepted domains, the most frequent first', () => {
    expect(
      probeRecipientOf(
        ['b@contoso.com', 'a@contoso.com', 'b@contoso.com', 'x@fabrikam.com', 'x@fabrikam.com', 'x@fabrikam.com'],
        ['contoso.com'],
      ),
    ).toBe('b@contoso.com');
    expect(probeRecipientOf(['"a b"@contoso.com', null], ['contoso.com'])).toBeNull();
    expect(probeRecipientOf(['b@contoso.com', 'a@contoso.com'], ['contoso.com'])).toBe('a@contoso.com');
  });
});

describe('Markdown fences', () => {
  it('are longer than any run of backticks inside, so a value cannot close them', () => {
    const cmd = "dsguard probe 'contoso.com' --to 'a```b````c@contoso.com'";
    const md = fenced('sh', [cmd]);
    expect(md.split('\n')).toEqual(['`````sh', cmd, '`````']);
  });
});
