/**
 * Exchange Online naming facts: the tenant smart host derived from a domain, the DNSSEC `*.mx.microsoft` form,
 * and the tenant name revealed by DKIM CNAMEs.
 *
 * - `contoso.com` → `contoso-com.mail.protection.outlook.com`: dots become dashes, existing dashes are kept
 *   (Microsoft Learn, DNS records for Microsoft 365; the same token names the DKIM selectors,
 *   `selector1-contoso-com`). Microsoft may add a suffix to keep the token unique (`contoso-com01b`), so the
 *   derived name is a guess until DNS confirms it; the MX, when it points at Exchange Online, is the truth.
 * - `contoso-com.<x>-v1.mx.microsoft`: the DNSSEC MX (Enable-DnssecForVerifiedDomain, MC1048624). The `<x>-v1`
 *   zone is chosen by Microsoft and cannot be derived from the domain; the MX is the only source.
 * - DKIM: `selector1._domainkey.<domain>` CNAME `selector1-<token>._domainkey.<tenant>.onmicrosoft.com`, or the
 *   newer `selector1-<token>._domainkey.<tenant>.<x>-v1.dkim.mail.microsoft` (Microsoft Learn, "Set up DKIM").
 * @module
 */
import { normalizeDomain } from '../domain-name.js';

export const EOP_SUFFIX = 'mail.protection.outlook.com';
export const DNSSEC_MX_SUFFIX = 'mx.microsoft';
export const EXO_SPF_INCLUDE = 'spf.protection.outlook.com';

/** `contoso.com` → `contoso-com` (the token Microsoft uses in MX and DKIM names). */
export function domainToken(domain: string): string {
  return normalizeDomain(domain).replaceAll('.', '-');
}

/** The smart host name derived from the domain: `<token>.mail.protection.outlook.com`. */
export function derivedSmartHost(domain: string): string {
  return `${domainToken(domain)}.${EOP_SUFFIX}`;
}

export type ExchangeMxForm = 'eop' | 'dnssec';

/** Whether an MX host is an Exchange Online tenant endpoint, and in which form. */
export function exchangeMxForm(host: string): ExchangeMxForm | null {
  const h = normalizeDomain(host);
  if (h.endsWith(`.${EOP_SUFFIX}`) && h.split('.').length === 5) return 'eop';
  // <token>.<x>-v1.mx.microsoft: exactly four labels.
  if (h.endsWith(`.${DNSSEC_MX_SUFFIX}`) && h.split('.').length === 4) return 'dnssec';
  return null;
}

/** The token (first label) of an Exchange Online MX host; `null` when the host is not one. */
export function mxToken(host: string): string | null {
  if (exchangeMxForm(host) === null) return null;
  return normalizeDomain(host).split('.')[0] ?? null;
}

/** `MS=ms12345678`: the TXT record Microsoft 365 asks for to verify a domain. */
export function isMicrosoftVerificationTxt(txt: string): boolean {
  return /^MS=ms\d{3,12}$/i.test(txt.trim());
}

/**
 * The tenant (initial domain prefix) named by a Microsoft 365 DKIM CNAME target, or `null` when the target is
 * not a Microsoft one. `selector1-contoso-com._domainkey.contoso.onmicrosoft.com` → `contoso`.
 */
export function tenantFromDkimTarget(target: string): string | null {
  const t = normalizeDomain(target);
  const labels = t.split('.');
  const at = labels.indexOf('_domainkey');
  if (at < 1) return null;
  const selector = labels[at - 1] ?? '';
  if (!/^selector[12]-/.test(selector)) return null;
  const rest = labels.slice(at + 1);
  const tenant = rest[0];
  if (!tenant || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant)) return null;
  const suffix = rest.slice(1).join('.');
  if (suffix === 'onmicrosoft.com') return tenant;
  // <tenant>.<x>-v1.dkim.mail.microsoft
  if (
    rest.length === 5 &&
    /^[a-z0-9]+-v\d+$/.test(rest[1] ?? '') &&
    rest.slice(2).join('.') === 'dkim.mail.microsoft'
  ) {
    return tenant;
  }
  return null;
}

/** The initial (`*.onmicrosoft.com`) domain of a tenant name. */
export function onmicrosoftDomain(tenant: string): string {
  return `${tenant.toLowerCase()}.onmicrosoft.com`;
}
