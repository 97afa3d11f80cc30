/**
 * Every finding code dsguard can emit: severity, risk weight and the documentation shown by `--explain`
 * and generated into docs/findings.md (a test keeps the two in step). Codes are stable: never reuse one.
 * Families: DS1xx channel, DS2xx authentication, DS3xx behaviour and client, DS4xx lure and content,
 * DS5xx origin, DS6xx legitimacy, DS7xx domain exposure, DS8xx SMTP probe, DS9xx ingest.
 * @module
 */
import { POSTURE_RULES, PROBE_RULES } from '../posture/rules.js';
import { AUDIT_RULES } from './audit-catalog.js';
import { CONTENT_RULES } from './content-catalog.js';
import { ORIGIN_RULES } from './origin-catalog.js';
import type { RuleInfo } from './rule-info.js';
import { TENANT_RULES } from './tenant-catalog.js';

export type { RuleInfo } from './rule-info.js';

export const MESSAGE_RULES = [
  // DS1xx — how the message got in
  {
    code: 'DS100',
    title: 'Direct Send',
    severity: 'medium',
    weight: 25,
    meaning:
      'The message arrived anonymously, matched no inbound connector, and its envelope sender (P1 MAIL FROM) is one of your accepted domains: exactly the traffic RejectDirectSend rejects.',
    evidence:
      'AuthAs / FromEntityHeader / MessageDirectionality stamps (or export connector columns) and the P1 domain.',
    action:
      'Find out whether this source is legitimate. If it is, give it an inbound connector (see `dsguard report` connector plan); if not, enable RejectDirectSend.',
  },
  {
    code: 'DS101',
    title: 'Anonymous submission',
    severity: 'info',
    weight: 0,
    meaning: 'Exchange Online accepted the message without SMTP authentication (from the internet).',
    evidence: 'X-MS-Exchange-Organization-AuthAs: Anonymous, CrossTenant-FromEntityHeader: Internet, FFAS DIR:INB.',
    action: 'None by itself: all internet mail is anonymous. It matters together with an internal sender.',
  },
  {
    code: 'DS102',
    title: 'No inbound connector',
    severity: 'info',
    weight: 0,
    meaning: 'No inbound connector matched the message (by IP or certificate).',
    evidence:
      'No connector attribution in the stamps; message trace detail without S:InboundConnectorData; empty connector_id / Connectors.',
    action: 'Legitimate senders of your own domain need a connector before RejectDirectSend is enabled.',
  },
  {
    code: 'DS103',
    title: 'Envelope sender in an accepted domain',
    severity: 'info',
    weight: 0,
    meaning: 'The envelope sender (P1, MAIL FROM / Return-Path) is in one of your accepted domains.',
    evidence: 'Return-Path, smtp.mailfrom, SenderAddress, SenderMailFromAddress.',
    action: 'Anonymous mail with an internal P1 is Direct Send by Microsoft’s definition.',
  },
  {
    code: 'DS104',
    title: 'Internal spoof (From header only)',
    severity: 'medium',
    weight: 25,
    meaning:
      'Anonymous mail whose visible From (P2) is one of your accepted domains but whose envelope sender (P1) is not. RejectDirectSend does not stop this; DMARC p=reject and anti-spoofing do.',
    evidence: 'From header vs Return-Path / smtp.mailfrom.',
    action:
      'Publish DMARC p=reject for the domain and keep spoof intelligence on; RejectDirectSend alone will not help.',
  },
  {
    code: 'DS105',
    title: 'Arrived through an inbound connector',
    severity: 'info',
    weight: 0,
    meaning: 'The message matched an inbound connector (on-premises or partner); it is not Direct Send.',
    evidence:
      'FromEntityHeader: HybridOnPrem, Directionality Originating with AuthAs Anonymous, a profile connector IP, S:InboundConnectorData, connector_id, Connectors.',
    action: 'None.',
  },
  {
    code: 'DS106',
    title: 'Authenticated submission',
    severity: 'info',
    weight: 0,
    meaning: 'The message was submitted by an authenticated user or mailbox of the tenant.',
    evidence: 'X-MS-Exchange-Organization-AuthAs: Internal, CIP 255.255.255.255, DIR:INT.',
    action: 'None.',
  },
  {
    code: 'DS107',
    title: 'External sender',
    severity: 'info',
    weight: 0,
    meaning: 'Neither the envelope sender nor the From header is in an accepted domain: ordinary external mail.',
    evidence: 'Return-Path / From domains vs the accepted domains.',
    action: 'None for Direct Send; other phishing defences apply.',
  },
  {
    code: 'DS108',
    title: 'Consumer mailbox (Outlook.com)',
    severity: 'info',
    weight: 0,
    meaning:
      'The message was delivered to Microsoft’s consumer tenant (Outlook.com / Hotmail), which has no accepted domains: Direct Send does not apply.',
    evidence: 'X-EOPTenantAttributedMessage / X-MS-Exchange-CrossTenant-Id 84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa.',
    action: 'None.',
  },
  {
    code: 'DS109',
    title: 'Tenant inferred from the message',
    severity: 'info',
    weight: 0,
    meaning:
      'No profile was given and Exchange recorded no envelope recipient for this tenant: the accepted domains are guessed from the recipients (never a public mailbox provider’s or a mailing list’s domain). A direct-send or internal-spoof label then needs Exchange’s own intra-organisation verdict (compauth reason 6xx / 010, SFTY:9.11, IsAnonymousDirectSend); otherwise the channel is unknown (DS122). Never legitimate, never connector advice.',
    evidence: 'To / Cc / Delivered-To domains; the Exchange verdict that corroborates; X-EOPTenantAttributedMessage.',
    action: 'Pass --profile dsguard.yml with your tenant id and accepted domains.',
  },
  {
    code: 'DS110',
    title: 'Delivered to another tenant',
    severity: 'low',
    weight: 0,
    meaning: 'Exchange attributed the message to a tenant that is not in your profile.',
    evidence: 'X-EOPTenantAttributedMessage / X-MS-Exchange-CrossTenant-Id vs profile tenant ids.',
    action: 'Check that the message was exported from your tenant and that the profile lists all tenant ids.',
  },
  {
    code: 'DS111',
    title: 'Receiving stamps missing',
    severity: 'low',
    weight: 0,
    meaning:
      'The Exchange Online stamps that tell how the message got in (AuthAs, directionality, antispam report) are missing, so the channel cannot be established.',
    evidence: 'Absence of X-MS-Exchange-Organization-AuthAs, X-Forefront-Antispam-Report and CrossTenant stamps.',
    action: 'Export the message with full headers (Outlook: File > Properties > Internet headers; or the .eml/.msg).',
  },
  {
    code: 'DS112',
    title: 'No TLS on the hop into Exchange Online',
    severity: 'low',
    weight: 5,
    meaning: 'The sender did not use TLS. Scripts and old devices often do not; Microsoft’s own senders always do.',
    evidence: 'Received hop into *.mail.protection.outlook.com without version=TLS; S:tlsversion; TLS columns.',
    action: 'Part of the picture only.',
  },
  {
    code: 'DS113',
    title: 'Suspicious HELO',
    severity: 'medium',
    weight: 10,
    meaning:
      'The connecting host introduced itself with a loopback or private address, a bare IP literal, or a workstation name (WIN-…, DESKTOP-…): typical of scripts on a VPS or a desktop, not of mail servers. A plain single-label name is DS124; in an authenticated submission, DS125.',
    evidence: 'FFAS H:, the HELO in the entry Received hop, client_hostname.',
    action: 'Look up the connecting IP; legitimate devices should be behind a connector.',
    intent: true,
  },
  {
    code: 'DS114',
    title: 'Sender-side stamps ignored',
    severity: 'info',
    weight: 0,
    meaning:
      'Headers that look like Exchange verdicts were written by another tenant or before Exchange Online received the message; they were not trusted.',
    evidence:
      'X-MS-Exchange-CrossTenant-* with another tenant id, Authentication-Results below the entry hop, DIR:OUT.',
    action: 'None; shown for transparency.',
  },
  {
    code: 'DS115',
    title: 'Forged authentication results',
    severity: 'high',
    weight: 20,
    meaning:
      'The message carries an Authentication-Results header claiming a pass that Exchange Online did not write, while Exchange’s own result failed.',
    evidence: 'Authentication-Results below the entry hop or from another authserv-id.',
    action: 'Treat as deliberate deception.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS116',
    title: 'Connecting host',
    severity: 'info',
    weight: 0,
    meaning: 'The IP address and HELO name of the host that handed the message to Exchange Online.',
    evidence: 'FFAS CIP / H:, the entry Received hop, FromIP, SenderIPv4, original_client_ip.',
    action: 'Use it to group sources (`dsguard report`) and to build connectors for legitimate ones.',
  },
  {
    code: 'DS117',
    title: 'Direct Send after RejectDirectSend',
    severity: 'high',
    weight: 20,
    meaning:
      'The profile says RejectDirectSend is enabled, yet this message arrived by Direct Send: the setting is not in force, or (when the profile does not say since when) the message predates it.',
    evidence:
      'Profile rejectDirectSend: true, or the time it was enabled with the message received after it (with only a day, from the next day on), and a Direct Send channel.',
    action: 'Check Get-OrganizationConfig | Select RejectDirectSend and run `dsguard probe`.',
  },
  {
    code: 'DS118',
    title: 'Exchange did not treat the sender as internal',
    severity: 'info',
    weight: 0,
    meaning:
      'Without a profile, the recipients’ domain was guessed to be accepted, but Exchange’s composite authentication reason says the sender domain is not one of the tenant’s accepted domains.',
    evidence: 'compauth reason other than 6xx/010 on a message whose sender domain equals the recipient domain.',
    action: 'None; pass a profile to be certain.',
  },
  {
    code: 'DS119',
    title: 'Several From headers',
    severity: 'medium',
    weight: 10,
    meaning: 'The message has more than one From header, a trick to show one sender and authenticate another.',
    evidence: 'From header count.',
    action: 'Treat as deliberate deception.',
    intent: true,
  },
  // DS2xx — authentication
  {
    code: 'DS201',
    title: 'SPF failed for an internal sender',
    severity: 'medium',
    weight: 15,
    meaning: 'The connecting IP is not allowed by the SPF record of your own domain.',
    evidence: 'Authentication-Results spf=fail|softfail with smtp.mailfrom in an accepted domain.',
    action: 'A legitimate device must be in SPF or, better, behind a connector; otherwise this is a spoof.',
  },
  {
    code: 'DS202',
    title: 'No valid DKIM signature',
    severity: 'low',
    weight: 5,
    meaning: 'The message carries no passing DKIM signature.',
    evidence: 'Authentication-Results dkim=none|fail; AuthenticationDetails DKIM.',
    action: 'Part of the picture only.',
  },
  {
    code: 'DS203',
    title: 'DMARC failed',
    severity: 'medium',
    weight: 15,
    meaning: 'The From domain’s DMARC check failed.',
    evidence: 'Authentication-Results dmarc=fail; AuthenticationDetails DMARC.',
    action: 'Move the domain to DMARC p=reject once legitimate senders align.',
  },
  {
    code: 'DS204',
    title: 'Intra-organisation spoof (compauth 6xx / 010)',
    severity: 'high',
    weight: 30,
    meaning:
      'Exchange’s composite authentication failed with a reason that says the sending domain is one of your own accepted domains: Microsoft itself classifies this as intra-org spoofing.',
    evidence: 'Authentication-Results compauth=fail reason=6xx or 010.',
    action: 'Block the source; enable RejectDirectSend (P1 internal) or DMARC p=reject (P2 only).',
  },
  {
    code: 'DS205',
    title: 'Composite authentication failed',
    severity: 'medium',
    weight: 10,
    meaning: 'Exchange’s composite authentication (compauth) failed.',
    evidence: 'Authentication-Results compauth=fail; AuthenticationDetails CompAuth.',
    action: 'Part of the picture; see the reason code.',
  },
  {
    code: 'DS206',
    title: 'Exchange flagged a spoof',
    severity: 'high',
    weight: 20,
    meaning: 'Exchange Online Protection categorised the message as spoofing (CAT:SPOOF).',
    evidence: 'X-Forefront-Antispam-Report CAT:SPOOF.',
    action: 'Review spoof intelligence; do not allow-list the pair.',
  },
  {
    code: 'DS207',
    title: 'Intra-org spoof safety tip',
    severity: 'high',
    weight: 20,
    meaning: 'SFTY 9.11 is Exchange’s intra-organisation spoofing safety tip.',
    evidence: 'X-Forefront-Antispam-Report SFTY:9.11.',
    action: 'As DS204.',
  },
  {
    code: 'DS208',
    title: 'Authorised by SPF',
    severity: 'info',
    weight: 0,
    meaning: 'SPF passed for the internal envelope domain: the connecting IP is published in your SPF record.',
    evidence: 'Authentication-Results spf=pass smtp.mailfrom=<accepted domain>.',
    action: 'A device you authorised. It still needs a connector before RejectDirectSend is enabled.',
  },
  {
    code: 'DS209',
    title: 'Exchange flagged phishing or malware',
    severity: 'high',
    weight: 25,
    meaning: 'Exchange Online Protection categorised the message as phishing, malware or high-confidence spam.',
    evidence: 'X-Forefront-Antispam-Report CAT:PHSH|HPHSH|HPHISH|MALW|HSPM|GIMP|UIMP|DIMP; ThreatTypes.',
    action: 'Purge similar messages; block the source.',
    intent: true,
    vetoesLegitimate: true,
  },
  // DS3xx — behaviour and client
  {
    code: 'DS301',
    title: 'Sent to itself',
    severity: 'medium',
    weight: 15,
    meaning: 'Sender and recipient are the same address, a hallmark of Direct Send spoofing campaigns.',
    evidence: 'From / Return-Path equal to To / recipient.',
    action: 'Part of the picture.',
    intent: true,
  },
  {
    code: 'DS302',
    title: 'PowerShell / System.Net.Mail client',
    severity: 'medium',
    weight: 20,
    meaning:
      'The message was built by .NET System.Net.Mail (PowerShell Send-MailMessage), the tool named in the Direct Send campaigns.',
    evidence: 'MIME boundary boundary_<n>_<GUID>; no X-Mailer; System.Net.Mail header order and date form.',
    action: 'If no internal script sends this, treat as an attack.',
    intent: true,
  },
  {
    code: 'DS303',
    title: 'Python smtplib client',
    severity: 'medium',
    weight: 15,
    meaning: 'The message was built by Python’s email package.',
    evidence: 'Boundary ===============<digits>==; make_msgid() Message-ID; -0000 date.',
    action: 'If no internal script sends this, treat as an attack.',
    intent: true,
  },
  {
    code: 'DS304',
    title: 'swaks test tool',
    severity: 'medium',
    weight: 20,
    meaning: 'The message was sent with swaks, an SMTP test tool.',
    evidence: 'X-Mailer: swaks; swaks Message-Id / boundary forms.',
    action: 'Confirm whether an administrator was testing.',
    intent: true,
  },
  {
    code: 'DS305',
    title: 'sendEmail tool',
    severity: 'medium',
    weight: 20,
    meaning: 'The message was sent with the sendEmail command-line tool.',
    evidence: 'X-Mailer: sendEmail; sendEmail Message-ID / boundary forms.',
    action: 'Confirm whether an internal script uses it.',
    intent: true,
  },
  {
    code: 'DS306',
    title: 'No mail client identification',
    severity: 'low',
    weight: 5,
    meaning: 'No X-Mailer or User-Agent and no client Message-ID: typical of scripts and devices.',
    evidence: 'Absence of X-Mailer, User-Agent; Message-ID assigned by Exchange.',
    action: 'Part of the picture.',
  },
  {
    code: 'DS307',
    title: 'Replies go outside',
    severity: 'medium',
    weight: 10,
    meaning: 'The message claims an internal sender but asks for replies to an external address.',
    evidence: 'Reply-To domain vs From domain.',
    action: 'Treat as phishing unless a known workflow does this.',
    intent: true,
  },
  // DS4xx — lure
  {
    code: 'DS401',
    title: 'Lure subject',
    severity: 'medium',
    weight: 15,
    meaning:
      'The subject matches the lures of Direct Send campaigns (voicemail, fax, missed call, payroll, invoice, e-signature, password expiry).',
    evidence: 'Subject; the matched lure term is in the evidence value.',
    action: 'Part of the picture.',
    intent: true,
  },
  {
    code: 'DS402',
    title: 'Risky attachment type',
    severity: 'high',
    weight: 20,
    meaning:
      'An attachment type that is rarely legitimate in internal notices: HTML/SVG/SHTML, scripts, executables, disk images.',
    evidence: 'Attachment file name and content type.',
    action: 'Do not open it; block the type in anti-malware policy.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS403',
    title: 'Lure attachment name',
    severity: 'medium',
    weight: 15,
    meaning:
      'The attachment name matches campaign lures (Fax-msg, Caller left VM Message, Play_VM-Now, payroll, remittance).',
    evidence: 'Attachment file name.',
    action: 'Part of the picture.',
    intent: true,
  },
  {
    code: 'DS404',
    title: 'Double extension',
    severity: 'high',
    weight: 20,
    meaning: 'The attachment name hides its real type behind a second extension (invoice.pdf.html).',
    evidence: 'Attachment file name.',
    action: 'Do not open it.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS405',
    title: 'PDF attachment on an internal-looking message',
    severity: 'low',
    weight: 5,
    meaning: 'Direct Send campaigns carry QR codes in PDF attachments.',
    evidence: 'Attachment content type application/pdf.',
    action: 'Part of the picture.',
  },
  {
    code: 'DS406',
    title: 'Attachments not inspected',
    severity: 'info',
    weight: 0,
    meaning: 'Only headers were read (--headers-only or a header paste): attachment signals were skipped.',
    evidence: 'Input mode.',
    action: 'Run without --headers-only on the full message for attachment signals.',
  },
  // DS6xx — legitimacy
  {
    code: 'DS601',
    title: 'Known legitimate source',
    severity: 'info',
    weight: 0,
    meaning:
      'The connecting IP (and sender/subject, where the profile narrows it) matches a known legitimate Direct Send source in the profile.',
    evidence: 'Connecting IP, senders and subject vs profile directSendSources.',
    action: 'Give this source an inbound connector before enabling RejectDirectSend.',
  },
  {
    code: 'DS602',
    title: 'Mailing-list relay',
    severity: 'info',
    weight: 0,
    meaning:
      'A mailing list relayed a post written by one of your users, keeping the From header but using its own envelope sender: the classic false positive of internal-spoof detection.',
    evidence: 'List-Id / List-Post, external P1, Microsoft ARC verdict or compauth reason 130.',
    action: 'None.',
  },
  {
    code: 'DS603',
    title: 'Authenticated legitimate Direct Send',
    severity: 'info',
    weight: 0,
    meaning: 'SPF passes for your domain and composite authentication passes: a device or service you authorised.',
    evidence: 'spf=pass and compauth=pass|softpass.',
    action: 'Give it an inbound connector before enabling RejectDirectSend.',
  },
  {
    code: 'DS605',
    title: 'Authorised third-party sender',
    severity: 'info',
    weight: 0,
    meaning:
      'The From header is your domain and the envelope sender a third party (an ESP or SaaS), but DMARC or composite authentication passes: the service signs for your domain with a DKIM key you published.',
    evidence: 'dmarc=pass or compauth=pass on a message whose P1 is not an accepted domain.',
    action: 'None: RejectDirectSend does not affect it (P1 is not yours).',
  },
  {
    code: 'DS604',
    title: 'Would break under RejectDirectSend',
    severity: 'medium',
    weight: 0,
    meaning:
      'A legitimate sender the profile declares (directSendSources) that RejectDirectSend would reject with 550 5.7.68 TenantInboundAttribution. Only declared sources get this advice: one that merely authenticates gets DS606.',
    evidence: 'Direct Send channel, a matching profile source (DS601) and a legitimate verdict.',
    action:
      'Create a Partner inbound connector restricted to its IP or certificate (`dsguard report` prints the command).',
  },
] as const satisfies readonly RuleInfo[];

/**
 * All rule tables. A new family adds its own `as const satisfies readonly RuleInfo[]` table in its own module
 * and one entry here: its codes then join `FindingCode`, `RULES` and docs/findings.md (a test checks the codes
 * are unique and documented). A new code in an existing family is one more row in its table.
 */
const RULE_TABLES = [
  MESSAGE_RULES,
  CONTENT_RULES,
  ORIGIN_RULES,
  TENANT_RULES,
  POSTURE_RULES,
  AUDIT_RULES,
  PROBE_RULES,
] as const;

/** Every finding code, as a union of string literals derived from the tables. */
export type FindingCode = (typeof RULE_TABLES)[number][number]['code'];

export const RULES: ReadonlyMap<string, RuleInfo> = (() => {
  const map = new Map<string, RuleInfo>();
  for (const table of RULE_TABLES) {
    for (const r of table as readonly RuleInfo[]) {
      if (map.has(r.code)) throw new Error(`duplicate finding code ${r.code}`);
      map.set(r.code, r);
    }
  }
  return map;
})();

/** Is this text (from a store row, a flag) a finding code of the tables? */
export function isFindingCode(code: string): code is FindingCode {
  return RULES.has(code);
}

export function ruleInfo(code: string): RuleInfo {
  const r = RULES.get(code);
  if (!r) throw new Error(`unknown finding code ${code}`);
  return r;
}
