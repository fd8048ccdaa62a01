/**
 * One API key's request budget at the upstream (../shared/docs/upstream-contract.md §5.3: 100 requests a minute and a
 * burst of 20 in 10 seconds per key; plans may differ, and answers carry `X-RateLimit-*` headers). Pure: time
 * comes in as arguments.
 *
 * The budget is a sliding log of when this key's requests *finished*. The upstream counts a request when
 * it arrives, which is never later than when its answer is back, so "at most N finished in any window of
 * W" implies "at most N arrived in any window of W" whatever the latency. A sliding log also keeps the
 * limits of any fixed-window or token-bucket limiter whose window starts where it likes (Laravel's
 * throttle starts a fixed window at the first hit), which a fixed-window counter on our side cannot:
 * two of its windows back to back let through 2N within W.
 */

/** `limit` requests per `windowMs`; every window of a key's list applies at once. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

/** The documented limits (../shared/docs/upstream-contract.md §5.3), the default of `UPSTREAM_RATE_LIMITS`. */
export const DOCUMENTED_RATE_LIMITS = '100/60s,20/10s';

/**
 * Parses `UPSTREAM_RATE_LIMITS`: comma-separated `<requests>/<seconds>s` windows, e.g. `100/60s,20/10s`
 * (../shared/docs/clarifications.md, "Upstream budget"). Throws a RangeError naming the part it cannot read.
 */
export function parseRateLimits(text: string): RateWindow[] {
  const parts = text.split(',').map((part) => part.trim());
  const windows = parts.map((part) => {
    const match = /^(\d{1,9})\/(\d{1,6})s$/.exec(part);
    if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
      throw new RangeError(`"${part}" is not a window like 100/60s (requests/seconds, both at least 1)`);
    }
    return { limit: Number(match[1]), windowMs: Number(match[2]) * 1000 };
  });
  return windows.sort((a, b) => a.windowMs - b.windowMs);
}

/** Each limit times `share` (at least 1): what one of several processes sharing a key may use. */
export function shareOf(windows: readonly RateWindow[], share: number): RateWindow[] {
  return windows.map(({ limit, windowMs }) => ({ limit: Math.max(1, Math.floor(limit * share)), windowMs }));
}

/** What an upstream answer said about the key's budget; null where it said nothing. */
export interface RateLimitHeaders {
  /** `X-RateLimit-Limit`: the limit of the window the upstream reports. */
  limit: number | null;
  /** `X-RateLimit-Remaining`: requests left in that window. */
  remaining: number | null;
  /** `X-RateLimit-Reset` (a Unix timestamp in seconds), in milliseconds. */
  resetAtMs: number | null;
  /** `Retry-After` (seconds or an HTTP date), else the body's `retry_after`, in milliseconds from now. */
  retryAfterMs: number | null;
}

type Headers = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function count(value: string | string[] | undefined): number | null {
  const text = first(value)?.trim();
  return text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : null;
}

/**
 * Seconds to wait from a 429 (../shared/docs/upstream-contract.md §5.3: honour `Retry-After` first, then the body's
 * `retry_after`); null when neither says.
 */
export function parseRetryAfter(header: string | string[] | undefined, body: unknown, now: number): number | null {
  const value = first(header);
  if (value !== undefined) {
    if (/^\s*\d+\s*$/.test(value)) return Number(value);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  const fromBody = (body as { retry_after?: unknown } | null)?.retry_after;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0) return Math.ceil(fromBody);
  if (typeof fromBody === 'string' && /^\d+$/.test(fromBody)) return Number(fromBody);
  return null;
}

export function readRateLimitHeaders(headers: Headers, body: unknown, now: number): RateLimitHeaders {
  const reset = count(headers['x-ratelimit-reset']);
  const retryAfter = parseRetryAfter(headers['retry-after'], body, now);
  return {
    limit: count(headers['x-ratelimit-limit']),
    remaining: count(headers['x-ratelimit-remaining']),
    resetAtMs: reset === null ? null : reset * 1000,
    retryAfterMs: retryAfter === null ? null : retryAfter * 1000,
  };
}

/** A key's budget as a log shared by several processes holds it (src/shared/budget.ts). */
export interface BudgetState {
  /** Finish times of the requests in the longest window, every process's. */
  stamps: readonly number[];
  /** Requests on their way, every process's. */
  inFlight: number;
  /** The limits in force, in the order of the windows (tightened from the upstream's headers). */
  limits: readonly number[];
  /** Nothing may go before this (a 429's `Retry-After`, a spent window's reset). */
  blockedUntil: number;
}

/** Budget-wise "never": the caller compares it with a deadline. */
const NEVER = Number.POSITIVE_INFINITY;

/**
 * A key's budget: the log of its finished requests, the ones in flight, the limits in force (the
 * configured ones, tightened when the upstream says less) and a time before which nothing may go (after a
 * 429, or when the upstream said its window is spent).
 */
export class KeyBudget {
  /** Finish times, ascending (the clock only moves forward); `head` skips those out of every window. */
  private stamps: number[] = [];
  private head = 0;
  private readonly limits: number[];
  private readonly longestMs: number;
  inFlight = 0;
  blockedUntil = 0;

  constructor(
    private readonly windows: readonly RateWindow[],
    /** Added to every window: the upstream's clock may run a little differently from ours. */
    private readonly marginMs: number,
  ) {
    this.limits = windows.map((w) => w.limit);
    this.longestMs = Math.max(0, ...windows.map((w) => w.windowMs)) + marginMs;
  }

  /**
   * A budget rebuilt from the state of a log shared by several processes (src/shared/budget.ts) as it was at
   * `at`, for estimates only: when a queued request would go, and what `retryAfter` to tell a refused one.
   * Requests then on their way are taken to have ended at `at` (they cannot have ended earlier): the view
   * never makes a request look later than it is, however old it grows.
   */
  static fromState(windows: readonly RateWindow[], marginMs: number, state: BudgetState, at: number): KeyBudget {
    const budget = new KeyBudget(windows, marginMs);
    const stamps = [...state.stamps];
    for (let i = 0; i < state.inFlight; i++) stamps.push(at);
    budget.stamps = stamps.sort((a, b) => a - b);
    state.limits.forEach((limit, i) => {
      if (i < budget.limits.length && limit >= 1 && limit < budget.limits[i]!) budget.limits[i] = limit;
    });
    budget.blockedUntil = state.blockedUntil;
    return budget;
  }

  /** The limits in force now, for logs and debugging. */
  get limitsInForce(): RateWindow[] {
    return this.windows.map((w, i) => ({ limit: this.limits[i]!, windowMs: w.windowMs }));
  }

  /** Earliest time, not before `now`, at which one more request fits, each limit scaled by `share`. */
  nextSlot(now: number, share = 1): number {
    this.prune(now);
    return this.slot(this.stamps, this.head, this.inFlight, now, share);
  }

  /**
   * When a request would go if `ahead` others went before it, each as early as the budget allows: an
   * estimate (requests in flight are taken to finish now), used to refuse at once what cannot make its
   * deadline and to say honestly when to retry.
   */
  estimate(now: number, ahead: number, share = 1): number {
    if (ahead === 0) return this.nextSlot(now, share);
    this.prune(now);
    const stamps = this.stamps.slice(this.head);
    for (let i = 0; i < this.inFlight; i++) stamps.push(now);
    let at = now;
    for (let k = 0; k <= ahead; k++) {
      at = this.slot(stamps, 0, 0, at, share);
      if (at === NEVER) return NEVER;
      stamps.push(at);
    }
    return at;
  }

  start(): void {
    this.inFlight++;
  }

  /** A request ended; `sent` false when it never left (it then cost nothing). */
  finish(now: number, sent: boolean): void {
    this.inFlight--;
    if (sent) this.stamps.push(now);
  }

  /**
   * Tightens the budget from what the upstream said: a smaller `X-RateLimit-Limit` replaces the window
   * limit it matches; a `Remaining` below what our log leaves means someone else uses the key (a
   * dashboard, another gateway), so the difference is logged as requests made now; a spent window waits
   * for `X-RateLimit-Reset`; a 429's `Retry-After` blocks the key until then.
   */
  observe(now: number, said: RateLimitHeaders): void {
    if (said.retryAfterMs !== null) this.blockedUntil = Math.max(this.blockedUntil, now + said.retryAfterMs);
    if (said.limit === null) return;
    const index = this.windowFor(said.limit);
    if (index === -1) return;
    if (said.limit < this.limits[index]!) this.limits[index] = said.limit;
    if (said.remaining === null) return;
    if (said.remaining === 0 && said.resetAtMs !== null)
      this.blockedUntil = Math.max(this.blockedUntil, said.resetAtMs);
    this.prune(now);
    const span = this.windows[index]!.windowMs + this.marginMs;
    const used = this.inFlight + this.stamps.length - this.firstAfter(this.stamps, this.head, now - span);
    const unseen = Math.min(this.limits[index]!, this.limits[index]! - used - said.remaining);
    for (let i = 0; i < unseen; i++) this.stamps.push(now);
  }

  /** Nothing in flight and nothing in any window: the key's state can be forgotten. */
  idle(now: number): boolean {
    this.prune(now);
    return this.inFlight === 0 && this.head === this.stamps.length && this.blockedUntil <= now;
  }

  /**
   * The window a reported limit belongs to (the header does not say which): the one with that limit,
   * else the one with the smallest limit above it (a plan with less than the documented 100/min reports
   * e.g. 60); -1 when the upstream allows more than we assume, which we never take as licence.
   */
  private windowFor(limit: number): number {
    let best = -1;
    for (let i = 0; i < this.limits.length; i++) {
      if (this.limits[i] === limit) return i;
      if (this.limits[i]! > limit && (best === -1 || this.limits[i]! < this.limits[best]!)) best = i;
    }
    return best;
  }

  private slot(stamps: readonly number[], head: number, inFlight: number, now: number, share: number): number {
    let at = Math.max(now, this.blockedUntil);
    for (let i = 0; i < this.windows.length; i++) {
      const capacity = Math.max(1, Math.floor(this.limits[i]! * share));
      const span = this.windows[i]!.windowMs + this.marginMs;
      const from = this.firstAfter(stamps, head, at - span);
      const inWindow = stamps.length - from;
      // How many logged requests must leave the window before one more fits. Moving `at` later only
      // empties windows, so a window that fits stays fitting: one pass over the windows suffices.
      const excess = inFlight + inWindow - capacity + 1;
      if (excess <= 0) continue;
      // Requests in flight alone fill the window: they leave it `span` after they finish.
      if (excess > inWindow) return Math.max(at, now + span);
      at = Math.max(at, stamps[from + excess - 1]! + span);
    }
    return at;
  }

  /** Index of the first stamp after `time` (binary search over the ascending log). */
  private firstAfter(stamps: readonly number[], head: number, time: number): number {
    let low = head;
    let high = stamps.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (stamps[middle]! <= time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private prune(now: number): void {
    this.head = this.firstAfter(this.stamps, this.head, now - this.longestMs);
    if (this.head > 32 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
  }
}
