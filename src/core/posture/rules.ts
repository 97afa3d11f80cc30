/**
 * Finding codes of the domain posture audit (`dsguard exposure`, DS7xx) and the SMTP probe (`dsguard probe`,
 * DS8xx). Weights are 0: these findings describe a domain or a tenant, not a message, so they never add risk to a
 * message verdict; the exposure verdict (`risk`) is computed in exposure-audit.ts and documented there.
 * @module
 */
import type { RuleInfo } from '../rules/rule-info.js';

export const POSTURE_RULES = [
  // DS70x — Exchange Online and the smart host
  {
    code: 'DS700',
    title: 'Exchange Online receives mail for the domain',
    severity: 'info',
    weight: 0,
    meaning:
      'Public DNS shows the domain is an accepted domain of a Microsoft 365 tenant: its MX points at Exchange Online, its tenant smart host resolves, its SPF includes spf.protection.outlook.com, its DKIM selectors point at Microsoft, or it publishes an MS=ms… verification record.',
    evidence:
      'MX, A of <domain-with-dashes>.mail.protection.outlook.com, SPF include, selector1/selector2._domainkey CNAMEs, TXT.',
    action: 'Direct Send applies to this domain: check the findings below and run `dsguard probe`.',
  },
  {
    code: 'DS701',
    title: 'Direct Send endpoint reachable',
    severity: 'medium',
    weight: 0,
    meaning:
      'The tenant smart host resolves, so anyone on the internet can connect to it on port 25 and send anonymous mail "from" this domain to its mailboxes unless RejectDirectSend is enabled. Public DNS cannot show whether RejectDirectSend is on.',
    evidence:
      'A record of the smart host (the Exchange Online MX, or <domain-with-dashes>.mail.protection.outlook.com).',
    action:
      'Inventory legitimate Direct Send senders (`dsguard report`), give them a connector, then Set-OrganizationConfig -RejectDirectSend $true and confirm with `dsguard probe <domain> --from … --to …`.',
  },
  {
    code: 'DS702',
    title: 'Gateway bypass: Exchange Online reachable behind a third-party gateway',
    severity: 'high',
    weight: 0,
    meaning:
      'The MX sends mail to a filtering gateway (Proofpoint, Mimecast, …) but the Exchange Online smart host of the same domain also resolves. Attackers skip the gateway entirely by connecting to the smart host directly: no gateway filtering, no gateway logs, and Exchange sees the message as arriving straight from the internet.',
    evidence: 'MX hosts and their provider; A record of the Exchange Online smart host.',
    action:
      'Enable RejectDirectSend, and restrict inbound mail to the gateway: a Partner inbound connector with RestrictDomainsToIPAddresses (gateway IPs) or RestrictDomainsToCertificate (gateway certificate), plus Enhanced Filtering for Connectors so EOP sees the original sender.',
  },
  {
    code: 'DS703',
    title: 'DNSSEC MX (*.mx.microsoft)',
    severity: 'info',
    weight: 0,
    meaning:
      'The MX uses Exchange Online’s DNSSEC form <domain-with-dashes>.<x>-v1.mx.microsoft, whose zone cannot be derived from the domain name: the MX itself is the smart host. The older mail.protection.outlook.com name usually still resolves too.',
    evidence: 'MX record.',
    action: 'None by itself; the Direct Send findings apply to both names.',
  },
  {
    code: 'DS704',
    title: 'Derived smart host does not resolve',
    severity: 'info',
    weight: 0,
    meaning:
      'The name <domain-with-dashes>.mail.protection.outlook.com does not exist. Either the domain is not in Exchange Online, or Microsoft gave it another token (a suffix such as 01b) or only a *.mx.microsoft name.',
    evidence: 'NXDOMAIN / no A record for the derived name.',
    action:
      'If the domain is in your tenant, read its real MX value in the Microsoft 365 admin center and probe that host.',
  },
  {
    code: 'DS705',
    title: 'Domain does not exist',
    severity: 'info',
    weight: 0,
    meaning: 'DNS says the domain does not exist (NXDOMAIN).',
    evidence: 'NXDOMAIN for the domain’s MX query.',
    action: 'Check the spelling; remove stale accepted domains from the tenant.',
  },
  {
    code: 'DS706',
    title: 'No MX record',
    severity: 'info',
    weight: 0,
    meaning:
      'The domain publishes no MX: it does not receive mail by its MX. If it is an accepted domain, its smart host can still be reachable.',
    evidence: 'NODATA for MX.',
    action: 'For a domain that sends no mail: SPF "v=spf1 -all" and DMARC p=reject.',
  },
  {
    code: 'DS707',
    title: 'DNS lookup failed',
    severity: 'low',
    weight: 0,
    meaning:
      'A lookup needed for the verdict failed (SERVFAIL, timeout, refused): the result for this domain is incomplete.',
    evidence: 'The query and its failure.',
    action: 'Run again, or point --dns-server at another resolver.',
  },
  {
    code: 'DS708',
    title: 'MX at Exchange Online',
    severity: 'info',
    weight: 0,
    meaning: 'The MX points straight at Exchange Online: the smart host is the MX host itself.',
    evidence: 'MX record.',
    action: 'None by itself.',
  },
  // DS71x — SPF
  {
    code: 'DS710',
    title: 'No SPF record',
    severity: 'medium',
    weight: 0,
    meaning:
      'The domain publishes no SPF record, so receivers (Exchange Online included) cannot tell its real senders from forgeries by SPF.',
    evidence: 'TXT records of the domain.',
    action:
      'Publish "v=spf1 include:spf.protection.outlook.com <your static senders> -all" (or "v=spf1 -all" for a domain that sends no mail).',
  },
  {
    code: 'DS711',
    title: 'SPF allows everyone (+all)',
    severity: 'high',
    weight: 0,
    meaning: 'The SPF record ends in +all (or all): every host on the internet passes SPF for this domain.',
    evidence: 'The effective all mechanism.',
    action: 'Replace +all with -all after listing the real senders.',
  },
  {
    code: 'DS712',
    title: 'SPF neutral (?all or no all)',
    severity: 'medium',
    weight: 0,
    meaning: 'The SPF record ends in ?all or has no all mechanism: forged mail gets a neutral result, not a failure.',
    evidence: 'The effective all mechanism.',
    action: 'End the record with -all (hard fail) once every legitimate sender is listed.',
  },
  {
    code: 'DS713',
    title: 'SPF soft fail (~all)',
    severity: 'low',
    weight: 0,
    meaning:
      'The SPF record ends in ~all: forged mail soft-fails, which receivers usually accept and mark. Microsoft suggests soft fail while Direct Send devices are being moved; DMARC p=reject is what makes failures count.',
    evidence: 'The effective all mechanism.',
    action:
      'Move to -all when all senders are listed; in EOP consider the SPF hard-fail spam setting (MarkAsSpamSpfRecordHardFail).',
  },
  {
    code: 'DS714',
    title: 'SPF exceeds 10 DNS lookups',
    severity: 'medium',
    weight: 0,
    meaning:
      'Evaluating the record takes more than 10 terms that cause DNS lookups (include, a, mx, ptr, exists, redirect; RFC 7208 §4.6.4): receivers return permerror and SPF protects nothing.',
    evidence: 'The lookup-costing terms in evaluation order.',
    action: 'Flatten or remove includes (replace them with ip4/ip6 where the sender publishes static ranges).',
  },
  {
    code: 'DS715',
    title: 'SPF exceeds 2 void lookups',
    severity: 'medium',
    weight: 0,
    meaning:
      'More than two lookups in the record return NXDOMAIN or no data (RFC 7208 §4.6.4): receivers may return permerror.',
    evidence: 'The terms whose lookups came back empty.',
    action: 'Remove includes and a/mx terms that point at names that no longer exist.',
  },
  {
    code: 'DS716',
    title: 'SPF include or redirect loop',
    severity: 'medium',
    weight: 0,
    meaning:
      'The record includes or redirects back to a record already being evaluated: evaluation can only end in permerror.',
    evidence: 'The include/redirect chain.',
    action: 'Break the loop.',
  },
  {
    code: 'DS717',
    title: 'Several SPF records',
    severity: 'medium',
    weight: 0,
    meaning: 'The domain publishes more than one v=spf1 record: RFC 7208 §4.5 makes that a permerror.',
    evidence: 'TXT records of the domain.',
    action: 'Merge them into one record.',
  },
  {
    code: 'DS718',
    title: 'SPF syntax error',
    severity: 'medium',
    weight: 0,
    meaning: 'A term of the record (or of a record it includes) is malformed: receivers return permerror.',
    evidence: 'The term and what is wrong with it.',
    action: 'Fix the record.',
  },
  {
    code: 'DS719',
    title: 'SPF include without an SPF record',
    severity: 'medium',
    weight: 0,
    meaning: 'An include or redirect names a domain that publishes no SPF record: receivers return permerror.',
    evidence: 'The include/redirect target and its TXT answer.',
    action: 'Remove or correct the include.',
  },
  {
    code: 'DS720',
    title: 'SPF lacks the Exchange Online include',
    severity: 'low',
    weight: 0,
    meaning:
      'The domain uses Exchange Online but its SPF does not include spf.protection.outlook.com: its own outgoing mail may fail SPF (unless it leaves through a gateway that is listed).',
    evidence: 'SPF includes.',
    action: 'Add include:spf.protection.outlook.com, or confirm that outbound mail leaves through a listed gateway.',
  },
  {
    code: 'DS721',
    title: 'No static IP in SPF',
    severity: 'info',
    weight: 0,
    meaning:
      'The record lists no ip4/ip6 of its own. Legitimate Direct Send devices (printers, scanners, apps) sending from your own IP should be listed by static address (Microsoft’s recommendation) — or, better, use a connector.',
    evidence: 'The domain’s own SPF terms.',
    action: 'List the static public IPs of your own senders with ip4:/ip6:.',
  },
  {
    code: 'DS722',
    title: 'SPF uses ptr',
    severity: 'low',
    weight: 0,
    meaning:
      'The record uses the ptr mechanism, which RFC 7208 §5.5 says SHOULD NOT be used (slow, unreliable; many receivers skip it).',
    evidence: 'The ptr term.',
    action: 'Replace ptr with ip4/ip6 or a.',
  },
  {
    code: 'DS723',
    title: 'SPF lookup failed',
    severity: 'low',
    weight: 0,
    meaning: 'A DNS lookup needed to evaluate SPF failed (SERVFAIL, timeout): receivers would return temperror.',
    evidence: 'The failed query.',
    action: 'Run again; if it persists, check the domain’s name servers.',
  },
  // DS73x — DMARC
  {
    code: 'DS730',
    title: 'No DMARC record',
    severity: 'medium',
    weight: 0,
    meaning:
      'Neither the domain nor its parents publish DMARC. Mail forging the domain in the visible From is not rejected by policy — the only defence against internal spoofs that RejectDirectSend does not stop (P2-only).',
    evidence: 'TXT records at _dmarc.<domain> and its parents.',
    action: 'Publish "v=DMARC1; p=none; rua=mailto:…", read the reports, and move to p=reject.',
  },
  {
    code: 'DS731',
    title: 'DMARC monitor only (p=none)',
    severity: 'medium',
    weight: 0,
    meaning: 'The DMARC policy is none: failing mail is delivered as if there were no policy.',
    evidence: 'The p (or sp) tag.',
    action: 'Move to p=quarantine, then p=reject, once reports show all legitimate senders aligned.',
  },
  {
    code: 'DS732',
    title: 'DMARC quarantine',
    severity: 'low',
    weight: 0,
    meaning: 'The DMARC policy is quarantine: failing mail goes to junk or quarantine instead of being rejected.',
    evidence: 'The p (or sp) tag.',
    action: 'Move to p=reject.',
  },
  {
    code: 'DS733',
    title: 'DMARC applies to part of the mail (pct<100)',
    severity: 'low',
    weight: 0,
    meaning:
      'pct is below 100: the policy applies to only that share of failing mail; the rest is treated one step softer.',
    evidence: 'The pct tag.',
    action: 'Remove pct (default 100).',
  },
  {
    code: 'DS734',
    title: 'DMARC record invalid',
    severity: 'medium',
    weight: 0,
    meaning: 'The DMARC record cannot be used (missing or bad p, not starting with v=DMARC1, …) or has malformed tags.',
    evidence: 'The record and the problem.',
    action: 'Fix the record.',
  },
  {
    code: 'DS735',
    title: 'Several DMARC records',
    severity: 'medium',
    weight: 0,
    meaning:
      'More than one v=DMARC1 record is published at the same name: receivers apply none of them (RFC 7489 §6.6.3).',
    evidence: 'TXT records at _dmarc.<domain>.',
    action: 'Keep one record.',
  },
  {
    code: 'DS736',
    title: 'DMARC inherited from a parent domain',
    severity: 'info',
    weight: 0,
    meaning:
      'The domain has no DMARC record of its own; the parent’s record governs it through its sp tag (default p).',
    evidence: 'TXT records at _dmarc.<domain> and _dmarc.<parent>.',
    action: 'None if the inherited policy is what you want; otherwise publish a record for the subdomain.',
  },
  {
    code: 'DS737',
    title: 'DMARC subdomain policy weaker than the domain’s',
    severity: 'low',
    weight: 0,
    meaning: 'sp is weaker than p: subdomains (existing or invented) can be forged more easily than the domain itself.',
    evidence: 'The p and sp tags.',
    action: 'Set sp equal to p (or remove sp).',
  },
  {
    code: 'DS738',
    title: 'No DMARC aggregate reports (rua)',
    severity: 'low',
    weight: 0,
    meaning: 'The record asks for no aggregate reports: you cannot see who sends as your domain, legitimate or not.',
    evidence: 'The rua tag.',
    action: 'Add rua=mailto:… (to a mailbox or a DMARC reporting service).',
  },
  {
    code: 'DS739',
    title: 'DMARC lookup failed',
    severity: 'low',
    weight: 0,
    meaning: 'The DMARC lookup failed (SERVFAIL, timeout): the policy is unknown.',
    evidence: 'The failed query.',
    action: 'Run again; if it persists, check the domain’s name servers.',
  },
] as const satisfies readonly RuleInfo[];

export const PROBE_RULES = [
  {
    code: 'DS800',
    title: 'Direct Send accepted',
    severity: 'high',
    weight: 0,
    meaning:
      'The smart host accepted the canary message from an anonymous client with an envelope sender in the domain after DATA: Direct Send is open for this tenant (RejectDirectSend is off, or the sender domain is not covered).',
    evidence: 'The final reply to the canary message (250 after DATA).',
    action:
      'Inventory legitimate Direct Send senders (`dsguard report`), give them connectors, then Set-OrganizationConfig -RejectDirectSend $true and probe again.',
  },
  {
    code: 'DS801',
    title: 'Accepted at RCPT — not conclusive',
    severity: 'medium',
    weight: 0,
    meaning:
      'The smart host accepted MAIL FROM and RCPT TO. Exchange Online may reject Direct Send only after the message data, so this does not show whether RejectDirectSend is on.',
    evidence: 'The replies to MAIL FROM and RCPT TO.',
    action: 'Repeat with --send-canary to send one fixed, self-describing test message and read the final answer.',
  },
  {
    code: 'DS802',
    title: 'Rejected by RejectDirectSend',
    severity: 'info',
    weight: 0,
    meaning:
      'The smart host answered 550 5.7.68 TenantInboundAttribution: Direct Send from this sender domain is rejected. RejectDirectSend is in force.',
    evidence: 'The reply with 5.7.68 / TenantInboundAttribution.',
    action: 'None. Legitimate senders need an inbound connector (matched by IP or certificate).',
  },
  {
    code: 'DS803',
    title: 'Recipient rejected',
    severity: 'low',
    weight: 0,
    meaning:
      'The recipient was refused (5.4.1, Directory-Based Edge Blocking: no such recipient), so the probe could not test Direct Send.',
    evidence: 'The reply to RCPT TO.',
    action: 'Probe again with an address that exists in the tenant (a shared or test mailbox).',
  },
  {
    code: 'DS804',
    title: 'Rejected by another policy',
    severity: 'low',
    weight: 0,
    meaning:
      'The smart host refused the transaction for a reason other than RejectDirectSend (5.7.x: blocked IP, tenant policy, relay denied, …). Direct Send was not tested.',
    evidence: 'The reply and its enhanced status code.',
    action: 'Read the reply text; probe from another network if your IP is blocked.',
  },
  {
    code: 'DS805',
    title: 'Temporarily refused',
    severity: 'low',
    weight: 0,
    meaning:
      'The smart host answered with a temporary failure (4xx, e.g. 451 4.7.500-699 throttling of new senders). Nothing was tested.',
    evidence: 'The reply.',
    action: 'Try again later.',
  },
  {
    code: 'DS806',
    title: 'Could not talk to the smart host',
    severity: 'low',
    weight: 0,
    meaning:
      'The connection failed or the conversation broke (refused, timed out, TLS failure, protocol error). Outbound port 25 is blocked on many networks.',
    evidence: 'The error and the stage it happened at.',
    action: 'Run from a network that allows outbound port 25, or pass --smtp-host/--smtp-port.',
  },
  {
    code: 'DS807',
    title: 'No STARTTLS',
    severity: 'info',
    weight: 0,
    meaning:
      'The server did not offer STARTTLS (Exchange Online always does), or --no-starttls was given: the probe ran in clear text.',
    evidence: 'The EHLO reply.',
    action: 'Check that --smtp-host points at the Exchange Online endpoint.',
  },
] as const satisfies readonly RuleInfo[];
