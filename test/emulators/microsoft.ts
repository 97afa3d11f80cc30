/**
 * A local Microsoft 365 for tests: Entra ID (OpenID configuration, the v2.0 token endpoint for client
 * credentials with a secret or a certificate assertion) and the Exchange Online admin API
 * (`POST /adminapi/beta/{tenantId}/InvokeCommand`), over HTTPS on 127.0.0.1 with a CA generated at test time.
 *
 * A client trusts it through NODE_EXTRA_CA_CERTS={@link MicrosoftEmulator.caFile} (read by Node at start, so run the
 * CLI as a child process with that environment: exactly as a user runs it; MSAL refuses http authorities).
 *
 * Shapes: request `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`; response `{"@odata.context", "value":[…],
 * "@odata.nextLink"}` with server-driven paging honouring `Prefer: odata.maxpagesize=N` up to `maxPageSize`, and
 * `<Property>@data.type` sidecars on non-string values as the live API sends them. Faults on demand: 429 with
 * Retry-After, an expired first token (401 → the client must get a new one), 403 for an app without an Exchange
 * role or without Exchange.ManageAsApp.
 *
 * More endpoints (Graph runHuntingQuery, messageTraces for `collect`) plug in with {@link MicrosoftEmulator.route}:
 * the handler gets the parsed request, the verified token's claims and JSON helpers.
 *
 * The server is unref'd (it never keeps a test process alive) and {@link MicrosoftEmulator.close} stops it.
 * @module
 */
import {
  createHash,
  createHmac,
  createPublicKey,
  constants as cryptoConstants,
  verify as cryptoVerify,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export const EXCHANGE_RESOURCE = 'https://outlook.office365.com';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

export interface EmulatorApp {
  tenantId: string;
  clientId: string;
  /** Client secret the token endpoint accepts. */
  secret?: string;
  /** PEM certificate (public part) whose key signs the client assertion. */
  certificatePem?: string;
  /** Application permissions granted (app roles in the token), e.g. `Exchange.ManageAsApp`. */
  roles: string[];
  /** An Exchange role (e.g. Global Reader) assigned to the app's service principal. */
  exchangeRole: boolean;
  /** Allows public client flows: device code sign-in (the "user" approves at once). */
  publicClient?: boolean;
  /** A managed identity: tokens from the App Service endpoint (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`). */
  managedIdentity?: boolean;
}

/** The `IDENTITY_HEADER` value the emulated App Service managed identity endpoint expects. */
export const EMULATOR_IDENTITY_HEADER = 'dsguard-emulator-identity-header';

export type Fault =
  | { kind: 'throttle'; cmdlet?: string; retryAfter: number }
  | { kind: 'server-error'; cmdlet?: string }
  /** The next Exchange call is answered 401 as if its token had expired. */
  | { kind: 'expire-token' };

export interface TokenClaims {
  tid: string;
  appid: string;
  aud: string;
  roles: string[];
  exp: number;
  /** The serial of the token for its app (1 = the first issued). */
  n: number;
}

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  body: string;
  /** JSON body, or `undefined` when it does not parse. */
  json: unknown;
  /** Route parameters (regex groups). */
  params: string[];
  /** Verify the bearer token for `resource`; returns the claims or has already answered 401. */
  requireToken(resource: string): TokenClaims | null;
  send(status: number, body: unknown, headers?: Record<string, string>): void;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  cmdlet?: string;
}

export interface EmulatorOptions {
  apps: EmulatorApp[];
  /** Exchange objects per tenant id, per cmdlet name (`Get-InboundConnector` → rows). */
  exchange?: Record<string, Record<string, unknown[]>>;
  /** Largest page the admin API serves, whatever the client prefers (default 1000). */
  maxPageSize?: number;
  /** Token lifetime in seconds (default 3599). */
  tokenLifetime?: number;
}

export interface MicrosoftEmulator {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** PEM file of the test CA: set NODE_EXTRA_CA_CERTS to it. */
  caFile: string;
  caPem: string;
  /** Every access token issued (a test greps outputs for them). */
  issuedTokens: string[];
  requests: RequestLogEntry[];
  /** Queue a fault; each is used once, in order. */
  fault(f: Fault): void;
  route(method: string, path: RegExp, handler: RouteHandler): void;
  /** Replace a tenant's Exchange objects (a later "changed tenant"). */
  setExchange(tenantId: string, objects: Record<string, unknown[]>): void;
  close(): Promise<void>;
}

/** A CA-signed certificate and key for an app registration (certificate authentication). */
export async function makeAppCertificate(cn = 'dsguard-test-app'): Promise<{ certPem: string; keyPem: string }> {
  const r = await generate([{ name: 'commonName', value: cn }], { keySize: 2048, algorithm: 'sha256' });
  return { certPem: r.cert, keyPem: r.private };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function decodeSegment(s: string | undefined): Record<string, unknown> | null {
  if (!s) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Add `<key>@data.type` sidecars as the live admin API does for non-string values. */
function withSidecars(row: unknown): unknown {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return row;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'boolean') out[`${k}@data.type`] = 'System.Boolean';
    else if (typeof v === 'number') out[`${k}@data.type`] = Number.isInteger(v) ? 'System.Int32' : 'System.Double';
    else if (Array.isArray(v)) out[`${k}@odata.type`] = '#Collection(String)';
    out[k] = v;
  }
  return out;
}

/**
 * One OData page of `rows` for a request: the size is the client's `Prefer: odata.maxpagesize=N` or `$top`, at most
 * `maxPageSize`; the position is `$skiptoken`; `nextLink` repeats the request URL with the next `$skiptoken`
 * (other query parameters kept). For Graph endpoints added with `route` (message trace pages, say).
 */
export function odataPage<T>(
  ctx: Pick<RouteContext, 'req' | 'url'>,
  rows: readonly T[],
  maxPageSize: number,
): { value: T[]; nextLink: string | null; headers: Record<string, string> } {
  const prefer = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(String(ctx.req.headers.prefer ?? ''));
  const top = Number(ctx.url.searchParams.get('$top') ?? '') || null;
  const size = Math.max(1, Math.min(maxPageSize, prefer ? Number(prefer[1]) : (top ?? maxPageSize)));
  const skip = Number(ctx.url.searchParams.get('$skiptoken') ?? '0') || 0;
  const next = new URL(ctx.url.href);
  next.searchParams.set('$skiptoken', String(skip + size));
  return {
    value: rows.slice(skip, skip + size),
    nextLink: skip + size < rows.length ? next.href : null,
    headers: prefer ? { 'preference-applied': `odata.maxpagesize=${size}` } : {},
  };
}

export async function startMicrosoftEmulator(options: EmulatorOptions): Promise<MicrosoftEmulator> {
  const ca = await generate([{ name: 'commonName', value: 'dsguard emulator test CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
      { name: 'extKeyUsage', serverAuth: true },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'dsguard-emu-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);

  const signingKey = randomBytes(32);
  const apps = options.apps;
  const exchange = new Map<string, Record<string, unknown[]>>(Object.entries(options.exchange ?? {}));
  const maxPageSize = options.maxPageSize ?? 1000;
  const lifetime = options.tokenLifetime ?? 3599;
  const faults: Fault[] = [];
  const issuedTokens: string[] = [];
  const requests: RequestLogEntry[] = [];
  const serials = new Map<string, number>();
  const revoked = new Set<string>();
  const deviceCodes = new Map<string, { clientId: string; scope: string; resource: string }>();
  const routes: { method: string; path: RegExp; handler: RouteHandler }[] = [];
  let base = '';

  const issue = (app: EmulatorApp, resource: string): string => {
    const n = (serials.get(app.clientId) ?? 0) + 1;
    serials.set(app.clientId, n);
    const claims: TokenClaims = {
      tid: app.tenantId,
      appid: app.clientId,
      aud: resource,
      roles: app.roles,
      exp: Math.floor(Date.now() / 1000) + lifetime,
      n,
    };
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }));
    const body = b64url(JSON.stringify({ ...claims, jti: randomBytes(8).toString('hex') }));
    const token = `${head}.${body}.${b64url(createHmac('sha256', signingKey).update(`${head}.${body}`).digest())}`;
    issuedTokens.push(token);
    return token;
  };

  const checkToken = (req: IncomingMessage, resource: string): TokenClaims | { error: string } => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(auth);
    if (!m) return { error: 'missing or malformed bearer token' };
    const expected = b64url(createHmac('sha256', signingKey).update(`${m[1]}.${m[2]}`).digest());
    if (expected !== m[3]) return { error: 'invalid signature' };
    const claims = decodeSegment(m[2]) as TokenClaims | null;
    if (!claims) return { error: 'invalid token' };
    if (claims.aud !== resource) return { error: `audience ${claims.aud} is not ${resource}` };
    const token = `${m[1]}.${m[2]}.${m[3]}`;
    if (revoked.has(token) || claims.exp * 1000 < Date.now()) return { error: 'token expired' };
    return claims;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const tokenError = (res: ServerResponse, status: number, code: string, aadsts: string): void =>
    send(res, status, {
      error: code,
      error_description: `${aadsts} Trace ID: ${randomBytes(8).toString('hex')}`,
      error_codes: [Number(aadsts.replace(/\D.*$/, '').replace(/^AADSTS/, '') || 0)],
      timestamp: new Date().toISOString(),
    });

  /** Verify a client assertion (RFC 7523): signed by the app's registered certificate, the right claims. */
  const verifyAssertion = (jwt: string, app: EmulatorApp, audience: string): string | null => {
    if (!app.certificatePem) return 'AADSTS700027: no certificate registered for the application';
    const [h, p, s] = jwt.split('.');
    const header = decodeSegment(h);
    const payload = decodeSegment(p);
    if (!header || !payload || !s) return 'AADSTS50027: the assertion is not a JWT';
    const cert = new X509Certificate(app.certificatePem);
    const alg = header.alg;
    const thumbSha1 = b64url(createHash('sha1').update(cert.raw).digest());
    const thumbSha256 = b64url(createHash('sha256').update(cert.raw).digest());
    if (header.x5t !== thumbSha1 && header['x5t#S256'] !== thumbSha256)
      return 'AADSTS700027: the assertion thumbprint matches no registered certificate';
    const key: KeyObject = createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
    const data = Buffer.from(`${h}.${p}`);
    const sig = Buffer.from(s, 'base64url');
    let ok = false;
    if (alg === 'RS256') ok = cryptoVerify('sha256', data, key, sig);
    else if (alg === 'PS256')
      ok = cryptoVerify(
        'sha256',
        data,
        { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST },
        sig,
      );
    else return `AADSTS5002730: unsupported assertion algorithm ${String(alg)}`;
    if (!ok) return 'AADSTS700027: the assertion signature does not verify';
    const now = Math.floor(Date.now() / 1000);
    if (payload.aud !== audience) return `AADSTS700016: assertion audience ${String(payload.aud)} is not ${audience}`;
    if (payload.iss !== app.clientId || payload.sub !== app.clientId)
      return 'AADSTS700023: assertion iss/sub must be the client id';
    if (typeof payload.exp !== 'number' || payload.exp < now) return 'AADSTS700024: the assertion has expired';
    if (typeof payload.nbf === 'number' && payload.nbf > now + 300)
      return 'AADSTS700024: the assertion is not yet valid';
    if (typeof payload.jti !== 'string' || payload.jti === '') return 'AADSTS700025: the assertion has no jti';
    return null;
  };

  const handleToken = (res: ServerResponse, tenant: string, body: string) => {
    const form = new URLSearchParams(body);
    const clientId = form.get('client_id') ?? '';
    const app = apps.find((a) => a.clientId === clientId && a.tenantId === tenant);
    if (!app)
      return tokenError(
        res,
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    // Microsoft's v2.0 endpoint takes 'device_code' (MSAL's value) as well as the RFC 8628 URN.
    const grant = form.get('grant_type');
    if (grant === 'device_code' || grant === 'urn:ietf:params:oauth:grant-type:device_code') {
      const code = form.get('device_code') ?? '';
      const pending = deviceCodes.get(code);
      if (!pending || pending.clientId !== clientId || !app.publicClient)
        return tokenError(res, 400, 'invalid_grant', 'AADSTS70000: The provided device code is invalid.');
      deviceCodes.delete(code);
      const uid = `00000000-0000-0000-0000-${'0'.repeat(11)}1`;
      const now = Math.floor(Date.now() / 1000);
      const idToken = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'none' }))}.${b64url(
        JSON.stringify({
          aud: clientId,
          iss: `${base}/${tenant}/v2.0`,
          tid: tenant,
          oid: uid,
          sub: uid,
          preferred_username: 'admin@emulator.test',
          name: 'Emulator Admin',
          iat: now,
          nbf: now,
          exp: now + lifetime,
          ver: '2.0',
        }),
      )}.`;
      return send(res, 200, {
        token_type: 'Bearer',
        scope: pending.scope,
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: issue(app, pending.resource),
        id_token: idToken,
        client_info: b64url(JSON.stringify({ uid, utid: tenant })),
      });
    }
    if (form.get('grant_type') !== 'client_credentials')
      return tokenError(res, 400, 'unsupported_grant_type', 'AADSTS70003: unsupported grant type');
    const scope = form.get('scope') ?? '';
    const m = /^(https:\/\/[^ ]+?)\/\.default$/.exec(scope.split(' ').find((x) => x.endsWith('/.default')) ?? '');
    if (!m)
      return tokenError(
        res,
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${scope} is not valid.`,
      );
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (secret !== app.secret)
        return tokenError(
          res,
          401,
          'invalid_client',
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        return tokenError(res, 400, 'invalid_request', 'AADSTS50027: bad client_assertion_type');
      const problem = verifyAssertion(assertion, app, `${base}/${tenant}/oauth2/v2.0/token`);
      if (problem) return tokenError(res, 401, 'invalid_client', problem);
    } else {
      return tokenError(
        res,
        401,
        'invalid_client',
        'AADSTS7000218: The request body must contain client_assertion or client_secret.',
      );
    }
    send(res, 200, {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: issue(app, m[1]!),
    });
  };

  /** Device code flow: the code is "approved" at once; the token endpoint then redeems it. */
  const handleDeviceCode = (res: ServerResponse, tenant: string, body: string) => {
    const form = new URLSearchParams(body);
    const clientId = form.get('client_id') ?? '';
    const app = apps.find((a) => a.clientId === clientId && a.tenantId === tenant);
    if (!app?.publicClient)
      return tokenError(
        res,
        400,
        'invalid_client',
        `AADSTS7000218: The application '${clientId}' does not allow public client flows.`,
      );
    const scope = form.get('scope') ?? '';
    const m = /^(https:\/\/[^ ]+?)\/\.default$/.exec(scope.split(' ').find((x) => x.endsWith('/.default')) ?? '');
    if (!m)
      return tokenError(
        res,
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${scope} is not valid.`,
      );
    const deviceCode = randomBytes(16).toString('hex');
    deviceCodes.set(deviceCode, { clientId, scope, resource: m[1]! });
    send(res, 200, {
      user_code: 'EMUCODE42',
      device_code: deviceCode,
      verification_uri: `${base}/devicelogin`,
      expires_in: 900,
      interval: 1,
      message: `To sign in, use a web browser to open the page ${base}/devicelogin and enter the code EMUCODE42 to authenticate.`,
    });
  };

  const openIdConfiguration = (tenant: string): unknown => ({
    token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
    kerberos_endpoint: `${base}/${tenant}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  });

  /** Exchange admin API: InvokeCommand with paging and faults. */
  const invokeCommand = (ctx: RouteContext) => {
    const tenant = ctx.params[0]!;
    const claims = ctx.requireToken(EXCHANGE_RESOURCE);
    if (!claims) return;
    if (claims.tid !== tenant)
      return ctx.send(401, { error: { code: 'Unauthorized', message: 'The token was issued for another tenant.' } });
    const app = apps.find((a) => a.clientId === claims.appid);
    if (!claims.roles.includes('Exchange.ManageAsApp') || !app?.exchangeRole)
      return ctx.send(403, {
        error: {
          code: 'Forbidden',
          message: `The role assigned to application ${claims.appid} isn't supported in this scenario. Please check online documentation for assigning correct Directory Roles to Azure AD Application for EXO App-Only Authentication.`,
        },
      });
    const input = (ctx.json as { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } } | undefined)
      ?.CmdletInput;
    const cmdlet = typeof input?.CmdletName === 'string' ? input.CmdletName : '';
    const last = requests[requests.length - 1];
    if (last) last.cmdlet = cmdlet;
    if (!input || cmdlet === '' || typeof input.Parameters !== 'object' || input.Parameters === null)
      return ctx.send(400, {
        error: { code: 'BadRequest', message: 'CmdletInput with CmdletName and Parameters is required.' },
      });
    const fi = faults.findIndex(
      (f) => (f.kind === 'throttle' || f.kind === 'server-error') && (f.cmdlet === undefined || f.cmdlet === cmdlet),
    );
    if (fi >= 0) {
      const f = faults.splice(fi, 1)[0]!;
      if (f.kind === 'throttle')
        return ctx.send(
          429,
          { error: { code: 'TooManyRequests', message: 'Too many requests.' } },
          { 'retry-after': String(f.retryAfter) },
        );
      return ctx.send(500, { error: { code: 'InternalServerError', message: 'An internal server error occurred.' } });
    }
    const objects = exchange.get(tenant) ?? {};
    const rows = objects[cmdlet];
    if (rows === undefined)
      return ctx.send(400, {
        error: {
          code: 'BadRequest',
          message: `The term '${cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program.`,
        },
      });
    const p = odataPage(ctx, rows, maxPageSize);
    const body: Record<string, unknown> = {
      '@odata.context': `${base}/adminapi/beta/${tenant}/$metadata#Collection(Exchange.GenericHashTable)`,
      'adminapi.warnings@odata.type': '#Collection(String)',
      '@adminapi.warnings': [],
      value: p.value.map(withSidecars),
    };
    if (p.nextLink) body['@odata.nextLink'] = p.nextLink;
    ctx.send(200, body, p.headers);
  };

  routes.push({ method: 'POST', path: /^\/adminapi\/beta\/([^/]+)\/InvokeCommand$/, handler: invokeCommand });

  const server: Server = createServer({ key: leaf.private, cert: leaf.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 4 * 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: RequestLogEntry = { method: req.method ?? '', path: url.pathname, status: 0 };
      requests.push(entry);
      res.on('finish', () => {
        entry.status = res.statusCode;
      });
      void dispatch(req, res, url, body).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { error: { code: 'EmulatorError', message: String(error) } });
      });
    });
  });

  const dispatch = async (req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> => {
    const path = url.pathname;
    let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (m && req.method === 'GET') return send(res, 200, openIdConfiguration(m[1]!));
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (m && req.method === 'POST') return handleToken(res, m[1]!, body);
    if (path === '/msi/token' && req.method === 'GET') {
      // App Service managed identity (IDENTITY_ENDPOINT = <url>/msi/token): GET ?resource=…, X-IDENTITY-HEADER.
      if (req.headers['x-identity-header'] !== EMULATOR_IDENTITY_HEADER)
        return send(res, 401, { error: 'unauthorized', error_description: 'bad X-IDENTITY-HEADER' });
      const wanted = url.searchParams.get('client_id');
      const app = apps.find((a) => a.managedIdentity && (wanted === null || a.clientId === wanted));
      if (!app) return send(res, 400, { error: 'invalid_request', error_description: 'no such managed identity' });
      const resource = (url.searchParams.get('resource') ?? '').replace(/\/\.default$/, '').replace(/\/+$/, '');
      return send(res, 200, {
        access_token: issue(app, resource),
        expires_on: String(Math.floor(Date.now() / 1000) + lifetime),
        resource,
        token_type: 'Bearer',
        client_id: app.clientId,
      });
    }
    m = /^\/([^/]+)\/oauth2\/v2\.0\/devicecode$/.exec(path);
    if (m && req.method === 'POST') return handleDeviceCode(res, m[1]!, body);
    for (const r of routes) {
      const rm = r.path.exec(path);
      if (!rm || r.method !== req.method) continue;
      let json: unknown;
      try {
        json = body === '' ? undefined : JSON.parse(body);
      } catch {
        json = undefined;
      }
      const ctx: RouteContext = {
        req,
        url,
        body,
        json,
        params: rm.slice(1).map((x) => decodeURIComponent(x ?? '')),
        send: (status, b, headers) => send(res, status, b, headers),
        requireToken: (resource) => {
          const fi = faults.findIndex((f) => f.kind === 'expire-token');
          const claims = checkToken(req, resource);
          if ('error' in claims) {
            send(
              res,
              401,
              { error: { code: 'InvalidAuthenticationToken', message: claims.error } },
              {
                'www-authenticate': `Bearer error="invalid_token", error_description="${claims.error}"`,
              },
            );
            return null;
          }
          if (fi >= 0) {
            faults.splice(fi, 1);
            revoked.add((req.headers.authorization ?? '').slice(7));
            send(
              res,
              401,
              {
                error: {
                  code: 'InvalidAuthenticationToken',
                  message: 'Lifetime validation failed, the token is expired.',
                },
              },
              {
                'www-authenticate': 'Bearer error="invalid_token", error_description="The access token has expired"',
              },
            );
            return null;
          }
          return claims;
        },
      };
      return r.handler(ctx);
    }
    send(res, 404, { error: { code: 'NotFound', message: `no emulated endpoint ${req.method} ${path}` } });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    caFile,
    caPem: ca.cert,
    issuedTokens,
    requests,
    fault: (f) => faults.push(f),
    route: (method, path, handler) => routes.push({ method, path, handler }),
    setExchange: (tenantId, objects) => exchange.set(tenantId, objects),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
