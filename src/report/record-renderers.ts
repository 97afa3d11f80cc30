/**
 * What a record needs to be written in every streamed format (cli/record-stream.ts does the writing): text,
 * Markdown and CSV renderers; JSON and NDJSON need none. Each use case keeps its renderers beside its model.
 * @module
 */

export interface RecordRenderers<T> {
  /** The Markdown document title, written before the first record. */
  title: string;
  text(record: T): string;
  markdown(record: T): string;
  /** One CSV row; with `header` true, the header row before it. */
  csv(record: T, header: boolean): string;
}
