/**
 * `dsguard watch` alerts: what changed in a tenant's report, as alerts with stable ids, and their delivery to
 * sinks (a generic JSON webhook, an NDJSON file) at least once, de-duplicated by (id, sink) in the store across
 * restarts, retried with backoff. Webhook URLs embed signatures: they are secrets, never logged or stored.
 *
 * Alerts (each once per source, ever): `new-malicious-source`, `new-suspicious-source` (a Direct Send or
 * internal-spoof source with that verdict), `new-source` (any other such source never seen before),
 * `direct-send-after-reject` (the profile says RejectDirectSend is on and Direct Send still got through).
 * The id is a hash of tenant, kind and the source's sorted IPs: the same source gives the same id every cycle.
 * @module
 */
import { createHash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TenantReport } from '../report/tenant-report.js';
import type { DsguardStore } from '../store/dsguard-store.js';

export type AlertKind = 'new-malicious-source' | 'new-suspicious-source' | 'new-source' | 'direct-send-after-reject';

export interface Alert {
  id: string;
  kind: AlertKind;
  tenant: string;
  /** Link-free, one line. */
  text: string;
  source: {
    ips: string[];
    verdict: string;
    channel: string;
    messages: number;
    firstSeen: string | null;
    lastSeen: string;
    /** Left out with --minimal. */
    senders?: string[];
    subjects?: string[];
    why?: string[];
  };
}

const alertId = (tenant: string, kind: AlertKind, ips: readonly string[]) =>
  createHash('sha256')
    .update(JSON.stringify([tenant, kind, [...ips].sort()]))
    .digest('hex')
    .slice(0, 24);

/** The alerts a report supports (before de-duplication). Deterministic order: by kind, then id. */
export function alertsFromReport(tenant: string, report: TenantReport, opts: { minimal?: boolean } = {}): Alert[] {
  const out: Alert[] = [];
  for (const s of report.sources) {
    if (s.channel === 'unknown' && s.verdict !== 'malicious' && s.verdict !== 'suspicious') continue;
    const kind: AlertKind =
      s.verdict === 'malicious'
        ? 'new-malicious-source'
        : s.verdict === 'suspicious'
          ? 'new-suspicious-source'
          : 'new-source';
    const ips = s.ips.length > 0 ? s.ips : s.ip ? [s.ip] : [];
    const label = s.name ? `${s.name} (${ips.join(', ')})` : ips.join(', ') || s.id;
    const source: Alert['source'] = {
      ips,
      verdict: s.verdict,
      channel: s.channel,
      messages: s.messages,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
    };
    if (!opts.minimal) {
      source.senders = s.senders.map((x) => x.address).slice(0, 10);
      source.subjects = s.subjects.slice(0, 5);
      source.why = s.why.map((w) => w.code);
    }
    out.push({
      id: alertId(tenant, kind, ips),
      kind,
      tenant,
      text: `${kind.replace(/-/g, ' ')}: ${label}: ${s.verdict} ${s.channel}, ${s.messages} message(s) from ${s.firstSeen} to ${s.lastSeen}`,
      source,
    });
  }
  if (report.enforcement?.state === 'fails') {
    for (const s of report.enforcement.sources) {
      out.push({
        id: alertId(tenant, 'direct-send-after-reject', s.ips),
        kind: 'direct-send-after-reject',
        tenant,
        text: `Direct Send delivered after RejectDirectSend was enabled: ${s.ips.join(', ')}: ${s.messages} message(s), last ${s.lastSeen}`,
        source: {
          ips: s.ips,
          verdict: s.verdict,
          channel: 'direct-send',
          messages: s.messages,
          firstSeen: null,
          lastSeen: s.lastSeen,
        },
      });
    }
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}

export interface Sink {
  /** Stable name, for the de-duplication state (never the URL). */
  name: string;
  send(alert: Alert): Promise<void>;
}

/** A generic JSON webhook: POST `{"alert": …}`; 2xx is delivered. The URL is never in an error. */
export function webhookSink(name: string, url: string): Sink {
  const u = new URL(url);
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return {
    name,
    send: (alert) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify({ alert });
        const r = req(
          u,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
            timeout: 30_000,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              const s = res.statusCode ?? 0;
              if (s >= 200 && s < 300) resolve();
              else reject(new Error(`${name}: the webhook answered ${s}`));
            });
          },
        );
        r.on('timeout', () => r.destroy(new Error('no answer within 30 s')));
        r.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`${name}: ${e.code ?? 'network error'}`)));
        r.end(body);
      }),
  };
}

/** One JSON line per alert, appended. */
export function ndjsonSink(path: string): Sink {
  return { name: `ndjson:${path}`, send: (alert) => appendFile(path, `${JSON.stringify(alert)}\n`) };
}

export interface DeliveryResult {
  delivered: number;
  skipped: number;
  failed: { sink: string; id: string; error: string }[];
}

/**
 * Send every alert not yet delivered to each sink, retrying up to `attempts` times with exponential backoff;
 * a delivery is recorded in the store right after it succeeds (at least once: a crash between the two resends).
 */
export async function deliver(
  store: DsguardStore,
  alerts: readonly Alert[],
  sinks: readonly Sink[],
  opts: { attempts?: number; backoffMs?: number; sleep?: (ms: number) => Promise<void>; now?: () => Date } = {},
): Promise<DeliveryResult> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = opts.attempts ?? 4;
  const backoff = opts.backoffMs ?? 1000;
  const sent = store.db.prepare('SELECT 1 FROM alert_sent WHERE id = ? AND sink = ?');
  const mark = store.db.prepare('INSERT OR IGNORE INTO alert_sent (id, sink, sent_at) VALUES (?, ?, ?)');
  const result: DeliveryResult = { delivered: 0, skipped: 0, failed: [] };
  for (const sink of sinks) {
    for (const a of alerts) {
      if (sent.get(a.id, sink.name)) {
        result.skipped++;
        continue;
      }
      let error = '';
      for (let i = 0; i < attempts; i++) {
        try {
          await sink.send(a);
          error = '';
          break;
        } catch (e) {
          error = (e as Error).message;
          if (i + 1 < attempts) await sleep(backoff * 2 ** i);
        }
      }
      if (error) {
        result.failed.push({ sink: sink.name, id: a.id, error });
        continue;
      }
      mark.run(a.id, sink.name, (opts.now?.() ?? new Date()).toISOString());
      result.delivered++;
    }
  }
  return result;
}

/** CEF header field: `\` and `|` escaped, line breaks removed. */
const cefHeader = (s: string) =>
  s
    .replace(/[\r\n]+/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|');
/** CEF extension value: `\`, `=` escaped, line breaks as `\n`. */
const cefValue = (s: string) =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/=/g, '\\=')
    .replace(/\r?\n|\r/g, '\\n');

const CEF_SEVERITY: Record<AlertKind, number> = {
  'new-malicious-source': 9,
  'new-suspicious-source': 6,
  'direct-send-after-reject': 8,
  'new-source': 3,
};

/** One alert as an RFC 5424 message (facility security/authorization 4, severity warning) with a CEF body. */
export function syslogLine(alert: Alert, opts: { hostname?: string; now?: Date; version?: string } = {}): string {
  const pri = 4 * 8 + (alert.kind === 'new-source' ? 5 : 4);
  const ts = (opts.now ?? new Date()).toISOString();
  const host = (opts.hostname ?? 'dsguard').replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  const ext = [
    `cs1Label=alertId cs1=${cefValue(alert.id)}`,
    `cs2Label=tenant cs2=${cefValue(alert.tenant)}`,
    alert.source.ips[0] ? `src=${cefValue(alert.source.ips[0])}` : '',
    `cnt=${alert.source.messages}`,
    `msg=${cefValue(alert.text)}`,
  ]
    .filter(Boolean)
    .join(' ');
  const cef = `CEF:0|dsguard|dsguard|${cefHeader(opts.version ?? '1')}|${cefHeader(alert.kind)}|${cefHeader(alert.kind.replace(/-/g, ' '))}|${CEF_SEVERITY[alert.kind]}|${ext}`;
  return `<${pri}>1 ${ts} ${host} dsguard - ${alert.kind} - ${cef}`;
}

/**
 * Syslog (RFC 5424): `udp://host:port` (one datagram per alert; sent is delivered, UDP says no more) or
 * `tcp://host:port` (octet-counted framing, RFC 6587; one connection per alert).
 */
export async function syslogSink(target: string): Promise<Sink> {
  const u = new URL(target);
  const port = Number(u.port || 514);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const name = `syslog:${u.protocol}//${u.host}`;
  if (u.protocol === 'udp:') {
    const { createSocket } = await import('node:dgram');
    const { isIPv6 } = await import('node:net');
    return {
      name,
      send: (alert) =>
        new Promise<void>((resolve, reject) => {
          const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
          sock.send(Buffer.from(syslogLine(alert)), port, host, (err) => {
            sock.close();
            if (err) reject(new Error(`${name}: ${(err as NodeJS.ErrnoException).code ?? 'send failed'}`));
            else resolve();
          });
        }),
    };
  }
  if (u.protocol === 'tcp:') {
    const { connect } = await import('node:net');
    return {
      name,
      send: (alert) =>
        new Promise<void>((resolve, reject) => {
          const line = Buffer.from(syslogLine(alert));
          const s = connect({ host, port }, () => {
            s.end(Buffer.concat([Buffer.from(`${line.length} `), line]), () => resolve());
          });
          s.setTimeout(30_000, () => s.destroy(new Error('no answer within 30 s')));
          s.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`${name}: ${e.code ?? 'network error'}`)));
        }),
    };
  }
  throw new Error(`--syslog must be udp://host:port or tcp://host:port (got ${u.protocol})`);
}
