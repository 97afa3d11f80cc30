/**
 * Ingest into a real SQLite store: idempotency, overlapping exports, joins across files in any order, the
 * read = stored + aggregated + rejected invariant, resume after an interruption and after a failed batch.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport, type TenantReport } from '../../src/report/tenant-report.js';
import {
  DsguardStore,
  FACTS_OF_DELIVERY_SQL,
  FACTS_OF_MESSAGE_SQL,
  PENDING_FOR_DELIVERY_SQL,
  PENDING_FOR_MESSAGE_SQL,
} from '../../src/store/dsguard-store.js';
import { fixtureFiles, fixtureProfile, openStore, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

async function reportOf(db: string): Promise<TenantReport> {
  const store = openStore(db);
  try {
    return buildTenantReport(store, { profile: await fixtureProfile() });
  } finally {
    store.close();
  }
}

/** The report without the file list (whose order follows ingest order). */
/** Without the file ledger (and the rejected rows per file read from it). */
function content(r: TenantReport) {
  const { files: _files, readiness, ...rest } = r;
  const { rejectedRows: _rejected, ...ready } = readiness;
  return { ...rest, readiness: ready };
}

/**
 * Also without the sample subjects, example rows and the rows cited for signals and inferred Direct Send: the first
 * rows seen are kept, so they follow file order.
 */
function orderFree(r: TenantReport) {
  const c = content(r);
  return {
    ...c,
    sources: c.sources.map(({ examples: _e, subjects: _s, signals, inferredFrom, ...s }) => ({
      ...s,
      signals: signals.map(({ rows: _r, ...g }) => g),
      inferredFrom: inferredFrom.map(({ file: _f, row: _w, ...f }) => f),
    })),
  };
}

function counts(db: string) {
  const store = openStore(db);
  try {
    const q = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
    return {
      deliveries: q('SELECT count(*) AS n FROM delivery'),
      counted: q('SELECT coalesce(sum(messages), 0) AS n FROM bucket'),
      stored: q('SELECT count(*) AS n FROM message'),
      storedFlag: q('SELECT count(*) AS n FROM delivery WHERE stored = 1'),
      sourceMessages: q('SELECT coalesce(sum(messages), 0) AS n FROM source_stat'),
      pending: q('SELECT count(*) AS n FROM pending'),
    };
  } finally {
    store.close();
  }
}

describe('ingest', () => {
  it('keeps read = stored + aggregated + rejected for every file, and counts each delivery once', async () => {
    const db = join(tmp.dir, 'a.db');
    const errors: string[] = [];
    const s = await ingest(fixtureFiles(), {
      db,
      profile: await fixtureProfile(),
      onRowError: (e) => errors.push(`${e.file}:${e.row}`),
    });
    for (const f of s.files) {
      expect(f.status, f.file).toBe('ingested');
      expect(f.read, f.file).toBe(f.stored + f.aggregated + f.rejected);
    }
    expect(s.read).toBe(s.stored + s.aggregated + s.rejected);
    expect(errors.sort()).toEqual([
      'test/fixtures/exports/emailevents-portal.csv:4',
      'test/fixtures/exports/messagetrace-detail-v2.csv:7',
      'test/fixtures/exports/messagetrace-v2.csv:10',
      'test/fixtures/exports/streaming-emailevents.ndjson:3',
    ]);
    const c = counts(db);
    expect(c.counted).toBe(c.deliveries);
    expect(c.storedFlag).toBe(c.stored);
    expect(c.sourceMessages).toBe(c.stored);
    expect(c.pending).toBe(0);
    expect(c.deliveries).toBe(21);
  });

  it('is idempotent: the same files again (or a copy under another name) change nothing', async () => {
    const db = join(tmp.dir, 'a.db');
    const profile = await fixtureProfile();
    await ingest(fixtureFiles(), { db, profile });
    const before = await reportOf(db);
    const copy = join(tmp.dir, 'renamed-export.csv');
    copyFileSync('test/fixtures/exports/messagetrace-v2.csv', copy);
    const again = await ingest([...fixtureFiles(), copy], { db, profile });
    expect(again.files.every((f) => f.status === 'skipped')).toBe(true);
    expect(again.read).toBe(0);
    expect(content(await reportOf(db))).toEqual(content(before));
    expect(counts(db).counted).toBe(21);
  });

  it('counts overlapping exports once (same rows, other file, other date form)', async () => {
    const db = join(tmp.dir, 'a.db');
    const profile = await fixtureProfile();
    const s = await ingest(
      ['test/fixtures/exports/messagetrace-v2.csv', 'test/fixtures/exports/messagetrace-v2-typeinfo.csv'],
      { db, profile },
    );
    // 9 good rows + 1 duplicate in the first file; the second adds 1 new delivery and repeats 2.
    expect(s.files[1]!.duplicates).toBe(2);
    expect(counts(db).deliveries).toBe(10);
  });

  it('reads the rows a message was made from again without facts or re-assessment, and joins what differs', async () => {
    const db = join(tmp.dir, 'a.db');
    const profile = await fixtureProfile();
    await ingest(fixtureFiles(), { db, profile });
    const before = await reportOf(db);
    const facts = () => {
      const store = openStore(db);
      try {
        return (store.db.prepare('SELECT count(*) AS n FROM fact').get() as { n: number }).n;
      } finally {
        store.close();
      }
    };
    const factsBefore = facts();
    // Overlapping exports: the same rows in files with other contents (a blank line more at the end).
    const copies = ['messagetrace-v2.csv', 'messagetrace-detail-v2.csv', 'hunting-emailevents.json'].map((f) => {
      const copy = join(tmp.dir, `again-${f}`);
      writeFileSync(copy, `${readFileSync(join('test/fixtures/exports', f), 'utf8')}\r\n`);
      return copy;
    });
    const again = await ingest(copies, { db, profile });
    expect(again.files).toHaveLength(3);
    expect(again.files.map((f) => [f.status, f.read > 0, f.duplicates + f.rejected])).toEqual(
      again.files.map((f) => ['ingested', true, f.read]),
    );
    expect(again.reassessed).toBe(0);
    expect(facts()).toBe(factsBefore);
    expect(content(await reportOf(db))).toEqual(content(before));
    // One stored row with another size: new evidence for that message, joined and re-assessed.
    const trace = readFileSync('test/fixtures/exports/messagetrace-v2.csv', 'utf8').split('\n');
    const i = trace.findIndex((l) => l.includes('<MFP2F.20260720.081502@mfp-2f.contoso.com>'));
    trace[i] = trace[i]!.replace(/"\d+"(\r?)$/, '"4242"$1');
    const changed = join(tmp.dir, 'changed.csv');
    writeFileSync(changed, trace.join('\n'));
    const joined = await ingest([changed], { db, profile });
    expect(joined.reassessed).toBe(1);
    expect(facts()).toBe(factsBefore + 1);
  });

  it('finds the rows of a delivery by index seeks, never by scanning its days or its message', () => {
    const store = openStore(join(tmp.dir, 'a.db'));
    try {
      const plan = (sql: string) =>
        (
          store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(sql.split('?').length - 1).fill(0)) as {
            detail: string;
          }[]
        )
          .map((r) => r.detail)
          .join('; ');
      for (const sql of [FACTS_OF_DELIVERY_SQL, FACTS_OF_MESSAGE_SQL]) {
        expect(plan(sql)).toMatch(/USING (COVERING )?INDEX \w+ \(day=\? AND h=\? AND msg_h=\?\)/);
      }
      expect(plan(PENDING_FOR_DELIVERY_SQL)).toMatch(
        /USING (COVERING )?INDEX \w+ \(day=\? AND msg_h=\? AND h=\?\)|USING PRIMARY KEY \(day=\? AND h=\?\)/,
      );
      expect(plan(PENDING_FOR_MESSAGE_SQL)).toMatch(/USING (COVERING )?INDEX \w+ \(day=\? AND msg_h=\?\)/);
    } finally {
      store.close();
    }
  });

  it('joins the detail of a message to thousands of recipients in linear time', async () => {
    // An all-staff notice from a line-of-business app: one message, one trace row and two detail rows per
    // recipient. Each delivery joins its own two rows; reading all of the message's rows for each recipient made
    // this quadratic (4,000 recipients: 63 s).
    const db = join(tmp.dir, 'a.db');
    const profile = await fixtureProfile();
    const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const tid = 'd4000001-0000-4000-8000-08dee9000001';
    const mid = '<notice.20260720@app.contoso.com>';
    const lead = ['outlook.office365.com', '5e1c7a2b-1f4a-4c9e-9d3b-2a8f6c0e1b7d', 'False'];
    const trace = [
      '"PSComputerName","RunspaceId","PSShowComputerName","MessageTraceId","MessageId","Received","SenderAddress","RecipientAddress","FromIP","ToIP","Subject","Status","Size"',
    ];
    const detail = [
      '"PSComputerName","RunspaceId","PSShowComputerName","Date","Event","Action","Detail","Data","MessageId","MessageTraceId","RecipientAddress","SenderAddress"',
    ];
    const recipients = 3000;
    for (let i = 0; i < recipients; i++) {
      const to = `staff${i}@contoso.com`;
      trace.push(
        [
          ...lead,
          tid,
          mid,
          '7/20/2026 8:15:02 AM',
          'notice@contoso.com',
          to,
          '203.0.113.77',
          '',
          'Notice',
          'Delivered',
          '48211',
        ]
          .map(q)
          .join(','),
      );
      const receive =
        '<root><MEP Name="ReturnPath" String="notice@contoso.com" /><MEP Name="ClientIP" String="203.0.113.77" /></root>';
      detail.push(
        [...lead, '7/20/2026 8:15:02 AM', 'Receive', '', 'Message received by: AM0PR10MB2222', receive, mid, tid, to]
          .concat('notice@contoso.com')
          .map(q)
          .join(','),
        [...lead, '7/20/2026 8:15:04 AM', 'Deliver', '', 'Delivered to the folder: Inbox', '<root />', mid, tid, to]
          .concat('notice@contoso.com')
          .map(q)
          .join(','),
      );
    }
    writeFileSync(join(tmp.dir, 'trace.csv'), `${trace.join('\r\n')}\r\n`);
    writeFileSync(join(tmp.dir, 'detail.csv'), `${detail.join('\r\n')}\r\n`);
    await ingest([join(tmp.dir, 'trace.csv')], { db, profile });
    const started = performance.now();
    const s = await ingest([join(tmp.dir, 'detail.csv')], { db, profile });
    const ms = performance.now() - started;
    expect(s.files[0]).toMatchObject({ status: 'ingested', read: 2 * recipients, rejected: 0 });
    expect(s.reassessed).toBe(recipients);
    // Each delivery now knows its client IP from its own Receive row: Direct Send, one source for all of them.
    const r = await reportOf(db);
    expect(r.totals.directSend).toBe(recipients);
    // About 1.5 s on the 2-core machine (the quadratic join: 35 s).
    expect(ms).toBeLessThan(15_000);
  });

  it('reads the URL rows of a message once for all its recipients re-assessed together', async () => {
    const db = join(tmp.dir, 'a.db');
    const profile = await fixtureProfile();
    const events = JSON.parse(readFileSync('test/fixtures/exports/hunting-emailevents.json', 'utf8')) as {
      results: Record<string, unknown>[];
    };
    const urls = JSON.parse(readFileSync('test/fixtures/exports/hunting-urls.json', 'utf8')) as {
      results: Record<string, unknown>[];
    };
    const nmid = 'e5000001-0000-4000-8000-08dee9000001';
    const recipients = 1500;
    const links = 40;
    const base = events.results[0]!;
    events.results = Array.from({ length: recipients }, (_, i) => ({
      ...base,
      NetworkMessageId: nmid,
      InternetMessageId: '<notice.1@app.contoso.com>',
      RecipientEmailAddress: `staff${i}@contoso.com`,
      ReportId: `${nmid}-${i}`,
    }));
    urls.results = Array.from({ length: links }, (_, i) => ({
      ...urls.results[0]!,
      NetworkMessageId: nmid,
      Url: `https://intranet.contoso.com/page/${i}`,
      ReportId: `${nmid}-u${i}`,
    }));
    writeFileSync(join(tmp.dir, 'events.json'), JSON.stringify(events));
    writeFileSync(join(tmp.dir, 'urls.json'), JSON.stringify(urls));
    await ingest([join(tmp.dir, 'events.json')], { db, profile });
    const reads = vi.spyOn(DsguardStore.prototype, 'factsOfMessage');
    try {
      const s = await ingest([join(tmp.dir, 'urls.json')], { db, profile });
      expect(s.reassessed).toBe(recipients);
      // Re-assessed 2,000 to a batch: one read of the message's URL rows, not one per recipient.
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
    }
  });

  it('reads every record of an Event Hubs batch line of a streaming export, numbered through the file', async () => {
    const profile = await fixtureProfile();
    const [a, b, broken] = readFileSync('test/fixtures/exports/streaming-emailevents.ndjson', 'utf8').split('\n');
    const recordB = JSON.parse(b!) as { properties: Record<string, unknown> };
    // The same event for two more recipients: three deliveries in one batch line.
    const more = ['x1@contoso.com', 'x2@contoso.com'].map((to) => ({
      ...recordB,
      properties: { ...recordB.properties, RecipientEmailAddress: to },
    }));
    const file = join(tmp.dir, 'eventhub.ndjson');
    writeFileSync(file, `${a}\n${JSON.stringify({ records: [recordB, ...more] })}\n${broken}\n`);
    const errors: string[] = [];
    const s = await ingest([file], {
      db: join(tmp.dir, 'a.db'),
      profile,
      onRowError: (e) => errors.push(`${e.row}: ${e.error}`),
    });
    expect(s.files[0]).toMatchObject({ read: 5, rejected: 1 });
    expect(s.files[0]!.stored + s.files[0]!.aggregated).toBe(4);
    // Row 5 is the record after the batch; the message names its line.
    expect(errors).toEqual([expect.stringMatching(/^5: invalid JSON \(line 3\): /)]);
  });

  it('streams a JSON document too large to parse whole, to the same store as a whole parse', async () => {
    const profile = await fixtureProfile();
    const json = fixtureFiles().filter((f) => f.endsWith('.json'));
    expect(json.length).toBeGreaterThanOrEqual(5);
    const whole = join(tmp.dir, 'whole.db');
    const streamed = join(tmp.dir, 'streamed.db');
    const a = await ingest(json, { db: whole, profile });
    const b = await ingest(json, { db: streamed, profile, limits: { maxJsonBytes: 64 } });
    expect(b.files.map((f) => f.format)).toEqual(a.files.map((f) => f.format));
    expect(b.files.map((f) => [f.status, f.read, f.stored, f.aggregated, f.rejected])).toEqual(
      a.files.map((f) => [f.status, f.read, f.stored, f.aggregated, f.rejected]),
    );
    expect(counts(streamed)).toEqual(counts(whole));
    expect(content(await reportOf(streamed))).toEqual(content(await reportOf(whole)));
    // The first record array in document order, streamed or whole; white space before a top-level array.
    const hunting = JSON.parse(readFileSync('test/fixtures/exports/hunting-emailevents.json', 'utf8')) as {
      results: Record<string, unknown>[];
    };
    const two = join(tmp.dir, 'two-arrays.json');
    writeFileSync(two, JSON.stringify({ value: [hunting.results[0]], results: hunting.results }));
    const spaced = join(tmp.dir, 'spaced.json');
    writeFileSync(spaced, `${' '.repeat(70_000)}${JSON.stringify(hunting.results)}`);
    for (const file of [two, spaced]) {
      const w = await ingest([file], { db: join(tmp.dir, `w-${basename(file)}.db`), profile });
      const st = await ingest([file], {
        db: join(tmp.dir, `s-${basename(file)}.db`),
        profile,
        limits: { maxJsonBytes: 64 },
      });
      expect(w.files[0], file).toMatchObject({ status: 'ingested', read: file === two ? 1 : hunting.results.length });
      expect(
        st.files.map((f) => [f.status, f.read]),
        file,
      ).toEqual(w.files.map((f) => [f.status, f.read]));
    }
    expect((await ingest([two], { db: join(tmp.dir, 'two.db'), profile })).files[0]!.read).toBe(1);
    // A document broken half-way: the file stops with the parser's word, as a stray quote stops a CSV file.
    const text = readFileSync('test/fixtures/exports/hunting-emailevents.json', 'utf8');
    const broken = join(tmp.dir, 'broken.json');
    writeFileSync(broken, `${text.slice(0, Math.floor(text.length * 0.6))}}}}`);
    const c = await ingest([broken], { db: join(tmp.dir, 'c.db'), profile, limits: { maxJsonBytes: 64 } });
    expect(c.files[0]).toMatchObject({ status: 'error', error: expect.stringMatching(/^invalid JSON: /) });
  });

  it('stays exact when another connection wrote keys of a day this one had seen empty', async () => {
    const profile = await fixtureProfile();
    const files = ['test/fixtures/exports/messagetrace-v2.csv', 'test/fixtures/exports/messagetrace-v2-typeinfo.csv'];
    const ref = join(tmp.dir, 'ref.db');
    await ingest(files, { db: ref, profile });
    const db = join(tmp.dir, 'a.db');
    // Opened while the store is empty: every day looks free of keys to this connection, so it takes the keys
    // of the second file for certainly new and writes them in one go. Two of them are already there.
    const late = openStore(db);
    try {
      await ingest([files[0]!], { db, profile });
      const s = await ingest([files[1]!], { db: late, profile });
      expect(s.files[0]!.duplicates).toBe(2);
      expect(s.files[0]!.read).toBe(s.files[0]!.stored + s.files[0]!.aggregated + s.files[0]!.rejected);
    } finally {
      late.close();
    }
    expect(counts(db)).toEqual(counts(ref));
    expect(content(await reportOf(db))).toEqual(content(await reportOf(ref)));
  });

  it('gives the same report whatever order the files come in (joins work both ways)', async () => {
    const profile = await fixtureProfile();
    const a = join(tmp.dir, 'a.db');
    const b = join(tmp.dir, 'b.db');
    await ingest(fixtureFiles(), { db: a, profile });
    await ingest([...fixtureFiles()].reverse(), { db: b, profile });
    expect(orderFree(await reportOf(b))).toEqual(orderFree(await reportOf(a)));
  });

  it('upgrades a summary-only candidate when its detail row arrives later', async () => {
    const db = join(tmp.dir, 'a.db');
    const profile = await fixtureProfile();
    await ingest(['test/fixtures/exports/messagetrace-v2.csv'], { db, profile });
    let r = await reportOf(db);
    const printer = () => r.sources.find((s) => s.ips.includes('198.51.100.20'))!;
    // Summary rows only: Direct Send because the profile declares the printer (inferred, citing the entry).
    expect(printer().channel).toBe('direct-send');
    expect(printer().counts).toMatchObject({ directSend: 2, inferred: 2, undetermined: 0 });
    expect(printer().inferredFrom[0]).toMatchObject({ declared: 'MFP 2nd floor', file: null });
    expect(r.totals).toMatchObject({ directSend: 2, inferredDirectSend: 2 });
    await ingest(['test/fixtures/exports/messagetrace-detail-v2.csv'], { db, profile });
    r = await reportOf(db);
    // The detail row proves one of them (the stored message keeps its trace row's provenance); the other is still
    // inferred, now from that message.
    expect(printer().channel).toBe('direct-send');
    expect(printer().verdict).toBe('legitimate');
    expect(printer().counts).toMatchObject({ directSend: 2, inferred: 1, undetermined: 0 });
    expect(printer().inferredFrom[0]).toMatchObject({
      declared: null,
      file: 'test/fixtures/exports/messagetrace-v2.csv',
    });
    expect(r.totals.byChannel.connector).toBe(1);
  });

  it('resumes after an interruption, ending where a clean run ends', async () => {
    const profile = await fixtureProfile();
    const clean = join(tmp.dir, 'clean.db');
    await ingest(fixtureFiles(), { db: clean, profile });
    const db = join(tmp.dir, 'a.db');
    const controller = new AbortController();
    let batches = 0;
    const first = await ingest(fixtureFiles(), {
      db,
      profile,
      limits: { batchRows: 2 },
      signal: controller.signal,
      onProgress: () => {
        if (++batches === 3) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    const partial = first.files.at(-1)!;
    expect(partial.status).toBe('interrupted');
    const second = await ingest(fixtureFiles(), { db, profile, limits: { batchRows: 2 } });
    const resumed = second.files.find((f) => f.file === partial.file)!;
    expect(resumed.status).toBe('resumed');
    expect(resumed.resumedAfter).toBeGreaterThan(0);
    expect(content(await reportOf(db))).toEqual(content(await reportOf(clean)));
  });

  it('rolls a failing batch back completely; the re-run completes it', async () => {
    const profile = await fixtureProfile();
    const db = join(tmp.dir, 'a.db');
    const store = openStore(db);
    const original = store.insertFact.bind(store);
    let calls = 0;
    store.insertFact = (f, h) => {
      if (++calls === 4) throw new Error('disk on fire');
      return original(f, h);
    };
    await expect(ingest(fixtureFiles(), { db: store, profile, limits: { batchRows: 3 } })).rejects.toThrow(
      'disk on fire',
    );
    store.close();
    const mid = counts(db);
    expect(mid.counted).toBe(mid.deliveries);
    expect(mid.storedFlag).toBe(mid.stored);
    await ingest(fixtureFiles(), { db, profile, limits: { batchRows: 3 } });
    const clean = join(tmp.dir, 'clean.db');
    await ingest(fixtureFiles(), { db: clean, profile });
    expect(content(await reportOf(db))).toEqual(content(await reportOf(clean)));
  });

  it('reports an unreadable file and goes on with the next', async () => {
    const profile = await fixtureProfile();
    const junk = join(tmp.dir, 'notes.csv');
    writeFileSync(junk, 'name,colour\nanna,blue\n');
    const empty = join(tmp.dir, 'empty.csv');
    writeFileSync(empty, '');
    const s = await ingest([junk, empty, join(tmp.dir, 'missing.csv'), 'test/fixtures/exports/messagetrace-v1.csv'], {
      db: join(tmp.dir, 'a.db'),
      profile,
    });
    expect(s.files.map((f) => f.status)).toEqual(['error', 'error', 'error', 'ingested']);
    expect(s.files[0]!.error).toMatch(/unrecognised export: header has name, colour/);
    expect(s.files[1]!.error).toBe('empty file');
    expect(s.files[2]!.error).toMatch(/ENOENT/);
  });

  it('rejects a cut last record or a quote never closed, and stops a file at an oversized record', async () => {
    const header = '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject"\r\n';
    const good =
      '"a1000001-0000-4000-8000-08dee9000001","7/20/2026 8:15:02 AM","a@contoso.com","b@contoso.com","198.51.100.20","ok"\r\n';
    const open = join(tmp.dir, 'open.csv');
    writeFileSync(
      open,
      `${header}${good}"a1000001-0000-4000-8000-08dee9000002","7/20/2026 8:15:02 AM","a@contoso.com","b@contoso.com","1.2.3.4","never closed\r\nmore`,
    );
    const big = join(tmp.dir, 'big.csv');
    writeFileSync(
      big,
      `${header}${good}"a1000001-0000-4000-8000-08dee9000003","7/20/2026 8:15:02 AM","a@contoso.com","b@contoso.com","1.2.3.4","${'x'.repeat(3000)}"\r\n${good}`,
    );
    const noNewline = join(tmp.dir, 'last-line.csv');
    writeFileSync(noNewline, `${header}${good.trimEnd()}`);
    // An export cut inside its last record's first field: rejected with its line, never dropped.
    const cutFirst = join(tmp.dir, 'cut-first.csv');
    writeFileSync(cutFirst, `${header}${good}${good}"a1000001-0000-4000-80\r\n`);
    const errors: string[] = [];
    const s = await ingest([open, big, noNewline, cutFirst], {
      db: join(tmp.dir, 'a.db'),
      profile: await fixtureProfile(),
      limits: { maxRecordBytes: 1000 },
      onRowError: (e) => errors.push(`${basename(e.file)}: row ${e.row}: ${e.error}`),
    });
    expect(s.files.map((f) => f.status)).toEqual(['ingested', 'error', 'ingested', 'ingested']);
    // A record cut in its last line is rejected with its number, whatever it was cut in; the records before it
    // are read. A quote never closed costs its own line: the line after it is read (here no record: rejected too).
    // An oversized record stops the file.
    expect(s.files.map((f) => [f.read, f.rejected])).toEqual([
      [3, 2],
      [0, 0],
      [1, 0],
      [3, 1],
    ]);
    const notClosed = 'a quoted field is not closed at the end of the file (a cut export?)';
    expect(errors).toEqual([
      `open.csv: row 2: malformed CSV on line 3: ${notClosed}`,
      'open.csv: row 3: wrong column count on line 4: 1 field(s) where the header has 6',
      `cut-first.csv: row 3: malformed CSV on line 4: ${notClosed}`,
    ]);
    expect(s.files[1]!.error).toBe('row 2: line 3: record longer than 1000 bytes (unterminated quote?)');
    expect(s.read).toBe(s.stored + s.aggregated + s.rejected);
  });

  it('warns when a store built with another profile is reused', async () => {
    const db = join(tmp.dir, 'a.db');
    await ingest(['test/fixtures/exports/messagetrace-v1.csv'], { db, profile: null });
    const s = await ingest(['test/fixtures/exports/messagetrace-v2.csv'], { db, profile: await fixtureProfile() });
    expect(s.warnings).toHaveLength(1);
  });

  it('opens an existing store read-only for reports and refuses a non-store', () => {
    const path = join(tmp.dir, 'x.db');
    writeFileSync(path, 'not sqlite at all, just text that is long enough to not be a header'.repeat(20));
    const r = DsguardStore.open(path, { readonly: true });
    expect(r.status).toBe('error');
  });
});

describe('folders', () => {
  it('ingests every file of a folder, recursively, skipping hidden entries and the saved hunting queries', async () => {
    const { mkdirSync } = await import('node:fs');
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, 'exports', 'detail'), { recursive: true });
      mkdirSync(join(t.dir, 'exports', '.cache'), { recursive: true });
      copyFileSync('test/fixtures/exports/messagetrace-v1.csv', join(t.dir, 'exports', 'trace.csv'));
      copyFileSync('test/fixtures/exports/messagetrace-detail-v2.csv', join(t.dir, 'exports', 'detail', 'd.csv'));
      writeFileSync(join(t.dir, 'exports', '.DS_Store'), 'junk');
      writeFileSync(join(t.dir, 'exports', '.cache', 'x.csv'), 'junk');
      mkdirSync(join(t.dir, 'exports', 'queries'));
      writeFileSync(join(t.dir, 'exports', 'queries', 'hunting-emailevents.kql'), 'EmailEvents\n| take 1\n');
      const s = await ingest([join(t.dir, 'exports')], { db: join(t.dir, 'a.db'), profile: await fixtureProfile() });
      expect(s.files.map((f) => f.file.slice(t.dir.length + 1))).toEqual(['exports/detail/d.csv', 'exports/trace.csv']);
    } finally {
      t.cleanup();
    }
  });
});
