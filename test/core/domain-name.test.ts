/** Address normalisation: the bare-address fast path must agree with the general one. */
import { describe, expect, it } from 'vitest';
import { toMailAddress } from '../../src/core/domain-name.js';

describe('toMailAddress', () => {
  const cases: [string, { address: string; domain: string | null } | null][] = [
    ['Anna.Smith@Contoso.COM', { address: 'anna.smith@contoso.com', domain: 'contoso.com' }],
    ['scanner@contoso.com.', { address: 'scanner@contoso.com.', domain: 'contoso.com' }],
    ['a@b@contoso.com', { address: 'a@b@contoso.com', domain: 'contoso.com' }],
    ['no-at-sign', { address: 'no-at-sign', domain: null }],
    ['x@', { address: 'x@', domain: null }],
    ['@contoso.com', { address: '@contoso.com', domain: 'contoso.com' }],
    [' padded@contoso.com ', { address: 'padded@contoso.com', domain: 'contoso.com' }],
    ['\u00a0nbsp@contoso.com', { address: 'nbsp@contoso.com', domain: 'contoso.com' }],
    ['chloé@contoso.com', { address: 'chloé@contoso.com', domain: 'contoso.com' }],
    ['user@xn--mller-kva.de', { address: 'user@xn--mller-kva.de', domain: 'xn--mller-kva.de' }],
    ['"quoted"@contoso.com', { address: 'quoted"@contoso.com', domain: 'contoso.com' }],
    ['Anna <anna@contoso.com>', { address: 'anna@contoso.com', domain: 'contoso.com' }],
    ['<anna@contoso.com>', { address: 'anna@contoso.com', domain: 'contoso.com' }],
    ['a>b@contoso.com', { address: 'a>b@contoso.com', domain: 'contoso.com' }],
    ['<>', null],
    ['a@contoso.com\u2028', { address: 'a@contoso.com', domain: 'contoso.com' }],
    [`${'a'.repeat(400)}@contoso.com`, { address: 'a'.repeat(320), domain: null }],
    ['UPPER@EXAMPLE.ORG...', { address: 'upper@example.org...', domain: 'example.org' }],
  ];
  it.each(cases)('%j normalises to %j', (raw, want) => {
    const got = toMailAddress(raw);
    expect(got === null ? null : { address: got.address, domain: got.domain }).toEqual(want);
  });

  // A leading space is trimmed away but keeps the bare-address fast path out: both paths must agree.
  it.each(cases.map(([raw]) => raw))('%j: the fast path gives what the general path gives', (raw) => {
    expect(toMailAddress(raw)).toEqual(toMailAddress(` ${raw}`));
  });

  it('keeps the display name it is given', () => {
    expect(toMailAddress('a@contoso.com', 'Anna')).toEqual({
      address: 'a@contoso.com',
      domain: 'contoso.com',
      name: 'Anna',
    });
  });
});
