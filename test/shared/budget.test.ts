/**
 * The budget shared through Redis (issue 12 item 1; src/shared/budget.ts): two schedulers, standing for two
 * processes, each with its own connection to one real redis-server, on one clock moved by hand. Together they
 * keep every window of the key's budget, requests count by when they finish (while in flight, as if they
 * finished at their attempt's deadline), and what one learns (tightened limits, a 429's Retry-After, a key
 * failing) the other obeys. While Redis is down each falls back to its share of the budget; when Redis comes
 * back empty, it learns again what they sent.
 *
 * Time is injected; the only wall-clock waits are for Redis's answers and reconnections (bounded, see `until`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { UpstreamRateLimitedError, UpstreamUnavailableError } from '../../src/errors.js';
import { createLogger } from '../../src/logging.js';
import { SharedBudget } from '../../src/shared/budget.js';
import { connectSharedStore, type SharedStore } from '../../src/shared/store.js';
import { parseRateLimits, type RateLimitHeaders } from '../../src/upstream/budget.js';
import { type Permit, type SchedulerOptions, UpstreamScheduler } from '../../src/upstream/scheduler.js';
import { upstreamClientOptions } from '../../src/upstream-policy.js';
import { ManualClock } from '../support/clock.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const OPTIONS: SchedulerOptions = {
  windows: parseRateLimits('100/60s,20/10s'),
  marginMs: 250,
  bulkShare: 0.75,
  perKey: 100,
  global: 1_000,
  maxQueue: 100,
  maxWaitMs: 2_000,
  keyFailures: 5,
  keyPauseMs: 15_000,
  maxKeys: 1_000,
};
const WINDOW = 10_000 + 250;
const OK = { sent: true, failed: false } as const;
const FAILED = { sent: true, failed: true } as const;

/** Waits (bounded, on the wall clock: Redis answers over a real socket) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Process {
  store: SharedStore;
  ledger: SharedBudget;
  scheduler: UpstreamScheduler;
}

let redis: TestRedis;
let clock: ManualClock;
let processes: Process[] = [];
let key = 'key-hash';
let keys = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  for (const p of processes) {
    p.scheduler.close();
    await p.store.close();
  }
  processes = [];
});

async function start(count = 2): Promise<Process[]> {
  clock = new ManualClock();
  key = `key-hash-${++keys}`;
  for (let i = 0; i < count; i++) {
    const store = connectSharedStore(redis.url, createLogger('silent'));
    await until(() => store.available());
    const ledger = new SharedBudget(
      store,
      { windows: OPTIONS.windows, marginMs: 250, attemptTimeoutMs: 8_000, keyFailures: 5, keyPauseMs: 15_000 },
      clock,
    );
    processes.push({ store, ledger, scheduler: new UpstreamScheduler(OPTIONS, clock, ledger) });
  }
  return processes;
}

const deadline = () => clock.now() + 20_000;

/** One acquire: the permit, or the error it was refused with. */
async function take(
  p: Process,
  priority: 'interactive' | 'bulk' = 'interactive',
  until = deadline(),
): Promise<Permit | Error> {
  try {
    return await p.scheduler.acquire(key, priority, until);
  } catch (error) {
    return error as Error;
  }
}

/** Takes `n` permits in turn from the processes, returning each at once (requests that ended now). */
async function spend(n: number, from: Process[], priority: 'interactive' | 'bulk' = 'interactive') {
  const refusals: Error[] = [];
  let granted = 0;
  for (let i = 0; i < n; i++) {
    // Bulk work may wait until its deadline: 2 s here, so that what cannot go is refused at once.
    const result = await take(from[i % from.length]!, priority, clock.now() + 2_000);
    if (result instanceof Error) refusals.push(result);
    else {
      result.done(OK);
      granted++;
    }
  }
  return { granted, refusals };
}

const said = (over: Partial<RateLimitHeaders>): RateLimitHeaders => ({
  limit: null,
  remaining: null,
  resetAtMs: null,
  retryAfterMs: null,
  ...over,
});

/** Entries of the key's shared log that ended (scored) at or before now. */
const ended = (p: Process) => p.store.redis.zcount(p.store.key('budget', key, 'log'), '-inf', String(clock.now()));

describe('one budget for two processes', () => {
  it('never grants more than a window allows between them, and tells the refused an honest retryAfter', async () => {
    const [a, b] = await start();
    const first = await spend(30, [a!, b!]);
    expect(first.granted).toBe(20);
    expect(first.refusals).toHaveLength(10);
    for (const refusal of first.refusals) {
      expect(refusal).toBeInstanceOf(UpstreamRateLimitedError);
      expect((refusal as UpstreamRateLimitedError).retryAfter).toBe(Math.ceil(WINDOW / 1000));
    }
    // Four more 10 s windows fill the minute's 100; the fifth waits for the minute's first requests to leave it.
    for (let round = 1; round < 5; round++) {
      await clock.advance(WINDOW);
      expect((await spend(24, [a!, b!])).granted).toBe(20);
    }
    await clock.advance(WINDOW);
    const full = await spend(4, [b!, a!]);
    expect(full.granted).toBe(0);
    expect((full.refusals[0] as UpstreamRateLimitedError).retryAfter).toBe(Math.ceil((60_250 - 5 * WINDOW) / 1000));
    await clock.advance(60_250 - 5 * WINDOW);
    expect((await spend(24, [a!, b!])).granted).toBe(20);
  });

  it('counts a request when it ends, one on its way as if it ended at its deadline (a process that died)', async () => {
    const [a, b] = await start();
    const held: Permit[] = [];
    for (let i = 0; i < 20; i++) held.push((await take(a!)) as Permit);
    expect(await take(b!)).toBeInstanceOf(UpstreamRateLimitedError);
    // They end 3 s later: the window is counted from then.
    await clock.advance(3_000);
    for (const permit of held) permit.done(OK);
    await until(async () => (await ended(b!)) === 20);
    await clock.advance(WINDOW - 2_001);
    expect(await take(b!)).toBeInstanceOf(UpstreamRateLimitedError);
    // 1 ms before the window ends, a request waits for it, then goes.
    await clock.advance(2_000);
    const waiting = take(b!);
    // biome-ignore lint/complexity/useLiteralKeys: a private field, read on purpose to see the lane stop asking
    await until(() => b!.scheduler.snapshot().queued === 1 && !b!.scheduler['lanes'].get(key)!.asking);
    await clock.advance(1);
    expect(await waiting).not.toBeInstanceOf(Error);

    // A process that dies with 19 requests on their way: they count until their attempt's deadline (8 s) + a window.
    await clock.advance(60_250);
    const started = clock.now();
    for (let i = 0; i < 19; i++) expect(await take(a!)).not.toBeInstanceOf(Error);
    a!.scheduler.close();
    expect(await take(b!)).not.toBeInstanceOf(Error);
    await clock.advance(8_000 + WINDOW - 2_001 - (clock.now() - started));
    expect(await take(b!)).toBeInstanceOf(UpstreamRateLimitedError);
    await clock.advance(2_001);
    expect(await take(b!)).not.toBeInstanceOf(Error);
  });

  it('lets the bulk work of both processes use only 75% of each window', async () => {
    const [a, b] = await start();
    expect((await spend(20, [a!, b!], 'bulk')).granted).toBe(15);
    expect((await spend(10, [b!, a!], 'interactive')).granted).toBe(5);
  });

  it('applies what the upstream told one process in the other: a smaller limit, requests made elsewhere', async () => {
    const [a, b] = await start();
    const permit = (await take(a!)) as Permit;
    permit.done({ ...OK, said: said({ limit: 10, remaining: 9 }) });
    await until(async () => (await ended(a!)) === 1);
    expect((await spend(20, [b!])).granted).toBe(9);
    expect(b!.scheduler.limitsOf(key)).toEqual([
      { limit: 10, windowMs: 10_000 },
      { limit: 100, windowMs: 60_000 },
    ]);

    // Another key: the upstream says 5 remain of 20 after our first request, so 14 were made by someone else.
    key = `${key}-other`;
    ((await take(a!)) as Permit).done({ ...OK, said: said({ limit: 20, remaining: 5 }) });
    await until(async () => (await ended(a!)) === 15);
    expect((await spend(20, [b!, a!])).granted).toBe(5);
  });

  it("holds the key in every process after a 429's Retry-After", async () => {
    const [a, b] = await start();
    ((await take(a!)) as Permit).done({ sent: true, failed: false, said: said({ retryAfterMs: 30_000 }) });
    await until(async () => (await ended(a!)) === 1);
    const refused = await take(b!);
    expect(refused).toBeInstanceOf(UpstreamRateLimitedError);
    expect((refused as UpstreamRateLimitedError).retryAfter).toBe(30);
    await clock.advance(30_000);
    expect(await take(b!)).not.toBeInstanceOf(Error);
  });

  it('pauses a key in every process after 5 failures in a row; then one probe, in one process, decides', async () => {
    const [a, b] = await start();
    for (let i = 0; i < 5; i++) ((await take(i % 2 === 0 ? a! : b!)) as Permit).done(FAILED);
    await until(async () => (await ended(a!)) === 5);
    const paused = await take(b!);
    expect(paused).toBeInstanceOf(UpstreamUnavailableError);
    expect((paused as UpstreamUnavailableError).details).toMatchObject({ retryAfter: 15 });
    expect(await take(a!)).toBeInstanceOf(UpstreamUnavailableError);
    await clock.advance(15_000);
    const probe = (await take(b!)) as Permit;
    expect(probe).not.toBeInstanceOf(Error);
    // While B's probe is out, A waits for its verdict.
    const waiting = await take(a!);
    expect(waiting).toBeInstanceOf(UpstreamUnavailableError);
    expect((waiting as UpstreamUnavailableError).details).toMatchObject({ retryAfter: 1 });
    probe.done(OK);
    await until(async () => !((await take(a!)) instanceof Error));
  });

  it('a failed probe pauses the key again, everywhere', async () => {
    const [a, b] = await start();
    for (let i = 0; i < 5; i++) ((await take(a!)) as Permit).done(FAILED);
    await clock.advance(15_000);
    ((await take(a!)) as Permit).done(FAILED);
    await until(async () => (await take(b!)) instanceof UpstreamUnavailableError);
    expect(((await take(b!)) as UpstreamUnavailableError).details).toMatchObject({ retryAfter: 15 });
  });
});

describe('several workers with Redis', () => {
  it('share the whole budget (no division), and fall back to their share (÷ WORKERS) before any heartbeat', async () => {
    const env = { WORKERS: '3', REDIS_URL: redis.url };
    const config = { ...loadConfig(env), upstreamBaseUrl: 'http://127.0.0.1:1/api' };
    expect(upstreamClientOptions(config).scheduler.windows).toEqual(parseRateLimits('100/60s,20/10s'));
    const store = connectSharedStore(redis.url, createLogger('silent'));
    try {
      const ledger = new SharedBudget(store, { ...OPTIONS, attemptTimeoutMs: 8_000, processes: 3 }, new ManualClock());
      expect(ledger.fallbackShare()).toBeCloseTo(1 / 3);
      ledger.close();
    } finally {
      await store.close();
    }
  });
});

describe('when Redis is unreachable', () => {
  it("falls back to each process's share, and tells a Redis that lost everything what was sent", async () => {
    const [a, b] = await start();
    // The heartbeats count the processes sharing the store.
    await clock.advance(5_000);
    await until(() => a!.ledger.sharingProcesses === 2 && b!.ledger.sharingProcesses === 2);
    await redis.stop();
    await until(() => !a!.store.available() && !b!.store.available());
    const down = await spend(30, [a!, b!]);
    // Each takes half of the 20 per 10 s on its own: 20 between them, no more.
    expect(down.granted).toBe(20);
    expect(down.refusals.every((r) => r instanceof UpstreamRateLimitedError)).toBe(true);
    await redis.start();
    await until(() => a!.store.available() && b!.store.available());
    // Back, each tells Redis (which restarted empty) what it sent meanwhile.
    await until(async () => (await ended(a!)) === 20);
    expect((await spend(6, [a!, b!])).granted).toBe(0);
    // For a minute after, a process keeps within its share too; then one may use the whole budget again.
    await clock.advance(WINDOW);
    expect((await spend(14, [a!])).granted).toBe(10);
    await clock.advance(60_250);
    expect((await spend(24, [a!])).granted).toBe(20);
    expect(a!.store.failures).toBeGreaterThan(0);
  });
});
