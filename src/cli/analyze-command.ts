/**
 * `dsguard analyze <paths…|->`: an explained Direct Send verdict per message.
 * @module
 */
import type { Command } from 'commander';
import { type AnalyzeResult, analyzeInputs, isAnalyzeError } from '../analyze.js';
import type { Severity } from '../core/finding.js';
import {
  renderCsvHeaderAndRow,
  renderMessageMarkdown,
  renderMessageText,
  summaryLine,
} from '../report/analyze-report.js';
import { terminalSafe } from '../report/safe-text.js';
import { addExtrasOptions, buildExtras, type ExtrasFlags } from './analysis-extras.js';
import { type CliIo, EXIT, Progress, UsageError, write } from './io.js';
import { parseFailOn, parseFormat, positiveInt, profileOption, reachesFailOn } from './options.js';

interface AnalyzeFlags extends ExtrasFlags {
  format: string;
  profile?: string;
  failOn?: string;
  explain?: boolean;
  headersOnly?: boolean;
  maxHeaderBytes?: number;
  maxMessageBytes?: number;
}

export function registerAnalyze(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('analyze')
    .description(
      'Explained Direct Send verdict for each message: .eml, .msg, mbox, pasted headers, folders, or - for stdin',
    )
    .argument('<paths...>', 'files, folders (recursive), mbox files, or - to read header text / a message from stdin')
    .option('-f, --format <format>', 'table | json | ndjson | csv | md', 'table')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml); without it the tenant is inferred from the message')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity fires (high|medium|low|info|none)')
    .option('--explain', 'add what each finding means and what to do')
    .option('--headers-only', 'read only the header block of each file (fast triage; attachment signals skipped)')
    .option('--max-header-bytes <n>', 'largest header block accepted', positiveInt('--max-header-bytes'))
    .option('--max-message-bytes <n>', 'largest message file read', positiveInt('--max-message-bytes'));
  addExtrasOptions(cmd, { content: true }).action(async (paths: string[], flags: AnalyzeFlags) => {
    setExit(await runAnalyze(paths, flags, io));
  });
}

export async function runAnalyze(paths: string[], flags: AnalyzeFlags, io: CliIo): Promise<number> {
  const format = parseFormat(flags.format, ['table', 'json', 'ndjson', 'csv', 'md']);
  const failOn = parseFailOn(flags.failOn);
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be named only once');
  const profile = await profileOption(flags.profile);
  const limits: Record<string, number> = {};
  if (flags.maxHeaderBytes !== undefined) limits.maxHeaderBytes = flags.maxHeaderBytes;
  if (flags.maxMessageBytes !== undefined) limits.maxMessageBytes = flags.maxMessageBytes;
  const extras = await buildExtras(flags, { content: true });

  const severities: Severity[] = [];
  const byChannel = new Map<string, number>();
  let messages = 0;
  let errors = 0;
  let first = true;
  const progress = new Progress(io, 'analyzing');
  const explain = flags.explain === true;
  if (format === 'json') await write(io.stdout, '[');
  for await (const r of analyzeInputs(paths, {
    profile,
    headersOnly: flags.headersOnly === true,
    limits,
    stdin: io.stdin,
    ...extras,
  })) {
    if (isAnalyzeError(r)) {
      errors++;
      io.stderr.write(`dsguard: ${terminalSafe(r.input)}: ${terminalSafe(r.error)}\n`);
    } else {
      messages++;
      byChannel.set(r.channel, (byChannel.get(r.channel) ?? 0) + 1);
      for (const f of r.findings) severities.push(f.severity);
    }
    await write(io.stdout, render(r, format, first, explain));
    first = false;
    progress.tick(messages + errors);
  }
  progress.done();
  if (format === 'json') await write(io.stdout, first ? ']\n' : '\n]\n');
  if (format === 'table') io.stderr.write(`${summaryLine({ messages, errors, byChannel })}\n`);
  if (messages + errors === 0) {
    io.stderr.write('dsguard: no messages found in the given paths\n');
    return EXIT.failure;
  }
  if (errors > 0) return EXIT.failure;
  return reachesFailOn(severities, failOn) ? EXIT.findings : EXIT.ok;
}

function render(r: AnalyzeResult, format: string, first: boolean, explain: boolean): string {
  switch (format) {
    case 'json':
      return `${first ? '\n' : ',\n'}${JSON.stringify(r, null, 2)}`;
    case 'ndjson':
      return `${JSON.stringify(r)}\n`;
    case 'csv':
      return renderCsvHeaderAndRow(r, first);
    case 'md':
      return (first ? '# dsguard analyze\n\n' : '') + renderMessageMarkdown(r, { explain });
    default:
      return renderMessageText(r, { explain });
  }
}
