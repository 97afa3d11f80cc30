/**
 * What to do about a domain's exposure (pure): the seed's prevention steps made concrete for the domain, most
 * urgent first, each citing the findings it answers.
 * @module
 */
import type { DmarcAudit } from './dmarc.js';
import { EXO_SPF_INCLUDE } from './smart-host.js';
import type { SpfAudit } from './spf.js';

export interface Recommendation {
  /** 1 is most urgent. */
  priority: number;
  title: string;
  action: string;
  why: string;
  codes: string[];
}

export interface RecommendInput {
  gatewayBypass: boolean;
  gateway: string | null;
  reachable: boolean;
  exchangeOnline: boolean;
  spf: SpfAudit;
  dmarc: DmarcAudit;
  dmarcEnforced: boolean;
  smartHost: string | null;
}

/** The seed's prevention steps, made concrete for this domain, most urgent first. */
export function recommend(i: RecommendInput): Recommendation[] {
  const out: Omit<Recommendation, 'priority'>[] = [];
  if (i.gatewayBypass) {
    out.push({
      title: 'Close the gateway bypass',
      action: `Create a Partner inbound connector that only accepts mail from ${i.gateway} (RestrictDomainsToIPAddresses with its IPs, or RestrictDomainsToCertificate with its certificate name), turn on Enhanced Filtering for Connectors, and enable RejectDirectSend.`,
      why: `Mail sent straight to ${i.smartHost} never passes ${i.gateway}.`,
      codes: ['DS702'],
    });
  }
  if (i.reachable) {
    out.push({
      title: 'Enable RejectDirectSend',
      action:
        'Find legitimate Direct Send senders first (`dsguard ingest` + `dsguard report`), give them an inbound connector, then run Set-OrganizationConfig -RejectDirectSend $true and confirm with `dsguard probe`.',
      why: `Anyone can connect to ${i.smartHost} on port 25 and send anonymous mail from this domain to its users.`,
      codes: ['DS701'],
    });
  }
  if (!i.dmarcEnforced || i.dmarc.policy !== 'reject') {
    const now =
      i.dmarc.result === 'ok'
        ? `p=${i.dmarc.policy}${(i.dmarc.pct ?? 100) < 100 ? ` pct=${i.dmarc.pct}` : ''}`
        : 'no usable record';
    out.push({
      title: 'Enforce DMARC p=reject',
      action: `Publish "v=DMARC1; p=reject; rua=mailto:<reports>" at _dmarc.${i.dmarc.domain} (today: ${now}); step through p=quarantine if reports still show legitimate unaligned senders.`,
      why: 'RejectDirectSend does not stop spoofs whose envelope sender is external (P2-only); DMARC p=reject does.',
      codes: ['DS730', 'DS731', 'DS732', 'DS733', 'DS734', 'DS735'],
    });
  }
  const broken = i.spf.problems.filter((p) => p.code !== 'missing' && p.code !== 'temperror');
  if (broken.length > 0) {
    out.push({
      title: 'Fix SPF errors',
      action: `Receivers get permerror for this record: ${broken.map((p) => p.message).join('; ')}.`,
      why: 'A record in permerror protects nothing.',
      codes: ['DS714', 'DS715', 'DS716', 'DS717', 'DS718', 'DS719'],
    });
  }
  if (i.spf.result === 'none' || (i.spf.all !== '-all' && i.spf.result === 'ok')) {
    out.push({
      title: 'SPF hard fail',
      action:
        i.spf.result === 'none'
          ? i.exchangeOnline
            ? `Publish "v=spf1 include:${EXO_SPF_INCLUDE} -all" (plus your other senders).`
            : 'Publish an SPF record that lists every server sending for the domain and ends in -all.'
          : `End the SPF record with -all (today: ${i.spf.all ?? 'no all'}); in Exchange Online consider the spam filter's SPF hard-fail setting (MarkAsSpamSpfRecordHardFail).`,
      why: 'A forged envelope sender should fail SPF, not soft-fail or pass neutral.',
      codes: ['DS710', 'DS711', 'DS712', 'DS713'],
    });
  }
  if (i.exchangeOnline && i.spf.record && i.spf.ip4.length + i.spf.ip6.length === 0) {
    out.push({
      title: 'Static IPs in SPF for your own senders',
      action:
        'List the static public IPs of legitimate devices and apps with ip4:/ip6: (recommended by Microsoft, not required), or move them to a connector.',
      why: 'Direct Send from a listed IP passes SPF; everything else fails it.',
      codes: ['DS721'],
    });
  }
  if (i.exchangeOnline) {
    out.push({
      title: 'Anti-spoofing and review of unauthenticated internal mail',
      action:
        'Keep spoof intelligence and the anti-phishing spoof protection on; flag or quarantine anonymous mail from your own domains that fails authentication (a mail flow rule on X-MS-Exchange-Organization-AuthAs: Anonymous); train users on QR-code (quishing) lures.',
      why: 'Defence in depth while Direct Send is still open.',
      codes: [],
    });
  }
  return out.map((r, n) => ({ priority: n + 1, ...r }));
}
