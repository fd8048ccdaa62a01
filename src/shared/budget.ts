/**
 * Every API key's upstream budget, 429 back-off and failure pause, shared by all replicas and workers through
 * Redis (issue "Live calls and many replicas", item 1). The semantics are those of src/upstream/budget.ts
 * and scheduler.ts, for the whole deployment instead of one process: at most N requests of a key in any
 * window of W, counted by when they finish, whichever process sends them.
 *
 * Per key hash `k` (never a token), all written with a TTL:
 * - `calls-gw:budget:<k>:log`, a sorted set: one member per request (a random ticket), scored by when it
 *   finished; while it is on its way, by its attempt's deadline (the latest it can be counted). A Lua script
 *   checks every window with the 250 ms margin and the bulk share and adds the request, atomically, for as
 *   many requests as the asking queue holds and fit (one round trip for a burst); another moves the score to
 *   the finish time, or removes a request that never left. Each answer carries the key's log, from which the
 *   scheduler estimates when its waiting requests would go (their `retryAfter`).
 * - `…:limits` (a hash: window → a smaller limit the upstream reported), `…:block` (no request before this:
 *   a 429's `Retry-After`, a spent window's `X-RateLimit-Reset`), and phantom members for requests someone
 *   else made (`X-RateLimit-Remaining` below what the log leaves): the tightening of budget.ts, shared.
 * - `…:fails`, `…:pause`, `…:probe`: five failures in a row pause the key in every process for
 *   the breaker's open time (15 s, upstream-policy.ts); then one probe, in one process, decides.
 * - `calls-gw:processes`: the processes sharing the store (a heartbeat every 5 s), whose number says what share
 *   of each limit one of them takes on its own while Redis is unreachable.
 *
 * Fails open: each command goes through `SharedStore.attempt`; when Redis does not answer, the scheduler's
 * local budget decides, with this process's share of every limit (the budget ÷ the processes last seen, or
 * ÷ `WORKERS` before any was seen), so that the deployment still stays within the key's budget as long as
 * the processes do not change meanwhile. When Redis comes back, each process tells it again its own recent
 * requests of every key (idempotent: the same tickets), so a Redis that restarted empty learns them, and
 * for one longest window a request must fit this process's share as well as the shared log, since the
 * other processes' requests of the outage may not all be back in it yet.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { RateWindow } from '../upstream/budget.js';
import type { AttemptOutcome, LedgerSeed, Reservation, SharedKeyState, SharedLedger } from '../upstream/scheduler.js';
import type { SharedStore } from './store.js';

export interface SharedBudgetOptions {
  /** The key's limits (`UPSTREAM_RATE_LIMITS`), whole: the store holds every process's requests. */
  windows: readonly RateWindow[];
  /** Added to each window. @default 250 */
  marginMs: number;
  /** Longest an attempt may take: a request on its way is counted as if it finished then. */
  attemptTimeoutMs: number;
  /** Consecutive failures that pause a key, and for how long. */
  keyFailures: number;
  keyPauseMs: number;
  /** Processes assumed to share the budget until the first heartbeat is read (`WORKERS`). @default 1 */
  processes?: number;
}

/** Most log entries a reply carries; a longer log (a huge `UPSTREAM_RATE_LIMITS`) gives no view. */
const MAX_VIEW = 512;
const HEARTBEAT_MS = 5_000;

/**
 * The script: one entry point so that one `EVALSHA` serves every operation. Time comes from the caller (the
 * gateway's clock, so tests can move it); replicas need clocks in sync within the margin (NTP).
 */
const SCRIPT = `
local log, limitsKey, blockKey, pauseKey, failsKey, probeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local margin = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local function fmt(x) return string.format('%.0f', x) end
local function number(key) return tonumber(redis.call('GET', key) or '0') or 0 end
local stored = redis.call('HGETALL', limitsKey)
local tightened = {}
for i = 1, #stored, 2 do tightened[tonumber(stored[i])] = tonumber(stored[i + 1]) end
local limits, spans, longest = {}, {}, 0
for i = 1, n do
  limits[i] = tonumber(ARGV[4 + 2 * i])
  spans[i] = tonumber(ARGV[5 + 2 * i]) + margin
  if tightened[i] and tightened[i] < limits[i] then limits[i] = tightened[i] end
  if spans[i] > longest then longest = spans[i] end
end
local arg = 6 + 2 * n
redis.call('ZREMRANGEBYSCORE', log, '-inf', fmt(now - longest))

local function block(untilAt)
  if untilAt > now and untilAt > number(blockKey) then
    redis.call('SET', blockKey, fmt(untilAt), 'PX', fmt(math.ceil(untilAt - now)))
  end
end

-- Earliest time, not before now, at which one more request fits every window at share of its limit
-- (KeyBudget.slot; requests on their way are stamps at their deadline).
local function slot(share)
  local at = math.max(now, number(blockKey))
  for i = 1, n do
    local capacity = math.max(1, math.floor(limits[i] * share))
    local from = '(' .. fmt(at - spans[i])
    local excess = redis.call('ZCOUNT', log, from, '+inf') - capacity + 1
    if excess > 0 then
      local entry = redis.call('ZRANGEBYSCORE', log, from, '+inf', 'WITHSCORES', 'LIMIT', excess - 1, 1)
      at = math.max(at, tonumber(entry[2]) + spans[i])
    end
  end
  return at
end

-- The window a reported limit belongs to (KeyBudget.windowFor); 0 when we assume less than it says.
local function windowFor(limit)
  local best = 0
  for i = 1, n do
    if limits[i] == limit then return i end
    if limits[i] > limit and (best == 0 or limits[i] < limits[best]) then best = i end
  end
  return best
end

-- granted, retryAt, paused, probe, pausedUntil, blockedUntil, inFlight, complete, n, limits..., stamps...
local function reply(granted, retryAt, paused, probe, pausedUntil)
  local from = '(' .. fmt(now - longest)
  local entries = redis.call('ZRANGEBYSCORE', log, from, '+inf', 'WITHSCORES', 'LIMIT', 0, ${MAX_VIEW + 1})
  local flying, stamps = 0, {}
  for j = 2, #entries, 2 do
    local score = tonumber(entries[j])
    if score > now then flying = flying + 1 else stamps[#stamps + 1] = score end
  end
  local complete = (#entries <= ${2 * MAX_VIEW}) and 1 or 0
  local out = { granted, retryAt, paused, probe, pausedUntil, number(blockKey), flying, complete, n }
  for i = 1, n do out[#out + 1] = limits[i] end
  for j = 1, #stamps do out[#out + 1] = stamps[j] end
  return out
end

if op == 'reserve' then
  -- Up to count requests named ticket/1, ticket/2, ... as long as each fits.
  local share, ticket, phantom, probeTtl = tonumber(ARGV[arg]), ARGV[arg + 1], tonumber(ARGV[arg + 2]), ARGV[arg + 3]
  local count = tonumber(ARGV[arg + 4])
  local pausedUntil = number(pauseKey)
  local probe = 0
  if pausedUntil > 0 then
    if now < pausedUntil then return reply(0, pausedUntil, 1, 0, pausedUntil) end
    -- The pause is over: one probe in the whole deployment; the others wait a second for its verdict.
    if not redis.call('SET', probeKey, ticket .. '/1', 'NX', 'PX', probeTtl) then
      return reply(0, now + 1000, 1, 0, pausedUntil)
    end
    probe = 1
    count = 1
  end
  local granted, at = 0, now
  while granted < count do
    at = slot(share)
    if at > now then break end
    granted = granted + 1
    redis.call('ZADD', log, phantom, ticket .. '/' .. granted)
  end
  if granted == 0 then
    if probe == 1 then redis.call('DEL', probeKey) end
    return reply(0, at, 0, 0, 0)
  end
  redis.call('PEXPIRE', log, keep)
  if #stored > 0 then redis.call('PEXPIRE', limitsKey, keep) end
  return reply(granted, at, 0, probe, 0)
elseif op == 'finish' then
  local ticket, sent, failed, probe = ARGV[arg], ARGV[arg + 1] == '1', tonumber(ARGV[arg + 2]), ARGV[arg + 3] == '1'
  local keyFailures, pauseMs = tonumber(ARGV[arg + 4]), tonumber(ARGV[arg + 5])
  local retryAfter, limit = tonumber(ARGV[arg + 6]), tonumber(ARGV[arg + 7])
  local remaining, resetAt = tonumber(ARGV[arg + 8]), tonumber(ARGV[arg + 9])
  if sent then redis.call('ZADD', log, now, ticket) else redis.call('ZREM', log, ticket) end
  if probe and redis.call('GET', probeKey) == ticket then redis.call('DEL', probeKey) end
  if sent and failed == 0 then
    redis.call('DEL', failsKey, pauseKey)
  elseif sent and failed == 1 then
    local fails = redis.call('INCR', failsKey)
    redis.call('PEXPIRE', failsKey, keep)
    if probe or fails >= keyFailures then redis.call('SET', pauseKey, fmt(now + pauseMs), 'PX', fmt(pauseMs + keep)) end
  end
  if retryAfter >= 0 then block(now + retryAfter) end
  if limit >= 0 then
    local index = windowFor(limit)
    if index > 0 then
      if limit < limits[index] then
        limits[index] = limit
        redis.call('HSET', limitsKey, index, limit)
        redis.call('PEXPIRE', limitsKey, keep)
      end
      if remaining >= 0 then
        if remaining == 0 and resetAt >= 0 then block(resetAt) end
        local used = redis.call('ZCOUNT', log, '(' .. fmt(now - spans[index]), '+inf')
        local unseen = math.min(limits[index], limits[index] - used - remaining)
        for u = 1, unseen do redis.call('ZADD', log, now, ticket .. ':' .. u) end
      end
    end
  end
  redis.call('PEXPIRE', log, keep)
  return reply(0, now, 0, 0, number(pauseKey))
elseif op == 'seed' then
  -- A process's own recent requests, told again after a reconnection: the same tickets, so nothing counts twice.
  local seeds = tonumber(ARGV[arg + 1])
  for j = 0, seeds - 1 do
    local at = tonumber(ARGV[arg + 3 + 2 * j])
    if at > now - longest then redis.call('ZADD', log, at, ARGV[arg + 2 + 2 * j]) end
  end
  if seeds > 0 then redis.call('PEXPIRE', log, keep) end
  block(tonumber(ARGV[arg]))
  return 1
elseif op == 'release' then
  redis.call('ZREM', log, ARGV[arg])
  if ARGV[arg + 1] == '1' and redis.call('GET', probeKey) == ARGV[arg] then redis.call('DEL', probeKey) end
  return 1
elseif op == 'resume' then
  redis.call('DEL', pauseKey, failsKey, probeKey)
  return 1
end
return redis.error_reply('unknown operation')
`;

type BudgetCommand = (...args: (string | number)[]) => Promise<(number | string)[] | number>;

const COMMAND = 'callsGatewayBudget';

/** The shared budget of every key, over one `SharedStore`. */
export class SharedBudget implements SharedLedger {
  /** This process's name in the store: random, so tickets never say anything about a key or a token. */
  private readonly tag = randomBytes(6).toString('base64url');
  private sequence = 0;
  private processes: number;
  private heartbeat: unknown = null;
  private closed = false;
  private readonly keepMs: number;
  private readonly longestMs: number;
  private readonly windowArgs: number[];
  /** The connection was lost since it was last ready, and when a recovery after that ends. */
  private lost = false;
  private recoveringUntil = 0;
  private readonly reconnected: (() => void)[] = [];
  private readonly onReady = () => {
    if (this.lost) {
      this.recoveringUntil = this.clock.now() + this.longestMs;
      for (const listener of this.reconnected) listener();
    }
    this.lost = false;
    void this.beat();
  };
  private readonly onLost = () => {
    this.lost = true;
  };

  constructor(
    private readonly store: SharedStore,
    private readonly options: SharedBudgetOptions,
    private readonly clock: Clock,
  ) {
    this.processes = Math.max(1, options.processes ?? 1);
    this.longestMs = Math.max(...options.windows.map((w) => w.windowMs)) + options.marginMs;
    // A key's entries outlive its longest window and any request on its way; pauses add their own length.
    this.keepMs = Math.max(60_000, this.longestMs + options.attemptTimeoutMs);
    this.windowArgs = options.windows.flatMap((w) => [w.limit, w.windowMs]);
    store.redis.defineCommand(COMMAND, { numberOfKeys: 6, lua: SCRIPT });
    store.redis.on('ready', this.onReady);
    store.redis.on('close', this.onLost);
    if (store.available()) void this.beat();
    this.schedule();
  }

  available(): boolean {
    return !this.closed && this.store.available();
  }

  onReconnect(listener: () => void): void {
    this.reconnected.push(listener);
  }

  /** 1 ÷ the processes that shared the store at the last heartbeat (÷ `WORKERS` before the first). */
  fallbackShare(): number {
    return 1 / this.processes;
  }

  recovering(now: number): boolean {
    return now < this.recoveringUntil;
  }

  /** Processes sharing the store, as last counted. */
  get sharingProcesses(): number {
    return this.processes;
  }

  ticket(): string {
    return `${this.tag}.${(++this.sequence).toString(36)}`;
  }

  async reserve(request: {
    key: string;
    count: number;
    share: number;
    now: number;
    deadlineAt: number;
  }): Promise<Reservation | null> {
    const now = Math.round(request.now);
    // Counted as if it finished at its attempt's deadline until it says when it did.
    const phantom = Math.ceil(Math.max(now + 1, Math.min(now + this.options.attemptTimeoutMs, request.deadlineAt)));
    const ticket = this.ticket();
    const args = [request.share, ticket, phantom, Math.max(1, phantom - now), Math.max(1, request.count)];
    const answer = await this.run('budget.reserve', 'reserve', request.key, now, args);
    if (answer === null || !Array.isArray(answer)) return null;
    return {
      tickets: Array.from({ length: Number(answer[0]) }, (_, i) => `${ticket}/${i + 1}`),
      retryAt: Number(answer[1]),
      paused: Number(answer[2]) === 1,
      probe: Number(answer[3]) === 1,
      state: this.state(answer),
    };
  }

  seed(key: string, now: number, seed: LedgerSeed): void {
    const requests = seed.requests.filter((r) => r.at > now - this.longestMs);
    const pairs = requests.flatMap((r) => [r.ticket, Math.round(r.at)]);
    const args = [Math.ceil(seed.blockedUntil), requests.length, ...pairs];
    void this.run('budget.seed', 'seed', key, Math.round(now), args);
  }

  release(key: string, ticket: string, probe: boolean): void {
    void this.run('budget.release', 'release', key, Math.round(this.clock.now()), [ticket, probe ? 1 : 0]);
  }

  async finish(
    key: string,
    ticket: string,
    at: number,
    outcome: AttemptOutcome,
    probe: boolean,
  ): Promise<SharedKeyState | null> {
    const said = outcome.said;
    const optional = (value: number | null | undefined) =>
      value === null || value === undefined ? -1 : Math.ceil(value);
    const answer = await this.run('budget.finish', 'finish', key, Math.round(at), [
      ticket,
      outcome.sent ? 1 : 0,
      outcome.failed === null ? -1 : outcome.failed ? 1 : 0,
      probe ? 1 : 0,
      this.options.keyFailures,
      this.options.keyPauseMs,
      optional(said?.retryAfterMs),
      optional(said?.limit),
      optional(said?.remaining),
      optional(said?.resetAtMs),
    ]);
    return answer === null || !Array.isArray(answer) ? null : this.state(answer);
  }

  resume(keys: readonly string[]): void {
    const now = Math.round(this.clock.now());
    for (const key of keys) void this.run('budget.resume', 'resume', key, now, []);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.heartbeat);
    this.store.redis.off('ready', this.onReady);
    this.store.redis.off('close', this.onLost);
    // Leave the count at once, so that the others' share while Redis is away grows back without waiting.
    if (this.store.available()) this.store.redis.zrem(this.store.key('processes'), this.tag).catch(() => {});
  }

  /** The key names of one API key's budget (its hash only). */
  private keys(key: string): string[] {
    return ['log', 'limits', 'block', 'pause', 'fails', 'probe'].map((part) => this.store.key('budget', key, part));
  }

  private run(what: string, op: string, key: string, now: number, args: (string | number)[]) {
    if (this.closed) return Promise.resolve(null);
    return this.store.attempt(
      what,
      (redis: Redis) =>
        (redis as unknown as Record<string, BudgetCommand>)[COMMAND]!(
          ...this.keys(key),
          op,
          now,
          this.options.marginMs,
          this.keepMs,
          this.options.windows.length,
          ...this.windowArgs,
          ...args,
        ),
      () => null,
    );
  }

  private state(answer: (number | string)[]): SharedKeyState | null {
    if (Number(answer[7]) !== 1) return null;
    const n = Number(answer[8]);
    return {
      pausedUntil: Number(answer[4]),
      blockedUntil: Number(answer[5]),
      inFlight: Number(answer[6]),
      limits: answer.slice(9, 9 + n).map(Number),
      stamps: answer.slice(9 + n).map(Number),
    };
  }

  /** Counts the processes sharing the store: each notes itself every 5 s; those silent for 15 s are gone. */
  private async beat(): Promise<void> {
    if (this.closed || !this.store.available()) return;
    const key = this.store.key('processes');
    const now = Math.round(this.clock.now());
    const counted = await this.store.attempt(
      'budget.heartbeat',
      async (redis) => {
        const results = await redis
          .multi()
          .zadd(key, now, this.tag)
          .zremrangebyscore(key, '-inf', now - 3 * HEARTBEAT_MS)
          .zcard(key)
          .pexpire(key, 12 * HEARTBEAT_MS)
          .exec();
        return Number(results?.[2]?.[1] ?? 0);
      },
      () => 0,
    );
    if (counted > 0) this.processes = counted;
  }

  private schedule(): void {
    if (this.closed) return;
    this.heartbeat = this.clock.setTimeout(() => {
      void this.beat();
      this.schedule();
    }, HEARTBEAT_MS);
    (this.heartbeat as { unref?: () => void } | null)?.unref?.();
  }
}
