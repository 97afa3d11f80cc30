/**
 * `dsguard kql` output per target: the hunting query text; the Defender custom detection rule as the JSON body of
 * Graph beta `POST /security/rules/detectionRules`; a Microsoft Sentinel scheduled analytics rule as YAML in the
 * format of Azure-Sentinel's `Detections/` folder, within its validator's limits (frequency and period between
 * 5 minutes and 14 days, period ≥ frequency, ≤ 5 entity mappings of ≤ 3 fields, query ≤ 10,000 characters).
 * @module
 */
import { buildQuery, type KqlQuery, type KqlTarget, type QueryName } from '../core/kql/queries.js';
import type { TenantProfile } from '../core/profile.js';
import { uuid5 } from './uuid5.js';

export const SENTINEL_QUERY_LIMIT = 10_000;
/** The template validator's `name` (≤ 256) and `description` (≤ 5,000) lengths. */
export const SENTINEL_NAME_LIMIT = 256;

interface RuleMeta {
  severity: 'Medium' | 'High';
  tactics: string[];
  techniques: string[];
}

const META: Partial<Record<QueryName, RuleMeta>> = {
  abuse: { severity: 'Medium', tactics: ['InitialAccess'], techniques: ['T1566'] },
  'after-enable': { severity: 'High', tactics: ['InitialAccess'], techniques: ['T1566'] },
};

export class KqlTargetError extends Error {}

/** The queries a target can carry: detections and Sentinel rules only those with a short look-back. */
export function queriesFor(profile: TenantProfile, target: KqlTarget, names: readonly QueryName[]): KqlQuery[] {
  const out: KqlQuery[] = [];
  for (const n of names) {
    const q = buildQuery(n, profile, target);
    if (target !== 'hunting' && q.huntingOnly) {
      throw new KqlTargetError(
        `the ${n} query needs a 30-day look-back: it is a hunting query only (use --target hunting)`,
      );
    }
    out.push(q);
  }
  return out;
}

function metaOf(q: KqlQuery): RuleMeta {
  const m = META[q.name];
  if (!m) throw new KqlTargetError(`the ${q.name} query has no rule form`);
  return m;
}

/**
 * The columns each rule's alert entities come from (both queries return them): the recipient's mailbox, the
 * message (NetworkMessageId + recipient, Microsoft's strong identifier pair), the connecting IP.
 */
const ENTITY_COLUMNS = {
  mailbox: 'RecipientEmailAddress',
  networkMessageId: 'NetworkMessageId',
  recipient: 'RecipientEmailAddress',
  sender: 'SenderFromAddress',
  subject: 'Subject',
  ip: 'SenderIP',
} as const;

/**
 * Graph beta `POST /security/rules/detectionRules` request body, in the shape of Microsoft Graph's "Create
 * detectionRule" (microsoft-graph-docs-contrib `api-reference/beta/api/security-rulesroot-post-detectionrules.md`,
 * 2026-05-25): a client-given `id`, `status` (`isEnabled` was removed on 2026-10-01), `schedule.frequency` as an
 * ISO 8601 duration, and an `alertTemplate` with `entityMappings` (`entityMappingConfiguration`: `mailboxes`,
 * `mailMessages`, `ips`) and `tactics` with their techniques (`impactedAssets`, `category` and `mitreTechniques`
 * were removed the same day).
 */
export function detectionRuleBody(q: KqlQuery, profile: TenantProfile): Record<string, unknown> {
  const m = metaOf(q);
  const tenant = profile.name ? ` (${profile.name})` : '';
  const c = ENTITY_COLUMNS;
  return {
    '@odata.type': '#microsoft.graph.security.detectionRule',
    id: `dsguard-${q.name}-${uuid5(`detection-rule|${profile.name ?? ''}|${profile.acceptedDomains.join(',')}|${q.name}`).slice(0, 8)}`,
    displayName: `dsguard: ${q.title}${tenant}`,
    description: q.description,
    status: 'enabled',
    queryCondition: { queryText: q.kql },
    schedule: { frequency: 'PT1H' },
    detectionAction: {
      alertTemplate: {
        title: `dsguard: ${q.title}`,
        description: q.description,
        severity: m.severity.toLowerCase(),
        recommendedActions:
          'Review the message and its source in dsguard (dsguard report). Give legitimate senders an inbound connector; then enable RejectDirectSend.',
        entityMappings: {
          mailboxes: [{ primaryAddressColumn: c.mailbox }],
          mailMessages: [
            {
              networkMessageIdColumn: c.networkMessageId,
              recipientColumn: c.recipient,
              senderColumn: c.sender,
              subjectColumn: c.subject,
            },
          ],
          ips: [{ addressColumn: c.ip }],
        },
        tactics: m.tactics.map((tactic) => ({ tactic, techniques: m.techniques.map((technique) => ({ technique })) })),
      },
    },
  };
}

/** A YAML double-quoted scalar (JSON string syntax is valid YAML). */
function y(value: string): string {
  return JSON.stringify(value);
}

export interface SentinelRule {
  yaml: string;
  id: string;
  query: string;
  queryFrequency: string;
  queryPeriod: string;
  entityMappings: { entityType: string; fieldMappings: { identifier: string; columnName: string }[] }[];
}

export function sentinelRule(q: KqlQuery, profile: TenantProfile): SentinelRule {
  const m = metaOf(q);
  if (q.kql.length > SENTINEL_QUERY_LIMIT) {
    throw new KqlTargetError(
      `the ${q.name} query is ${q.kql.length} characters: Sentinel takes at most ${SENTINEL_QUERY_LIMIT} (fewer accepted domains or declared sources per rule)`,
    );
  }
  const id = uuid5(`sentinel-rule|${profile.name ?? ''}|${profile.acceptedDomains.join(',')}|${q.name}`);
  const entityMappings = [
    {
      entityType: 'Mailbox',
      fieldMappings: [{ identifier: 'MailboxPrimaryAddress', columnName: ENTITY_COLUMNS.mailbox }],
    },
    { entityType: 'IP', fieldMappings: [{ identifier: 'Address', columnName: ENTITY_COLUMNS.ip }] },
    {
      entityType: 'MailMessage',
      fieldMappings: [
        { identifier: 'NetworkMessageId', columnName: ENTITY_COLUMNS.networkMessageId },
        { identifier: 'Recipient', columnName: ENTITY_COLUMNS.recipient },
      ],
    },
  ];
  const tenant = profile.name ? ` (${profile.name})` : '';
  let name = `dsguard: ${q.title}${tenant}`;
  if (name.length > SENTINEL_NAME_LIMIT) {
    // Cut by code points (no lone surrogate), within the limit in UTF-16 units as .NET counts them.
    let cut = '';
    for (const ch of name) {
      if (cut.length + ch.length > SENTINEL_NAME_LIMIT - 2) break;
      cut += ch;
    }
    name = `${cut}…)`;
  }
  const queryFrequency = '1h';
  const queryPeriod = '1h';
  const lines = [
    `id: ${id}`,
    `name: ${y(name)}`,
    `description: ${y(q.description)}`,
    `severity: ${m.severity}`,
    'requiredDataConnectors:',
    '  - connectorId: MicrosoftThreatProtection',
    '    dataTypes:',
    '      - EmailEvents',
    '      - EmailUrlInfo',
    `queryFrequency: ${queryFrequency}`,
    `queryPeriod: ${queryPeriod}`,
    'triggerOperator: gt',
    'triggerThreshold: 0',
    'tactics:',
    ...m.tactics.map((t) => `  - ${t}`),
    'relevantTechniques:',
    ...m.techniques.map((t) => `  - ${t}`),
    'query: |',
    ...q.kql.split('\n').map((l) => `  ${l}`),
    'entityMappings:',
    ...entityMappings.flatMap((e) => [
      `  - entityType: ${e.entityType}`,
      '    fieldMappings:',
      ...e.fieldMappings.flatMap((f) => [`      - identifier: ${f.identifier}`, `        columnName: ${f.columnName}`]),
    ]),
    'version: 1.0.0',
    'kind: Scheduled',
  ];
  return { yaml: `${lines.join('\n')}\n`, id, query: q.kql, queryFrequency, queryPeriod, entityMappings };
}

/** The whole output of `dsguard kql` for a target. */
export function renderKql(profile: TenantProfile, target: KqlTarget, names: readonly QueryName[]): string {
  const qs = queriesFor(profile, target, names);
  if (target === 'hunting') return `${qs.map((q) => q.kql).join('\n\n// ----\n\n')}\n`;
  if (target === 'detection') {
    const bodies = qs.map((q) => detectionRuleBody(q, profile));
    return `${JSON.stringify(bodies.length === 1 ? bodies[0] : bodies, null, 2)}\n`;
  }
  return qs.map((q) => sentinelRule(q, profile).yaml).join('---\n');
}
