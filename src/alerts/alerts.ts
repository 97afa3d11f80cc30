/**
 * `dsguard watch` alert sinks besides the chats (chat-sinks.ts): a generic JSON webhook, an NDJSON file and
 * syslog (RFC 5424 over UDP or TCP) with a CEF body. Webhook URLs embed signatures: they are secrets, never
 * logged, never in an error, never stored (a sink is named after the environment variable that holds its URL).
 * What an alert is and how it is raised: watch-state.ts; delivery (outbox, rate limits, retries): delivery.ts.
 * @module
 */
import { appendFile } from 'node:fs/promises';
import { versioned } from '../core/json-record.js';
import { failure, ok, type Result } from '../core/result.js';
import { postJson, type RateLimit, type SendResult, type Sink } from './delivery.js';
import type { Alert, AlertKind } from './watch-state.js';

export type { Sink } from './delivery.js';
export type { Alert, AlertKind } from './watch-state.js';

/** A generic JSON webhook: five a second, bursts of ten (dsguard's own choice: the receiver is yours). */
export const WEBHOOK_RATE: RateLimit = { perSecond: 5, burst: 10 };
/** Syslog: a collector takes far more; the bound only keeps a flood of alerts from flooding it in turn. */
export const SYSLOG_RATE: RateLimit = { perSecond: 50, burst: 100 };

/**
 * A generic JSON webhook: POST `{"alert": …}` (the alert with `schemaVersion` first: schema/alert.schema.json);
 * 2xx is delivered. The URL is never in an error.
 */
export function webhookSink(name: string, url: string): Sink {
  const u = new URL(url);
  return { name, rate: WEBHOOK_RATE, send: (alert) => postJson(name, u, { alert: versioned(alert) }) };
}

/** One JSON line per alert (with `schemaVersion` first: schema/alert.schema.json), appended. */
export function ndjsonSink(path: string): Sink {
  const name = `ndjson:${path}`;
  return {
    name,
    rate: null,
    send: async (alert): Promise<SendResult> => {
      try {
        await appendFile(path, `${JSON.stringify(versioned(alert))}\n`);
        return { status: 'ok' };
      } catch (e) {
        return {
          status: 'error',
          error: `${name}: ${(e as NodeJS.ErrnoException).code ?? 'write failed'}`,
          retry: true,
        };
      }
    },
  };
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
  'source-new-ip': 5,
  'source-silent': 4,
  'readiness-changed': 5,
};

/**
 * One alert as an RFC 5424 message (facility security/authorization 4; severity warning for CEF severity 6 and
 * up, notice below) with a CEF body. The message has no line break: CEF values carry them as `\\n`.
 */
export function syslogLine(alert: Alert, opts: { hostname?: string; now?: Date; version?: string } = {}): string {
  const pri = 4 * 8 + (CEF_SEVERITY[alert.kind] >= 6 ? 4 : 5);
  const ts = (opts.now ?? new Date()).toISOString();
  const host = (opts.hostname ?? 'dsguard').replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  const ext = [
    `cs1Label=alertId cs1=${cefValue(alert.id)}`,
    `cs2Label=tenant cs2=${cefValue(alert.tenant)}`,
    `cn1Label=cycle cn1=${alert.cycle}`,
    alert.source?.ips[0] ? `src=${cefValue(alert.source.ips[0])}` : '',
    alert.source ? `cnt=${alert.source.messages}` : '',
    `msg=${cefValue(alert.text)}`,
  ]
    .filter(Boolean)
    .join(' ');
  const cef = `CEF:0|dsguard|dsguard|${cefHeader(opts.version ?? '1')}|${cefHeader(alert.kind)}|${cefHeader(alert.kind.replace(/-/g, ' '))}|${CEF_SEVERITY[alert.kind]}|${ext}`;
  return `<${pri}>1 ${ts} ${host} dsguard - ${alert.kind} - ${cef}`;
}

/**
 * Syslog (RFC 5424): `udp://host:port` (one datagram per alert; sent is delivered, UDP says no more) or
 * `tcp://host:port` (octet-counted framing, RFC 6587; one connection per alert). Any other target is a
 * `usage` failure.
 */
export async function syslogSink(target: string): Promise<Result<{ sink: Sink }>> {
  const usage = '--syslog must be udp://host:port or tcp://host:port';
  if (!URL.canParse(target)) return failure('usage', usage);
  const u = new URL(target);
  if (u.protocol !== 'udp:' && u.protocol !== 'tcp:') return failure('usage', `${usage} (got ${u.protocol})`);
  return ok({ sink: await syslogOver(u) });
}

async function syslogOver(u: URL): Promise<Sink> {
  const port = Number(u.port || 514);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const name = `syslog:${u.protocol}//${u.host}`;
  if (u.protocol === 'udp:') {
    const { createSocket } = await import('node:dgram');
    const { isIPv6 } = await import('node:net');
    return {
      name,
      rate: SYSLOG_RATE,
      send: (alert) =>
        new Promise<SendResult>((resolve) => {
          const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
          sock.send(Buffer.from(syslogLine(alert)), port, host, (err) => {
            sock.close();
            if (err)
              resolve({
                status: 'error',
                error: `${name}: ${(err as NodeJS.ErrnoException).code ?? 'send failed'}`,
                retry: true,
              });
            else resolve({ status: 'ok' });
          });
        }),
    };
  }
  if (u.protocol === 'tcp:') {
    const { connect } = await import('node:net');
    return {
      name,
      rate: SYSLOG_RATE,
      send: (alert) =>
        new Promise<SendResult>((resolve) => {
          const line = Buffer.from(syslogLine(alert));
          const s = connect({ host, port }, () => {
            s.end(Buffer.concat([Buffer.from(`${line.length} `), line]), () => resolve({ status: 'ok' }));
          });
          s.setTimeout(30_000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
          s.on('error', (e: NodeJS.ErrnoException) =>
            resolve({ status: 'error', error: `${name}: ${e.code ?? 'network error'}`, retry: true }),
          );
        }),
    };
  }
  throw new Error(`syslogOver: ${u.protocol} is neither udp: nor tcp: (syslogSink checks it first)`);
}
