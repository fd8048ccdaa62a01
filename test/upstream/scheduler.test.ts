import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamRateLimitedError, UpstreamUnavailableError } from '../../src/errors.js';
import { parseRateLimits } from '../../src/upstream/budget.js';
import { type Permit, type SchedulerOptions, UpstreamScheduler } from '../../src/upstream/scheduler.js';
import { ManualClock, settle } from '../support/clock.js';

const OPTIONS: SchedulerOptions = {
  windows: parseRateLimits('100/60s,20/10s'),
  marginMs: 250,
  bulkShare: 0.75,
  perKey: 8,
  global: 64,
  maxQueue: 100,
  maxWaitMs: 2_000,
  keyFailures: 5,
  keyPauseMs: 15_000,
  maxKeys: 10_000,
};
const WINDOW = 10_000 + 250;
const OK = { sent: true, failed: false } as const;
const FAILED = { sent: true, failed: true } as const;

let clock: ManualClock;
let scheduler: UpstreamScheduler;
function setUp(options: Partial<SchedulerOptions> = {}) {
  clock = new ManualClock();
  scheduler = new UpstreamScheduler({ ...OPTIONS, ...options }, clock);
}
afterEach(() => scheduler?.close());

const deadline = (ms = 20_000) => clock.now() + ms;

/** Takes and at once returns `n` permits of `key` (requests that finished now). */
async function spend(key: string, n: number, priority: 'interactive' | 'bulk' = 'interactive') {
  for (let i = 0; i < n; i++) (await scheduler.acquire(key, priority, deadline())).done(OK);
}

/** Starts an acquire now and records when and in which order it settles. */
function track(key: string, priority: 'interactive' | 'bulk', log: string[], name: string, ms = 20_000) {
  const result: { permit?: Permit; error?: unknown } = {};
  let pending: Promise<Permit>;
  try {
    pending = Promise.resolve(scheduler.acquire(key, priority, deadline(ms)));
  } catch (error) {
    pending = Promise.reject(error);
  }
  pending.then(
    (permit) => {
      result.permit = permit;
      log.push(name);
    },
    (error: unknown) => {
      result.error = error;
      log.push(`${name}!`);
    },
  );
  return result;
}

describe('UpstreamScheduler: the budget of one key', () => {
  it('grants at once, without a promise, while the budget allows', () => {
    setUp();
    const permit = scheduler.acquire('a', 'interactive', deadline());
    expect(permit).not.toBeInstanceOf(Promise);
    (permit as Permit).done(OK);
  });

  it('refuses at once, with an honest retryAfter, an interactive request the budget cannot serve within maxWaitMs', async () => {
    setUp();
    await spend('a', 20);
    let error: unknown;
    try {
      scheduler.acquire('a', 'interactive', deadline());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UpstreamRateLimitedError);
    expect((error as UpstreamRateLimitedError).retryAfter).toBe(Math.ceil(WINDOW / 1000));
    expect(scheduler.snapshot().refused).toBe(1);
  });

  it('lets bulk work wait for its budget within its deadline, then sends it', async () => {
    setUp();
    await spend('a', 15, 'bulk');
    const log: string[] = [];
    const pending = track('a', 'bulk', log, 'page16');
    await clock.advance(WINDOW - 1);
    expect(log).toEqual([]);
    await clock.advance(1);
    expect(log).toEqual(['page16']);
    expect(pending.permit!.waitedMs).toBe(WINDOW);
  });

  it('keeps a quarter of each window for interactive reads while bulk work waits', async () => {
    setUp();
    await spend('a', 15, 'bulk');
    const log: string[] = [];
    track('a', 'bulk', log, 'bulk');
    await settle();
    const interactive = scheduler.acquire('a', 'interactive', deadline());
    expect(interactive).not.toBeInstanceOf(Promise);
    expect(log).toEqual([]);
  });

  it('serves interactive reads before bulk work that waited longer', async () => {
    setUp();
    await spend('a', 20);
    const log: string[] = [];
    track('a', 'bulk', log, 'bulk-1');
    track('a', 'bulk', log, 'bulk-2');
    await settle();
    await clock.advance(WINDOW - 1_500);
    track('a', 'interactive', log, 'click');
    await clock.advance(1_500);
    expect(log).toEqual(['click', 'bulk-1', 'bulk-2']);
  });

  it('refuses at once bulk work whose turn would come after its deadline, and counts it', async () => {
    setUp({ perKey: 40 });
    const log: string[] = [];
    const pages = Array.from({ length: 40 }, (_, i) => track('a', 'bulk', log, `p${i}`, 15_000));
    await settle();
    // 15 now (75% of 20), 15 after one window (10.25 s, within the 15 s deadline), 10 refused at once.
    expect(pages.filter((p) => p.permit)).toHaveLength(15);
    expect(pages.filter((p) => p.error instanceof UpstreamRateLimitedError)).toHaveLength(10);
    expect(scheduler.snapshot()).toMatchObject({ queued: 15, refused: 10 });
    for (const page of pages) page.permit?.done(OK);
    await clock.advance(WINDOW);
    expect(pages.filter((p) => p.permit)).toHaveLength(30);
    expect(log.filter((name) => !name.endsWith('!')).slice(15)).toEqual(
      Array.from({ length: 15 }, (_, i) => `p${15 + i}`),
    );
  });

  it('refuses beyond maxQueue', async () => {
    setUp({ maxQueue: 3, perKey: 1 });
    const first = scheduler.acquire('a', 'interactive', deadline()) as Permit;
    const waiting = [1, 2, 3].map(() => scheduler.acquire('a', 'interactive', deadline()));
    expect(() => scheduler.acquire('a', 'interactive', deadline())).toThrow(UpstreamRateLimitedError);
    first.done(OK);
    await settle();
    for (const permit of waiting) (await permit).done(OK);
  });

  it('holds a waiting request no longer than maxWaitMs when others jumped ahead', async () => {
    setUp({ perKey: 1 });
    const held = scheduler.acquire('a', 'interactive', deadline()) as Permit;
    const log: string[] = [];
    const waiting = track('a', 'interactive', log, 'waits');
    await clock.advance(2_000);
    expect(log).toEqual(['waits!']);
    expect(waiting.error).toBeInstanceOf(UpstreamRateLimitedError);
    held.done(OK);
  });

  it('lets a caller that goes away leave the queue', async () => {
    setUp({ perKey: 1 });
    const held = scheduler.acquire('a', 'interactive', deadline()) as Permit;
    const controller = new AbortController();
    const waiting = scheduler.acquire('a', 'interactive', deadline(), controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(scheduler.snapshot().queued).toBe(0);
    held.done(OK);
  });

  it('tightens from what the upstream said: Retry-After holds every request of the key', async () => {
    setUp();
    const permit = scheduler.acquire('a', 'interactive', deadline()) as Permit;
    permit.done({
      sent: true,
      failed: false,
      said: { limit: null, remaining: null, resetAtMs: null, retryAfterMs: 30_000 },
    });
    expect(() => scheduler.acquire('a', 'interactive', deadline())).toThrow(UpstreamRateLimitedError);
    expect(scheduler.acquire('b', 'interactive', deadline())).not.toBeInstanceOf(Promise);
  });
});

describe('UpstreamScheduler: keys never wait for each other', () => {
  it("one key's spent budget leaves another key untouched", async () => {
    setUp();
    await spend('a', 20);
    expect(() => scheduler.acquire('a', 'interactive', deadline())).toThrow(UpstreamRateLimitedError);
    expect(scheduler.acquire('b', 'interactive', deadline())).not.toBeInstanceOf(Promise);
  });

  it('holds at most perKey requests of one key in flight', async () => {
    setUp({ perKey: 2 });
    const held = [scheduler.acquire('a', 'interactive', deadline()), scheduler.acquire('a', 'interactive', deadline())];
    const log: string[] = [];
    track('a', 'interactive', log, 'third');
    await settle();
    expect(log).toEqual([]);
    (held[0] as Permit).done(OK);
    await settle();
    expect(log).toEqual(['third']);
  });

  it('shares the global limit in turn among the keys waiting for it', async () => {
    setUp({ global: 2 });
    const held = [
      scheduler.acquire('x', 'interactive', deadline()),
      scheduler.acquire('y', 'interactive', deadline()),
    ] as Permit[];
    const log: string[] = [];
    const waiting = new Map(
      ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].map((name) => [name, track(name[0]!, 'interactive', log, name)]),
    );
    await settle();
    expect(log).toEqual([]);
    // Each finished request frees one global slot: the keys take turns, whoever queued more.
    for (let i = 0; i < 6; i++) {
      held.shift()!.done(OK);
      await settle();
      held.push(waiting.get(log.at(-1)!)!.permit!);
    }
    expect(log).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
  });

  it('bounds the keys it remembers', async () => {
    setUp({ maxKeys: 2 });
    await spend('a', 1);
    await spend('b', 1);
    await spend('c', 1);
    expect(scheduler.snapshot().keys).toBe(2);
  });

  it('forgets a key once none of its windows can hold its requests', async () => {
    setUp();
    await spend('a', 1);
    await clock.advance(61_000);
    expect(scheduler.limitsOf('a')).toBeNull();
  });
});

describe('UpstreamScheduler: a failing key pauses on its own', () => {
  it('pauses a key after 5 consecutive failures, sends one probe after the pause, and resumes on its success', async () => {
    setUp();
    for (let i = 0; i < 5; i++) (await scheduler.acquire('a', 'interactive', deadline())).done(FAILED);
    expect(() => scheduler.acquire('a', 'interactive', deadline())).toThrow(UpstreamUnavailableError);
    expect(scheduler.acquire('b', 'interactive', deadline())).not.toBeInstanceOf(Promise);
    await clock.advance(15_000);
    const probe = scheduler.acquire('a', 'interactive', deadline()) as Permit;
    expect(() => scheduler.acquire('a', 'interactive', deadline())).toThrow(UpstreamUnavailableError);
    probe.done(OK);
    expect(scheduler.acquire('a', 'interactive', deadline())).not.toBeInstanceOf(Promise);
  });

  it('pauses again when the probe fails', async () => {
    setUp();
    for (let i = 0; i < 5; i++) (await scheduler.acquire('a', 'interactive', deadline())).done(FAILED);
    await clock.advance(15_000);
    (scheduler.acquire('a', 'interactive', deadline()) as Permit).done(FAILED);
    expect(() => scheduler.acquire('a', 'interactive', deadline())).toThrow(UpstreamUnavailableError);
  });

  it('does not count answers that are not failures, nor attempts without a verdict', async () => {
    setUp();
    for (let i = 0; i < 4; i++) (await scheduler.acquire('a', 'interactive', deadline())).done(FAILED);
    (await scheduler.acquire('a', 'interactive', deadline())).done({ sent: true, failed: null });
    (await scheduler.acquire('a', 'interactive', deadline())).done(OK);
    for (let i = 0; i < 4; i++) (await scheduler.acquire('a', 'interactive', deadline())).done(FAILED);
    expect(scheduler.acquire('a', 'interactive', deadline())).not.toBeInstanceOf(Promise);
  });

  it('resumes every paused key when the origin recovers', async () => {
    setUp();
    for (let i = 0; i < 5; i++) (await scheduler.acquire('a', 'interactive', deadline())).done(FAILED);
    scheduler.resumeAll();
    expect(scheduler.acquire('a', 'interactive', deadline())).not.toBeInstanceOf(Promise);
  });
});
