/**
 * The report's source inventory, derived from the stored messages with set-based SQL: per connecting IP
 * (days and classification, senders, recipients, finding codes, samples with provenance), then sources — IPs
 * grouped so that one printer or app is one source — and the per-source tables the report reads.
 *
 * Every ingest batch marks them stale inside its own transaction; the end of an ingest run (or the first report
 * after an interrupted one) rebuilds them in one transaction. A few GROUP BYs over the stored messages cost far
 * less than keeping these tables current row by row, and the report then reads only small tables.
 * @module
 */
import { ownString } from '../core/own-string.js';
import type { SqlDatabase } from './db.js';
import type { MessageRow } from './dsguard-store.js';
import { MultiRowInsert } from './row-batch.js';
import { writeSourceGroups } from './source-groups.js';

export const SAMPLES_PER_SOURCE = 3;
/** Senders listed per source (group_sender holds the most frequent ones; see ReportQueries.groupAllSenders). */
export const LISTED_SENDERS = 20;

const STALE_KEY = 'sources';

/**
 * Messages that belong in the inventory: Direct Send, internal spoof, and undetermined internal candidates —
 * in SQL for the rebuild, and as a predicate for the merged deltas (keep the two alike).
 */
export const SOURCE_MESSAGE =
  "(channel IN ('direct-send', 'internal-spoof') OR (channel = 'unknown' AND candidate = 1))";

function isSourceMessage(m: { channel: string; candidate: boolean }): boolean {
  return m.channel === 'direct-send' || m.channel === 'internal-spoof' || (m.channel === 'unknown' && m.candidate);
}

/**
 * A message's place in the sample order (received_at, file_id, row, recipient; NULL recipient first) as one
 * text: the earliest row of each subject is then min() of it, and SQLite takes the bare columns of a min()
 * aggregate from that row — one GROUP BY instead of a window over every message. U+0001 separates the parts
 * (below any character of a time), the numbers are zero-padded.
 */
const SAMPLE_ORDER =
  "printf('%s' || char(1) || '%012d' || char(1) || '%015d' || char(1) || '%d%s', received_at, file_id, row, recipient IS NOT NULL, coalesce(recipient, ''))";

export function markSourceStatsStale(db: SqlDatabase): void {
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, 'stale') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(STALE_KEY);
}

export function sourceStatsStale(db: SqlDatabase): boolean {
  const r = db.prepare('SELECT value FROM meta WHERE key = ?').get(STALE_KEY) as { value: string } | undefined;
  return r?.value === 'stale';
}

export type SourceVerdict = 'malicious' | 'suspicious' | 'legitimate' | 'unknown';

/** The verdict of a set of classified messages: the worst determined one, `unknown` when none is determined. */
export function worstVerdict(
  classes: readonly { channel: string; verdict: string; messages: number }[],
): SourceVerdict {
  const has = (v: string) => classes.some((c) => c.verdict === v && c.channel !== 'unknown' && c.messages > 0);
  if (has('malicious')) return 'malicious';
  if (has('suspicious')) return 'suspicious';
  if (has('legitimate')) return 'legitimate';
  return 'unknown';
}

/**
 * Page cache while the source tables are rebuilt, in KiB. The rebuild's GROUP BYs sort the stored messages, and
 * SQLite's sorter holds as much in memory as the page cache allows before it writes sorted runs to temporary files
 * (merged by the sorter's helper thread). With the store's 16 MiB cache a run that stored 270,000 messages over
 * 109,000 connecting IPs peaked at 214 MB in the rebuild; with 4 MiB, 165 MB, and no slower (3.7 → 3.4 s): the
 * sorted runs are built on the second core.
 */
const REBUILD_CACHE_KIB = 4096;

/** Run `fn` with the page cache at {@link REBUILD_CACHE_KIB} (never larger than it was), then restore it. */
function withRebuildCache(db: SqlDatabase, fn: () => void): void {
  const row = db.prepare('PRAGMA cache_size').get() as { cache_size: number } | undefined;
  const before = row?.cache_size;
  // A negative cache_size is KiB, a positive one pages: only shrink a cache known to be larger.
  const shrink = before !== undefined && (before < 0 ? -before > REBUILD_CACHE_KIB : true);
  if (shrink) db.exec(`PRAGMA cache_size = -${REBUILD_CACHE_KIB}`);
  try {
    fn();
  } finally {
    if (shrink) db.exec(`PRAGMA cache_size = ${before}`);
  }
}

/** Recompute every source table from `message`; runs in the caller's transaction. */
export function rebuildSourceStats(db: SqlDatabase): void {
  withRebuildCache(db, () => rebuildPerIp(db));
}

function rebuildPerIp(db: SqlDatabase): void {
  db.exec(`
    DELETE FROM source_stat;
    DELETE FROM source_sender;
    DELETE FROM source_recipient;
    DELETE FROM source_code;
    DELETE FROM source_sample;
    DELETE FROM source_candidate;
    INSERT INTO source_candidate (ip, sender, day, messages)
      SELECT coalesce(ip, ''), coalesce(sender, ''), day, count(*) FROM message
      WHERE channel = 'unknown' AND candidate = 1 GROUP BY 1, 2, 3;
    INSERT INTO source_stat (ip, day, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes, tls_no,
        helo)
      SELECT coalesce(ip, ''), day, channel, verdict, candidate, count(*), min(received_at), max(received_at),
        count(CASE WHEN tls = 1 THEN 1 END), count(CASE WHEN tls = 0 THEN 1 END), max(helo)
      FROM message WHERE ${SOURCE_MESSAGE} GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO source_sender (ip, sender, messages)
      SELECT coalesce(ip, ''), coalesce(sender, ''), count(*) FROM message WHERE ${SOURCE_MESSAGE} GROUP BY 1, 2;
    INSERT INTO source_recipient (ip, recipient, messages)
      SELECT coalesce(ip, ''), recipient, count(*) FROM message
      WHERE ${SOURCE_MESSAGE} AND recipient IS NOT NULL AND recipient <> '' GROUP BY 1, 2;
    INSERT INTO source_code (ip, code, messages)
      SELECT ip, j.value, sum(n) FROM (SELECT coalesce(ip, '') AS ip, codes, count(*) AS n FROM message
        WHERE ${SOURCE_MESSAGE} GROUP BY 1, 2) AS g, json_each(g.codes) AS j GROUP BY 1, 2;
    INSERT INTO source_sample (ip, subject, received_at, sender, recipient, file_id, row)
      SELECT ip, subject, received_at, sender, recipient, file_id, row FROM (
        SELECT ip, subject, received_at, sender, recipient, file_id, row,
          row_number() OVER (PARTITION BY ip ORDER BY first) AS n
        FROM (SELECT coalesce(ip, '') AS ip, subject, received_at, sender, recipient, file_id, row,
                min(${SAMPLE_ORDER}) AS first
              FROM message WHERE ${SOURCE_MESSAGE} AND subject IS NOT NULL GROUP BY 1, 2))
      WHERE n <= ${SAMPLES_PER_SOURCE};
  `);
  rebuildGroups(db);
}

/**
 * Group the per-IP tables into sources and recompute the group tables (small: they read the per-IP tables,
 * never `message`); marks the source tables fresh. Runs in the caller's transaction.
 */
function rebuildGroups(db: SqlDatabase): void {
  db.exec(`
    DELETE FROM source_group;
    DELETE FROM group_stat;
    DELETE FROM group_total;
    DELETE FROM group_info;
    DELETE FROM group_helo;
    DELETE FROM group_sender;
    DELETE FROM group_code;
    DELETE FROM group_sample;
  `);
  // 64 rows a statement: a campaign over 100,000 addresses is 100,000 groups.
  const insertGroup = new MultiRowInsert(db, 'INSERT INTO source_group (ip, grp)', 2, '');
  writeSourceGroups(db, (ip, grp) => insertGroup.add(ip, grp));
  insertGroup.finish();

  db.exec(`
    INSERT INTO group_stat (grp, day, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes, tls_no)
      SELECT g.grp, s.day, s.channel, s.verdict, s.candidate, sum(s.messages), min(s.first_seen), max(s.last_seen),
        sum(s.tls_yes), sum(s.tls_no)
      FROM source_stat s JOIN source_group g ON g.ip = s.ip GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO group_total (grp, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes, tls_no)
      SELECT grp, channel, verdict, candidate, sum(messages), min(first_seen), max(last_seen), sum(tls_yes), sum(tls_no)
      FROM group_stat GROUP BY 1, 2, 3, 4;
    INSERT INTO group_helo (grp, helo)
      SELECT DISTINCT g.grp, s.helo FROM source_stat s JOIN source_group g ON g.ip = s.ip WHERE s.helo IS NOT NULL;
    INSERT INTO group_sender (grp, sender, messages)
      SELECT grp, sender, n FROM (
        SELECT grp, sender, n, row_number() OVER (PARTITION BY grp ORDER BY n DESC, sender) AS k FROM (
          SELECT g.grp, s.sender, sum(s.messages) AS n FROM source_sender s JOIN source_group g ON g.ip = s.ip
          WHERE s.sender <> '' GROUP BY 1, 2))
      WHERE k <= ${LISTED_SENDERS};
    INSERT INTO group_info (grp, recipients)
      SELECT g.grp,
        (SELECT count(DISTINCT r.recipient) FROM source_recipient r JOIN source_group g2 ON g2.ip = r.ip
         WHERE g2.grp = g.grp)
      FROM source_group g GROUP BY g.grp;
    INSERT INTO group_code (grp, code, messages)
      SELECT g.grp, c.code, sum(c.messages) FROM source_code c JOIN source_group g ON g.ip = c.ip GROUP BY 1, 2;
    INSERT INTO group_sample (grp, subject, received_at, sender, recipient, file_id, row)
      SELECT grp, subject, received_at, sender, recipient, file_id, row FROM (
        SELECT *, row_number() OVER (PARTITION BY grp ORDER BY received_at, file_id, row, recipient) AS n FROM (
          SELECT g.grp, s.subject, s.received_at, s.sender, s.recipient, s.file_id, s.row,
            row_number() OVER (PARTITION BY g.grp, s.subject ORDER BY s.received_at, s.file_id, s.row, s.recipient) AS k
          FROM source_sample s JOIN source_group g ON g.ip = s.ip)
        WHERE k = 1)
      WHERE n <= ${SAMPLES_PER_SOURCE};
  `);
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, 'fresh') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(STALE_KEY);
}

/** The columns of a stored message the per-IP source tables count. */
export type SourceMessage = Pick<
  MessageRow,
  | 'ip'
  | 'day'
  | 'channel'
  | 'verdict'
  | 'candidate'
  | 'receivedAt'
  | 'tls'
  | 'helo'
  | 'sender'
  | 'recipient'
  | 'subject'
  | 'fileId'
  | 'row'
>;

interface StatCell {
  day: number;
  channel: string;
  verdict: string;
  candidate: number;
  messages: number;
  first: string;
  last: string;
  tlsYes: number;
  tlsNo: number;
  helo: string | null;
}

interface Sample {
  subject: string;
  receivedAt: string;
  sender: string | null;
  recipient: string | null;
  fileId: number;
  row: number;
}

/** What one connecting IP gathered in this run. */
interface IpDelta {
  /** day × class number → cell. */
  stats: Map<number, StatCell>;
  senders: Map<string, number>;
  recipients: Map<string, number>;
  codes: Map<string, number>;
  /** Internal candidates by sender and day (`sender` U+0001 `day`): what inferred Direct Send reads. */
  candidates: Map<string, number>;
  /** First subject occurrences that can still be among the first few. */
  samples: Sample[];
}

/** The order samples are chosen in: received, then file, row and recipient (as the SQL's ORDER BY). */
function sampleBefore(a: Sample, b: Sample): boolean {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt;
  if (a.fileId !== b.fileId) return a.fileId < b.fileId;
  if (a.row !== b.row) return a.row < b.row;
  return utf8Less(a.recipient, b.recipient);
}

/** SQLite's BINARY order (UTF-8 bytes; NULL first), which differs from JavaScript's for some non-ASCII text. */
function utf8Less(a: string | null, b: string | null): boolean {
  if (a === b || b === null) return false;
  if (a === null) return true;
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
}

/** The first sample of each subject, then the first SAMPLES_PER_SOURCE of those (as the SQL's windows). */
function pickSamples(list: Iterable<Sample>): Sample[] {
  const bySubject = new Map<string, Sample>();
  for (const s of list) {
    const o = bySubject.get(s.subject);
    if (o === undefined || sampleBefore(s, o)) bySubject.set(s.subject, s);
  }
  return [...bySubject.values()]
    .sort((a, b) => (sampleBefore(a, b) ? -1 : sampleBefore(b, a) ? 1 : 0))
    .slice(0, SAMPLES_PER_SOURCE);
}

function bump(map: Map<string, number>, key: string): void {
  const n = map.get(key);
  map.set(key, n === undefined ? 1 : n + 1);
}

/** Distinct entries held before the per-IP counts are written out (bounds the memory of a long run). */
export const MAX_DELTA_ENTRIES = 50_000;

/**
 * The per-IP source tables kept current as an ingest run adds messages, so the run ends with a merge of what
 * it added instead of a rebuild over every stored message (which grows with the store, not with the run).
 * Exact for additions; a run that changes or removes a stored message (a join re-assessed it) rebuilds instead.
 * The tables stay marked stale until the run ends, so an interrupted run leaves a rebuild to the next one.
 */
export class SourceStatsDelta {
  private readonly ips = new Map<string, IpDelta>();
  /** channel|verdict|candidate → class number (a handful). */
  private readonly classes = new Map<string, number>();
  private entries = 0;

  constructor(private readonly maxEntries = MAX_DELTA_ENTRIES) {}

  /** A newly stored message (never one that replaces a stored one: those call for a rebuild). */
  add(m: SourceMessage, codes: readonly string[]): void {
    if (!isSourceMessage(m)) return;
    const ipText = m.ip ?? '';
    let d = this.ips.get(ipText);
    if (d === undefined) {
      d = {
        stats: new Map(),
        senders: new Map(),
        recipients: new Map(),
        codes: new Map(),
        candidates: new Map(),
        samples: [],
      };
      this.ips.set(ownString(ipText), d);
    }
    const classKey = `${m.channel}|${m.verdict}|${m.candidate ? 1 : 0}`;
    let cls = this.classes.get(classKey);
    if (cls === undefined) {
      cls = this.classes.size;
      this.classes.set(classKey, cls);
    }
    const statKey = m.day * 1024 + cls;
    const c = d.stats.get(statKey);
    if (c === undefined) {
      this.entries++;
      d.stats.set(statKey, {
        day: m.day,
        channel: m.channel,
        verdict: m.verdict,
        candidate: m.candidate ? 1 : 0,
        messages: 1,
        first: m.receivedAt,
        last: m.receivedAt,
        tlsYes: m.tls === true ? 1 : 0,
        tlsNo: m.tls === false ? 1 : 0,
        helo: ownString(m.helo),
      });
    } else {
      c.messages++;
      if (m.receivedAt < c.first) c.first = m.receivedAt;
      if (m.receivedAt > c.last) c.last = m.receivedAt;
      if (m.tls === true) c.tlsYes++;
      else if (m.tls === false) c.tlsNo++;
      if (m.helo !== null && m.helo !== c.helo && utf8Less(c.helo, m.helo)) c.helo = ownString(m.helo);
    }
    const sizeBefore = d.senders.size + d.recipients.size + d.codes.size + d.candidates.size;
    bump(d.senders, m.sender ?? '');
    if (m.recipient !== null && m.recipient !== '') bump(d.recipients, m.recipient);
    for (const code of codes) bump(d.codes, code);
    if (m.channel === 'unknown' && m.candidate) bump(d.candidates, `${m.sender ?? ''}\u0001${m.day}`);
    this.entries += d.senders.size + d.recipients.size + d.codes.size + d.candidates.size - sizeBefore;
    if (m.subject !== null) {
      const list = d.samples;
      const s: Sample = {
        subject: m.subject,
        receivedAt: m.receivedAt,
        sender: m.sender,
        recipient: m.recipient,
        fileId: m.fileId,
        row: m.row,
      };
      const full = list.length >= SAMPLES_PER_SOURCE;
      // Keep it only if it can still be among the first few (or is an earlier copy of a kept subject).
      if (!full || sampleBefore(s, list[list.length - 1]!) || list.some((x) => x.subject === s.subject)) {
        list.push({
          ...s,
          subject: ownString(s.subject),
          sender: ownString(s.sender),
          recipient: ownString(s.recipient),
        });
        d.samples = pickSamples(list);
      }
    }
  }

  /** Large enough to write out now (inside the caller's batch transaction): bounds the memory of a long run. */
  get large(): boolean {
    return this.entries >= this.maxEntries;
  }

  /** Add the per-IP counts gathered so far to the tables and forget them. Runs in the caller's transaction. */
  flush(db: SqlDatabase): void {
    const stat = new MultiRowInsert(
      db,
      'INSERT INTO source_stat (ip, day, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes, tls_no, helo)',
      11,
      `ON CONFLICT (ip, day, channel, verdict, candidate) DO UPDATE SET messages = messages + excluded.messages,
        first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
        tls_yes = tls_yes + excluded.tls_yes, tls_no = tls_no + excluded.tls_no,
        helo = coalesce(max(helo, excluded.helo), helo, excluded.helo)`,
    );
    const counter = (table: string, column: string) =>
      new MultiRowInsert(
        db,
        `INSERT INTO ${table} (ip, ${column}, messages)`,
        3,
        `ON CONFLICT (ip, ${column}) DO UPDATE SET messages = messages + excluded.messages`,
      );
    const sender = counter('source_sender', 'sender');
    const recipient = counter('source_recipient', 'recipient');
    const code = counter('source_code', 'code');
    const candidate = new MultiRowInsert(
      db,
      'INSERT INTO source_candidate (ip, sender, day, messages)',
      4,
      'ON CONFLICT (ip, sender, day) DO UPDATE SET messages = messages + excluded.messages',
    );
    const old = db.prepare(
      'SELECT subject, received_at AS receivedAt, sender, recipient, file_id AS fileId, row FROM source_sample WHERE ip = ?',
    );
    const del = db.prepare('DELETE FROM source_sample WHERE ip = ?');
    const ins = db.prepare(
      'INSERT INTO source_sample (ip, subject, received_at, sender, recipient, file_id, row) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const [ip, d] of this.ips) {
      for (const c of d.stats.values()) {
        stat.add(ip, c.day, c.channel, c.verdict, c.candidate, c.messages, c.first, c.last, c.tlsYes, c.tlsNo, c.helo);
      }
      for (const [k, n] of d.senders) sender.add(ip, k, n);
      for (const [k, n] of d.recipients) recipient.add(ip, k, n);
      for (const [k, n] of d.codes) code.add(ip, k, n);
      for (const [k, n] of d.candidates) {
        const cut = k.lastIndexOf('\u0001');
        candidate.add(ip, k.slice(0, cut), Number(k.slice(cut + 1)), n);
      }
      if (d.samples.length > 0) {
        const kept = pickSamples([...(old.all(ip) as Sample[]), ...d.samples]);
        del.run(ip);
        for (const s of kept) ins.run(ip, s.subject, s.receivedAt, s.sender, s.recipient, s.fileId, s.row);
      }
    }
    for (const w of [stat, sender, recipient, code, candidate]) w.finish();
    this.ips.clear();
    this.entries = 0;
  }

  /** Write out what is left, then regroup the sources. Runs in the caller's transaction. */
  merge(db: SqlDatabase): void {
    this.flush(db);
    withRebuildCache(db, () => rebuildGroups(db));
  }
}
