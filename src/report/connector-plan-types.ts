/**
 * The connector plan's data: what it reads (a narrow description of each source) and what it returns
 * (connectors with their commands and effects, and per source the choice made and why). See connector-plan.ts.
 * @module
 */

/** Whose network a source sends from, as far as the evidence tells. */
export type Infrastructure = 'organisation' | 'shared' | 'unknown';

export interface PlanSourceInput {
  id: string;
  /** The profile's (or the admin's) name for it. */
  name: string | null;
  /** Who answers for it (profile `directSendSources[].owner`). */
  owner: string | null;
  ips: readonly string[];
  helos: readonly string[];
  /** Envelope senders (P1) seen. */
  senders: readonly string[];
  /** Whether its mail arrived over TLS, from the exports. */
  tls: 'yes' | 'no' | 'mixed' | 'unknown';
  /** Certificate names the source was seen presenting (verified evidence only; never guessed from a HELO). */
  certificateNames: readonly string[];
  /** Its verdict, as the report gives it. */
  verdict: string;
  /** Declared in the profile or approved by the admin: only confirmed sources get connectors. */
  confirmed: boolean;
  /** Its mail was (proven or inferred) Direct Send, which RejectDirectSend would reject. */
  directSend: boolean;
  infrastructure: { kind: Infrastructure; why: string };
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

export interface ExistingConnectorInput {
  name: string;
  type: 'Partner' | 'OnPremises';
  senderIps: readonly string[];
  certificateNames: readonly string[];
}

export interface PlanInput {
  acceptedDomains: readonly string[];
  sources: readonly PlanSourceInput[];
  existingConnectors: readonly ExistingConnectorInput[];
  /**
   * Other legitimate (or not yet judged) senders of an accepted domain, seen arriving from elsewhere than the
   * sources above: a restriction of that domain would reject them.
   */
  otherSenders: readonly { domain: string; what: string }[];
}

/** A command as printed: whole, with its `-WhatIf` variant and what running it changes. */
export interface PlannedCommand {
  shell: 'powershell' | 'posix';
  text: string;
  /** The same command with -WhatIf (PowerShell only; `null` for commands that change nothing). */
  whatIf: string | null;
  /** Why values were withheld (then the command is printed as a comment and cannot run as is). */
  withheld: string[];
  /** What running it changes, in a sentence. */
  effect: string;
}

export type ConnectorMatch = 'ip' | 'certificate';

export interface PlannedConnector {
  name: string;
  type: 'OnPremises' | 'Partner';
  match: ConnectorMatch;
  sources: string[];
  owners: string[];
  senderDomains: string[];
  ips: string[];
  certificate: string | null;
  /** RequireTls as set (`null`: not a Partner connector, where it does not apply). */
  requireTls: boolean | null;
  /** Whether it restricts its SenderDomains (rejects their mail from anywhere else). */
  restricts: boolean;
  /** What it starts allowing. */
  allows: string[];
  /** What it starts rejecting (empty: nothing). */
  rejects: string[];
  notes: string[];
  create: PlannedCommand;
  /** Get-InboundConnector to check what was created. */
  check: PlannedCommand;
  rollback: PlannedCommand;
}

export type SourceChoice =
  | 'onpremises-ip'
  | 'onpremises-certificate'
  | 'partner-ip'
  | 'partner-certificate'
  | 'covered'
  | 'no-connector'
  | 'not-needed'
  | 'awaiting-confirmation';

export interface SourcePlan {
  source: string;
  name: string | null;
  owner: string | null;
  choice: SourceChoice;
  /** Connectors planned for it (a source restricted per domain can be in more than one). */
  connectors: string[];
  /** Why this choice, and what it means for this source. */
  why: string[];
  /** For a source awaiting confirmation: the command that records the admin's decision. */
  commands: PlannedCommand[];
}

export interface ConnectorPlan {
  connectors: PlannedConnector[];
  sources: SourcePlan[];
}
