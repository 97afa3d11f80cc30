/**
 * The one way dsguard authenticates to Microsoft 365 (Exchange admin API now, Graph for `collect`): an
 * @azure/identity credential built from flags, tokens cached per scope, and a description that never holds a
 * secret. Every error leaving this module goes through {@link Redactor}, so neither the client secret nor a
 * token issued to us can reach a log line, an error or a file.
 *
 * Kinds: a client secret read from an environment variable or a file (never from a flag: flags end up in shell
 * history and process lists), a certificate (PEM with the private key), device code for a one-off interactive
 * run, and a managed identity (Azure-hosted runs). `authorityHost` overrides the Entra ID host (tests, sovereign
 * clouds); instance discovery is then turned off, since a private authority is not in Microsoft's list.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { TokenCredential } from '@azure/identity';

export type CredentialKind = 'client-secret' | 'certificate' | 'device-code' | 'managed-identity';

export interface CredentialSpec {
  kind: CredentialKind;
  /** Tenant GUID or domain. Not used by managed identity. */
  tenantId: string;
  /** The app registration's application (client) id; for managed identity, a user-assigned identity's id. */
  clientId: string | null;
  /** client-secret: the environment variable holding it (default `DSGUARD_CLIENT_SECRET`). */
  secretEnv?: string;
  /** client-secret: a file holding it (first line, trimmed). Wins over `secretEnv`. */
  secretFile?: string;
  /** certificate: PEM file with the certificate and its private key. */
  certificatePath?: string;
  /** `https://login.microsoftonline.com` by default; `https://login.microsoftonline.us` etc. for sovereign clouds. */
  authorityHost?: string;
}

export const DEFAULT_SECRET_ENV = 'DSGUARD_CLIENT_SECRET';

/** Device code prompt (the verification URL and the code): shown on stderr by the CLI. */
export type DeviceCodePrompt = (message: string) => void;

export type AuthErrorKind = 'config' | 'auth';

export class AuthError extends Error {
  constructor(
    readonly kind: AuthErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Remembers every secret and token this process handled and blanks them out of any text. Values shorter than
 * 8 characters are not tracked (they would blank out ordinary words).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string | null | undefined): void {
    if (value && value.length >= 8) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    // Bearer tokens and JWT-shaped strings that were never handed to us (a server echoing a header, say).
    return out
      .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [redacted]')
      .replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]');
  }
}

/** Where an access token comes from: the Exchange admin and Graph clients need only this. */
export interface TokenSource {
  /** A token for `scope` (e.g. `https://outlook.office365.com/.default`), from the cache while it is valid. */
  token(scope: string): Promise<string>;
  /** The server refused the token (401): forget it, so the next {@link token} call gets a new one. */
  invalidate(scope: string): void;
  /** What authenticates, for logs: kind, app id, tenant, where the secret comes from — never the secret. */
  describe(): string;
  readonly redactor: Redactor;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)$/i;
/** Refresh a cached token this long before it expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Validate a spec; the error names the flag. */
export function checkSpec(spec: CredentialSpec): string | null {
  if (spec.kind !== 'managed-identity' && !TENANT.test(spec.tenantId))
    return `--tenant must be a tenant GUID or domain (got "${spec.tenantId.slice(0, 80)}")`;
  if (spec.kind !== 'managed-identity' && spec.clientId === null)
    return `--client-id is needed for ${spec.kind} authentication`;
  if (spec.clientId !== null && !GUID.test(spec.clientId))
    return `--client-id must be the application (client) id, a GUID (got "${spec.clientId.slice(0, 80)}")`;
  if (spec.kind === 'certificate' && spec.certificatePath === undefined)
    return '--certificate <pem file> is needed for certificate authentication';
  if (spec.authorityHost !== undefined) {
    let u: URL;
    try {
      u = new URL(spec.authorityHost);
    } catch {
      return `--authority-host must be an https URL (got "${spec.authorityHost.slice(0, 80)}")`;
    }
    if (u.protocol !== 'https:') return `--authority-host must be an https URL (got "${u.protocol}")`;
  }
  return null;
}

/** The client secret, read from its file or environment variable; the error says where it looked, not what it found. */
export async function readClientSecret(spec: CredentialSpec, env: NodeJS.ProcessEnv): Promise<string> {
  if (spec.secretFile !== undefined) {
    let text: string;
    try {
      text = await readFile(spec.secretFile, 'utf8');
    } catch (error) {
      throw new AuthError(
        'config',
        `${spec.secretFile}: cannot read the client secret file: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const line = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (line === '') throw new AuthError('config', `${spec.secretFile}: the client secret file is empty`);
    return line;
  }
  const name = spec.secretEnv ?? DEFAULT_SECRET_ENV;
  const value = env[name]?.trim();
  if (!value)
    throw new AuthError(
      'config',
      `no client secret: set the environment variable ${name} (or use --client-secret-file, --certificate, --device-code, --managed-identity)`,
    );
  return value;
}

/** A description for logs and reports: what authenticates, never with what. */
export function describeSpec(spec: CredentialSpec): string {
  const app = spec.clientId ? ` app ${spec.clientId}` : '';
  const where = spec.authorityHost ? ` via ${new URL(spec.authorityHost).host}` : '';
  switch (spec.kind) {
    case 'client-secret':
      return `client secret (from ${spec.secretFile !== undefined ? `file ${spec.secretFile}` : `environment variable ${spec.secretEnv ?? DEFAULT_SECRET_ENV}`}) for${app} in tenant ${spec.tenantId}${where}`;
    case 'certificate':
      return `certificate ${spec.certificatePath ?? ''} for${app} in tenant ${spec.tenantId}${where}`;
    case 'device-code':
      return `device code sign-in${app ? ` with${app}` : ''} in tenant ${spec.tenantId}${where}`;
    case 'managed-identity':
      return `managed identity${spec.clientId ? ` ${spec.clientId}` : ' (system-assigned)'}`;
  }
}

async function buildCredential(
  spec: CredentialSpec,
  env: NodeJS.ProcessEnv,
  redactor: Redactor,
  prompt: DeviceCodePrompt,
): Promise<TokenCredential> {
  // Loaded on first use: @azure/identity costs most of a second to import, and most commands never need it.
  const { ClientCertificateCredential, ClientSecretCredential, DeviceCodeCredential, ManagedIdentityCredential } =
    await import('@azure/identity');
  const authority =
    spec.authorityHost !== undefined
      ? { authorityHost: spec.authorityHost.replace(/\/+$/, ''), disableInstanceDiscovery: true }
      : {};
  switch (spec.kind) {
    case 'client-secret': {
      const secret = await readClientSecret(spec, env);
      redactor.add(secret);
      return new ClientSecretCredential(spec.tenantId, spec.clientId!, secret, authority);
    }
    case 'certificate':
      return new ClientCertificateCredential(
        spec.tenantId,
        spec.clientId!,
        { certificatePath: spec.certificatePath! },
        authority,
      );
    case 'device-code':
      return new DeviceCodeCredential({
        tenantId: spec.tenantId,
        clientId: spec.clientId!,
        userPromptCallback: (info) => prompt(info.message),
        ...authority,
      });
    case 'managed-identity':
      return spec.clientId
        ? new ManagedIdentityCredential({ clientId: spec.clientId })
        : new ManagedIdentityCredential();
  }
}

/**
 * A {@link TokenSource} over @azure/identity. Tokens are cached per scope until five minutes before they expire.
 * After a 401 ({@link TokenSource.invalidate}) the credential is rebuilt, because MSAL would otherwise hand back
 * the very token the server just refused from its own cache.
 */
export async function createTokenSource(
  spec: CredentialSpec,
  options: { env?: NodeJS.ProcessEnv; prompt?: DeviceCodePrompt; now?: () => number } = {},
): Promise<TokenSource> {
  const problem = checkSpec(spec);
  if (problem) throw new AuthError('config', problem);
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const redactor = new Redactor();
  const prompt = options.prompt ?? (() => {});
  let credential = await buildCredential(spec, env, redactor, prompt);
  const cache = new Map<string, { token: string; expiresOn: number }>();
  const stale = new Set<string>();
  return {
    redactor,
    describe: () => describeSpec(spec),
    invalidate(scope: string) {
      const entry = cache.get(scope);
      if (entry) stale.add(entry.token);
      cache.delete(scope);
    },
    async token(scope: string): Promise<string> {
      const hit = cache.get(scope);
      if (hit && hit.expiresOn - EXPIRY_MARGIN_MS > now()) return hit.token;
      if (stale.size > 0) {
        credential = await buildCredential(spec, env, redactor, prompt);
        stale.clear();
      }
      let got: { token: string; expiresOnTimestamp: number } | null;
      try {
        got = await credential.getToken(scope);
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        throw new AuthError(
          'auth',
          redactor.redact(`cannot get a token for ${scope} (${describeSpec(spec)}): ${firstLines(text)}`),
        );
      }
      if (!got) throw new AuthError('auth', `no token for ${scope} (${describeSpec(spec)})`);
      redactor.add(got.token);
      cache.set(scope, { token: got.token, expiresOn: got.expiresOnTimestamp });
      return got.token;
    },
  };
}

/** MSAL errors run to many lines of trace ids; keep the first two, bounded. */
function firstLines(text: string): string {
  return text.split(/\r?\n/).filter(Boolean).slice(0, 2).join(' ').slice(0, 500);
}

/** A fixed token (tests and callers that already hold one). */
export function staticTokenSource(
  tokens: (scope: string, attempt: number) => string,
  label = 'static token',
): TokenSource {
  const redactor = new Redactor();
  const attempts = new Map<string, number>();
  const cache = new Map<string, string>();
  return {
    redactor,
    describe: () => label,
    invalidate(scope) {
      cache.delete(scope);
    },
    async token(scope) {
      const hit = cache.get(scope);
      if (hit) return hit;
      const n = (attempts.get(scope) ?? 0) + 1;
      attempts.set(scope, n);
      const t = tokens(scope, n);
      redactor.add(t);
      cache.set(scope, t);
      return t;
    },
  };
}
