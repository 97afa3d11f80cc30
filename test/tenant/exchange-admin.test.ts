/**
 * The Exchange admin API client in-process against the emulator (its CA passed directly; tokens from the
 * emulator's token endpoint): paging by the page-size preference, Retry-After waits (counted, never timed),
 * 5xx then success, a second 401 is a failure, a nextLink to another host is refused — that last one through a
 * route added with `emu.route`, the way #17 adds Graph endpoints.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor, type TokenSource } from '../../src/tenant/auth.js';
import { ExchangeAdminError, exchangeAdminClient } from '../../src/tenant/exchange-admin.js';
import { type MicrosoftEmulator, startMicrosoftEmulator } from '../emulators/microsoft.js';

const T = '11111111-2222-4333-8444-555555555555';
const APP = '6a1e3c55-0000-4000-8000-0000000000aa';
const SECRET = 'in-process-secret-0123456789';
let emu: MicrosoftEmulator;

/** Client credentials straight against the emulator's token endpoint (no MSAL: the CA is passed in-process). */
function emulatorTokens(): TokenSource & { fetched: number } {
  const redactor = new Redactor();
  const cache = new Map<string, string>();
  const src = {
    redactor,
    fetched: 0,
    describe: () => 'emulator client credentials',
    invalidate: (scope: string) => {
      cache.delete(scope);
    },
    token: (scope: string) =>
      new Promise<string>((resolve, reject) => {
        const hit = cache.get(scope);
        if (hit) return resolve(hit);
        const body = new URLSearchParams({
          client_id: APP,
          client_secret: SECRET,
          grant_type: 'client_credentials',
          scope,
        }).toString();
        const req = request(
          `${emu.url}/${T}/oauth2/v2.0/token`,
          { method: 'POST', ca: emu.caPem, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          (res) => {
            let text = '';
            res.on('data', (c) => {
              text += c;
            });
            res.on('end', () => {
              const j = JSON.parse(text) as { access_token?: string };
              if (!j.access_token) return reject(new Error(text));
              src.fetched++;
              redactor.add(j.access_token);
              cache.set(scope, j.access_token);
              resolve(j.access_token);
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
  };
  return src;
}

const rows = Array.from({ length: 5 }, (_, i) => ({
  DomainName: `d${i}.test`,
  DomainType: 'Authoritative',
  Name: `d${i}.test`,
}));

beforeAll(async () => {
  emu = await startMicrosoftEmulator({
    apps: [{ tenantId: T, clientId: APP, secret: SECRET, roles: ['Exchange.ManageAsApp'], exchangeRole: true }],
    exchange: { [T]: { 'Get-AcceptedDomain': rows } },
  });
});
afterAll(async () => emu.close());

function client(extra: Partial<Parameters<typeof exchangeAdminClient>[0]> = {}) {
  const waits: number[] = [];
  const tokens = emulatorTokens();
  const c = exchangeAdminClient({
    tenantId: T,
    tokens,
    baseUrl: emu.url,
    ca: emu.caPem,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...extra,
  });
  return { c, waits, tokens };
}

describe('exchangeAdminClient', () => {
  it('reads every page, asking for the page size with Prefer: odata.maxpagesize', async () => {
    const { c } = client({ pageSize: 2 });
    const got = await c.invoke('Get-AcceptedDomain');
    expect(got.map((r) => (r as { DomainName: string }).DomainName)).toEqual(rows.map((r) => r.DomainName));
    expect(c.requests).toBe(3);
    // Sidecars arrive as the live API sends them; the reader strips them later.
    expect(Object.keys(got[0] as object)).toContain('DomainName');
  });

  it('waits for Retry-After on 429 and retries a 5xx', async () => {
    emu.fault({ kind: 'throttle', retryAfter: 7 });
    emu.fault({ kind: 'server-error' });
    const { c, waits } = client();
    expect((await c.invoke('Get-AcceptedDomain')).length).toBe(5);
    expect(waits).toEqual([7000, 2000]);
  });

  it('gives up on a Retry-After longer than allowed, naming it', async () => {
    emu.fault({ kind: 'throttle', retryAfter: 900 });
    const { c, waits } = client();
    const e = await c.invoke('Get-AcceptedDomain').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExchangeAdminError);
    expect((e as ExchangeAdminError).kind).toBe('throttled');
    expect((e as Error).message).toContain('Retry-After 900 s');
    expect(waits).toEqual([]);
  });

  it('gets one new token after a 401, and fails on a second', async () => {
    emu.fault({ kind: 'expire-token' });
    const one = client();
    expect((await one.c.invoke('Get-AcceptedDomain')).length).toBe(5);
    expect(one.tokens.fetched).toBe(2);
    emu.fault({ kind: 'expire-token' });
    emu.fault({ kind: 'expire-token' });
    const two = client();
    const e = (await two.c.invoke('Get-AcceptedDomain').catch((x: unknown) => x)) as ExchangeAdminError;
    expect(e.kind).toBe('unauthorized');
    expect(e.message).toContain('Exchange.ManageAsApp');
  });

  it('never follows a nextLink to another host (the token would go with it)', async () => {
    emu.route('POST', /^\/evil\/adminapi\/beta\/([^/]+)\/InvokeCommand$/, (ctx) => {
      if (!ctx.requireToken('https://outlook.office365.com')) return;
      ctx.send(200, { value: [{ Name: 'x' }], '@odata.nextLink': 'https://attacker.example/steal' });
    });
    const { c } = client({ baseUrl: `${emu.url}/evil` });
    const e = (await c.invoke('Get-AcceptedDomain').catch((x: unknown) => x)) as ExchangeAdminError;
    expect(e.kind).toBe('bad-response');
    expect(e.message).toContain('another host');
  });

  it('a cmdlet the API does not know is a bad request with the server’s words', async () => {
    const { c } = client();
    const e = (await c.invoke('Get-Nonsense').catch((x: unknown) => x)) as ExchangeAdminError;
    expect(e.kind).toBe('bad-request');
    expect(e.message).toContain("The term 'Get-Nonsense' is not recognized");
  });
});
