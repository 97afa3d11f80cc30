/**
 * Which message trace rows get `getDetailsByRecipient`: the rule of `dsguard powershell`'s step 3
 * (report/tenant-report-powershell.ts), in TypeScript for `collect`. Detail can change a verdict only for mail
 * whose envelope sender is one of the tenant's domains, to one of its mailboxes, from a connecting IP that is known
 * and not Exchange Online Protection's own ({@link MICROSOFT_RANGES}); and one message per source IP, sender and
 * UTC day is enough (a source's other messages that day are judged with it). The first of each group in
 * (received, trace id, recipient) order is asked for, as the script sorts and groups. Pure.
 * @module
 */
import { type Cidr, ipInAny, parseCidr } from '../core/net-address.js';
import { MICROSOFT_RANGES } from '../report/tenant-report-powershell.js';

/** The Graph message trace fields the rule reads (`exchangeMessageTrace`). */
export interface TraceRowFields {
  id: string;
  receivedDateTime: string;
  senderAddress: string;
  recipientAddress: string;
  fromIP: string;
}

const EOP: Cidr[] = MICROSOFT_RANGES.map((r) => parseCidr(r)).filter((c): c is Cidr => c !== null);

const domainOf = (address: string) => {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
};

/** The group one detail call stands for: connecting IP, envelope sender (lower-case), UTC day. */
export function detailGroup(r: TraceRowFields): string {
  return `${r.fromIP.trim()}|${r.senderAddress.toLowerCase()}|${r.receivedDateTime.slice(0, 10)}`;
}

const before = (a: TraceRowFields, b: TraceRowFields) =>
  a.receivedDateTime.localeCompare(b.receivedDateTime) ||
  a.id.localeCompare(b.id) ||
  a.recipientAddress.localeCompare(b.recipientAddress);

/**
 * The rule fed page by page (a window of a big tenant is millions of rows: only one row per group is kept).
 * {@link TraceDetailPlanner.result} is the same whatever the order the rows came in.
 */
export class TraceDetailPlanner<T extends TraceRowFields> {
  private readonly domains: Set<string>;
  private readonly first = new Map<string, T>();
  constructor(acceptedDomains: readonly string[]) {
    this.domains = new Set(acceptedDomains.map((d) => d.toLowerCase()));
  }
  add(rows: readonly T[]): this {
    for (const r of rows) {
      const ip = r.fromIP.trim();
      if (
        !this.domains.has(domainOf(r.senderAddress)) ||
        !this.domains.has(domainOf(r.recipientAddress)) ||
        ip === '' ||
        ipInAny(ip, EOP) !== null
      )
        continue;
      const key = detailGroup(r);
      const had = this.first.get(key);
      if (had === undefined || before(r, had) < 0) this.first.set(key, r);
    }
    return this;
  }
  /** The rows to ask detail for, in the order to ask. */
  result(): T[] {
    return [...this.first.values()].sort(before);
  }
}

/** The rows to ask detail for, in the order to ask. */
export function planTraceDetails<T extends TraceRowFields>(
  rows: readonly T[],
  acceptedDomains: readonly string[],
): T[] {
  return new TraceDetailPlanner<T>(acceptedDomains).add(rows).result();
}

/** `/beta/admin/exchange/tracing/messageTraces/{id}/getDetailsByRecipient(recipientAddress='…')`, quoted. */
export function detailsPath(traceId: string, recipient: string): string {
  // An OData string literal: quotes doubled; percent-encoded but for `@` and `'`, as Microsoft's example writes it.
  const literal = encodeURIComponent(`'${recipient.replace(/'/g, "''")}'`)
    .replace(/%40/g, '@')
    .replace(/%27/g, "'");
  return `/beta/admin/exchange/tracing/messageTraces/${encodeURIComponent(traceId)}/getDetailsByRecipient(recipientAddress=${literal})`;
}
