/**
 * Connecting IPs grouped into sources (`source_group`) with memory bounded by the IPs that share a grouping key,
 * not by all of them: groupSources() over every IP held a campaign of 1,094,000 addresses as strings in maps
 * (a 571 MB heap, 660 MiB peak). Same partition and numbering as groupSources(), which stays the reference.
 * @module
 */
import { networkOf } from '../core/net-address.js';
import type { SqlDatabase } from './db.js';
import { MultiRowInsert } from './row-batch.js';

/** IPs read at once (keyset pages: better-sqlite3 runs no write while a query is being read). */
const PAGE = 4096;
/** Senders per IP that take part in grouping (the most frequent ones). */
const GROUPING_SENDERS = 10;

/**
 * The group of every IP of `source_stat`, from its verdict and its most frequent senders in `source_sender`,
 * handed to `write` in IP order (no query is being read then: `write` may insert); runs in the caller's
 * transaction. IP texts are canonical addresses (ASCII), so SQLite's BINARY order of them is JavaScript's.
 */
export function writeSourceGroups(db: SqlDatabase, write: (ip: string, grp: number) => void): void {
  db.exec(`
    DROP TABLE IF EXISTS temp.ip_verdict;
    DROP TABLE IF EXISTS temp.group_key;
    CREATE TEMP TABLE ip_verdict (ip TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE group_key (k TEXT NOT NULL, ip TEXT NOT NULL);
    INSERT INTO temp.ip_verdict (ip, v)
      SELECT ip, CASE max(CASE WHEN channel <> 'unknown' AND messages > 0 THEN CASE verdict
            WHEN 'malicious' THEN 3 WHEN 'suspicious' THEN 2 WHEN 'legitimate' THEN 1 ELSE 0 END ELSE 0 END)
          WHEN 3 THEN 'malicious' WHEN 2 THEN 'suspicious' WHEN 1 THEN 'legitimate' ELSE 'unknown' END
      FROM (SELECT ip, channel, verdict, sum(messages) AS messages FROM source_stat GROUP BY 1, 2, 3) GROUP BY ip;
  `);
  const ipPage = db.prepare('SELECT ip FROM temp.ip_verdict WHERE ip > ? ORDER BY ip LIMIT ?');
  const firstPage = db.prepare('SELECT ip FROM temp.ip_verdict ORDER BY ip LIMIT ?');
  const pages = function* (): Generator<string[]> {
    let page = (firstPage.all(PAGE) as { ip: string }[]).map((r) => r.ip);
    while (page.length > 0) {
      yield page;
      page = (ipPage.all(page[page.length - 1]!, PAGE) as { ip: string }[]).map((r) => r.ip);
    }
  };

  // The network|verdict|sender keys of each IP's most frequent senders, page by page into a temporary table.
  const senders = db.prepare(
    `SELECT s.ip, s.sender, s.messages, v.v FROM source_sender s JOIN temp.ip_verdict v ON v.ip = s.ip
     WHERE s.ip >= ? AND s.ip <= ? AND s.ip <> '' AND s.sender <> '' ORDER BY s.ip, s.sender`,
  );
  const insertKeys = new MultiRowInsert(db, 'INSERT INTO temp.group_key (k, ip)', 2, '');
  for (const page of pages()) {
    const keys: string[] = [];
    let ip = '';
    let prefix = '';
    let top: { sender: string; messages: number }[] = [];
    const close = () => {
      for (const t of top) keys.push(prefix + t.sender, ip);
      top = [];
    };
    for (const r of senders.iterate(page[0]!, page[page.length - 1]!) as IterableIterator<{
      ip: string;
      sender: string;
      messages: number;
      v: string;
    }>) {
      if (r.ip !== ip) {
        close();
        ip = r.ip;
        prefix = `${networkOf(ip)}|${r.v}|`;
      }
      // Most frequent first; rows come in BINARY sender order, so on equal counts the one kept first stays first.
      if (top.length < GROUPING_SENDERS || r.messages > top[top.length - 1]!.messages) {
        let at = top.length;
        while (at > 0 && top[at - 1]!.messages < r.messages) at--;
        top.splice(at, 0, { sender: r.sender, messages: r.messages });
        if (top.length > GROUPING_SENDERS) top.pop();
      }
    }
    close();
    for (let i = 0; i < keys.length; i += 2) insertKeys.add(keys[i]!, keys[i + 1]!);
  }
  insertKeys.finish();

  // Union-find over the IPs that share a key with another IP (the only ones that can be grouped).
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    for (let p = parent.get(r); p !== undefined && p !== r; p = parent.get(r)) r = p;
    let y = x;
    while (y !== r) {
      const next = parent.get(y)!;
      parent.set(y, r);
      y = next;
    }
    return r;
  };
  let key: string | null = null;
  let owner = '';
  for (const r of db
    .prepare(
      `SELECT k, ip FROM temp.group_key WHERE k IN (SELECT k FROM temp.group_key GROUP BY k HAVING count(*) > 1)
       ORDER BY k`,
    )
    .iterate() as IterableIterator<{ k: string; ip: string }>) {
    if (!parent.has(r.ip)) parent.set(r.ip, r.ip);
    if (r.k !== key) {
      key = r.k;
      owner = r.ip;
      continue;
    }
    const a = find(r.ip);
    const b = find(owner);
    // The smaller IP text becomes the root, as in groupSources().
    if (a < b) parent.set(b, a);
    else if (b < a) parent.set(a, b);
  }

  // Groups numbered by their first IP in key order; only grouped IPs need their root's number remembered.
  const numbers = new Map<string, number>();
  let groups = 0;
  for (const page of pages()) {
    for (const ip of page) {
      if (!parent.has(ip)) {
        write(ip, ++groups);
        continue;
      }
      const r = find(ip);
      let g = numbers.get(r);
      if (g === undefined) {
        g = ++groups;
        numbers.set(r, g);
      }
      write(ip, g);
    }
  }
  db.exec('DROP TABLE temp.ip_verdict; DROP TABLE temp.group_key;');
}
