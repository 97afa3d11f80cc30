/**
 * Who answers a domain's mail, from the MX host name alone. Knowledge as data: every entry names the host
 * suffixes that identify the service and where the pattern is documented. `kind` says what the service is:
 * `exchange-online` (the tenant's own smart host), `gateway` (a filtering service in front of the mailboxes:
 * mail reaching Exchange Online through it is the path the organisation meant), `mailbox` (another mailbox
 * host). Suffixes match whole labels (`x.pphosted.com` matches `pphosted.com`, `xpphosted.com` does not).
 * @module
 */

export type MxProviderKind = 'exchange-online' | 'exchange-online-consumer' | 'gateway' | 'mailbox';

export interface MxProvider {
  id: string;
  name: string;
  kind: MxProviderKind;
  suffixes: readonly string[];
  /** Where the host pattern is documented or was observed. */
  source: string;
}

export const MX_PROVIDERS = [
  {
    id: 'exchange-online',
    name: 'Exchange Online (EOP)',
    kind: 'exchange-online',
    suffixes: ['mail.protection.outlook.com'],
    source:
      'Microsoft Learn, "Add DNS records to connect your domain": MX <domain-with-dashes>.mail.protection.outlook.com; Microsoft Learn, "Set up a multifunction device … to send email" (Direct Send to the MX endpoint, port 25)',
  },
  {
    id: 'exchange-online-dnssec',
    name: 'Exchange Online (EOP, DNSSEC MX)',
    kind: 'exchange-online',
    suffixes: ['mx.microsoft'],
    source:
      'Microsoft Learn, "How SMTP DNS-based Authentication of Named Entities (DANE) works" / Enable-DnssecForVerifiedDomain (DnssecMxValue <domain-with-dashes>.<x>-v1.mx.microsoft); message center MC1048624 (new accepted domains provisioned under mx.microsoft)',
  },
  {
    id: 'outlook-consumer',
    name: 'Outlook.com (consumer)',
    kind: 'exchange-online-consumer',
    suffixes: ['olc.protection.outlook.com'],
    source: 'MX of outlook.com / hotmail.com / live.com (<domain-with-dashes>.olc.protection.outlook.com)',
  },
  {
    id: 'proofpoint',
    name: 'Proofpoint',
    kind: 'gateway',
    suffixes: ['pphosted.com', 'ppe-hosted.com', 'ppops.net'],
    source:
      'Proofpoint Enterprise (mx0a-<id>.pphosted.com) and Proofpoint Essentials setup guides (mx1-<region>.ppe-hosted.com)',
  },
  {
    id: 'mimecast',
    name: 'Mimecast',
    kind: 'gateway',
    suffixes: ['mimecast.com', 'mimecast.co.za', 'mimecast-offshore.com'],
    source: 'Mimecast "MX records" knowledge base (<region>-smtp-inbound-1.mimecast.com)',
  },
  {
    id: 'barracuda',
    name: 'Barracuda Email Gateway Defense',
    kind: 'gateway',
    suffixes: ['barracudanetworks.com'],
    source: 'Barracuda Campus, Email Gateway Defense MX records (<id>.ess.barracudanetworks.com)',
  },
  {
    id: 'cisco',
    name: 'Cisco Secure Email (IronPort)',
    kind: 'gateway',
    suffixes: ['iphmx.com'],
    source: 'Cisco Secure Email Cloud Gateway onboarding (mx1.<tenant>.iphmx.com)',
  },
  {
    id: 'trend-micro',
    name: 'Trend Micro Email Security',
    kind: 'gateway',
    suffixes: ['tmes.trendmicro.com', 'tmes.trendmicro.eu', 'tmes-anz.trendmicro.com', 'in.hes.trendmicro.com'],
    source: 'Trend Micro Email Security online help, "Configuring MX records" (<id>.in.tmes.trendmicro.com / .eu)',
  },
  {
    id: 'sophos',
    name: 'Sophos Email',
    kind: 'gateway',
    suffixes: ['hydra.sophos.com'],
    source: 'Sophos Central Email, "MX records" (mx-01-<region>.prod.hydra.sophos.com)',
  },
  {
    id: 'hornetsecurity',
    name: 'Hornetsecurity',
    kind: 'gateway',
    suffixes: ['hornetsecurity.com', 'antispameurope.com', 'hornetsecurity.net'],
    source:
      'Hornetsecurity control panel manual, spam and malware protection (mx-gate*.hornetsecurity.com; legacy antispameurope.com)',
  },
  {
    id: 'trellix',
    name: 'Trellix Email Security Cloud (FireEye ETP)',
    kind: 'gateway',
    suffixes: ['fireeyecloud.com', 'trellix.com'],
    source:
      'FireEye Email Threat Prevention / Trellix Email Security – Cloud deployment guide (MX at fireeyecloud.com)',
  },
  {
    id: 'symantec',
    name: 'Broadcom (Symantec) Email Security.cloud',
    kind: 'gateway',
    suffixes: ['messagelabs.com'],
    source: 'Broadcom Email Security.cloud, "MX records" (cluster<n>.<region>.messagelabs.com)',
  },
  {
    id: 'forcepoint',
    name: 'Forcepoint Email Security Cloud',
    kind: 'gateway',
    suffixes: ['mailcontrol.com'],
    source: 'Forcepoint Email Security Cloud help, MX records (<id>.in.mailcontrol.com)',
  },
  {
    id: 'appriver',
    name: 'Zix / AppRiver',
    kind: 'gateway',
    suffixes: ['arsmtp.com'],
    source: 'AppRiver SecureTide MX records (<id>.arsmtp.com)',
  },
  {
    id: 'spamexperts',
    name: 'N-able Mail Assure / SpamExperts',
    kind: 'gateway',
    suffixes: ['antispamcloud.com', 'mtaroutes.com'],
    source: 'SpamExperts / Mail Assure incoming filter MX (mx.<region>.antispamcloud.com, mx<n>.mtaroutes.com)',
  },
  {
    id: 'cloudflare-area1',
    name: 'Cloudflare Email Security (Area 1)',
    kind: 'gateway',
    suffixes: ['mxrecord.io', 'mxrecord.mx'],
    source: 'Cloudflare Email Security docs, MX/inline deployment (mailstream-<region>.mxrecord.io)',
  },
  {
    id: 'spamhero',
    name: 'SpamHero',
    kind: 'gateway',
    suffixes: ['spamh.com'],
    source: 'SpamHero setup, MX <n>.mx.spamh.com',
  },
  {
    id: 'google',
    name: 'Google Workspace',
    kind: 'mailbox',
    suffixes: ['aspmx.l.google.com', 'googlemail.com', 'smtp.google.com'],
    source:
      'Google Workspace Admin Help, "Google Workspace MX record values" (smtp.google.com; legacy aspmx.l.google.com)',
  },
  {
    id: 'zoho',
    name: 'Zoho Mail',
    kind: 'mailbox',
    suffixes: ['zoho.com', 'zoho.eu', 'zoho.in'],
    source: 'Zoho Mail, "Configure MX records" (mx.zoho.com)',
  },
] as const satisfies readonly MxProvider[];

export type MxProviderId = (typeof MX_PROVIDERS)[number]['id'];

function hasSuffix(host: string, suffix: string): boolean {
  return host === suffix || host.endsWith(`.${suffix}`);
}

/** The provider of an MX host, or `null` when the host matches no entry (self-hosted or unknown service). */
export function mxProvider(host: string): MxProvider | null {
  let h = host.toLowerCase();
  while (h.endsWith('.')) h = h.slice(0, -1);
  for (const p of MX_PROVIDERS) {
    for (const s of p.suffixes) if (hasSuffix(h, s)) return p;
  }
  return null;
}
