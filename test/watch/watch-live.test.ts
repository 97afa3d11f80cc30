/**
 * `dsguard watch` as a user runs it: bin/dsguard.js in a child process against the local Microsoft emulator
 * (HTTPS; a runHuntingQuery route added here that applies in test code the selection the query expresses:
 * its window and accepted domains, inbound, no connector), with every sink pointed at a local receiver: a JSON
 * webhook, a Teams Workflows webhook and a Slack incoming webhook (each checking its payload's shape and that
 * nothing in it can render as a link or a mention), syslog over TCP (RFC 6587 octet counting) and an NDJSON file.
 *
 * Two cycles with a new campaign and a legitimate source on a new IP appearing in the second; a declared source
 * that went silent; every alert id reaches every sink exactly once; failed deliveries are retried (within a
 * cycle, and across a restart for a sink that asked to wait); a restart resends nothing delivered; SIGTERM
 * mid-collect or mid-delivery stops after the cycle with a store that passes quick_check and a cycle that is
 * either complete or not recorded. No secret (client secret, tokens, webhook signatures) in any output or row.
 * Needs dist/ (npm test builds it first).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { checkSlack, checkTeams, type Receiver, startReceiver } from '../alerts/receivers.js';
import { answerHunting } from '../emulators/hunting.js';
import { GRAPH_RESOURCE, type MicrosoftEmulator, startMicrosoftEmulator } from '../emulators/microsoft.js';
import { spawnCli } from '../helpers/cli.js';
import { validate } from '../helpers/json-schema.js';
import { queryStore } from '../helpers/store-read.js';

/** schema/alert.schema.json (generated from the Alert type by scripts/build-schemas.mjs). */
const ALERT_SCHEMA = JSON.parse(readFileSync('schema/alert.schema.json', 'utf8')) as Record<string, unknown>;

const TENANT = '7e1f3a90-4c2b-4d8e-9f10-2a3b4c5d6e7f';
const APP = '6a1e3c55-0000-4000-8000-000000000021';
const SECRET = 'Wt7~watch-client-secret-K3y.never-to-leak_9921';
const SIG = {
  hook: '/hook/sig-Hk2pQ9-webhook-SECRET-a81f',
  teams: '/workflows/5d1c/triggers/manual/paths/invoke?api-version=1&sig=Tm4-TEAMS-SECRET-77c0',
  slack: '/services/T000/B000/Sl9-SLACK-SECRET-3e21',
};
const DOMAINS = ['contoso.com'];
const DAY = 86_400_000;
const t0 = Math.floor(Date.now() / 60_000) * 60_000;

type Row = Record<string, unknown>;
let emu: MicrosoftEmulator;
let tmp: string;
let profileFile: string;
let profile: TenantProfile;
const rows: Row[] = [];
const outputs: string[] = [];
/** The next hunting request waits on this (SIGTERM mid-collect); `arrived` resolves when one is waiting. */
let gate: { arrived: () => void; release: Promise<void> } | null = null;
/** Delay before every hunting answer (ms): a slow server, so a signal lands before the windows run out. */
let slowMs = 0;

function row(i: number, ts: number, ip: string, sender: string, spoof: boolean, subject: string): Row {
  const id = `e9${String(i).padStart(6, '0')}-0000-4000-8000-08dee9000017`;
  const domain = sender.split('@')[1]!;
  return {
    Timestamp: new Date(ts).toISOString(),
    NetworkMessageId: id,
    InternetMessageId: `<W${i}@host.example>`,
    SenderMailFromAddress: sender,
    SenderFromAddress: sender,
    SenderDisplayName: spoof ? 'Fax Service' : 'Scanner',
    SenderObjectId: null,
    SenderMailFromDomain: domain,
    SenderFromDomain: domain,
    SenderIPv4: ip,
    SenderIPv6: null,
    RecipientEmailAddress: `kate.ng@${domain}`,
    RecipientObjectId: null,
    Subject: subject,
    EmailClusterId: 5000 + i,
    EmailDirection: 'Inbound',
    DeliveryAction: spoof ? 'Blocked' : 'Delivered',
    DeliveryLocation: spoof ? 'Quarantine' : 'Inbox/folder',
    ThreatTypes: spoof ? 'Phish' : null,
    ThreatNames: null,
    DetectionMethods: spoof ? '{"Phish":["Spoof intra-org"]}' : null,
    ConfidenceLevel: null,
    BulkComplaintLevel: null,
    EmailAction: null,
    EmailActionPolicy: null,
    EmailActionPolicyGuid: null,
    AuthenticationDetails: spoof
      ? '{"SPF":"softfail","DKIM":"none","DMARC":"fail","CompAuth":"fail"}'
      : '{"SPF":"pass","DKIM":"none","DMARC":"pass","CompAuth":"pass"}',
    AttachmentCount: 0,
    UrlCount: 0,
    EmailLanguage: 'en',
    Connectors: null,
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

/** Hostile subjects: what a chat must not turn into links, mentions or formatting. */
const HOSTILE = [
  'New Missed Fax-msg [Open](https://evil.example/fax) <!channel>',
  'Voicemail <@U024BE7LH> {{DATE(2026-01-01T00:00:00Z, SHORT)}} **now**',
];

let n = 0;
function baseline(): void {
  for (let d = 12; d >= 1; d--)
    rows.push(row(n++, t0 - d * DAY + 9 * 3_600_000, '198.51.100.20', 'scanner@contoso.com', false, 'Scan'));
  // The copier stopped six days ago after a week of daily scans: silent (three mean gaps of a day, floor two).
  for (let d = 12; d >= 6; d--)
    rows.push(row(n++, t0 - d * DAY + 10 * 3_600_000, '198.51.100.30', 'copier@contoso.com', false, 'Copy'));
  for (let k = 0; k < 20; k++)
    rows.push(
      row(n++, t0 - 3 * DAY + k * 3_000_000, `45.14.71.${10 + (k % 4)}`, 'kate.ng@contoso.com', true, HOSTILE[k % 2]!),
    );
}

function secondCycleMail(): void {
  for (let k = 0; k < 6; k++)
    rows.push(row(n++, t0 - 2 * 3_600_000 + k * 60_000, '203.0.113.66', 'farid.ng@contoso.com', true, HOSTILE[k % 2]!));
  for (let k = 0; k < 2; k++)
    rows.push(row(n++, t0 - 3_600_000 + k * 60_000, '198.51.100.21', 'scanner@contoso.com', false, 'Scan'));
}

/** The built CLI trusting the emulator's certificate, with the app's secret; every output kept for the secret scan. */
const run = (args: string[], env: Record<string, string> = {}, onSpawn?: (c: ChildProcess) => void) =>
  spawnCli(
    args,
    { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: emu.caFile, DSGUARD_CLIENT_SECRET: SECRET, ...env },
    { ...(onSpawn ? { onSpawn } : {}), record: (stdout, stderr) => outputs.push(stdout, stderr) },
  );

const watchArgs = (db: string, sinks: string[], once = true) => [
  'watch',
  '--tenant',
  TENANT,
  '--client-id',
  APP,
  '--authority-host',
  emu.url,
  '--graph-url',
  emu.url,
  '--db',
  db,
  '-p',
  profileFile,
  '--since',
  '14d',
  ...(once ? ['--once'] : ['--every', '1m']),
  ...sinks,
];

/** A syslog collector over TCP: RFC 6587 octet-counted frames. */
async function tcpSyslog(): Promise<{ port: number; lines: string[]; server: Server }> {
  const lines: string[] = [];
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buf.subarray(0, sp).toString('ascii'));
        if (buf.length < sp + 1 + len) break;
        lines.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return { port: (server.address() as { port: number }).port, lines, server };
}

const idsIn = (r: Receiver, pick: (b: unknown) => string) => r.accepted.map((a) => pick(a.body));
/** The card's "Id:" line: a label TextRun, then the value TextRun. */
const teamsId = (b: unknown) => {
  const card = (b as { attachments: { content: { body: { inlines?: { text: string }[] }[] } }[] }).attachments[0]!;
  const line = card.content.body.find((el) => el.inlines?.[0]?.text === 'Id: ')!;
  return line.inlines![1]!.text.slice(0, 24);
};
const slackId = (b: unknown) => /Id: ([0-9a-f]{24})/.exec(JSON.stringify(b))![1]!;
const hookId = (b: unknown) => (b as { alert: { id: string } }).alert.id;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dsguard-watch-'));
  profileFile = join(tmp, 'dsguard.yml');
  writeFileSync(
    profileFile,
    [
      'tenant:',
      '  name: Contoso',
      `  ids: [${TENANT}]`,
      `  domains: [${DOMAINS.join(', ')}]`,
      'directSendSources:',
      '  - name: MFP 2nd floor',
      '    ips: [198.51.100.20, 198.51.100.21]',
      '    senders: [scanner@contoso.com]',
      '  - name: Copier',
      '    ips: [198.51.100.30]',
      '    senders: [copier@contoso.com]',
      '',
    ].join('\n'),
  );
  const loaded = parseProfile(readFileSync(profileFile, 'utf8'), profileFile);
  if (loaded.status !== 'ok') throw new Error(loaded.error);
  profile = loaded.profile;
  baseline();
  emu = await startMicrosoftEmulator({
    apps: [{ tenantId: TENANT, clientId: APP, secret: SECRET, roles: ['ThreatHunting.Read.All'], exchangeRole: false }],
  });
  emu.route('POST', /^\/v1\.0\/security\/runHuntingQuery$/, async (ctx) => {
    const claims = ctx.requireToken(GRAPH_RESOURCE);
    if (!claims) return;
    if (gate) {
      const g = gate;
      gate = null;
      g.arrived();
      await g.release;
    }
    if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
    // The same selection collect's queries express (test/emulators/hunting.ts), over the tenant's mail so far.
    const a = answerHunting(
      { profile, events: rows, rowCap: 100_000 },
      String((ctx.json as { Query?: unknown } | undefined)?.Query ?? ''),
    );
    ctx.send(a.status, a.body);
  });
});

afterAll(async () => {
  await emu.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dsguard watch (live, against the emulator)', () => {
  it('two cycles, a restart: every alert id reaches every sink once; failed deliveries are retried', async () => {
    const hook = await startReceiver(SIG.hook);
    const teams = await startReceiver(SIG.teams, checkTeams, 202);
    const slack = await startReceiver(SIG.slack, checkSlack, 200);
    const syslog = await tcpSyslog();
    const db = join(tmp, 'watch.db');
    const ndjson = join(tmp, 'alerts.ndjson');
    const env = { HOOK: hook.url, TEAMS: teams.url, SLACK: slack.url };
    const sinks = [
      '--webhook-env',
      'HOOK',
      '--teams-env',
      'TEAMS',
      '--slack-env',
      'SLACK',
      '--syslog',
      `tcp://127.0.0.1:${syslog.port}`,
      '--ndjson',
      ndjson,
    ];
    const alertsOf = () =>
      readFileSync(ndjson, 'utf8')
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { id: string; kind: string; cycle: number; source?: { ips: string[]; name?: string } },
        );
    try {
      // Cycle 1: the webhook fails once (500: retried after 1 s), Teams throttles once (429, Retry-After: 1).
      hook.faults.push({ status: 500 });
      teams.faults.push({ status: 429, retryAfter: '1' });
      const c1 = await run(watchArgs(db, sinks), env);
      expect(c1.code, c1.stderr + c1.stdout).toBe(0);
      const first = alertsOf();
      const kinds1 = first.map((a) => a.kind).sort();
      expect(kinds1).toContain('new-malicious-source');
      expect(kinds1).toContain('source-silent');
      const silent = first.find((a) => a.kind === 'source-silent')!;
      expect(silent.source!.name).toBe('Copier');
      expect(hook.requests.map((r) => r.status)).toContain(500);
      expect(teams.requests.map((r) => r.status)).toContain(429);

      // Cycle 2: a new campaign, and the MFP on a new IP; Slack asks to wait an hour (left for the next cycle).
      secondCycleMail();
      slack.faults.push({ status: 429, retryAfter: '3600' });
      const c2 = await run(watchArgs(db, sinks), env);
      expect(c2.code).toBe(3); // a delivery failed: said (exit 3), and kept
      const line2 = JSON.parse(c2.stdout) as { tenants: { cycle: number; alerts: { pending: number } }[] };
      expect(line2.tenants[0]!.cycle).toBe(2);
      expect(line2.tenants[0]!.alerts.pending).toBeGreaterThan(0);
      const second = alertsOf().slice(first.length);
      expect(second.every((a) => a.cycle === 2)).toBe(true);
      const campaign = second.find((a) => a.kind === 'new-malicious-source');
      expect(campaign?.source?.ips).toEqual(['203.0.113.66']);
      const moved = second.find((a) => a.kind === 'source-new-ip') as
        | { ipChange: { identity: string; added: string[] } }
        | undefined;
      expect(moved?.ipChange).toMatchObject({ identity: 'name:MFP 2nd floor', added: ['198.51.100.21'] });
      expect(second.some((a) => a.source?.ips.includes('45.14.71.10'))).toBe(false); // known: not raised again

      // Cycle 3 (a restart, nothing new): Slack gets what it missed; nothing is sent twice anywhere.
      const c3 = await run(watchArgs(db, sinks), env);
      expect(c3.code, c3.stderr).toBe(0);
      const all = alertsOf();
      expect(all.length).toBe(first.length + second.length);
      const ids = all.map((a) => a.id).sort();
      expect(new Set(ids).size).toBe(ids.length);
      expect(idsIn(hook, hookId).sort()).toEqual(ids);
      expect(idsIn(teams, teamsId).sort()).toEqual(ids);
      expect(idsIn(slack, slackId).sort()).toEqual(ids);
      expect(teams.errors).toEqual([]);
      expect(slack.errors).toEqual([]);
      for (let i = 0; i < 100 && syslog.lines.length < ids.length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(syslog.lines.map((l) => /cs1=([0-9a-f]{24})/.exec(l)![1]!).sort()).toEqual(ids);
      for (const l of syslog.lines) expect(l).toMatch(/^<\d+>1 \S+ \S+ dsguard - [a-z-]+ - CEF:0\|dsguard\|dsguard\|/);
      expect(queryStore<{ seq: number }>(db, 'SELECT seq FROM watch_cycle')).toEqual([{ seq: 3 }]);
      expect(queryStore(db, 'SELECT id FROM alert_outbox')).toEqual([]);
      // Every real alert (NDJSON line, webhook body) matches the published schema, schemaVersion first.
      const bodies = [
        ...readFileSync(ndjson, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as unknown),
        ...hook.accepted.map((a) => (a.body as { alert: unknown }).alert),
      ];
      expect(new Set(bodies.map((b) => (b as { kind: string }).kind)).size).toBeGreaterThanOrEqual(3);
      for (const b of bodies) {
        expect(Object.keys(b as object)[0]).toBe('schemaVersion');
        expect(validate(ALERT_SCHEMA, b)).toEqual([]);
      }
      outputs.push(
        readFileSync(ndjson, 'utf8'),
        JSON.stringify([hook, teams, slack].map((r) => r.accepted.map((a) => a.body))),
      );
    } finally {
      await Promise.all([hook.close(), teams.close(), slack.close()]);
      syslog.server.close();
    }
  });

  it('a payload the sink keeps refusing: a dead letter after 3 cycles, said once, listed, sent again on --retry-dead', async () => {
    let refuse = true;
    const got: { status: number; id: string }[] = [];
    const server = createHttp((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c;
      });
      req.on('end', () => {
        const status = refuse ? 400 : 204;
        got.push({ status, id: (JSON.parse(body) as { alert: { id: string } }).alert.id });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    server.unref();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${SIG.hook}`;
    const db = join(tmp, 'dead.db');
    const args = watchArgs(db, ['--webhook-env', 'HOOK']);
    type Line = {
      tenants: { alerts: { raised: number; failed: unknown[]; deadLettered: unknown[]; pending: number } }[];
    };
    try {
      const c1 = await run(args, { HOOK: url });
      expect(c1.code, c1.stderr).toBe(3);
      const raised = (JSON.parse(c1.stdout) as Line).tenants[0]!.alerts.raised;
      expect(raised).toBeGreaterThan(0);
      const c2 = await run(args, { HOOK: url });
      expect(c2.code).toBe(3);
      expect((JSON.parse(c2.stdout) as Line).tenants[0]!.alerts.failed.length).toBe(raised);
      expect(c2.stderr).not.toContain('dead letter');
      // Third refusal: dead letters, said once on stderr and in the cycle's line (sink and status, never the URL).
      const c3 = await run(args, { HOOK: url });
      expect(c3.code).toBe(3);
      const a3 = (JSON.parse(c3.stdout) as Line).tenants[0]!.alerts;
      expect(a3.failed).toEqual([]);
      expect(a3.pending).toBe(0);
      expect(a3.deadLettered.length).toBe(raised);
      expect(a3.deadLettered[0]).toMatchObject({ sink: 'webhook:HOOK', status: 400, refusals: 3 });
      expect(c3.stderr.match(/is a dead letter for webhook:HOOK: refused 3 times, last 400/g)?.length).toBe(raised);
      // Fourth cycle: nothing sent, nothing said, exit 0.
      const before = got.length;
      const c4 = await run(args, { HOOK: url });
      expect(c4.code, c4.stderr).toBe(0);
      expect(got.length).toBe(before);
      expect(c4.stderr).not.toContain('dead letter');
      expect((JSON.parse(c4.stdout) as Line).tenants[0]!.alerts).toMatchObject({ deadLettered: [], pending: 0 });
      // The admin sees them …
      const listed = await run([...args, '--dead-letters'], { HOOK: url });
      expect(listed.code, listed.stderr).toBe(0);
      const dead = listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { sink: string; id: string; status: number; error: string });
      expect(dead.length).toBe(raised);
      expect(dead.every((d) => d.sink === 'webhook:HOOK' && d.status === 400)).toBe(true);
      expect(listed.stdout).not.toContain('127.0.0.1');
      // … fixes the receiver and sends them again, once.
      refuse = false;
      const retried = await run([...args, '--retry-dead'], { HOOK: url });
      expect(retried.code, retried.stderr).toBe(0);
      expect(retried.stderr).toContain(`${raised} dead letter(s) to send again`);
      const accepted = got.filter((g) => g.status === 204).map((g) => g.id);
      expect(accepted.sort()).toEqual(dead.map((d) => d.id).sort());
      expect(queryStore(db, 'SELECT id FROM alert_outbox')).toEqual([]);
      expect(queryStore(db, 'SELECT id FROM alert_refusal')).toEqual([]);
      for (const r of [c1, c2, c3, c4, listed, retried]) expect(r.stdout + r.stderr).not.toContain(SIG.hook);
      // A mistyped store path is said, with the path, and no empty store is left there.
      const nowhere = join(tmp, 'no-such-store.db');
      const missing = await run([...watchArgs(nowhere, ['--webhook-env', 'HOOK']), '--dead-letters'], { HOOK: url });
      expect(missing.code).toBe(3);
      expect(missing.stderr).toContain(`no store at ${nowhere}`);
      expect(existsSync(nowhere)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('--rate: a bad value or an unknown sink is a usage error (exit 2); a good one runs; --minimal', async () => {
    const hook = await startReceiver(SIG.hook);
    const db = join(tmp, 'rate.db');
    try {
      for (const bad of ['webhook=0/s', 'webhook=5', 'webhook=5/m', 'webhook=2/s,0', 'webhook=-1/s', 'slack=1/s']) {
        const r = await run(watchArgs(db, ['--webhook-env', 'HOOK', '--rate', bad]), { HOOK: hook.url });
        expect(r.code, bad).toBe(2);
        expect(r.stderr, bad).toMatch(/--rate/);
        expect(r.stderr).not.toContain(SIG.hook);
      }
      const ok = await run(watchArgs(db, ['--webhook-env', 'HOOK', '--rate', 'webhook:HOOK=0.5/s,20', '--minimal']), {
        HOOK: hook.url,
      });
      expect(ok.code, ok.stderr).toBe(0);
      expect(hook.accepted.length).toBeGreaterThan(0);
      // --minimal: nothing from mail beyond IPs and counts (no senders, subjects, finding codes).
      const bodies = hook.accepted.map((a) => (a.body as { alert: { source?: Record<string, unknown> } }).alert);
      expect(bodies.some((b) => b.source)).toBe(true);
      for (const b of bodies) {
        expect(validate(ALERT_SCHEMA, b)).toEqual([]);
        expect(Object.keys(b.source ?? {})).not.toContain('senders');
        expect(Object.keys(b.source ?? {})).not.toContain('subjects');
        expect(JSON.stringify(b)).not.toMatch(/kate\.ng|Fax|Voicemail/);
      }
    } finally {
      await hook.close();
    }
  });

  it('SIGTERM mid-collect: the process ends, the cycle is not recorded, the store is sound', async () => {
    const hook = await startReceiver(SIG.hook);
    const db = join(tmp, 'term-collect.db');
    let release!: () => void;
    const arrived = new Promise<void>((resolve) => {
      gate = { arrived: resolve, release: new Promise<void>((r) => (release = r)) };
    });
    let child: ChildProcess | null = null;
    const done = run(watchArgs(db, ['--webhook-env', 'HOOK'], false), { HOOK: hook.url }, (c) => {
      child = c;
    });
    await arrived; // a hunting request is in flight
    child!.kill('SIGTERM');
    // Every answer from now on takes 200 ms: the signal lands long before the 14 daily windows run out.
    slowMs = 200;
    release();
    const r = await done.finally(() => {
      slowMs = 0;
    });
    await hook.close();
    expect(r.code, r.stderr).toBe(3); // the collect was interrupted: said (exit 3), not hidden
    const line = JSON.parse(r.stdout) as { tenants: { collect: string; recorded: boolean }[] };
    expect(line.tenants[0]).toMatchObject({ collect: 'interrupted', recorded: false });
    expect(queryStore(db, 'PRAGMA quick_check')).toEqual([{ quick_check: 'ok' }]);
    expect(queryStore(db, 'SELECT seq FROM watch_cycle')).toEqual([]);
    expect(hook.accepted).toEqual([]);
  });

  it('SIGTERM mid-delivery: the cycle is recorded, the rest waits in the outbox, a restart sends it once', async () => {
    const db = join(tmp, 'term-deliver.db');
    let child: ChildProcess | null = null;
    // SIGTERM goes out while the first POST is in flight; every answer then takes 300 ms (a slow receiver), so
    // the signal lands while the outbox still holds alerts however loaded the machine is (the exact number sent
    // before it does is not asserted: at least the one in flight, never all).
    let first = true;
    const got: string[] = [];
    const server = createHttp((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c;
      });
      req.on('end', async () => {
        if (first) {
          first = false;
          child!.kill('SIGTERM');
        }
        await new Promise((r) => setTimeout(r, 300));
        got.push((JSON.parse(body) as { alert: { id: string } }).alert.id);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    server.unref();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${SIG.hook}`;
    try {
      const r = await run(watchArgs(db, ['--webhook-env', 'HOOK'], false), { HOOK: url }, (c) => {
        child = c;
      });
      expect(r.code, r.stderr).toBe(0);
      expect(queryStore(db, 'PRAGMA quick_check')).toEqual([{ quick_check: 'ok' }]);
      expect(queryStore<{ seq: number }>(db, 'SELECT seq FROM watch_cycle')).toEqual([{ seq: 1 }]);
      const sent = [...got];
      expect(sent.length).toBeGreaterThanOrEqual(1); // the alert in flight was completed and recorded
      const pending = queryStore<{ id: string }>(db, 'SELECT id FROM alert_outbox').map((p) => p.id);
      expect(pending.length).toBeGreaterThan(0); // the rest waits
      for (const id of sent) expect(pending).not.toContain(id);
      // A restart delivers what was left, once.
      const again = await run(watchArgs(db, ['--webhook-env', 'HOOK']), { HOOK: url });
      expect(again.code, again.stderr).toBe(0);
      expect([...got].sort()).toEqual([...sent, ...pending].sort());
      expect(queryStore(db, 'SELECT id FROM alert_outbox')).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('SIGINT between cycles: the process ends at once after the recorded cycle', async () => {
    const hook = await startReceiver(SIG.hook);
    const db = join(tmp, 'term-idle.db');
    let child: ChildProcess | null = null;
    let firstLine!: () => void;
    const cycled = new Promise<void>((r) => (firstLine = r));
    const done = run(watchArgs(db, ['--webhook-env', 'HOOK'], false), { HOOK: hook.url }, (c) => {
      child = c;
      c.stdout!.on('data', () => firstLine());
    });
    await cycled; // the first cycle printed its line; the next is a minute away
    child!.kill('SIGINT'); // Ctrl-C: handled like SIGTERM (the other tests)
    const r = await done;
    await hook.close();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBe(1);
    expect(queryStore(db, 'PRAGMA quick_check')).toEqual([{ quick_check: 'ok' }]);
    expect(queryStore(db, 'SELECT seq FROM watch_cycle')).toEqual([{ seq: 1 }]);
    expect(queryStore(db, 'SELECT id FROM alert_outbox')).toEqual([]);
    expect(hook.accepted.length).toBeGreaterThan(0);
  });

  it('no secret, token or webhook signature in any output, alert or stored row', () => {
    expect(emu.issuedTokens.length).toBeGreaterThan(0);
    const stores = ['watch.db', 'term-collect.db', 'term-deliver.db', 'term-idle.db', 'dead.db', 'rate.db'].map((f) =>
      readFileSync(join(tmp, f)).toString('latin1'),
    );
    const secrets = [
      SECRET,
      ...Object.values(SIG).map((s) =>
        s
          .split('/')
          .pop()!
          .replace(/^.*sig=/, ''),
      ),
      ...emu.issuedTokens,
    ];
    for (const text of [...outputs, ...stores]) for (const s of secrets) expect(text).not.toContain(s);
  });
});
