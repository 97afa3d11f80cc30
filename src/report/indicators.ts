/**
 * Indicators of the malicious Direct Send / internal-spoof messages in the store: connecting IPs, sender
 * addresses and URLs (QR-decoded included), as CSV, as a STIX 2.1 bundle, and as the block commands that are
 * safe. Output is deterministic: ids are name-based UUIDs of the indicator's type and value, timestamps are the
 * evidence's first sighting — never the clock.
 *
 * Safety of the block commands (Microsoft's documented semantics, docs/indicators.md):
 * - URLs: `New-TenantAllowBlockListItems -ListType Url -Block`, one entry per command, ≤ 250 characters; entries
 *   expire after 30 days (no `-NoExpiration`); the list holds 500 / 1,000 / 5,000–10,000 URL entries by plan.
 *   Never a URL on an accepted domain (its subdomains or parents) or a public mailbox provider: a URL entry also
 *   blocks the host's subdomains ({@link urlBlockRefusal}).
 * - IPv4: `Set-HostedConnectionFilterPolicy -Identity Default -IPBlockList @{Add=…}` (≤ 1,273 entries in the
 *   list; `-ListType IP` of the Tenant Allow/Block List takes IPv6 only). Never a private/reserved address, a
 *   profile connector's or a declared source's address.
 * - Senders: never blocked. They are listed with the reason: an accepted domain, its subdomains or parents, or a
 *   public mailbox provider must never be (Direct Send spoofs the tenant's own addresses, and a sender block also
 *   stops users from sending *to* that address, 550 5.7.703); any other is left to the admin.
 * @module
 */
import { isSameOrSubdomain } from '../core/domain-name.js';
import { ipInAny, ipKind, parseIp } from '../core/net-address.js';
import type { TenantProfile } from '../core/profile.js';
import { psList, psQuote } from '../core/quote/powershell.js';
import { renderCsv } from './tabular.js';
import { uuid5 } from './uuid5.js';

export type IndicatorType = 'ipv4' | 'ipv6' | 'email' | 'url';

/** One malicious stored message, as the store gives it. */
export interface IndicatorMessage {
  messageId: string;
  receivedAt: string;
  ip: string | null;
  sender: string | null;
  headerFrom: string | null;
  urls: readonly { url: string; qr: boolean }[];
  codes: readonly string[];
}

export interface Indicator {
  type: IndicatorType;
  value: string;
  firstSeen: string;
  lastSeen: string;
  messages: number;
  /** Some of the messages (sorted, at most 5). */
  messageIds: string[];
  /** Seen in a QR code. */
  qr: boolean;
  codes: string[];
}

/** Public mailbox providers: never blocked as a domain or by sender (their users are everyone's contacts). */
export const PUBLIC_MAILBOX_PROVIDERS: readonly string[] = [
  '126.com',
  '163.com',
  'aol.com',
  'att.net',
  'comcast.net',
  'free.fr',
  'gmail.com',
  'gmx.at',
  'gmx.ch',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'googlemail.com',
  'hotmail.com',
  'hotmail.co.uk',
  'hotmail.fr',
  'icloud.com',
  'laposte.net',
  'libero.it',
  'live.com',
  'mac.com',
  'mail.com',
  'mail.ru',
  'me.com',
  'msn.com',
  'orange.fr',
  'outlook.com',
  'pm.me',
  'proton.me',
  'protonmail.com',
  'qq.com',
  't-online.de',
  'verizon.net',
  'web.de',
  'yahoo.com',
  'yahoo.co.uk',
  'yahoo.fr',
  'yandex.com',
  'yandex.ru',
  'ymail.com',
  'zoho.com',
];

export const URL_ENTRY_LIMIT = 250;
export const SENDER_NOT_BLOCKED =
  'sender addresses are not blocked by dsguard: the envelope sender of spoofed mail is often a shared bounce address, and a sender block also stops your users from sending to it (550 5.7.703); if it is the attacker’s own, block it with New-TenantAllowBlockListItems -ListType Sender -Block';
export const IP_BLOCK_LIST_LIMIT = 1273;
const MAX_VALUE = 2048;

/**
 * Fold the messages into indicators, sorted by type then value. Sender addresses of an accepted domain (or one
 * sharing it) are left out: Direct Send spoofs them, and a feed naming the tenant's own addresses as malicious
 * invites SOC tooling to block them.
 */
export function collectIndicators(messages: readonly IndicatorMessage[], profile: TenantProfile): Indicator[] {
  const own = (address: string) => {
    const domain = address.slice(address.lastIndexOf('@') + 1).replace(/\.$/, '');
    return profile.acceptedDomains.some((d) => isSameOrSubdomain(domain, d) || isSameOrSubdomain(d, domain));
  };
  const map = new Map<string, Indicator & { ids: Set<string>; codeSet: Set<string> }>();
  const add = (type: IndicatorType, value: string, m: IndicatorMessage, qr: boolean) => {
    if (value.length === 0 || value.length > MAX_VALUE) return;
    const key = `${type}|${value}`;
    let i = map.get(key);
    if (!i) {
      i = {
        type,
        value,
        firstSeen: m.receivedAt,
        lastSeen: m.receivedAt,
        messages: 0,
        messageIds: [],
        qr: false,
        codes: [],
        ids: new Set(),
        codeSet: new Set(),
      };
      map.set(key, i);
    }
    if (!i.ids.has(m.messageId)) {
      i.ids.add(m.messageId);
      i.messages++;
    }
    if (m.receivedAt < i.firstSeen) i.firstSeen = m.receivedAt;
    if (m.receivedAt > i.lastSeen) i.lastSeen = m.receivedAt;
    i.qr ||= qr;
    for (const c of m.codes) i.codeSet.add(c);
  };
  for (const m of messages) {
    if (m.ip) {
      const ip = parseIp(m.ip);
      if (ip) add(ip.kind() === 'ipv4' ? 'ipv4' : 'ipv6', ip.toString(), m, false);
    }
    for (const s of new Set([m.sender, m.headerFrom]))
      if (s?.includes('@') && !own(s.toLowerCase())) add('email', s.toLowerCase(), m, false);
    for (const u of m.urls) add('url', u.url, m, u.qr);
  }
  return [...map.values()]
    .map(({ ids, codeSet, ...i }) => ({ ...i, messageIds: [...ids].sort().slice(0, 5), codes: [...codeSet].sort() }))
    .sort((a, b) =>
      a.type === b.type ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.type < b.type ? -1 : 1,
    );
}

export function renderIndicatorsCsv(list: readonly Indicator[]): string {
  return renderCsv(list, [
    { header: 'type', value: (i) => i.type },
    { header: 'value', value: (i) => i.value },
    { header: 'first_seen', value: (i) => i.firstSeen },
    { header: 'last_seen', value: (i) => i.lastSeen },
    { header: 'messages', value: (i) => i.messages },
    { header: 'qr_code', value: (i) => i.qr },
    { header: 'finding_codes', value: (i) => i.codes.join(' ') },
    { header: 'message_ids', value: (i) => i.messageIds.join(' ') },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// STIX 2.1

/** A STIX pattern string literal: single-quoted, `\` and `'` escaped (STIX 2.1 patterning §9.4). */
export function stixString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

const STIX_OBJECT: Record<IndicatorType, string> = {
  ipv4: 'ipv4-addr:value',
  ipv6: 'ipv6-addr:value',
  email: 'email-addr:value',
  url: 'url:value',
};

/** STIX timestamps: RFC 3339 UTC with milliseconds. */
function stixTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString() : '1970-01-01T00:00:00.000Z';
}

export function stixBundle(list: readonly Indicator[]): Record<string, unknown> {
  const objects = list.map((i) => {
    const pattern = `[${STIX_OBJECT[i.type]} = ${stixString(i.value)}]`;
    const created = stixTime(i.firstSeen);
    return {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${uuid5(`indicator|${pattern}`)}`,
      created,
      modified: stixTime(i.lastSeen),
      name: `dsguard ${i.type} ${i.value.slice(0, 200)}`,
      description: `Seen in ${i.messages} malicious Direct Send / internal-spoof message(s)${i.qr ? ', in a QR code' : ''}; findings ${i.codes.join(' ') || '(none)'}.`,
      indicator_types: ['malicious-activity'],
      pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: created,
      labels: ['dsguard', 'direct-send'],
    };
  });
  return {
    type: 'bundle',
    id: `bundle--${uuid5(`bundle|${objects.map((o) => o.id).join(',')}`)}`,
    objects,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Block commands

export interface BlockPlan {
  commands: string[];
  /** Indicators not blocked, with the reason. */
  skipped: { indicator: Indicator; reason: string }[];
}

/** Why a sender address must never be blocked, or `null` when a block of that exact address is safe. */
export function senderBlockRefusal(address: string, profile: TenantProfile): string | null {
  const at = address.lastIndexOf('@');
  if (at <= 0) return 'not an e-mail address';
  const domain = address
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  for (const d of profile.acceptedDomains) {
    if (isSameOrSubdomain(domain, d) || isSameOrSubdomain(d, domain))
      return `${domain} is (or shares) your accepted domain ${d}: Direct Send spoofs it, and a sender block would also stop your users from sending to it (550 5.7.703)`;
  }
  for (const p of PUBLIC_MAILBOX_PROVIDERS) {
    if (isSameOrSubdomain(domain, p)) return `${domain} is a public mailbox provider`;
  }
  return null;
}

/**
 * Why a URL must not become a Tenant Allow/Block List URL entry, or `null`. A block entry matches its host's
 * subdomains too (and, without a path, every URL of the domain — Microsoft's "URL syntax for the Tenant Allow/Block
 * List"), so a URL on an accepted domain (or a parent or subdomain of one) or on a public mailbox provider would
 * be a domain block; and that syntax takes no port, user name, quote or Unicode (Punycode only).
 */
export function urlBlockRefusal(url: string, profile: TenantProfile): string | null {
  if (/['"]/.test(url)) return 'contains a quote, which URL entries do not take';
  if (/[^\u0000-\u007f]/.test(url)) return 'not ASCII: URL entries take Punycode, not Unicode';
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const authority = rest.split(/[/?#\\]/, 1)[0] ?? '';
  if (authority.includes('@')) return 'has a user name part, which URL entries do not take';
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.split(':')[0]!;
  if (authority.length > host.length) return 'has a port, which URL entries do not take';
  const domain = host.toLowerCase().replace(/\.$/, '');
  if (domain.length === 0) return 'no host';
  for (const d of profile.acceptedDomains) {
    if (isSameOrSubdomain(domain, d) || isSameOrSubdomain(d, domain))
      return `on ${domain}, which is (or shares) your accepted domain ${d}: a URL entry also blocks the domain's other URLs and subdomains`;
  }
  for (const p of PUBLIC_MAILBOX_PROVIDERS) {
    if (isSameOrSubdomain(domain, p)) return `on ${domain}, a public mailbox provider's domain`;
  }
  return null;
}

function ipRefusal(value: string, profile: TenantProfile): string | null {
  const kind = ipKind(value);
  if (kind !== 'public') return `not a public address (${kind ?? 'invalid'})`;
  if (profile.connectors.some((c) => ipInAny(value, c.senderIps))) return 'a profile connector uses it';
  if (profile.knownSources.some((s) => ipInAny(value, s.ips))) return 'a declared Direct Send source uses it';
  return null;
}

export function blockPlan(list: readonly Indicator[], profile: TenantProfile): BlockPlan {
  const commands: string[] = [];
  const skipped: BlockPlan['skipped'] = [];
  const ipv4: string[] = [];
  for (const i of list) {
    if (i.type === 'url') {
      if (i.value.length > URL_ENTRY_LIMIT) {
        skipped.push({ indicator: i, reason: `longer than the ${URL_ENTRY_LIMIT} characters a URL entry takes` });
        continue;
      }
      if (/[\u0000-\u0020\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/.test(i.value)) {
        skipped.push({ indicator: i, reason: 'contains control, space or invisible characters' });
        continue;
      }
      const why = urlBlockRefusal(i.value, profile);
      if (why) {
        skipped.push({ indicator: i, reason: why });
        continue;
      }
      commands.push(`New-TenantAllowBlockListItems -ListType Url -Block -Entries ${psQuote(i.value)}`);
    } else if (i.type === 'ipv4') {
      const why = ipRefusal(i.value, profile);
      if (why) skipped.push({ indicator: i, reason: why });
      else ipv4.push(i.value);
    } else if (i.type === 'ipv6') {
      const why = ipRefusal(i.value, profile);
      if (why) skipped.push({ indicator: i, reason: why });
      else commands.push(`New-TenantAllowBlockListItems -ListType IP -Block -Entries ${psQuote(i.value)}`);
    } else {
      // Sender addresses are listed, never blocked by default (see SENDER_NOT_BLOCKED).
      skipped.push({ indicator: i, reason: senderBlockRefusal(i.value, profile) ?? SENDER_NOT_BLOCKED });
    }
  }
  const fit = ipv4.slice(0, IP_BLOCK_LIST_LIMIT);
  for (const v of ipv4.slice(IP_BLOCK_LIST_LIMIT)) {
    const indicator = list.find((i) => i.type === 'ipv4' && i.value === v)!;
    skipped.push({
      indicator,
      reason: `the connection filter IP block list holds at most ${IP_BLOCK_LIST_LIMIT} entries`,
    });
  }
  if (fit.length > 0)
    commands.push(`Set-HostedConnectionFilterPolicy -Identity Default -IPBlockList @{Add=${psList(fit)}}`);
  return { commands, skipped };
}

/** A value shown in a PowerShell comment: one line, no control or invisible characters, bounded. */
function commentSafe(value: string): string {
  const t = value.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, '?');
  return t.length > 300 ? `${t.slice(0, 300)}… (${t.length} characters)` : t;
}

export function renderBlockScript(plan: BlockPlan): string {
  const out = [
    '# dsguard: block commands for the indicators of malicious Direct Send / internal-spoof messages.',
    '# Run in Exchange Online PowerShell (Connect-ExchangeOnline). Review each line before running it.',
    '# - URL entries go to the Tenant Allow/Block List and expire after 30 days (add -ExpirationDate or',
    '#   -NoExpiration to change that). The list holds 500 / 1,000 / 5,000-10,000 URL entries depending on the plan.',
    '# - No sender or domain is blocked: a sender block also stops your users from sending TO that address',
    '#   (550 5.7.703), and Direct Send spoofs your own accepted domains.',
    '# - IPv4 addresses go to the default connection filter policy IP block list (at most 1,273 entries in all,',
    '#   including those already there); the Tenant Allow/Block List takes IPv6 only.',
    ...plan.commands,
  ];
  if (plan.skipped.length > 0) {
    out.push('# Not blocked:');
    for (const s of plan.skipped) {
      out.push(`#   ${s.indicator.type} ${commentSafe(s.indicator.value)}: ${s.reason}`);
    }
  }
  return `${out.join('\n')}\n`;
}
