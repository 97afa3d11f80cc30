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
import { parseIp } from '../core/net-address.js';
import type { SqlDatabase } from './db.js';

export const SAMPLES_PER_SOURCE = 3;
/** Senders per IP that take part in grouping (the most frequent ones). */
const GROUPING_SENDERS = 10;
/** Senders listed per source. */
const LISTED_SENDERS = 20;

const STALE_KEY = 'sources';

/** Messages that belong in the inventory: Direct Send, internal spoof, and undetermined internal candidates. */
const SOURCE_MESSAGE = "(channel IN ('direct-send', 'internal-spoof') OR (channel = 'unknown' AND candidate = 1))";

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

/** The network an address belongs to for grouping: IPv4 /24, IPv6 /48. */
export function networkOf(ip: string): string {
  const p = parseIp(ip);
  if (!p) return ip;
  if (p.kind() === 'ipv4') return p.toString().split('.').slice(0, 3).join('.');
  const parts = (p as unknown as { parts: number[] }).parts;
  return parts
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':');
}

/**
 * Group IPs: those of one network with the same verdict that share one of their most frequent envelope senders
 * are one source (union-find). Returns ip → group number, numbered by the groups' first IP.
 */
export function groupSources(
  verdicts: ReadonlyMap<string, SourceVerdict>,
  senders: Iterable<{ ip: string; sender: string }>,
): Map<string, number> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let y = x;
    while (parent.get(y) !== r) {
      const next = parent.get(y)!;
      parent.set(y, r);
      y = next;
    }
    return r;
  };
  for (const ip of verdicts.keys()) parent.set(ip, ip);
  const owner = new Map<string, string>();
  for (const { ip, sender } of senders) {
    const v = verdicts.get(ip);
    if (v === undefined || ip === '' || sender === '') continue;
    const k = `${networkOf(ip)}|${v}|${sender}`;
    const o = owner.get(k);
    if (o === undefined) owner.set(k, ip);
    else {
      const a = find(ip);
      const b = find(o);
      // The smaller IP text becomes the root, so groups do not depend on the order rows come in.
      if (a < b) parent.set(b, a);
      else if (b < a) parent.set(a, b);
    }
  }
  const roots = new Map<string, number>();
  const out = new Map<string, number>();
  for (const ip of [...verdicts.keys()].sort()) {
    const r = find(ip);
    let g = roots.get(r);
    if (g === undefined) {
      g = roots.size + 1;
      roots.set(r, g);
    }
    out.set(ip, g);
  }
  return out;
}

/** Recompute every source table from `message`; runs in the caller's transaction. */
export function rebuildSourceStats(db: SqlDatabase): void {
  db.exec(`
    DELETE FROM source_stat;
    DELETE FROM source_sender;
    DELETE FROM source_recipient;
    DELETE FROM source_code;
    DELETE FROM source_sample;
    DELETE FROM source_group;
    DELETE FROM group_stat;
    DELETE FROM group_total;
    DELETE FROM group_info;
    DELETE FROM group_helo;
    DELETE FROM group_sender;
    DELETE FROM group_code;
    DELETE FROM group_sample;
    INSERT INTO source_stat (ip, day, channel, verdict, candidate, messages, first_seen, last_seen, tls_yes, tls_no,
        blocks, helo)
      SELECT coalesce(ip, ''), day, channel, verdict, candidate, count(*), min(received_at), max(received_at),
        count(CASE WHEN tls = 1 THEN 1 END), count(CASE WHEN tls = 0 THEN 1 END),
        count(CASE WHEN reject_blocks = 1 THEN 1 END), max(helo)
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
          row_number() OVER (PARTITION BY ip ORDER BY received_at, file_id, row) AS n
        FROM (SELECT coalesce(ip, '') AS ip, subject, received_at, sender, recipient, file_id, row,
                row_number() OVER (PARTITION BY coalesce(ip, ''), subject ORDER BY received_at, file_id, row) AS k
              FROM message WHERE ${SOURCE_MESSAGE} AND subject IS NOT NULL) WHERE k = 1)
      WHERE n <= ${SAMPLES_PER_SOURCE};
  `);

  const classes = new Map<string, { channel: string; verdict: string; messages: number }[]>();
  for (const r of db
    .prepare('SELECT ip, channel, verdict, sum(messages) AS messages FROM source_stat GROUP BY 1, 2, 3')
    .iterate() as IterableIterator<{ ip: string; channel: string; verdict: string; messages: number }>) {
    const list = classes.get(r.ip) ?? [];
    list.push(r);
    classes.set(r.ip, list);
  }
  const verdicts = new Map<string, SourceVerdict>();
  for (const [ip, list] of classes) verdicts.set(ip, worstVerdict(list));
  const senders = db
    .prepare(
      `SELECT ip, sender FROM (SELECT ip, sender, row_number() OVER (PARTITION BY ip ORDER BY messages DESC, sender) AS k
         FROM source_sender WHERE sender <> '') WHERE k <= ${GROUPING_SENDERS}`,
    )
    .iterate() as IterableIterator<{ ip: string; sender: string }>;
  const groups = groupSources(verdicts, senders);
  const insertGroup = db.prepare('INSERT INTO source_group (ip, grp) VALUES (?, ?)');
  for (const [ip, grp] of groups) insertGroup.run(ip, grp);

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
    INSERT INTO group_info (grp, ips, recipients, senders)
      SELECT g.grp, count(*),
        (SELECT count(DISTINCT r.recipient) FROM source_recipient r JOIN source_group g2 ON g2.ip = r.ip
         WHERE g2.grp = g.grp),
        (SELECT count(DISTINCT s.sender) FROM source_sender s JOIN source_group g3 ON g3.ip = s.ip
         WHERE g3.grp = g.grp AND s.sender <> '')
      FROM source_group g GROUP BY g.grp;
    INSERT INTO group_code (grp, code, messages)
      SELECT g.grp, c.code, sum(c.messages) FROM source_code c JOIN source_group g ON g.ip = c.ip GROUP BY 1, 2;
    INSERT INTO group_sample (grp, subject, received_at, sender, recipient, file_id, row)
      SELECT grp, subject, received_at, sender, recipient, file_id, row FROM (
        SELECT *, row_number() OVER (PARTITION BY grp ORDER BY received_at, file_id, row) AS n FROM (
          SELECT g.grp, s.subject, s.received_at, s.sender, s.recipient, s.file_id, s.row,
            row_number() OVER (PARTITION BY g.grp, s.subject ORDER BY s.received_at, s.file_id, s.row) AS k
          FROM source_sample s JOIN source_group g ON g.ip = s.ip)
        WHERE k = 1)
      WHERE n <= ${SAMPLES_PER_SOURCE};
  `);
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, 'fresh') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(STALE_KEY);
}
