/**
 * The parts of the upstream policy that keep state between requests: a retry budget and a circuit
 * breaker per origin, 429 back-off per API key, and concurrency limits per API key and overall.
 * Defaults follow reliability.md §2. API keys are only ever held as a hash (`keyId`), never as text.
 */
import { createHash } from 'node:crypto';
import { UpstreamUnavailableError } from '../errors.js';

export type Clock = () => number;

/** A stable, non-reversible id for an API key, for per-key state and logs. */
export function keyId(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}

/** Counts in one-second buckets over a sliding window. */
class SlidingCounter {
  private readonly buckets = new Map<number, number>();
  constructor(
    private readonly windowMs: number,
    private readonly now: Clock,
  ) {}

  add(n = 1): void {
    const bucket = Math.floor(this.now() / 1000);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + n);
  }

  sum(): number {
    const oldest = Math.floor((this.now() - this.windowMs) / 1000);
    let total = 0;
    for (const [bucket, n] of this.buckets) {
      if (bucket <= oldest) this.buckets.delete(bucket);
      else total += n;
    }
    return total;
  }
}

export interface RetryBudgetOptions {
  /** Retries may be at most this share of first attempts. @default 0.1 */
  ratio: number;
  /** Retries always allowed per second, whatever the ratio. @default 10 */
  minPerSecond: number;
  /** @default 10000 */
  windowMs: number;
}

/**
 * Retries capped at a share of traffic (Finagle/Envoy retry budgets, SRE book "Handling Overload"),
 * so a failing upstream sees little more than the client load instead of a multiple of it.
 */
export class RetryBudget {
  private readonly attempts: SlidingCounter;
  private readonly retries: SlidingCounter;
  constructor(
    private readonly options: RetryBudgetOptions,
    now: Clock = Date.now,
  ) {
    this.attempts = new SlidingCounter(options.windowMs, now);
    this.retries = new SlidingCounter(options.windowMs, now);
  }

  recordFirstAttempt(): void {
    this.attempts.add();
  }

  /** Takes a retry from the budget, or says there is none left. */
  tryRetry(): boolean {
    const allowed = Math.max(this.options.minPerSecond * (this.options.windowMs / 1000), this.options.ratio * this.attempts.sum());
    if (this.retries.sum() >= allowed) return false;
    this.retries.add();
    return true;
  }
}

export interface BreakerOptions {
  /** Opens when failures reach this share of calls in the window. @default 0.5 */
  failureRatio: number;
  /** …and the window holds at least this many calls. @default 20 */
  minCalls: number;
  /** @default 30000 */
  windowMs: number;
  /** How long it stays open before one probe may pass. @default 15000 */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Circuit breaker per upstream origin. Only 5xx, timeouts and network errors count as failures;
 * 401/403/404/422/429 are answers from a healthy upstream. While open every call fails at once; after
 * `openMs` exactly one probe goes through, and its outcome closes or re-opens the circuit.
 */
export class CircuitBreaker {
  private readonly calls: SlidingCounter;
  private readonly failures: SlidingCounter;
  private openedAt: number | null = null;
  private probing = false;
  constructor(
    private readonly options: BreakerOptions,
    private readonly now: Clock = Date.now,
  ) {
    this.calls = new SlidingCounter(options.windowMs, now);
    this.failures = new SlidingCounter(options.windowMs, now);
  }

  get state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Throws UPSTREAM_UNAVAILABLE when the call may not go out; returns whether it is the probe. */
  admit(): { probe: boolean } {
    const state = this.state;
    if (state === 'closed') return { probe: false };
    if (state === 'half-open' && !this.probing) {
      this.probing = true;
      return { probe: true };
    }
    throw new UpstreamUnavailableError('The upstream API is failing; requests are paused for a few seconds (circuit open).');
  }

  record(outcome: 'success' | 'failure', probe: boolean): void {
    if (probe) {
      this.probing = false;
      this.openedAt = outcome === 'success' ? null : this.now();
      return;
    }
    if (this.openedAt !== null) return;
    this.calls.add();
    if (outcome === 'failure') this.failures.add();
    const calls = this.calls.sum();
    if (calls >= this.options.minCalls && this.failures.sum() >= this.options.failureRatio * calls) this.openedAt = this.now();
  }

  /** A probe that ended without an outcome (aborted by its caller) frees the slot for the next one. */
  release(probe: boolean): void {
    if (probe) this.probing = false;
  }
}

/**
 * 429 back-off per API key: after the upstream says "retry after N s" to one key, that key's requests
 * wait or fail fast until then, and no other key is slowed (rate limits are per key, reliability.md §2).
 */
export class RateLimitState {
  private readonly until = new Map<string, number>();
  constructor(private readonly now: Clock = Date.now) {}

  /** Milliseconds this key must still wait (0 when free). */
  waitMs(key: string): number {
    const until = this.until.get(key);
    if (until === undefined) return 0;
    const wait = until - this.now();
    if (wait <= 0) this.until.delete(key);
    return Math.max(0, wait);
  }

  limit(key: string, retryAfterSeconds: number): void {
    const until = this.now() + retryAfterSeconds * 1000;
    if (until > (this.until.get(key) ?? 0)) this.until.set(key, until);
    if (this.until.size > 10_000) for (const k of this.until.keys()) this.waitMs(k);
  }
}

/** A counting semaphore with a bounded FIFO queue; waiting is bounded by time and by the caller's signal. */
class Semaphore {
  private active = 0;
  private readonly queue: { grant: () => void; fail: (error: Error) => void }[] = [];
  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
  ) {}

  get idle(): boolean {
    return this.active === 0 && this.queue.length === 0;
  }

  get inFlight(): number {
    return this.active;
  }

  acquire(timeoutMs: number, signal: AbortSignal | undefined, busy: () => Error): Promise<void> {
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) return Promise.reject(busy());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => {
          cleanup();
          this.active++;
          resolve();
        },
        fail: (error: Error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => entry.fail(busy());
      const timer = setTimeout(() => entry.fail(busy()), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.queue.indexOf(entry);
        if (index >= 0) this.queue.splice(index, 1);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  release(): void {
    this.active--;
    this.queue[0]?.grant();
  }
}

export interface ConcurrencyOptions {
  /** Upstream requests in flight at once, all keys together. @default 64 */
  global: number;
  /** Upstream requests in flight at once for one API key. @default 8 */
  perKey: number;
  /** Requests that may wait for a slot; beyond that they are refused at once. @default 100 */
  maxQueue: number;
  /** How long a request may wait for a slot. @default 2000 */
  queueTimeoutMs: number;
}

/**
 * Bulkheads: one key cannot take more than `perKey` of the upstream's capacity, nor all of ours.
 * Past the short queue a request fails fast with UPSTREAM_UNAVAILABLE instead of piling up.
 */
export class ConcurrencyLimiter {
  private readonly global: Semaphore;
  private readonly perKey = new Map<string, Semaphore>();
  constructor(private readonly options: ConcurrencyOptions) {
    this.global = new Semaphore(options.global, options.maxQueue);
  }

  get inFlight(): number {
    return this.global.inFlight;
  }

  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    const busy = () => new UpstreamUnavailableError('The gateway is at its limit of concurrent upstream requests; retry shortly.');
    let mine = this.perKey.get(key);
    if (!mine) {
      mine = new Semaphore(this.options.perKey, this.options.maxQueue);
      this.perKey.set(key, mine);
    }
    const started = Date.now();
    try {
      await mine.acquire(this.options.queueTimeoutMs, signal, busy);
    } catch (error) {
      if (mine.idle) this.perKey.delete(key);
      throw error;
    }
    try {
      await this.global.acquire(Math.max(0, this.options.queueTimeoutMs - (Date.now() - started)), signal, busy);
    } catch (error) {
      this.releaseKey(key, mine);
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.global.release();
      this.releaseKey(key, mine);
    };
  }

  private releaseKey(key: string, semaphore: Semaphore): void {
    semaphore.release();
    if (semaphore.idle) this.perKey.delete(key);
  }
}

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
export function backoffMs(retry: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));
}
