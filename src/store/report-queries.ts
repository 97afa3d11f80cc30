/**
 * Read-only queries behind `dsguard report`. They touch only the small aggregate tables (buckets, per-source
 * stats), so a report over tens of millions of ingested rows answers in well under a second — except the
 * per-source details of a period (`--since`), which are counted from the period's stored messages.
 * @module
 */
import type { SqlDatabase } from './db.js';
import { SAMPLES_PER_SOURCE, SOURCE_MESSAGE } from './source-stats.js';

/**
 * The stored source messages of a period with their source group: what the per-source details of a report
 * limited by `--since` are counted from (the per-IP tables behind them hold every day together). Costs a read of
 * the period's stored messages.
 */
const PERIOD_MESSAGES = sourceMessages('m.day >= ?');

/** The period's stored Direct Send and P2-only spoof messages with their source group. */
const PROVEN_MESSAGES = `message m JOIN source_group g ON g.ip = coalesce(m.ip, '')
  WHERE m.day >= ? AND m.channel IN ('direct-send', 'internal-spoof')`;

/** The stored source messages (`m`) with their source group (`g`) that meet `where`. */
function sourceMessages(where: string): string {
  return `message m JOIN source_group g ON g.ip = coalesce(m.ip, '') WHERE ${where} AND ${SOURCE_MESSAGE}`;
}

export interface BucketCount {
  day: number;
  channel: string;
  verdict: string;
  candidate: boolean;
  messages: number;
}

export interface GroupClassRow {
  grp: number;
  channel: string;
  verdict: string;
  candidate: boolean;
  messages: number;
  firstSeen: string;
  lastSeen: string;
  tlsYes: number;
  tlsNo: number;
}

export interface GroupSample {
  grp: number;
  subject: string;
  receivedAt: string;
  sender: string | null;
  recipient: string | null;
  file: string;
  sha256: string;
  row: number;
}

export interface IngestedFile {
  path: string;
  sha256: string;
  format: string;
  status: string;
  rows: number;
  stored: number;
  aggregated: number;
  rejected: number;
}

/** Source messages of one source group and class after a moment (see ReportQueries.sourceMessagesFrom). */
export interface GroupClassCount {
  grp: number;
  channel: string;
  candidate: boolean;
  messages: number;
  lastSeen: string;
}

export interface GroupDayChannel {
  grp: number;
  day: number;
  channel: string;
  candidate: boolean;
  messages: number;
}

export interface DirectSendProof {
  ip: string;
  sender: string;
  file: string;
  row: number;
  receivedAt: string;
}

export interface CandidateCount {
  grp: number;
  ip: string;
  sender: string;
  day: number;
  messages: number;
}

export class ReportQueries {
  constructor(private readonly db: SqlDatabase) {}

  /** The first and last day that hold messages (whatever --since), `null` when none does. */
  dayRange(): { first: number; last: number } | null {
    const r = this.db.prepare('SELECT min(day) AS first, max(day) AS last FROM bucket WHERE messages > 0').get() as {
      first: number | null;
      last: number | null;
    };
    return r.first === null || r.last === null ? null : { first: r.first, last: r.last };
  }

  /** Per source group and class on one day (the aggregates know days, not times). */
  groupClassesOn(day: number): GroupClassCount[] {
    const rows = this.db
      .prepare(
        `SELECT grp, channel, candidate, sum(messages) AS messages, max(last_seen) AS lastSeen FROM group_stat
         WHERE day = ? GROUP BY 1, 2, 3 HAVING sum(messages) > 0`,
      )
      .all(day) as (Omit<GroupClassCount, 'candidate'> & { candidate: number })[];
    return rows.map((r) => ({ ...r, candidate: r.candidate === 1 }));
  }

  /** Whether a stored message of `day` was received at or after `iso`. */
  messageOnDayFrom(day: number, iso: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM message WHERE day = ? AND received_at >= ? LIMIT 1').get(day, iso) !== undefined
    );
  }

  /**
   * Per source group and class, the stored source messages of one day received at or after `iso` (an ISO time
   * in the stored form): the part of a day after a given moment, read from the messages of that day only.
   */
  sourceMessagesFrom(day: number, iso: string): GroupClassCount[] {
    const rows = this.db
      .prepare(
        `SELECT g.grp, m.channel, m.candidate, count(*) AS messages, max(m.received_at) AS lastSeen
         FROM ${sourceMessages('m.day = ? AND m.received_at >= ?')}
         GROUP BY 1, 2, 3`,
      )
      .all(day, iso) as (Omit<GroupClassCount, 'candidate'> & { candidate: number })[];
    return rows.map((r) => ({ ...r, candidate: r.candidate === 1 }));
  }

  buckets(sinceDay: number | null): BucketCount[] {
    const rows = this.db
      .prepare(
        `SELECT day, channel, verdict, candidate, sum(messages) AS messages FROM bucket
         WHERE day >= ? GROUP BY day, channel, verdict, candidate HAVING sum(messages) > 0 ORDER BY day`,
      )
      .all(sinceDay ?? -1e9) as {
      day: number;
      channel: string;
      verdict: string;
      candidate: number;
      messages: number;
    }[];
    return rows.map((r) => ({ ...r, candidate: r.candidate === 1 }));
  }

  /** Per source and classification; over every day, or from `sinceDay` on. */
  groupClasses(sinceDay: number | null): GroupClassRow[] {
    const sql =
      sinceDay === null
        ? `SELECT grp, channel, verdict, candidate, messages, first_seen AS firstSeen, last_seen AS lastSeen,
             tls_yes AS tlsYes, tls_no AS tlsNo FROM group_total WHERE messages > 0`
        : `SELECT grp, channel, verdict, candidate, sum(messages) AS messages, min(first_seen) AS firstSeen,
             max(last_seen) AS lastSeen, sum(tls_yes) AS tlsYes, sum(tls_no) AS tlsNo
           FROM group_stat WHERE day >= ? GROUP BY 1, 2, 3, 4 HAVING sum(messages) > 0`;
    const stmt = this.db.prepare(sql);
    const rows = (sinceDay === null ? stmt.all() : stmt.all(sinceDay)) as (Omit<GroupClassRow, 'candidate'> & {
      candidate: number;
    })[];
    return rows.map((r) => ({ ...r, candidate: r.candidate === 1 }));
  }

  groupIps(): { grp: number; ip: string }[] {
    return this.db.prepare('SELECT grp, ip FROM source_group ORDER BY grp, ip').all() as { grp: number; ip: string }[];
  }

  /** Every sender of a source (group_sender lists only the most frequent ones). */
  groupAllSenders(grp: number): string[] {
    return this.db
      .prepare(
        `SELECT DISTINCT s.sender FROM source_sender s JOIN source_group g ON g.ip = s.ip
         WHERE g.grp = ? AND s.sender <> '' ORDER BY 1`,
      )
      .all(grp)
      .map((r) => (r as { sender: string }).sender);
  }

  /** Distinct recipients of each source (in the period). */
  groupInfo(sinceDay: number | null = null): { grp: number; recipients: number }[] {
    if (sinceDay === null) {
      return this.db.prepare('SELECT grp, recipients FROM group_info').all() as { grp: number; recipients: number }[];
    }
    return this.db
      .prepare(
        `SELECT g.grp, count(DISTINCT m.recipient) AS recipients FROM ${PERIOD_MESSAGES}
           AND m.recipient IS NOT NULL AND m.recipient <> '' GROUP BY 1`,
      )
      .all(sinceDay) as { grp: number; recipients: number }[];
  }

  groupHelos(): { grp: number; helo: string }[] {
    return this.db.prepare('SELECT grp, helo FROM group_helo ORDER BY grp, helo').all() as {
      grp: number;
      helo: string;
    }[];
  }

  groupSenders(): { grp: number; sender: string; messages: number }[] {
    return this.db
      .prepare('SELECT grp, sender, messages FROM group_sender ORDER BY grp, messages DESC, sender')
      .all() as { grp: number; sender: string; messages: number }[];
  }

  /** Finding codes of each source's messages (in the period). */
  groupCodes(sinceDay: number | null = null): { grp: number; code: string; messages: number }[] {
    if (sinceDay === null) {
      return this.db.prepare('SELECT grp, code, messages FROM group_code WHERE messages > 0').all() as {
        grp: number;
        code: string;
        messages: number;
      }[];
    }
    return this.db
      .prepare(
        `SELECT grp, j.value AS code, sum(n) AS messages FROM (
           SELECT g.grp, m.codes, count(*) AS n FROM ${PERIOD_MESSAGES} GROUP BY 1, 2) AS c, json_each(c.codes) AS j
         GROUP BY 1, 2`,
      )
      .all(sinceDay) as { grp: number; code: string; messages: number }[];
  }

  /** Each source's first messages of distinct subjects (in the period), with their file and row. */
  groupSamples(sinceDay: number | null = null): GroupSample[] {
    if (sinceDay === null) {
      return this.db
        .prepare(
          `SELECT s.grp, s.subject, s.received_at AS receivedAt, s.sender, s.recipient, f.path AS file, f.sha256, s.row
           FROM group_sample s JOIN file f ON f.id = s.file_id ORDER BY s.grp, s.received_at, s.file_id, s.row`,
        )
        .all() as GroupSample[];
    }
    return this.db
      .prepare(
        `SELECT x.grp, x.subject, x.received_at AS receivedAt, x.sender, x.recipient, f.path AS file, f.sha256, x.row
         FROM (
           SELECT *, row_number() OVER (PARTITION BY grp ORDER BY received_at, file_id, row, recipient) AS n FROM (
             SELECT g.grp, m.subject, m.received_at, m.sender, m.recipient, m.file_id, m.row,
               row_number() OVER (PARTITION BY g.grp, m.subject ORDER BY m.received_at, m.file_id, m.row, m.recipient) AS k
             FROM ${PERIOD_MESSAGES} AND m.subject IS NOT NULL)
           WHERE k = 1) AS x
         JOIN file f ON f.id = x.file_id
         WHERE x.n <= ${SAMPLES_PER_SOURCE} ORDER BY x.grp, x.received_at, x.file_id, x.row`,
      )
      .all(sinceDay) as GroupSample[];
  }

  /** Days (all data, whatever --since) that hold at least one message. */
  daysPresent(): number[] {
    return this.db
      .prepare('SELECT DISTINCT day FROM bucket WHERE messages > 0 ORDER BY day')
      .all()
      .map((r) => (r as { day: number }).day);
  }

  /** Source messages per source group, day and channel (in the period). */
  groupDayChannels(sinceDay: number | null): GroupDayChannel[] {
    const rows = this.db
      .prepare(
        `SELECT grp, day, channel, candidate, sum(messages) AS messages FROM group_stat WHERE day >= ?
         GROUP BY 1, 2, 3, 4 HAVING sum(messages) > 0 ORDER BY 1, 2`,
      )
      .all(sinceDay ?? -1e9) as (Omit<GroupDayChannel, 'candidate'> & { candidate: number })[];
    return rows.map((r) => ({ ...r, candidate: r.candidate === 1 }));
  }

  /**
   * Per source group and subject (NULL: none), its messages and how many arrived on a weekday between 06:00 and
   * 19:59 UTC (in the period). Reads the period's stored Direct Send and spoof messages (not the internal
   * candidates, which can be most of a large tenant's mail: they are counted per IP and sender only).
   */
  groupSubjectRhythm(
    sinceDay: number | null,
  ): { grp: number; subject: string | null; messages: number; business: number }[] {
    return this.db
      .prepare(
        `SELECT g.grp, m.subject, count(*) AS messages,
           count(CASE WHEN CAST(substr(m.received_at, 12, 2) AS INTEGER) BETWEEN 6 AND 19
             AND strftime('%w', substr(m.received_at, 1, 10)) NOT IN ('0', '6') THEN 1 END) AS business
         FROM ${PROVEN_MESSAGES} GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`,
      )
      .all(sinceDay ?? -1e9) as { grp: number; subject: string | null; messages: number; business: number }[];
  }

  /**
   * The first few rows (file, row) of each source group that carry each finding code, among its Direct Send and
   * spoof messages of the period (what the weighing cites).
   */
  groupCodeRows(sinceDay: number | null, perCode = 3): { grp: number; code: string; file: string; row: number }[] {
    return this.db
      .prepare(
        `SELECT x.grp, x.code, f.path AS file, x.row FROM (
           SELECT g.grp, j.value AS code, m.file_id, m.row, m.received_at,
             row_number() OVER (PARTITION BY g.grp, j.value ORDER BY m.received_at, m.file_id, m.row) AS k
           FROM message m JOIN source_group g ON g.ip = coalesce(m.ip, '') JOIN json_each(m.codes) AS j
           WHERE m.day >= ? AND m.channel IN ('direct-send', 'internal-spoof')) AS x
         JOIN file f ON f.id = x.file_id WHERE x.k <= ? ORDER BY x.grp, x.code, x.received_at, x.file_id, x.row`,
      )
      .all(sinceDay ?? -1e9, perCode) as { grp: number; code: string; file: string; row: number }[];
  }

  /**
   * For each connecting IP and envelope sender seen in proven Direct Send (anonymous, no connector, internal P1),
   * the first such row: what proves the summary rows of the same IP and sender to be Direct Send too.
   */
  directSendProofs(): DirectSendProof[] {
    return this.db
      .prepare(
        `SELECT p.ip, p.sender, f.path AS file, p.row, p.receivedAt FROM (
           SELECT ip, sender, file_id, row, min(received_at) AS receivedAt FROM message
           WHERE channel IN ('direct-send', 'internal-spoof') AND channel = 'direct-send'
             AND ip IS NOT NULL AND ip <> '' AND sender IS NOT NULL AND sender <> ''
           GROUP BY ip, sender) AS p JOIN file f ON f.id = p.file_id ORDER BY p.ip, p.sender`,
      )
      .all() as DirectSendProof[];
  }

  /**
   * Undetermined internal summary rows (candidates) from the given connecting IPs, per IP, sender and day (in the
   * period), from the per-IP table kept at ingest (source-stats.ts). The IPs are those that can prove anything (a
   * proven Direct Send row, a declared source).
   */
  candidateRows(sinceDay: number | null, ips: readonly string[]): Omit<CandidateCount, 'grp'>[] {
    if (ips.length === 0) return [];
    return this.db
      .prepare(
        `SELECT ip, sender, day, messages FROM source_candidate
         WHERE ip IN (SELECT value FROM json_each(?)) AND day >= ? AND messages > 0 ORDER BY 1, 2, 3`,
      )
      .all(JSON.stringify(ips), sinceDay ?? -1e9) as Omit<CandidateCount, 'grp'>[];
  }

  /** The profile the stored rows were assessed with: `none` when without one, `null` when unknown. */
  assessedProfile(): string | null {
    const r = this.db.prepare("SELECT value FROM meta WHERE key = 'profile'").get() as { value: string } | undefined;
    return r?.value ?? null;
  }

  files(): IngestedFile[] {
    return this.db
      .prepare(
        `SELECT path, sha256, format, status, rows_read AS rows, rows_stored AS stored, rows_aggregated AS aggregated,
           rows_rejected AS rejected FROM file ORDER BY id`,
      )
      .all() as IngestedFile[];
  }
}
