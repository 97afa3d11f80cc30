/**
 * Deterministic generator of a real-shaped `Get-MessageTraceV2 | Export-Csv -NoTypeInformation` file for the
 * ingest benchmark: every field quoted (as Export-Csv writes them), subjects with commas, quotes and non-ASCII
 * text, the US date form Windows PowerShell writes on an en-US machine, rows Received-descending.
 *
 * Traffic mix of one tenant (contoso.com, contoso.co.uk): inbound internet mail, outbound mail, internal
 * mail, and Direct Send: two printers, one line-of-business app, and spoofing campaigns from VPS addresses.
 *
 * Usage: node bench/ingest-bench-data.mjs <rows> <out.csv>
 * @module
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const TENANT_DOMAINS = ['contoso.com', 'contoso.co.uk'];

export const HEADER = [
  'PSComputerName',
  'RunspaceId',
  'PSShowComputerName',
  'MessageTraceId',
  'MessageId',
  'Received',
  'SenderAddress',
  'RecipientAddress',
  'FromIP',
  'ToIP',
  'Subject',
  'Status',
  'Size',
];

/** Small, fast, seedable PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['anna', 'ben', 'chloé', 'david', 'emma', 'farid', 'grace', 'hiro', 'ines', 'jonas', 'kate', 'liam'];
const LAST = ['smith', 'jones', 'müller', 'garcia', 'kowalski', 'tanaka', 'dubois', 'rossi', 'ng', 'olsen'];
const EXTERNAL = [
  'fabrikam.com',
  'tailspintoys.com',
  'wingtiptoys.com',
  'northwindtraders.com',
  'adatum.com',
  'litwareinc.com',
  'gmail.com',
  'outlook.com',
  'newsletter.example.net',
  'billing.example.org',
];
const SUBJECTS = [
  'Re: Q3 budget, final numbers',
  'Meeting notes – 北京 office visit',
  'Your order #{n} has shipped',
  'Invoice {n} for "consulting", due in 30 days',
  'Weekly report: sales, pipeline, forecast',
  'Café order confirmation {n}',
  'FW: contract draft v{n}',
  'Déjeuner vendredi ?',
  'Scan from MFP-2F {n}',
  'Alert: disk usage at {n}% on srv-app-01',
  'Your password expires in {n} days',
  'Voicemail from +1 (555) 01{n} – 0:{n} sec',
  'Payroll update, action required',
  'Настройки доступа {n}',
];

/** Microsoft's outbound IPv6 range, as seen in FromIP of internal and inbound-from-M365 mail. */
function exoIp(r) {
  return `2a01:111:f403:${(0xc000 + Math.floor(r() * 0x3fff)).toString(16)}::${Math.floor(r() * 0xfff).toString(16)}`;
}
function publicIp(r) {
  return `${20 + Math.floor(r() * 180)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
}
function guid(r) {
  const h = (n) =>
    Array.from({ length: n }, () =>
      Math.floor(r() * 16)
        .toString(16)
        .toString(),
    ).join('');
  return `${h(8)}-${h(4)}-${h(4)}-${h(4)}-08de${h(8)}`;
}
function pick(r, arr) {
  return arr[Math.floor(r() * arr.length)];
}
function user(r, domain) {
  return `${pick(r, FIRST)}.${pick(r, LAST)}@${domain}`;
}
function subject(r) {
  return pick(r, SUBJECTS).replaceAll('{n}', String(Math.floor(r() * 1000)));
}
function usDate(ms) {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}
function q(v) {
  return `"${String(v).replaceAll('"', '""')}"`;
}

const PRINTERS = [
  { ip: '198.51.100.20', sender: 'scanner@contoso.com', subject: 'Scan from MFP-2F {n}' },
  { ip: '198.51.100.21', sender: 'copier@contoso.com', subject: 'Message from "KM_C300i" {n}' },
];
const APP = { ip: '203.0.113.45', sender: 'erp-noreply@contoso.com', subject: 'Purchase order {n}, approved' };

/**
 * Sending hosts: inbound internet mail comes from a limited population of MTAs (big providers send most of it),
 * so FromIP is drawn from a fixed pool with a skewed (power-law-like) distribution, not uniformly from 2^32.
 */
function makePool(r, n, gen) {
  return Array.from({ length: n }, () => gen(r));
}
function skewed(r, pool) {
  return pool[Math.floor(pool.length * r() ** 3)];
}
/** Spoofing campaigns: VPS address ranges and the lure subjects they send. */
const SPOOF_NETS = ['45.14.71', '185.234.219', '91.92.246', '5.188.206'];
const LURE_SUBJECTS = ['New Missed Fax-msg', 'Voicemail: Caller left VM Message', 'Payroll, direct deposit change'];
function spoofIp(r) {
  return `${pick(r, SPOOF_NETS)}.${1 + Math.floor(r() * 250)}`;
}

/** The exported columns of {@link HEADER} for one message; draws the ids and the size from `r`, in column order. */
function traceRow(r, received, sender, recipient, fromIp, subj, status) {
  return [
    'BN8PR12MB3201',
    '5e1c7a2b-1f4a-4c9e-9d3b-2a8f6c0e1b7d',
    'False',
    guid(r),
    `<${guid(r)}@${sender.split('@')[1]}>`,
    received,
    sender,
    recipient,
    fromIp,
    '',
    subj,
    status,
    String(2000 + Math.floor(r() * 200000)),
  ];
}

let INBOUND_POOL = null;
let EXO_POOL = null;

/**
 * One row as an array of field values. `i` counts down so Received is descending; `given` fixes the traffic
 * class draw (the realistic mix uses the inbound and outbound classes only).
 */
export function makeRow(r, i, endMs, stepMs, given) {
  INBOUND_POOL ??= makePool(r, 20_000, publicIp);
  EXO_POOL ??= makePool(r, 4_000, exoIp);
  const ms = endMs - i * stepMs;
  const received = usDate(ms);
  const x = given ?? r();
  const internal = pick(r, TENANT_DOMAINS);
  let sender;
  let recipient;
  let fromIp;
  let subj;
  let status = 'Delivered';
  if (x < 0.55) {
    recipient = user(r, internal);
    if (r() < 0.3) {
      // Mail from other Microsoft 365 tenants: shared outbound IPs, any domain.
      sender = user(r, pick(r, EXTERNAL));
      fromIp = skewed(r, EXO_POOL);
    } else {
      // Other MTAs send for their own organisation: one domain per IP.
      const k = Math.floor(INBOUND_POOL.length * r() ** 3);
      fromIp = INBOUND_POOL[k];
      sender = user(r, EXTERNAL[k % EXTERNAL.length]);
    }
    subj = subject(r);
    if (r() < 0.05) status = 'FilteredAsSpam';
  } else if (x < 0.8) {
    sender = user(r, internal);
    recipient = user(r, pick(r, EXTERNAL));
    fromIp = r() < 0.5 ? '' : skewed(r, EXO_POOL);
    subj = subject(r);
  } else if (x < 0.92) {
    sender = user(r, internal);
    recipient = user(r, internal);
    fromIp = skewed(r, EXO_POOL);
    subj = subject(r);
  } else if (x < 0.97) {
    const p = x < 0.95 ? pick(r, PRINTERS) : APP;
    sender = p.sender;
    recipient = user(r, internal);
    fromIp = p.ip;
    subj = p.subject.replaceAll('{n}', String(Math.floor(r() * 100000)));
  } else {
    recipient = user(r, internal);
    sender = r() < 0.7 ? recipient : user(r, internal);
    fromIp = spoofIp(r);
    subj = pick(r, LURE_SUBJECTS);
    if (r() < 0.4) status = 'Quarantined';
  }
  return traceRow(r, received, sender, recipient, fromIp, subj, status);
}

let INTERNAL_POOL = null;

/**
 * One row of the realistic mix (issue #12): 27 % internal → internal rows, 12 % of all rows with a public FromIP
 * (hybrid on-premises servers, scanners and SaaS senders relaying for the tenant's domains, a few hundred hosts
 * with skewed popularity, and spoofing from VPS addresses) and 15 % with no FromIP (mail between the tenant's
 * own mailboxes, as message trace shows it); the rest inbound internet mail (48 %) and outbound mail (25 %).
 */
export function makeMixRow(r, i, endMs, stepMs, randomIps = false) {
  INTERNAL_POOL ??= makePool(r, 400, publicIp);
  const x = r();
  // Inbound (the bench's draws 0.27–0.55) for 48 % of the rows, outbound (0.55–0.8) for 25 %.
  if (x >= 0.75) return makeRow(r, i, endMs, stepMs, 0.55 + (x - 0.75));
  if (x >= 0.27) return makeRow(r, i, endMs, stepMs, 0.27 + ((x - 0.27) * 0.28) / 0.48);
  const ms = endMs - i * stepMs;
  const internal = pick(r, TENANT_DOMAINS);
  const recipient = user(r, internal);
  let sender = user(r, pick(r, TENANT_DOMAINS));
  let fromIp = '';
  let subj = subject(r);
  let status = 'Delivered';
  if (x < 0.12) {
    if (r() < 0.1) {
      fromIp = spoofIp(r);
      if (r() < 0.7) sender = recipient;
      subj = pick(r, LURE_SUBJECTS);
      if (r() < 0.4) status = 'Quarantined';
    } else fromIp = randomIps ? publicIp(r) : skewed(r, INTERNAL_POOL);
  }
  return traceRow(r, usDate(ms), sender, recipient, fromIp, subj, status);
}

/**
 * Write `rows` rows. `mix`: `bench` (the traffic above, over up to 90 days) or `realistic` ({@link makeMixRow}),
 * spread over `days` days (default 90; the realistic mix of issue #12 uses 10).
 */
export async function generateTrace(rows, path, seed = 20260701, { mix = 'bench', days = 90, randomIps = false } = {}) {
  const r = rng(seed);
  // The host pools are drawn from this file's generator: a file depends on its seed and options only, not on
  // what an earlier call in the same process generated.
  INBOUND_POOL = EXO_POOL = INTERNAL_POOL = null;
  const out = createWriteStream(path);
  const endMs = Date.UTC(2026, 6, 31, 23, 0, 0);
  // 90 days of history at most, as message trace keeps.
  const stepMs = Math.max(1, Math.min(2400, Math.floor((days * 86_400_000) / Math.max(1, rows))));
  const make = mix === 'realistic' ? (...a) => makeMixRow(...a, randomIps) : (...a) => makeRow(...a);
  await once(out, 'open');
  let buf = `${HEADER.map(q).join(',')}\r\n`;
  for (let i = 0; i < rows; i++) {
    buf += `${make(r, i, endMs, stepMs).map(q).join(',')}\r\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 1000);
  const path = process.argv[3] ?? 'trace.csv';
  await generateTrace(rows, path);
}
