/**
 * Which finding codes have a KQL form in `dsguard kql` (and in which query and column), and why the others are
 * local only. A table keyed by code, with a default reason per family, so the rule tables stay untouched;
 * docs/findings.md shows it for every code (test/findings-doc.test.ts).
 * @module
 */
import type { QueryName } from './queries.js';

export type KqlForm = { kind: 'kql'; query: QueryName; how: string } | { kind: 'local'; reason: string };

const KQL: Readonly<Record<string, { query: QueryName; how: string }>> = {
  DS100: { query: 'inventory', how: '`Channel == "direct-send"`' },
  DS101: { query: 'inventory', how: '`EmailDirection =~ "Inbound"`' },
  DS102: { query: 'inventory', how: '`isempty(Connectors)`, the connecting IP in no profile connector range' },
  DS103: { query: 'inventory', how: '`SenderMailFromDomain in~ (accepted domains)`' },
  DS104: { query: 'inventory', how: '`Channel == "internal-spoof"`' },
  DS117: { query: 'after-enable', how: 'Direct Send after the profile’s RejectDirectSend date' },
  DS201: { query: 'abuse', how: '`AuthFailed` (SPF fail / softfail from `AuthenticationDetails`)' },
  DS203: { query: 'abuse', how: '`AuthFailed` (DMARC fail from `AuthenticationDetails`)' },
  DS205: { query: 'abuse', how: '`AuthFailed` (CompAuth fail from `AuthenticationDetails`)' },
  DS209: { query: 'abuse', how: '`ExchangeThreat` (`ThreatTypes` Phish / Malware)' },
  DS301: { query: 'abuse', how: '`SelfSent` (`SenderFromAddress =~ RecipientEmailAddress`)' },
  DS401: { query: 'abuse', how: '`LureSubject` (the same term list on `Subject`)' },
  DS407: { query: 'abuse', how: '`QrCode` (`EmailUrlInfo` rows with `UrlLocation == "QRCode"`)' },
  DS502: { query: 'abuse', how: '`ForeignCountry` (`geo_info_from_ip_address`; Kusto’s geolocation, not dsguard’s)' },
  DS601: {
    query: 'abuse',
    how: 'excluded: the profile’s declared sources (`readiness` counts them as `DeclaredMessages`)',
  },
  DS604: { query: 'readiness', how: 'Direct Send sources grouped by connecting IP' },
};

const NEEDS_NO_PROFILE = '`dsguard kql` always runs from a profile: the accepted domains come from it, never guessed.';

const LOCAL: Readonly<Record<string, string>> = {
  DS105:
    'Not a Direct Send signal: the queries leave connector mail out (in EmailEvents it has a non-empty `Connectors`).',
  DS106:
    'Not a Direct Send signal: the queries keep inbound anonymous mail (`EmailDirection` Inbound); authenticated submissions are Intra-org or Outbound.',
  DS107:
    'Not a Direct Send signal: the queries keep mail whose P1 or P2 domain is accepted; external mail is left out.',
  DS108: 'The receiving tenant id is not an EmailEvents column.',
  DS109: NEEDS_NO_PROFILE,
  DS118: NEEDS_NO_PROFILE,
  DS122: NEEDS_NO_PROFILE,
  DS123: NEEDS_NO_PROFILE,
  DS202: 'DKIM "none" is normal for many legitimate senders; the local rule weighs it with headers EmailEvents lacks.',
  DS204: 'Needs the compauth reason code, which AuthenticationDetails does not carry.',
  DS206: 'Needs the anti-spam stamps (SFTY / spoof verdict) of the message headers.',
  DS207: 'Needs the anti-spam stamps (SFTY 9.11) of the message headers.',
};

const FAMILY: readonly [string, string][] = [
  ['DS1', 'Needs the message headers (Exchange receiving stamps, HELO, TLS).'],
  ['DS2', 'Needs the message headers (Authentication-Results details).'],
  ['DS3', 'Needs the message headers (X-Mailer, Message-ID, Reply-To).'],
  ['DS4', 'Needs the message body or attachment content; EmailEvents has neither.'],
  ['DS5', 'Needs dsguard’s IP enrichment (ASN, hosting, VPN and campaign lists).'],
  ['DS6', 'Decided from the profile and evidence the email tables lack.'],
  ['DS74', 'A tenant configuration check (`dsguard audit`), not mail telemetry.'],
  ['DS75', 'A tenant configuration check (`dsguard audit`), not mail telemetry.'],
  ['DS76', 'A tenant configuration check (`dsguard audit`), not mail telemetry.'],
  ['DS79', 'A tenant configuration check (`dsguard audit`, `dsguard profile`), not mail telemetry.'],
  ['DS7', 'A DNS check of the domain (`dsguard exposure`), not mail telemetry.'],
  ['DS8', 'An SMTP probe result (`dsguard probe`), not mail telemetry.'],
  ['DS9', 'Ingest bookkeeping or a readiness decision over the whole store, not one message.'],
];

export function kqlFormOf(code: string): KqlForm {
  const k = KQL[code];
  if (k) return { kind: 'kql', ...k };
  const reason = LOCAL[code] ?? FAMILY.find(([p]) => code.startsWith(p))?.[1] ?? 'No EmailEvents column carries it.';
  return { kind: 'local', reason };
}

/** One line for docs/findings.md. */
export function kqlFormLine(code: string): string {
  const f = kqlFormOf(code);
  return f.kind === 'kql' ? `\`dsguard kql\` ${f.query} query — ${f.how}` : `local only — ${f.reason}`;
}
