import { describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../src/errors.js';
import { backoffMs, CircuitBreaker, ConcurrencyLimiter, keyId, RateLimitState, RetryBudget } from '../../src/upstream/resilience.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
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

describe('CircuitBreaker', () => {
  const options = { failureRatio: 0.5, minCalls: 4, windowMs: 30_000, openMs: 1_000 };

  it('stays closed below the minimum number of calls, opens at the failure ratio', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker(options, clock.now);
    for (let i = 0; i < 3; i++) breaker.record('failure', false);
    expect(breaker.state).toBe('closed');
    breaker.record('success', false);
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(UpstreamUnavailableError);
  });

  it('stays closed while failures are under the ratio', () => {
    const breaker = new CircuitBreaker(options, fakeClock().now);
    for (let i = 0; i < 20; i++) breaker.record(i % 3 === 2 ? 'failure' : 'success', false);
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one probe through after openMs; a failed probe re-opens, a good one closes', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker(options, clock.now);
    for (let i = 0; i < 4; i++) breaker.record('failure', false);
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toEqual({ probe: true });
    expect(() => breaker.admit()).toThrow(UpstreamUnavailableError);
    breaker.record('failure', true);
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.admit()).toEqual({ probe: true });
    breaker.record('success', true);
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toEqual({ probe: false });
  });

  it('an abandoned probe frees the slot', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker(options, clock.now);
    for (let i = 0; i < 4; i++) breaker.record('failure', false);
    clock.advance(1_000);
    breaker.admit();
    breaker.release(true);
    expect(breaker.admit()).toEqual({ probe: true });
  });
});

describe('RateLimitState', () => {
  it('throttles only the key that was limited, until its time is up', () => {
    const clock = fakeClock();
    const limits = new RateLimitState(clock.now);
    limits.limit('a', 60);
    expect(limits.waitMs('a')).toBe(60_000);
    expect(limits.waitMs('b')).toBe(0);
    clock.advance(59_000);
    expect(limits.waitMs('a')).toBe(1_000);
    clock.advance(1_000);
    expect(limits.waitMs('a')).toBe(0);
  });

  it('a shorter later limit does not shorten a longer one', () => {
    const limits = new RateLimitState(fakeClock().now);
    limits.limit('a', 60);
    limits.limit('a', 5);
    expect(limits.waitMs('a')).toBe(60_000);
  });
});

describe('ConcurrencyLimiter', () => {
  const options = { global: 3, perKey: 2, maxQueue: 2, queueTimeoutMs: 100 };

  it('caps one key at perKey while another key still gets through', async () => {
    const limiter = new ConcurrencyLimiter(options);
    const a1 = await limiter.acquire('a');
    const a2 = await limiter.acquire('a');
    let a3Granted = false;
    const a3 = limiter.acquire('a').then((release) => {
      a3Granted = true;
      return release;
    });
    const b1 = await limiter.acquire('b');
    expect(limiter.inFlight).toBe(3);
    await new Promise((r) => setTimeout(r, 10));
    expect(a3Granted).toBe(false);
    a1();
    (await a3)();
    a2();
    b1();
    expect(limiter.inFlight).toBe(0);
  });

  it('refuses at once when the queue is full, and after the queue timeout', async () => {
    const limiter = new ConcurrencyLimiter(options);
    await limiter.acquire('a');
    await limiter.acquire('a');
    const waiting = [limiter.acquire('a'), limiter.acquire('a')];
    await expect(limiter.acquire('a')).rejects.toBeInstanceOf(UpstreamUnavailableError);
    const started = performance.now();
    await expect(waiting[0]).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    await expect(waiting[1]).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it('a waiting request whose caller aborts leaves the queue', async () => {
    const limiter = new ConcurrencyLimiter({ ...options, queueTimeoutMs: 10_000 });
    const release = await limiter.acquire('a');
    await limiter.acquire('a');
    const controller = new AbortController();
    const waiting = limiter.acquire('a', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(UpstreamUnavailableError);
    release();
    expect(limiter.inFlight).toBe(1);
  });
});
