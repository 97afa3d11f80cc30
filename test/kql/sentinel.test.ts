/**
 * `dsguard kql --target sentinel` against the rules of Azure-Sentinel's template validator (restated in
 * sentinel-validator.ts with their sources): the YAML parsed as the validator parses it, every field and value
 * allowed, every entity mapping's type and identifier in Microsoft's documented entity list, each mapped column
 * one the query returns; and the checker itself catches what it must (so it can fail).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildQuery } from '../../src/core/kql/queries.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { queriesFor, renderKql, SENTINEL_NAME_LIMIT, sentinelRule } from '../../src/report/kql-targets.js';
import { fixtureProfile } from '../ingest/helpers.js';
import { checkKql } from './kusto.js';
import { ENTITY_IDENTIFIERS, entityMappingErrors, sentinelTemplateErrors } from './sentinel-validator.js';

async function profile(): Promise<TenantProfile> {
  const p = await fixtureProfile();
  return { ...p, homeCountries: ['DE'], rejectDirectSend: true, rejectDirectSendSince: '2026-07-25' };
}

describe('Sentinel analytics rules and the template validator', () => {
  it('passes every rule of the validator, for each rule dsguard writes', async () => {
    const p = await profile();
    const docs = renderKql(p, 'sentinel', ['abuse', 'after-enable']).split(/^---$/m);
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      const t = parse(doc) as Record<string, unknown>;
      expect(sentinelTemplateErrors(t), String(t.name)).toEqual([]);
      expect(t.kind).toBe('Scheduled');
      expect(t.version).toBe('1.0.0');
      expect(t.requiredDataConnectors).toEqual([
        { connectorId: 'MicrosoftThreatProtection', dataTypes: ['EmailEvents', 'EmailUrlInfo'] },
      ]);
    }
  });

  it('maps only documented entity types and identifiers, each to a column the query returns', async () => {
    const p = await profile();
    for (const q of queriesFor(p, 'sentinel', ['abuse', 'after-enable'])) {
      const r = sentinelRule(q, p);
      const { columns } = checkKql(r.query);
      expect(entityMappingErrors(r.entityMappings)).toEqual([]);
      for (const e of r.entityMappings) {
        const known = ENTITY_IDENTIFIERS[e.entityType];
        expect(known, e.entityType).toBeDefined();
        for (const f of e.fieldMappings) {
          expect(known!.identifiers, `${e.entityType}.${f.identifier}`).toContain(f.identifier);
          expect(columns, `${q.name}: ${f.columnName}`).toContain(f.columnName);
        }
      }
      // The strong identifiers Microsoft documents: Mailbox by MailboxPrimaryAddress, MailMessage by
      // NetworkMessageId + Recipient, IP by Address.
      const ids = Object.fromEntries(
        r.entityMappings.map((e) => [e.entityType, e.fieldMappings.map((f) => f.identifier)]),
      );
      expect(ids).toEqual({
        Mailbox: ['MailboxPrimaryAddress'],
        IP: ['Address'],
        MailMessage: ['NetworkMessageId', 'Recipient'],
      });
    }
  });

  it('keeps the name within 256 characters whatever the tenant name', async () => {
    const p = { ...(await profile()), name: `Contoso ${'😀'.repeat(200)}` };
    const t = parse(sentinelRule(buildQuery('abuse', p, 'sentinel'), p).yaml) as { name: string };
    expect(t.name.length).toBeLessThanOrEqual(SENTINEL_NAME_LIMIT);
    expect(t.name).toMatch(/^dsguard: Direct Send and internal-spoof abuse \(Contoso 😀+…\)$/u);
    expect(t.name).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('catches what the validator rejects (the check can fail)', async () => {
    const p = await profile();
    const good = parse(sentinelRule(buildQuery('abuse', p, 'sentinel'), p).yaml) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>) => sentinelTemplateErrors({ ...good, ...patch });
    expect(bad({ kind: 'Hunting' })).toEqual(['kind: Hunting']);
    expect(bad({ severity: 'Critical' })).toEqual(['severity: Critical']);
    expect(bad({ triggerOperator: '>' })).toEqual(['triggerOperator: >']);
    expect(bad({ version: '1.0' })).toEqual(['version: not X.Y.Z']);
    expect(bad({ queryFrequency: '2m' })).toEqual(['queryFrequency: outside 5m–14d']);
    expect(bad({ queryFrequency: '2h' })).toEqual(['queryPeriod < queryFrequency']);
    expect(bad({ queryPeriod: '15d' })).toEqual(['queryPeriod: outside 5m–14d']);
    expect(bad({ queryFrequency: '30m', queryPeriod: '2d' })).toEqual(['queryPeriod ≥ 2d needs queryFrequency ≥ 1h']);
    expect(bad({ tactics: ['Execution'] })).toEqual(['relevantTechniques: T1566 without its tactic']);
    expect(bad({ triggerThreshold: -1 })).toEqual(['triggerThreshold: 0–10000']);
    expect(bad({ query: 'x'.repeat(10_001) })).toEqual(['query: length']);
    const { id: _id, ...noId } = good;
    expect(sentinelTemplateErrors(noId)).toContain('id: required');
    expect(
      entityMappingErrors([{ entityType: 'Mailbox', fieldMappings: [{ identifier: 'Address', columnName: 'X' }] }]),
    ).toEqual(['Mailbox: identifier Address', 'Mailbox: no required identifier (MailboxPrimaryAddress)']);
    expect(
      entityMappingErrors([
        { entityType: 'MailMessage', fieldMappings: [{ identifier: 'Subject', columnName: 'Subject' }] },
      ]),
    ).toEqual(['MailMessage: no required identifier (NetworkMessageId | Recipient)']);
    expect(entityMappingErrors([{ entityType: 'Email', fieldMappings: [] }])).toEqual(['entityType: Email']);
    expect(
      entityMappingErrors([{ entityType: 'IP', fieldMappings: [{ identifier: 'Address', columnName: 'Sender IP' }] }]),
    ).toEqual(['IP: column Sender IP']);
  });
});
