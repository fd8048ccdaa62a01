/**
 * The key's poller on a clock moved by hand (issue 12, item 3): its interval never takes more than 30% of any
 * window of the key's budget (all of it with Redis, the process's share without), polls are spaced from the
 * end of the previous one, refusals and failures back off (a refusal's `retryAfter` honoured), only the lease
 * holder polls, a stopped poller gives its lease up, and a key the upstream refuses is handed to the hub.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { UnauthenticatedError, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../src/errors.js';
import { MemoryLiveStore } from '../../src/live/memory.js';
import { KeyPoller, leaseMsFor, minPollIntervalMs } from '../../src/live/poller.js';
import { createLogger } from '../../src/logging.js';
import { createGateway } from '../../src/server.js';
import { DOCUMENTED_RATE_LIMITS, parseRateLimits } from '../../src/upstream/budget.js';
import type { UpstreamClient } from '../../src/upstream/client.js';
import { ManualClock, settle } from '../support/clock.js';

const PAGE = {
  data: [
    {
      id: 1,
      type: 'inbound',
      status: 'completed',
      created_at: '2026-11-01T10:00:00Z',
      updated_at: '2026-11-01T10:01:00Z',
    },
  ],
  total: 1,
};

/** A client whose list answers come from `answer` (called with the time of each request). */
function fakeClient(clock: ManualClock, answer: (at: number) => unknown = () => PAGE) {
  const requests: { at: number; query: string; priority: string }[] = [];
  const client = {
    async listCalls(query: string, options: { priority: string }) {
      requests.push({ at: clock.now(), query, priority: options.priority });
      const result = answer(clock.now());
      if (result instanceof Error) throw result;
      return { body: result, bytes: 100 };
    },
  } as unknown as UpstreamClient;
  return { client, requests };
}

function poller(
  clock: ManualClock,
  client: UpstreamClient,
  store = new MemoryLiveStore(clock),
  extra: Partial<ConstructorParameters<typeof KeyPoller>[0]> = {},
) {
  const refused: string[] = [];
  const instance = new KeyPoller({
    key: 'key-hash',
    token: 'token',
    client,
    store,
    clock,
    logger: createLogger('silent'),
    normalize: { timeZone: 'UTC' },
    holder: 'replica-a',
    intervalMs: 2_000,
    pageSize: 100,
    lastPollAt: Number.NEGATIVE_INFINITY,
    onPolled: () => {},
    onRefused: (error) => refused.push(error.code),
    ...extra,
  });
  return { instance, refused };
}

describe('the poll interval', () => {
  it('is at least what keeps 30% of every window: one poll per 2 s under the documented 100/60 s and 20/10 s', () => {
    expect(minPollIntervalMs(parseRateLimits(DOCUMENTED_RATE_LIMITS), 0.3)).toBe(2_000);
    expect(minPollIntervalMs(parseRateLimits('60/60s,10/10s'), 0.3)).toBe(3_334);
    expect(minPollIntervalMs(parseRateLimits('1000000/60s'), 0.3)).toBe(1);
  });

  it.each([
    ['the default 5 s is within the share', {}, 5_000],
    ['500 ms is raised to the share of the whole budget', { LIVE_POLL_INTERVAL_MS: '500' }, 2_000],
    [
      "with WORKERS=2 and no Redis, to the share of the process's half",
      { LIVE_POLL_INTERVAL_MS: '500', WORKERS: '2' },
      4_000,
    ],
    [
      'with Redis, one poller has the whole budget again',
      { LIVE_POLL_INTERVAL_MS: '500', WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:1' },
      2_000,
    ],
  ])('%s', async (_name, env, expected) => {
    const gateway = createGateway(
      { ...loadConfig(env), upstreamBaseUrl: 'http://127.0.0.1:1/api' },
      { logger: createLogger('silent') },
    );
    expect(gateway.live.pollIntervalMs).toBe(expected);
    await gateway.close();
  });

  it('keeps a poller within 30% of each window over ten minutes, at bulk priority, without the cache', async () => {
    const clock = new ManualClock();
    const { client, requests } = fakeClient(clock);
    const { instance } = poller(clock, client);
    instance.start();
    await settle();
    await clock.advance(600_000);
    await instance.stop();
    expect(requests.length).toBe(301);
    expect(new Set(requests.map((r) => r.priority))).toEqual(new Set(['bulk']));
    expect(new Set(requests.map((r) => r.query))).toEqual(new Set(['page=1&per_page=100']));
    for (const { at } of requests) {
      expect(requests.filter((r) => r.at >= at && r.at < at + 10_000).length).toBeLessThanOrEqual(6);
      expect(requests.filter((r) => r.at >= at && r.at < at + 60_000).length).toBeLessThanOrEqual(30);
    }
  });
});

describe('the poller', () => {
  it('spaces polls from the end of the previous one (a poll that waited for budget delays the next)', async () => {
    const clock = new ManualClock();
    let release: (() => void) | null = null;
    const requests: number[] = [];
    const client = {
      listCalls: async () => {
        requests.push(clock.now());
        // The second poll waits 5 s in the key's queue.
        if (requests.length === 2) await new Promise<void>((resolve) => (release = resolve));
        return { body: PAGE, bytes: 1 };
      },
    } as unknown as UpstreamClient;
    const { instance } = poller(clock, client);
    instance.start();
    await settle();
    await clock.advance(2_000);
    await clock.advance(5_000);
    release!();
    await settle();
    await clock.advance(2_000);
    await instance.stop();
    const start = requests[0]!;
    expect(requests.map((at) => at - start)).toEqual([0, 2_000, 9_000]);
  });

  it('backs off after a refusal for its retryAfter, after failures doubling; a success resets', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const { client, requests } = fakeClient(clock, (at) => {
      const n = Math.round((at - start) / 1_000);
      if (n === 0) return new UpstreamRateLimitedError(30);
      if (n === 30) return new UpstreamUnavailableError('down');
      if (n === 38) return new UpstreamUnavailableError('down');
      return PAGE;
    });
    const { instance } = poller(clock, client);
    instance.start();
    await settle();
    await clock.advance(60_000);
    await instance.stop();
    // Refused at 0 (retry after 30 s); failed at 30 (×2²: 8 s) and 38 (×2³: 16 s); then every 2 s again.
    expect(requests.slice(0, 6).map((r) => (r.at - start) / 1_000)).toEqual([0, 30, 38, 54, 56, 58]);
  });

  it('polls only while it holds the lease, and gives the lease up when stopped', async () => {
    const clock = new ManualClock();
    const store = new MemoryLiveStore(clock);
    let other = true;
    const leases: string[] = [];
    store.lease = async (_key: string, holder: string) => {
      leases.push(`lease:${holder}`);
      return !other;
    };
    store.release = async (_key: string, holder: string) => void leases.push(`release:${holder}`);
    const { client, requests } = fakeClient(clock);
    const { instance } = poller(clock, client, store);
    instance.start();
    await settle();
    await clock.advance(20_000);
    expect(requests).toEqual([]);
    expect(instance.holdsLease).toBe(false);
    // The other holder goes: within a third of the lease's lifetime this one takes over and polls.
    other = false;
    await clock.advance(leaseMsFor(2_000) / 3);
    expect(instance.holdsLease).toBe(true);
    expect(requests.length).toBe(1);
    await instance.stop();
    expect(leases.at(-1)).toBe('release:replica-a');
  });

  it('hands a key the upstream refuses to the hub and stops polling it', async () => {
    const clock = new ManualClock();
    const { client, requests } = fakeClient(clock, () => new UnauthenticatedError('refused'));
    const { instance, refused } = poller(clock, client);
    instance.start();
    await settle();
    await clock.advance(10_000);
    expect(refused).toEqual(['UNAUTHENTICATED']);
    expect(requests.length).toBe(1);
    await instance.stop();
  });
});
