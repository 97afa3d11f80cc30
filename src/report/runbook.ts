/**
 * The change runbook: how to go from today to RejectDirectSend enabled without breaking a legitimate sender, and
 * back. Connectors → soak (every source seen arriving through its connector for N days) → enable → verify →
 * rollback. Pure: built from the connector plan, the probe's domain and recipient, and readiness.
 * @module
 */
import { shCommand } from '../core/quote/posix.js';
import { psCommand, withWhatIf } from '../core/quote/powershell.js';
import type { ConnectorPlan, PlannedCommand } from './connector-plan.js';

/** The constant end of the soak check: the trace detail of the message found, its RECEIVE event's data. */
export const SOAK_DETAIL_PIPE =
  ' | ForEach-Object { Get-MessageTraceDetailV2 -MessageTraceId $_.MessageTraceId -RecipientAddress $_.RecipientAddress -Event RECEIVE } | Select-Object -ExpandProperty Data';

/** A constant command: shows the setting. */
export const SHOW_REJECT_DIRECT_SEND = 'Get-OrganizationConfig | Format-List RejectDirectSend';

/** Days each source must be seen arriving through its connector before RejectDirectSend is enabled. */
export const DEFAULT_SOAK_DAYS = 7;

export type RunbookPhase = 'connectors' | 'soak' | 'enable' | 'verify' | 'rollback';

export interface RunbookStep {
  phase: RunbookPhase;
  title: string;
  /** Who must take part (owners of the sources concerned, from the profile). */
  owners: string[];
  /** What to do and what to check, in order. */
  text: string[];
  commands: PlannedCommand[];
}

export interface Runbook {
  soakDays: number;
  steps: RunbookStep[];
}

export interface RunbookInput {
  plan: ConnectorPlan;
  /** The accepted domain to probe (`null`: none known). */
  probeDomain: string | null;
  /** A mailbox that received mail in the exports (`null`: none found). */
  probeRecipient: string | null;
  /** The profile says RejectDirectSend is already enabled. */
  enabled: boolean;
  /** Readiness, when known: `false` withholds the enable command and says what is missing. */
  ready: boolean | null;
  blockers: readonly string[];
  soakDays?: number;
}

function ps(cmdlet: string, params: Parameters<typeof psCommand>[1], effect: string, whatIf: boolean): PlannedCommand {
  const c = psCommand(cmdlet, params);
  return {
    shell: 'powershell',
    text: c.text,
    whatIf: whatIf ? withWhatIf(c).text : null,
    withheld: c.withheld,
    effect,
  };
}

/** Step 1: the connectors of the plan, and the sources that must be decided first. */
function connectorsStep(plan: ConnectorPlan, owners: string[]): RunbookStep {
  const pending = plan.sources.filter((s) => s.choice === 'awaiting-confirmation' || s.choice === 'no-connector');
  return {
    phase: 'connectors',
    title: 'Create the connectors',
    owners,
    text: [
      plan.connectors.length === 0
        ? 'No connector to create.'
        : `Create the ${plan.connectors.length} connector(s) of the plan (${plan.connectors.map((c) => c.name).join(', ')}) with the commands given with each: its -WhatIf run first, then the command, then the check, with the source's owner. What each starts allowing and rejecting is stated with it.`,
      ...pending.map(
        (s) =>
          `${s.source}${s.name ? ` (${s.name})` : ''}: ${s.choice === 'awaiting-confirmation' ? 'confirm or deny it first' : 'no connector can be planned for it; see the plan'}.`,
      ),
    ],
    // The commands are the plan's, printed with each connector.
    commands: [],
  };
}

/** Step 2: each source seen arriving through its connector. */
function soakStep(plan: ConnectorPlan, owners: string[], soakDays: number): RunbookStep {
  return {
    phase: 'soak',
    title: `Soak: every source arrives through its connector for ${soakDays} days`,
    owners,
    text: [
      `For ${soakDays} days, check that each source's mail matches its connector: in message trace detail, its RECEIVE event shows S:InboundConnectorData=Name=<the connector>; or ingest new exports and check that \`dsguard report\` shows the source's mail as connector mail, not Direct Send.`,
      'A source still arriving as Direct Send, or one that stopped arriving, must be fixed before going on (wrong IP, IPv6, certificate, RequireTls).',
    ],
    commands: plan.connectors.flatMap((c) =>
      c.ips.slice(0, 1).map((ip) => {
        const trace = psCommand('Get-MessageTraceV2', [
          ['FromIP', { kind: 'ipv4', value: ip }],
          ['ResultSize', { number: 1 }],
        ]);
        return {
          shell: 'powershell' as const,
          text: `${trace.text}${SOAK_DETAIL_PIPE}`,
          whatIf: null,
          withheld: trace.withheld,
          effect: `Changes nothing: shows the RECEIVE detail of the last message from ${ip} (last 48 hours); look for S:InboundConnectorData=Name=${c.name}.`,
        };
      }),
    ),
  };
}

/** Step 3: the enable command, only when ready. */
function enableStep(input: RunbookInput): RunbookStep {
  const enableText: string[] = [];
  const enableCommands: PlannedCommand[] = [];
  if (input.enabled) {
    enableText.push('RejectDirectSend is already enabled (per the profile): check that it is in force.');
  } else if (input.ready === false) {
    enableText.push(
      'Not yet: the report says the tenant is not ready. The enable command is given once nothing below is missing:',
      ...input.blockers,
    );
  } else {
    if (input.ready === null) enableText.push('Only once the report says the tenant is ready and the soak is done.');
    enableText.push(
      'Anonymous mail whose envelope sender is one of your accepted domains and that matches no connector is then refused with 550 5.7.68 TenantInboundAttribution.',
    );
    enableCommands.push(
      ps(
        'Set-OrganizationConfig',
        [['RejectDirectSend', { bool: true }]],
        'Starts rejecting every Direct Send message (anonymous, no connector, envelope sender in an accepted domain), legitimate or not.',
        true,
      ),
    );
  }
  enableCommands.push({
    shell: 'powershell',
    text: SHOW_REJECT_DIRECT_SEND,
    whatIf: null,
    withheld: [],
    effect: 'Changes nothing: shows whether RejectDirectSend is on.',
  });
  return {
    phase: 'enable',
    title: 'Enable RejectDirectSend',
    owners: [],
    text: enableText,
    commands: enableCommands,
  };
}

/** Step 4: the probe, to a mailbox that received mail. */
function verifyStep(input: RunbookInput, owners: string[]): RunbookStep {
  const probeDomain = input.probeDomain ?? '';
  const probe = shCommand('dsguard', [
    'probe',
    { kind: 'domain', value: probeDomain },
    '--from',
    { kind: 'address', value: `dsguard-probe@${probeDomain}` },
    '--to',
    { kind: 'address', value: input.probeRecipient ?? '' },
  ]);
  return {
    phase: 'verify',
    title: 'Verify',
    owners,
    text: [
      'From a host outside your connectors, probe the smart host: it must answer 550 5.7.68 TenantInboundAttribution (the probe stops before DATA: nothing is delivered).',
      input.probeRecipient
        ? `The recipient is a mailbox that received mail in the exports (${input.probeRecipient}): a recipient that does not exist is refused for that reason instead, which proves nothing.`
        : 'No mailbox of your domains received mail in the exports: the recipient is withheld; use a mailbox that exists.',
      'Then ingest the next exports: every source of the plan still arrives (as connector mail) and `dsguard report` says RejectDirectSend HOLDS.',
    ],
    commands: [
      {
        shell: 'posix',
        text: probe.text,
        whatIf: null,
        withheld: probe.withheld,
        effect:
          'Sends nothing: one SMTP conversation up to RCPT TO, to see whether the smart host refuses Direct Send.',
      },
    ],
  };
}

/** Step 5: RejectDirectSend off first, then the connectors. */
function rollbackStep(plan: ConnectorPlan, owners: string[]): RunbookStep {
  return {
    phase: 'rollback',
    title: 'Roll back',
    owners,
    text: [
      'If a legitimate sender is rejected: turn RejectDirectSend off first (its mail is accepted again at once), then fix or remove the connector concerned.',
    ],
    commands: [
      ps(
        'Set-OrganizationConfig',
        [['RejectDirectSend', { bool: false }]],
        'Stops rejecting Direct Send: legitimate and spoofed Direct Send are accepted again.',
        true,
      ),
      ...plan.connectors.map((c) => c.rollback),
    ],
  };
}

export function buildRunbook(input: RunbookInput): Runbook {
  const soakDays = input.soakDays ?? DEFAULT_SOAK_DAYS;
  const owners = [...new Set(input.plan.connectors.flatMap((c) => c.owners))].sort();
  return {
    soakDays,
    steps: [
      connectorsStep(input.plan, owners),
      soakStep(input.plan, owners, soakDays),
      enableStep(input),
      verifyStep(input, owners),
      rollbackStep(input.plan, owners),
    ],
  };
}
