/**
 * The transactions one file is written in: begun lazily with the batch that needs one, committed every
 * `commitRows` rows (and at the end) with the counts of the rows it holds, rolled back as a whole when the
 * file cannot go on as it was being read. The counts reach the file's summary only when their rows commit.
 * @module
 */
import type { DsguardStore } from '../store/dsguard-store.js';

/** Row counts of a batch, a transaction or a file. */
export interface RowCounts {
  stored: number;
  aggregated: number;
  rejected: number;
  duplicate: number;
}

/** The counts a file's summary adds up (committed rows only). */
export interface FileCounts {
  read: number;
  stored: number;
  aggregated: number;
  rejected: number;
  duplicates: number;
}

export interface TransactionHooks {
  /** Just before each commit (a long run writes its source counts out with the batch). */
  beforeCommit(): void;
  /** After a take-back (`rolledBack`: a transaction was open): what the run remembered of its rows is forgotten. */
  afterTakeBack(rolledBack: boolean): void;
}

export class FileTransaction {
  private open = false;
  /** Rows in the open transaction, and their counts. */
  private rows = 0;
  private readonly held = { read: 0, stored: 0, aggregated: 0, rejected: 0, duplicate: 0 };

  constructor(
    private readonly store: DsguardStore,
    /** Where committed counts go. */
    private readonly summary: FileCounts,
    private readonly hooks: TransactionHooks,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  begin(): void {
    this.store.begin();
    this.open = true;
  }

  /** Begin unless a transaction is open. */
  ensureOpen(): void {
    if (!this.open) this.begin();
  }

  /** A batch of `rows` rows was written in the open transaction with these counts. */
  add(rows: number, counts: RowCounts): void {
    this.held.read += rows;
    this.held.stored += counts.stored;
    this.held.aggregated += counts.aggregated;
    this.held.rejected += counts.rejected;
    this.held.duplicate += counts.duplicate;
    this.rows += rows;
  }

  /** Whether the open transaction holds `commitRows` rows or more. */
  full(commitRows: number): boolean {
    return this.rows >= commitRows;
  }

  commit(): void {
    this.hooks.beforeCommit();
    this.store.commit();
    this.open = false;
    this.summary.read += this.held.read;
    this.summary.stored += this.held.stored;
    this.summary.aggregated += this.held.aggregated;
    this.summary.rejected += this.held.rejected;
    this.summary.duplicates += this.held.duplicate;
    this.clear();
  }

  /** Take back what the open transaction holds (if one is open). */
  takeBack(): void {
    const rolledBack = this.open;
    if (rolledBack) this.store.rollback();
    this.open = false;
    this.clear();
    this.hooks.afterTakeBack(rolledBack);
  }

  /** Roll back at once: the open transaction failed before it wrote a row. */
  abandon(): void {
    this.store.rollback();
    this.open = false;
  }

  private clear(): void {
    this.rows = 0;
    this.held.read = this.held.stored = this.held.aggregated = this.held.rejected = this.held.duplicate = 0;
  }
}
