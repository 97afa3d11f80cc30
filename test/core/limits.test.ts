import { describe, expect, it } from 'vitest';
import { contentLimits } from '../../src/content/limits.js';
import { parseHeaderBlock } from '../../src/core/headers/header-block.js';
import { positiveIntegerLimits } from '../../src/core/limits.js';
import { readerLimits } from '../../src/sources/limits.js';

describe('limits', () => {
  it('accept positive integer overrides and keep the defaults otherwise', () => {
    expect(positiveIntegerLimits('x', { a: 1, b: 2 }, { b: 5 })).toEqual({ a: 1, b: 5 });
    expect(readerLimits({ maxParts: 10 }).maxParts).toBe(10);
    expect(readerLimits().maxHeaderBytes).toBe(2 * 1024 * 1024);
  });

  it('refuse zero, negatives, fractions, NaN, Infinity, strings and unknown names', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => readerLimits({ maxParts: bad })).toThrow(/reader limit maxParts must be a positive integer/);
    }
    expect(() => contentLimits({ nope: 1 } as never)).toThrow(/unknown content limit nope/);
  });

  it('hold for the header parser too: bad overrides throw, the limits bound the parse', () => {
    expect(() => parseHeaderBlock('A: b\r\n\r\n', { maxFields: 0 })).toThrow(/header limit maxFields/);
    expect(() => parseHeaderBlock('A: b\r\n\r\n', { nope: 1 } as never)).toThrow(/unknown header limit nope/);
    expect(parseHeaderBlock('A: 1\r\nB: 2\r\nC: 3\r\n\r\n', { maxFields: 2 }).status).toBe('error');
    expect(parseHeaderBlock('A: 1\r\nB: 2\r\n\r\n', { maxFields: 2 }).status).toBe('ok');
  });
});
