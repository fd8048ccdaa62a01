import { describe, expect, it } from 'vitest';
import {
  KeyBudget,
  parseRateLimits,
  type RateLimitHeaders,
  readRateLimitHeaders,
  shareOf,
} from '../../src/upstream/budget.js';
import { EPOCH } from '../support/clock.js';

const DOCUMENTED = parseRateLimits('100/60s,20/10s');
const MARGIN = 250;
const T0 = EPOCH;
const SAID: RateLimitHeaders = { limit: null, remaining: null, resetAtMs: null, retryAfterMs: null };

/** A budget whose log holds requests finished at the given offsets from T0. */
function budgetWith(finishedAt: number[], windows = DOCUMENTED): KeyBudget {
  const budget = new KeyBudget(windows, MARGIN);
  for (const at of finishedAt) {
    budget.start();
    budget.finish(T0 + at, true);
  }
  return budget;
}

const times = (n: number, step = 0, from = 0) => Array.from({ length: n }, (_, i) => from + i * step);

describe('parseRateLimits', () => {
  it.each([
    [
      '100/60s,20/10s',
      [
        { limit: 20, windowMs: 10_000 },
        { limit: 100, windowMs: 60_000 },
      ],
    ],
    [' 5/1s ', [{ limit: 5, windowMs: 1_000 }]],
    ['100000/60s', [{ limit: 100_000, windowMs: 60_000 }]],
  ])('reads %j', (text, expected) => {
    expect(parseRateLimits(text)).toEqual(expected);
  });

  it.each(['', '100', '100/60', '0/60s', '100/0s', '100/60m', '1e3/60s', '100/60s,'])('refuses %j', (text) => {
    expect(() => parseRateLimits(text)).toThrow(RangeError);
  });

  it('shares a budget between processes, never below one request', () => {
    expect(shareOf(DOCUMENTED, 1 / 3)).toEqual([
      { limit: 6, windowMs: 10_000 },
      { limit: 33, windowMs: 60_000 },
    ]);
    expect(shareOf([{ limit: 2, windowMs: 1000 }], 0.1)).toEqual([{ limit: 1, windowMs: 1000 }]);
  });
});

describe('KeyBudget.nextSlot: when one more request fits', () => {
  it.each([
    ['a fresh key', [], 1, 0],
    ['19 requests in the last 10 s', times(19), 1, 0],
    ['20 requests at once: the 21st waits for the first to leave the 10 s window', times(20), 1, 10_000 + MARGIN],
    ['20 spread over 9.5 s: waits for the oldest', times(20, 500), 1, 10_000 + MARGIN],
    ['20 requests finished 11 s ago', times(20, 0, -11_000), 1, 0],
    [
      '100 in the minute, none in the last 10 s: the minute window waits',
      [
        ...times(20, 0, -50_000),
        ...times(20, 0, -40_000),
        ...times(20, 0, -30_000),
        ...times(20, 0, -20_000),
        ...times(20, 0, -10_500),
      ],
      1,
      10_000 + MARGIN,
    ],
    ['bulk (75%): 15 requests fill its share of the 10 s window', times(15), 0.75, 10_000 + MARGIN],
    ['bulk: 14 requests leave room', times(14), 0.75, 0],
  ])('%s', (_name, finished, share, wait) => {
    expect(budgetWith(finished).nextSlot(T0, share) - T0).toBe(wait);
  });

  it('counts requests in flight as taking their place now', () => {
    const budget = budgetWith(times(19));
    budget.start();
    expect(budget.nextSlot(T0)).toBe(T0 + 10_000 + MARGIN);
    budget.finish(T0 + 1000, true);
    expect(budget.nextSlot(T0 + 1000)).toBe(T0 + 10_000 + MARGIN);
  });

  it('a request that never left costs nothing', () => {
    const budget = budgetWith(times(19));
    budget.start();
    budget.finish(T0, false);
    expect(budget.nextSlot(T0)).toBe(T0);
  });
});

describe('KeyBudget.estimate: when the request behind others would go', () => {
  it.each([
    ['the 1st of 60 at once goes now', 0, 0],
    ['the 20th goes now', 19, 0],
    ['the 21st after one 10 s window', 20, 10_000 + MARGIN],
    ['the 41st after two', 40, 2 * (10_000 + MARGIN)],
    ['the 101st after the minute window', 100, 60_000 + MARGIN],
  ])('%s', (_name, ahead, wait) => {
    expect(budgetWith([]).estimate(T0, ahead) - T0).toBe(wait);
  });
});

describe('KeyBudget.observe: the upstream says less than we assume', () => {
  it('Retry-After blocks the key until then', () => {
    const budget = budgetWith([]);
    budget.observe(T0, { ...SAID, retryAfterMs: 30_000 });
    expect(budget.nextSlot(T0) - T0).toBe(30_000);
  });

  it.each([
    [
      '60/min plan',
      60,
      'minute window',
      [
        { limit: 20, windowMs: 10_000 },
        { limit: 60, windowMs: 60_000 },
      ],
    ],
    [
      '10 per 10 s',
      10,
      '10 s window',
      [
        { limit: 10, windowMs: 10_000 },
        { limit: 100, windowMs: 60_000 },
      ],
    ],
    ['the documented 100', 100, 'nothing changes', DOCUMENTED],
    ['more than we assume (1000)', 1000, 'nothing changes, never loosened', DOCUMENTED],
  ])('X-RateLimit-Limit of a %s: %s (%s)', (_name, limit, _effect, expected) => {
    const budget = budgetWith([]);
    budget.observe(T0, { ...SAID, limit });
    expect(budget.limitsInForce).toEqual(expected);
  });

  it('Remaining below what our log leaves: the difference was used by someone else', () => {
    // We made 5 requests; the upstream says 10 of 20 remain: 5 more were made with this key elsewhere.
    const budget = budgetWith(times(5));
    budget.observe(T0, { ...SAID, limit: 20, remaining: 10 });
    const used = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => budget.nextSlot(T0));
    expect(used.every((at) => at === T0)).toBe(true);
    for (let i = 0; i < 10; i++) {
      budget.start();
      budget.finish(T0, true);
    }
    expect(budget.nextSlot(T0) - T0).toBe(10_000 + MARGIN);
  });

  it('Remaining at or above what our log leaves changes nothing', () => {
    const budget = budgetWith(times(5));
    budget.observe(T0, { ...SAID, limit: 20, remaining: 15 });
    for (let i = 0; i < 14; i++) {
      budget.start();
      budget.finish(T0, true);
    }
    expect(budget.nextSlot(T0)).toBe(T0);
  });

  it('Remaining 0 with a reset time waits for the reset', () => {
    const budget = budgetWith([]);
    budget.observe(T0, { ...SAID, limit: 100, remaining: 0, resetAtMs: T0 + 42_000 });
    expect(budget.nextSlot(T0) - T0).toBeGreaterThanOrEqual(42_000);
  });

  it('reads the headers an answer carries', () => {
    expect(
      readRateLimitHeaders(
        {
          'x-ratelimit-limit': '100',
          'x-ratelimit-remaining': '7',
          'x-ratelimit-reset': '1790000000',
          'retry-after': '12',
        },
        null,
        T0,
      ),
    ).toEqual({ limit: 100, remaining: 7, resetAtMs: 1_790_000_000_000, retryAfterMs: 12_000 });
    expect(readRateLimitHeaders({}, { retry_after: 60 }, T0)).toEqual({ ...SAID, retryAfterMs: 60_000 });
    expect(readRateLimitHeaders({ 'x-ratelimit-limit': 'lots' }, null, T0)).toEqual(SAID);
  });
});

describe('KeyBudget.idle', () => {
  it('is idle only when no window holds a request and nothing is in flight', () => {
    const budget = budgetWith([0]);
    expect(budget.idle(T0 + 1_000)).toBe(false);
    expect(budget.idle(T0 + 60_000 + MARGIN + 1)).toBe(true);
    budget.start();
    expect(budget.idle(T0 + 120_000)).toBe(false);
  });
});
