/**
 * The advanced hunting query `dsguard collect` sends: the one place its text is built (so it can be switched to the
 * one `dsguard kql` prints). Server-side it keeps only what can be Direct Send or an internal spoof: inbound
 * (`EmailDirection == "Inbound"`: anonymous internet receive), no connector matched (`isempty(Connectors)`), and a
 * P1 (`SenderMailFromDomain`) or P2 (`SenderFromDomain`) domain among the tenant's accepted domains, in one time
 * window `[from, to)`. All columns are kept: the rows go through the EmailEvents adapter like an export.
 *
 * Values are KQL string literals with `\` and `"` escaped; a domain with a control character or a quote never
 * reaches here (profile domains are validated), and is refused again.
 * @module
 */

export interface HuntingWindow {
  from: Date;
  to: Date;
}

/** A KQL double-quoted string literal. */
export function kqlString(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('a KQL value holds a control character');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `datetime(2026-07-20T00:00:00.000Z)`: an ISO instant needs no quoting. */
export function kqlDatetime(d: Date): string {
  return `datetime(${d.toISOString()})`;
}

export function directSendHuntingQuery(window: HuntingWindow, acceptedDomains: readonly string[]): string {
  if (acceptedDomains.length === 0) throw new Error('no accepted domains: the query would select nothing');
  const domains = [...new Set(acceptedDomains.map((d) => d.toLowerCase()))].sort().map(kqlString).join(', ');
  return [
    'EmailEvents',
    `| where Timestamp >= ${kqlDatetime(window.from)} and Timestamp < ${kqlDatetime(window.to)}`,
    '| where EmailDirection == "Inbound" and isempty(Connectors)',
    `| where SenderMailFromDomain in~ (${domains}) or SenderFromDomain in~ (${domains})`,
    '| order by Timestamp asc, NetworkMessageId asc, RecipientEmailAddress asc',
  ].join('\n');
}
