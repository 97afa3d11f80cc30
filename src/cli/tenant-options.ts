/**
 * The flags every command that talks to a tenant shares (`profile`, `audit`; `collect` and `watch` next): which
 * tenant, which app registration, where its secret or certificate is, and host overrides for tests and sovereign
 * clouds. Secrets are never flags: a client secret comes from an environment variable or a file.
 * @module
 */
import type { Command } from 'commander';
import { type CredentialSpec, checkSpec } from '../tenant/auth.js';
import { UsageError } from './io.js';

export interface TenantFlags {
  tenant?: string;
  tenants?: string;
  clientId?: string;
  clientSecretEnv?: string;
  clientSecretFile?: string;
  certificate?: string;
  deviceCode?: boolean;
  managedIdentity?: boolean;
  authorityHost?: string;
  exchangeUrl?: string;
}

export function addTenantOptions(cmd: Command, { multi = true }: { multi?: boolean } = {}): Command {
  cmd
    .option('--tenant <id>', 'read the tenant live: its tenant GUID (or initial domain)')
    .option('--client-id <guid>', 'the app registration’s application (client) id')
    .option(
      '--client-secret-env <name>',
      'environment variable holding the client secret (default DSGUARD_CLIENT_SECRET)',
    )
    .option('--client-secret-file <path>', 'file holding the client secret (first line)')
    .option('--certificate <pem>', 'PEM file with the app’s certificate and private key')
    .option('--device-code', 'sign in interactively with a device code (one-off runs)')
    .option('--managed-identity', 'use the Azure managed identity of this host (--client-id for a user-assigned one)')
    .option('--authority-host <url>', 'Entra ID host (sovereign clouds, tests); instance discovery is then off')
    .option('--exchange-url <url>', 'Exchange admin API base (default https://outlook.office365.com)');
  if (multi) cmd.option('--tenants <file>', 'tenants.yml: many tenants (MSPs); one failing never stops the others');
  return cmd;
}

/** The credential the flags describe; usage errors name the flag. */
export function credentialFromFlags(flags: TenantFlags): CredentialSpec {
  if (flags.tenant === undefined) throw new UsageError('--tenant is needed to read the tenant live');
  const kinds = [
    flags.certificate !== undefined,
    flags.deviceCode === true,
    flags.managedIdentity === true,
    flags.clientSecretEnv !== undefined || flags.clientSecretFile !== undefined,
  ].filter(Boolean).length;
  if (kinds > 1)
    throw new UsageError(
      'give one of --certificate, --client-secret-env/--client-secret-file, --device-code, --managed-identity',
    );
  const kind =
    flags.certificate !== undefined
      ? 'certificate'
      : flags.deviceCode
        ? 'device-code'
        : flags.managedIdentity
          ? 'managed-identity'
          : 'client-secret';
  const spec: CredentialSpec = { kind, tenantId: flags.tenant, clientId: flags.clientId ?? null };
  if (flags.clientSecretEnv !== undefined) spec.secretEnv = flags.clientSecretEnv;
  if (flags.clientSecretFile !== undefined) spec.secretFile = flags.clientSecretFile;
  if (flags.certificate !== undefined) spec.certificatePath = flags.certificate;
  if (flags.authorityHost !== undefined) spec.authorityHost = flags.authorityHost;
  const problem = checkSpec(spec);
  if (problem) throw new UsageError(problem);
  if (flags.exchangeUrl !== undefined) {
    let u: URL | null = null;
    try {
      u = new URL(flags.exchangeUrl);
    } catch {
      u = null;
    }
    if (u?.protocol !== 'https:')
      throw new UsageError(`--exchange-url must be an https URL (got "${flags.exchangeUrl.slice(0, 80)}")`);
  }
  return spec;
}
