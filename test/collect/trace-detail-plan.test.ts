/** Which trace rows get getDetailsByRecipient: `dsguard powershell`'s step-3 rule, and the documented path. */
import { describe, expect, it } from 'vitest';
import { detailsPath, planTraceDetails, TraceDetailPlanner } from '../../src/collect/trace-detail-plan.js';

const row = (id: string, at: string, sender: string, rcpt: string, ip: string) => ({
  id,
  receivedDateTime: at,
  senderAddress: sender,
  recipientAddress: rcpt,
  fromIP: ip,
});

const ROWS = [
  row('a3', '2026-07-20T10:00:00Z', 'kate@contoso.com', 'liam@contoso.com', '45.14.71.10'),
  row('a1', '2026-07-20T09:00:00Z', 'Kate@Contoso.com', 'farid@contoso.com', '45.14.71.10'), // same group, earlier
  row('a2', '2026-07-21T09:00:00Z', 'kate@contoso.com', 'liam@contoso.com', '45.14.71.10'), // next day
  row('b1', '2026-07-20T09:30:00Z', 'scanner@contoso.com', 'liam@contoso.com', '198.51.100.20'),
  row('c1', '2026-07-20T09:30:00Z', 'someone@gmail.com', 'liam@contoso.com', '209.85.220.41'), // external sender
  row('d1', '2026-07-20T09:30:00Z', 'kate@contoso.com', 'someone@gmail.com', '45.14.71.10'), // outbound
  row('e1', '2026-07-20T09:30:00Z', 'kate@contoso.com', 'liam@contoso.com', '40.107.22.5'), // EOP's own range
  row('f1', '2026-07-20T09:30:00Z', 'kate@contoso.com', 'liam@contoso.com', ''), // no IP
];

describe('trace detail plan', () => {
  it('asks once per source IP, sender and day, own domain to own mailbox, never for EOP ranges', () => {
    expect(planTraceDetails(ROWS, ['contoso.com']).map((r) => r.id)).toEqual(['a1', 'b1', 'a2']);
  });

  it('gives the same plan fed page by page, in any order', () => {
    const p = new TraceDetailPlanner(['CONTOSO.com']);
    for (const r of [...ROWS].reverse()) p.add([r]);
    expect(p.result().map((r) => r.id)).toEqual(['a1', 'b1', 'a2']);
  });

  it('builds the documented function-call path with an OData string literal', () => {
    expect(detailsPath('7e3b2b2e-1b5e-4b17-80cc-2af6c1d9a3b1', 'robert@contoso.com')).toBe(
      "/beta/admin/exchange/tracing/messageTraces/7e3b2b2e-1b5e-4b17-80cc-2af6c1d9a3b1/getDetailsByRecipient(recipientAddress='robert@contoso.com')",
    );
    expect(detailsPath('x/../y', "o'brien@contoso.com")).toBe(
      "/beta/admin/exchange/tracing/messageTraces/x%2F..%2Fy/getDetailsByRecipient(recipientAddress='o''brien%40contoso.com')".replace(
        '%40',
        '@',
      ),
    );
    expect(detailsPath('i', 'a b#?@x.com')).toContain("recipientAddress='a%20b%23%3F@x.com'");
  });
});
