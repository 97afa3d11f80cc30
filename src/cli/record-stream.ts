/**
 * Streamed output of one record at a time in every format: a JSON array opened before the first record and
 * closed after the last, NDJSON lines, CSV with one header row, Markdown under one title, or text blocks.
 * Commands that stream results (analyze, exposure) share it so the formats behave the same everywhere.
 * @module
 */

import { versioned } from '../core/json-record.js';
import type { RecordRenderers } from '../report/record-renderers.js';
import { type CliIo, write } from './io.js';
import { styleSeverities } from './style.js';

export type { RecordRenderers } from '../report/record-renderers.js';

export class RecordStream<T> {
  private first = true;

  constructor(
    private readonly io: CliIo,
    private readonly format: string,
    private readonly renderers: RecordRenderers<T>,
  ) {}

  async open(): Promise<void> {
    if (this.format === 'json') await write(this.io.stdout, '[');
  }

  async push(record: T): Promise<void> {
    const first = this.first;
    this.first = false;
    await write(this.io.stdout, this.render(record, first));
  }

  async close(): Promise<void> {
    if (this.format === 'json') await write(this.io.stdout, this.first ? ']\n' : '\n]\n');
  }

  private render(record: T, first: boolean): string {
    switch (this.format) {
      case 'json':
        return `${first ? '\n' : ',\n'}${JSON.stringify(versioned(record as object), null, 2)}`;
      case 'ndjson':
        return `${JSON.stringify(versioned(record as object))}\n`;
      case 'csv':
        return this.renderers.csv(record, first);
      case 'md':
        return (first ? `# ${this.renderers.title}\n\n` : '') + this.renderers.markdown(record);
      default:
        return this.io.colour ? styleSeverities(this.renderers.text(record)) : this.renderers.text(record);
    }
  }
}
