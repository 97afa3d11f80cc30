/**
 * The edge around the pure audit: get the configuration (a dump folder or the live admin API), the DNS posture of
 * the accepted domains, and — with a store — the legitimate sources the report found; then score.
 * @module
 */

import type { DomainExposure } from '../core/posture/exposure-audit.js';
import type { TenantProfile } from '../core/profile.js';
import { auditDomain } from '../exposure/exposure.js';
import type { Resolver } from '../net/dns.js';
import { tenantReportFromFile } from '../report/tenant-report.js';
import { type CredentialSpec, createTokenSource, type DeviceCodePrompt } from '../tenant/auth.js';
import { exchangeAdminClient } from '../tenant/exchange-admin.js';
import type { StoreFacts } from './checks.js';
import type { TenantConfig } from './config.js';
import { readConfigDir, readConfigLive } from './config-source.js';

export type ConfigSource =
  | { kind: 'dir'; dir: string }
  | {
      kind: 'live';
      credential: CredentialSpec;
      exchangeUrl?: string;
      anchorMailbox?: string | null;
      env?: NodeJS.ProcessEnv;
      prompt?: DeviceCodePrompt;
      /** Extra CA for in-process tests. */
      ca?: string;
      /** Cmdlets read so far (progress). */
      onProgress?: (done: number, total: number) => void;
    };

export type Loaded =
  | { status: 'ok'; config: TenantConfig; label: string; requests: number }
  | { status: 'error'; error: string };

export async function loadTenantConfig(src: ConfigSource): Promise<Loaded> {
  if (src.kind === 'dir') {
    try {
      return { status: 'ok', config: await readConfigDir(src.dir), label: src.dir, requests: 0 };
    } catch (error) {
      return { status: 'error', error: (error as Error).message };
    }
  }
  let tokens: Awaited<ReturnType<typeof createTokenSource>>;
  try {
    const opts: Parameters<typeof createTokenSource>[1] = {};
    if (src.env) opts.env = src.env;
    if (src.prompt) opts.prompt = src.prompt;
    tokens = await createTokenSource(src.credential, opts);
  } catch (error) {
    return { status: 'error', error: (error as Error).message };
  }
  const client = exchangeAdminClient({
    tenantId: src.credential.tenantId,
    tokens,
    ...(src.exchangeUrl !== undefined ? { baseUrl: src.exchangeUrl } : {}),
    ...(src.anchorMailbox ? { anchorMailbox: src.anchorMailbox } : {}),
    ...(src.ca !== undefined ? { ca: src.ca } : {}),
  });
  const label = `admin API (tenant ${src.credential.tenantId})`;
  const r = await readConfigLive(client, label, src.onProgress);
  if (r.fatal)
    return { status: 'error', error: tokens.redactor.redact(`tenant ${src.credential.tenantId}: ${r.fatal}`) };
  return { status: 'ok', config: r.config, label, requests: client.requests };
}

/** DNS posture of each domain (the exposure audit), in order, at most `concurrency` at once. */
export async function domainPosture(
  domains: readonly string[],
  resolver: Resolver,
): Promise<Map<string, DomainExposure>> {
  const out = new Map<string, DomainExposure>();
  const results = await Promise.all(domains.map((d) => auditDomain(d, { resolver })));
  for (const [i, d] of domains.entries()) out.set(d, results[i]!);
  return out;
}

/** The report's legitimate Direct Send sources (one call to the public report function). */
export function storeFactsFrom(db: string, profile: TenantProfile | null): { facts: StoreFacts } | { error: string } {
  const r = tenantReportFromFile(db, { profile });
  if (r.status === 'error') return { error: r.error };
  return {
    facts: {
      legitimateSources: r.report.impact.legitimateSources.map((s) => ({
        id: s.id,
        name: s.name,
        ips: s.ips,
        messages: s.messages,
      })),
      directSendMessages: r.report.impact.wouldReject.messages,
    },
  };
}
