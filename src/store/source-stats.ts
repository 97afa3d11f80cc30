/**
 * Per-source aggregates for the report's inventory (connecting IP → days and classification, senders,
 * recipients, finding codes, samples with provenance), derived from the stored messages with set-based SQL.
 *
 * Every ingest batch marks them stale inside its own transaction; the end of an ingest run (or the first report
 * after an interrupted one) rebuilds them in one transaction. One GROUP BY per table over the stored messages is
 * far cheaper than keeping five tables up to date row by row, and the report then reads only these small tables.
 * @module
 */
import type { SqlDatabase } from './db.js';

export const SAMPLES_PER_SOURCE = 3;

const STALE_KEY = 'sources';

export function markSourceStatsStale(db: SqlDatabase): void {
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, 'stale') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(STALE_KEY);
}

export function sourceStatsStale(db: SqlDatabase): boolean {
  const r = db.prepare('SELECT value FROM meta WHERE key = ?').get(STALE_KEY) as { value: string } | undefined;
  return r?.value === 'stale';
}

/** Recompute every source aggregate from `message`; runs in the caller's transaction. */
export function rebuildSourceStats(db: SqlDatabase): void {
  db.exec(`
    DELETE FROM source_stat;
    DELETE FROM source_sender;
    DELETE FROM source_recipient;
    DELETE FROM source_code;
    DELETE FROM source_sample;
    INSERT INTO source_stat (ip, day, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes, tls_no,
        blocks, helo)
      SELECT coalesce(ip, ''), day, channel, verdict, candidate, count(*), min(received_at), max(received_at),
        count(CASE WHEN tls = 1 THEN 1 END), count(CASE WHEN tls = 0 THEN 1 END),
        count(CASE WHEN reject_blocks = 1 THEN 1 END), max(helo)
      FROM message GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO source_sender (ip, sender, messages)
      SELECT coalesce(ip, ''), coalesce(sender, ''), count(*) FROM message GROUP BY 1, 2;
    INSERT INTO source_recipient (ip, recipient, messages)
      SELECT coalesce(ip, ''), recipient, count(*) FROM message WHERE recipient IS NOT NULL AND recipient <> ''
      GROUP BY 1, 2;
    INSERT INTO source_code (ip, code, messages)
      SELECT ip, j.value, sum(n) FROM (SELECT coalesce(ip, '') AS ip, codes, count(*) AS n FROM message GROUP BY 1, 2)
        AS g, json_each(g.codes) AS j GROUP BY 1, 2;
    INSERT INTO source_sample (ip, subject, received_at, sender, recipient, file_id, row)
      SELECT ip, subject, received_at, sender, recipient, file_id, row FROM (
        SELECT coalesce(ip, '') AS ip, subject, received_at, sender, recipient, file_id, row,
          row_number() OVER (PARTITION BY coalesce(ip, '') ORDER BY received_at, file_id, row) AS n
        FROM (SELECT ip, subject, received_at, sender, recipient, file_id, row,
                row_number() OVER (PARTITION BY coalesce(ip, ''), subject ORDER BY received_at, file_id, row) AS k
              FROM message WHERE subject IS NOT NULL) WHERE k = 1)
      WHERE n <= ${SAMPLES_PER_SOURCE};
  `);
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, 'fresh') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(STALE_KEY);
}
