/**
 * `dsguard kql`: every query of every target parsed and bound by Microsoft's KQL language service against the
 * documented email tables (zero errors), goldens per query and target, injection-proof profile values, the
 * Sentinel and custom-detection shapes and limits.
 */
import { describe, expect, it } from 'vitest';
import { buildQuery, type KqlTarget, QUERY_NAMES, type QueryName } from '../../src/core/kql/queries.js';
import { EMAIL_EVENTS_COLUMNS } from '../../src/core/kql/schema.js';
import { type Cidr, parseCidr } from '../../src/core/net-address.js';
import type { TenantProfile } from '../../src/core/profile.js';
import {
  detectionRuleBody,
  queriesFor,
  renderKql,
  SENTINEL_QUERY_LIMIT,
  sentinelRule,
} from '../../src/report/kql-targets.js';
import { expectGoldenText } from '../helpers/golden.js';
import { fixtureProfile } from '../ingest/helpers.js';
import { checkKql, errorsOf } from './kusto.js';

const RULE_QUERIES: readonly QueryName[] = ['abuse', 'after-enable'];
const EXT: Record<KqlTarget, string> = { hunting: 'kql', detection: 'json', sentinel: 'yaml' };

async function profile(): Promise<TenantProfile> {
  const p = await fixtureProfile();
  return { ...p, homeCountries: ['DE', 'GB'], rejectDirectSend: true, rejectDirectSendSince: '2026-07-25' };
}

function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new Error(text);
  return c;
}

describe('dsguard kql', () => {
  it('emits queries that Kusto parses and binds without an error, for every query and target (goldens)', async () => {
    const p = await profile();
    for (const target of ['hunting', 'detection', 'sentinel'] as const) {
      const names = target === 'hunting' ? QUERY_NAMES : RULE_QUERIES;
      for (const name of names) {
        const q = buildQuery(name, p, target);
        expect(errorsOf(q.kql), `${target}/${name}`).toEqual([]);
        expectGoldenText(`test/fixtures/kql/${target}/${name}.${EXT[target]}`, renderKql(p, target, [name]));
      }
    }
  });

  it('catches a misspelt column (the check can fail)', async () => {
    const q = buildQuery('inventory', await profile(), 'hunting');
    const bad = q.kql.replace('SenderMailFromDomain in~', 'SenderMailFromDomian in~');
    expect(bad).not.toBe(q.kql);
    const errors = errorsOf(bad);
    expect(errors.map((e) => e.code)).toContain('KS142');
    expect(errors.find((e) => e.code === 'KS142')?.message).toContain('SenderMailFromDomian');
    // A column the documented EmailEvents lacks (invented by some public KQL) is caught too.
    expect(errorsOf('EmailEvents | where ConnectorId == "x"').length).toBeGreaterThan(0);
  });

  it('keeps every profile value inside one string literal (hostile domains, senders, subjects)', async () => {
    const base = await profile();
    const hostile = [
      'evil.com") or true //',
      'a\\"; EmailEvents | take 100000 //',
      'x\'y"z\\',
      'line\nbreak | union *',
      '\u202eevil\u2066.com',
      '`multi`',
      '```',
      'h@"x"',
    ];
    const benign = hostile.map((_, i) => `d${i}.example`);
    const mk = (domains: string[]): TenantProfile => ({
      ...base,
      name: domains[0] ?? null,
      acceptedDomains: domains,
      knownSources: [
        {
          name: 'x',
          ips: [cidr('198.51.100.20')],
          senders: [domains[1]!, `*@${domains[2]}`],
          subject: `${domains[3]}*?`,
        },
      ],
    });
    for (const target of ['hunting', 'detection'] as const) {
      const names = target === 'hunting' ? QUERY_NAMES : RULE_QUERIES;
      for (const name of names) {
        const evil = checkKql(buildQuery(name, mk(hostile), target).kql);
        const good = checkKql(buildQuery(name, mk(benign), target).kql);
        expect(
          evil.diagnostics.filter((d) => d.severity === 'Error'),
          name,
        ).toEqual([]);
        // Same token stream shape: every hostile value stayed one literal.
        expect(evil.tokens, name).toEqual(good.tokens);
        expect(evil.columns).toEqual(good.columns);
      }
    }
    const yaml = sentinelRule(buildQuery('abuse', mk(hostile), 'sentinel'), mk(hostile)).yaml;
    for (const line of yaml.split('\n')) expect(line).not.toMatch(/[\u0000-\u001f\u202e\u2066]/);
  });

  it('writes the Graph detectionRule body in its current shape, mapping entities to columns the query returns', async () => {
    const p = await profile();
    for (const q of queriesFor(p, 'detection', RULE_QUERIES)) {
      const body = detectionRuleBody(q, p) as {
        id: string;
        status: string;
        queryCondition: { queryText: string };
        schedule: Record<string, string>;
        detectionAction: { alertTemplate: Record<string, unknown> };
      };
      const { columns } = checkKql(body.queryCondition.queryText);
      // Custom detections need Timestamp and ReportId, and an entity column.
      expect(columns).toContain('Timestamp');
      expect(columns).toContain('ReportId');
      expect(columns).toContain('NetworkMessageId');
      expect(body.id).toMatch(new RegExp(`^dsguard-${q.name}-[0-9a-f]{8}$`));
      expect(body.status).toBe('enabled');
      expect(body.schedule).toEqual({ frequency: 'PT1H' });
      const t = body.detectionAction.alertTemplate;
      // Removed from alertTemplate / detectionRule on 2026-10-01 (Graph beta docs): never written.
      for (const gone of ['impactedAssets', 'category', 'mitreTechniques']) expect(t).not.toHaveProperty(gone);
      expect(body).not.toHaveProperty('isEnabled');
      expect(['informational', 'low', 'medium', 'high']).toContain(t.severity);
      expect(t.tactics).toEqual([{ tactic: 'InitialAccess', techniques: [{ technique: 'T1566' }] }]);
      // entityMappingConfiguration: mailboxes, mailMessages, ips — each *Column a column the query returns.
      const maps = t.entityMappings as Record<string, Record<string, string>[]>;
      expect(Object.keys(maps).sort()).toEqual(['ips', 'mailMessages', 'mailboxes']);
      const mapped = Object.values(maps).flatMap((list) => list.flatMap((e) => Object.entries(e)));
      expect(mapped.length).toBeGreaterThanOrEqual(6);
      for (const [prop, col] of mapped) {
        expect(prop).toMatch(/Column$/);
        expect(columns, `${q.name}: ${prop}`).toContain(col);
      }
    }
  });

  it('writes Sentinel rules within the template validator limits, mapping only returned columns', async () => {
    const p = await profile();
    const dur = (s: string) => {
      const m = /^(\d+)([mhd])$/.exec(s);
      if (!m) throw new Error(s);
      return Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'];
    };
    for (const q of queriesFor(p, 'sentinel', RULE_QUERIES)) {
      const r = sentinelRule(q, p);
      for (const field of [
        'id',
        'name',
        'kind',
        'description',
        'severity',
        'requiredDataConnectors',
        'queryFrequency',
        'queryPeriod',
        'triggerOperator',
        'triggerThreshold',
        'tactics',
        'relevantTechniques',
        'query',
        'entityMappings',
      ]) {
        expect(r.yaml, field).toMatch(new RegExp(`^${field}:`, 'm'));
      }
      expect(r.yaml).toMatch(/connectorId: MicrosoftThreatProtection/);
      expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const f = dur(r.queryFrequency);
      const per = dur(r.queryPeriod);
      expect(f).toBeGreaterThanOrEqual(5);
      expect(per).toBeLessThanOrEqual(14 * 1440);
      expect(per).toBeGreaterThanOrEqual(f);
      expect(r.query.length).toBeLessThanOrEqual(SENTINEL_QUERY_LIMIT);
      expect(r.entityMappings.length).toBeLessThanOrEqual(5);
      const { columns } = checkKql(r.query);
      for (const e of r.entityMappings) {
        expect(e.fieldMappings.length).toBeLessThanOrEqual(3);
        for (const m of e.fieldMappings) expect(columns).toContain(m.columnName);
      }
      // The query is a literal block: every line of it is in the YAML, indented.
      for (const line of r.query.split('\n')) expect(r.yaml).toContain(`  ${line}`);
    }
  });

  it('refuses a 30-day query as a detection or Sentinel rule, and says it is hunting only', async () => {
    const p = await profile();
    expect(() => queriesFor(p, 'detection', ['inventory'])).toThrow(/hunting query only/);
    expect(() => queriesFor(p, 'sentinel', ['readiness'])).toThrow(/hunting query only/);
    expect(buildQuery('inventory', p, 'hunting').kql).toMatch(/Hunting only: needs a 30-day look-back/);
  });

  it('names only documented EmailEvents columns in its conditions', async () => {
    const q = buildQuery('inventory', await profile(), 'hunting');
    for (const m of q.kql.matchAll(/\b(Sender\w+|Recipient\w+|Email\w+|Connectors|AuthenticationDetails)\b/g)) {
      if (m[1] === 'EmailEvents' || m[1] === 'EmailUrlInfo') continue;
      expect(Object.keys(EMAIL_EVENTS_COLUMNS)).toContain(m[1]);
    }
  });
});

describe('KQL forms of the finding codes', () => {
  it('names only real codes, and every abuse signal maps to codes with a KQL form', async () => {
    const { RULES } = await import('../../src/core/rules/catalog.js');
    const { kqlFormOf } = await import('../../src/core/kql/rule-forms.js');
    const { abuseSignals } = await import('../../src/core/kql/selection.js');
    const withKql = [...RULES.keys()].filter((c) => kqlFormOf(c).kind === 'kql');
    expect(withKql.length).toBeGreaterThan(10);
    for (const s of abuseSignals()) {
      for (const code of s.code.split(' ')) {
        expect(RULES.has(code), code).toBe(true);
        expect(kqlFormOf(code).kind, code).toBe('kql');
      }
    }
    expect(kqlFormOf('DS412')).toEqual({ kind: 'local', reason: expect.stringContaining('body or attachment') });
    // Every code of the catalog: a KQL form in a query dsguard emits, or "local only" with a reason of its own
    // family or code (never the generic fallback); docs/findings.md prints it (test/findings-doc.test.ts).
    for (const code of RULES.keys()) {
      const f = kqlFormOf(code);
      if (f.kind === 'kql') expect(QUERY_NAMES, code).toContain(f.query);
      else {
        expect(f.reason.length, code).toBeGreaterThan(20);
        expect(f.reason, code).not.toBe('No EmailEvents column carries it.');
      }
    }
    // A profile-only decision is not blamed on missing headers.
    expect(kqlFormOf('DS118')).toEqual({ kind: 'local', reason: expect.stringContaining('profile') });
  });
});
