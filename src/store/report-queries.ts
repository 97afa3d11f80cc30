/**
 * Read-only queries behind `dsguard report`. They touch only the small aggregate tables (buckets, per-source
 * stats), so a report over tens of millions of ingested rows answers in well under a second.
 * @module
 */
import type { SqlDatabase } from './db.js';

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
         FROM message m JOIN source_group g ON g.ip = coalesce(m.ip, '')
         WHERE m.day = ? AND m.received_at >= ?
           AND (m.channel IN ('direct-send', 'internal-spoof') OR (m.channel = 'unknown' AND m.candidate = 1))
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

  groupInfo(): { grp: number; recipients: number }[] {
    return this.db.prepare('SELECT grp, recipients FROM group_info').all() as { grp: number; recipients: number }[];
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

  groupCodes(): { grp: number; code: string; messages: number }[] {
    return this.db.prepare('SELECT grp, code, messages FROM group_code WHERE messages > 0').all() as {
      grp: number;
      code: string;
      messages: number;
    }[];
  }

  groupSamples(): GroupSample[] {
    return this.db
      .prepare(
        `SELECT s.grp, s.subject, s.received_at AS receivedAt, s.sender, s.recipient, f.path AS file, f.sha256, s.row
         FROM group_sample s JOIN file f ON f.id = s.file_id ORDER BY s.grp, s.received_at, s.file_id, s.row`,
      )
      .all() as GroupSample[];
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
