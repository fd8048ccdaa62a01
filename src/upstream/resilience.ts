/**
 * The parts of the upstream policy that keep state between requests and are not per key: a retry budget
 * and a circuit breaker per origin (per-key budgets, queues and pauses live in scheduler.ts). Defaults
 * follow ../shared/docs/reliability.md §2. API keys are only ever held as a hash (`keyId`), never as text.
 */
import { hash } from 'node:crypto';
import { UpstreamUnavailableError } from '../errors.js';

export type Clock = () => number;

/** A stable, non-reversible id for an API key, for per-key state and logs. */
export function keyId(token: string): string {
  return hash('sha256', token, 'base64url').slice(0, 16);
}

/** Counts in one-second buckets over a sliding window; buckets older than the window are dropped as it slides. */
class SlidingCounter {
  private readonly buckets = new Map<number, number>();
  constructor(
    private readonly windowMs: number,
    private readonly now: Clock,
  ) {}

  add(n = 1): void {
    const bucket = Math.floor(this.now() / 1000);
    const current = this.buckets.get(bucket);
    // A new second: drop what has left the window, so the map stays as small as the window.
    if (current === undefined) this.sum();
    this.buckets.set(bucket, (current ?? 0) + n);
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

  clear(): void {
    this.buckets.clear();
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
    const allowed = Math.max(
      this.options.minPerSecond * (this.options.windowMs / 1000),
      this.options.ratio * this.attempts.sum(),
    );
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
  /** …and the failures come from at least this many API keys. @default 3 */
  minKeys: number;
  /** @default 30000 */
  windowMs: number;
  /** How long it stays open before one probe may pass. @default 15000 */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Circuit breaker per upstream origin. Only 5xx, timeouts and network errors count as failures;
 * 401/403/404/422/429 are answers from a healthy upstream. It opens only when the failures come from
 * several API keys: one key's trouble (its account broken upstream, its own 500s) pauses that key alone
 * (scheduler.ts) and never every tenant. While open every call fails at once; after `openMs` exactly
 * one probe goes through, and its outcome closes or re-opens the circuit. A circuit that closes starts
 * with an empty window, so the outage's failures cannot re-open it on the next successes.
 */
export class CircuitBreaker {
  private readonly calls: SlidingCounter;
  private readonly failures: SlidingCounter;
  /** Key hash -> time of its last failure in the window. */
  private readonly failingKeys = new Map<string, number>();
  /** How many keys failed within the window, for the soak's report of per-key state. */
  get failingKeyCount(): number {
    return this.failingKeys.size;
  }
  private openedAt: number | null = null;
  private probing = false;
  constructor(
    private readonly options: BreakerOptions,
    private readonly now: Clock = Date.now,
    /** Told when the circuit closes after an outage. */
    private readonly onClose: () => void = () => {},
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
    throw new UpstreamUnavailableError(
      'The upstream API is failing; requests are paused for a few seconds (circuit open).',
    );
  }

  /** Records a call's outcome; `key` is the hash of the API key it was made with. */
  record(outcome: 'success' | 'failure', probe: boolean, key: string): void {
    if (probe) {
      this.probing = false;
      if (outcome === 'failure') {
        this.openedAt = this.now();
        return;
      }
      this.openedAt = null;
      this.calls.clear();
      this.failures.clear();
      this.failingKeys.clear();
      this.onClose();
      return;
    }
    if (this.openedAt !== null) return;
    this.calls.add();
    const now = this.now();
    if (outcome === 'failure') {
      this.failures.add();
      this.failingKeys.delete(key);
      this.failingKeys.set(key, now);
    }
    // Oldest first (re-set above): drop the keys whose last failure has left the window.
    for (const [failing, at] of this.failingKeys) {
      if (at > now - this.options.windowMs) break;
      this.failingKeys.delete(failing);
    }
    const calls = this.calls.sum();
    if (calls < this.options.minCalls || this.failures.sum() < this.options.failureRatio * calls) return;
    if (this.failingKeys.size >= this.options.minKeys) this.openedAt = now;
  }

  /** A probe that ended without an outcome (aborted by its caller) frees the slot for the next one. */
  release(probe: boolean): void {
    if (probe) this.probing = false;
  }
}

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
export function backoffMs(retry: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));
}
