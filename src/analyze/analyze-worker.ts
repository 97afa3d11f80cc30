/**
 * Worker thread of the parallel analyzer: parses and assesses the messages the main thread sends it. It
 * builds its own content analysers and extra rules from the same plain settings the main thread was given
 * (they hold functions and cannot be sent); the profile comes as plain data.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { assess, type MessageRule } from '../core/assess.js';
import { profileFromPlain, type TenantProfile } from '../core/profile.js';
import { parseMessageBytes } from '../sources/inputs.js';
import { readerLimits } from '../sources/limits.js';
import type { ContentAnalyzer } from '../sources/rfc822.js';
import { buildAnalysisExtras } from './analysis-extras.js';
import { type AnalyzeResult, toAnalyzedMessage } from './analyze.js';
import type { AnalyzeJob, AnalyzeWorkerConfig, AnalyzeWorkerReply } from './analyze-parallel.js';

const config = workerData as AnalyzeWorkerConfig;
const port = parentPort;
if (!port) throw new Error('analyze-worker must run in a worker thread');

interface Setup {
  profile: TenantProfile | null;
  analyzers: ContentAnalyzer[];
  extraRules: MessageRule[];
}

const setup: Promise<Setup> = (async () => {
  const profile = config.profile ? profileFromPlain(config.profile) : null;
  if (!config.extras) return { profile, analyzers: [], extraRules: [] };
  const extras = await buildAnalysisExtras(config.extras, { content: true });
  if (extras.status === 'error') throw new Error(extras.error);
  return { profile, analyzers: extras.analyzers, extraRules: extras.extraRules };
})();

const limits = readerLimits(config.limits);

port.on('message', async (job: AnalyzeJob) => {
  let s: Setup;
  try {
    s = await setup;
  } catch (error) {
    const reply: AnalyzeWorkerReply = { seq: job.seq, fatal: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
    return;
  }
  let result: AnalyzeResult;
  try {
    const parsed = await parseMessageBytes(Buffer.from(job.bytes), job.input, {
      headersOnly: config.headersOnly,
      limits,
      analyzers: s.analyzers,
    });
    result =
      parsed.status === 'error'
        ? { input: job.input, error: parsed.error }
        : toAnalyzedMessage(parsed.evidence, assess(parsed.evidence, { profile: s.profile, extraRules: s.extraRules }));
  } catch (error) {
    // A failure on one input is that input's error record; the batch goes on.
    result = { input: job.input, error: `analysis failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  const reply: AnalyzeWorkerReply = { seq: job.seq, result };
  port.postMessage(reply);
});
