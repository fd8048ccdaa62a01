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
 * With a shared ledger (src/shared/budget.ts, `REDIS_URL`), the budget, the 429 back-off and the failure
 * pause of a key are those of every process sharing it (issue 12, item 1), while queues, priorities and
 * concurrency stay here: the head of a key's queue asks the ledger for as many requests of its priority as
 * the concurrency limits allow (one question at a time per key), and the ledger's answer says how many may
 * go and when to ask again, together with the key's shared state, from which the estimates and `retryAfter`
 * of the waiting requests are computed. While the ledger cannot be reached, the local budget decides, with
 * this process's share of each limit (fail open).
 *
 * The mechanics are written here rather than taken from rate-limiter-flexible: its limiters count fixed
 * windows that start at our first request, while the upstream's start at its own first hit, so they
 * either let 2N through within one window or must run at half the budget; they also keep no priorities
 * and cannot say when a queued request will go. lru-cache bounds the key map.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { UpstreamRateLimitedError, UpstreamUnavailableError } from '../errors.js';
import { type BudgetState, KeyBudget, type RateLimitHeaders, type RateWindow } from './budget.js';

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
  /** The call's deadline, and the latest moment this request may start (refused after it). */
  deadlineAt: number;
  limitAt: number;
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
  /** Shared mode: a question to the ledger is on its way (one at a time per key). */
  asking = false;
  /**
   * Shared mode: the ledger said to ask again no earlier than this, by priority (a refusal at the bulk share
   * says nothing of an interactive request); a request of ours ending clears it.
   */
  readonly notBefore: [number, number] = [0, 0];
  /** Shared mode: the key's budget as the ledger last told it, for estimates; null before the first answer. */
  view: KeyBudget | null = null;
  /** Shared mode: requests of other processes were on their way at the ledger's last answer. */
  othersInFlight = false;
  /** Shared mode: the key is paused in every process until then. */
  sharedPausedUntil = 0;
  /** This process's requests of the key that ended, newest last, within the longest window: told on reconnection. */
  readonly recent: { ticket: string; at: number }[] = [];
  constructor(
    readonly key: string,
    readonly budget: KeyBudget,
  ) {}

  get queued(): number {
    return this.queues[0].length + this.queues[1].length;
  }
}

/** What the ledger answered when asked for requests of a key. */
export interface Reservation {
  /** The names of the requests it took, in order (fewer than asked, or none, when the budget ran out). */
  tickets: string[];
  /** When to ask again for the rest: when the budget allows one more, or the pause ends. */
  retryAt: number;
  /** The key is paused after failing (or its probe is out): nothing was taken. */
  paused: boolean;
  /** The first ticket is the probe that decides whether a paused key resumes. */
  probe: boolean;
  /** The key's shared state after the answer; null when the ledger could not say (a log too long to send). */
  state: SharedKeyState | null;
}

/** A key's budget and pause as a shared ledger holds them. */
export interface SharedKeyState extends BudgetState {
  /** The key pauses after failing until then; 0 when it does not. */
  pausedUntil: number;
}

/** This process's own recent requests of a key, told to the ledger after it reconnects (it may have lost them). */
export interface LedgerSeed {
  requests: readonly { ticket: string; at: number }[];
  blockedUntil: number;
}

/**
 * A budget kept outside the process, shared by every process that uses it (src/shared/budget.ts): the key's
 * sliding log, limits tightened from the upstream's headers, the 429 back-off and the failure pause. Every
 * method fails open: a promise of null means the store could not answer and the local budget decides.
 */
export interface SharedLedger {
  /** Whether the store answers now. */
  available(): boolean;
  /** Calls `listener` each time the store comes back after it was lost (it may have lost what it held). */
  onReconnect(listener: () => void): void;
  /** The share of each limit this process takes on its own while the store is unreachable. */
  fallbackShare(): number;
  /**
   * For one longest window after the store came back from an outage, what each process sent on its own
   * meanwhile may not all be in it yet: a request must then fit this process's share of the local budget too.
   */
  recovering(now: number): boolean;
  /** A unique name for one request (never derived from a token). */
  ticket(): string;
  /**
   * Takes up to `count` requests of `key`'s budget at `share` of each limit, as many as fit now, and says
   * when to ask again for the rest.
   */
  reserve(request: {
    key: string;
    count: number;
    share: number;
    now: number;
    deadlineAt: number;
  }): Promise<Reservation | null>;
  /** Tells the store this process's own recent requests of a key again (idempotent: the same tickets). */
  seed(key: string, now: number, seed: LedgerSeed): void;
  /** A reservation that was not used after all. */
  release(key: string, ticket: string, probe: boolean): void;
  /** The request ended: its stamp moves to when it ended, and what the upstream said applies to every process. */
  finish(
    key: string,
    ticket: string,
    now: number,
    outcome: AttemptOutcome,
    probe: boolean,
  ): Promise<SharedKeyState | null>;
  /** The origin recovered from an outage: these keys' pauses end. */
  resume(keys: readonly string[]): void;
  close(): void;
}

/** How soon to ask the ledger again while requests of other processes hold the key's windows. */
const SHARED_POLL_MS = 200;

/** Own requests of a key remembered for telling the ledger after a reconnection (the newest). */
const MAX_RECENT = 512;

/**
 * What the upstream client needs of a scheduler. `UpstreamScheduler` keeps every key's state in this
 * process; a store shared by several processes (Redis, in a later issue) implements the same interface,
 * which is why `acquire` may answer with a promise.
 */
export interface RequestScheduler {
  acquire(key: string, priority: Priority, deadlineAt: number, signal?: AbortSignal): Permit | Promise<Permit>;
  /** The origin recovered from an outage: keys paused during it may go again at once. */
  resumeAll(): void;
  snapshot(): SchedulerSnapshot;
  close(): void;
}

export interface SchedulerSnapshot {
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
  private closed = false;
  private readonly shares: [number, number];
  private readonly longestMs: number;

  constructor(
    private readonly options: SchedulerOptions,
    private readonly clock: Clock,
    /** The budget shared with other processes; null keeps every key's state in this process. */
    private readonly ledger: SharedLedger | null = null,
  ) {
    this.shares = [1, options.bulkShare];
    this.longestMs = Math.max(...options.windows.map((w) => w.windowMs)) + options.marginMs;
    ledger?.onReconnect(() => this.reseed());
    this.lanes = new LRUCache<string, Lane>({
      max: options.maxKeys,
      // Kept while any window may still hold one of the key's requests; a request in flight keeps
      // touching its lane, so one minute is also longer than any request lives.
      ttl: Math.max(this.longestMs, 60_000),
      updateAgeOnGet: true,
      ttlResolution: 0,
      perf: { now: () => clock.now() },
    });
  }

  snapshot(): SchedulerSnapshot {
    return { keys: this.lanes.size, queued: this.queued, inFlight: this.inFlight, refused: this.refused };
  }

  /** The limits a key's budget holds now (tightened from the upstream's headers), for debugging. */
  limitsOf(key: string): RateWindow[] | null {
    const lane = this.lanes.peek(key);
    return (this.sharedNow() && lane?.view ? lane.view : lane?.budget)?.limitsInForce ?? null;
  }

  /** The ledger when it answers now; null without one, or while it cannot be reached (the local budget decides). */
  private sharedNow(): SharedLedger | null {
    return this.ledger?.available() ? this.ledger : null;
  }

  /** Share of each limit the local budget allows: all of it, or this process's part while the ledger is away. */
  private localShare(rank: 0 | 1): number {
    return this.shares[rank] * (this.ledger ? this.ledger.fallbackShare() : 1);
  }

  /**
   * When a request with `ahead` others before it would go: from the shared view (and this process's share
   * while the ledger recovers from an outage), or the local budget.
   */
  private estimate(lane: Lane, now: number, ahead: number, rank: 0 | 1): number {
    const shared = this.sharedNow();
    const local = () => lane.budget.estimate(now, ahead, this.localShare(rank));
    if (!shared) return local();
    const at = lane.view ? lane.view.estimate(now, ahead, this.shares[rank]) : now;
    return shared.recovering(now) ? Math.max(at, local()) : at;
  }

  /** The store came back: every key's recent requests of this process are told to it again. */
  private reseed(): void {
    const ledger = this.ledger!;
    const now = this.clock.now();
    for (const lane of this.lanes.values()) {
      const blockedUntil = lane.budget.blockedUntil > now ? lane.budget.blockedUntil : 0;
      if (lane.recent.length === 0 && blockedUntil === 0) continue;
      ledger.seed(lane.key, now, { requests: [...lane.recent], blockedUntil });
    }
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
    const shared = this.sharedNow();
    if (shared && lane.sharedPausedUntil > now) throw this.paused(lane.sharedPausedUntil, now);
    const probe = shared ? false : this.admitPaused(lane, now);
    const ahead = lane.queues[0].length + (rank === 1 ? lane.queues[1].length : 0);
    if (
      !shared &&
      ahead === 0 &&
      lane.budget.inFlight < this.options.perKey &&
      this.inFlight < this.options.global &&
      lane.budget.nextSlot(now, this.localShare(rank)) <= now
    ) {
      return this.grant(lane, probe, now, now, null);
    }
    const limitAt = rank === 0 ? Math.min(deadlineAt, now + this.options.maxWaitMs) : deadlineAt;
    const startAt = this.estimate(lane, now, ahead, rank);
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
        if (waiter.probe) lane.probing = false;
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
        this.pump(lane);
      };
      const waiter: Waiter = {
        priority: rank,
        enqueuedAt: now,
        deadlineAt,
        limitAt,
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
      timer = this.clock.setTimeout(
        () => {
          const at = this.clock.now();
          waiter.fail(this.refusal(this.estimate(lane, at, Math.max(0, queue.indexOf(waiter)), rank) - at));
          this.pump(lane);
        },
        Math.max(0, limitAt - now),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.queued++;
      this.pump(lane);
    });
  }

  /** The origin recovered from an outage: keys paused during it may go again at once. */
  resumeAll(): void {
    const keys: string[] = [];
    for (const lane of this.lanes.values()) {
      // Only keys that failed or paused here, or were seen paused: no command for every known key.
      if (lane.failures > 0 || lane.pausedUntil !== 0 || lane.sharedPausedUntil !== 0) keys.push(lane.key);
      lane.failures = 0;
      lane.pausedUntil = 0;
      lane.sharedPausedUntil = 0;
    }
    this.ledger?.resume(keys);
  }

  /** Refuses every waiting request and drops all state (shutdown). */
  close(): void {
    this.closed = true;
    for (const [key, lane] of this.lanes.entries()) {
      this.clock.clearTimeout(lane.timer);
      for (const waiter of [...lane.queues[0], ...lane.queues[1]]) {
        waiter.fail(new UpstreamUnavailableError('The gateway is shutting down.'));
      }
      this.lanes.delete(key);
    }
    this.starved.clear();
    this.ledger?.close();
  }

  /**
   * A paused key refuses requests until its pause is over; then exactly one goes as a probe, and its
   * outcome resumes or pauses the key again (a circuit breaker per key; Envoy's outlier detection ejects
   * a host after 5 consecutive 5xx, ../shared/docs/reliability.md §2).
   */
  private admitPaused(lane: Lane, now: number): boolean {
    if (lane.pausedUntil === 0) return false;
    if (now < lane.pausedUntil || lane.probing) throw this.paused(lane.pausedUntil, now);
    lane.probing = true;
    return true;
  }

  private paused(until: number, now: number): UpstreamUnavailableError {
    return new UpstreamUnavailableError(
      'The upstream API keeps failing for this API key; its requests are paused for a few seconds.',
      { details: { retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) } },
    );
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

  /** Hands out a permit; `ticket` names the request in the shared ledger (null: a new name is taken). */
  private grant(
    lane: Lane,
    probe: boolean,
    now: number,
    enqueuedAt: number,
    ticket: string | null,
    sharedProbe = false,
  ): Permit {
    lane.budget.start();
    this.inFlight++;
    const name = ticket ?? this.ledger?.ticket() ?? null;
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
        if (this.ledger && name !== null) this.tell(lane, name, at, outcome, sharedProbe);
        this.lanes.get(lane.key);
        // Keys already waiting for a global slot go first; this key then queues behind them.
        this.drainStarved();
        this.pump(lane);
      },
    };
  }

  /** Tells the ledger how a request ended; its answer refreshes the lane's view of the shared budget. */
  private tell(lane: Lane, ticket: string, at: number, outcome: AttemptOutcome, probe: boolean): void {
    const ledger = this.ledger!;
    if (outcome.sent) {
      lane.recent.push({ ticket, at });
      const oldest = at - this.longestMs;
      let drop = 0;
      const stale = (i: number) => lane.recent[i]!.at <= oldest || lane.recent.length - i > MAX_RECENT;
      while (drop < lane.recent.length && stale(drop)) drop++;
      if (drop > 0) lane.recent.splice(0, drop);
    }
    // One of our requests ended: a slot may be free before the ledger's last "ask again at".
    lane.notBefore[0] = lane.notBefore[1] = 0;
    void ledger.finish(lane.key, ticket, at, outcome, probe).then((state) => {
      if (state) this.learn(lane, state);
      if (state && !this.closed) this.pump(lane);
    });
  }

  private learn(lane: Lane, state: SharedKeyState): void {
    const now = this.clock.now();
    lane.view = KeyBudget.fromState(this.options.windows, this.options.marginMs, state, now);
    lane.othersInFlight = state.inFlight > lane.budget.inFlight;
    lane.sharedPausedUntil = state.pausedUntil;
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
   * timer for when its budget allows, or lines it up for the next free global slot. With the ledger
   * reachable, it asks the ledger for the head of the queue instead, and the answer pumps again.
   */
  private pump(lane: Lane, max = Number.POSITIVE_INFINITY, local = false): number {
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
      const shared = local ? null : this.sharedNow();
      if (shared) {
        if (lane.asking) break;
        if (now < lane.notBefore[head.priority]) {
          this.wakeAt(lane, lane.notBefore[head.priority]);
          break;
        }
        if (this.inFlight >= this.options.global) {
          this.starved.add(lane);
          break;
        }
        if (shared.recovering(now)) {
          const localAt = lane.budget.nextSlot(now, this.localShare(head.priority));
          if (localAt > now) {
            this.wakeAt(lane, localAt);
            break;
          }
        }
        this.ask(shared, lane, head, now);
        break;
      }
      const at = lane.budget.nextSlot(now, this.localShare(head.priority));
      if (at > now) {
        this.wakeAt(lane, at);
        break;
      }
      if (this.inFlight >= this.options.global) {
        this.starved.add(lane);
        break;
      }
      queue.shift();
      head.grant(this.grant(lane, head.probe, now, head.enqueuedAt, null));
      granted++;
    }
    return granted;
  }

  /**
   * Asks the ledger for the requests at the head of the lane's queue (those of the head's priority, as many
   * as the concurrency limits leave room for: one question for a burst). Each "go" is handed to whoever heads
   * the queue when the answer comes (a request of the same or a higher priority; the rest are given back); a
   * shortfall refreshes the lane's view, refuses at once the waiting requests it shows cannot make their
   * deadline, and sets the lane's timer; no answer (the store failed) lets the local budget decide.
   */
  private ask(ledger: SharedLedger, lane: Lane, head: Waiter, now: number): void {
    lane.asking = true;
    const share = this.shares[head.priority];
    const room = Math.min(this.options.perKey - lane.budget.inFlight, this.options.global - this.inFlight);
    const count = Math.max(1, Math.min(lane.queues[head.priority].length, room));
    void ledger.reserve({ key: lane.key, count, share, now, deadlineAt: head.deadlineAt }).then((answer) => {
      lane.asking = false;
      if (answer === null) {
        // The store failed to answer: the local budget decides for this turn.
        if (!this.closed) this.pump(lane, Number.POSITIVE_INFINITY, true);
        return;
      }
      if (answer.state) this.learn(lane, answer.state);
      if (this.closed) {
        answer.tickets.forEach((ticket, i) => {
          void ledger.release(lane.key, ticket, i === 0 && answer.probe);
        });
        return;
      }
      const at = this.clock.now();
      let used = 0;
      for (; used < answer.tickets.length; used++) {
        const queue = lane.queues[0].length > 0 ? lane.queues[0] : lane.queues[1];
        const next = queue[0];
        if (!next || this.shares[next.priority] < share) break;
        if (this.inFlight >= this.options.global || lane.budget.inFlight >= this.options.perKey) break;
        queue.shift();
        const probe = used === 0 && answer.probe;
        next.grant(this.grant(lane, next.probe, at, next.enqueuedAt, answer.tickets[used]!, probe));
      }
      for (let i = used; i < answer.tickets.length; i++) {
        ledger.release(lane.key, answer.tickets[i]!, i === 0 && answer.probe);
      }
      if (answer.paused) {
        for (const waiter of [...lane.queues[0], ...lane.queues[1]]) waiter.fail(this.paused(answer.retryAt, at));
        return;
      }
      if (answer.tickets.length < count) {
        // Requests of other processes on their way may end before the ledger's conservative "ask again at".
        const again = lane.othersInFlight ? Math.min(answer.retryAt, at + SHARED_POLL_MS) : answer.retryAt;
        // What does not fit at the interactive share does not fit at the smaller bulk share either.
        for (const rank of [0, 1] as const) if (this.shares[rank] <= share) lane.notBefore[rank] = again;
        this.refuseLate(lane, at);
      }
      if (used < answer.tickets.length && this.inFlight >= this.options.global) this.starved.add(lane);
      else this.pump(lane);
    });
  }

  /** Refuses at once the waiting requests that the lane's fresh view shows cannot start before their limit. */
  private refuseLate(lane: Lane, now: number): void {
    for (const rank of [0, 1] as const) {
      const queue = lane.queues[rank];
      for (let i = 0; i < queue.length; ) {
        const waiter = queue[i]!;
        const ahead = (rank === 1 ? lane.queues[0].length : 0) + i;
        const startAt = this.estimate(lane, now, ahead, rank);
        if (startAt > waiter.limitAt) waiter.fail(this.refusal(startAt - now));
        else i++;
      }
    }
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
