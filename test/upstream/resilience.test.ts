import { describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../src/errors.js';
import { backoffMs, CircuitBreaker, keyId, RetryBudget } from '../../src/upstream/resilience.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('keyId', () => {
  it('is stable, short and does not contain the key', () => {
    expect(keyId('secret-token')).toBe(keyId('secret-token'));
    expect(keyId('secret-token')).not.toBe(keyId('secret-token2'));
    expect(keyId('secret-token')).toHaveLength(16);
    expect(keyId('secret-token')).not.toContain('secret');
  });
});

describe('backoffMs (full jitter)', () => {
  it.each([
    [0, 0, 0],
    [0, 0.999, 249],
    [1, 0.5, 250],
    [2, 0.999, 999],
    [10, 0.999, 3_996],
  ])('retry %i with random %f -> %i ms (base 250, cap 4000)', (retry, random, expected) => {
    expect(backoffMs(retry, 250, 4_000, () => random)).toBe(expected);
  });
});

describe('RetryBudget', () => {
  it('allows the floor of 10/s over the window, then 10% of first attempts', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1, windowMs: 10_000 }, clock.now);
    // Floor: 1/s over 10 s = 10 retries, whatever the traffic.
    for (let i = 0; i < 10; i++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    // 200 first attempts raise the allowance to 20.
    for (let i = 0; i < 200; i++) budget.recordFirstAttempt();
    for (let i = 0; i < 10; i++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    // The window slides: 11 s later everything has expired.
    clock.advance(11_000);
    expect(budget.tryRetry()).toBe(true);
  });
});

describe('RetryBudget memory', () => {
  it('keeps one counter bucket per second of its window, however long the traffic lasts', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1, windowMs: 10_000 }, clock.now);
    for (let second = 0; second < 1_000; second++) {
      budget.recordFirstAttempt();
      clock.advance(1_000);
    }
    // The attempts of the last 10 s only: 10 x 0.1 = 1 below the floor of 10, so exactly 10 retries.
    const buckets = (budget as unknown as { attempts: { buckets: Map<number, number> } }).attempts.buckets;
    expect(buckets.size).toBeLessThanOrEqual(11);
  });
});

describe('CircuitBreaker', () => {
  const options = { failureRatio: 0.5, minCalls: 4, minKeys: 3, windowMs: 30_000, openMs: 1_000 };
  const KEYS = ['k1', 'k2', 'k3', 'k4'];
  /** Failures spread over the first `keys` keys, in turn. */
  const fail = (breaker: CircuitBreaker, n: number, keys = 3) => {
    for (let i = 0; i < n; i++) breaker.record('failure', false, KEYS[i % keys]!);
  };

  it('stays closed below the minimum number of calls, opens at the failure ratio', () => {
    const breaker = new CircuitBreaker(options, fakeClock().now);
    fail(breaker, 3);
    expect(breaker.state).toBe('closed');
    breaker.record('success', false, 'k4');
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(UpstreamUnavailableError);
  });

  it.each([
    [1, 'closed'],
    [2, 'closed'],
    [3, 'open'],
  ])("with failures from %i key(s) it is %s: one tenant's trouble never pauses the others", (keys, state) => {
    const breaker = new CircuitBreaker(options, fakeClock().now);
    fail(breaker, 22, keys);
    expect(breaker.state).toBe(state);
  });

  it('forgets failing keys whose failures have left the window', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker(options, clock.now);
    fail(breaker, 1, 1);
    clock.advance(31_000);
    breaker.record('failure', false, 'k2');
    breaker.record('failure', false, 'k3');
    breaker.record('failure', false, 'k2');
    breaker.record('failure', false, 'k3');
    expect(breaker.state).toBe('closed');
  });

  it('stays closed while failures are under the ratio', () => {
    const breaker = new CircuitBreaker(options, fakeClock().now);
    for (let i = 0; i < 20; i++) breaker.record(i % 3 === 2 ? 'failure' : 'success', false, KEYS[i % 4]!);
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one probe through after openMs; a failed probe re-opens, a good one closes', () => {
    const clock = fakeClock();
    let closed = 0;
    const breaker = new CircuitBreaker(options, clock.now, () => closed++);
    fail(breaker, 4);
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toEqual({ probe: true });
    expect(() => breaker.admit()).toThrow(UpstreamUnavailableError);
    breaker.record('failure', true, 'k1');
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.admit()).toEqual({ probe: true });
    breaker.record('success', true, 'k1');
    expect(breaker.state).toBe('closed');
    expect(closed).toBe(1);
    expect(breaker.admit()).toEqual({ probe: false });
  });

  it("closes with an empty window: the outage's failures cannot re-open it on the next successes", () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker(options, clock.now);
    fail(breaker, 30);
    clock.advance(1_000);
    breaker.admit();
    breaker.record('success', true, 'k1');
    for (let i = 0; i < 10; i++) breaker.record('success', false, KEYS[i % 4]!);
    expect(breaker.state).toBe('closed');
  });

  it('an abandoned probe frees the slot', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker(options, clock.now);
    fail(breaker, 4);
    clock.advance(1_000);
    breaker.admit();
    breaker.release(true);
    expect(breaker.admit()).toEqual({ probe: true });
  });
});
