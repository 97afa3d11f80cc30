/**
 * Collect benchmark (issue #17): a simulated Defender for Office 365 Plan 2 tenant — 10,000 mailboxes,
 * 1,000,000 messages a day for 30 days — served by a local HTTPS advanced-hunting emulator, read by
 * `collectTenant` (dist/) exactly as `dsguard collect` reads it. Printed: the requests and bytes collect needed,
 * the requests a full message-trace pull of the same mail would need (and the trace path's detail calls),
 * the time collect spent waiting on the emulator vs working, and whether the report of the collected store equals
 * the report of `ingest` of what was served.
 *
 * The emulator cannot run KQL: it recognises each query by rebuilding it with dsguard's builders
 * (dist/core/kql/windowed.js) and applies the selection in bench code (matchesRow of the same conditions) to the
 * rows it generates. It generates lazily, per day and deterministically, only the rows that can match (Direct
 * Send, spoofs, and near misses: partner-connector and intra-org mail from the tenant's domains) — the other
 * ~998,000 messages of a day exist only as counts for the per-day totals. Nothing holds 30M rows.
 *
 * Usage (after `npm run build`):
 *   node bench/collect-bench.mjs                          # 1,000,000 messages a day, 30 days
 *   node bench/collect-bench.mjs --per-day 10000 --days 7 # smaller
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dist = (p) => join(root, 'dist', p);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DAY = 86_400_000;
const PER_DAY = arg('per-day', 1_000_000);
const DAYS = arg('days', 30);
const MAILBOXES = arg('mailboxes', 10_000);
const ROW_CAP = 100_000;
const TRACE_PAGE = 5000;
const TRACE_WINDOW_DAYS = 10;

const PROFILE_YAML = `tenant:
  name: Bench Corp
  domains: [contoso.com, contoso.co.uk]
directSendSources:
${Array.from({ length: 12 }, (_, i) => `  - name: Device ${i + 1}\n    ips: [198.51.100.${10 + i}]\n    senders: [device${i + 1}@contoso.com]`).join('\n')}
connectors:
  - name: Fabrikam Partner
    type: Partner
    senderIps: [192.0.2.0/24]
`;

/** Direct Send / spoof mix of a day (rows = message × recipient, one recipient each). */
const MIX = { devices: 1800, spoofs: 150, partner: 40, intraOrg: 40 };

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const hex = (n, w) => n.toString(16).padStart(w, '0');
/** NetworkMessageId that encodes its day and index: the facts of a message are regenerated from its id. */
const nmid = (day, i) => `${hex(day, 8)}-${hex(i, 4)}-4000-8000-08dee9${hex(day % 4096, 3)}bc${hex(i % 16, 1)}`;

/** The candidate rows of one day (index `day` since the epoch), generated the same every time. */
function dayRows(day) {
  const r = rng(day * 7919 + 17);
  const rows = [];
  const base = day * DAY;
  const user = () => `user${Math.floor(r() * MAILBOXES)}@contoso.com`;
  const row = (kind, i) => {
    const ts = base + Math.floor(r() * DAY);
    const device = Math.floor(r() * 12);
    const spoofIp = `45.14.${71 + Math.floor(r() * 3)}.${10 + Math.floor(r() * 40)}`;
    const from =
      kind === 'device' ? `device${device + 1}@contoso.com` : kind === 'partner' ? 'billing@contoso.com' : user();
    const rcpt = user();
    const withFacts = kind === 'spoof' && r() < 0.6;
    return {
      Timestamp: new Date(ts).toISOString(),
      NetworkMessageId: nmid(day, i),
      InternetMessageId: `<${day}.${i}@bench.example>`,
      SenderMailFromAddress: from,
      SenderFromAddress: from,
      SenderDisplayName: kind === 'device' ? `Device ${device + 1}` : 'Someone',
      SenderMailFromDomain: 'contoso.com',
      SenderFromDomain: 'contoso.com',
      SenderIPv4:
        kind === 'device'
          ? `198.51.100.${10 + device}`
          : kind === 'spoof'
            ? spoofIp
            : kind === 'partner'
              ? '192.0.2.7'
              : '10.0.0.5',
      SenderIPv6: null,
      RecipientEmailAddress: rcpt,
      Subject: kind === 'spoof' ? 'New Missed Fax-msg' : kind === 'device' ? 'Scan to email' : 'Invoice',
      EmailDirection: kind === 'intra' ? 'Intra-org' : 'Inbound',
      Connectors: kind === 'partner' ? 'Fabrikam Partner' : null,
      DeliveryAction: kind === 'spoof' ? 'Blocked' : 'Delivered',
      DeliveryLocation: kind === 'spoof' ? 'Quarantine' : 'Inbox/folder',
      ThreatTypes: kind === 'spoof' ? 'Phish' : null,
      DetectionMethods: kind === 'spoof' ? '{"Phish":["Spoof intra-org"]}' : null,
      ConfidenceLevel: null,
      BulkComplaintLevel: null,
      // A scan carries its PDF: the attachment semi-join selects every scan too (facts of unflagged messages).
      AttachmentCount: withFacts || kind === 'device' ? 1 : 0,
      UrlCount: withFacts ? 1 : 0,
      EmailLanguage: 'en',
      OrgLevelAction: null,
      UserLevelAction: null,
      AuthenticationDetails:
        kind === 'spoof'
          ? '{"SPF":"softfail","DKIM":"none","DMARC":"fail","CompAuth":"fail"}'
          : '{"SPF":"pass","DKIM":"none","DMARC":"pass","CompAuth":"pass"}',
      ReportId: `${nmid(day, i)}-1`,
    };
  };
  let i = 0;
  for (let k = 0; k < MIX.devices; k++) rows.push(row('device', i++));
  for (let k = 0; k < MIX.spoofs; k++) rows.push(row('spoof', i++));
  for (let k = 0; k < MIX.partner; k++) rows.push(row('partner', i++));
  for (let k = 0; k < MIX.intraOrg; k++) rows.push(row('intra', i++));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Child: collect, timed.

async function child(url, db) {
  // Time spent waiting on the emulator: from each request's start to the end of its response, measured by
  // wrapping node:https's request (the one the Graph client uses) before dist/ is loaded.
  const require = createRequire(import.meta.url);
  const https = require('node:https');
  const original = https.request;
  let waitMs = 0;
  https.request = (...a) => {
    const t = performance.now();
    const req = original(...a);
    req.on('response', (res) => res.on('end', () => (waitMs += performance.now() - t)));
    return req;
  };
  syncBuiltinESMExports();
  const { collectTenant } = await import(dist('collect/collect.js'));
  const { parseProfile } = await import(dist('config/profile-file.js'));
  const { staticTokenSource } = await import(dist('tenant/auth.js'));
  const profile = parseProfile(PROFILE_YAML, 'bench.yml').profile;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await collectTenant({
    tenantId: 'bench.onmicrosoft.com',
    tokens: staticTokenSource(() => 'bench-token-0123456789abcdef'),
    db,
    profile,
    sinceMs: DAYS * DAY,
    overlapMs: 6 * 3_600_000,
    graphUrl: url,
    now: () => new Date(Number(process.env.BENCH_NOW)),
    // BENCH_TRACE=1: collect's progress lines on stderr, each with the child's clock (where the time goes).
    ...(process.env.BENCH_TRACE
      ? { onProgress: (l) => process.stderr.write(`${Math.round(performance.now())} ${l}\n`) }
      : {}),
  });
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({ result, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, waitMs }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: the emulator.

async function main() {
  const { generate } = await import('selfsigned');
  const { inventoryBody, dailyTotalsQuery, factsOfInventoryQuery, INVENTORY_COLUMNS, FACT_COLUMNS, FACT_COUNT_COLUMN } =
    await import(dist('core/kql/windowed.js'));
  const { matchesRow } = await import(dist('core/kql/condition.js'));
  const { channelConditions } = await import(dist('core/kql/selection.js'));
  const { parseProfile } = await import(dist('config/profile-file.js'));
  const { planTraceDetails } = await import(dist('collect/trace-detail-plan.js'));
  const profile = parseProfile(PROFILE_YAML, 'bench.yml').profile;
  const ch = channelConditions(profile);
  const noConn = { op: 'all', of: [ch.inbound, ch.noConnector] };

  // "Now": the end of the last simulated day, so 30 whole days are in reach.
  const now = Math.floor(Date.now() / DAY) * DAY;
  const firstDay = now / DAY - DAYS;
  const cache = new Map();
  const rowsOf = (day) => {
    if (day < firstDay || day >= firstDay + DAYS) return [];
    let r = cache.get(day);
    if (!r) {
      r = dayRows(day);
      cache.set(day, r);
    }
    return r;
  };
  const asRow = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : String(v)]));
  const inWindow = (row, from, to) => {
    const t = Date.parse(row.Timestamp);
    return t >= from && t < to;
  };
  const daysOf = (from, to) => {
    const out = [];
    for (let d = Math.floor(from / DAY); d * DAY < to; d++) out.push(d);
    return out;
  };
  const project = (r) => {
    const a = JSON.parse(r.AuthenticationDetails);
    const computed = {
      Channel: matchesRow(ch.p1Internal, asRow(r)) ? 'direct-send' : 'internal-spoof',
      SPF: a.SPF,
      DKIM: a.DKIM,
      DMARC: a.DMARC,
      CompAuth: a.CompAuth,
    };
    return Object.fromEntries(INVENTORY_COLUMNS.map((c) => [c, c in computed ? computed[c] : (r[c] ?? null)]));
  };
  // The ~998,000 other messages of a day, as counts only: 55 % inbound internet mail from other domains
  // (5 % of it through a connector), the rest the tenant's own Intra-org and Outbound mail.
  const bulk = PER_DAY - (MIX.devices + MIX.spoofs + MIX.partner + MIX.intraOrg);
  const bulkInbound = Math.round(bulk * 0.55);
  const bulkNoConnector = Math.round(bulkInbound * 0.95);

  let serverMs = 0;
  let requests = 0;
  let bytes = 0;
  const served = { inventory: [], attachments: [], urls: [] };
  const factRowsSent = { EmailAttachmentInfo: 0, EmailUrlInfo: 0 };
  const answer = (query) => {
    const w = /Timestamp >= datetime\(([^)]+)\) and Timestamp < datetime\(([^)]+)\)/.exec(query);
    if (!w) return null;
    const window = { from: w[1], to: w[2] };
    const from = Date.parse(w[1]);
    const to = Date.parse(w[2]);
    if (query === inventoryBody(profile, window)) {
      const out = [];
      for (const d of daysOf(from, to))
        for (const r of rowsOf(d)) if (inWindow(r, from, to) && matchesRow(ch.inventory, asRow(r))) out.push(r);
      out.sort(
        (a, b) =>
          a.Timestamp.localeCompare(b.Timestamp) ||
          a.NetworkMessageId.localeCompare(b.NetworkMessageId) ||
          a.RecipientEmailAddress.localeCompare(b.RecipientEmailAddress),
      );
      const rows = out.slice(0, ROW_CAP).map(project);
      served.inventory.push(...rows);
      return rows;
    }
    if (query === dailyTotalsQuery(profile, window)) {
      return daysOf(from, to).map((d) => {
        const covered = (Math.min(to, (d + 1) * DAY) - Math.max(from, d * DAY)) / DAY;
        const c = [0, 0, 0, 0, 0];
        for (const r of rowsOf(d)) {
          if (!inWindow(r, from, to)) continue;
          const e = asRow(r);
          c[0]++;
          if (matchesRow(ch.inbound, e)) c[1]++;
          if (matchesRow(noConn, e)) c[2]++;
          if (matchesRow(ch.directSend, e)) c[3]++;
          if (matchesRow(ch.internalSpoof, e)) c[4]++;
        }
        const inReach = d >= firstDay && d < firstDay + DAYS;
        const part = (n) => (inReach ? Math.round(n * covered) : 0);
        return {
          Day: new Date(d * DAY).toISOString(),
          Total: c[0] + part(bulk),
          Inbound: c[1] + part(bulkInbound),
          NoConnector: c[2] + part(bulkNoConnector),
          DirectSend: c[3],
          InternalSpoof: c[4],
        };
      });
    }
    // A fact query: EmailAttachmentInfo / EmailUrlInfo rows of the inventory messages of its first window whose
    // AttachmentCount / UrlCount is not 0, in its second window (the semi-join, applied here).
    const ws = [...query.matchAll(/Timestamp >= datetime\(([^)]+)\) and Timestamp < datetime\(([^)]+)\)/g)];
    const table = ['EmailAttachmentInfo', 'EmailUrlInfo'].find((t) => query.includes(`;\n${t}\n`));
    if (!table || ws.length !== 2) return null;
    const messages = { from: ws[0][1], to: ws[0][2] };
    const facts = { from: ws[1][1], to: ws[1][2] };
    if (query !== factsOfInventoryQuery(profile, table, messages, facts)) return null;
    const mFrom = Date.parse(messages.from);
    const mTo = Date.parse(messages.to);
    const fFrom = Date.parse(facts.from);
    const fTo = Date.parse(facts.to);
    const count = FACT_COUNT_COLUMN[table];
    const selected = [];
    for (const d of daysOf(mFrom, mTo))
      for (const r of rowsOf(d))
        if (inWindow(r, mFrom, mTo) && matchesRow(ch.inventory, asRow(r)) && r[count] !== 0) selected.push(r);
    const out = [];
    for (const r of selected) {
      if (!inWindow(r, fFrom, fTo)) continue;
      const id = r.NetworkMessageId;
      const day = Number.parseInt(id.slice(0, 8), 16);
      const i = Number.parseInt(id.slice(9, 13), 16);
      const base = { Timestamp: r.Timestamp, NetworkMessageId: id, ReportId: `${id}-f` };
      // A scanner's PDF, or the spoof's phishing fax.
      const scan = r.Subject === 'Scan to email';
      const fact =
        table === 'EmailAttachmentInfo'
          ? {
              ...base,
              SenderFromAddress: r.SenderFromAddress,
              RecipientEmailAddress: r.RecipientEmailAddress,
              FileName: `${scan ? 'Scan' : 'Fax'}-${day}-${i}.pdf`,
              FileType: 'pdf',
              SHA256: (scan ? `${hex(i, 8)}${hex(day, 8)}` : `${hex(day, 8)}${hex(i, 8)}`).repeat(4),
              FileSize: (scan ? 90_000 : 40_000) + i,
              ThreatTypes: scan ? null : 'Phish',
            }
          : {
              ...base,
              Url: `https://fax-${i % 37}.example/v/${i}`,
              UrlDomain: `fax-${i % 37}.example`,
              UrlLocation: 'QRCode',
            };
      const row = Object.fromEntries(FACT_COLUMNS[table].map((c) => [c, fact[c] ?? null]));
      out.push(row);
    }
    out.sort((a, b) => a.Timestamp.localeCompare(b.Timestamp) || a.NetworkMessageId.localeCompare(b.NetworkMessageId));
    const rows = out.slice(0, ROW_CAP);
    // The reference keeps the facts of the spoofs (what the assessment flags here, by construction): collect is
    // to keep exactly those of the rows it receives.
    const spoofIds = new Set(selected.filter((r) => r.Subject === 'New Missed Fax-msg').map((r) => r.NetworkMessageId));
    factRowsSent[table] += rows.length;
    (table === 'EmailAttachmentInfo' ? served.attachments : served.urls).push(
      ...rows.filter((x) => spoofIds.has(x.NetworkMessageId)),
    );
    return rows;
  };

  const ca = await generate([{ name: 'commonName', value: 'dsguard bench CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  mkdirSync(join(here, '.data'), { recursive: true });
  const dir = mkdtempSync(join(here, '.data', 'collect-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const server = createServer({ key: leaf.private, cert: leaf.cert }, (req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const t = performance.now();
      requests++;
      let status = 400;
      let out = { error: { code: 'BadRequest', message: 'the bench emulator does not know this request' } };
      if (req.method === 'POST' && req.url === '/v1.0/security/runHuntingQuery') {
        const rows = answer(JSON.parse(body).Query ?? '');
        if (rows) {
          status = 200;
          out = {
            '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults',
            schema: rows[0] ? Object.keys(rows[0]).map((name) => ({ name, type: 'String' })) : [],
            results: rows,
          };
        }
      }
      const text = JSON.stringify(out);
      bytes += Buffer.byteLength(text);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      serverMs += performance.now() - t;
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${server.address().port}`;
  const db = join(dir, 'collect.db');
  const out = await new Promise((resolveRun, reject) => {
    const c = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_CHILD_ARGS ? process.env.BENCH_CHILD_ARGS.split(' ') : []),
        fileURLToPath(import.meta.url),
        '--child',
        url,
        db,
        ...process.argv.slice(2),
      ],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, BENCH_NOW: String(now) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
    });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolveRun(JSON.parse(s)) : reject(new Error(`child exited ${code}`))));
  });
  server.close();

  // Reference: `ingest` of what was served (inventory + the spoofs' facts) as exports, then both reports compared (without
  // provenance, and without mailTotals: only a collected store has the per-day totals of all mail).
  const { ingest } = await import(dist('ingest/ingest.js'));
  const { tenantReportFromFile } = await import(dist('report/tenant-report.js'));
  const refDb = join(dir, 'ref.db');
  const files = [];
  for (const [name, rows] of Object.entries(served)) {
    const f = join(dir, `${name}.json`);
    writeFileSync(f, JSON.stringify({ results: rows }));
    files.push(f);
  }
  await ingest(files, { db: refDb, profile });
  const strip = (rep) =>
    JSON.stringify(rep, (k, v) =>
      ['files', 'file', 'sha256', 'row', 'path', 'mailTotals'].includes(k) ? undefined : v,
    );
  const a = tenantReportFromFile(db, { profile, since: null });
  const b = tenantReportFromFile(refDb, { profile, since: null });
  const same = a.status === 'ok' && b.status === 'ok' && strip(a.report) === strip(b.report);

  // What the other paths would cost: every row of every 10-day window in 5,000-row pages, and the trace
  // detail calls dsguard's plan would make (computed on the generated candidate rows: bulk mail is from other
  // domains and never planned).
  let tracePages = 0;
  for (let d = 0; d < DAYS; d += TRACE_WINDOW_DAYS)
    tracePages += Math.ceil((Math.min(TRACE_WINDOW_DAYS, DAYS - d) * PER_DAY) / TRACE_PAGE);
  const candidates = [];
  for (let d = firstDay; d < firstDay + DAYS; d++)
    for (const r of rowsOf(d))
      candidates.push({
        id: r.NetworkMessageId,
        receivedDateTime: r.Timestamp,
        senderAddress: r.SenderMailFromAddress,
        recipientAddress: r.RecipientEmailAddress,
        fromIP: r.SenderIPv4,
      });
  const details = planTraceDetails(candidates, profile.acceptedDomains).length;

  const r = out.result;
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const pct = (a, b) => `${((a / b) * 100).toFixed(2)} %`;
  const lines = [
    `tenant: ${fmt(MAILBOXES)} mailboxes, ${fmt(PER_DAY)} messages a day, ${DAYS} days (${fmt(PER_DAY * DAYS)} EmailEvents rows); Direct Send / spoof candidates generated: ${fmt(cache.size * Object.values(MIX).reduce((x, y) => x + y, 0))}`,
    `collect: status ${r.status}, ${fmt(r.requests)} requests (${r.windows} inventory windows, ${r.splits} splits, 1 per-day totals, ${r.facts?.queries ?? 0} attachment/URL semi-join queries: ${fmt(r.facts?.attachments ?? 0)} attachment + ${fmt(r.facts?.urls ?? 0)} URL rows, ${fmt(r.facts?.messages ?? 0)} flagged messages), ${fmt(r.bytes)} bytes received; ${fmt(r.rows)} inventory rows stored`,
    `per-day totals: ${fmt(r.totals?.total ?? 0)} rows, ${fmt(r.totals?.inbound ?? 0)} inbound, ${fmt(r.totals?.directSend ?? 0)} Direct Send = ${r.totals?.directSendPercentOfInbound ?? '-'} % of inbound`,
    `emulator: ${fmt(requests)} requests answered, ${fmt(bytes)} bytes sent, ${fmt(serverMs)} ms answering`,
    `full message-trace pull of the same mail: at least ${fmt(tracePages)} requests (${TRACE_PAGE}-row pages, 10-day windows) + ${fmt(details)} getDetailsByRecipient calls (the trace path for a tenant without hunting)`,
    `collect / trace pull: ${pct(r.requests, tracePages)} of the requests (target ≤ 1 %): ${r.requests <= tracePages / 100 ? 'OK' : 'MISSED'}`,
    `time: ${fmt(out.wallMs)} ms wall in collect: waiting on the emulator ${fmt(out.waitMs)} ms (${pct(out.waitMs, out.wallMs)}; the emulator spent ${fmt(serverMs)} ms answering), working ${fmt(out.wallMs - out.waitMs)} ms (${pct(out.wallMs - out.waitMs, out.wallMs)}; CPU ${fmt(out.cpuMs)} ms)`,
    `fact rows sent: ${fmt(factRowsSent.EmailAttachmentInfo)} attachment + ${fmt(factRowsSent.EmailUrlInfo)} URL; of the spoofs (flagged): ${fmt(served.attachments.length)} + ${fmt(served.urls.length)}; collect kept ${fmt(r.facts?.attachments ?? 0)} + ${fmt(r.facts?.urls ?? 0)}`,
    `report of the collected store = report of ingest of the served rows (inventory + the spoofs' facts): ${same ? 'yes' : 'NO'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
  if (!same || r.status !== 'ok') process.exitCode = 1;
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await main();
