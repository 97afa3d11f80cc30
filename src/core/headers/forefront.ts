/**
 * `X-Forefront-Antispam-Report` / `X-Microsoft-Antispam` style `KEY:value;` lists. Every key is kept,
 * unknown ones included; keys are upper-cased, values trimmed. Values may contain colons (IPv6 CIP).
 * @module
 */

export type AntispamFields = Map<string, string>;

const MAX_REPORT = 16 * 1024;

export function parseAntispamFields(value: string): AntispamFields {
  const text = value.length > MAX_REPORT ? value.slice(0, MAX_REPORT) : value;
  const fields: AntispamFields = new Map();
  for (const part of text.split(';')) {
    const colon = part.indexOf(':');
    if (colon <= 0) continue;
    const key = part.slice(0, colon).trim().toUpperCase();
    if (key.length === 0 || key.length > 32 || fields.has(key)) continue;
    fields.set(key, part.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * The documented `X-Forefront-Antispam-Report` fields (Microsoft, "Anti-spam message headers",
 * defender-docs `message-headers-eop-mdo.md`; see docs/reference) and the evidence slot each fills. A table in
 * the manner of microsoft/MHA's `ForefrontAntispam` rows: the keys are typed, not bare strings, and a key the
 * table does not list is still kept by {@link parseAntispamFields}.
 */
export const FOREFRONT_FIELDS = {
  ARC: { meaning: 'ARC protocol result (AAR / AMS / AS sub-fields)', slot: null },
  CAT: { meaning: 'category of protection policy applied to the message', slot: 'cat' },
  CIP: { meaning: 'connecting IP address', slot: null },
  CTRY: { meaning: 'source country of the connecting IP', slot: 'ctry' },
  DIR: { meaning: 'directionality: INB inbound, OUT outbound, INT intra-organisation', slot: 'dir' },
  H: { meaning: 'HELO or EHLO string of the connecting server', slot: null },
  IPV: { meaning: 'connection filtering status (CAL allowed, NLI not listed)', slot: 'ipv' },
  LANG: { meaning: 'language the message was written in', slot: null },
  PTR: { meaning: 'reverse DNS name of the connecting IP', slot: null },
  SCL: { meaning: 'spam confidence level', slot: 'scl' },
  SFS: { meaning: 'spam rules matched (diagnostic, undocumented)', slot: null },
  SFTY: { meaning: 'safety tip: 9.11 intra-organisation spoofing, 9.19/9.20 impersonation', slot: 'sfty' },
  SFV: { meaning: 'spam filtering verdict', slot: 'sfv' },
  SRV: { meaning: 'BULK: marked as bulk', slot: null },
} as const;

export type ForefrontField = keyof typeof FOREFRONT_FIELDS;
/** The fields with a slot of their own in the antispam evidence. */
export type ForefrontSlot = NonNullable<(typeof FOREFRONT_FIELDS)[ForefrontField]['slot']>;

/** The value of a documented field, by its typed key. */
export function antispamField(fields: AntispamFields, key: ForefrontField): string | undefined {
  return fields.get(key);
}
