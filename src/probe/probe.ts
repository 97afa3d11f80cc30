/**
 * The library entry for `dsguard probe`: is RejectDirectSend really on? One SMTP conversation with the tenant's
 * smart host that stops after RCPT TO — nothing is delivered — unless `sendCanary` is set, in which case one
 * fixed, self-describing canary message is sent and the final reply read. The verdict (src/core/posture/
 * probe-verdict.ts) is conclusive only when the evidence is: 5.7.68 → not exposed; canary accepted after DATA →
 * exposed; accepted at RCPT without the canary → unknown.
 *
 * Safety: port 25 unless overridden, one connection, bounded timeouts, the recipient must be in the probed
 * domain (or one of its subdomains), addresses are validated so nothing can be injected into the SMTP stream.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isPlausibleDomain, isSameOrSubdomain, normalizeDomain } from '../core/domain-name.js';
import type { Finding } from '../core/finding.js';
import { parseIp } from '../core/net-address.js';
import { describeFailure } from '../core/posture/dns-answer.js';
import {
  buildCanaryMessage,
  canarySubject,
  classifyProbe,
  type ProbeResult,
  type ProbeVerdict,
} from '../core/posture/probe-verdict.js';
import { derivedSmartHost, exchangeMxForm } from '../core/posture/smart-host.js';
import { failure, ok, type Result } from '../core/result.js';
import { finding } from '../core/rules/make-finding.js';
import type { Resolver } from '../net/dns.js';
import { runSmtpProbe, type SmtpTlsInfo } from './smtp-probe.js';

export interface ProbeOptions {
  domain: string;
  from: string;
  to: string;
  /** Connect here instead of the smart host found in DNS (a name or an IP address). */
  smtpHost?: string;
  /** Default 25. */
  smtpPort?: number;
  /** Used to find the smart host (and to resolve `smtpHost` when it is a name). */
  resolver: Resolver;
  sendCanary?: boolean;
  ehloName?: string;
  starttls?: boolean;
  /** Per-reply timeout in ms (default 20000). */
  timeoutMs?: number;
  /** Clock and id for the canary (tests pin them). */
  now?: () => Date;
  canaryId?: string;
}

export interface ProbeReport {
  domain: string;
  smartHost: string | null;
  smartHostSource: 'mx' | 'derived' | 'option' | null;
  address: string | null;
  port: number;
  from: string;
  to: string;
  stage: ProbeVerdict['stage'];
  result: ProbeResult;
  exposed: boolean | null;
  conclusive: boolean;
  reply: string | null;
  explanation: string;
  canary: { id: string; subject: string } | null;
  startTlsOffered: boolean;
  tls: SmtpTlsInfo | null;
  transcript: string[];
  findings: Finding[];
}

// addr-spec without quoting or comments: dot-atom local part, LDH domain. No spaces, <, >, CR or LF can pass.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Validate an address for MAIL FROM / RCPT TO; returns it lower-cased in the domain part, or `null`. */
export function safeAddress(text: string): { address: string; domain: string } | null {
  const t = text.trim();
  if (t.length > 254) return null;
  const at = t.lastIndexOf('@');
  if (at <= 0) return null;
  const local = t.slice(0, at);
  const domain = normalizeDomain(t.slice(at + 1));
  if (local.length > 64 || !LOCAL.test(local) || !isPlausibleDomain(domain)) return null;
  return { address: `${local}@${domain}`, domain };
}

/** An EHLO argument: a host name (LDH labels) or an address literal such as `[192.0.2.1]`. */
export function isSafeEhloName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  if (name.startsWith('[') && name.endsWith(']')) return parseIp(name) !== null;
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
    name,
  );
}

function defaultEhloName(): string {
  const h = hostname();
  return isSafeEhloName(h) ? h : 'localhost';
}

async function firstAddress(resolver: Resolver, host: string): Promise<Result<{ address: string }>> {
  const a = await resolver.query(host, 'A');
  if (a.status === 'ok' && a.records.length > 0) return ok({ address: a.records[0]! });
  const aaaa = await resolver.query(host, 'AAAA');
  if (aaaa.status === 'ok' && aaaa.records.length > 0) return ok({ address: aaaa.records[0]! });
  return failure('remote', `${host} does not resolve (${describeFailure(a)})`);
}

/**
 * Find the smart host of a domain: its Exchange Online MX, else the derived mail.protection.outlook.com name;
 * a `remote` failure when neither resolves.
 */
export async function findSmartHost(
  domain: string,
  resolver: Resolver,
): Promise<Result<{ host: string; source: 'mx' | 'derived'; address: string }>> {
  const mx = await resolver.query(domain, 'MX');
  if (mx.status === 'ok') {
    const exo = [...mx.records]
      .sort((a, b) => a.priority - b.priority)
      .map((r) => normalizeDomain(r.exchange))
      .find((h) => exchangeMxForm(h) !== null);
    if (exo) {
      const a = await firstAddress(resolver, exo);
      if (a.status === 'ok') return ok({ host: exo, source: 'mx', address: a.address });
    }
  }
  const derived = derivedSmartHost(domain);
  const a = await firstAddress(resolver, derived);
  if (a.status === 'ok') return ok({ host: derived, source: 'derived', address: a.address });
  return failure(
    'remote',
    `no Exchange Online smart host resolves for ${domain} (MX: ${describeFailure(mx)}; ${a.error}); pass --smtp-host`,
  );
}

interface ProbeTarget {
  domain: string;
  from: { address: string; domain: string };
  to: { address: string; domain: string };
  ehloName: string;
  port: number;
}

/** The probe's arguments checked: a `usage` failure for any it refuses (they go into SMTP commands). */
function checkProbeOptions(opts: ProbeOptions): Result<ProbeTarget> {
  const domain = normalizeDomain(opts.domain);
  if (!isPlausibleDomain(domain)) return failure('usage', `not a domain name: "${opts.domain}"`);
  const from = safeAddress(opts.from);
  if (!from) return failure('usage', `--from is not a plain e-mail address: "${opts.from}"`);
  const to = safeAddress(opts.to);
  if (!to) return failure('usage', `--to is not a plain e-mail address: "${opts.to}"`);
  if (!isSameOrSubdomain(to.domain, domain)) {
    return failure(
      'usage',
      `--to must be an address in ${domain} (got ${to.address}): the probe only tests your own tenant`,
    );
  }
  const ehloName = opts.ehloName ?? defaultEhloName();
  if (!isSafeEhloName(ehloName)) {
    return failure('usage', `--ehlo must be a host name or an address literal (got "${ehloName}")`);
  }
  const port = opts.smtpPort ?? 25;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return failure('usage', '--smtp-port must be 1–65535');
  return ok({ domain, from, to, ehloName, port });
}

/**
 * Probe a domain's smart host. A `usage` failure for refused arguments; a smart host that does not resolve
 * or answer is not a failure but a report whose result is `error` (finding DS806).
 */
export async function probeDomain(opts: ProbeOptions): Promise<Result<{ report: ProbeReport }>> {
  const target = checkProbeOptions(opts);
  if (target.status === 'error') return target;
  return ok({ report: await probeTarget(opts, target) });
}

async function probeTarget(
  opts: ProbeOptions,
  { domain, from, to, ehloName, port }: ProbeTarget,
): Promise<ProbeReport> {
  const base = {
    domain,
    port,
    from: from.address,
    to: to.address,
    canary: null as ProbeReport['canary'],
    startTlsOffered: false,
    tls: null,
    transcript: [] as string[],
  };
  let host: string;
  let address: string;
  let source: ProbeReport['smartHostSource'];
  if (opts.smtpHost !== undefined) {
    host = normalizeDomain(opts.smtpHost);
    source = 'option';
    const ip = parseIp(host);
    if (ip) address = ip.toString();
    else {
      const a = await firstAddress(opts.resolver, host);
      if (a.status === 'error')
        return errorReport({ ...base, smartHost: host, smartHostSource: source, address: null }, a.error);
      address = a.address;
    }
  } else {
    const found = await findSmartHost(domain, opts.resolver);
    if (found.status === 'error')
      return errorReport({ ...base, smartHost: null, smartHostSource: null, address: null }, found.error);
    ({ host, source, address } = found);
  }

  const id = opts.canaryId ?? randomBytes(6).toString('hex');
  const message =
    opts.sendCanary === true
      ? buildCanaryMessage({ from: from.address, to: to.address, id, date: (opts.now ?? (() => new Date()))() })
      : null;
  const session = await runSmtpProbe({
    host,
    address,
    port,
    ehloName,
    from: from.address,
    to: to.address,
    message,
    starttls: opts.starttls !== false,
    timeoutMs: opts.timeoutMs ?? 20_000,
    totalTimeoutMs: Math.max(30_000, (opts.timeoutMs ?? 20_000) * 8),
  });
  const verdict = classifyProbe({ steps: session.steps, canarySent: message !== null, source: `smtp:${host}:${port}` });
  const findings = [...verdict.findings];
  const connected = session.steps.some((s) => s.stage === 'ehlo' && s.reply !== null);
  if (connected && (!session.startTlsOffered || opts.starttls === false)) {
    findings.push(
      finding(
        'DS807',
        session.startTlsOffered ? 'STARTTLS skipped (--no-starttls)' : 'The server did not offer STARTTLS',
        [{ source: `smtp:${host}:${port}`, field: 'EHLO', value: session.extensions.join(' ') }],
      ),
    );
  }
  return orderReport({
    ...base,
    smartHost: host,
    smartHostSource: source,
    address,
    stage: verdict.stage,
    result: verdict.result,
    exposed: verdict.exposed,
    conclusive: verdict.conclusive,
    reply: verdict.reply,
    explanation: verdict.explanation,
    canary: message !== null ? { id, subject: canarySubject(id) } : null,
    startTlsOffered: session.startTlsOffered,
    tls: session.tls,
    transcript: session.transcript,
    findings,
  });
}

/** The JSON key order users read: what was probed, the verdict, then the details. */
function orderReport(r: ProbeReport): ProbeReport {
  return {
    domain: r.domain,
    smartHost: r.smartHost,
    smartHostSource: r.smartHostSource,
    address: r.address,
    port: r.port,
    from: r.from,
    to: r.to,
    stage: r.stage,
    result: r.result,
    exposed: r.exposed,
    conclusive: r.conclusive,
    reply: r.reply,
    explanation: r.explanation,
    canary: r.canary,
    startTlsOffered: r.startTlsOffered,
    tls: r.tls,
    findings: r.findings,
    transcript: r.transcript,
  };
}

function errorReport(
  base: Omit<ProbeReport, 'stage' | 'result' | 'exposed' | 'conclusive' | 'reply' | 'explanation' | 'findings'>,
  error: string,
): ProbeReport {
  return orderReport({
    ...base,
    stage: 'connect',
    result: 'error',
    exposed: null,
    conclusive: false,
    reply: null,
    explanation: error,
    findings: [finding('DS806', error, [{ source: `dns:${base.domain}`, field: 'smart host', value: error }])],
  });
}
