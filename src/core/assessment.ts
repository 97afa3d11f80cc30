/**
 * The result types of a message assessment (DESIGN.md §4).
 * @module
 */
import type { Finding } from './finding.js';
import type { TenantKnownFrom } from './rules/tenant.js';

export type { TenantKnownFrom };

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
  /**
   * How the tenant (its accepted domains) was known: `profile` (given), `attested` (from the envelope recipients
   * Exchange recorded for the attributed tenant: no `legitimate` verdict, no connector advice), `inferred`
   * (guessed: channel `unknown` unless Exchange's own verdict corroborates an intra-organisation sender).
   */
  tenantKnownFrom: TenantKnownFrom;
  /** The accepted domains the channel was decided with, and the receiving tenant id. */
  tenant: { domains: string[]; tenantId: string | null };
  findings: Finding[];
}
