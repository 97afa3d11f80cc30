/**
 * Joins: a stored delivery whose facts changed (a URL, attachment or detail row came, from this file or
 * another) is re-assessed over its own row merged with every fact, and its message row and bucket follow.
 * @module
 */
import { type AssessOptions, assess } from '../core/assess.js';
import type { MessageEvidence } from '../core/evidence.js';
import type { DsguardStore, FactRow } from '../store/dsguard-store.js';
import { markSourceStatsStale } from '../store/source-stats.js';
import { isCandidate } from './classify.js';
import { CsvRow, type ExportRow, JsonRow } from './exports/export-row.js';
import { mergeEvidence } from './exports/merge-evidence.js';
import { ADAPTERS } from './exports/sniff-export.js';
import { candidacyOf, type IngestedFiles, type MessageWrites, messageRow } from './stored-messages.js';

/** Keys re-assessed per transaction. */
const PENDING_BATCH = 2000;

/** A stored fact row read again through its export's adapter (null when its format or data no longer reads). */
export function evidenceOfFact(files: IngestedFiles, f: FactRow): MessageEvidence | null {
  const adapter = ADAPTERS[f.format as keyof typeof ADAPTERS];
  if (!adapter) return null;
  const { record, index } = files.get(f.fileId);
  let row: ExportRow;
  try {
    const parsed: unknown = JSON.parse(f.data);
    row =
      index && Array.isArray(parsed)
        ? new CsvRow(index, record.columns ?? [], parsed as string[])
        : new JsonRow(parsed as Record<string, unknown>);
  } catch {
    return null;
  }
  const res = adapter.adapt(row, { file: record.path, row: f.row });
  return res.status === 'ok' ? res.row.evidence() : null;
}

export class Reassessor {
  /** Stored deliveries re-assessed in this run. */
  reassessed = 0;
  /**
   * The facts about whole messages (URL and attachment rows, h = 0) with their evidence, for the batch of
   * deliveries being re-assessed: a message to thousands of recipients reads and adapts them once, not once each.
   */
  private readonly messageFacts = new Map<string, { fact: FactRow; evidence: MessageEvidence | null }[]>();

  constructor(
    private readonly store: DsguardStore,
    private readonly assessOptions: AssessOptions,
    private readonly messages: MessageWrites,
    private readonly files: IngestedFiles,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Re-assess stored deliveries whose facts changed (joins across rows and files). */
  reassessPending(): number {
    let total = 0;
    for (;;) {
      const keys = this.store.takePending(PENDING_BATCH);
      if (keys.length === 0) break;
      this.store.transaction(() => {
        const deltas = new Map<number, number>();
        this.messageFacts.clear();
        for (const k of keys) {
          this.reassessOne(k.day, k.h, deltas);
          this.store.donePending(k.day, k.h);
        }
        this.store.addToBuckets(deltas);
        markSourceStatsStale(this.store.db);
      });
      total += keys.length;
      if (this.signal?.aborted) break;
    }
    this.reassessed += total;
    return total;
  }

  /** Evidence of a stored fact, rebuilt by its adapter from the raw row (provenance: file, column, row). */
  evidenceOfFact(f: FactRow): MessageEvidence | null {
    return evidenceOfFact(this.files, f);
  }

  private factsOfMessage(day: number, msgH: number) {
    const key = `${day}|${msgH}`;
    let list = this.messageFacts.get(key);
    if (list === undefined) {
      list = this.store.factsOfMessage(day, msgH).map((fact) => ({ fact, evidence: this.evidenceOfFact(fact) }));
      this.messageFacts.set(key, list);
    }
    return list;
  }

  private reassessOne(day: number, h: number, deltas: Map<number, number>): void {
    const m = this.store.message(day, h);
    if (!m) return;
    const own: FactRow = { id: 0, day, h, msgH: m.msgH, fileId: m.fileId, row: m.row, format: m.format, data: m.data };
    const facts = [
      ...this.factsOfMessage(day, m.msgH),
      ...this.store.factsOfDelivery(day, m.msgH, h).map((fact) => ({ fact, evidence: this.evidenceOfFact(fact) })),
    ]
      .filter(({ fact: f }) => !(f.fileId === m.fileId && f.row === m.row))
      .sort((a, b) => a.fact.id - b.fact.id);
    const evidences = [this.evidenceOfFact(own), ...facts.map((f) => f.evidence)].filter(
      (e): e is MessageEvidence => e !== null,
    );
    if (evidences.length === 0) return;
    const merged = mergeEvidence(evidences);
    const a = assess(merged, this.assessOptions);
    const candidate = isCandidate(merged, candidacyOf(a));
    const bucket = this.store.bucketId({ day, channel: a.channel, verdict: a.verdict, candidate });
    if (bucket !== m.bucket) {
      deltas.set(m.bucket, (deltas.get(m.bucket) ?? 0) - 1);
      deltas.set(bucket, (deltas.get(bucket) ?? 0) + 1);
      this.store.setDelivery(day, h, bucket, true);
    }
    const source = { file: this.files.get(m.fileId).record, row: m.row, format: m.format, data: m.data };
    this.messages.write(messageRow(day, h, m.msgH, m.recipient ?? '', merged, a, candidate, bucket, source), true);
  }
}
