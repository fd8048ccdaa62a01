import { GraphQLError, type GraphQLScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';

const dateTime = schema.getType('DateTime') as GraphQLScalarType;

/**
 * DateTime hands JSON.stringify the string, not the `Date` (src/schema/builder.ts: objects with `toJSON`
 * take it off its fast path). `toBe` compares a string with a string: a `Date` would fail these rows.
 */
describe('DateTime serialises to the ISO string', () => {
  it.each([
    ['a Date', new Date(Date.UTC(2025, 7, 1, 13, 34, 28, 525)), '2025-08-01T13:34:28.525Z'],
    ['a date-time with an offset', '2025-08-01T15:34:28.525+02:00', '2025-08-01T13:34:28.525Z'],
    ['epoch milliseconds', 0, '1970-01-01T00:00:00.000Z'],
    ['a year after 9999, as toJSON writes it', new Date(Date.UTC(10_000, 0, 1)), '+010000-01-01T00:00:00.000Z'],
  ])('%s', (_name, value, expected) => {
    expect(dateTime.serialize(value)).toBe(expected);
  });

  it.each([
    ['an invalid Date', new Date(Number.NaN)],
    ['NaN milliseconds', Number.NaN],
    ['text that is not a date-time', 'yesterday'],
    ['a boolean', true],
  ])('refuses %s with a GraphQL error', (_name, value) => {
    expect(() => dateTime.serialize(value)).toThrow(GraphQLError);
  });
});
