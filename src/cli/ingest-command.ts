/**
 * `dsguard ingest <files…>`: stream exports into the store. Summary on stdout, bad rows and progress on stderr.
 * Exit 0 when every file was read (rows that could not be are reported, counted and skipped: not a failure),
 * 3 when a file failed, or on Ctrl-C (the store is consistent; the same command resumes).
 * @module
 */
import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { versioned } from '../core/json-record.js';
import { type IngestOptions, type IngestSummary, ingest } from '../ingest/ingest.js';
import { renderIngestSummary } from '../ingest/ingest-render.js';
import { terminalSafe } from '../report/safe-text.js';
import { addExtrasOptions, buildExtras, type ExtrasFlags } from './analysis-extras.js';
import { type CliIo, EXIT, UsageError, write } from './io.js';
import { parseFormat, profileOption } from './options.js';

interface IngestFlags extends ExtrasFlags {
  db: string;
  profile?: string;
  format: string;
  dateOrder: string;
}

const MAX_ROW_ERRORS_SHOWN = 20;

export function registerIngest(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('ingest')
    .description(
      'Read message trace (V1/V2), trace detail, historical search, Defender EmailEvents/attachment/URL and Graph trace exports into the store; the format is detected from the content',
    )
    .argument('<files...>', 'export files (CSV UTF-8/UTF-16, JSON, NDJSON) or folders of them (recursive)')
    .option('--db <path>', 'the store (SQLite, created when missing)', 'dsguard.db')
    .option('-p, --profile <file>', 'tenant profile (dsguard.yml): accepted domains, connectors, known sources')
    .option('-f, --format <format>', 'table | json', 'table')
    .option(
      '--date-order <order>',
      'numeric dates (7/5/2026) in new CSV files: auto (found per file from its dates), mdy (month first, en-US) or dmy (day first)',
      'auto',
    );
  // Rows have a connecting IP but no content: the IP-origin rules (DS5xx) apply, content analysis does not.
  addExtrasOptions(cmd, { content: false }).action(async (files: string[], flags: IngestFlags) => {
    setExit(await runIngest(files, flags, io));
  });
}

function parseDateOrder(value: string): IngestOptions['dateOrder'] | null {
  if (value === 'auto') return null;
  if (value === 'mdy' || value === 'dmy') return value;
  throw new UsageError(`--date-order must be one of auto, mdy, dmy (got "${value}")`);
}

class ProgressBar {
  private last = 0;
  private shown = false;
  private readonly started = Date.now();
  constructor(private readonly io: CliIo) {}

  update(file: string, bytes: number, total: number, rows: number): void {
    if (!this.io.progress) return;
    const now = Date.now();
    if (now - this.last < 150) return;
    this.last = now;
    this.shown = true;
    const frac = total > 0 ? Math.min(1, bytes / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const name = terminalSafe(file.split(/[\\/]/).pop() ?? file, 40);
    this.io.stderr.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}% ${name} ${rows.toLocaleString('en-US')} rows ${Math.round(rows / secs).toLocaleString('en-US')}/s\u001b[K`,
    );
  }

  done(): void {
    if (this.shown) this.io.stderr.write('\r\u001b[K');
    this.shown = false;
  }
}

export async function runIngest(files: string[], flags: IngestFlags, io: CliIo): Promise<number> {
  const format = parseFormat(flags.format, ['table', 'json']);
  const dateOrder = parseDateOrder(flags.dateOrder);
  const profile = await profileOption(flags.profile);
  const { extraRules } = await buildExtras(flags, { content: false });
  const bar = new ProgressBar(io);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.failure);
    controller.abort();
    io.stderr.write('\ndsguard: stopping after the current batch (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  let rowErrors = 0;
  const storeExisted = existsSync(flags.db);
  let summary: IngestSummary;
  try {
    summary = await ingest(files, {
      db: flags.db,
      profile,
      extraRules,
      signal: controller.signal,
      ...(dateOrder ? { dateOrder } : {}),
      onProgress: (p) => bar.update(p.file, p.bytes, p.totalBytes, p.rows),
      onRowError: (e) => {
        rowErrors++;
        if (rowErrors <= MAX_ROW_ERRORS_SHOWN) {
          bar.done();
          io.stderr.write(`dsguard: ${terminalSafe(e.file)}: row ${e.row}: ${terminalSafe(e.error, 300)}\n`);
        }
      },
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar.done();
  }
  if (rowErrors > MAX_ROW_ERRORS_SHOWN) {
    io.stderr.write(`dsguard: … ${rowErrors - MAX_ROW_ERRORS_SHOWN} more bad row(s) not shown\n`);
  }
  for (const f of summary.files) {
    if (f.status === 'error') {
      io.stderr.write(`dsguard: ${terminalSafe(f.file)}: ${terminalSafe(f.error ?? 'error')}\n`);
    } else if (f.status === 'not-an-export') {
      io.stderr.write(`dsguard: skipped ${terminalSafe(f.file)}: ${terminalSafe(f.error ?? 'not an export')}\n`);
    }
  }
  for (const w of summary.warnings) io.stderr.write(`dsguard: warning: ${terminalSafe(w)}\n`);
  if (!storeExisted && summary.read === 0 && !summary.interrupted) {
    // Nothing was read: leave no empty store behind (a later report would take it for an ingested one).
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${flags.db}${suffix}`, { force: true });
    io.stderr.write(`dsguard: nothing to ingest: ${terminalSafe(flags.db)} was not created\n`);
  }
  if (format === 'json') await write(io.stdout, `${JSON.stringify(versioned(summary), null, 2)}\n`);
  else await write(io.stdout, renderIngestSummary(summary, io.columns));
  if (summary.interrupted) {
    io.stderr.write('dsguard: interrupted; the store is consistent: run the same command again to resume\n');
    return EXIT.failure;
  }
  const failed = summary.files.some((f) => f.status === 'error');
  if (summary.rejected > 0) {
    // Rejected rows are the export's fault, reported above and kept in the file ledger: not a runtime failure.
    const files = summary.files.filter((f) => f.rejected > 0).length;
    io.stderr.write(
      `dsguard: ${summary.rejected} row(s) rejected in ${files} file(s) (listed above); the other rows were ingested${failed ? '' : ' (exit 0: rejected rows are not a failure)'}\n`,
    );
  }
  return failed ? EXIT.failure : EXIT.ok;
}
