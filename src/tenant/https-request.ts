/**
 * The HTTPS transport shared by the tenant API clients ({@link ../tenant/graph.ts} and
 * {@link ../tenant/exchange-admin.ts}): one bounded request (body cap, timeout, optional extra CA), the
 * Retry-After parsing, and the retry loop around a bearer token (429/5xx retried after Retry-After or a bounded
 * backoff, a 401 answered with one new token, every error text through the token source's redactor).
 * Each client keeps its own defaults, error class and error texts; it passes them in.
 * @module
 */
import { request } from 'node:https';
import type { TokenSource } from './auth.js';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpsRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  /** Sent with a content-length; `null` sends no body and no content-length. */
  body: string | null;
  /** Extra trusted CA (PEM). */
  ca?: string | undefined;
  /** Largest response body, in bytes; a larger one fails the request. */
  maxBodyBytes: number;
  /** Milliseconds with no answer before the request is abandoned. */
  timeoutMs: number;
}

/** One HTTPS request; the whole answer body as UTF-8, at most `maxBodyBytes`. */
export function httpsRequest(r: HttpsRequest): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers = r.body === null ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
    const req = request(
      r.url,
      { method: r.method, headers, ...(r.ca ? { ca: r.ca } : {}), timeout: r.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > r.maxBodyBytes) {
            req.destroy(new Error(`response larger than ${r.maxBodyBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(r.timeoutMs / 1000)} s`)));
    req.on('error', reject);
    req.end(r.body ?? undefined);
  });
}

/** Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or `null` when absent/unreadable. */
export function retryAfterSeconds(h: string | string[] | undefined): number | null {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return null;
  if (/^\d{1,6}$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, Math.ceil((t - Date.now()) / 1000)) : null;
}

/** Seconds to wait before retry number `attempt + 1` when the server named no Retry-After. */
export function backoffSeconds(attempt: number): number {
  return Math.min(2 ** attempt, 30);
}

export type CallFailureKind =
  | 'unauthorized'
  | 'forbidden'
  | 'throttled'
  | 'server'
  | 'bad-request'
  | 'bad-response'
  | 'network'
  | 'auth';

export interface RetryingCall {
  tokens: TokenSource;
  scope: string;
  /** Where the request goes (its host is named in network errors). */
  url: URL;
  /** Prefix of every error text, e.g. the cmdlet or `GET /path`. */
  what: string;
  maxRetries: number;
  /** Longest Retry-After honoured, in seconds; longer is a failure. */
  maxRetryAfter: number;
  sleep: (ms: number) => Promise<void>;
  /** Retry a dropped connection or a timeout like a 503, within the same budget. */
  retryNetworkErrors: boolean;
  /** Make one request with this token. */
  send: (token: string) => Promise<HttpResult>;
  /** Called with every answer received. */
  onResponse?: (res: HttpResult) => void;
  /** Whether a status carries the JSON result. */
  isSuccess: (status: number) => boolean;
  /** The server's own error text, bounded, from the body (redacted by the loop). */
  serverMessage: (body: string) => string;
  /** Error text for a success answer whose body is not JSON. */
  notJson: (status: number) => string;
  /** Error text for a 401 after a new token, or a 403. */
  denied: (status: 401 | 403, said: string) => string;
  /** The client's own error. */
  fail: (kind: CallFailureKind, message: string, status?: number | null, said?: string) => Error;
}

/** One JSON call with token renewal and bounded retries; the parsed answer, or `fail(…)` thrown. */
export async function callWithRetries(c: RetryingCall): Promise<unknown> {
  const redact = (t: string) => c.tokens.redactor.redact(t);
  let renewed = false;
  for (let attempt = 0; ; attempt++) {
    let token: string;
    try {
      token = await c.tokens.token(c.scope);
    } catch (error) {
      throw c.fail('auth', redact((error as Error).message));
    }
    let res: HttpResult;
    try {
      res = await c.send(token);
    } catch (error) {
      if (c.retryNetworkErrors && attempt < c.maxRetries) {
        await c.sleep(backoffSeconds(attempt) * 1000);
        continue;
      }
      throw c.fail('network', redact(`${c.what}: ${c.url.host}: ${(error as Error).message}`));
    }
    c.onResponse?.(res);
    if (c.isSuccess(res.status)) {
      try {
        return JSON.parse(res.body) as unknown;
      } catch {
        throw c.fail('bad-response', c.notJson(res.status), 200);
      }
    }
    const said = redact(c.serverMessage(res.body));
    if (res.status === 401) {
      if (!renewed) {
        // An expired or revoked token: get a new one, once.
        renewed = true;
        c.tokens.invalidate(c.scope);
        continue;
      }
      throw c.fail('unauthorized', c.denied(401, said), 401, said);
    }
    if (res.status === 403) throw c.fail('forbidden', c.denied(403, said), 403, said);
    if (res.status === 429 || res.status === 503 || res.status === 502 || res.status === 500 || res.status === 504) {
      const wait = retryAfterSeconds(res.headers['retry-after']) ?? backoffSeconds(attempt);
      if (attempt >= c.maxRetries || wait > c.maxRetryAfter)
        throw c.fail(
          res.status === 429 ? 'throttled' : 'server',
          `${c.what}: ${res.status} after ${attempt + 1} attempt(s)${wait > c.maxRetryAfter ? ` (Retry-After ${wait} s is longer than ${c.maxRetryAfter} s)` : ''}: ${said}`,
          res.status,
          said,
        );
      await c.sleep(wait * 1000);
      continue;
    }
    throw c.fail('bad-request', `${c.what}: ${res.status}: ${said}`, res.status, said);
  }
}
