/**
 * Merge the evidence of several rows about one delivery (a message trace row, its detail events, the
 * historical-search row, the EmailEvents row, attachment and URL rows) into one record. The most informative
 * source leads (EmailEvents, then historical search, detail, summary); each missing fact is filled from the
 * others, so every fact keeps the EvidenceRef of the row it came from.
 * @module
 */
import type { MessageEvidence, SourceKind } from '../../core/evidence.js';

const RANK: Record<SourceKind, number> = {
  'email-events': 0,
  'historical-search': 1,
  'message-trace-detail': 2,
  'message-trace': 3,
  'graph-message-trace': 3,
  eml: 4,
  msg: 4,
  mbox: 4,
  headers: 4,
};

function fill<T extends object>(target: T, source: T): void {
  for (const k of Object.keys(source) as (keyof T)[]) {
    if (target[k] === null && source[k] !== null) target[k] = source[k];
  }
}

/** The entries of a list, keyed, kept as one set while records are merged into it (not rebuilt per record). */
class Union<T> {
  private readonly seen: Set<string>;

  constructor(
    private readonly list: T[],
    private readonly key: (v: T) => string,
  ) {
    this.seen = new Set(list.map(key));
  }

  add(items: readonly T[]): void {
    for (const x of items) {
      const k = this.key(x);
      if (!this.seen.has(k)) {
        this.seen.add(k);
        this.list.push(x);
      }
    }
  }
}

const SCALARS = [
  'messageId',
  'networkMessageId',
  'receivedAt',
  'subject',
  'headerFrom',
  'envelopeFrom',
  'connectingIp',
  'helo',
  'tls',
  'connector',
  'receivingTenantId',
  'mailingList',
  'arc',
  'delivery',
] as const;

export function mergeEvidence(list: readonly MessageEvidence[]): MessageEvidence {
  if (list.length === 0) throw new Error('mergeEvidence needs at least one record');
  const ordered = [...list].sort((a, b) => RANK[a.sourceKind] - RANK[b.sourceKind]);
  const base = structuredClone(ordered[0]!);
  // One set per list for the whole merge: a message's URL rows can number hundreds.
  const recipients = new Union(base.recipients, (a) => a.value.address);
  const envelopeRecipients = new Union(base.envelopeRecipients, (a) => a.value.address);
  const attachments = new Union(base.attachments, (a) => `${a.name}|${a.sha256}`);
  const urls = new Union(base.urls, (u) => `${u.location}|${u.url}`);
  // Attachment / URL rows carry no receive time: let a delivery row lead.
  for (const ev of ordered.slice(1)) {
    for (const k of SCALARS) {
      if (base[k] === null && ev[k] !== null) (base as unknown as Record<string, unknown>)[k] = ev[k];
    }
    fill(base.exchange, ev.exchange);
    fill(base.authentication, ev.authentication);
    fill(base.antispam, ev.antispam);
    recipients.add(ev.recipients);
    envelopeRecipients.add(ev.envelopeRecipients);
    attachments.add(ev.attachments);
    urls.add(ev.urls);
    base.hops.push(...ev.hops);
    for (const [k, v] of Object.entries(ev.extra)) if (!(k in base.extra)) base.extra[k] = v;
    base.notes.push(...ev.notes);
  }
  if (base.receivedAt === null) {
    const withTime = list.find((e) => e.receivedAt !== null);
    if (withTime) base.receivedAt = withTime.receivedAt;
  }
  return base;
}
