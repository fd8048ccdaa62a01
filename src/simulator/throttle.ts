/**
 * The upstream's rate limits for the simulator (../shared/docs/upstream-contract.md §5.3: 100 requests a minute and a
 * burst of 20 in 10 seconds per API key), modelled on Laravel's ThrottleRequests middleware with a named limiter that
 * returns several `Limit`s. Each limit is a fixed window per key: it opens at the first hit after the previous window
 * ended (Laravel's counter with a TTL of the decay time) and closes `seconds` later. A request is checked against every
 * limit before any is hit; when one is exhausted it is refused with a 429 and counts against none of them, otherwise
 * it is counted on all of them. (Laravel's own loop checks and hits limit by limit, so there a request refused by a
 * later limit has already counted on the earlier ones; the simulator deliberately counts refused requests nowhere.)
 *
 * The simulator must not depend on the gateway, so this module has its own parser and a minimal clock type.
 */

/** One window: at most `requests` requests per key in a fixed window of `seconds` seconds. */
export interface RateLimit {
  requests: number;
  seconds: number;
}

/** The documented upstream limits (../shared/docs/upstream-contract.md §5.3), in the `parseRateLimits` syntax. */
export const DEFAULT_RATE_LIMITS = '100/60s,20/10s';

/** Milliseconds since the Unix epoch; `Date` itself fits. */
export interface ThrottleClock {
  now(): number;
}

/** What the limiter decided for one request, with the headers the answer carries (lower-case names). */
export type ThrottleDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; retryAfterSeconds: number; headers: Record<string, string> };

const LIMIT_PATTERN = /^(\d+)\/(\d+)s$/;

/**
 * Parses `<requests>/<seconds>s` windows separated by commas, e.g. `100/60s,20/10s` (spaces around the parts are
 * ignored). `false` and `'off'` (any case) mean no limits and give an empty list. Anything else that does not parse,
 * or a zero count, throws an Error naming the bad part.
 */
export function parseRateLimits(spec: string | false): RateLimit[] {
  if (spec === false || spec.trim().toLowerCase() === 'off') return [];
  if (spec.trim() === '') throw new Error('Invalid rate limits "": expected e.g. "100/60s,20/10s" or "off"');
  return spec.split(',').map((raw) => {
    const part = raw.trim();
    const match = LIMIT_PATTERN.exec(part);
    const requests = Number(match?.[1]);
    const seconds = Number(match?.[2]);
    if (!match || !Number.isSafeInteger(requests) || !Number.isSafeInteger(seconds)) {
      throw new Error(`Invalid rate limit "${part}" in "${spec}": expected <requests>/<seconds>s, e.g. 100/60s`);
    }
    if (requests < 1 || seconds < 1) {
      throw new Error(`Invalid rate limit "${part}" in "${spec}": requests and seconds must be at least 1`);
    }
    return { requests, seconds };
  });
}

interface Window {
  /** Requests counted in this window. */
  count: number;
  /** When the window ends, in clock milliseconds; from then on it counts as absent. */
  end: number;
}

/**
 * Fixed-window rate limiter keyed by API token. Memory stays bounded: a key's windows are dropped once they have
 * all ended (checked for that key on each of its requests, and for every key at most once per longest window).
 */
export class RateLimiter {
  private readonly windows = new Map<string, (Window | undefined)[]>();
  private readonly longestMs: number;
  private nextSweep: number;

  /** @param limits all apply at once to every key; an empty list allows everything without headers. */
  constructor(
    readonly limits: readonly RateLimit[],
    private readonly clock: ThrottleClock = Date,
  ) {
    this.longestMs = Math.max(0, ...limits.map((limit) => limit.seconds * 1000));
    this.nextSweep = clock.now() + this.longestMs;
  }

  /** Keys that currently hold at least one window (for tests of the memory bound). */
  get trackedKeys(): number {
    return this.windows.size;
  }

  /**
   * Checks every limit for `key`; refuses the request without counting it when any is exhausted, and otherwise
   * counts it on every limit.
   *
   * Headers: a 429 reports the exhausted window that ends last (the request cannot pass before it resets; on a tie
   * the one listed first), with `Retry-After` (whole seconds until it ends, rounded up, at least 1) and
   * `X-RateLimit-Reset` (its end as a Unix timestamp in seconds, rounded up), so a client honouring either never
   * comes back early. An allowed request reports the limit with the fewest requests remaining after it (on a tie
   * the one listed first), since that is the one the client will run into next; Laravel itself sends the headers of
   * the last limit listed, which can overstate what is left.
   */
  attempt(key: string): ThrottleDecision {
    if (this.limits.length === 0) return { allowed: true, headers: {} };
    const now = this.clock.now();
    this.sweep(now);
    const stored = this.windows.get(key) ?? [];
    const current = this.limits.map((_, index) => {
      const window = stored[index];
      return window !== undefined && window.end > now ? window : undefined;
    });

    let blocking: number | undefined;
    for (const [index, limit] of this.limits.entries()) {
      const window = current[index];
      if (window === undefined || window.count < limit.requests) continue;
      if (blocking === undefined || window.end > current[blocking]!.end) blocking = index;
    }
    if (blocking !== undefined) {
      if (current.every((window) => window === undefined)) this.windows.delete(key);
      else this.windows.set(key, current);
      const end = current[blocking]!.end;
      const retryAfterSeconds = Math.max(1, Math.ceil((end - now) / 1000));
      return {
        allowed: false,
        retryAfterSeconds,
        headers: {
          'retry-after': String(retryAfterSeconds),
          'x-ratelimit-reset': String(Math.ceil(end / 1000)),
          'x-ratelimit-limit': String(this.limits[blocking]!.requests),
          'x-ratelimit-remaining': '0',
        },
      };
    }

    const counted = this.limits.map((limit, index): Window => {
      const window = current[index];
      return window === undefined
        ? { count: 1, end: now + limit.seconds * 1000 }
        : { count: window.count + 1, end: window.end };
    });
    this.windows.set(key, counted);
    const remaining = this.limits.map((limit, index) => limit.requests - counted[index]!.count);
    // The first index holding the smallest remaining count: fewest left, ties to the limit listed first.
    const shown = remaining.indexOf(Math.min(...remaining));
    return {
      allowed: true,
      headers: {
        'x-ratelimit-limit': String(this.limits[shown]!.requests),
        'x-ratelimit-remaining': String(remaining[shown]!),
      },
    };
  }

  /** Drops every key whose windows have all ended, at most once per longest window. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.longestMs;
    for (const [key, windows] of this.windows) {
      if (windows.every((window) => window === undefined || window.end <= now)) this.windows.delete(key);
    }
  }
}
