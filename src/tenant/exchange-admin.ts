/**
 * The Exchange Online admin API the ExchangeOnlineManagement module (v3) talks to:
 * `POST {base}/adminapi/beta/{tenantId}/InvokeCommand` with `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`,
 * an app-only token for `https://outlook.office365.com/.default` (the app holds Exchange.ManageAsApp and an
 * Exchange role), `Prefer: odata.maxpagesize=1000`, results in `value`, further pages at `@odata.nextLink`
 * (POSTed with the same body).
 *
 * This API is NOT documented by Microsoft: its shape is what the module and public tools send (see
 * docs/tenant-access.md for the sources). Everything about it lives in this module; the configuration files
 * dumped with PowerShell (`dsguard powershell --config`) stay the supported path.
 *
 * Failures are typed ({@link ExchangeAdminError.kind}) and name what is missing: a 403 says which permission and
 * role the app needs. 429/503 wait for Retry-After (bounded), a 401 gets a new token once.
 * @module
 */
import { request } from 'node:https';
import type { TokenSource } from './auth.js';

export const DEFAULT_EXCHANGE_URL = 'https://outlook.office365.com';
/** Resources by admin API host, for the token scope (sovereign clouds). Anything else: the worldwide one. */
const RESOURCES: Record<string, string> = {
  'outlook.office365.com': 'https://outlook.office365.com',
  'outlook.office365.us': 'https://outlook.office365.us',
  'webmail.apps.mil': 'https://webmail.apps.mil',
  'partner.outlook.cn': 'https://partner.outlook.cn',
};

export type ExchangeAdminErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'throttled'
  | 'server'
  | 'bad-request'
  | 'bad-response'
  | 'network'
  | 'auth';

export class ExchangeAdminError extends Error {
  constructor(
    readonly kind: ExchangeAdminErrorKind,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export const ROLE_HINT =
  'the app needs the Exchange.ManageAsApp application permission (admin consent) and an Exchange role on its service principal, e.g. Global Reader (docs/tenant-access.md)';

export interface ExchangeAdminOptions {
  tenantId: string;
  tokens: TokenSource;
  /** Admin API base (default https://outlook.office365.com); `--exchange-url`. */
  baseUrl?: string;
  /** Extra trusted CA (PEM), for in-process tests; the CLI relies on NODE_EXTRA_CA_CERTS. */
  ca?: string;
  /** Page size asked for with `Prefer: odata.maxpagesize` (default 1000). */
  pageSize?: number;
  /** Most pages read for one cmdlet (default 100). */
  maxPages?: number;
  /** Retries of one request after 429/5xx (default 4). */
  maxRetries?: number;
  /** Longest Retry-After honoured, in seconds (default 120); longer is a failure. */
  maxRetryAfter?: number;
  /** Largest response body, in bytes (default 32 MiB). */
  maxBodyBytes?: number;
  /** `UPN:SystemMailbox{…}@tenant.onmicrosoft.com`, sent as X-AnchorMailbox when given. */
  anchorMailbox?: string;
  sleep?: (ms: number) => Promise<void>;
  /** Called for each request made (count, for progress). */
  onRequest?: (info: { cmdlet: string; page: number; status: number }) => void;
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  ca: string | undefined,
  maxBytes: number,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(ca ? { ca } : {}),
        timeout: 120_000,
      },
      (res) => {
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
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 120 s')));
    req.on('error', reject);
    req.end(body);
  });
}

function scopeFor(base: URL): string {
  return `${RESOURCES[base.hostname] ?? DEFAULT_EXCHANGE_URL}/.default`;
}

/** The server's own error text, bounded, from `{"error":{"code","message"}}` or raw. */
function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as {
      error?: { code?: unknown; message?: unknown } | string;
      error_description?: unknown;
    };
    if (typeof j.error === 'object' && j.error) {
      return `${String(j.error.code ?? '')}: ${String(j.error.message ?? '')}`.slice(0, 400);
    }
    if (typeof j.error === 'string') return `${j.error}: ${String(j.error_description ?? '')}`.slice(0, 400);
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

export interface ExchangeAdminClient {
  /** Every object the cmdlet returns, all pages. */
  invoke(cmdlet: string, parameters?: Record<string, unknown>): Promise<unknown[]>;
  /** Requests made so far. */
  readonly requests: number;
}

export function exchangeAdminClient(opts: ExchangeAdminOptions): ExchangeAdminClient {
  const base = new URL(opts.baseUrl ?? DEFAULT_EXCHANGE_URL);
  if (base.protocol !== 'https:')
    throw new ExchangeAdminError('bad-request', `--exchange-url must be https (got ${base.protocol})`);
  const scope = scopeFor(base);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxPages = opts.maxPages ?? 100;
  const maxRetries = opts.maxRetries ?? 4;
  const maxRetryAfter = opts.maxRetryAfter ?? 120;
  const maxBody = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const redact = (t: string) => opts.tokens.redactor.redact(t);
  let requests = 0;

  const call = async (url: URL, cmdlet: string, page: number, body: string): Promise<unknown> => {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      let token: string;
      try {
        token = await opts.tokens.token(scope);
      } catch (error) {
        throw new ExchangeAdminError('auth', redact((error as Error).message));
      }
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
        prefer: `odata.maxpagesize=${opts.pageSize ?? 1000}`,
      };
      if (opts.anchorMailbox) headers['x-anchormailbox'] = opts.anchorMailbox;
      let res: HttpResult;
      try {
        requests++;
        res = await post(url, headers, body, opts.ca, maxBody);
      } catch (error) {
        throw new ExchangeAdminError('network', redact(`${cmdlet}: ${url.host}: ${(error as Error).message}`));
      }
      opts.onRequest?.({ cmdlet, page, status: res.status });
      if (res.status === 200) {
        try {
          return JSON.parse(res.body) as unknown;
        } catch {
          throw new ExchangeAdminError(
            'bad-response',
            `${cmdlet}: the admin API answered 200 with a body that is not JSON`,
            200,
          );
        }
      }
      const said = redact(serverMessage(res.body));
      if (res.status === 401) {
        if (!renewed) {
          // An expired or revoked token: get a new one, once.
          renewed = true;
          opts.tokens.invalidate(scope);
          continue;
        }
        throw new ExchangeAdminError(
          'unauthorized',
          `${cmdlet}: 401 Unauthorized even with a new token: ${ROLE_HINT} (server: ${said.slice(0, 160)})`,
          401,
        );
      }
      if (res.status === 403)
        throw new ExchangeAdminError(
          'forbidden',
          `${cmdlet}: 403 Forbidden: ${ROLE_HINT} (server: ${said.slice(0, 160)})`,
          403,
        );
      if (res.status === 429 || res.status === 503 || res.status === 502 || res.status === 500 || res.status === 504) {
        const wait = retryAfterSeconds(res.headers['retry-after']) ?? Math.min(2 ** attempt, 30);
        if (attempt >= maxRetries || wait > maxRetryAfter)
          throw new ExchangeAdminError(
            res.status === 429 ? 'throttled' : 'server',
            `${cmdlet}: ${res.status} after ${attempt + 1} attempt(s)${wait > maxRetryAfter ? ` (Retry-After ${wait} s is longer than ${maxRetryAfter} s)` : ''}: ${said}`,
            res.status,
          );
        await sleep(wait * 1000);
        continue;
      }
      throw new ExchangeAdminError('bad-request', `${cmdlet}: ${res.status}: ${said}`, res.status);
    }
  };

  return {
    get requests() {
      return requests;
    },
    async invoke(cmdlet, parameters = {}) {
      const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
      let url = new URL(
        `${base.href.replace(/\/+$/, '')}/adminapi/beta/${encodeURIComponent(opts.tenantId)}/InvokeCommand`,
      );
      const rows: unknown[] = [];
      for (let page = 1; ; page++) {
        const j = (await call(url, cmdlet, page, body)) as { value?: unknown; '@odata.nextLink'?: unknown } | null;
        if (!j || typeof j !== 'object' || !Array.isArray(j.value))
          throw new ExchangeAdminError('bad-response', `${cmdlet}: page ${page} has no "value" array`);
        rows.push(...j.value);
        const next = j['@odata.nextLink'];
        if (typeof next !== 'string' || next === '') return rows;
        if (page >= maxPages) throw new ExchangeAdminError('bad-response', `${cmdlet}: more than ${maxPages} pages`);
        let nextUrl: URL;
        try {
          nextUrl = new URL(next, url);
        } catch {
          throw new ExchangeAdminError('bad-response', `${cmdlet}: @odata.nextLink is not a URL`);
        }
        // The token goes only to the host we were told to talk to.
        if (nextUrl.origin !== base.origin)
          throw new ExchangeAdminError(
            'bad-response',
            `${cmdlet}: @odata.nextLink points to another host (${nextUrl.host})`,
          );
        url = nextUrl;
      }
    },
  };
}
