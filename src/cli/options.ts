/**
 * Shared CLI options: --format, --fail-on, --profile. Validated; bad values are usage errors (exit 2).
 * @module
 */

import { type Finding, isSeverity, maxSeverity, type Severity, severityRank } from '../core/finding.js';
import type { TenantProfile } from '../core/profile.js';
import { orFail, UsageError } from './io.js';

export type OutputFormat = 'table' | 'json' | 'ndjson' | 'csv' | 'md' | 'html';

export function parseFormat(value: string, allowed: readonly OutputFormat[]): OutputFormat {
  if ((allowed as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`--format must be one of ${allowed.join(', ')} (got "${value}")`);
}

export function parseFailOn(value: string | undefined): Severity | null {
  if (value === undefined || value === 'none') return null;
  if (isSeverity(value)) return value;
  throw new UsageError(`--fail-on must be one of high, medium, low, info, none (got "${value}")`);
}

/** The worst severity seen over a stream of results: constant memory, whatever the batch size. */
export class WorstSeverity {
  private worst: Severity | null = null;

  add(findings: readonly Finding[]): void {
    const m = maxSeverity(findings);
    if (m !== null && (this.worst === null || severityRank(m) > severityRank(this.worst))) this.worst = m;
  }

  /** Whether a finding at or above `--fail-on` was seen (`null`: never). */
  reaches(failOn: Severity | null): boolean {
    return failOn !== null && this.worst !== null && severityRank(this.worst) >= severityRank(failOn);
  }
}

export async function profileOption(path: string | undefined): Promise<TenantProfile | null> {
  if (path === undefined) return null;
  // Imported when a profile is named: the YAML parser and the zod schemas cost start-up time otherwise.
  const { loadProfile } = await import('../config/profile-file.js');
  // A missing file is an I/O failure (exit 3); a malformed profile a usage error (exit 2): told by its kind.
  return orFail(await loadProfile(path)).profile;
}

export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) <= 0)
      throw new UsageError(`${name} must be a positive integer (got "${value}")`);
    return Number(value);
  };
}
