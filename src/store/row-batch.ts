/**
 * Rows written to SQLite 64 to a statement, for the store's bulk writes (the source tables and their grouping).
 * @module
 */
import type { SqlDatabase, SqlStatement, SqlValue } from './db.js';

/**
 * Rows written 64 to a statement (`INSERT … VALUES (…), (…) … ON CONFLICT …`): one call into SQLite per 64 rows
 * instead of one per row, which is most of the cost of writing many small rows from JavaScript.
 */
export class MultiRowInsert {
  private static readonly ROWS = 64;
  private readonly params: SqlValue[] = [];
  private readonly full: SqlStatement;

  constructor(
    private readonly db: SqlDatabase,
    private readonly head: string,
    private readonly width: number,
    private readonly tail: string,
  ) {
    this.full = db.prepare(this.sql(MultiRowInsert.ROWS));
  }

  private sql(rows: number): string {
    const tuple = `(${new Array<string>(this.width).fill('?').join(', ')})`;
    return `${this.head} VALUES ${new Array<string>(rows).fill(tuple).join(', ')} ${this.tail}`;
  }

  add(...values: SqlValue[]): void {
    this.params.push(...values);
    if (this.params.length === this.width * MultiRowInsert.ROWS) {
      this.full.run(...this.params);
      this.params.length = 0;
    }
  }

  finish(): void {
    if (this.params.length > 0) this.db.prepare(this.sql(this.params.length / this.width)).run(...this.params);
    this.params.length = 0;
  }
}
