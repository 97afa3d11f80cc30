/**
 * Where a tenant's store lives with `--tenants tenants.yml`: its `db:`, else `<name>.db` beside `--db` (or in the
 * working directory). `collect` writes there and `report --all-tenants` reads there: one rule.
 * @module
 */
import { dirname, join } from 'node:path';

export function tenantStorePath(t: { name: string; db: string | null }, dbFlag: string | undefined): string {
  return t.db ?? join(dbFlag !== undefined ? dirname(dbFlag) : '.', `${t.name.replace(/[^A-Za-z0-9.-]/g, '_')}.db`);
}
