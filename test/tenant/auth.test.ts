/** The authentication module's own rules: validated specs, secrets read but never described, redaction. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  type CredentialSpec,
  checkSpec,
  createTokenSource,
  describeSpec,
  Redactor,
  readClientSecret,
} from '../../src/tenant/auth.js';

const base: CredentialSpec = {
  kind: 'client-secret',
  tenantId: '2f1c0a9e-5d4b-4c1e-9a7b-0c3d5e7f9a1b',
  clientId: '6a1e3c55-0000-4000-8000-000000000001',
};
const SECRET = 'a-secret-value-that-is-long-enough';

describe('auth', () => {
  it('validates the spec and names the flag', () => {
    expect(checkSpec(base)).toBeNull();
    expect(checkSpec({ ...base, tenantId: 'not a tenant' })).toContain('--tenant');
    expect(checkSpec({ ...base, clientId: null })).toContain('--client-id');
    expect(checkSpec({ ...base, clientId: 'abc' })).toContain('GUID');
    expect(checkSpec({ ...base, kind: 'certificate' })).toContain('--certificate');
    expect(checkSpec({ ...base, authorityHost: 'http://login.example' })).toContain('https');
    expect(checkSpec({ kind: 'managed-identity', tenantId: '', clientId: null })).toBeNull();
  });

  it('reads the secret from the environment or a file, and never describes it', async () => {
    expect(await readClientSecret(base, { DSGUARD_CLIENT_SECRET: ` ${SECRET} ` })).toBe(SECRET);
    expect(await readClientSecret({ ...base, secretEnv: 'MINE' }, { MINE: SECRET })).toBe(SECRET);
    const dir = mkdtempSync(join(tmpdir(), 'dsguard-auth-'));
    try {
      const f = join(dir, 's.txt');
      writeFileSync(f, `${SECRET}\r\nignored\n`);
      expect(await readClientSecret({ ...base, secretFile: f }, {})).toBe(SECRET);
      await expect(readClientSecret({ ...base, secretFile: join(dir, 'none') }, {})).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(readClientSecret(base, {})).rejects.toThrow(/DSGUARD_CLIENT_SECRET/);
    for (const kind of ['client-secret', 'certificate', 'device-code', 'managed-identity'] as const) {
      const d = describeSpec({ ...base, kind, certificatePath: '/x.pem', authorityHost: 'https://login.example' });
      expect(d).not.toContain(SECRET);
      expect(d.length).toBeGreaterThan(10);
    }
  });

  it('refuses a bad spec before any network use', async () => {
    const e = await createTokenSource(
      { ...base, authorityHost: 'http://127.0.0.1:1' },
      { env: { DSGUARD_CLIENT_SECRET: SECRET } },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).kind).toBe('config');
  });

  it('redacts what it was given and anything token-shaped', () => {
    const r = new Redactor();
    r.add(SECRET);
    r.add('short');
    expect(r.redact(`x ${SECRET} y short`)).toBe('x [redacted] y short');
    expect(r.redact('Authorization: Bearer abc.def-ghi_jkl')).toBe('Authorization: Bearer [redacted]');
    expect(r.redact('token eyJhbGciOi.eyJzdWIiOiJ4.sig-nature')).toBe('token [redacted-jwt]');
  });
});
