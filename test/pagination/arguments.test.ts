import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../src/errors.js';
import { type ConnectionArgs, rangeWithTotal, rowRangeForArgs } from '../../src/pagination/arguments.js';

const limits = { defaultSize: 20, maxSize: 100 };
/** Test cursors are "@<offset>". */
const decode = (cursor: string) => Number(cursor.slice(1));

describe('rowRangeForArgs', () => {
  it.each<[string, ConnectionArgs, ReturnType<typeof rowRangeForArgs>]>([
    [
      'no arguments: the default size from the start',
      {},
      { kind: 'range', start: 0, size: 20, lower: 0, upper: null, by: 'first' },
    ],
    ['first', { first: 15 }, { kind: 'range', start: 0, size: 15, lower: 0, upper: null, by: 'first' }],
    [
      'first after',
      { first: 15, after: '@29' },
      { kind: 'range', start: 30, size: 15, lower: 30, upper: null, by: 'first' },
    ],
    ['first 0', { first: 0, after: '@9' }, { kind: 'range', start: 10, size: 0, lower: 10, upper: null, by: 'first' }],
    ['after only', { after: '@4' }, { kind: 'range', start: 5, size: 20, lower: 5, upper: null, by: 'first' }],
    [
      'last before',
      { last: 10, before: '@30' },
      { kind: 'range', start: 20, size: 10, lower: 0, upper: 30, by: 'last' },
    ],
    [
      'last before near the start',
      { last: 10, before: '@3' },
      { kind: 'range', start: 0, size: 3, lower: 0, upper: 3, by: 'last' },
    ],
    ['last without before', { last: 10 }, { kind: 'tail', size: 10, minStart: 0, lower: 0, upper: null, by: 'last' }],
    [
      'last after without before',
      { last: 10, after: '@49' },
      { kind: 'tail', size: 10, minStart: 50, lower: 50, upper: null, by: 'last' },
    ],
    [
      'first between after and before',
      { first: 50, after: '@9', before: '@20' },
      { kind: 'range', start: 10, size: 10, lower: 10, upper: 20, by: 'first' },
    ],
    [
      'last between after and before',
      { last: 5, after: '@9', before: '@20' },
      { kind: 'range', start: 15, size: 5, lower: 10, upper: 20, by: 'last' },
    ],
    ['before only', { before: '@50' }, { kind: 'range', start: 0, size: 20, lower: 0, upper: 50, by: 'first' }],
  ])('%s', (_name, args, expected) => {
    expect(rowRangeForArgs(args, limits, decode)).toEqual(expected);
  });

  it.each<[string, ConnectionArgs, RegExp]>([
    ['negative first', { first: -1 }, /"first" must be a non-negative integer/],
    ['negative last', { last: -5, before: '@9' }, /"last" must be a non-negative integer/],
    ['first over the maximum', { first: 101 }, /"first" must not exceed 100/],
    ['huge last', { last: 1e9 }, /"last" must not exceed 100/],
    ['fractional first', { first: 1.5 }, /"first" must be a non-negative integer/],
    ['first and last together', { first: 5, last: 5 }, /cannot be used together/],
    ['before ahead of after', { after: '@20', before: '@10' }, /"before" must point after/],
  ])('rejects %s', (_name, args, message) => {
    expect(() => rowRangeForArgs(args, limits, decode)).toThrow(BadUserInputError);
    expect(() => rowRangeForArgs(args, limits, decode)).toThrow(message);
  });
});

describe('rangeWithTotal', () => {
  it.each([
    [{ kind: 'tail', size: 10, minStart: 0 } as const, 95, { start: 85, size: 10 }],
    [{ kind: 'tail', size: 10, minStart: 0 } as const, 4, { start: 0, size: 4 }],
    [{ kind: 'tail', size: 10, minStart: 90 } as const, 95, { start: 90, size: 5 }],
    [{ kind: 'tail', size: 10, minStart: 120 } as const, 95, { start: 120, size: 0 }],
    [{ kind: 'range', start: 7, size: 3 } as const, 95, { kind: 'range', start: 7, size: 3 }],
  ])('%o with total %i', (range, total, expected) => {
    expect(rangeWithTotal(range, total)).toEqual(expected);
  });
});
