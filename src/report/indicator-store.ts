import { ok, type Result } from '../core/result.js';
import { evidenceOfFact } from '../ingest/reassess.js';
import { IngestedFiles } from '../ingest/stored-messages.js';
import { DsguardStore } from '../store/dsguard-store.js';
import { storedCodes } from '../store/message-codes.js';
import type { IndicatorMessage } from './indicators.js';

export function storedIndicatorMessages(store: DsguardStore): IndicatorMessage[] {
  const rows = store.db
    .prepare(
      `SELECT day, msg_h AS msgH, message_id AS messageId, received_at AS receivedAt, ip, sender,
         header_from AS headerFrom, codes FROM message
       WHERE verdict = 'malicious' AND channel IN ('direct-send', 'internal-spoof')
       ORDER BY received_at, day, h`,
    )
    .all() as {
    day: number;
    msgH: number;
    messageId: string | null;
    receivedAt: string;
    ip: string | null;
    sender: string | null;
    headerFrom: string | null;
    codes: string;
  }[];
  const files = new IngestedFiles(store);
  const seen = new Map<string, IndicatorMessage>();
  for (const r of rows) {
    const key = r.messageId ?? `${r.day}:${r.msgH}`;
    const codes = storedCodes(r.codes);
    const known = seen.get(key);
    if (known) {
      // Another recipient of the same message: its sender and IP may differ only in a hostile export.
      seen.set(key, { ...known, codes: [...new Set([...known.codes, ...codes])].sort() });
      continue;
    }
    const urls: { url: string; qr: boolean }[] = [];
    for (const f of store.factsOfMessage(r.day, r.msgH)) {
      const ev = evidenceOfFact(files, f);
      for (const u of ev?.urls ?? []) urls.push({ url: u.url, qr: u.location === 'qr-code' });
    }
    seen.set(key, {
      messageId: key,
      receivedAt: r.receivedAt,
      ip: r.ip,
      sender: r.sender,
      headerFrom: r.headerFrom,
      urls,
      codes: [...codes].sort(),
    });
  }
  return [...seen.values()];
}

/** Open the store read-only and read its malicious messages. */
export function indicatorMessagesFromFile(path: string): Result<{ messages: IndicatorMessage[] }> {
  const r = DsguardStore.open(path, { readonly: true });
  if (r.status === 'error') return r;
  try {
    return ok({ messages: storedIndicatorMessages(r.store) });
  } finally {
    r.store.close();
  }
}
