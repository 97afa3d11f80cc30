/**
 * Numbered schema migrations. Each runs once, in order, inside its own transaction; the migrator returns what
 * it applied (or the error) and never throws for a migration failure.
 * @module
 */
import { type Failure, failure, type Ok, ok } from '../core/result.js';
import type { SqlDatabase } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ingest store: file ledger, delivery keys, count buckets, facts, stored messages',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      -- One row per ingested file, keyed on its sha256. rows_read is the last committed row: a re-run resumes there.
      CREATE TABLE file (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        format TEXT NOT NULL,
        columns TEXT,
        status TEXT NOT NULL CHECK (status IN ('partial', 'complete')),
        rows_read INTEGER NOT NULL DEFAULT 0,
        rows_stored INTEGER NOT NULL DEFAULT 0,
        rows_aggregated INTEGER NOT NULL DEFAULT 0,
        rows_rejected INTEGER NOT NULL DEFAULT 0,
        rows_duplicate INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        finished_at TEXT
      );

      -- Message counts by day and classification: every delivery is counted in exactly one bucket.
      CREATE TABLE bucket (
        id INTEGER PRIMARY KEY,
        day INTEGER NOT NULL,
        channel TEXT NOT NULL,
        verdict TEXT NOT NULL,
        candidate INTEGER NOT NULL,
        messages INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, channel, verdict, candidate)
      );

      -- Every delivery (message x recipient) ever seen: the idempotency key.
      CREATE TABLE delivery (
        day INTEGER NOT NULL,
        h INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        stored INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, h)
      ) WITHOUT ROWID;

      -- Further source rows about stored deliveries (raw data + provenance): trace detail events, the rows of other
      -- exports about the same delivery, attachment and URL rows; joined by delivery key or message id.
      -- h = 0 for message-level facts (EmailUrlInfo rows carry no recipient).
      CREATE TABLE fact (
        id INTEGER PRIMARY KEY,
        day INTEGER NOT NULL,
        h INTEGER NOT NULL,
        msg_h INTEGER NOT NULL,
        file_id INTEGER NOT NULL REFERENCES file (id),
        row INTEGER NOT NULL,
        format TEXT NOT NULL,
        data TEXT NOT NULL,
        data_h INTEGER NOT NULL,
        UNIQUE (day, h, msg_h, format, data_h)
      );
      CREATE INDEX fact_msg ON fact (day, msg_h);

      -- Direct Send, internal-spoof and candidate deliveries with their current assessment.
      CREATE TABLE message (
        day INTEGER NOT NULL,
        h INTEGER NOT NULL,
        msg_h INTEGER NOT NULL,
        message_id TEXT,
        received_at TEXT NOT NULL,
        recipient TEXT,
        sender TEXT,
        header_from TEXT,
        ip TEXT,
        helo TEXT,
        tls INTEGER,
        subject TEXT,
        channel TEXT NOT NULL,
        verdict TEXT NOT NULL,
        risk INTEGER NOT NULL,
        reject_blocks INTEGER,
        candidate INTEGER NOT NULL,
        -- JSON array of finding codes
        codes TEXT NOT NULL,
        bucket INTEGER NOT NULL,
        file_id INTEGER NOT NULL,
        row INTEGER NOT NULL,
        PRIMARY KEY (day, h)
      ) WITHOUT ROWID;
      CREATE INDEX message_msg ON message (day, msg_h);
      -- The source row that made a delivery worth keeping, as read (a JSON array of CSV fields or the JSON record)
      -- with its export format: the evidence is rebuilt from it, with provenance, when a join arrives. Kept apart
      -- so scans of message stay small.
      CREATE TABLE message_data (
        day INTEGER NOT NULL,
        h INTEGER NOT NULL,
        format TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (day, h)
      ) WITHOUT ROWID;

      -- Source inventory derived from message (rebuilt after each ingest run, see source-stats.ts), so the report
      -- never scans messages. ip '' = connecting IP unknown.
      CREATE TABLE source_stat (
        ip TEXT NOT NULL,
        day INTEGER NOT NULL,
        channel TEXT NOT NULL,
        verdict TEXT NOT NULL,
        candidate INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        tls_yes INTEGER NOT NULL,
        tls_no INTEGER NOT NULL,
        blocks INTEGER NOT NULL,
        helo TEXT,
        PRIMARY KEY (ip, day, channel, verdict, candidate)
      ) WITHOUT ROWID;
      CREATE TABLE source_sender (
        ip TEXT NOT NULL, sender TEXT NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (ip, sender)
      ) WITHOUT ROWID;
      CREATE TABLE source_recipient (
        ip TEXT NOT NULL, recipient TEXT NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (ip, recipient)
      ) WITHOUT ROWID;
      CREATE TABLE source_code (
        ip TEXT NOT NULL, code TEXT NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (ip, code)
      ) WITHOUT ROWID;
      -- Up to a few sample messages per source, with provenance (file, row).
      CREATE TABLE source_sample (
        ip TEXT NOT NULL,
        subject TEXT NOT NULL,
        received_at TEXT NOT NULL,
        sender TEXT,
        recipient TEXT,
        file_id INTEGER NOT NULL,
        row INTEGER NOT NULL,
        PRIMARY KEY (ip, subject)
      ) WITHOUT ROWID;

      -- Deliveries whose facts changed (a join arrived): re-assessed after each file; survives a crash.
      CREATE TABLE pending (day INTEGER NOT NULL, h INTEGER NOT NULL, PRIMARY KEY (day, h)) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'message_data appended by rowid, found by a unique (day, h) index',
    // Raw rows of ~300 bytes inserted at random places of a (day, h) B-tree split its pages all over; appended
    // to a rowid table, only the small index entry lands at random. 1M trace rows: 6.36 -> 5.95 s (median of 5).
    sql: `
      CREATE TABLE message_data_v2 (
        id INTEGER PRIMARY KEY,
        day INTEGER NOT NULL,
        h INTEGER NOT NULL,
        format TEXT NOT NULL,
        data TEXT NOT NULL
      );
      INSERT INTO message_data_v2 (day, h, format, data) SELECT day, h, format, data FROM message_data ORDER BY day, h;
      DROP TABLE message_data;
      ALTER TABLE message_data_v2 RENAME TO message_data;
      CREATE UNIQUE INDEX message_data_key ON message_data (day, h);
    `,
  },
  {
    version: 3,
    name: 'source groups: connecting IPs grouped into sources, and the group aggregates the report reads',
    // Derived tables: made afresh (a store written while they were still part of migration 1 has them in an
    // older shape) and filled by the next rebuild, which the stale mark asks for when messages are stored.
    sql: `
      DROP TABLE IF EXISTS source_group;
      DROP TABLE IF EXISTS group_stat;
      DROP TABLE IF EXISTS group_total;
      DROP TABLE IF EXISTS group_info;
      DROP TABLE IF EXISTS group_helo;
      DROP TABLE IF EXISTS group_sender;
      DROP TABLE IF EXISTS group_code;
      DROP TABLE IF EXISTS group_sample;
      -- Sources: connecting IPs grouped so that one printer or app is one source (same network, a shared envelope
      -- sender, the same verdict), and the group-level aggregates the report reads.
      CREATE TABLE source_group (ip TEXT PRIMARY KEY, grp INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX source_group_grp ON source_group (grp);
      CREATE TABLE group_stat (
        grp INTEGER NOT NULL,
        day INTEGER NOT NULL,
        channel TEXT NOT NULL,
        verdict TEXT NOT NULL,
        candidate INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        tls_yes INTEGER NOT NULL,
        tls_no INTEGER NOT NULL,
        PRIMARY KEY (grp, day, channel, verdict, candidate)
      ) WITHOUT ROWID;
      CREATE TABLE group_total (
        grp INTEGER NOT NULL,
        channel TEXT NOT NULL,
        verdict TEXT NOT NULL,
        candidate INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        tls_yes INTEGER NOT NULL,
        tls_no INTEGER NOT NULL,
        PRIMARY KEY (grp, channel, verdict, candidate)
      ) WITHOUT ROWID;
      CREATE TABLE group_info (grp INTEGER PRIMARY KEY, recipients INTEGER NOT NULL);
      CREATE TABLE group_helo (grp INTEGER NOT NULL, helo TEXT NOT NULL, PRIMARY KEY (grp, helo)) WITHOUT ROWID;
      CREATE TABLE group_sender (
        grp INTEGER NOT NULL, sender TEXT NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (grp, sender)
      ) WITHOUT ROWID;
      CREATE TABLE group_code (
        grp INTEGER NOT NULL, code TEXT NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (grp, code)
      ) WITHOUT ROWID;
      CREATE TABLE group_sample (
        grp INTEGER NOT NULL,
        subject TEXT NOT NULL,
        received_at TEXT NOT NULL,
        sender TEXT,
        recipient TEXT,
        file_id INTEGER NOT NULL,
        row INTEGER NOT NULL,
        PRIMARY KEY (grp, subject)
      ) WITHOUT ROWID;

      INSERT INTO meta (key, value) SELECT 'sources', 'stale' WHERE EXISTS (SELECT 1 FROM message)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    `,
  },
  {
    version: 4,
    name: 'source_stat without blocks',
    // RejectDirectSend blocks exactly the Direct Send channel (assess.ts): the column repeated the count of the
    // channel = 'direct-send' cells and nothing read it.
    sql: `
      ALTER TABLE source_stat DROP COLUMN blocks;
    `,
  },
  {
    version: 5,
    name: 'file.date_order',
    // Export-Csv writes numeric dates in the session's culture: each file's order (decided once for the file) is
    // kept, so rows re-read later (a join re-assesses them) and a resumed run read its dates the same way.
    // NULL: recorded before, read month-first.
    sql: `
      ALTER TABLE file ADD COLUMN date_order TEXT;
    `,
  },
  {
    version: 6,
    name: 'source_candidate and the proven-message index (report: inferred Direct Send, source weighing)',
    // The report counts an internal summary row as Direct Send when a stored row proves its IP and envelope sender
    // (inferred Direct Send): the candidates are kept per IP, sender and day at ingest, so the report never scans
    // them. The partial index reaches the (few) Direct Send and spoof messages the weighing reads without a scan
    // of every stored message. The rebuild that follows fills source_candidate.
    sql: `
      CREATE TABLE source_candidate (
        ip TEXT NOT NULL, sender TEXT NOT NULL, day INTEGER NOT NULL, messages INTEGER NOT NULL,
        PRIMARY KEY (ip, sender, day)
      ) WITHOUT ROWID;
      CREATE INDEX message_proven ON message (channel, day) WHERE channel IN ('direct-send', 'internal-spoof');
      INSERT INTO meta (key, value) SELECT 'sources', 'stale' WHERE EXISTS (SELECT 1 FROM message)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    `,
  },
  {
    version: 7,
    name: 'collect_checkpoint, alert_sent: dsguard collect progress and watch alerts delivered',
    // `until`: the end (ISO, UTC) of the last window of a source whose rows are all in the store; the next run
    // re-reads an overlap before it (late rows, changed trace status) and carries on. Written after the rows'
    // own transactions, so a crash between the two only re-reads a window (deliveries are keyed: no duplicate).
    sql: `
      CREATE TABLE collect_checkpoint (
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        until TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, source)
      ) WITHOUT ROWID;
      -- dsguard watch: alerts delivered, per sink (at-least-once delivery, never resent after a restart).
      CREATE TABLE alert_sent (
        id TEXT NOT NULL,
        sink TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (id, sink)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'collect_daily_total, collect_trace_detail: per-day mail totals, trace details asked (dsguard collect)',
    // One row per tenant and UTC day (YYYY-MM-DD): EmailEvents rows (message x recipient) in all, inbound, inbound
    // without a connector, Direct Send, internal spoof. `complete` = 1 when the query covered the whole day and the
    // day was over; a partial count never replaces a complete one.
    sql: `
      CREATE TABLE collect_daily_total (
        tenant TEXT NOT NULL,
        day TEXT NOT NULL,
        total INTEGER NOT NULL,
        inbound INTEGER NOT NULL,
        no_connector INTEGER NOT NULL,
        direct_send INTEGER NOT NULL,
        internal_spoof INTEGER NOT NULL,
        complete INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, day)
      ) WITHOUT ROWID;
      -- getDetailsByRecipient answers in the store, one per group (connecting IP, envelope sender, UTC day): a
      -- window boundary inside a day or a re-run (overlap) never asks for the same group again.
      CREATE TABLE collect_trace_detail (
        tenant TEXT NOT NULL,
        grp TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (tenant, grp)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'watch_cycle, alert_outbox: dsguard watch compares each cycle with the last one recorded',
    // One row per tenant: the last completed cycle's number and its state (JSON: sources, readiness), so a
    // restarted watch compares with what it last saw instead of starting afresh. The alerts a cycle raised go into
    // alert_outbox in the same transaction as its state: a crash after it still delivers them (at least once),
    // and an alert leaves the outbox once every configured sink has it (alert_sent).
    sql: `
      CREATE TABLE watch_cycle (
        tenant TEXT NOT NULL PRIMARY KEY,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        state TEXT NOT NULL
      );
      CREATE TABLE alert_outbox (
        id TEXT NOT NULL PRIMARY KEY,
        tenant TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: 'alert_refusal: an alert a sink keeps refusing (4xx) becomes a dead letter instead of a retry forever',
    // One row per (alert, sink) a sink refused: how many cycles it did, the last HTTP status and one-line error
    // (never the URL), and when it became a dead letter (after a bounded number of refusals). A dead letter is no
    // longer sent to that sink until `dsguard watch --retry-dead` clears it; its body stays in alert_outbox.
    sql: `
      CREATE TABLE alert_refusal (
        id TEXT NOT NULL,
        sink TEXT NOT NULL,
        refusals INTEGER NOT NULL,
        status INTEGER,
        error TEXT NOT NULL,
        last_at TEXT NOT NULL,
        dead_at TEXT,
        PRIMARY KEY (id, sink)
      ) WITHOUT ROWID;
    `,
  },
];

/**
 * The migrations applied (and those applied before a failure): `input` when the store is newer than this
 * dsguard, `io` when a migration failed.
 */
export type MigrateResult = Ok<{ applied: number[]; version: number }> | (Failure & { applied: number[] });

export function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): MigrateResult {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
  const done = new Set(rows.map((r) => r.version));
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const newest = Math.max(0, ...done);
  if (newest > known) {
    const error = `the store was written by a newer dsguard (schema ${newest}, this version knows ${known})`;
    return { ...failure('input', error), applied: [] };
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    try {
      db.transaction(() => {
        db.exec(m.sql);
        record.run(m.version, m.name, new Date().toISOString());
      })();
      applied.push(m.version);
    } catch (error) {
      return { ...failure('io', `migration ${m.version} (${m.name}) failed: ${(error as Error).message}`), applied };
    }
  }
  return ok({ applied, version: known });
}
