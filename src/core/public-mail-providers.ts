/**
 * Public mailbox providers: domains whose addresses anyone can sign up for (webmail) or that an internet
 * provider hands to its subscribers. No business tenant can hold one as an accepted domain (Microsoft verifies
 * an accepted domain by a DNS record only the domain's owner can publish), so without a profile such a domain
 * is never taken to be the receiving tenant's, and a sender in one is never "internal" to a tenant whose
 * domains are guessed.
 *
 * Where the list comes from: the widely used free-mail list HubSpot publishes for its "block free email
 * domains" form option (knowledge.hubspot.com, "What domains are blocked when using the Forms email domains to
 * block feature"), as packaged in the `free-email-domains` npm package (Kikobeats/free-email-domains,
 * `domains.json`). That list holds thousands of entries, most of them throw-away services; dsguard keeps the
 * providers real recipients use — the large webmail services and the subscriber domains of large internet
 * providers — and the families below whose country variants share one owner. Microsoft's own consumer
 * domains (outlook.com, hotmail.*, live.*, msn.com) are also recognised by the consumer tenant id
 * (84df9e7f-…-aaaaaaaaaaaa) where Exchange stamps it.
 * @module
 */
import { normalizeDomain } from './domain-name.js';

/** Exact domains (webmail services and internet providers' subscriber domains). */
export const PUBLIC_MAILBOX_DOMAINS: ReadonlySet<string> = new Set([
  // Webmail
  'gmail.com',
  'googlemail.com',
  'msn.com',
  'passport.com',
  'ymail.com',
  'rocketmail.com',
  'aim.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'protonmail.com',
  'protonmail.ch',
  'proton.me',
  'pm.me',
  'mail.com',
  'email.com',
  'web.de',
  'zoho.com',
  'zohomail.com',
  'mail.ru',
  'inbox.ru',
  'list.ru',
  'bk.ru',
  'rambler.ru',
  'qq.com',
  'foxmail.com',
  '163.com',
  '126.com',
  'yeah.net',
  'sina.com',
  'sohu.com',
  'aliyun.com',
  '139.com',
  '189.cn',
  'naver.com',
  'hanmail.net',
  'daum.net',
  'rediffmail.com',
  'tutanota.com',
  'tuta.io',
  'fastmail.com',
  'fastmail.fm',
  'hushmail.com',
  'seznam.cz',
  'wp.pl',
  'o2.pl',
  'interia.pl',
  'onet.pl',
  'libero.it',
  'virgilio.it',
  'alice.it',
  'tiscali.it',
  'abv.bg',
  'ukr.net',
  'lycos.com',
  'excite.com',
  // Internet providers' subscriber domains
  't-online.de',
  'arcor.de',
  'freenet.de',
  'orange.fr',
  'wanadoo.fr',
  'free.fr',
  'sfr.fr',
  'neuf.fr',
  'laposte.net',
  'bluewin.ch',
  'telenet.be',
  'skynet.be',
  'ziggo.nl',
  'kpnmail.nl',
  'planet.nl',
  'home.nl',
  'btinternet.com',
  'sky.com',
  'virginmedia.com',
  'ntlworld.com',
  'talktalk.net',
  'blueyonder.co.uk',
  'eircom.net',
  'comcast.net',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'ameritech.net',
  'pacbell.net',
  'optonline.net',
  'cox.net',
  'charter.net',
  'earthlink.net',
  'juno.com',
  'netzero.net',
  'frontier.com',
  'windstream.net',
  'centurylink.net',
  'roadrunner.com',
  'twc.com',
  'adelphia.net',
  'shaw.ca',
  'rogers.com',
  'sympatico.ca',
  'telus.net',
  'videotron.ca',
  'iinet.net.au',
  'westnet.com.au',
  'bigpond.com',
  'bigpond.net.au',
  'telstra.com',
  'optusnet.com.au',
  'tpg.com.au',
  'internode.on.net',
  'aapt.net.au',
  'adam.com.au',
  'dodo.com.au',
  'xtra.co.nz',
  'slingshot.co.nz',
  'vodafone.co.nz',
  'terra.com.br',
  'uol.com.br',
  'bol.com.br',
  'ig.com.br',
  'prodigy.net.mx',
]);

/**
 * Families whose country variants belong to one provider: `yahoo.com`, `yahoo.co.uk`, `hotmail.fr`, `live.com.au`,
 * `outlook.de`, `gmx.net`, `aol.co.uk`, `yandex.ru` … (the family name, then a top-level domain, optionally
 * under a second-level one such as `co.` or `com.`).
 */
const FAMILIES = ['yahoo', 'hotmail', 'outlook', 'live', 'windowslive', 'gmx', 'aol', 'yandex', 'ya'] as const;
const FAMILY_SUFFIX = /^(?:(?:co|com|net|org|ne|or)\.)?[a-z]{2,3}$/;

/** Whether `domain` is a public mailbox provider's (never a business tenant's accepted domain). */
export function isPublicMailboxDomain(domain: string | null): boolean {
  if (!domain) return false;
  const d = normalizeDomain(domain);
  if (PUBLIC_MAILBOX_DOMAINS.has(d)) return true;
  const dot = d.indexOf('.');
  if (dot <= 0) return false;
  const first = d.slice(0, dot);
  return (FAMILIES as readonly string[]).includes(first) && FAMILY_SUFFIX.test(d.slice(dot + 1));
}
