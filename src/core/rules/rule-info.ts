/**
 * The shape of one row of a rule table: what a finding code means, how much it weighs and what to do about it.
 * Every family's table (`MESSAGE_RULES`, `CONTENT_RULES`, `ORIGIN_RULES`, `POSTURE_RULES`, `PROBE_RULES`) is
 * `as const satisfies readonly RuleInfo[]`; catalog.ts gathers them. Kept apart from the catalog so the tables
 * do not import the module that imports them.
 * @module
 */
import type { Severity } from '../severity.js';

export interface RuleInfo {
  code: string;
  title: string;
  severity: Severity;
  /** Risk points added when the finding fires on a Direct Send / internal-spoof message (may be 0). */
  weight: number;
  /** What the signal means, plainly. */
  meaning: string;
  /** What the evidence is (which header / column). */
  evidence: string;
  /** What to do about it. */
  action: string;
  /**
   * Shows intent (a lure, an attack tool, deception) rather than just a failed check. A Direct Send message
   * is called malicious only when its risk is high and at least one intent finding fired.
   */
  intent?: boolean;
  /** Contradicts a legitimate verdict even for a known source (Exchange phish verdict, forged results). */
  vetoesLegitimate?: boolean;
}
