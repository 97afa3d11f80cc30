/**
 * The bundled phishing_pot corpus (400 real phishing messages, external to any business tenant): every
 * message parses without a crash, and none is classified as Direct Send or internal spoofing.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeInputs, isAnalyzeError } from '../../src/analyze/analyze.js';

// ../shared beside the repository (/work/main), or two levels up from a worktree (/work/wt/<name>).
const CORPUS = ['../shared/corpus/phishing_pot', '../../shared/corpus/phishing_pot'].find((p) => existsSync(p)) ?? '';

describe.skipIf(CORPUS === '')('phishing_pot corpus', () => {
  it('parses all 400 messages and finds no Direct Send or internal spoof', async () => {
    const channels = new Map<string, number>();
    const errors: string[] = [];
    let messages = 0;
    for await (const r of analyzeInputs([CORPUS], { profile: null })) {
      if (isAnalyzeError(r)) {
        if (r.input.endsWith('.eml')) errors.push(`${r.input}: ${r.error}`);
        continue;
      }
      messages++;
      channels.set(r.channel, (channels.get(r.channel) ?? 0) + 1);
      expect(['direct-send', 'internal-spoof'], r.input).not.toContain(r.channel);
      expect(r.risk).toBeGreaterThanOrEqual(0);
      expect(r.risk).toBeLessThanOrEqual(100);
    }
    expect(errors).toEqual([]);
    expect(messages).toBe(400);
    // 394 were received by the consumer Outlook.com tenant; a few more reached Gmail/Proton (no Exchange stamps).
    expect(channels.get('external')).toBeGreaterThanOrEqual(390);
  }, 60_000);
});
