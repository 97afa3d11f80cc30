/**
 * `dsguard indicators`: the malicious messages of a store built from the fixture exports, as CSV and STIX 2.1
 * (goldens, deterministic, every object's required properties, every pattern parsed by a STIX pattern grammar),
 * and block commands that never block an accepted domain, its subdomains or a public mailbox provider.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/core/net-address.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { ingest } from '../../src/ingest/ingest.js';
import { storedIndicatorMessages } from '../../src/report/indicator-store.js';
import {
  blockPlan,
  collectIndicators,
  type Indicator,
  type IndicatorMessage,
  IP_BLOCK_LIST_LIMIT,
  PUBLIC_MAILBOX_PROVIDERS,
  renderBlockScript,
  renderIndicatorsCsv,
  senderBlockRefusal,
  stixBundle,
  urlBlockRefusal,
} from '../../src/report/indicators.js';
import { runCli } from '../helpers/cli.js';
import { expectGolden, expectGoldenText } from '../helpers/golden.js';
import { fixtureFiles, fixtureProfile, openStore, tempDir } from '../ingest/helpers.js';
import { parseStixPattern } from './stix-pattern.js';

let tmp: ReturnType<typeof tempDir>;
let profile: TenantProfile;
let messages: IndicatorMessage[];
let db: string;

beforeAll(async () => {
  tmp = tempDir();
  profile = await fixtureProfile();
  db = join(tmp.dir, 'ind.db');
  await ingest(fixtureFiles(), { db, profile });
  const store = openStore(db);
  messages = storedIndicatorMessages(store);
  store.close();
});
afterAll(() => tmp.cleanup());

const STIX_ID = /^[a-z][a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STIX_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function checkStix(bundle: Record<string, unknown>): void {
  expect(bundle.type).toBe('bundle');
  expect(bundle.id).toMatch(STIX_ID);
  expect(String(bundle.id).startsWith('bundle--')).toBe(true);
  for (const o of bundle.objects as Record<string, unknown>[]) {
    expect(o.type).toBe('indicator');
    expect(o.spec_version).toBe('2.1');
    expect(o.id).toMatch(STIX_ID);
    expect(String(o.id).startsWith('indicator--')).toBe(true);
    for (const k of ['created', 'modified', 'valid_from']) expect(o[k], k).toMatch(STIX_TIME);
    expect(Date.parse(String(o.modified))).toBeGreaterThanOrEqual(Date.parse(String(o.created)));
    expect(o.pattern_type).toBe('stix');
    expect(typeof o.pattern).toBe('string');
    expect(() => parseStixPattern(String(o.pattern)), String(o.pattern)).not.toThrow();
    expect(Array.isArray(o.indicator_types)).toBe(true);
  }
}

describe('dsguard indicators', () => {
  it('finds the malicious messages of the fixture store with their IPs, senders and URLs (goldens)', () => {
    const list = collectIndicators(messages, profile);
    expect(list.some((i) => i.type === 'ipv4')).toBe(true);
    expect(list.some((i) => i.type === 'url')).toBe(true);
    // The spoofed own addresses (ceo@contoso.com, …) are never offered as indicators.
    expect(messages.some((m) => m.headerFrom?.endsWith('@contoso.com'))).toBe(true);
    expect(list.filter((i) => i.type === 'email' && /@(.+\.)?contoso\.(com|co\.uk)$/.test(i.value))).toEqual([]);
    expectGoldenText('test/fixtures/indicators/indicators.csv', renderIndicatorsCsv(list));
    const bundle = stixBundle(list);
    expectGolden('test/fixtures/indicators/indicators.stix.json', bundle);
    expectGoldenText('test/fixtures/indicators/block.ps1', renderBlockScript(blockPlan(list, profile)));
    checkStix(bundle);
  });

  it('is deterministic: same ids and times whatever the order of the messages', () => {
    const a = stixBundle(collectIndicators(messages, profile));
    const b = stixBundle(collectIndicators([...messages].reverse(), profile));
    expect(b).toEqual(a);
  });

  it('keeps hostile values inside one STIX string literal', () => {
    const hostile = ["http://x.example/a'] OR [url:value = 'b", 'http://x.example/\\', "o'brien@evil.example"];
    const list = collectIndicators(
      [
        {
          messageId: 'm1',
          receivedAt: '2026-07-20T10:00:00Z',
          ip: null,
          sender: hostile[2]!,
          headerFrom: null,
          urls: [
            { url: hostile[0]!, qr: true },
            { url: hostile[1]!, qr: false },
          ],
          codes: ['DS407'],
        },
      ],
      profile,
    );
    const bundle = stixBundle(list);
    checkStix(bundle);
    const values = (bundle.objects as { pattern: string }[]).map((o) => parseStixPattern(o.pattern));
    expect(values.flat().sort()).toEqual([...hostile].sort());
    // The recognizer rejects broken patterns (so the check can fail).
    expect(() => parseStixPattern("[url:value = 'a'")).toThrow();
    expect(() => parseStixPattern("[url:value = 'a'b']")).toThrow();
    expect(() => parseStixPattern('[URL:value = 1]')).toThrow();
  });

  it('never blocks an accepted domain, its subdomains or parents, or a public mailbox provider', () => {
    const p: TenantProfile = { ...profile, acceptedDomains: ['contoso.com', 'mail.fabrikam.com'] };
    const domains = fc.oneof(
      fc.constantFrom(
        'contoso.com',
        'CONTOSO.COM',
        'eu.contoso.com',
        'a.b.contoso.com',
        'fabrikam.com',
        'mail.fabrikam.com',
        'x.mail.fabrikam.com',
      ),
      fc.constantFrom(...PUBLIC_MAILBOX_PROVIDERS),
      fc.constantFrom(...PUBLIC_MAILBOX_PROVIDERS).map((d) => `eu.${d}`),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.'_-]{1,20}$/), domains, (local, domain) => {
        const address = `${local}@${domain}`;
        expect(senderBlockRefusal(address, p)).not.toBeNull();
        const ind: Indicator = {
          type: 'email',
          value: address.toLowerCase(),
          firstSeen: 'x',
          lastSeen: 'x',
          messages: 1,
          messageIds: [],
          qr: false,
          codes: [],
        };
        const plan = blockPlan([ind], p);
        expect(plan.commands).toEqual([]);
        expect(plan.skipped).toHaveLength(1);
      }),
    );
    expect(senderBlockRefusal('attacker@evil.example', p)).toBeNull();
    // The fixture plan: no command names an accepted domain.
    const script = renderBlockScript(blockPlan(collectIndicators(messages, profile), profile));
    for (const line of script.split('\n').filter((l) => !l.startsWith('#'))) {
      for (const d of profile.acceptedDomains) expect(line.toLowerCase()).not.toContain(`@${d}`);
      expect(line).not.toMatch(/-ListType Sender/);
    }
  });

  it('never emits a block that names an accepted domain, its family or a public mailbox provider (any mix, property)', () => {
    const p: TenantProfile = { ...profile, acceptedDomains: ['contoso.com', 'mail.fabrikam.com'] };
    const protectedHosts = fc.oneof(
      fc.constantFrom('contoso.com', 'CONTOSO.com.', 'eu.contoso.com', 'fabrikam.com', 'x.mail.fabrikam.com'),
      fc.constantFrom(...PUBLIC_MAILBOX_PROVIDERS),
      fc.constantFrom(...PUBLIC_MAILBOX_PROVIDERS).map((d) => `www.${d}`),
    );
    const attackerHosts = fc.constantFrom('evil.example', 'login-contoso.example', 'contoso.com.evil.example');
    const path = fc.stringMatching(/^(\/[a-z0-9._~%-]{0,12}){0,3}(\?[a-z0-9=&]{0,10})?$/);
    const scheme = fc.constantFrom('https://', 'http://', 'HTTPS://', '');
    const url = (host: fc.Arbitrary<string>) =>
      fc.tuple(scheme, host, path).map(([sc, h, pa]) => ({ value: `${sc}${h}${pa}`, host: h }));
    const local = fc.stringMatching(/^[a-z0-9._-]{1,12}$/);
    const ind = (type: Indicator['type'], value: string): Indicator => ({
      type,
      value,
      firstSeen: 'x',
      lastSeen: 'x',
      messages: 1,
      messageIds: [],
      qr: false,
      codes: [],
    });
    const entry = fc.oneof(
      url(protectedHosts).map((u) => ({ i: ind('url', u.value), protectedHost: u.host })),
      url(attackerHosts).map((u) => ({ i: ind('url', u.value), protectedHost: null })),
      fc.tuple(local, protectedHosts).map(([l, h]) => ({ i: ind('email', `${l}@${h}`), protectedHost: h })),
      fc.tuple(local, attackerHosts).map(([l, h]) => ({ i: ind('email', `${l}@${h}`), protectedHost: null })),
      fc.ipV4().map((v) => ({ i: ind('ipv4', v), protectedHost: null })),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), (entries) => {
        const plan = blockPlan(
          entries.map((e) => e.i),
          p,
        );
        // Every value any command carries (single-quoted PowerShell literals).
        const values = new Set(
          plan.commands.flatMap((c) => [...c.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"))),
        );
        for (const e of entries) {
          if (e.protectedHost === null) continue;
          // Skipped with a reason, and no command carries it.
          expect(plan.skipped.some((s) => s.indicator === e.i)).toBe(true);
          expect(values.has(e.i.value)).toBe(false);
        }
        for (const c of plan.commands) {
          expect(c).not.toMatch(/-ListType Sender|-BlockedSenderDomains|-SenderDomain/i);
          for (const m of c.matchAll(/-ListType Url -Block -Entries '([^']*)'/g))
            expect(urlBlockRefusal(m[1]!, p)).toBeNull();
        }
        // Everything is accounted for: a command or a reason.
        for (const e of entries)
          expect(values.has(e.i.value) || plan.skipped.some((s) => s.indicator === e.i), e.i.value).toBe(true);
      }),
    );
    // Controls: an attacker URL is blocked; a URL on an accepted subdomain, a provider or with a port is not.
    expect(blockPlan([ind('url', 'https://evil.example/a')], p).commands).toHaveLength(1);
    for (const u of [
      'https://eu.contoso.com/login',
      'contoso.com',
      'https://www.gmail.com/x',
      'https://evil.example:8443/a',
      'https://contoso.com@evil.example/',
      "https://evil.example/it's",
      'https://bücher.example/',
    ]) {
      expect(blockPlan([ind('url', u)], p).commands, u).toEqual([]);
      expect(urlBlockRefusal(u, p), u).not.toBeNull();
    }
  });

  it('blocks IPv4 through the connection filter (≤ 1,273), IPv6 and URLs ≤ 250 characters through the TABL, quoted', () => {
    const ips: Indicator[] = Array.from({ length: IP_BLOCK_LIST_LIMIT + 2 }, (_, n) => ({
      type: 'ipv4',
      value: `45.${Math.floor(n / 256)}.${n % 256}.7`,
      firstSeen: 'x',
      lastSeen: 'x',
      messages: 1,
      messageIds: [],
      qr: false,
      codes: [],
    }));
    const extra: Indicator[] = [
      { ...ips[0]!, value: '10.0.0.1' },
      { ...ips[0]!, value: '20.1.2.9' }, // a profile connector's range
      { ...ips[0]!, type: 'ipv6', value: '2001:4860::1' },
      { ...ips[0]!, type: 'url', value: "https://evil.example/a'b" },
      { ...ips[0]!, type: 'url', value: `https://evil.example/${'a'.repeat(240)}` },
    ];
    const range = parseCidr('20.1.2.0/24')!;
    const p: TenantProfile = {
      ...profile,
      connectors: [{ name: 'Partner', type: 'Partner', senderIps: [range], certificateNames: [] }],
    };
    const plan = blockPlan([...ips, ...extra], p);
    const filter = plan.commands.find((c) => c.startsWith('Set-HostedConnectionFilterPolicy'))!;
    expect(filter.match(/'/g)!.length / 2).toBe(IP_BLOCK_LIST_LIMIT);
    expect(filter).toMatch(/^Set-HostedConnectionFilterPolicy -Identity Default -IPBlockList @\{Add='45\.0\.0\.7',/);
    expect(plan.commands).toContain("New-TenantAllowBlockListItems -ListType IP -Block -Entries '2001:4860::1'");
    // Microsoft's URL syntax takes no quote: such a URL is listed, not blocked (PowerShell quoting aside).
    expect(plan.commands.some((c) => c.includes("a''b"))).toBe(false);
    expect(plan.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/not a public address/),
      'a profile connector uses it',
      'contains a quote, which URL entries do not take',
      expect.stringMatching(/longer than the 250/),
      expect.stringMatching(/1273 entries/),
      expect.stringMatching(/1273 entries/),
    ]);
  });

  it('runs from the command line: every format, a profile required (exit 2 without)', async () => {
    const profileFile = 'test/fixtures/exports/dsguard.yml';
    const stix = await runCli(['indicators', '--db', db, '--profile', profileFile, '--format', 'stix']);
    expect(stix.code).toBe(0);
    expect(JSON.parse(stix.stdout)).toEqual(stixBundle(collectIndicators(messages, profile)));
    const csv = await runCli(['indicators', '--db', db, '--profile', profileFile]);
    expect(csv.stdout).toBe(renderIndicatorsCsv(collectIndicators(messages, profile)));
    const ps = await runCli(['indicators', '--db', db, '--profile', profileFile, '--format', 'powershell']);
    expect(ps.stdout).toContain('Set-HostedConnectionFilterPolicy -Identity Default');
    expect((await runCli(['indicators', '--db', db])).code).toBe(2);
    expect((await runCli(['indicators', '--db', db, '--profile', profileFile, '--format', 'xml'])).code).toBe(2);
  });
});
