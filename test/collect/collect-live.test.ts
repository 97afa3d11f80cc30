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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTraceDetails, type TraceRowFields } from '../../src/collect/trace-detail-plan.js';
import { parseProfile } from '../../src/config/profile-file.js';
import { messageHash, normalizeMessageId } from '../../src/core/delivery-key.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { answerHunting, dailyTotalRows, factMessageIds, huntingDocument, inventoryRows } from '../emulators/hunting.js';
import { GRAPH_RESOURCE, type MicrosoftEmulator, odataPage, startMicrosoftEmulator } from '../emulators/microsoft.js';
import { spawnCli } from '../helpers/cli.js';
import { queryStore, readStore } from '../helpers/store-read.js';

const T_HUNT = '4b8c18bd-2f9f-4227-af55-9f1061cf9c32'; // Plan 2: email tables
const T_TRACE = '5c9d29ce-3a0a-4338-b066-0a2172d0ad43'; // no email tables: message trace
const T_DENY = '6dae3adf-4b1b-4449-8177-1b3283e1be54'; // app without ThreatHunting.Read.All
const T_QUIET = '7ebf4be0-5c2d-455a-9288-2c4394f2cf65'; // Plan 2, only its declared MFP, RejectDirectSend on
const APP_QUIET = '6a1e3c55-0000-4000-8000-000000000015';
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
let profile: TenantProfile;
let quietProfileFile: string;
const profiles = new Map<string, TenantProfile>();
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
    // The MFP's scans (every fifth) count their PDF: the semi-join returns them, collect leaves them out.
    AttachmentCount: (kind === 'spoof' && i % 3 === 0) || (kind === 'mfp' && i % 5 === 0) ? 1 : 0,
    UrlCount: kind === 'spoof' && i % 3 === 0 ? 1 : 0,
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
  // The tenant's own mail (never selected; only the per-day totals count it).
  for (let i = 310; i < 350; i++) {
    const row = huntingRow(i, t0 - 3 * 86_400_000 + Math.floor(r() * 3 * 86_400_000 - 3_600_000), 'mfp', r);
    row.EmailDirection = i % 2 ? 'Intra-org' : 'Outbound';
    rows.push(row);
  }
  return rows;
}

/** Attachments and URLs of the spoofs (a voicemail lure with a QR code), and of an MFP scan (never asked for). */
function factsOf(rows: readonly Row[]): { attachments: Row[]; urls: Row[] } {
  const attachments: Row[] = [];
  const urls: Row[] = [];
  for (const r of rows) {
    const base = { Timestamp: r.Timestamp, NetworkMessageId: r.NetworkMessageId, ReportId: `${r.ReportId}-f` };
    const n = Number(String(r.NetworkMessageId).slice(2, 8));
    if (r.Subject === 'New Missed Fax-msg' && n % 3 === 0) {
      attachments.push({
        ...base,
        SenderFromAddress: r.SenderFromAddress,
        SenderDisplayName: null,
        SenderObjectId: null,
        RecipientEmailAddress: r.RecipientEmailAddress,
        RecipientObjectId: null,
        FileName: `Fax-${n}.pdf`,
        FileType: 'pdf',
        SHA256: `${String(n).padStart(8, '0')}ab`.repeat(8).slice(0, 64),
        FileSize: 40_000 + n,
        ThreatTypes: null,
        ThreatNames: null,
        DetectionMethods: null,
      });
      urls.push({
        ...base,
        Url: `https://evil-${n}.example/fax`,
        UrlDomain: `evil-${n}.example`,
        UrlLocation: 'QRCode',
      });
    } else if (r.Subject === 'Scan' && n % 5 === 0) {
      attachments.push({ ...base, FileName: `scan-${n}.pdf`, FileType: 'pdf', SHA256: null, FileSize: 1000 });
    }
  }
  return { attachments, urls };
}

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
const detailCalls: string[] = [];
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
/** The next per-day totals answer carries two bad rows. */
let badTotals = false;

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
  return queryStore<{ n: number }>(db, 'SELECT count(*) AS n FROM delivery')[0]!.n;
}

/** Facts (attachment / URL rows) the store holds. */
function factCount(db: string): number {
  return queryStore<{ n: number }>(
    db,
    "SELECT count(*) AS n FROM fact WHERE format IN ('email-attachment-info', 'email-url-info')",
  )[0]!.n;
}

/**
 * Facts for a message the collected store flags are never missed: per flagged message, the stored attachment and
 * URL rows against those the emulator holds for it. Returns the flagged messages that have facts (so the check
 * is not empty) and those missing any.
 */
function flaggedFacts(db: string, events: readonly Row[]): { withFacts: number; missing: number } {
  const held = new Map<number, number>();
  const f = factsOf(events);
  for (const x of [...f.attachments, ...f.urls]) {
    const h = messageHash(normalizeMessageId(String(x.NetworkMessageId)));
    held.set(h, (held.get(h) ?? 0) + 1);
  }
  return readStore(db, (d) => {
    const flagged = d
      .prepare("SELECT DISTINCT msg_h AS h FROM message WHERE verdict IN ('malicious', 'suspicious')")
      .all() as { h: number }[];
    const stored = d.prepare(
      "SELECT count(*) AS n FROM fact WHERE msg_h = ? AND format IN ('email-attachment-info', 'email-url-info')",
    );
    let withFacts = 0;
    let missing = 0;
    for (const { h } of flagged) {
      const want = held.get(h) ?? 0;
      if (want === 0) continue;
      withFacts++;
      if ((stored.get(h) as { n: number }).n !== want) missing++;
    }
    return { withFacts, missing };
  });
}

function storedDays(db: string): number {
  return queryStore<{ n: number }>(db, 'SELECT count(*) AS n FROM collect_daily_total')[0]!.n;
}

/**
 * `report --format json`, without provenance: which document a row came from (file, sha256, row number, the
 * files ledger) depends on how the rows were cut into answers, which is not what is compared. Verdicts,
 * counts, sources, samples' content stay.
 */
async function report(db: string): Promise<unknown> {
  const r = await run(['report', '--db', db, '-p', profileFile, '--format', 'json']);
  expect(r.code, r.stderr).toBeLessThanOrEqual(1);
  // mailTotals: only a collected store has the per-day totals of all mail (checked on their own).
  return JSON.parse(r.stdout, (k, v) =>
    ['files', 'file', 'sha256', 'row', 'path', 'mailTotals'].includes(k) ? undefined : v,
  );
}

/**
 * The rows a collect over `[from, now)` must have stored, as export files for `ingest`: the inventory selection,
 * and the attachment and URL rows the semi-join serves (messages whose EmailEvents count is not 0) of the
 * flagged messages (the spoofs; the MFP's scans are served and left out).
 */
function servedExport(name: string, from: number): { file: string; rows: number; facts: string[] } {
  const events = hunting.get(T_HUNT)!;
  const rows = inventoryRows(events, profile, from, Date.now());
  const file = join(tmp, name);
  writeFileSync(file, JSON.stringify(huntingDocument(rows)));
  const facts: string[] = [];
  const f = factsOf(events);
  for (const [kind, list, table] of [
    ['att', f.attachments, 'EmailAttachmentInfo'],
    ['url', f.urls, 'EmailUrlInfo'],
  ] as const) {
    const spoofs = new Set(rows.filter((r) => r.Subject === 'New Missed Fax-msg').map((r) => r.NetworkMessageId));
    const ids = factMessageIds(events, profile, table, from, Date.now());
    const path = join(tmp, `${name}-${kind}.json`);
    writeFileSync(
      path,
      JSON.stringify(
        huntingDocument(list.filter((x) => ids.has(String(x.NetworkMessageId)) && spoofs.has(x.NetworkMessageId))),
      ),
    );
    facts.push(path);
  }
  return { file, rows: rows.length, facts };
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
  const loaded = parseProfile(readFileSync(profileFile, 'utf8'), profileFile);
  if (loaded.status !== 'ok') throw new Error(loaded.error);
  profile = loaded.profile;
  quietProfileFile = join(tmp, 'northwind.yml');
  writeFileSync(
    quietProfileFile,
    readFileSync(profileFile, 'utf8').replace('  name: Contoso\n', '  name: Northwind\n  rejectDirectSend: true\n'),
  );
  const quiet = parseProfile(readFileSync(quietProfileFile, 'utf8'), quietProfileFile);
  if (quiet.status !== 'ok') throw new Error(quiet.error);
  profiles.set(T_HUNT, profile).set(T_QUIET, quiet.profile);
  hunting.set(T_HUNT, makeHuntingRows());
  hunting.set(
    T_QUIET,
    makeHuntingRows().filter((x) => x.SenderIPv4 === '198.51.100.20'),
  );
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
        tenantId: T_QUIET,
        clientId: APP_QUIET,
        secret: SECRET,
        roles: ['ThreatHunting.Read.All'],
        exchangeRole: false,
      },
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
    const events = hunting.get(claims.tid);
    const a = answerHunting(events ? { profile, events, ...factsOf(events), rowCap: ROW_CAP } : null, query);
    // A per-day totals answer with two rows that are not a day of counts (a text day, a negative count), once.
    if (badTotals && a.status === 200 && /\| summarize Total = count\(\)/.test(query)) {
      badTotals = false;
      const body = a.body as { results: Row[] };
      const day = body.results[0]?.Day ?? '2026-01-01T00:00:00Z';
      body.results.push(
        { Day: 'yesterday', Total: 1, Inbound: 1, NoConnector: 1, DirectSend: 1, InternalSpoof: 0 },
        { Day: day, Total: -5, Inbound: 0, NoConnector: 0, DirectSend: 0, InternalSpoof: 0 },
      );
    }
    ctx.send(a.status, a.body);
  });
  // getDetailsByRecipient (beta): the documented function-call path; a Receive event without
  // S:InboundConnectorData (no connector) from the row's IP, then Deliver or Quarantine.
  emu.route(
    'GET',
    /^\/beta\/admin\/exchange\/tracing\/messageTraces\/([^/]+)\/getDetailsByRecipient\(recipientAddress='((?:[^']|'')*)'\)$/,
    (ctx) => {
      const claims = ctx.requireToken(GRAPH_RESOURCE);
      if (!claims) return;
      if (!claims.roles.includes('ExchangeMessageTrace.Read.All'))
        return ctx.send(403, { error: { code: 'Forbidden', message: 'Missing role ExchangeMessageTrace.Read.All.' } });
      const id = decodeURIComponent(ctx.params[0]!);
      const rcpt = decodeURIComponent(ctx.params[1]!).replace(/''/g, "'");
      detailCalls.push(`${id}|${rcpt}`);
      const row = (trace.get(claims.tid) ?? []).find((r) => r.id === id && r.recipientAddress === rcpt);
      if (!row) return ctx.send(404, { error: { code: 'NotFound', message: 'no such message trace' } });
      const at = String(row.receivedDateTime);
      const mep = (name: string, v: string) => `<MEP Name="${name}" String="${v}" />`;
      ctx.send(200, {
        '@odata.context':
          'https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.exchangeMessageTraceDetail)',
        value: [
          {
            '@odata.type': '#microsoft.graph.exchangeMessageTraceDetail',
            id,
            messageId: row.messageId,
            dateTime: at,
            event: 'Receive',
            action: '',
            description: 'Message received by: AM0PR01MB0001.eurprd01.prod.outlook.com',
            data: `<root>${mep('ClientIP', String(row.fromIP))}${mep('ClientHostname', 'unknown')}${mep('ReturnPath', String(row.senderAddress))}${mep('CustomData', 'S:tlsversion=SP_PROT_NONE;S:DIR=INC')}</root>`,
          },
          {
            '@odata.type': '#microsoft.graph.exchangeMessageTraceDetail',
            id,
            messageId: row.messageId,
            dateTime: at,
            event: row.status === 'quarantined' ? 'Quarantine' : 'Deliver',
            action: '',
            description: 'The message was processed.',
            data: '<root></root>',
          },
        ],
      });
    },
  );
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
    // Progress goes to a terminal only: stderr is a pipe here, so nothing.
    expect(r.stderr).toBe('');
    const t = tenantResult(r.stdout);
    expect(t.status).toBe('ok');
    expect(t.source).toBe('hunting');
    expect(t.splits as number).toBeGreaterThan(0);
    expect(t.rejected).toBe(0);
    // Exactly the served rows: the same store content and report as `ingest` of them (+ the flagged messages'
    // attachment and URL rows) as exports.
    const from = Date.parse(String(t.from));
    const served = servedExport('served-a.json', from);
    expect(served.rows).toBeGreaterThan(ROW_CAP * 2);
    expect(t.rows).toBe(served.rows);
    expect(deliveries(db)).toBe(served.rows);
    // Attachments and URLs: one semi-join query per table, split at the row cap.
    const facts = t.facts as { messages: number; queries: number; received: number; attachments: number; urls: number };
    const want = served.facts.map(
      (f) => (JSON.parse(readFileSync(f, 'utf8')) as { results: unknown[] }).results.length,
    );
    expect(want[0]).toBeGreaterThan(0);
    expect([facts.attachments, facts.urls]).toEqual(want);
    expect(facts.queries).toBeGreaterThan(2);
    // The scans' PDFs came (the semi-join's superset) and were left out.
    expect(facts.received).toBeGreaterThan(facts.attachments + facts.urls);
    const spoofs = new Set(
      hunting
        .get(T_HUNT)!
        .filter((x) => x.Subject === 'New Missed Fax-msg' && Date.parse(String(x.Timestamp)) >= from)
        .map((x) => x.NetworkMessageId),
    );
    expect(facts.messages).toBe(spoofs.size);
    const ref = join(tmp, 'a-ref.db');
    const ing = await run(['ingest', served.file, ...served.facts, '--db', ref, '-p', profileFile]);
    expect(ing.code, ing.stderr).toBe(0);
    expect(await report(db)).toEqual(await report(ref));
    expect(factCount(db)).toBe(want[0]! + want[1]!);
    // No flagged message's facts are missed (the semi-join's selection is a superset of what is flagged).
    const ff = flaggedFacts(db, hunting.get(T_HUNT)!);
    expect(ff.withFacts).toBeGreaterThan(0);
    expect(ff.missing).toBe(0);
    // The QR-code URLs reach the indicators (and the attachments the stored evidence).
    const ind = await run(['indicators', '--db', db, '-p', profileFile, '--format', 'csv']);
    expect(ind.code, ind.stderr).toBeLessThanOrEqual(1);
    expect(ind.stdout).toMatch(/https:\/\/evil-\d+\.example\/fax/);
    // Per-day totals: what the emulator counts over whole days, stored per day.
    const totals = t.totals as Record<string, number | null>;
    const days = dailyTotalRows(hunting.get(T_HUNT)!, profile, Math.floor(from / 86_400_000) * 86_400_000, Date.now());
    const sum = (k: string) => days.reduce((a, d) => a + Number(d[k]), 0);
    expect(totals.days).toBe(days.length);
    expect([totals.total, totals.inbound, totals.noConnector, totals.directSend, totals.internalSpoof]).toEqual([
      sum('Total'),
      sum('Inbound'),
      sum('NoConnector'),
      sum('DirectSend'),
      sum('InternalSpoof'),
    ]);
    expect(totals.directSend as number).toBeGreaterThan(0);
    expect(totals.total as number).toBeGreaterThan(totals.inbound as number);
    expect(storedDays(db)).toBe(days.length);
    // The report shows them: the share of inbound mail that is Direct Send.
    const full = await run(['report', '--db', db, '-p', profileFile, '--format', 'json']);
    expect((JSON.parse(full.stdout) as { mailTotals: unknown }).mailTotals).toEqual(t.totals);
    const text = await run(['report', '--db', db, '-p', profileFile]);
    expect(text.stdout).toContain(
      `${totals.directSend} Direct Send (${totals.directSendPercentOfInbound} % of inbound)`,
    );
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
    expect(r.code, r.stdout).toBe(0);
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
    // Trace detail only where it can change a verdict, as `dsguard powershell` plans it: one row per source IP,
    // sender and day, own domain to own mailbox, not from Microsoft's ranges.
    const planned = planTraceDetails(served as unknown as TraceRowFields[], DOMAINS);
    expect(planned.length).toBeGreaterThan(0);
    expect(planned.length).toBeLessThan(served.filter((x) => x.fromIP === '45.14.71.10').length);
    expect(detailCalls).toEqual(planned.map((x) => `${x.id}|${x.recipientAddress}`));
    expect(t.details).toEqual({
      planned: planned.length,
      asked: planned.length,
      events: 2 * planned.length,
      deferred: 0,
    });
    // The detail shows no connector: the spoofs are now proven Direct Send from 45.14.71.10.
    const rep = (await report(db)) as { totals: { directSend: number } };
    expect(rep.totals.directSend).toBeGreaterThan(0);
    // A re-run (overlap) does not ask again.
    const again = await run([...live(T_TRACE, APP_TRACE, db), '--since', '12d', '--trace-page-size', '10']);
    expect(again.code, again.stderr).toBe(0);
    expect(detailCalls.length).toBe(planned.length);
    // A budget: at most --max-trace-details calls a run, the rest counted as deferred.
    const capped = await run([
      ...live(T_TRACE, APP_TRACE, join(tmp, 'trace-capped.db')),
      '--since',
      '12d',
      '--max-trace-details',
      '2',
    ]);
    expect(capped.code, capped.stderr).toBe(0);
    expect(tenantResult(capped.stdout).details).toEqual({
      planned: planned.length,
      asked: 2,
      events: 4,
      deferred: planned.length - 2,
    });
    expect(detailCalls.length).toBe(planned.length + 2);
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

  it('a minute still at the row cap is an error, not an endless split (nothing stored past it)', async () => {
    // A cap of one row: every window with a row is halved down to a minute, and a minute with a row is at the cap.
    const db = join(tmp, 'cap-minute.db');
    const args = live(T_HUNT, APP_HUNT, db);
    args[args.indexOf('--hunting-row-cap') + 1] = '1';
    const r = await run(args);
    expect(r.code, r.stderr).toBe(3);
    const t = tenantResult(r.stdout);
    expect(t.status).toBe('error');
    expect(String(t.error)).toMatch(/\(the 1-row cap\) in one minute from .*: too many to read without loss/);
    expect(Number(t.splits)).toBeGreaterThanOrEqual(10);
    expect(deliveries(db)).toBe(0);
  });

  it('per-day totals: a row that is not a day of counts is rejected and counted, the good days stored', async () => {
    const db = join(tmp, 'bad-totals.db');
    badTotals = true;
    const r = await run(live(T_HUNT, APP_HUNT, db));
    expect(badTotals).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const t = tenantResult(r.stdout);
    expect(t.status).toBe('ok');
    expect(Number(t.rejected)).toBe(2);
    const from = Date.parse(String(t.from));
    const days = dailyTotalRows(hunting.get(T_HUNT)!, profile, Math.floor(from / 86_400_000) * 86_400_000, Date.now());
    expect((t.totals as { days: number }).days).toBe(days.length);
    expect(storedDays(db)).toBe(days.length);
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
        `  - { name: Northwind, tenantId: ${T_QUIET}, clientId: ${APP_QUIET}, secretEnv: DSGUARD_CLIENT_SECRET, profile: northwind.yml }`,
        '',
      ].join('\n'),
    );
    const r = await run([
      'collect',
      '--tenants',
      file,
      '-p',
      profileFile,
      '--db',
      join(tmp, 'x.db'),
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
      ['Northwind', 'ok', 'hunting'],
    ]);
    // The roll-up: a row per tenant from the stores collect wrote (Northwind's beside --db: <name>.db).
    const all = (format: string) =>
      run([
        'report',
        '--all-tenants',
        '--tenants',
        file,
        '-p',
        profileFile,
        '--db',
        join(tmp, 'x.db'),
        '--format',
        format,
      ]);
    const j = await all('json');
    expect(j.code, j.stderr).toBe(0);
    const rows = (JSON.parse(j.stdout) as { tenants: Record<string, unknown>[] }).tenants;
    expect(rows.map((x) => [x.name, x.status, x.rejectDirectSend])).toEqual([
      ['Contoso', 'ok', 'unknown'],
      ['Denied', 'ok', 'unknown'],
      ['Tracey', 'ok', 'unknown'],
      ['Northwind', 'ok', 'on'],
    ]);
    const [contoso, denied, tracey, northwind] = rows as Record<string, number | null | boolean | string>[];
    // Each row is that tenant's own report: the same figures `report --db <its store>` gives.
    const own = (await report(join(tmp, 'm-contoso.db'))) as {
      totals: { directSend: number };
      sources: { verdict: string }[];
      readiness: { ready: boolean };
    };
    expect(contoso!.directSend).toBe(own.totals.directSend);
    expect(contoso!.maliciousSources).toBe(own.sources.filter((x) => x.verdict === 'malicious').length);
    expect(contoso!.maliciousSources as number).toBeGreaterThan(0);
    expect(contoso!.ready).toBe(own.readiness.ready);
    expect(contoso!.directSendPercentOfInbound as number).toBeGreaterThan(0);
    expect(contoso!.lastCollected).not.toBeNull();
    expect([denied!.messages, denied!.ready, denied!.lastCollected]).toEqual([0, false, null]);
    expect(tracey!.directSendPercentOfInbound).toBeNull(); // message trace: no per-day totals
    expect(tracey!.messages as number).toBeGreaterThan(0);
    expect([northwind!.maliciousSources, northwind!.suspiciousSources]).toEqual([0, 0]);
    expect(northwind!.directSend as number).toBeGreaterThan(0);
    expect(northwind!.enforcement).not.toBeNull();
    const text = await all('table');
    expect(text.stdout).toMatch(/^4 tenant\(s\): /);
    for (const name of ['Contoso', 'Denied', 'Tracey', 'Northwind']) expect(text.stdout).toContain(name);
    const csv = (await all('csv')).stdout.trim().split('\r\n');
    expect(csv.length).toBe(5);
    expect(csv[0]).toMatch(/^tenant,status,ready,/);
    const md = (await all('md')).stdout;
    expect(md).toContain('| tenant | status | ready |');
    // A tenant whose store is missing is a row with its error, and the exit says so.
    const missing = join(tmp, 'tenants-missing.yml');
    writeFileSync(
      missing,
      `${readFileSync(file, 'utf8')}  - { name: Ghost, tenantId: ${T_QUIET}, clientId: ${APP_QUIET}, secretEnv: X, db: ghost.db }\n`,
    );
    const g = await run(['report', '--all-tenants', '--tenants', missing, '-p', profileFile, '--format', 'json']);
    expect(g.code).toBe(3);
    const ghost = (JSON.parse(g.stdout) as { tenants: { name: string; status: string; error: string }[] }).tenants.at(
      -1,
    )!;
    expect([ghost.name, ghost.status]).toEqual(['Ghost', 'error']);
    expect(ghost.error).toContain('no such store');
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
