/**
 * `dsguard analyze <paths…|->`: an explained Direct Send verdict per message.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { type AnalyzeResult, analyzeInputs, isAnalyzeError } from '../analyze/analyze.js';
import { analyzeInputsParallel, parallelAvailable, worthParallel } from '../analyze/analyze-parallel.js';
import type { Verdict } from '../core/assessment.js';
import { profileToPlain } from '../core/profile.js';
import {
  renderCsvHeaderAndRow,
  renderMessageMarkdown,
  renderMessageText,
  summaryLine,
} from '../report/analyze-report.js';
import { terminalSafe } from '../report/safe-text.js';
import { addExtrasOptions, buildExtras, checkExtras, type ExtrasFlags } from './analysis-extras.js';
import { type CliIo, EXIT, Progress, UsageError } from './io.js';
import { parseFailOn, parseFormat, positiveInt, profileOption, WorstSeverity } from './options.js';
import { type RecordRenderers, RecordStream } from './record-stream.js';

interface AnalyzeFlags extends ExtrasFlags {
  format: string;
  profile?: string;
  failOn?: string;
  explain?: boolean;
  headersOnly?: boolean;
  maxHeaderBytes?: number;
  maxMessageBytes?: number;
  jobs?: number;
}

export function registerAnalyze(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('analyze')
    .description(
      'Explained Direct Send verdict for each message: .eml, .msg, mbox, pasted headers, folders, or - for stdin',
    )
    .argument('<paths...>', 'files, folders (recursive), mbox files, or - to read header text / a message from stdin')
    .option('-f, --format <format>', 'table | json | ndjson | csv | md', 'table')
    .option(
      '-p, --profile <file>',
      'tenant profile (dsguard.yml); without it the tenant is known only from what Exchange attests, and no verdict is legitimate',
    )
    .option(
      '--fail-on <severity|verdict>',
      'exit 1 when a finding at or above this severity fires (high|medium|low|info|none), or when a message gets this verdict or a worse one (malicious|suspicious)',
    )
    .option('--explain', 'add what each finding means and what to do')
    .option('--headers-only', 'read only the header block of each file (fast triage; attachment signals skipped)')
    .option('--max-header-bytes <n>', 'largest header block accepted', positiveInt('--max-header-bytes'))
    .option('--max-message-bytes <n>', 'largest message file read', positiveInt('--max-message-bytes'))
    .option(
      '-j, --jobs <n>',
      'worker processes for folders, many files and large mboxes (default: one per core, at most 4, for full analysis; 1 with --headers-only)',
      positiveInt('--jobs'),
    );
  addExtrasOptions(cmd, { content: true }).action(async (paths: string[], flags: AnalyzeFlags) => {
    setExit(await runAnalyze(paths, flags, io));
  });
}

export async function runAnalyze(paths: string[], flags: AnalyzeFlags, io: CliIo): Promise<number> {
  const format = parseFormat(flags.format, ['table', 'json', 'ndjson', 'csv', 'md']);
  const failOnVerdict = parseFailOnVerdict(flags.failOn);
  const failOn = failOnVerdict === null ? failOnSeverity(flags.failOn) : null;
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be named only once');
  const profile = await profileOption(flags.profile);
  const limits: Record<string, number> = {};
  if (flags.maxHeaderBytes !== undefined) limits.maxHeaderBytes = flags.maxHeaderBytes;
  if (flags.maxMessageBytes !== undefined) limits.maxMessageBytes = flags.maxMessageBytes;
  const headersOnly = flags.headersOnly === true;
  const jobs = flags.jobs ?? (headersOnly ? 1 : Math.min(availableParallelism(), 4));
  const parallel = jobs > 1 && parallelAvailable() && worthParallel(paths);
  // The rule families are built where messages are assessed: here, or in each worker (checked here first, so a
  // bad flag still stops the command before any work).
  // --headers-only reads no body: the content analysers are not even loaded.
  const extras = parallel ? null : await buildExtras(flags, { content: !headersOnly });
  if (parallel) await checkExtras(flags);
  let skipped = 0;
  const onSkip = (input: string, reason: string) => {
    skipped++;
    if (skipped <= MAX_SKIP_LINES)
      io.stderr.write(`dsguard: skipped ${terminalSafe(input)}: ${terminalSafe(reason)}\n`);
  };
  // Standard input only when `-` is among the inputs: touching process.stdin sets up a stream (and loads some 30
  // of Node's own modules, bench/startup.mjs) that a run over files never uses.
  const stdin = paths.includes('-') ? { stdin: io.stdin } : {};
  const results = parallel
    ? analyzeInputsParallel(
        paths,
        {
          profile: profile ? profileToPlain(profile) : null,
          headersOnly,
          limits,
          extras: pick(flags),
        },
        { jobs, ...stdin, onSkip },
      )
    : analyzeInputs(paths, { profile, headersOnly, limits, ...stdin, onSkip, ...extras! });

  const worst = new WorstSeverity();
  let verdictReached = false;
  const byChannel = new Map<string, number>();
  const byTenantKnownFrom = new Map<string, number>();
  let messages = 0;
  let errors = 0;
  const progress = new Progress(io, 'analyzing');
  const out = new RecordStream(io, format, renderers(flags.explain === true));
  await out.open();
  for await (const r of results) {
    if (isAnalyzeError(r)) {
      errors++;
      io.stderr.write(`dsguard: ${terminalSafe(r.input)}: ${terminalSafe(r.error)}\n`);
    } else {
      messages++;
      byChannel.set(r.channel, (byChannel.get(r.channel) ?? 0) + 1);
      byTenantKnownFrom.set(r.tenantKnownFrom, (byTenantKnownFrom.get(r.tenantKnownFrom) ?? 0) + 1);
      worst.add(r.findings);
      if (failOnVerdict !== null && VERDICT_RANK[r.verdict] >= VERDICT_RANK[failOnVerdict]) verdictReached = true;
    }
    // An unreadable input is said once, on stderr: the table has no block for it (machine formats keep the record).
    if (!isAnalyzeError(r) || format !== 'table') await out.push(r);
    progress.tick(messages + errors);
  }
  progress.done();
  await out.close();
  if (skipped > MAX_SKIP_LINES) io.stderr.write(`dsguard: skipped ${skipped} files in all that are not messages\n`);
  if (format === 'table') io.stderr.write(`${summaryLine({ messages, errors, byChannel, byTenantKnownFrom })}\n`);
  if (messages + errors === 0) {
    io.stderr.write('dsguard: no messages found in the given paths\n');
    return EXIT.failure;
  }
  if (errors > 0) return EXIT.failure;
  return worst.reaches(failOn) || verdictReached ? EXIT.findings : EXIT.ok;
}

type FailVerdict = 'malicious' | 'suspicious';
const VERDICT_RANK: Record<Verdict, number> = { 'not-applicable': 0, legitimate: 0, suspicious: 1, malicious: 2 };

function failOnSeverity(value: string | undefined) {
  try {
    return parseFailOn(value);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `--fail-on must be a severity (high, medium, low, info, none) or a verdict (malicious, suspicious) (got "${value}")`,
    );
  }
}

/** `--fail-on malicious|suspicious`: a verdict threshold instead of a severity (`null` when a severity is given). */
function parseFailOnVerdict(value: string | undefined): FailVerdict | null {
  return value === 'malicious' || value === 'suspicious' ? value : null;
}

const MAX_SKIP_LINES = 20;

/** Workers pay off on folders and lists of files, not on one message or stdin. */
function pick(flags: ExtrasFlags): ExtrasFlags {
  const out: ExtrasFlags = {};
  if (flags.content !== undefined) out.content = flags.content;
  if (flags.geoip !== undefined) out.geoip = flags.geoip;
  if (flags.geoipDb !== undefined) out.geoipDb = flags.geoipDb;
  if (flags.indicators !== undefined) out.indicators = flags.indicators;
  return out;
}

function renderers(explain: boolean): RecordRenderers<AnalyzeResult> {
  return {
    title: 'dsguard analyze',
    text: (r) => renderMessageText(r, { explain }),
    markdown: (r) => renderMessageMarkdown(r, { explain }),
    csv: (r, header) => renderCsvHeaderAndRow(r, header),
  };
}
