/**
 * Microsoft Graph for `dsguard collect`: one JSON request at a time with an app-only token for
 * `https://graph.microsoft.com/.default` (from the shared {@link TokenSource}), 429/503/5xx retried after
 * `Retry-After` (bounded), a 401 answered with one new token, a 403 that names the permission the endpoint needs,
 * and `@odata.nextLink` followed only on the host we were told to talk to (the token never goes elsewhere).
 * Every error text goes through the token source's redactor.
 * @module
 */
import type { TokenSource } from './auth.js';
import { type CallFailureKind, callWithRetries, httpsRequest } from './https-request.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
/** Token resource by Graph host (national clouds); anything else (a test server) uses the worldwide one. */
const RESOURCES: Record<string, string> = {
  'graph.microsoft.com': 'https://graph.microsoft.com',
  'graph.microsoft.us': 'https://graph.microsoft.us',
  'dod-graph.microsoft.us': 'https://dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn': 'https://microsoftgraph.chinacloudapi.cn',
};

export type GraphErrorKind = CallFailureKind;

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

  const call = (method: 'GET' | 'POST', url: URL, body: string | null): Promise<unknown> => {
    const what = `${method} ${url.pathname}`;
    return callWithRetries({
      tokens: opts.tokens,
      scope,
      url,
      what,
      maxRetries,
      maxRetryAfter,
      sleep,
      // A dropped connection or a timeout is retried like a 503, within the same budget.
      retryNetworkErrors: true,
      send: (token) => {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
        if (body !== null) headers['content-type'] = 'application/json; charset=utf-8';
        requests++;
        return httpsRequest({ url, method, headers, body, maxBodyBytes: maxBody, timeoutMs });
      },
      onResponse: (res) => {
        bytes += Buffer.byteLength(res.body);
        opts.onRequest?.({ path: url.pathname, status: res.status, bytes: Buffer.byteLength(res.body) });
      },
      isSuccess: (status) => status >= 200 && status < 300,
      serverMessage: graphServerMessage,
      notJson: (status) => `${what}: answered ${status} with a body that is not JSON`,
      denied: (status, said) =>
        status === 401
          ? `${what}: 401 Unauthorized even with a new token: ${hint(url.pathname)} (server: ${said.slice(0, 200)})`
          : `${what}: 403 Forbidden: ${hint(url.pathname)} (server: ${said.slice(0, 200)})`,
      fail: (kind, message, status = null, said = '') => new GraphError(kind, message, status, said),
    });
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
