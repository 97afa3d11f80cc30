/**
 * How each file's numeric dates are read (`7/5/2026`: July 5 month-first, May 7 day-first): as a resumed file
 * was started, as `--date-order` says, as the file's own sampled dates tell, as the other CSV exports of the
 * same run agree, or assumed (with a warning). The run's agreement is sought only when a file needs it.
 * @module
 */
import type { FileRecord } from '../store/dsguard-store.js';
import type { DateOrder } from './exports/export-dates.js';
import { type ExportInfo, sniffCsvDateOrder } from './exports/read-export.js';

/**
 * How a file's numeric dates were read: `given` (the dateOrder option), `resumed` (the order the file was
 * started with), `found` (a sampled date that reads one way only, or the days the dates span), `assumed` (every
 * sampled date reads both ways: the usual order for the separator — a warning says so); `null` when the file
 * has no numeric dates (ISO, JSON) or was not read.
 */
export type FileDateOrder = { order: DateOrder; how: 'given' | 'resumed' | 'found' | 'assumed'; why: string } | null;

type RunOrder = { order: DateOrder; file: string; why: string };

/**
 * The numeric date order the run's CSV exports agree on: each decided by its own dates, all the same way (one
 * session exported them). `null` when none tells, or two disagree.
 */
export async function runDateOrder(paths: readonly string[]): Promise<RunOrder | null> {
  let found: RunOrder | null = null;
  for (const path of paths) {
    const guess = await sniffCsvDateOrder(path);
    if (!guess?.decided) continue;
    if (found && found.order !== guess.order) return null;
    found ??= { order: guess.order, file: path, why: guess.why };
  }
  return found;
}

/** Decides the date order of each file of one run (see the module documentation). */
export class DateOrderResolver {
  /** The run's agreed order: `undefined` until a file needs it, then found once over `runPaths`. */
  private runOrder: RunOrder | null | undefined = undefined;

  constructor(
    /** Every file of the run, in order. */
    private readonly runPaths: readonly string[],
    /** `--date-order`, for new CSV files. */
    private readonly given: DateOrder | undefined,
    /** Warnings for the run's summary. */
    private readonly warnings: string[],
  ) {}

  /**
   * The order `path` is read in; `info.dateOrder` is set to it (decided unless assumed), and a warning is noted
   * when it is assumed or contradicts how a resumed file was started.
   */
  async resolve(path: string, info: ExportInfo, existing: FileRecord | null): Promise<FileDateOrder> {
    const guess = info.dateOrder;
    if (this.runOrder === undefined && !existing && !this.given && guess && !guess.decided) {
      this.runOrder = guess.conflict ? undefined : await runDateOrder(this.runPaths);
    }
    const found = this.decide(path, info, existing);
    if (found) info.dateOrder = { order: found.order, decided: found.how !== 'assumed', why: found.why };
    if (found?.how === 'assumed') {
      this.warnings.push(
        `${path}: ${found.why} (if the export was written day-first, ingest it into a new store with --date-order dmy)`,
      );
    }
    return found;
  }

  private decide(path: string, info: ExportInfo, existing: FileRecord | null): FileDateOrder {
    const guess = info.dateOrder;
    if (existing) {
      // A resumed file goes on as it started (files recorded before schema 5 were read month-first).
      const order = existing.dateOrder ?? 'mdy';
      if (guess?.decided && guess.order !== order) {
        this.warnings.push(
          `${path}: resumed reading dates ${order === 'mdy' ? 'month' : 'day'}-first as it was started, but they look the other way (${guess.why}): ingest it into a new store`,
        );
      }
      return guess || existing.dateOrder ? { order, how: 'resumed', why: 'as the file was started' } : null;
    }
    // JSON exports write ISO dates (JsonRow reads a numeric one month-first): the option is for CSV.
    if (this.given && info.container === 'csv') return { order: this.given, how: 'given', why: '--date-order' };
    if (!guess) return null;
    if (guess.decided) return { order: guess.order, how: 'found', why: guess.why };
    // Nothing in this file tells (a one-day detail export, say): the other exports of the run do. Not when its
    // own dates contradict each other: that is for the user to sort out (the warning says so).
    if (this.runOrder && !guess.conflict) {
      const { order, file, why } = this.runOrder;
      return { order, how: 'found', why: `as ${file} of the same run (${why})` };
    }
    return { order: guess.order, how: 'assumed', why: guess.why };
  }
}
