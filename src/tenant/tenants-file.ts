/**
 * `tenants.yml` for MSPs: one entry per tenant, each with its own app registration (or a multi-tenant app with
 * per-tenant consent), its credential source and, optionally, its profile or a folder of configuration dumps.
 * Secrets never go in this file: it names the environment variable or the file that holds each one.
 *
 * ```yaml
 * tenants:
 *   - name: Contoso
 *     tenantId: 2f1c0a9e-5d4b-4c1e-9a7b-0c3d5e7f9a1b
 *     clientId: 6a1e3c55-0000-4000-8000-000000000001
 *     certificate: certs/contoso.pem        # or secretEnv: CONTOSO_SECRET, secretFile: …, managedIdentity: true
 *     profile: profiles/contoso.yml         # optional
 *     db: stores/contoso.db                 # optional: its store, for the RejectDirectSend impact
 *   - name: Fabrikam (files)
 *     configDir: dumps/fabrikam             # no credentials: read the dumps
 * ```
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { CredentialSpec } from './auth.js';

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID');

const entrySchema = z
  .object({
    name: z.string().min(1).max(200),
    tenantId: z.string().min(3).max(253).optional(),
    clientId: guid.optional(),
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')
      .optional(),
    secretFile: z.string().min(1).max(1000).optional(),
    certificate: z.string().min(1).max(1000).optional(),
    deviceCode: z.boolean().optional(),
    managedIdentity: z.boolean().optional(),
    profile: z.string().min(1).max(1000).optional(),
    configDir: z.string().min(1).max(1000).optional(),
    db: z.string().min(1).max(1000).optional(),
    anchorMailbox: z.string().min(3).max(320).optional(),
  })
  .strict();

const fileSchema = z.object({ tenants: z.array(entrySchema).min(1, 'list at least one tenant').max(5000) }).strict();

export interface TenantEntry {
  name: string;
  /** Live access, or `null` when the tenant is read from `configDir`. */
  credential: CredentialSpec | null;
  configDir: string | null;
  profile: string | null;
  /** This tenant's store (dsguard ingest), for the audit's RejectDirectSend impact. */
  db: string | null;
  anchorMailbox: string | null;
}

export async function loadTenantsFile(
  path: string,
  defaults: { authorityHost?: string },
): Promise<{ tenants: TenantEntry[] } | { error: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { error: `${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length > 0) return { error: `${path}:${lc.linePos(doc.errors[0]!.pos[0]).line}: invalid YAML` };
  const r = fileSchema.safeParse(doc.toJS());
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const node = doc.getIn(issue.path as unknown[], true) as { range?: [number, number, number] } | undefined;
    const line = node?.range ? `:${lc.linePos(node.range[0]).line}` : '';
    return { error: `${path}${line}: ${issue.path.join('.') || '(top level)'}: ${issue.message}` };
  }
  const base = dirname(path);
  const rel = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));
  const tenants: TenantEntry[] = [];
  for (const [i, e] of r.data.tenants.entries()) {
    const where = `${path}: tenants.${i} (${e.name})`;
    const kinds = [
      e.certificate !== undefined,
      e.deviceCode === true,
      e.managedIdentity === true,
      e.secretEnv !== undefined || e.secretFile !== undefined,
    ].filter(Boolean).length;
    if (kinds > 1)
      return { error: `${where}: give one of certificate, secretEnv/secretFile, deviceCode, managedIdentity` };
    if (e.configDir !== undefined) {
      if (kinds > 0) return { error: `${where}: configDir reads dumps; it takes no credential` };
      tenants.push({
        name: e.name,
        credential: null,
        configDir: rel(e.configDir)!,
        profile: rel(e.profile) ?? null,
        db: rel(e.db) ?? null,
        anchorMailbox: null,
      });
      continue;
    }
    if (e.tenantId === undefined) return { error: `${where}: tenantId is needed (or configDir)` };
    const kind =
      e.certificate !== undefined
        ? 'certificate'
        : e.deviceCode
          ? 'device-code'
          : e.managedIdentity
            ? 'managed-identity'
            : 'client-secret';
    const spec: CredentialSpec = { kind, tenantId: e.tenantId, clientId: e.clientId ?? null };
    if (e.secretEnv !== undefined) spec.secretEnv = e.secretEnv;
    if (e.secretFile !== undefined) spec.secretFile = rel(e.secretFile)!;
    if (e.certificate !== undefined) spec.certificatePath = rel(e.certificate)!;
    if (defaults.authorityHost !== undefined) spec.authorityHost = defaults.authorityHost;
    tenants.push({
      name: e.name,
      credential: spec,
      configDir: null,
      profile: rel(e.profile) ?? null,
      db: rel(e.db) ?? null,
      anchorMailbox: e.anchorMailbox ?? null,
    });
  }
  return { tenants };
}
