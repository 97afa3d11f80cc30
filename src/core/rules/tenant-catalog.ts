/**
 * Finding codes for how the tenant was known without a profile (DS120–DS127: attested domains, domains never
 * taken as the tenant's, an undecided channel, Exchange's own Direct Send stamps, HELO shapes) and for weighing a
 * message's legitimacy (DS606–DS607). Rules in tenant.ts, channel.ts and assess.ts.
 * @module
 */
import type { RuleInfo } from './rule-info.js';

export const TENANT_RULES = [
  {
    code: 'DS120',
    title: 'Tenant attested by Exchange',
    severity: 'info',
    weight: 0,
    meaning:
      'No profile was given; the accepted domains were taken from the envelope recipients Exchange Online recorded for this delivery, paired with the tenant id it attributed the message to (for export rows: the recipients of the tenant’s own export). Channels are decided as with a profile, but a message is never called legitimate and gets no connector advice.',
    evidence:
      '`for <addr>` in a Received line written by Exchange Online (at or above the entry hop), X-MS-Exchange-Organization-OriginalEnvelopeRecipients, X-EOPTenantAttributedMessage / X-MS-Exchange-CrossTenant-Id; RecipientAddress of export rows.',
    action: 'Pass --profile dsguard.yml with your tenant id and accepted domains for certain verdicts.',
  },
  {
    code: 'DS121',
    title: 'Domain never taken as the tenant’s',
    severity: 'info',
    weight: 0,
    meaning:
      'A recipient or sender domain was not taken to be the receiving tenant’s: a public mailbox provider (gmail.com, outlook.com, yahoo.*, icloud.com, ISP domains such as iinet.net.au; the list in src/core/public-mail-providers.ts and where it comes from) cannot be a business tenant’s accepted domain, and a mailing list’s domain is the list’s.',
    evidence: 'To / Cc / envelope recipient domains; List-Id / List-Post and the list’s envelope sender.',
    action: 'None; shown for transparency.',
  },
  {
    code: 'DS122',
    title: 'Channel undecided without a profile',
    severity: 'low',
    weight: 0,
    meaning:
      'The message arrived anonymously without a connector, but whether its sender domain is one of the tenant’s accepted domains is only guessed (from To / Cc) and Exchange gave no intra-organisation verdict (compauth reason 6xx / 010, SFTY:9.11, IsAnonymousDirectSend). The channel is left unknown; the finding says what a profile would decide.',
    evidence: 'Envelope sender and From domains; the absent Exchange verdicts.',
    action: 'Run again with --profile naming your accepted domains.',
  },
  {
    code: 'DS123',
    title: 'Legitimacy needs a profile',
    severity: 'low',
    weight: 0,
    meaning:
      'The evidence would make this sender legitimate (a list relay, authentication that passes), but without a profile nobody has vouched for it, so the message is not called legitimate and gets no connector advice.',
    evidence: 'The legitimacy findings (DS602, DS603, DS605) and the missing profile.',
    action: 'If the sender is yours, declare it in the profile (directSendSources) and run again.',
  },
  {
    code: 'DS124',
    title: 'Single-label HELO',
    severity: 'low',
    weight: 5,
    meaning:
      'The connecting host introduced itself with a single-label name (no dots). Printers and scanners do (NPI3F2A1B); mail servers do not. Unlike a loopback or workstation HELO (DS113) this shows no intent.',
    evidence: 'FFAS H:, the HELO in the entry Received hop, client_hostname.',
    action: 'Identify the device; a legitimate one belongs behind a connector.',
  },
  {
    code: 'DS125',
    title: 'Private HELO in an authenticated submission',
    severity: 'info',
    weight: 0,
    meaning:
      'An authenticated client (SMTP AUTH) gave a private, loopback or workstation HELO: a mail client on a computer behind a home or office router. Expected; not an origin warning.',
    evidence: 'The HELO of the submission hop and the authenticated stamps.',
    action: 'None.',
  },
  {
    code: 'DS126',
    title: 'Exchange stamped anonymous Direct Send',
    severity: 'info',
    weight: 0,
    meaning:
      'Exchange Online marked the message X-MS-Exchange-Organization-IsAnonymousDirectSend: True. This organisation header is described by third-party write-ups, not by Microsoft; it is stripped when a message leaves the organisation, so its absence proves nothing. Without a profile it corroborates that the envelope sender claims the receiving organisation.',
    evidence: 'X-MS-Exchange-Organization-IsAnonymousDirectSend.',
    action: 'None by itself; DS100 says what to do about Direct Send.',
  },
  {
    code: 'DS127',
    title: 'Gateway bypass',
    severity: 'medium',
    weight: 10,
    meaning:
      'The recipient domain’s MX does not point at Exchange Online (MxPointsToUs: false, third-party documented; false on all mail a gateway relays), and this message reached Exchange Online anonymously, matched no inbound connector, and came from an IP that is none of the profile’s connector IPs: it skipped the gateway.',
    evidence:
      'X-MS-Exchange-Organization-MxPointsToUs, AuthAs / FromEntityHeader without connector attribution, the connecting IP vs the profile’s connectors.',
    action:
      'Restrict the gateway’s inbound connector to its IPs or certificate and enable RejectDirectSend; see `dsguard exposure` for the smart host that stays reachable.',
  },
  {
    code: 'DS128',
    title: 'Possible gateway bypass',
    severity: 'low',
    weight: 0,
    meaning:
      'The recipient domain’s MX does not point at Exchange Online (MxPointsToUs: false) and the message arrived anonymously without a connector, but no connector IP is known (no profile, or one without connector IPs), so whether the connecting IP is the gateway’s cannot be told: a gateway that relays without a connector would look the same.',
    evidence: 'X-MS-Exchange-Organization-MxPointsToUs, the anonymous stamps, the connecting IP.',
    action: 'List the gateway’s inbound connector (with its IPs) in the profile and run again; DS127 then decides.',
  },
  {
    code: 'DS606',
    title: 'Legitimate but undeclared',
    severity: 'low',
    weight: 0,
    meaning:
      'A Direct Send sender whose evidence says legitimate (authentication passes for your domain, nothing shows intent) but that the profile does not declare: only a source the admin vouches for gets connector advice. RejectDirectSend would reject it.',
    evidence: 'DS603 and the connecting IP; no matching profile directSendSources entry.',
    action:
      'Confirm the source (add it to directSendSources, or `dsguard sources approve`), then give it an inbound connector before enabling RejectDirectSend.',
  },
  {
    code: 'DS607',
    title: 'Intent outweighs passing authentication',
    severity: 'medium',
    weight: 0,
    meaning:
      'Authentication passes (or a relay looks legitimate), but findings that show intent fired — a script fingerprint, a lure, self-sent mail, a loopback HELO. A pass through an over-broad SPF include or a shared sending service proves no ownership, so the message is not legitimate.',
    evidence: 'The legitimacy finding (DS602, DS603, DS605) and the intent findings that vetoed it.',
    action: 'Treat the sender as hostile; tighten the SPF record’s includes.',
  },
] as const satisfies readonly RuleInfo[];
