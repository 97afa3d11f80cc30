import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile } from '../../src/config/profile-file.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { DsguardStore } from '../../src/store/dsguard-store.js';

export const FIXTURE_DIR = 'test/fixtures/exports';

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => /\.(csv|json|ndjson)$/.test(f) && !f.endsWith('.expected.json'))
    .sort()
    .map((f) => join(FIXTURE_DIR, f));
}

export async function fixtureProfile(): Promise<TenantProfile> {
  const r = await loadProfile(join(FIXTURE_DIR, 'dsguard.yml'));
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dsguard-ingest-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function openStore(path: string): DsguardStore {
  const r = DsguardStore.open(path);
  if (r.status !== 'ok') throw new Error(r.error);
  return r.store;
}

/** Write a one-row Get-MessageTraceV2 export with the given (possibly hostile) sender, IP and subject. */
export function writeTraceRow(
  path: string,
  row: { id: string; sender: string; fromIp: string; subject: string; recipient?: string },
): void {
  const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
  writeFileSync(
    path,
    '"MessageTraceId","Received","SenderAddress","RecipientAddress","FromIP","Subject"\r\n' +
      [row.id, '7/20/2026 8:15:02 AM', row.sender, row.recipient ?? 'b@contoso.com', row.fromIp, row.subject]
        .map(q)
        .join(',') +
      '\r\n',
  );
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * Whether dist/ (built by `npm ci` / `npm test`) is there and not older than the sources: tsc's output and the
 * CLI's bundle made from it (bin/dsguard.js runs dist/bundle/; `tsc` alone leaves it stale).
 */
export function distIsCurrent(): boolean {
  const newest = newestMtime('src');
  return ['dist/ingest/ingest.js', 'dist/bundle/main.js', 'dist/bundle/analyze-worker.js'].every(
    (f) => existsSync(f) && statSync(f).mtimeMs >= newest,
  );
}
