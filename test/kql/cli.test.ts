/** `dsguard kql` on the command line: outputs per target, usage errors with exit 2. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const PROFILE = 'test/fixtures/exports/dsguard.yml';

describe('dsguard kql', () => {
  it('prints the four hunting queries by default', async () => {
    const r = await runCli(['kql', '--profile', PROFILE]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^EmailEvents$/gm)?.length).toBe(4);
    expect(r.stdout).toContain('Hunting only: needs a 30-day look-back');
  });

  it('prints the custom detection body and the Sentinel rules', async () => {
    const d = await runCli(['kql', '--profile', PROFILE, '--target', 'detection', '--rule', 'after-enable']);
    expect(d.code).toBe(0);
    const body = JSON.parse(d.stdout) as { queryCondition: { queryText: string } };
    expect(body.queryCondition.queryText).toContain('EmailEvents');
    const s = await runCli(['kql', '--profile', PROFILE, '--target', 'sentinel']);
    expect(s.code).toBe(0);
    expect(s.stdout.split('\n---\n').length).toBe(2);
  });

  it('refuses a hunting-only query as a rule, an unknown target or rule, and no profile (exit 2)', async () => {
    const inv = await runCli(['kql', '--profile', PROFILE, '--target', 'sentinel', '--rule', 'inventory']);
    expect(inv.code).toBe(2);
    expect(inv.stderr).toMatch(/hunting query only/);
    expect((await runCli(['kql', '--profile', PROFILE, '--target', 'splunk'])).code).toBe(2);
    expect((await runCli(['kql', '--profile', PROFILE, '--rule', 'everything'])).code).toBe(2);
    expect((await runCli(['kql'])).code).toBe(2);
  });
});
