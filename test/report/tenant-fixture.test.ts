/**
 * Issue #13's "done means": the generated fixture tenant (trace V2, historical UTF-16, EmailEvents; five weeks)
 * ingested with a day-one profile is not ready, names every legitimate source in a blocker, calls the campaigns
 * malicious and the SPF-passing single-sender sources likely legitimate, and counts every planted Direct Send
 * (inferred trace rows included). After `dsguard sources approve` of the legitimate ones, readiness waits only
 * for their connectors (soak), and the plan covers exactly the approved IPs. Goldens for both runs.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport, type SourceEntry, type TenantReport } from '../../src/report/tenant-report.js';
import { renderTenantText } from '../../src/report/tenant-report-text.js';
import { DAY_ONE_PROFILE, makeTenant, type SourceKey } from '../fixtures/tenant/make-tenant.js';
import { runCli } from '../helpers/cli.js';
import { expectGolden, expectGoldenText, UPDATE } from '../helpers/golden.js';
import { openStore, tempDir } from '../ingest/helpers.js';

const DIR = 'test/fixtures/tenant';
const tenant = makeTenant();
const files = tenant.files.map((f) => join(DIR, f.name));

let tmp: ReturnType<typeof tempDir>;
let db: string;
let profilePath: string;
let dayOne: TenantReport;

async function profileAt(path: string): Promise<TenantProfile> {
  const r = await loadProfile(path);
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
}

function report(profile: TenantProfile): TenantReport {
  const store = openStore(db);
  try {
    return buildTenantReport(store, { profile });
  } finally {
    store.close();
  }
}

function sourceOf(r: TenantReport, key: SourceKey): SourceEntry {
  const ips = tenant.planted.ips[key];
  const s = r.sources.find((x) => x.ips.some((ip) => ips.includes(ip)));
  if (!s) throw new Error(`no source for ${key}`);
  return s;
}

beforeAll(async () => {
  // The committed exports are the generator's output (regenerated with UPDATE_GOLDEN=1).
  for (const f of tenant.files) {
    const path = join(DIR, f.name);
    if (UPDATE || !existsSync(path)) writeFileSync(path, f.content);
  }
  if (UPDATE || !existsSync(join(DIR, 'dsguard.day-one.yml')))
    writeFileSync(join(DIR, 'dsguard.day-one.yml'), DAY_ONE_PROFILE);
  tmp = tempDir();
  db = join(tmp.dir, 'tenant.db');
  profilePath = join(tmp.dir, 'dsguard.yml');
  copyFileSync(join(DIR, 'dsguard.day-one.yml'), profilePath);
  const profile = await profileAt(profilePath);
  await ingest(files, { db, profile });
  dayOne = report(profile);
});
afterAll(() => tmp.cleanup());

describe('the fixture tenant', () => {
  it('is the generator’s output, byte for byte', () => {
    for (const f of tenant.files) expect(readFileSync(join(DIR, f.name)).equals(f.content), f.name).toBe(true);
    expect(readFileSync(join(DIR, 'dsguard.day-one.yml'), 'utf8')).toBe(DAY_ONE_PROFILE);
    // Five weeks, three formats, every kind of sender planted.
    const p = tenant.planted;
    for (const key of ['copier', 'hr', 'helpdesk', 'campaignFax', 'campaignPayroll'] as const) {
      expect(p.directSend[key], key).toBeGreaterThan(0);
    }
    expect(p.inTrace.copier + p.inTrace.hr + p.inTrace.helpdesk).toBeGreaterThan(10);
    expect(p.inTrace.campaignFax + p.inTrace.campaignPayroll).toBeGreaterThan(0);
    expect(p.internalSpoof).toBe(3);
  });

  it('day one: not ready; every legitimate source named in a blocker; campaigns malicious; all Direct Send counted', () => {
    const r = dayOne;
    expectGolden(join(DIR, 'report.day-one.expected.json'), r);
    expectGoldenText(join(DIR, 'report.day-one.expected.txt'), renderTenantText(r, { limit: 50 }));
    expect(r.readiness.ready).toBe(false);
    expect(r.readiness.coverage?.span).toBe(35);
    expect(r.readiness.rejectedRows).toEqual([]);
    const copier = sourceOf(r, 'copier');
    const hr = sourceOf(r, 'hr');
    const helpdesk = sourceOf(r, 'helpdesk');
    expect(copier.verdict).toBe('likely-legitimate');
    expect(hr.verdict).toBe('likely-legitimate');
    expect(['undetermined', 'suspicious']).toContain(helpdesk.verdict);
    for (const key of ['campaignFax', 'campaignPayroll'] as const) {
      for (const ip of tenant.planted.ips[key]) {
        const s = r.sources.find((x) => x.ips.includes(ip))!;
        expect(s.verdict, `${key} ${ip}`).toBe('malicious');
      }
    }
    const named = new Set(r.readiness.blockers.flatMap((b) => b.sourceIds ?? []));
    for (const s of [copier, hr, helpdesk]) expect(named.has(s.id), s.id).toBe(true);
    expect(r.readiness.blockers.find((b) => b.sourceIds?.includes(copier.id))?.code).toBe('DS900');
    // Totals: every planted Direct Send delivery, the trace rows among them as inferred.
    const p = tenant.planted;
    const planted = Object.values(p.directSend).reduce((a, b) => a + b, 0);
    const inTrace = Object.values(p.inTrace).reduce((a, b) => a + b, 0);
    expect(r.totals.directSend).toBe(planted);
    expect(r.totals.inferredDirectSend).toBe(inTrace);
    expect(r.totals.candidates).toBe(0);
    expect(r.totals.internalSpoof).toBe(p.internalSpoof);
    expect(r.timeline.reduce((n, d) => n + d.directSend, 0)).toBe(planted);
    expect(r.impact.wouldReject.messages).toBe(planted);
    expect(copier.counts.directSend).toBe(p.directSend.copier);
    expect(copier.counts.inferred).toBe(p.inTrace.copier);
    expect(copier.inferredFrom[0]?.file).not.toBe(null);
    // The enable command is not advice until ready.
    expect(r.enableSteps.join('\n')).not.toContain('Set-OrganizationConfig -RejectDirectSend $true');
    // Every verdict is explained with the rows behind it.
    for (const s of r.sources) expect(s.signals.length, s.id).toBeGreaterThan(0);
    expect(copier.signals.find((g) => g.signal === 'auth-pass')?.rows.length).toBeGreaterThan(0);
  });

  it('after sources approve of the legitimate ones: waits only for their connectors, and the plan covers exactly them', async () => {
    const before = readFileSync(profilePath, 'utf8');
    const approve = [
      ['copier', 'Copier 2nd floor', 'facilities@contoso.com'],
      ['hr', 'HR portal', 'hr-it@contoso.com'],
      ['helpdesk', 'Helpdesk SaaS', null],
    ] as const;
    for (const [key, name, owner] of approve) {
      const id = sourceOf(dayOne, key).id;
      const argv = ['sources', 'approve', id, '--profile', profilePath, '--db', db, '--name', name];
      if (owner) argv.push('--owner', owner);
      const run = await runCli(argv);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${id} (`);
    }
    const after = readFileSync(profilePath, 'utf8');
    expectGoldenText(join(DIR, 'dsguard.approved.expected.yml'), after);
    // The admin's text is kept: every line of the day-one profile is still there, in order.
    expect(after.startsWith(before.trimEnd())).toBe(true);
    expectGoldenText(join(DIR, 'dsguard.approved.expected.yml'), after);
    const r = report(await profileAt(profilePath));
    expectGolden(join(DIR, 'report.approved.expected.json'), r);
    expectGoldenText(join(DIR, 'report.approved.expected.txt'), renderTenantText(r, { limit: 50 }));
    expect(r.readiness.ready).toBe(false);
    expect(new Set(r.readiness.blockers.map((b) => b.code))).toEqual(new Set(['DS903']));
    const approved = approve.map(([key]) => sourceOf(r, key));
    for (const s of approved) expect(s.verdict).toBe('legitimate');
    expect(r.readiness.blockers.flatMap((b) => b.sourceIds ?? []).sort()).toEqual(approved.map((s) => s.id).sort());
    const planned = r.connectorPlan.flatMap((c) => c.ips).sort();
    expect(planned).toEqual(approve.flatMap(([key]) => tenant.planted.ips[key]).sort());
    // Approving again changes nothing.
    const again = await runCli([
      'sources',
      'approve',
      approved[0]!.ips[0]!,
      '--profile',
      profilePath,
      '--db',
      db,
      '--name',
      'x',
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing changed');
    expect(readFileSync(profilePath, 'utf8')).toBe(after);
  });

  it('report --fail-on maps readiness and verdicts to exit 1', async () => {
    const base = ['report', '--db', db, '--profile', join(DIR, 'dsguard.day-one.yml'), '--format', 'json'];
    const notReady = await runCli([...base, '--fail-on', 'not-ready']);
    expect(notReady.code).toBe(1);
    expect(notReady.stderr).toContain('--fail-on not-ready');
    expect(JSON.parse(notReady.stdout).readiness.ready).toBe(false);
    expect((await runCli([...base, '--fail-on', 'malicious,new-source'])).code).toBe(1);
    expect((await runCli([...base, '--fail-on', 'enforcement-fails'])).code).toBe(0);
    expect((await runCli([...base, '--fail-on', 'sometimes'])).code).toBe(2);
  });
});
