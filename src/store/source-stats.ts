/**
 * Per-source aggregates for the report's inventory (connecting IP → days, classification, senders, recipients,
 * finding codes, samples), accumulated in memory for one batch and written with upserts. Re-assessment moves a
 * message between aggregates with a -1 / +1 pair, so the counts always equal what `message` holds.
 * @module
 */
import type { SqlDatabase, SqlStatement } from './db.js';
import type { MessageRow } from './dsguard-store.js';

export const SAMPLES_PER_SOURCE = 3;

interface Stat {
  ip: string;
  day: number;
  channel: string;
  verdict: string;
  candidate: number;
  messages: number;
  first: string;
  last: string;
  tlsYes: number;
  tlsNo: number;
  blocks: number;
  helo: string | null;
}

export class SourceStats {
  private stats = new Map<string, Stat>();
  private senders = new Map<string, number>();
  private recipients = new Map<string, number>();
  private codes = new Map<string, number>();
  private samples: { ip: string; m: MessageRow }[] = [];
  /** Samples known per ip (loaded on first touch). */
  private readonly sampleCount = new Map<string, number>();
  private readonly st: Record<string, SqlStatement>;

  constructor(db: SqlDatabase) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      stat: p(`INSERT INTO source_stat (ip, day, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes,
          tls_no, blocks, helo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET messages = messages + excluded.messages,
          first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
          tls_yes = tls_yes + excluded.tls_yes, tls_no = tls_no + excluded.tls_no, blocks = blocks + excluded.blocks,
          helo = coalesce(helo, excluded.helo)`),
      sender: p(
        'INSERT INTO source_sender (ip, sender, messages) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET messages = messages + excluded.messages',
      ),
      recipient: p(
        'INSERT INTO source_recipient (ip, recipient, messages) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET messages = messages + excluded.messages',
      ),
      code: p(
        'INSERT INTO source_code (ip, code, messages) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET messages = messages + excluded.messages',
      ),
      sampleCount: p('SELECT count(*) AS n FROM source_sample WHERE ip = ?'),
      sample: p(
        'INSERT OR IGNORE INTO source_sample (ip, subject, received_at, sender, recipient, file_id, row) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  /** Count a stored message (+1) or take it back (-1) before it is re-classified. */
  add(m: MessageRow, sign: 1 | -1): void {
    const ip = m.ip ?? '';
    const c = m.candidate ? 1 : 0;
    const k = `${ip}\u0000${m.day}\u0000${m.channel}\u0000${m.verdict}\u0000${c}`;
    let s = this.stats.get(k);
    if (!s) {
      s = {
        ip,
        day: m.day,
        channel: m.channel,
        verdict: m.verdict,
        candidate: c,
        messages: 0,
        first: m.receivedAt,
        last: m.receivedAt,
        tlsYes: 0,
        tlsNo: 0,
        blocks: 0,
        helo: m.helo,
      };
      this.stats.set(k, s);
    }
    s.messages += sign;
    if (m.receivedAt < s.first) s.first = m.receivedAt;
    if (m.receivedAt > s.last) s.last = m.receivedAt;
    if (m.tls === true) s.tlsYes += sign;
    if (m.tls === false) s.tlsNo += sign;
    if (m.rejectBlocks === true) s.blocks += sign;
    if (s.helo === null && m.helo !== null) s.helo = m.helo;
    const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + sign);
    bump(this.senders, `${ip}\u0000${m.sender ?? ''}`);
    if (m.recipient) bump(this.recipients, `${ip}\u0000${m.recipient}`);
    for (const code of m.codes.split(' ')) if (code) bump(this.codes, `${ip}\u0000${code}`);
    if (sign === 1 && m.subject !== null) this.samples.push({ ip, m });
  }

  flush(): void {
    for (const s of this.stats.values()) {
      if (s.messages === 0 && s.tlsYes === 0 && s.tlsNo === 0 && s.blocks === 0 && s.helo === null) continue;
      this.st.stat!.run(
        s.ip,
        s.day,
        s.channel,
        s.verdict,
        s.candidate,
        s.messages,
        s.first,
        s.last,
        s.tlsYes,
        s.tlsNo,
        s.blocks,
        s.helo,
      );
    }
    const pairs = (map: Map<string, number>, stmt: SqlStatement) => {
      for (const [k, n] of map) {
        if (n === 0) continue;
        const i = k.indexOf('\u0000');
        stmt.run(k.slice(0, i), k.slice(i + 1), n);
      }
    };
    pairs(this.senders, this.st.sender!);
    pairs(this.recipients, this.st.recipient!);
    pairs(this.codes, this.st.code!);
    for (const { ip, m } of this.samples) {
      let n = this.sampleCount.get(ip);
      if (n === undefined) n = (this.st.sampleCount!.get(ip) as { n: number }).n;
      if (n >= SAMPLES_PER_SOURCE) {
        this.sampleCount.set(ip, n);
        continue;
      }
      const r = this.st.sample!.run(ip, m.subject!, m.receivedAt, m.sender, m.recipient, m.fileId, m.row);
      this.sampleCount.set(ip, n + r.changes);
    }
    this.reset();
  }

  /** Drop what was accumulated (the batch's transaction rolled back). */
  reset(): void {
    this.stats = new Map();
    this.senders = new Map();
    this.recipients = new Map();
    this.codes = new Map();
    this.samples = [];
  }

  forgetSampleCounts(): void {
    this.sampleCount.clear();
  }
}
