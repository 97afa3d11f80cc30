/** Address normalisation: the bare-address fast path must agree with the general one. */
import { describe, expect, it } from 'vitest';
import { toMailAddress } from '../../src/core/domain-name.js';

/** The general path, spelled out independently of the implementation's fast path. */
function reference(raw: string): { address: string; domain: string | null } | null {
  let t = raw.trim();
  if (t.length === 0) return null;
  if (t.length > 320) t = t.slice(0, 320);
  const lt = t.lastIndexOf('<');
  const gt = t.lastIndexOf('>');
  if (lt >= 0 && gt > lt) t = t.slice(lt + 1, gt);
  t = t.trim().replace(/^"+|"+$/g, '');
  if (t.length === 0 || t === '<>') return null;
  const at = t.lastIndexOf('@');
  let domain =
    at >= 0
      ? t
          .slice(at + 1)
          .trim()
          .toLowerCase()
      : null;
  while (domain?.endsWith('.')) domain = domain.slice(0, -1);
  return { address: t.toLowerCase(), domain: domain && domain.length > 0 ? domain : null };
}

describe('toMailAddress', () => {
  it.each([
    'Anna.Smith@Contoso.COM',
    'scanner@contoso.com.',
    'a@b@contoso.com',
    'no-at-sign',
    'x@',
    '@contoso.com',
    ' padded@contoso.com ',
    '\u00a0nbsp@contoso.com',
    'chloé@contoso.com',
    'user@xn--mller-kva.de',
    '"quoted"@contoso.com',
    'Anna <anna@contoso.com>',
    '<anna@contoso.com>',
    'a>b@contoso.com',
    '<>',
    'a@contoso.com\u2028',
    `${'a'.repeat(400)}@contoso.com`,
    'UPPER@EXAMPLE.ORG...',
  ])('%j normalises as the general path does', (raw) => {
    const got = toMailAddress(raw);
    expect(got === null ? null : { address: got.address, domain: got.domain }).toEqual(reference(raw));
  });

  it('keeps the display name it is given', () => {
    expect(toMailAddress('a@contoso.com', 'Anna')).toEqual({
      address: 'a@contoso.com',
      domain: 'contoso.com',
      name: 'Anna',
    });
  });
});
