/** One printer or one app is one source: how connecting IPs are grouped. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { networkOf } from '../../src/core/net-address.js';
import { openSqlite } from '../../src/store/better-sqlite3.js';
import { writeSourceGroups } from '../../src/store/source-groups.js';
import { type SourceVerdict, worstVerdict } from '../../src/store/source-stats.js';

/**
 * The grouping rule, held whole in memory: IPs of one network with the same verdict that share one of their
 * most frequent envelope senders are one source (union-find), numbered by the groups' first IP. The reference
 * writeSourceGroups() (which pages through the store to bound its memory) must equal.
 */
function groupSources(
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

  it('takes the /24 of any dotted quad, the canonical fast path and the parse alike', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (o) => {
        expect(networkOf(o.join('.'))).toBe(o.slice(0, 3).join('.'));
        // Bracketed: not canonical text, so parsed; the same network.
        expect(networkOf(`[${o.join('.')}]`)).toBe(o.slice(0, 3).join('.'));
      }),
    );
    expect(networkOf('not-an-ip')).toBe('not-an-ip');
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

describe('source groups written with bounded memory', () => {
  // writeSourceGroups() pages through the store instead of holding every IP: it must give exactly what
  // groupSources() gives over each IP's worstVerdict() and its ten most frequent senders (the window the rebuild
  // used before: ties in SQLite's BINARY order, non-BMP senders included).
  it('equals groupSources() over worstVerdict() and the SQL senders on a random store', () => {
    const db = openSqlite(':memory:');
    db.exec(`CREATE TABLE source_sender (ip TEXT NOT NULL, sender TEXT NOT NULL, messages INTEGER NOT NULL,
               PRIMARY KEY (ip, sender)) WITHOUT ROWID;
             CREATE TABLE source_stat (ip TEXT NOT NULL, day INTEGER NOT NULL, channel TEXT NOT NULL,
               verdict TEXT NOT NULL, candidate INTEGER NOT NULL, messages INTEGER NOT NULL,
               PRIMARY KEY (ip, day, channel, verdict, candidate)) WITHOUT ROWID;
             CREATE TABLE source_group (ip TEXT PRIMARY KEY, grp INTEGER NOT NULL) WITHOUT ROWID;`);
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
    // More IPs than one page (4,096), over a few networks so that many share a key.
    for (let i = 0; i < 9000; i++) {
      const ip = i === 0 ? '' : i % 7 === 0 ? `2001:db8:${rnd(3)}::${i.toString(16)}` : `198.51.${rnd(40)}.${i % 250}`;
      for (let k = rnd(i % 50 === 0 ? 30 : 3); k > 0; k--) addSender.run(ip, senders[rnd(senders.length)]!, rnd(3) + 1);
      if (rnd(5) === 0) addSender.run(ip, '', 4);
      for (let k = rnd(3) + 1; k > 0; k--)
        addStat.run(ip, rnd(3), channels[rnd(3)]!, verdicts[rnd(4)]!, rnd(2), rnd(4));
    }
    // Each IP's verdict by the TypeScript rule (worstVerdict), which the SQL in writeSourceGroups() restates.
    const classes = new Map<string, { channel: string; verdict: string; messages: number }[]>();
    for (const r of db
      .prepare('SELECT ip, channel, verdict, sum(messages) AS messages FROM source_stat GROUP BY 1, 2, 3')
      .all() as { ip: string; channel: string; verdict: string; messages: number }[]) {
      const list = classes.get(r.ip) ?? [];
      list.push(r);
      classes.set(r.ip, list);
    }
    const sqlVerdicts = new Map([...classes].map(([ip, list]) => [ip, worstVerdict(list)]));
    const sqlSenders = db
      .prepare(
        `SELECT ip, sender FROM (SELECT ip, sender,
           row_number() OVER (PARTITION BY ip ORDER BY messages DESC, sender) AS k
           FROM source_sender WHERE sender <> '') WHERE k <= 10`,
      )
      .all() as { ip: string; sender: string }[];
    const expected = groupSources(sqlVerdicts, sqlSenders);
    const written: [string, number][] = [];
    writeSourceGroups(db, (ip, grp) => written.push([ip, grp]));
    expect(written).toEqual([...expected]);
    // Grouping happened (many IPs share a group), across pages, and the verdicts all occur.
    expect(new Set(written.map(([, g]) => g)).size).toBeLessThan(written.length - 1000);
    expect(written.length).toBeGreaterThan(4096);
    expect(new Set(sqlVerdicts.values()).size).toBe(4);
    db.close();
  });
});
