/**
 * Microsoft Graph for `dsguard collect`: one JSON request at a time with an app-only token for
 * `https://graph.microsoft.com/.default` (from the shared {@link TokenSource}), 429/503/5xx retried after
 * `Retry-After` (bounded), a 401 answered with one new token, a 403 that names the permission the endpoint needs,
 * and `@odata.nextLink` followed only on the host we were told to talk to (the token never goes elsewhere).
 * Every error text goes through the token source's redactor.
 * @module
 */
import { request } from 'node:https';
import type { TokenSource } from './auth.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
/** Token resource by Graph host (national clouds); anything else (a test server) uses the worldwide one. */
const RESOURCES: Record<string, string> = {
  'graph.microsoft.com': 'https://graph.microsoft.com',
  'graph.microsoft.us': 'https://graph.microsoft.us',
  'dod-graph.microsoft.us': 'https://dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn': 'https://microsoftgraph.chinacloudapi.cn',
};

export type GraphErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'throttled'
  | 'server'
  | 'bad-request'
  | 'bad-response'
  | 'network'
  | 'auth';

export class GraphError extends Error {
  constructor(
    readonly kind: GraphErrorKind,
    message: string,
    readonly status: number | null = null,
    /** The server's `error.code` and `error.message`, bounded and redacted. */
    readonly serverText = '',
  ) {
    super(message);
  }
}

export interface GraphOptions {
  tokens: TokenSource;
  /** Graph base (default https://graph.microsoft.com); `--graph-url`. */
  baseUrl?: string;
  /** What a 401 after a new token or a 403 means for this caller: the permission to grant. */
  permissionHint?: (path: string) => string;
  /** Retries of one request after 429/5xx (default 5). */
  maxRetries?: number;
  /** Longest Retry-After honoured, in seconds (default 300); longer is a failure. */
  maxRetryAfter?: number;
  /** Largest response body, in bytes (default 256 MiB: a hunting result may reach 124 MB). */
  maxBodyBytes?: number;
  /** Seconds before a request with no answer is abandoned (default 240: hunting runs up to 3 minutes). */
  timeoutSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  onRequest?: (info: { path: string; status: number; bytes: number }) => void;
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | null,
  maxBytes: number,
  timeoutMs: number,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const h = body === null ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: h, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`response larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** The server's own error text, bounded, from `{"error":{"code","message"}}` or raw. */
export function graphServerMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } | string };
    if (typeof j.error === 'object' && j.error)
      return `${String(j.error.code ?? '')}: ${String(j.error.message ?? '')}`.slice(0, 400);
    if (typeof j.error === 'string') return j.error.slice(0, 400);
  } catch {
    // not JSON
  }
  return body.replace(/\s+/g, ' ').slice(0, 200);
}

function retryAfterSeconds(h: string | string[] | undefined): number | null {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return null;
  if (/^\d{1,6}$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, Math.ceil((t - Date.now()) / 1000)) : null;
}

export interface GraphClient {
  /** `POST path` with a JSON body; the parsed JSON answer. */
  post(path: string, body: unknown): Promise<unknown>;
  /** `GET` a path (with its query) or an absolute `@odata.nextLink` on the same host. */
  get(pathOrUrl: string): Promise<unknown>;
  /** Resolve a `@odata.nextLink`, refusing another host. */
  sameOrigin(link: string): string;
  readonly requests: number;
  readonly bytes: number;
}

export function graphClient(opts: GraphOptions): GraphClient {
  const base = new URL(opts.baseUrl ?? DEFAULT_GRAPH_URL);
  if (base.protocol !== 'https:')
    throw new GraphError('bad-request', `--graph-url must be https (got ${base.protocol})`);
  const scope = `${RESOURCES[base.hostname] ?? DEFAULT_GRAPH_URL}/.default`;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRetries = opts.maxRetries ?? 5;
  const maxRetryAfter = opts.maxRetryAfter ?? 300;
  const maxBody = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  const timeoutMs = (opts.timeoutSeconds ?? 240) * 1000;
  const redact = (t: string) => opts.tokens.redactor.redact(t);
  const hint = opts.permissionHint ?? (() => 'grant the app the Graph application permission this call needs');
  let requests = 0;
  let bytes = 0;

  const sameOrigin = (link: string): string => {
    let u: URL;
    try {
      u = new URL(link, base);
    } catch {
      throw new GraphError('bad-response', '@odata.nextLink is not a URL');
    }
    if (u.origin !== base.origin)
      throw new GraphError('bad-response', `@odata.nextLink points to another host (${u.host.slice(0, 100)})`);
    return u.href;
  };

  const call = async (method: 'GET' | 'POST', url: URL, body: string | null): Promise<unknown> => {
    const what = `${method} ${url.pathname}`;
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      let token: string;
      try {
        token = await opts.tokens.token(scope);
      } catch (error) {
        throw new GraphError('auth', redact((error as Error).message));
      }
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body !== null) headers['content-type'] = 'application/json; charset=utf-8';
      let res: HttpResult;
      try {
        requests++;
        res = await send(url, method, headers, body, maxBody, timeoutMs);
      } catch (error) {
        // A dropped connection or a timeout is retried like a 503, within the same budget.
        if (attempt < maxRetries) {
          await sleep(Math.min(2 ** attempt, 30) * 1000);
          continue;
        }
        throw new GraphError('network', redact(`${what}: ${url.host}: ${(error as Error).message}`));
      }
      bytes += Buffer.byteLength(res.body);
      opts.onRequest?.({ path: url.pathname, status: res.status, bytes: Buffer.byteLength(res.body) });
      if (res.status >= 200 && res.status < 300) {
        try {
          return JSON.parse(res.body) as unknown;
        } catch {
          throw new GraphError('bad-response', `${what}: answered ${res.status} with a body that is not JSON`, 200);
        }
      }
      const said = redact(graphServerMessage(res.body));
      if (res.status === 401) {
        if (!renewed) {
          renewed = true;
          opts.tokens.invalidate(scope);
          continue;
        }
        throw new GraphError(
          'unauthorized',
          `${what}: 401 Unauthorized even with a new token: ${hint(url.pathname)} (server: ${said.slice(0, 200)})`,
          401,
          said,
        );
      }
      if (res.status === 403)
        throw new GraphError(
          'forbidden',
          `${what}: 403 Forbidden: ${hint(url.pathname)} (server: ${said.slice(0, 200)})`,
          403,
          said,
        );
      if (res.status === 429 || res.status === 503 || res.status === 502 || res.status === 500 || res.status === 504) {
        const wait = retryAfterSeconds(res.headers['retry-after']) ?? Math.min(2 ** attempt, 30);
        if (attempt >= maxRetries || wait > maxRetryAfter)
          throw new GraphError(
            res.status === 429 ? 'throttled' : 'server',
            `${what}: ${res.status} after ${attempt + 1} attempt(s)${wait > maxRetryAfter ? ` (Retry-After ${wait} s is longer than ${maxRetryAfter} s)` : ''}: ${said}`,
            res.status,
            said,
          );
        await sleep(wait * 1000);
        continue;
      }
      throw new GraphError('bad-request', `${what}: ${res.status}: ${said}`, res.status, said);
    }
  };

  const at = (path: string) => new URL(`${base.href.replace(/\/+$/, '')}${path.startsWith('/') ? '' : '/'}${path}`);
  return {
    get requests() {
      return requests;
    },
    get bytes() {
      return bytes;
    },
    sameOrigin,
    post: (path, body) => call('POST', at(path), JSON.stringify(body)),
    get: (pathOrUrl) =>
      call('GET', /^https:\/\//i.test(pathOrUrl) ? new URL(sameOrigin(pathOrUrl)) : at(pathOrUrl), null),
  };
}
