/**
 * Golden tests for `analyze`: every fixture in test/fixtures/analyze is analysed with its profile; the key
 * semantics (channel, verdict, RejectDirectSend answer, required and forbidden codes) are asserted
 * explicitly from cases.json, and the whole result (findings with evidence) is compared with
 * <case>.expected.json (UPDATE_GOLDEN=1 regenerates them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeInputs, isAnalyzeError } from '../../src/analyze/analyze.js';
import { loadProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { expectGolden } from '../helpers/golden.js';

const DIR = 'test/fixtures/analyze';

interface Case {
  /** Golden file name when one message is run with several profiles (default: the file's name). */
  name?: string;
  file: string;
  profile: string | null;
  channel: string;
  verdict: string;
  rejectDirectSendBlocks: boolean | null;
  codes: string[];
  absent?: string[];
}

const cases = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as Case[];

async function profileFor(name: string | null): Promise<TenantProfile | null> {
  if (name === null) return null;
  const r = await loadProfile(join(DIR, name));
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
}

describe('analyze golden fixtures', () => {
  it('has at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of cases) {
    it(c.name ?? c.file, async () => {
      const profile = await profileFor(c.profile);
      const results = [];
      for await (const r of analyzeInputs([join(DIR, c.file)], { profile })) results.push(r);
      expect(results).toHaveLength(1);
      const r = results[0]!;
      if (isAnalyzeError(r)) throw new Error(r.error);
      const codes = r.findings.map((f) => f.code);
      expect({ channel: r.channel, verdict: r.verdict, rejectDirectSendBlocks: r.rejectDirectSendBlocks }).toEqual({
        channel: c.channel,
        verdict: c.verdict,
        rejectDirectSendBlocks: c.rejectDirectSendBlocks,
      });
      for (const code of c.codes) expect(codes, `expected ${code}`).toContain(code);
      for (const code of c.absent ?? []) expect(codes, `did not expect ${code}`).not.toContain(code);
      // Every finding cites evidence except the few that are about absence of data.
      for (const f of r.findings) {
        if (!['DS111', 'DS406'].includes(f.code))
          expect(f.evidence.length, `${f.code} has evidence`).toBeGreaterThan(0);
      }
      // How the tenant was known: the profile when given, never 'profile' without one.
      if (c.profile !== null) expect(r.tenantKnownFrom).toBe('profile');
      else expect(['attested', 'inferred']).toContain(r.tenantKnownFrom);
      // Never legitimate, never connector advice without a profile.
      if (c.profile === null) {
        expect(r.verdict).not.toBe('legitimate');
        expect(codes).not.toContain('DS604');
        expect(codes).not.toContain('DS606');
      }
      const golden = c.name ? `${c.name}.expected.json` : c.file.replace(/\.(eml|txt)$/, '.expected.json');
      expectGolden(join(DIR, golden), r);
    });
  }
});

describe('DS117: Direct Send after RejectDirectSend', () => {
  const file = join(DIR, 'powershell-spoof-foreign-vps.eml');
  const run = async (setting: boolean, since: string | null) => {
    const profile = { ...(await profileFor('contoso.yml'))!, rejectDirectSend: setting, rejectDirectSendSince: since };
    for await (const r of analyzeInputs([file], { profile })) {
      if (isAnalyzeError(r)) throw new Error(r.error);
      return { receivedAt: r.receivedAt, ds117: r.findings.find((f) => f.code === 'DS117') ?? null };
    }
    throw new Error('no result');
  };

  it('flags Direct Send received after the switch, not mail that may predate it', async () => {
    const { receivedAt, ds117: none } = await run(false, null);
    expect(none).toBeNull();
    const day = receivedAt!.slice(0, 10);
    const shift = (ms: number) => `${new Date(Date.parse(receivedAt!) + ms).toISOString().slice(0, 19)}Z`;
    const dayBefore = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    expect((await run(true, null)).ds117?.message).toBe(
      `The profile says RejectDirectSend is enabled, yet this arrived by Direct Send on ${receivedAt}`,
    );
    // Enabled the day before: certainly in force on the day it arrived.
    expect((await run(true, dayBefore)).ds117?.message).toBe(
      `The profile says RejectDirectSend is enabled since ${dayBefore}, yet this arrived by Direct Send on ${receivedAt}`,
    );
    // Enabled that day, time not given: it may predate the switch.
    expect((await run(true, day)).ds117).toBeNull();
    // Enabled at a time: a second before it arrived, or a second after.
    expect((await run(true, shift(-1000))).ds117).not.toBeNull();
    expect((await run(true, shift(1000))).ds117).toBeNull();
  });
});
