/**
 * One row of an export, whatever the container (CSV record, JSON object): column lookup by lower-case name,
 * the column's name as written (for evidence), and provenance refs (`file`, column, value, `row N`).
 * @module
 */
import { boundValue, type EvidenceRef } from '../../core/finding.js';
import { type Observed, observed } from '../../core/observed.js';
import type { DateOrder } from './export-dates.js';

/** Longest cell value kept from an export (attacker-controlled text). */
export const MAX_CELL = 65_536;

export interface ExportRow {
  /** Trimmed value of the column (lower-case name), `null` when the column is absent, empty or JSON null. */
  get(key: string): string | null;
  /** The column's name as written in the export. */
  name(key: string): string;
  /** Raw JSON value of a column (arrays for `To`/`Cc`); CSV rows return the string. */
  raw(key: string): unknown;
  /** How the export writes numeric dates (decided once for its file). */
  readonly dateOrder: DateOrder;
}

/** A CSV header's column numbers by lower-case name, with what the file's rows share: its date order. */
export interface ColumnIndex extends ReadonlyMap<string, number> {
  readonly dateOrder: DateOrder;
}

export interface RowPlace {
  /** The export file as the user named it. */
  file: string;
  /** 1-based data record number (the header is not counted). */
  row: number;
}

export function cellRef(place: RowPlace, field: string, value: string): EvidenceRef {
  return { source: place.file, field, value: boundValue(value), location: `row ${place.row}` };
}

export function cell<T>(row: ExportRow, place: RowPlace, key: string, value: T, text?: string): Observed<T> {
  return observed(value, cellRef(place, row.name(key), text ?? String(row.get(key) ?? '')));
}

function clean(v: string): string | null {
  const t = v.length > MAX_CELL ? v.slice(0, MAX_CELL) : v;
  const s = t.trim();
  return s.length === 0 ? null : s;
}

/** A CSV record over a shared header index. */
export class CsvRow implements ExportRow {
  constructor(
    private readonly index: ColumnIndex,
    private readonly header: readonly string[],
    public fields: readonly string[],
  ) {}

  get(key: string): string | null {
    const i = this.index.get(key);
    if (i === undefined) return null;
    const v = this.fields[i];
    return v === undefined ? null : clean(v);
  }

  name(key: string): string {
    const i = this.index.get(key);
    return i === undefined ? key : (this.header[i] ?? key);
  }

  raw(key: string): unknown {
    return this.get(key);
  }

  get dateOrder(): DateOrder {
    return this.index.dateOrder;
  }
}

export function headerIndex(header: readonly string[], dateOrder: DateOrder = 'mdy'): ColumnIndex {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const k = h.trim().toLowerCase();
    if (!index.has(k)) index.set(k, i);
  });
  return Object.assign(index, { dateOrder });
}

/** A JSON record (hunting result, Graph item, streaming-API `properties`). */
export class JsonRow implements ExportRow {
  /** Lower-cased key → key as written (never changed once made: rows of one shape share it). */
  private readonly keys: ReadonlyMap<string, string>;
  /** JSON exports write ISO dates; a numeric one is read month-first. */
  readonly dateOrder: DateOrder = 'mdy';
  /** The keys of the last record seen and their map: the records of an export almost always share one shape. */
  private static shape: { keys: readonly string[]; map: ReadonlyMap<string, string> } = { keys: [], map: new Map() };

  constructor(public readonly object: Record<string, unknown>) {
    const ks = Object.keys(object);
    const last = JsonRow.shape;
    let same = ks.length === last.keys.length;
    for (let i = 0; same && i < ks.length; i++) same = ks[i] === last.keys[i];
    if (!same) {
      const map = new Map<string, string>();
      for (const k of ks) {
        if (k.includes('@odata.type') || k.includes('@data.type')) continue;
        const lk = k.toLowerCase();
        if (!map.has(lk)) map.set(lk, k);
      }
      JsonRow.shape = { keys: ks, map };
    }
    this.keys = JsonRow.shape.map;
  }

  raw(key: string): unknown {
    const k = this.keys.get(key);
    return k === undefined ? undefined : this.object[k];
  }

  get(key: string): string | null {
    const v = this.raw(key);
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return clean(v);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return clean(JSON.stringify(v));
  }

  name(key: string): string {
    return this.keys.get(key) ?? key;
  }
}
