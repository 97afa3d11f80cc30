/** One printer or one app is one source: how connecting IPs are grouped. */
import { describe, expect, it } from 'vitest';
import { networkOf } from '../../src/core/net-address.js';
import { openSqlite } from '../../src/store/better-sqlite3.js';
import {
  groupingSenders,
  groupSources,
  ipVerdicts,
  type SourceVerdict,
  worstVerdict,
} from '../../src/store/source-stats.js';

const v = (entries: [string, SourceVerdict][]) => new Map(entries);

describe('source grouping', () => {
  it('keeps two devices of one office apart when they send as different senders', () => {
    const g = groupSources(
      v([
        ['198.51.100.20', 'legitimate'],
        ['198.51.100.21', 'legitimate'],
      ]),
      [
        { ip: '198.51.100.20', sender: 'scanner@contoso.com' },
        { ip: '198.51.100.21', sender: 'copier@contoso.com' },
      ],
    );
    expect(g.get('198.51.100.20')).not.toBe(g.get('198.51.100.21'));
  });

  it('joins the addresses of one app (same network, a shared sender, same verdict)', () => {
    const g = groupSources(
      v([
        ['203.0.113.45', 'legitimate'],
        ['203.0.113.46', 'legitimate'],
        ['203.0.113.47', 'legitimate'],
        ['203.0.114.45', 'legitimate'],
      ]),
      [
        { ip: '203.0.113.45', sender: 'erp@contoso.com' },
        { ip: '203.0.113.46', sender: 'erp@contoso.com' },
        { ip: '203.0.113.46', sender: 'erp-alerts@contoso.com' },
        { ip: '203.0.113.47', sender: 'erp-alerts@contoso.com' },
        { ip: '203.0.114.45', sender: 'erp@contoso.com' },
      ],
    );
    expect(new Set([g.get('203.0.113.45'), g.get('203.0.113.46'), g.get('203.0.113.47')]).size).toBe(1);
    expect(g.get('203.0.114.45')).not.toBe(g.get('203.0.113.45'));
  });

  it('never merges an attacker into a legitimate source, even spoofing its sender', () => {
    const g = groupSources(
      v([
        ['198.51.100.20', 'legitimate'],
        ['198.51.100.99', 'malicious'],
      ]),
      [
        { ip: '198.51.100.20', sender: 'scanner@contoso.com' },
        { ip: '198.51.100.99', sender: 'scanner@contoso.com' },
      ],
    );
    expect(g.get('198.51.100.20')).not.toBe(g.get('198.51.100.99'));
  });

  it('groups IPv6 by /48 and gives the same numbers whatever the input order', () => {
    expect(networkOf('2a01:111:f403:c112::5')).toBe('2a01:111:f403');
    expect(networkOf('198.51.100.20')).toBe('198.51.100');
    const verdicts = v([
      ['2a01:111:f403:c112::5', 'unknown'],
      ['2a01:111:f403:c001::9', 'unknown'],
      ['45.14.71.10', 'malicious'],
    ]);
    const pairs = [
      { ip: '2a01:111:f403:c112::5', sender: 'anna@contoso.com' },
      { ip: '2a01:111:f403:c001::9', sender: 'anna@contoso.com' },
      { ip: '45.14.71.10', sender: 'liam@contoso.com' },
    ];
    const a = groupSources(verdicts, pairs);
    const b = groupSources(new Map([...verdicts].reverse()), [...pairs].reverse());
    expect(a).toEqual(b);
    expect(a.get('2a01:111:f403:c112::5')).toBe(a.get('2a01:111:f403:c001::9'));
  });

  it('takes the worst determined verdict; undetermined rows do not count', () => {
    expect(
      worstVerdict([
        { channel: 'direct-send', verdict: 'legitimate', messages: 9 },
        { channel: 'direct-send', verdict: 'suspicious', messages: 1 },
      ]),
    ).toBe('suspicious');
    expect(worstVerdict([{ channel: 'unknown', verdict: 'malicious', messages: 3 }])).toBe('unknown');
  });
});

describe('the grouping inputs read in key order', () => {
  // The SQL they replaced (a window sort and a double GROUP BY): the key-order scans must give the same answers,
  // ties between senders (SQLite's BINARY order, not JavaScript's for text past U+FFFF) and zero counts included.
  it('equal the window and GROUP BY queries on a random store', () => {
    const db = openSqlite(':memory:');
    db.exec(`CREATE TABLE source_sender (ip TEXT NOT NULL, sender TEXT NOT NULL, messages INTEGER NOT NULL,
               PRIMARY KEY (ip, sender)) WITHOUT ROWID;
             CREATE TABLE source_stat (ip TEXT NOT NULL, day INTEGER NOT NULL, channel TEXT NOT NULL,
               verdict TEXT NOT NULL, candidate INTEGER NOT NULL, messages INTEGER NOT NULL,
               PRIMARY KEY (ip, day, channel, verdict, candidate)) WITHOUT ROWID;`);
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    const senders = ['a@x', 'b@x', 'ä@x', '\u{1F600}@x', '\uFF21@x', 'c@x', 'd@x', 'e@x', 'f@x', 'g@x', 'h@x', 'i@x'];
    const channels = ['direct-send', 'internal-spoof', 'unknown'];
    const verdicts = ['malicious', 'suspicious', 'legitimate', 'unknown'];
    const addSender = db.prepare('INSERT OR IGNORE INTO source_sender VALUES (?, ?, ?)');
    const addStat = db.prepare('INSERT OR IGNORE INTO source_stat VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 300; i++) {
      const ip = i === 0 ? '' : `198.51.${rnd(3)}.${i}`;
      for (let k = rnd(30); k > 0; k--) addSender.run(ip, senders[rnd(senders.length)]!, rnd(3) + 1);
      if (rnd(5) === 0) addSender.run(ip, '', 4);
      for (let k = rnd(6) + 1; k > 0; k--) {
        addStat.run(ip, rnd(3), channels[rnd(3)]!, verdicts[rnd(4)]!, rnd(2), rnd(4));
      }
    }
    const sqlSenders = db
      .prepare(
        `SELECT ip, sender FROM (SELECT ip, sender, row_number() OVER (PARTITION BY ip ORDER BY messages DESC, sender) AS k
           FROM source_sender WHERE sender <> '') WHERE k <= 10 ORDER BY ip, sender`,
      )
      .all();
    const key = (x: { ip: string; sender: string }) => `${x.ip}\u0001${x.sender}`;
    expect([...groupingSenders(db)].map(key).sort()).toEqual(sqlSenders.map((x) => key(x as never)).sort());
    // Some IPs have more senders than take part in grouping, with ties at the cut.
    const over = db.prepare(
      "SELECT count(*) AS n FROM (SELECT ip FROM source_sender WHERE sender <> '' GROUP BY ip HAVING count(*) > 10)",
    );
    expect((over.get() as { n: number }).n).toBeGreaterThan(5);
    const sqlVerdicts = db
      .prepare(
        `SELECT ip, max(CASE WHEN channel <> 'unknown' AND messages > 0 THEN CASE verdict
             WHEN 'malicious' THEN 3 WHEN 'suspicious' THEN 2 WHEN 'legitimate' THEN 1 ELSE 0 END ELSE 0 END) AS v
           FROM (SELECT ip, channel, verdict, sum(messages) AS messages FROM source_stat GROUP BY 1, 2, 3) GROUP BY ip`,
      )
      .all() as { ip: string; v: number }[];
    const rank = ['unknown', 'legitimate', 'suspicious', 'malicious'];
    expect([...ipVerdicts(db)]).toEqual(sqlVerdicts.map((r) => [r.ip, rank[r.v]]));
    expect(new Set(sqlVerdicts.map((r) => r.v)).size).toBe(4);
    db.close();
  });
});
