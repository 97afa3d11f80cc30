/**
 * Worker process of the parallel analyzer: parses and assesses the messages the main process sends it, one at
 * a time. It builds its own content analysers and extra rules from the same plain settings the main process
 * was given (they hold functions and cannot be sent); the profile comes as plain data. Started with a V8 heap
 * limit and killed by its owner when it is no longer needed; it exits when its owner goes away.
 * @module
 */
import { assess, type MessageRule } from '../core/assess.js';
import { profileFromPlain, type TenantProfile } from '../core/profile.js';
import { parseMessageBytes } from '../sources/inputs.js';
import { type ReaderLimits, readerLimits } from '../sources/limits.js';
import type { ContentAnalyzer } from '../sources/rfc822.js';
import { buildAnalysisExtras } from './analysis-extras.js';
import { type AnalyzeResult, toAnalyzedMessage } from './analyze.js';
import type { AnalyzeJob, AnalyzeWorkerConfig, AnalyzeWorkerReply, AnalyzeWorkerRequest } from './analyze-parallel.js';

if (!process.send) throw new Error('analyze-worker must run as a child process with an IPC channel');
const send = process.send.bind(process);

interface Setup {
  config: AnalyzeWorkerConfig;
  limits: ReaderLimits;
  profile: TenantProfile | null;
  analyzers: ContentAnalyzer[];
  extraRules: MessageRule[];
}

async function prepare(config: AnalyzeWorkerConfig): Promise<Setup> {
  const limits = readerLimits(config.limits);
  const profile = config.profile ? profileFromPlain(config.profile) : null;
  if (!config.extras) return { config, limits, profile, analyzers: [], extraRules: [] };
  const extras = await buildAnalysisExtras(config.extras, { content: true });
  if (extras.status === 'error') throw new Error(extras.error);
  return { config, limits, profile, analyzers: extras.analyzers, extraRules: extras.extraRules };
}

/** The settings arrive first; a job before them is the owner's bug, reported as the run's fatal error. */
let setup: Promise<Setup> = Promise.reject(new Error('analyze-worker: a job arrived before its settings'));
setup.catch(() => undefined);

async function analyze(job: AnalyzeJob): Promise<AnalyzeWorkerReply> {
  let s: Setup;
  try {
    s = await setup;
  } catch (error) {
    return { seq: job.seq, fatal: error instanceof Error ? error.message : String(error) };
  }
  let result: AnalyzeResult;
  try {
    const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
    const parsed = await parseMessageBytes(bytes, job.input, {
      headersOnly: s.config.headersOnly,
      limits: s.limits,
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
  return { seq: job.seq, result };
}

process.on('message', async (request: AnalyzeWorkerRequest) => {
  if ('config' in request) {
    setup = prepare(request.config);
    setup.catch(() => undefined);
    return;
  }
  send(await analyze(request.job));
});
process.on('disconnect', () => process.exit(0));
