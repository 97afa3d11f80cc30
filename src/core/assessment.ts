/**
 * The result types of a message assessment (DESIGN.md §4).
 * @module
 */
import type { Finding } from './finding.js';

export type Channel = 'direct-send' | 'internal-spoof' | 'connector' | 'authenticated' | 'external' | 'unknown';
export type Verdict = 'malicious' | 'suspicious' | 'legitimate' | 'not-applicable';

export const CHANNELS: readonly Channel[] = [
  'direct-send',
  'internal-spoof',
  'connector',
  'authenticated',
  'external',
  'unknown',
];
export const VERDICTS: readonly Verdict[] = ['malicious', 'suspicious', 'legitimate', 'not-applicable'];

export interface Assessment {
  channel: Channel;
  verdict: Verdict;
  /** 0..100 */
  risk: number;
  /** Would RejectDirectSend have rejected this message? `null` when the evidence cannot tell. */
  rejectDirectSendBlocks: boolean | null;
  /** Whether the tenant (accepted domains) came from a profile or was inferred from the message. */
  tenant: { source: 'profile' | 'inferred' | 'none'; domains: string[]; tenantId: string | null };
  findings: Finding[];
}
