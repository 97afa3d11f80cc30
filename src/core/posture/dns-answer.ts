/**
 * DNS answers as data. The posture audits are pure: they read answers that the edge (src/net/dns.ts) fetched,
 * and say which further queries they need. A failed lookup keeps its kind: NXDOMAIN (the name does not exist),
 * NODATA (the name exists, no record of that type), SERVFAIL, TIMEOUT, REFUSED or another error. NXDOMAIN and
 * NODATA are answers ("void" in RFC 7208 terms); the others are temporary failures that make a verdict unsure.
 * @module
 */

export type DnsRecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME';

export interface MxRecord {
  exchange: string;
  priority: number;
}

/** Record data per type. TXT strings are the record's character-strings joined without separator (RFC 7208 §3.3). */
export interface DnsRecordData {
  A: string;
  AAAA: string;
  MX: MxRecord;
  TXT: string;
  CNAME: string;
}

export type DnsFailure = 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'refused' | 'error';

export type DnsAnswer<T extends DnsRecordType = DnsRecordType> =
  | { status: 'ok'; records: DnsRecordData[T][] }
  | { status: DnsFailure; detail?: string };

export interface DnsQuery {
  name: string;
  type: DnsRecordType;
}

/** Answers already fetched; `undefined` means "not asked yet". */
export interface DnsAnswers {
  get<T extends DnsRecordType>(name: string, type: T): DnsAnswer<T> | undefined;
}

/** A NXDOMAIN or NODATA answer, or an ok answer without records: a "void lookup" (RFC 7208 §4.6.4). */
export function isVoid(answer: DnsAnswer): boolean {
  return (
    answer.status === 'nxdomain' ||
    answer.status === 'nodata' ||
    (answer.status === 'ok' && answer.records.length === 0)
  );
}

/** SERVFAIL, timeout, refused or another error: the answer is not known. */
export function isTemporary(answer: DnsAnswer): boolean {
  return answer.status !== 'ok' && answer.status !== 'nxdomain' && answer.status !== 'nodata';
}

export function queryKey(name: string, type: DnsRecordType): string {
  return `${type} ${name.toLowerCase()}`;
}

/** Answers held in a map (keys from `queryKey`). */
export class AnswerMap implements DnsAnswers {
  private readonly map = new Map<string, DnsAnswer>();

  get<T extends DnsRecordType>(name: string, type: T): DnsAnswer<T> | undefined {
    return this.map.get(queryKey(name, type)) as DnsAnswer<T> | undefined;
  }

  set<T extends DnsRecordType>(name: string, type: T, answer: DnsAnswer<T>): void {
    this.map.set(queryKey(name, type), answer as DnsAnswer);
  }

  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, DnsAnswer]> {
    return this.map.entries();
  }
}

/** Collects the queries an audit still needs, without duplicates. */
export class NeededQueries {
  private readonly seen = new Set<string>();
  readonly list: DnsQuery[] = [];

  add(name: string, type: DnsRecordType): void {
    const key = queryKey(name, type);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ name: name.toLowerCase(), type });
  }
}

/** Describe a failed answer for a message: `NXDOMAIN`, `SERVFAIL`, ... */
export function describeFailure(answer: DnsAnswer): string {
  switch (answer.status) {
    case 'ok':
      return answer.records.length === 0 ? 'no records' : 'ok';
    case 'nxdomain':
      return 'NXDOMAIN (name does not exist)';
    case 'nodata':
      return 'NODATA (no record of that type)';
    case 'servfail':
      return 'SERVFAIL';
    case 'timeout':
      return 'timeout';
    case 'refused':
      return 'REFUSED';
    default:
      return answer.detail ? `error (${answer.detail})` : 'error';
  }
}
