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
import type { TokenSource } from './auth.js';
import { type CallFailureKind, callWithRetries, httpsRequest } from './https-request.js';

export const DEFAULT_EXCHANGE_URL = 'https://outlook.office365.com';
/** Resources by admin API host, for the token scope (sovereign clouds). Anything else: the worldwide one. */
const RESOURCES: Record<string, string> = {
  'outlook.office365.com': 'https://outlook.office365.com',
  'outlook.office365.us': 'https://outlook.office365.us',
  'webmail.apps.mil': 'https://webmail.apps.mil',
  'partner.outlook.cn': 'https://partner.outlook.cn',
};

export type ExchangeAdminErrorKind = CallFailureKind;

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
  let requests = 0;

  const call = (url: URL, cmdlet: string, page: number, body: string): Promise<unknown> =>
    callWithRetries({
      tokens: opts.tokens,
      scope,
      url,
      what: cmdlet,
      maxRetries,
      maxRetryAfter,
      sleep,
      retryNetworkErrors: false,
      send: (token) => {
        const headers: Record<string, string> = {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json; charset=utf-8',
          accept: 'application/json',
          prefer: `odata.maxpagesize=${opts.pageSize ?? 1000}`,
        };
        if (opts.anchorMailbox) headers['x-anchormailbox'] = opts.anchorMailbox;
        requests++;
        return httpsRequest({
          url,
          method: 'POST',
          headers,
          body,
          ca: opts.ca,
          maxBodyBytes: maxBody,
          timeoutMs: 120_000,
        });
      },
      onResponse: (res) => opts.onRequest?.({ cmdlet, page, status: res.status }),
      isSuccess: (status) => status === 200,
      serverMessage,
      notJson: () => `${cmdlet}: the admin API answered 200 with a body that is not JSON`,
      denied: (status, said) =>
        status === 401
          ? `${cmdlet}: 401 Unauthorized even with a new token: ${ROLE_HINT} (server: ${said.slice(0, 160)})`
          : `${cmdlet}: 403 Forbidden: ${ROLE_HINT} (server: ${said.slice(0, 160)})`,
      fail: (kind, message, status = null) => new ExchangeAdminError(kind, message, status),
    });

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
