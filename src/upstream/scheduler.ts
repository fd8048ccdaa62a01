/**
 * One scheduler per API key (issue "Live within the upstream's budget"): every upstream attempt of a key
 * asks its key's lane for a permit before it is sent. A lane holds the key's budget (budget.ts), a
 * bounded queue with two priorities, and a pause after repeated failures of that key alone. Keys never
 * wait for each other: a lane waits only for its own budget, and the global concurrency limit is handed
 * out round-robin among the keys that are ready.
 *
 * - Interactive reads (`calls`, `call`, `node`, `_entities`) go before bulk work (`callStats` pages, drift
 *   searches), and bulk work may use only `bulkShare` of each limit, which keeps room for a person who
 *   clicks while a report is being read.
 * - A request that cannot be sent within its deadline (interactive ones wait at most `maxWaitMs`) is
 *   refused at once with UPSTREAM_RATE_LIMITED and a `retryAfter` computed from the budget, without
 *   touching the upstream.
 * - Keys are held by hash only, in an LRU bounded to `maxKeys`; a key's state is kept for as long as any
 *   of its windows can still hold one of its requests.
 *
 * The mechanics are written here rather than taken from rate-limiter-flexible: its limiters count fixed
 * windows that start at our first request, while the upstream's start at its own first hit, so they
 * either let 2N through within one window or must run at half the budget; they also keep no priorities
 * and cannot say when a queued request will go. lru-cache bounds the key map.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { UpstreamRateLimitedError, UpstreamUnavailableError } from '../errors.js';
import { KeyBudget, type RateLimitHeaders, type RateWindow } from './budget.js';

export type Priority = 'interactive' | 'bulk';

export interface SchedulerOptions {
  /** The key's limits (`UPSTREAM_RATE_LIMITS`). */
  windows: readonly RateWindow[];
  /** Added to each window for clock differences with the upstream. @default 250 */
  marginMs: number;
  /** Share of each limit bulk work may use; the rest stays for interactive reads. @default 0.75 */
  bulkShare: number;
  /** Upstream requests in flight at once for one key (`UPSTREAM_CONCURRENCY_PER_KEY`). @default 8 */
  perKey: number;
  /** Upstream requests in flight at once for all keys (`UPSTREAM_CONCURRENCY`). @default 64 */
  global: number;
  /** Requests that may wait per key; more are refused at once. @default 100 */
  maxQueue: number;
  /** Longest an interactive request waits for its budget or a slot (`UPSTREAM_QUEUE_TIMEOUT_MS`). @default 2000 */
  maxWaitMs: number;
  /** Consecutive upstream failures (5xx, timeouts, network) of one key that pause it. @default 5 */
  keyFailures: number;
  /** How long a failing key pauses before one probe may go. @default 15000 */
  keyPauseMs: number;
  /** Keys whose state is kept; the least recently used is dropped first. @default 10000 */
  maxKeys: number;
}

/** How an attempt that held a permit went. */
export interface AttemptOutcome {
  /** False when nothing reached the network (refused by the origin breaker first): it used no budget. */
  sent: boolean;
  /** An upstream failure (5xx, timeout, network error); null when there is no verdict (the caller left). */
  failed: boolean | null;
  /** What the answer said about the budget. */
  said?: RateLimitHeaders;
}

/** Leave to send one upstream request now. */
export interface Permit {
  /** Milliseconds spent waiting in the key's queue. */
  readonly waitedMs: number;
  /** Report how the attempt went; frees the slot. Later calls do nothing. */
  done(outcome: AttemptOutcome): void;
}

interface Waiter {
  priority: 0 | 1;
  enqueuedAt: number;
  probe: boolean;
  grant(permit: Permit): void;
  fail(error: Error): void;
}

/** One key's state. */
class Lane {
  readonly queues: [Waiter[], Waiter[]] = [[], []];
  timer: unknown = null;
  timerAt = Number.POSITIVE_INFINITY;
  failures = 0;
  pausedUntil = 0;
  probing = false;
  constructor(
    readonly key: string,
    readonly budget: KeyBudget,
  ) {}

  get queued(): number {
    return this.queues[0].length + this.queues[1].length;
  }
}

/**
 * What the upstream client needs of a scheduler. `UpstreamScheduler` keeps every key's state in this
 * process; a store shared by several processes (Redis, in a later issue) implements the same interface,
 * which is why `acquire` may answer with a promise.
 */
export interface RequestScheduler {
  acquire(key: string, priority: Priority, deadlineAt: number, signal?: AbortSignal): Permit | Promise<Permit>;
  /** The origin recovered from an outage: keys paused during it may go again at once. */
  resumeAll(): void;
  stats(): SchedulerStats;
  close(): void;
}

export interface SchedulerStats {
  /** Keys with state. */
  keys: number;
  /** Requests waiting in some key's queue. */
  queued: number;
  /** Permits held (requests on their way upstream). */
  inFlight: number;
  /** Requests refused because their key's budget could not serve them in time (monotonic). */
  refused: number;
}

export class UpstreamScheduler implements RequestScheduler {
  private readonly lanes: LRUCache<string, Lane>;
  /** Lanes with a request ready to go but no global slot, in arrival order (round-robin). */
  private readonly starved = new Set<Lane>();
  private inFlight = 0;
  private queued = 0;
  private refused = 0;
  private readonly shares: [number, number];

  constructor(
    private readonly options: SchedulerOptions,
    private readonly clock: Clock,
  ) {
    this.shares = [1, options.bulkShare];
    const longest = Math.max(...options.windows.map((w) => w.windowMs)) + options.marginMs;
    this.lanes = new LRUCache<string, Lane>({
      max: options.maxKeys,
      // Kept while any window may still hold one of the key's requests; a request in flight keeps
      // touching its lane, so one minute is also longer than any request lives.
      ttl: Math.max(longest, 60_000),
      updateAgeOnGet: true,
      ttlResolution: 0,
      perf: { now: () => clock.now() },
    });
  }

  stats(): SchedulerStats {
    return { keys: this.lanes.size, queued: this.queued, inFlight: this.inFlight, refused: this.refused };
  }

  /** The limits a key's budget holds now (tightened from the upstream's headers), for debugging. */
  limitsOf(key: string): RateWindow[] | null {
    return this.lanes.peek(key)?.budget.limitsInForce ?? null;
  }

  /**
   * A permit to send one request for `key` now, or after waiting in the key's queue. Throws (or
   * rejects with) UPSTREAM_RATE_LIMITED when the budget cannot serve it before `deadlineAt` (interactive:
   * before `maxWaitMs` either), UPSTREAM_UNAVAILABLE while the key is paused after failing, and the
   * signal's reason when the caller goes away while waiting.
   */
  acquire(key: string, priority: Priority, deadlineAt: number, signal?: AbortSignal): Permit | Promise<Permit> {
    const now = this.clock.now();
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new Lane(key, new KeyBudget(this.options.windows, this.options.marginMs));
      this.lanes.set(key, lane);
    }
    const rank: 0 | 1 = priority === 'interactive' ? 0 : 1;
    const probe = this.admitPaused(lane, now);
    const share = this.shares[rank];
    const ahead = lane.queues[0].length + (rank === 1 ? lane.queues[1].length : 0);
    if (
      ahead === 0 &&
      lane.budget.inFlight < this.options.perKey &&
      this.inFlight < this.options.global &&
      lane.budget.nextSlot(now, share) <= now
    ) {
      return this.grant(lane, probe, now, now);
    }
    const limitAt = rank === 0 ? Math.min(deadlineAt, now + this.options.maxWaitMs) : deadlineAt;
    const startAt = lane.budget.estimate(now, ahead, share);
    if (startAt > limitAt || lane.queued >= this.options.maxQueue) {
      if (probe) lane.probing = false;
      throw this.refusal(startAt - now);
    }
    if (signal?.aborted) {
      if (probe) lane.probing = false;
      throw signal.reason;
    }
    return new Promise<Permit>((resolve, reject) => {
      const queue = lane.queues[rank];
      let timer: unknown = null;
      const leave = () => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        this.queued--;
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (probe) lane.probing = false;
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
        this.pump(lane);
      };
      const waiter: Waiter = {
        priority: rank,
        enqueuedAt: now,
        probe,
        grant: (permit) => {
          this.queued--;
          this.clock.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(permit);
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      timer = this.clock.setTimeout(() => {
        const at = this.clock.now();
        waiter.fail(this.refusal(lane.budget.estimate(at, Math.max(0, queue.indexOf(waiter)), share) - at));
        this.pump(lane);
      }, Math.max(0, limitAt - now));
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.queued++;
      this.pump(lane);
    });
  }

  /** The origin recovered from an outage: keys paused during it may go again at once. */
  resumeAll(): void {
    for (const lane of this.lanes.values()) {
      lane.failures = 0;
      lane.pausedUntil = 0;
    }
  }

  /** Refuses every waiting request and drops all state (shutdown). */
  close(): void {
    for (const [key, lane] of this.lanes.entries()) {
      this.clock.clearTimeout(lane.timer);
      for (const waiter of [...lane.queues[0], ...lane.queues[1]]) {
        waiter.fail(new UpstreamUnavailableError('The gateway is shutting down.'));
      }
      this.lanes.delete(key);
    }
    this.starved.clear();
  }

  /**
   * A paused key refuses requests until its pause is over; then exactly one goes as a probe, and its
   * outcome resumes or pauses the key again (a circuit breaker per key; Envoy's outlier detection ejects
   * a host after 5 consecutive 5xx, reliability.md §2).
   */
  private admitPaused(lane: Lane, now: number): boolean {
    if (lane.pausedUntil === 0) return false;
    if (now < lane.pausedUntil || lane.probing) {
      throw new UpstreamUnavailableError(
        'The upstream API keeps failing for this API key; its requests are paused for a few seconds.',
        { details: { retryAfter: Math.max(1, Math.ceil((lane.pausedUntil - now) / 1000)) } },
      );
    }
    lane.probing = true;
    return true;
  }

  private refusal(waitMs: number): UpstreamRateLimitedError {
    this.refused++;
    const retryAfter = Number.isFinite(waitMs) ? Math.max(1, Math.ceil(waitMs / 1000)) : null;
    return new UpstreamRateLimitedError(retryAfter, {
      message:
        "This API key's upstream request budget cannot serve the request in time; " +
        (retryAfter === null ? 'retry later.' : `retry in ${retryAfter} s.`),
    });
  }

  private grant(lane: Lane, probe: boolean, now: number, enqueuedAt: number): Permit {
    lane.budget.start();
    this.inFlight++;
    let finished = false;
    return {
      waitedMs: now - enqueuedAt,
      done: (outcome) => {
        if (finished) return;
        finished = true;
        const at = this.clock.now();
        this.inFlight--;
        lane.budget.finish(at, outcome.sent);
        if (outcome.said) lane.budget.observe(at, outcome.said);
        this.record(lane, outcome, probe, at);
        this.lanes.get(lane.key);
        // Keys already waiting for a global slot go first; this key then queues behind them.
        this.drainStarved();
        this.pump(lane);
      },
    };
  }

  private record(lane: Lane, outcome: AttemptOutcome, probe: boolean, now: number): void {
    if (probe) lane.probing = false;
    if (outcome.failed === null || !outcome.sent) return;
    if (!outcome.failed) {
      lane.failures = 0;
      lane.pausedUntil = 0;
      return;
    }
    lane.failures++;
    if (probe || lane.failures >= this.options.keyFailures) lane.pausedUntil = now + this.options.keyPauseMs;
  }

  /**
   * Grants what the lane may send now, at most `max`, and returns how many; otherwise it sets the lane's
   * timer for when its budget allows, or lines it up for the next free global slot.
   */
  private pump(lane: Lane, max = Number.POSITIVE_INFINITY): number {
    let granted = 0;
    while (granted < max) {
      const queue = lane.queues[0].length > 0 ? lane.queues[0] : lane.queues[1];
      const head = queue[0];
      if (!head) {
        this.clock.clearTimeout(lane.timer);
        lane.timer = null;
        lane.timerAt = Number.POSITIVE_INFINITY;
        break;
      }
      if (lane.budget.inFlight >= this.options.perKey) break;
      const now = this.clock.now();
      const at = lane.budget.nextSlot(now, this.shares[head.priority]);
      if (at > now) {
        this.wakeAt(lane, at);
        break;
      }
      if (this.inFlight >= this.options.global) {
        this.starved.add(lane);
        break;
      }
      queue.shift();
      head.grant(this.grant(lane, head.probe, now, head.enqueuedAt));
      granted++;
    }
    return granted;
  }

  /** Hands free global slots to the keys waiting for one, one slot per key per turn. */
  private drainStarved(): void {
    while (this.inFlight < this.options.global && this.starved.size > 0) {
      const lane: Lane = this.starved.values().next().value!;
      this.starved.delete(lane);
      // A key that got a slot and has more ready goes to the back of the line.
      if (this.pump(lane, 1) > 0 && lane.queued > 0) this.starved.add(lane);
    }
  }

  private wakeAt(lane: Lane, at: number): void {
    if (lane.timer !== null && lane.timerAt <= at) return;
    this.clock.clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = this.clock.setTimeout(
      () => {
        lane.timer = null;
        lane.timerAt = Number.POSITIVE_INFINITY;
        this.pump(lane);
      },
      Math.max(0, at - this.clock.now()),
    );
  }
}
