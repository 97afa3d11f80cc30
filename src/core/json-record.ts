/**
 * The JSON dsguard writes (the CLI, and the alerts `watch` sends): every record (each element of a `--format json` array, each `ndjson` line, the one
 * object of `ingest`/`probe`/`report`) starts with `schemaVersion`, the version of its JSON Schema in `schema/`
 * (generated from the TypeScript types by scripts/build-schemas.mjs). Raise it when a field is removed,
 * renamed or changes meaning; added fields keep it.
 * @module
 */

export const SCHEMA_VERSION = 1;

export function versioned<T extends object>(record: T): { schemaVersion: number } & T {
  return { schemaVersion: SCHEMA_VERSION, ...record };
}
