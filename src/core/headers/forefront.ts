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
