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

export interface SourceClassRow {
  ip: string;
  channel: string;
  verdict: string;
  candidate: boolean;
  messages: number;
  firstSeen: string;
  lastSeen: string;
  tlsYes: number;
  tlsNo: number;
  blocks: number;
  helo: string | null;
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

export class ReportQueries {
  constructor(private readonly db: SqlDatabase) {}

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

  sourceClasses(sinceDay: number | null): SourceClassRow[] {
    const rows = this.db
      .prepare(
        `SELECT ip, channel, verdict, candidate, sum(messages) AS messages, min(first_seen) AS firstSeen,
           max(last_seen) AS lastSeen, sum(tls_yes) AS tlsYes, sum(tls_no) AS tlsNo, sum(blocks) AS blocks,
           max(helo) AS helo
         FROM source_stat WHERE day >= ? GROUP BY ip, channel, verdict, candidate HAVING sum(messages) > 0`,
      )
      .all(sinceDay ?? -1e9) as (Omit<SourceClassRow, 'candidate'> & { candidate: number })[];
    return rows.map((r) => ({ ...r, candidate: r.candidate === 1 }));
  }

  senders(): { ip: string; sender: string; messages: number }[] {
    return this.db.prepare('SELECT ip, sender, messages FROM source_sender WHERE messages > 0').all() as {
      ip: string;
      sender: string;
      messages: number;
    }[];
  }

  recipientCounts(): Map<string, number> {
    const rows = this.db
      .prepare('SELECT ip, count(*) AS n FROM source_recipient WHERE messages > 0 GROUP BY ip')
      .all() as { ip: string; n: number }[];
    return new Map(rows.map((r) => [r.ip, r.n]));
  }

  distinctRecipients(ips: readonly string[]): number {
    const r = this.db
      .prepare(
        'SELECT count(DISTINCT recipient) AS n FROM source_recipient WHERE messages > 0 AND ip IN (SELECT value FROM json_each(?))',
      )
      .get(JSON.stringify(ips)) as { n: number };
    return r.n;
  }

  codes(): { ip: string; code: string; messages: number }[] {
    return this.db.prepare('SELECT ip, code, messages FROM source_code WHERE messages > 0').all() as {
      ip: string;
      code: string;
      messages: number;
    }[];
  }

  samples(): {
    ip: string;
    subject: string;
    receivedAt: string;
    sender: string | null;
    recipient: string | null;
    file: string;
    sha256: string;
    row: number;
  }[] {
    return this.db
      .prepare(
        `SELECT s.ip, s.subject, s.received_at AS receivedAt, s.sender, s.recipient, f.path AS file, f.sha256, s.row
         FROM source_sample s JOIN file f ON f.id = s.file_id ORDER BY s.ip, s.received_at`,
      )
      .all() as {
      ip: string;
      subject: string;
      receivedAt: string;
      sender: string | null;
      recipient: string | null;
      file: string;
      sha256: string;
      row: number;
    }[];
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
