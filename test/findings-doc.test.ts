/**
 * docs/findings.md is generated from the rule catalog; this test fails when they drift.
 * Regenerate with UPDATE_GOLDEN=1 npx vitest run test/findings-doc.test.ts
 */
import { describe, expect, it } from 'vitest';
import { kqlFormLine } from '../src/core/kql/rule-forms.js';
import { RULES } from '../src/core/rules/catalog.js';
import { READINESS_CODES } from '../src/core/sources/readiness.js';
import { expectGoldenText } from './helpers/golden.js';

const FAMILIES: [string, string][] = [
  ['DS1', 'Channel: how the message got in'],
  ['DS2', 'Authentication'],
  ['DS3', 'Behaviour and client fingerprints'],
  ['DS4', 'Lures and content'],
  ['DS5', 'Origin of the sending IP'],
  ['DS6', 'Legitimacy'],
  ['DS7', 'Domain exposure (`dsguard exposure`)'],
  ['DS74', 'Tenant configuration audit (`dsguard audit`, `dsguard profile`), DS740–DS799'],
  ['DS8', 'SMTP probe (`dsguard probe`)'],
  ['DS9', 'Ingest and tracking (`dsguard ingest`, `dsguard report`)'],
];

function generate(): string {
  const out: string[] = [
    '# Findings',
    '',
    '<!-- Generated from src/core/rules/catalog.ts by test/findings-doc.test.ts (UPDATE_GOLDEN=1). Do not edit by hand. -->',
    '',
    'Every finding dsguard emits has a stable code. `severity` is fixed per code; `weight` is the number of risk',
    'points it adds to a Direct Send or internal-spoof message (risk is capped at 100). A message is **legitimate**',
    'when the profile declares its source (DS601) and no finding that *vetoes legitimacy* fired, or when its',
    'evidence says so (DS602, DS603, DS605) with a profile given and no *intent* finding (a subject keyword alone',
    'excepted); **malicious** when its risk reaches 60 and at least one *intent* finding fired; otherwise',
    '**suspicious**. Without a profile a message is never legitimate (see docs/architecture.md).',
    '',
  ];
  for (const [prefix, title] of FAMILIES) {
    const rules = [...RULES.values()]
      // DS740–DS799 (tenant audit) have their own section, apart from the DS70x–DS73x exposure codes.
      .filter((r) =>
        prefix === 'DS74'
          ? r.code >= 'DS740' && r.code < 'DS800'
          : r.code.startsWith(prefix) && (prefix !== 'DS7' || r.code < 'DS740'),
      )
      .sort((a, b) => a.code.localeCompare(b.code));
    if (rules.length === 0) continue;
    out.push(prefix === 'DS74' ? `## DS74x–DS79x — ${title}` : `## ${prefix}xx — ${title}`, '');
    for (const r of rules) {
      const flags = [r.intent ? 'intent' : '', r.vetoesLegitimate ? 'vetoes legitimacy' : '']
        .filter(Boolean)
        .join(', ');
      out.push(`### ${r.code} — ${r.title}`, '');
      out.push(`- **Severity:** ${r.severity} · **weight:** ${r.weight}${flags ? ` · ${flags}` : ''}`);
      out.push(`- **Meaning:** ${r.meaning}`);
      out.push(`- **Evidence:** ${r.evidence}`);
      out.push(`- **What to do:** ${r.action}`);
      out.push(`- **KQL:** ${kqlFormLine(r.code)}`, '');
    }
  }
  // Readiness blockers (DS900–DS929): not message findings but stable codes of `dsguard report`'s readiness.
  out.push('## DS90x — Readiness blockers (`dsguard report`)', '');
  out.push(
    'Blockers of `readiness` in the report, listed most important first (the order below). While any is present,',
    'the report does not print the command that enables RejectDirectSend. How sources are weighed: [sources.md](sources.md).',
    '',
  );
  for (const r of READINESS_CODES) {
    out.push(`### ${r.code} — ${r.title}`, '');
    out.push(`- **Meaning:** ${r.meaning}`);
    out.push(`- **What to do:** ${r.action}`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

describe('docs/findings.md', () => {
  it('documents every finding code exactly as the catalog declares it', () => {
    expectGoldenText('docs/findings.md', generate());
  });
  it('keeps readiness codes in their range and apart from finding codes', () => {
    for (const r of READINESS_CODES) {
      expect(r.code).toMatch(/^DS9[0-2]\d$/);
      expect(RULES.has(r.code)).toBe(false);
    }
    expect(new Set(READINESS_CODES.map((r) => r.code)).size).toBe(READINESS_CODES.length);
  });
  it('uses well-formed, unique codes in known families', () => {
    for (const code of RULES.keys()) {
      expect(code).toMatch(/^DS[1-9]\d\d$/);
      expect(FAMILIES.some(([p]) => code.startsWith(p))).toBe(true);
    }
  });
});
