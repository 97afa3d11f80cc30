/**
 * Domain and address helpers (pure).
 * @module
 */
import type { MailAddress } from './evidence.js';

const MAX_ADDRESS = 320;

/** A syntactically plausible DNS domain: at least two labels, LDH labels, no trailing junk. */
export function isPlausibleDomain(domain: string): boolean {
  if (domain.length < 3 || domain.length > 253) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return false;
    if (!/^[a-z0-9_](?:[a-z0-9-]*[a-z0-9])?$/i.test(label)) return false;
  }
  return !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

export function normalizeDomain(domain: string): string {
  let d = domain.trim().toLowerCase();
  while (d.endsWith('.')) d = d.slice(0, -1);
  return d;
}

/** Printable ASCII other than space at both ends, no angle bracket or double quote, within the length cap. */
export function isBareAddress(raw: string): boolean {
  const n = raw.length;
  if (n === 0 || n > MAX_ADDRESS) return false;
  const first = raw.charCodeAt(0);
  const last = raw.charCodeAt(n - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 && !raw.includes('<') && !raw.includes('"');
}

/** Turn `Name <a@b>`, `<a@b>`, `a@b` into a MailAddress; `null` when there is no address at all. */
export function toMailAddress(raw: string, name?: string): MailAddress | null {
  if (isBareAddress(raw)) {
    // What exports hold: the general path below would change nothing but the case.
    const at = raw.lastIndexOf('@');
    const domain = at >= 0 ? normalizeDomain(raw.slice(at + 1)) : null;
    const bare: MailAddress = { address: raw.toLowerCase(), domain: domain && domain.length > 0 ? domain : null };
    if (name !== undefined && name.length > 0) bare.name = name;
    return bare;
  }
  let t = raw.trim();
  if (t.length === 0) return null;
  if (t.length > MAX_ADDRESS) t = t.slice(0, MAX_ADDRESS);
  const lt = t.lastIndexOf('<');
  const gt = t.lastIndexOf('>');
  if (lt >= 0 && gt > lt) t = t.slice(lt + 1, gt);
  t = t.trim().replace(/^"+|"+$/g, '');
  if (t.length === 0 || t === '<>') return null;
  const at = t.lastIndexOf('@');
  const address = t.toLowerCase();
  const domain = at >= 0 ? normalizeDomain(t.slice(at + 1)) : null;
  const result: MailAddress = { address, domain: domain && domain.length > 0 ? domain : null };
  if (name !== undefined && name.length > 0) result.name = name;
  return result;
}

/** True when `domain` equals `parent` or is a subdomain of it. */
export function isSameOrSubdomain(domain: string, parent: string): boolean {
  return domain === parent || domain.endsWith(`.${parent}`);
}
