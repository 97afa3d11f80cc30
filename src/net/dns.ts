/**
 * DNS at the edge. Every posture check takes a `Resolver`; this module provides the real one over node:dns
 * (c-ares) with an optional server override (`--dns-server host:port`), a per-try timeout and a try count, a
 * replay resolver that answers from a JSON file (tests, `--dns-replay`), a recorder that writes such a file
 * (`--dns-record`), and a bounded cache that also merges identical in-flight queries.
 *
 * Failures keep their kind: ENOTFOUND → `nxdomain`, ENODATA → `nodata`, ESERVFAIL → `servfail`, ETIMEOUT →
 * `timeout`, EREFUSED → `refused`, anything else → `error` with the code.
 * @module
 */
import { Resolver as NodeDnsResolver } from 'node:dns/promises';
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseIp } from '../core/net-address.js';
import type { DnsAnswer, DnsFailure, DnsRecordType, MxRecord } from '../core/posture/dns-answer.js';
import { queryKey } from '../core/posture/dns-answer.js';
import { failure, ok, prefixed, type Result } from '../core/result.js';

export interface Resolver {
  query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>>;
}

export interface DnsOptions {
  /** `host:port`, `host` (port 53) or `[v6]:port`; the host must be an IP address. */
  server?: string;
  /** Per-try timeout in milliseconds (default 3000). */
  timeoutMs?: number;
  /** Tries per query (default 2). */
  tries?: number;
}

/** Validate `--dns-server`; returns the form node:dns accepts, or a `usage` failure. */
export function parseDnsServer(value: string): Result<{ server: string }> {
  const v = value.trim();
  let host = v;
  let port = '53';
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2] ?? '53';
  } else if (v.split(':').length === 2) {
    [host, port] = v.split(':') as [string, string];
  }
  const ip = parseIp(host);
  if (!ip) return failure('usage', `--dns-server needs an IP address, optionally with :port (got "${value}")`);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return failure('usage', `--dns-server port must be 1–65535 (got "${port}")`);
  }
  const h = ip.kind() === 'ipv6' ? `[${ip.toString()}]` : ip.toString();
  return ok({ server: `${h}:${port}` });
}

function dnsFailure(code: string | undefined): { status: DnsFailure; detail?: string } {
  switch (code) {
    case 'ENOTFOUND':
      return { status: 'nxdomain' };
    case 'ENODATA':
      return { status: 'nodata' };
    case 'ESERVFAIL':
      return { status: 'servfail' };
    case 'ETIMEOUT':
      return { status: 'timeout' };
    case 'EREFUSED':
      return { status: 'refused' };
    default:
      return { status: 'error', detail: code ?? 'unknown' };
  }
}

/** The real resolver over node:dns. */
export class SystemResolver implements Resolver {
  private readonly r: NodeDnsResolver;

  constructor(opts: DnsOptions = {}) {
    this.r = new NodeDnsResolver({ timeout: opts.timeoutMs ?? 3000, tries: opts.tries ?? 2 });
    if (opts.server !== undefined) {
      const parsed = parseDnsServer(opts.server);
      if (parsed.status === 'error') throw new Error(parsed.error); // a programmer error: callers validate first
      this.r.setServers([parsed.server]);
    }
  }

  async query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    try {
      switch (type) {
        case 'A':
          return { status: 'ok', records: (await this.r.resolve4(name)) as never[] };
        case 'AAAA':
          return { status: 'ok', records: (await this.r.resolve6(name)) as never[] };
        case 'MX': {
          const mx = await this.r.resolveMx(name);
          return {
            status: 'ok',
            records: mx.map((m): MxRecord => ({ exchange: m.exchange, priority: m.priority })) as never[],
          };
        }
        case 'TXT': {
          const txt = await this.r.resolveTxt(name);
          return { status: 'ok', records: txt.map((chunks) => chunks.join('')) as never[] };
        }
        case 'CNAME':
          return { status: 'ok', records: (await this.r.resolveCname(name)) as never[] };
        default:
          return { status: 'error', detail: `unsupported type ${String(type)}` };
      }
    } catch (err) {
      return dnsFailure((err as NodeJS.ErrnoException).code);
    }
  }

  /** Stop queries in flight (they resolve as errors). */
  cancel(): void {
    this.r.cancel();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Replay files: { "version": 1, "answers": { "MX contoso.com": { "status": "ok", "records": [...] }, ... } }

const answerSchema = z.union([
  z.object({
    status: z.literal('ok'),
    records: z.array(
      z.union([
        z.string().max(65535),
        z.object({ exchange: z.string().max(255), priority: z.number().int().min(0).max(65535) }),
      ]),
    ),
  }),
  z.object({
    status: z.enum(['nxdomain', 'nodata', 'servfail', 'timeout', 'refused', 'error']),
    detail: z.string().max(200).optional(),
  }),
]);

const replaySchema = z.object({
  version: z.literal(1),
  answers: z.record(z.string().regex(/^(A|AAAA|MX|TXT|CNAME) \S+$/), answerSchema),
});

export type ReplayFile = z.infer<typeof replaySchema>;

/** Answers from a replay file; a query that is not in the file answers `error` ("not in replay file"). */
export class ReplayResolver implements Resolver {
  constructor(private readonly answers: ReadonlyMap<string, DnsAnswer>) {}

  /** The resolver, or a `usage` failure: the file the user named is not a replay file. */
  static fromJson(data: unknown): Result<{ resolver: ReplayResolver }> {
    const r = replaySchema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      return failure(
        'usage',
        `not a dsguard DNS replay file: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
      );
    }
    const map = new Map<string, DnsAnswer>();
    for (const [key, answer] of Object.entries(r.data.answers)) {
      const sp = key.indexOf(' ');
      map.set(queryKey(key.slice(sp + 1), key.slice(0, sp) as DnsRecordType), answer as DnsAnswer);
    }
    return ok({ resolver: new ReplayResolver(map) });
  }

  /** The resolver, an `io` failure (the file cannot be read) or a `usage` one (it is not a replay file). */
  static async load(path: string): Promise<Result<{ resolver: ReplayResolver }>> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      return failure('io', `cannot read DNS replay file ${path}: ${(err as Error).message}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return failure('usage', `${path}: not JSON (${(err as Error).message})`);
    }
    const r = ReplayResolver.fromJson(data);
    return r.status === 'error' ? prefixed(path, r) : r;
  }

  async query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const a = this.answers.get(queryKey(name, type));
    return (a ?? { status: 'error', detail: 'not in replay file' }) as DnsAnswer<T>;
  }
}

/** Records every answer of an inner resolver, for `--dns-record` (bounded: at most `maxEntries` answers kept). */
export class RecordingResolver implements Resolver {
  private readonly answers = new Map<string, DnsAnswer>();

  constructor(
    private readonly inner: Resolver,
    private readonly maxEntries = 1_000_000,
  ) {}

  async query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const a = await this.inner.query(name, type);
    if (this.answers.size < this.maxEntries) this.answers.set(queryKey(name, type), a as DnsAnswer);
    return a;
  }

  toJson(): ReplayFile {
    const answers: ReplayFile['answers'] = {};
    for (const [k, v] of [...this.answers.entries()].sort(([a], [b]) => a.localeCompare(b))) answers[k] = v;
    return { version: 1, answers };
  }

  async save(path: string): Promise<void> {
    await writeFile(path, `${JSON.stringify(this.toJson(), null, 2)}\n`);
  }
}

/**
 * A bounded LRU cache in front of a resolver. Identical queries in flight share one lookup; answers are kept
 * for the run (shared includes such as spf.protection.outlook.com are fetched once for a thousand domains).
 * Temporary failures are not cached.
 */
export class CachingResolver implements Resolver {
  private readonly cache = new Map<string, DnsAnswer>();
  private readonly inflight = new Map<string, Promise<DnsAnswer>>();
  /** Queries that went to the inner resolver. */
  misses = 0;

  constructor(
    private readonly inner: Resolver,
    private readonly maxEntries = 5000,
  ) {}

  query<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const key = queryKey(name, type);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return Promise.resolve(hit as DnsAnswer<T>);
    }
    const running = this.inflight.get(key);
    if (running) return running as Promise<DnsAnswer<T>>;
    this.misses++;
    const p = this.inner.query(name, type).then((a) => {
      this.inflight.delete(key);
      if (a.status === 'ok' || a.status === 'nxdomain' || a.status === 'nodata') {
        this.cache.set(key, a as DnsAnswer);
        if (this.cache.size > this.maxEntries) {
          const oldest = this.cache.keys().next().value;
          if (oldest !== undefined) this.cache.delete(oldest);
        }
      }
      return a;
    });
    this.inflight.set(key, p as Promise<DnsAnswer>);
    return p;
  }

  get size(): number {
    return this.cache.size;
  }
}
