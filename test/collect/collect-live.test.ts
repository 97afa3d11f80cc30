/**
 * `dsguard collect` as a user runs it: bin/dsguard.js in a child process (NODE_EXTRA_CA_CERTS trusts the emulator's
 * CA) against the local Microsoft emulator, with two Graph routes added here:
 * - `POST /v1.0/security/runHuntingQuery`: it cannot run KQL, so it applies in test code the selection the query
 *   expresses (the window and accepted domains read from the query text; inbound, no connector), in the query's
 *   order, truncated at the tenant's row cap as the real API truncates at 100,000; a tenant without email tables
 *   gets the API's "Failed to resolve table" 400;
 * - `GET /v1.0/admin/exchange/tracing/messageTraces`: `$filter=receivedDateTime ge … and receivedDateTime le …`
 *   (both bounds required, ≤ 10 days), `$top`, `$skiptoken` pages with `@odata.nextLink`.
 * Covers paging, row-cap splitting, the fallback, late rows inside the overlap, 429 + Retry-After, 500 then
 * success, an expired token, 403 hints, --tenants with one failing tenant, SIGKILL mid-run then a re-run; the
 * store ends with exactly the served rows (the same report as `ingest` of those rows as an export); no secret or
 * token anywhere. Needs dist/ (npm test builds it first).
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directSendHuntingQuery } from '../../src/collect/hunting-query.js';
import { GRAPH_RESOURCE, type MicrosoftEmulator, odataPage, startMicrosoftEmulator } from '../emulators/microsoft.js';
import { spawnCli } from '../helpers/cli.js';

const T_HUNT = '4b8c18bd-2f9f-4227-af55-9f1061cf9c32'; // Plan 2: email tables
const T_TRACE = '5c9d29ce-3a0a-4338-b066-0a2172d0ad43'; // no email tables: message trace
const T_DENY = '6dae3adf-4b1b-4449-8177-1b3283e1be54'; // app without ThreatHunting.Read.All
const APP_HUNT = '6a1e3c55-0000-4000-8000-000000000011';
const APP_TRACE = '6a1e3c55-0000-4000-8000-000000000012';
const APP_DENY = '6a1e3c55-0000-4000-8000-000000000013';
const APP_TRACE_DENY = '6a1e3c55-0000-4000-8000-000000000014';
const SECRET = 'Qx9~collect-secret-V4lue.that-must-never-leak_4567';
const ROW_CAP = 40;
const HOOK_SIG = 'sig-Wq3rT8zY1pLmN0vB5xC7-webhook-secret';
const DOMAINS = ['contoso.com', 'contoso.co.uk'];

type Row = Record<string, unknown>;
let emu: MicrosoftEmulator;
let tmp: string;
let profileFile: string;
const outputs: string[] = [];
const t0 = Math.floor(Date.now() / 60_000) * 60_000;

/** A seeded generator: the same tenant every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function huntingRow(i: number, ts: number, kind: string, r: () => number): Row {
  const ips: Record<string, string> = {
    spoof: `45.14.71.${10 + Math.floor(r() * 4)}`,
    mfp: '198.51.100.20',
    partner: '192.0.2.7',
    gmail: '209.85.220.41',
  };
  const fromDomain = kind === 'gmail' ? 'gmail.com' : r() < 0.5 ? 'contoso.com' : 'contoso.co.uk';
  const user = ['liam.olsen', 'kate.ng', 'farid.ng', 'jonas.kowalski'][i % 4]!;
  const sender = kind === 'mfp' ? `scanner@${fromDomain}` : `${user}@${fromDomain}`;
  const id = `c7${String(i).padStart(6, '0')}-0000-4000-8000-08dee9000001`;
  return {
    Timestamp: new Date(ts).toISOString(),
    NetworkMessageId: id,
    InternetMessageId: `<M${i}@host.example>`,
    SenderMailFromAddress: sender,
    SenderFromAddress: sender,
    SenderDisplayName: kind === 'mfp' ? 'Scanner' : 'Someone',
    SenderObjectId: null,
    SenderMailFromDomain: fromDomain,
    SenderFromDomain: fromDomain,
    SenderIPv4: ips[kind],
    SenderIPv6: null,
    RecipientEmailAddress: `${user}@contoso.com`,
    RecipientObjectId: null,
    Subject: kind === 'spoof' ? 'New Missed Fax-msg' : 'Scan',
    EmailClusterId: 1000 + i,
    EmailDirection: 'Inbound',
    DeliveryAction: kind === 'spoof' ? 'Blocked' : 'Delivered',
    DeliveryLocation: kind === 'spoof' ? 'Quarantine' : 'Inbox/folder',
    ThreatTypes: kind === 'spoof' ? 'Phish' : null,
    ThreatNames: null,
    DetectionMethods: kind === 'spoof' ? '{"Phish":["Spoof intra-org"]}' : null,
    ConfidenceLevel: null,
    BulkComplaintLevel: null,
    EmailAction: null,
    EmailActionPolicy: null,
    EmailActionPolicyGuid: null,
    AuthenticationDetails:
      kind === 'spoof'
        ? '{"SPF":"softfail","DKIM":"none","DMARC":"fail","CompAuth":"fail"}'
        : '{"SPF":"pass","DKIM":"none","DMARC":"pass","CompAuth":"pass"}',
    AttachmentCount: 0,
    UrlCount: 0,
    EmailLanguage: 'en',
    Connectors: kind === 'partner' ? 'Fabrikam Partner' : i % 2 ? '' : null,
    OrgLevelAction: null,
    OrgLevelPolicy: null,
    UserLevelAction: null,
    UserLevelPolicy: null,
    ReportId: `${id}-1`,
    AdditionalFields: null,
    LatestDeliveryLocation: null,
    LatestDeliveryAction: null,
    'IsFirstContact@odata.type': '#SByte',
    IsFirstContact: 0,
  };
}

/** ~3 days of mail: spoofs, the MFP, a partner behind its connector, gmail; a burst over the row cap. */
function makeHuntingRows(): Row[] {
  const r = rng(17);
  const rows: Row[] = [];
  const kinds = ['spoof', 'mfp', 'partner', 'gmail'];
  for (let i = 0; i < 220; i++) {
    const ts = t0 - 3 * 86_400_000 + Math.floor(r() * (3 * 86_400_000 - 3_600_000 * 8));
    rows.push(huntingRow(i, ts, kinds[Math.floor(r() * 4)]!, r));
  }
  // A campaign: 90 spoofs within four hours, two days ago (more than the cap in one day's window).
  for (let i = 220; i < 310; i++) rows.push(huntingRow(i, t0 - 2 * 86_400_000 + (i - 220) * 160_000, 'spoof', r));
  return rows;
}

function selected(row: Row, from: number, to: number, domains: string[]): boolean {
  const ts = Date.parse(String(row.Timestamp));
  const c = row.Connectors;
  return (
    ts >= from &&
    ts < to &&
    row.EmailDirection === 'Inbound' &&
    (c === null || c === '') &&
    (domains.includes(String(row.SenderMailFromDomain).toLowerCase()) ||
      domains.includes(String(row.SenderFromDomain).toLowerCase()))
  );
}

const order = (a: Row, b: Row) =>
  String(a.Timestamp).localeCompare(String(b.Timestamp)) ||
  String(a.NetworkMessageId).localeCompare(String(b.NetworkMessageId)) ||
  String(a.RecipientEmailAddress).localeCompare(String(b.RecipientEmailAddress));

function traceRows(): Row[] {
  const r = rng(29);
  const out: Row[] = [];
  for (let i = 0; i < 75; i++) {
    const ts = t0 - 12 * 86_400_000 + Math.floor(r() * 12 * 86_400_000 - 3_600_000);
    const spoof = r() < 0.5;
    out.push({
      id: `d8${String(i).padStart(6, '0')}-0000-4000-8000-08dee9000002`,
      messageId: `<T${i}@host.example>`,
      receivedDateTime: `${new Date(ts).toISOString().slice(0, 19)}Z`,
      senderAddress: spoof ? 'kate.ng@contoso.com' : 'someone@gmail.com',
      recipientAddress: 'kate.ng@contoso.com',
      fromIP: spoof ? '45.14.71.10' : '209.85.220.41',
      toIP: '',
      size: 4000 + i,
      status: spoof ? 'quarantined' : 'delivered',
      subject: spoof ? 'Voicemail: New VM Message' : 'Hello',
    });
  }
  return out;
}

const hunting = new Map<string, Row[]>();
const trace = new Map<string, Row[]>();
/** Graph faults, used once each in order: status (+ Retry-After), or `hang` (never answer: the test kills the CLI). */
const graphFaults: { status: number | 'hang'; retryAfter?: number; afterCalls?: number }[] = [];
let huntingCalls = 0;
let hung: (() => void) | null = null;
const hangs: { end(): void }[] = [];

function takeFault(ctx: { send(status: number, body: unknown, headers?: Record<string, string>): void }): boolean {
  const f = graphFaults[0];
  if (!f) return false;
  if (f.afterCalls !== undefined && huntingCalls <= f.afterCalls) return false;
  graphFaults.shift();
  if (f.status === 'hang') {
    hung?.();
    hangs.push({
      end: () => {
        try {
          ctx.send(503, { error: { code: 'ServiceUnavailable', message: 'gone' } });
        } catch {
          // the client is gone
        }
      },
    });
    return true;
  }
  ctx.send(
    f.status,
    { error: { code: f.status === 429 ? 'TooManyRequests' : 'InternalServerError', message: 'try again later' } },
    f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {},
  );
  return true;
}

/** The built CLI trusting the emulator's certificate, with the app's secret; every output kept for the secret scan. */
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnCli(
    args,
    { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: emu.caFile, DSGUARD_CLIENT_SECRET: SECRET, ...env },
    {
      onSpawn: (child) => {
        lastChild = child;
      },
      record: (stdout, stderr) => outputs.push(stdout, stderr),
    },
  );
let lastChild: ChildProcess | null = null;

const live = (tenant: string, app: string, db: string) => [
  'collect',
  '--tenant',
  tenant,
  '--client-id',
  app,
  '--authority-host',
  emu.url,
  '--graph-url',
  emu.url,
  '--db',
  db,
  '-p',
  profileFile,
  '--since',
  '4d',
  '--hunting-row-cap',
  String(ROW_CAP),
  '--format',
  'json',
];

function tenantResult(stdout: string): Record<string, unknown> {
  return (JSON.parse(stdout) as { tenants: Record<string, unknown>[] }).tenants[0]!;
}

/** The deliveries the store holds: count of keyed deliveries. */
function deliveries(db: string): number {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT count(*) AS n FROM delivery').get() as { n: number }).n;
  } finally {
    d.close();
  }
}

/**
 * `report --format json`, without provenance: which document a row came from (file, sha256, row number, the
 * files ledger) depends on how the rows were cut into answers, which is not what is compared. Verdicts,
 * counts, sources, samples' content stay.
 */
async function report(db: string): Promise<unknown> {
  const r = await run(['report', '--db', db, '-p', profileFile, '--format', 'json']);
  expect(r.code, r.stderr).toBeLessThanOrEqual(1);
  return JSON.parse(r.stdout, (k, v) => (['files', 'file', 'sha256', 'row', 'path'].includes(k) ? undefined : v));
}

/** The rows a collect over `[from, now)` must have stored: the selection, as an export file for `ingest`. */
function servedExport(name: string, from: number): string {
  const rows = hunting
    .get(T_HUNT)!
    .filter((r) => selected(r, from, Date.now(), DOMAINS))
    .sort(order);
  const file = join(tmp, name);
  writeFileSync(
    file,
    JSON.stringify({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults',
      results: rows,
    }),
  );
  return file;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dsguard-collect-'));
  profileFile = join(tmp, 'dsguard.yml');
  writeFileSync(
    profileFile,
    [
      'tenant:',
      '  name: Contoso',
      `  ids: [${T_HUNT}]`,
      `  domains: [${DOMAINS.join(', ')}]`,
      'directSendSources:',
      '  - name: MFP 2nd floor',
      '    ips: [198.51.100.20]',
      '    senders: [scanner@contoso.com, scanner@contoso.co.uk]',
      'connectors:',
      '  - name: Fabrikam Partner',
      '    type: Partner',
      '    senderIps: [192.0.2.0/24]',
      '',
    ].join('\n'),
  );
  hunting.set(T_HUNT, makeHuntingRows());
  trace.set(T_TRACE, traceRows());
  emu = await startMicrosoftEmulator({
    apps: [
      { tenantId: T_HUNT, clientId: APP_HUNT, secret: SECRET, roles: ['ThreatHunting.Read.All'], exchangeRole: false },
      {
        tenantId: T_TRACE,
        clientId: APP_TRACE,
        secret: SECRET,
        roles: ['ThreatHunting.Read.All', 'ExchangeMessageTrace.Read.All'],
        exchangeRole: false,
      },
      { tenantId: T_DENY, clientId: APP_DENY, secret: SECRET, roles: [], exchangeRole: false },
      {
        tenantId: T_TRACE,
        clientId: APP_TRACE_DENY,
        secret: SECRET,
        roles: ['ThreatHunting.Read.All'],
        exchangeRole: false,
      },
    ],
  });
  emu.route('POST', /^\/v1\.0\/security\/runHuntingQuery$/, (ctx) => {
    const claims = ctx.requireToken(GRAPH_RESOURCE);
    if (!claims) return;
    huntingCalls++;
    if (takeFault(ctx)) return;
    if (!claims.roles.includes('ThreatHunting.Read.All'))
      return ctx.send(403, {
        error: { code: 'Forbidden', message: 'Missing application roles. API required roles: ThreatHunting.Read.All.' },
      });
    const query = String((ctx.json as { Query?: unknown } | undefined)?.Query ?? '');
    const rows = hunting.get(claims.tid);
    if (!rows)
      return ctx.send(400, {
        error: {
          code: 'BadRequest',
          message:
            "Query could not be parsed at 'EmailEvents' on line [1,0]: Failed to resolve table or column expression named 'EmailEvents'",
        },
      });
    const w = /Timestamp >= datetime\(([^)]+)\) and Timestamp < datetime\(([^)]+)\)/.exec(query);
    const d = /SenderFromDomain in~ \(([^)]*)\)/.exec(query);
    if (!w || !d || !query.includes('EmailDirection == "Inbound" and isempty(Connectors)'))
      return ctx.send(400, { error: { code: 'BadRequest', message: 'the emulator does not know this query' } });
    const domains = d[1]!.split(',').map((s) => JSON.parse(s.trim()) as string);
    const from = Date.parse(w[1]!);
    const to = Date.parse(w[2]!);
    const out = rows
      .filter((r) => selected(r, from, to, domains))
      .sort(order)
      .slice(0, ROW_CAP);
    ctx.send(200, {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults',
      schema: Object.keys(rows[0] ?? {})
        .filter((k) => !k.includes('@'))
        .map((name) => ({ name, type: 'String' })),
      results: out,
    });
  });
  emu.route('GET', /^\/v1\.0\/admin\/exchange\/tracing\/messageTraces$/, (ctx) => {
    const claims = ctx.requireToken(GRAPH_RESOURCE);
    if (!claims) return;
    if (takeFault(ctx)) return;
    if (!claims.roles.includes('ExchangeMessageTrace.Read.All'))
      return ctx.send(403, { error: { code: 'Forbidden', message: 'Missing role ExchangeMessageTrace.Read.All.' } });
    const f = /^receivedDateTime ge (\S+Z) and receivedDateTime le (\S+Z)$/.exec(
      ctx.url.searchParams.get('$filter') ?? '',
    );
    if (!f)
      return ctx.send(400, {
        error: { code: 'BadRequest', message: 'Both start and end dates of receivedDateTime are required.' },
      });
    const from = Date.parse(f[1]!);
    const to = Date.parse(f[2]!);
    if (to - from > 10 * 86_400_000)
      return ctx.send(400, { error: { code: 'BadRequest', message: 'The date range cannot exceed 10 days.' } });
    const rows = (trace.get(claims.tid) ?? [])
      .filter((r) => {
        const t = Date.parse(String(r.receivedDateTime));
        return t >= from && t <= to;
      })
      .sort((a, b) => String(b.receivedDateTime).localeCompare(String(a.receivedDateTime)));
    const p = odataPage(ctx, rows, 5000);
    const body: Record<string, unknown> = {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#admin/exchange/tracing/messageTraces',
      value: p.value,
    };
    if (p.nextLink) body['@odata.nextLink'] = p.nextLink;
    ctx.send(200, body);
  });
});

afterAll(async () => {
  for (const h of hangs) h.end();
  await emu.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dsguard collect (live, against the emulator)', () => {
  it('hunting: splits windows at the row cap, rides out 429/500/an expired token, stores exactly the served rows', async () => {
    const db = join(tmp, 'a.db');
    graphFaults.push({ status: 429, retryAfter: 1 }, { status: 500 });
    emu.fault({ kind: 'expire-token' });
    const r = await run(live(T_HUNT, APP_HUNT, db));
    expect(r.code, r.stderr).toBe(0);
    const t = tenantResult(r.stdout);
    expect(t.status).toBe('ok');
    expect(t.source).toBe('hunting');
    expect(t.splits as number).toBeGreaterThan(0);
    expect(t.rejected).toBe(0);
    // Exactly the served rows: the same store content and report as `ingest` of them as one export.
    const from = Date.parse(String(t.from));
    const file = servedExport('served-a.json', from);
    const served = (JSON.parse(readFileSync(file, 'utf8')) as { results: unknown[] }).results.length;
    expect(served).toBeGreaterThan(ROW_CAP * 2);
    expect(t.rows).toBe(served);
    expect(deliveries(db)).toBe(served);
    const ref = join(tmp, 'a-ref.db');
    const ing = await run(['ingest', file, '--db', ref, '-p', profileFile]);
    expect(ing.code, ing.stderr).toBe(0);
    expect(await report(db)).toEqual(await report(ref));
    // The 429 was waited out, the 500 retried, the expired token renewed once.
    const calls = emu.requests.filter((c) => c.path === '/v1.0/security/runHuntingQuery').map((c) => c.status);
    expect(calls).toContain(429);
    expect(calls).toContain(500);
    expect(calls).toContain(401);
  });

  it('a second run re-reads the overlap: late rows are added, nothing is duplicated', async () => {
    const db = join(tmp, 'a.db');
    const before = deliveries(db);
    const rows = hunting.get(T_HUNT)!;
    const r0 = rng(99);
    // Late: arrived after the first run, timestamped an hour before its checkpoint (inside the 6 h overlap).
    for (let i = 900; i < 905; i++) rows.push(huntingRow(i, Date.now() - 3_600_000, 'spoof', r0));
    const r = await run(live(T_HUNT, APP_HUNT, db));
    expect(r.code, r.stderr).toBe(0);
    expect(deliveries(db)).toBe(before + 5);
    const again = await run(live(T_HUNT, APP_HUNT, db));
    expect(again.code).toBe(0);
    expect(deliveries(db)).toBe(before + 5);
  });

  it('SIGKILL mid-run, then a re-run: the same report as an uninterrupted run', async () => {
    const whole = join(tmp, 'whole.db');
    expect((await run(live(T_HUNT, APP_HUNT, whole))).code).toBe(0);
    const killed = join(tmp, 'killed.db');
    const reached = new Promise<void>((resolve) => {
      hung = resolve;
    });
    huntingCalls = 0;
    graphFaults.push({ status: 'hang', afterCalls: 3 });
    const first = run(live(T_HUNT, APP_HUNT, killed));
    await reached;
    hung = null;
    lastChild!.kill('SIGKILL');
    expect((await first).code).toBe(-9);
    // Killed part-way: some windows are in, not all (so the re-run resumes from a checkpoint).
    const partial = deliveries(killed);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(deliveries(whole));
    const second = await run(live(T_HUNT, APP_HUNT, killed));
    expect(second.code, second.stderr).toBe(0);
    expect(deliveries(killed)).toBe(deliveries(whole));
    expect(await report(killed)).toEqual(await report(whole));
  });

  it('a tenant without email tables falls back to message trace: 10-day windows, pages', async () => {
    const db = join(tmp, 'trace.db');
    const r = await run([...live(T_TRACE, APP_TRACE, db), '--since', '12d', '--trace-page-size', '10']);
    expect(r.code, r.stderr).toBe(0);
    const t = tenantResult(r.stdout);
    expect(t.source).toBe('message-trace');
    expect(String(t.fallback)).toContain('no email tables');
    expect(t.windows).toBe(2);
    const served = trace
      .get(T_TRACE)!
      .filter((x) => Date.parse(String(x.receivedDateTime)) >= Date.parse(String(t.from)));
    expect(t.rows).toBe(served.length);
    expect(deliveries(db)).toBe(served.length);
    const pages = emu.requests.filter((c) => c.path.endsWith('/messageTraces')).length;
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(served.length / 10));
  });

  it('names the missing permission on a 403', async () => {
    const r = await run(live(T_DENY, APP_DENY, join(tmp, 'deny.db')));
    expect(r.code).toBe(3);
    const t = tenantResult(r.stdout);
    expect(String(t.error)).toContain('ThreatHunting.Read.All');
    // Message trace (after the fallback): the permission and the service principal.
    const m = await run(live(T_TRACE, APP_TRACE_DENY, join(tmp, 'deny-trace.db')));
    expect(m.code).toBe(3);
    const e = String(tenantResult(m.stdout).error);
    expect(e).toContain('ExchangeMessageTrace.Read.All');
    expect(e).toContain('8bd644d1-64a1-4d4b-ae52-2e0cbf64e373');
  });

  it('--tenants: one failing tenant never stops the others', async () => {
    const file = join(tmp, 'tenants.yml');
    writeFileSync(
      file,
      [
        'tenants:',
        `  - { name: Contoso, tenantId: ${T_HUNT}, clientId: ${APP_HUNT}, secretEnv: DSGUARD_CLIENT_SECRET, db: m-contoso.db }`,
        `  - { name: Denied, tenantId: ${T_DENY}, clientId: ${APP_DENY}, secretEnv: DSGUARD_CLIENT_SECRET, db: m-denied.db }`,
        `  - { name: Tracey, tenantId: ${T_TRACE}, clientId: ${APP_TRACE}, secretEnv: DSGUARD_CLIENT_SECRET, db: m-trace.db }`,
        '',
      ].join('\n'),
    );
    const r = await run([
      'collect',
      '--tenants',
      file,
      '-p',
      profileFile,
      '--authority-host',
      emu.url,
      '--graph-url',
      emu.url,
      '--since',
      '4d',
      '--hunting-row-cap',
      String(ROW_CAP),
      '--format',
      'json',
    ]);
    expect(r.code).toBe(3);
    const ts = (JSON.parse(r.stdout) as { tenants: { name: string; status: string; source: string }[] }).tenants;
    expect(ts.map((t) => [t.name, t.status, t.source])).toEqual([
      ['Contoso', 'ok', 'hunting'],
      ['Denied', 'error', 'hunting'],
      ['Tracey', 'ok', 'message-trace'],
    ]);
  });

  it('watch: alerts once per source across cycles and restarts, retries a failed delivery, never logs the URL', async () => {
    const received: { id: string; kind: string; ips: string[] }[] = [];
    let failNext = 1;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (req.url !== `/hook/${HOOK_SIG}`) {
          res.writeHead(404).end();
          return;
        }
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        const a = (JSON.parse(body) as { alert: { id: string; kind: string; source: { ips: string[] } } }).alert;
        received.push({ id: a.id, kind: a.kind, ips: a.source.ips });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    server.unref();
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/${HOOK_SIG}`;
    const syslog: string[] = [];
    const udp = createSocket('udp4');
    udp.on('message', (m) => syslog.push(m.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    udp.unref();
    const syslogTarget = `udp://127.0.0.1:${udp.address().port}`;
    const db = join(tmp, 'watch.db');
    const ndjson = join(tmp, 'alerts.ndjson');
    const watch = () =>
      run(
        [
          ...live(T_HUNT, APP_HUNT, db).map((a) => (a === 'collect' ? 'watch' : a)),
          '--once',
          '--webhook-env',
          'HOOK',
          '--ndjson',
          ndjson,
          '--syslog',
          syslogTarget,
        ],
        {
          HOOK: hook,
        },
      );
    try {
      const c1 = await watch();
      expect(c1.code, c1.stderr).toBe(0);
      const first = received.length;
      expect(first).toBeGreaterThan(0);
      expect(failNext).toBe(0); // the first POST failed and was retried
      expect(new Set(received.map((a) => a.id)).size).toBe(first);
      // A new campaign from a network never seen before.
      const rows = hunting.get(T_HUNT)!;
      const r0 = rng(7);
      for (let i = 950; i < 956; i++) {
        const row = huntingRow(i, Date.now() - 2 * 3_600_000 + i, 'spoof', r0);
        row.SenderIPv4 = '203.0.113.66';
        rows.push(row);
      }
      const c2 = await watch();
      expect(c2.code, c2.stderr).toBe(0);
      const fresh = received.slice(first);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh.every((a) => a.ips.includes('203.0.113.66'))).toBe(true);
      expect(fresh.some((a) => a.kind === 'new-malicious-source' || a.kind === 'new-suspicious-source')).toBe(true);
      // A restart with nothing new sends nothing again.
      const c3 = await watch();
      expect(c3.code, c3.stderr).toBe(0);
      expect(received.length).toBe(first + fresh.length);
      const lines = readFileSync(ndjson, 'utf8').trim().split('\n');
      expect(lines.length).toBe(received.length);
      outputs.push(readFileSync(ndjson, 'utf8'));
      for (const o of [c1, c2, c3]) expect(o.stdout + o.stderr).not.toContain(HOOK_SIG);
      // The same alerts reached syslog (RFC 5424, CEF body), each once. UDP on loopback: waited for, not raced.
      for (let i = 0; i < 100 && syslog.length < received.length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(syslog.length).toBe(received.length);
      for (const line of syslog) expect(line).toMatch(/^<\d+>1 \S+ \S+ dsguard - [a-z-]+ - CEF:0\|dsguard\|dsguard\|/);
      expect(syslog.map((l) => /cs1=([0-9a-f]+)/.exec(l)?.[1]).sort()).toEqual(received.map((a) => a.id).sort());
    } finally {
      udp.close();
      server.close();
    }
  });

  it('the query text is stable (golden) and escapes its values', () => {
    const q = directSendHuntingQuery({ from: new Date('2026-07-20T00:00:00Z'), to: new Date('2026-07-21T00:00:00Z') }, [
      'Contoso.com',
      'contoso.co.uk',
      'we"ird\\.example',
    ]);
    expect(q).toBe(
      [
        'EmailEvents',
        '| where Timestamp >= datetime(2026-07-20T00:00:00.000Z) and Timestamp < datetime(2026-07-21T00:00:00.000Z)',
        '| where EmailDirection == "Inbound" and isempty(Connectors)',
        '| where SenderMailFromDomain in~ ("contoso.co.uk", "contoso.com", "we\\"ird\\\\.example") or SenderFromDomain in~ ("contoso.co.uk", "contoso.com", "we\\"ird\\\\.example")',
        '| order by Timestamp asc, NetworkMessageId asc, RecipientEmailAddress asc',
      ].join('\n'),
    );
    expect(() => directSendHuntingQuery({ from: new Date(0), to: new Date(1) }, ['a\nb'])).toThrow();
  });

  it('no secret or token in any output or store', () => {
    expect(emu.issuedTokens.length).toBeGreaterThan(3);
    const files = ['a.db', 'whole.db', 'killed.db', 'trace.db', 'm-contoso.db', 'watch.db'].map((f) =>
      readFileSync(join(tmp, f)),
    );
    for (const text of [...outputs, ...files.map((b) => b.toString('latin1'))]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(HOOK_SIG);
      for (const t of emu.issuedTokens) expect(text).not.toContain(t);
    }
  });
});
