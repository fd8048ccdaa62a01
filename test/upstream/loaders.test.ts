import { describe, expect, it } from 'vitest';
import { UnauthenticatedError, UpstreamBadResponseError, UpstreamUnavailableError } from '../../src/errors.js';
import { PageCache } from '../../src/upstream/cache.js';
import type { UpstreamClient } from '../../src/upstream/client.js';
import { createLoaders, mapConcurrently, PageSizeCap } from '../../src/upstream/loaders.js';
import { ManualClock } from '../support/clock.js';

const record = (id: number) => ({
  id,
  status: 'completed',
  type: 'inbound',
  created_at: '2026-01-01 10:00:00',
  updated_at: '2026-01-01 10:05:00',
});

/** A client that records every call it receives (DataLoader's `idLoader` pattern) and tracks concurrency. */
function recordingClient(
  options: {
    delayMs?: number;
    missing?: number[];
    failing?: number[];
    pageIds?: number[];
    echo?: Record<string, unknown>;
  } = {},
) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const wait = () => new Promise((r) => setTimeout(r, options.delayMs ?? 0));
  const client: UpstreamClient = {
    async listCalls(query) {
      calls.push(`list?${query}`);
      await wait();
      return { body: { data: (options.pageIds ?? [1, 2, 3]).map(record), total: 3, ...options.echo }, bytes: 300 };
    },
    async getCall(id) {
      calls.push(`get/${id}`);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await wait();
      inFlight--;
      if (options.failing?.includes(id)) throw new UpstreamUnavailableError('down');
      return options.missing?.includes(id) ? null : { body: record(id), bytes: 100 };
    },
    snapshot: () => ({
      breaker: 'closed',
      breakerKeys: 0,
      inFlight,
      scheduler: { keys: 0, queued: 0, inFlight, refused: 0 },
    }),
    probe: async () => 401,
    close: async () => {},
  };
  return { client, calls, maxInFlight: () => maxInFlight };
}

const loadersFor = (
  client: UpstreamClient,
  token: string | null = 't',
  callConcurrency = 8,
  more: { cache?: PageCache; fresh?: boolean; pageCap?: PageSizeCap } = {},
) =>
  createLoaders({
    client,
    token,
    key: token === null ? null : `hash-of-${token}`,
    normalize: { timeZone: 'UTC' },
    callConcurrency,
    cache: more.cache ?? null,
    fresh: more.fresh ?? false,
    pageCap: more.pageCap ?? new PageSizeCap(),
  });

/** Reads one page of the list under `filter` through a loader set. */
async function page(loaders: ReturnType<typeof loadersFor>, perPage: number, pageNumber: number, filter = '') {
  const [result] = await loaders.list(filter).fetch([{ perPage, page: pageNumber }], 'interactive');
  if (result!.status === 'rejected') throw result!.reason;
  return result!.value;
}

describe('call loader', () => {
  it('loads each distinct id once per operation', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client);
    const results = await Promise.all([loaders.call.load(5), loaders.call.load(6), loaders.call.load(5)]);
    expect(results.map((c) => c?.callId)).toEqual([5, 6, 5]);
    expect(calls).toEqual(['get/5', 'get/6']);
  });

  it('keeps results in key order with null for 404 and an Error only at the failed key', async () => {
    const { client } = recordingClient({ missing: [8], failing: [9] });
    const loaders = loadersFor(client);
    const results = await Promise.allSettled([7, 8, 9, 10].map((id) => loaders.call.load(id)));
    expect(
      results.map((r) => (r.status === 'fulfilled' ? (r.value?.callId ?? null) : (r.reason as Error).constructor.name)),
    ).toEqual([7, null, 'UpstreamUnavailableError', 10]);
  });

  it('keeps at most callConcurrency lookups in flight', async () => {
    const { client, calls, maxInFlight } = recordingClient({ delayMs: 10 });
    const loaders = loadersFor(client, 't', 3);
    await Promise.all(Array.from({ length: 20 }, (_, i) => loaders.call.load(i + 1)));
    expect(calls).toHaveLength(20);
    expect(maxInFlight()).toBe(3);
  });

  it('serves calls from a list page in flight in the same operation', async () => {
    const { client, calls } = recordingClient({ delayMs: 20, pageIds: [1, 2, 3] });
    const loaders = loadersFor(client);
    const [first, two, four] = await Promise.all([page(loaders, 3, 1), loaders.call.load(2), loaders.call.load(4)]);
    expect(first.items.map((c) => c.callId)).toEqual([1, 2, 3]);
    expect(two?.callId).toBe(2);
    expect(four?.callId).toBe(4);
    expect(calls).toEqual(['list?page=1&per_page=3', 'get/4']);
  });

  it('primes from a finished page, so a later lookup costs nothing', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client);
    await page(loaders, 3, 1);
    await loaders.call.load(3);
    expect(calls).toEqual(['list?page=1&per_page=3']);
  });

  it('without a token every load fails UNAUTHENTICATED and the client is never called', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client, null);
    await expect(loaders.call.load(1)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(page(loaders, 1, 1)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(calls).toEqual([]);
  });
});

describe('page loader', () => {
  it('dedupes identical page queries and keeps distinct ones', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client);
    await Promise.all([page(loaders, 3, 1), page(loaders, 3, 1), page(loaders, 3, 2)]);
    expect(calls).toEqual(['list?page=1&per_page=3', 'list?page=2&per_page=3']);
  });

  it('two operations get two loader sets that share nothing (without a cache)', async () => {
    const { client, calls } = recordingClient();
    await page(loadersFor(client), 3, 1);
    await page(loadersFor(client), 3, 1);
    expect(calls).toHaveLength(2);
  });

  it('puts the filter before page and per_page', async () => {
    const { client, calls } = recordingClient();
    await page(loadersFor(client), 3, 2, 'status=completed');
    expect(calls).toEqual(['list?status=completed&page=2&per_page=3']);
  });

  it('places the rows where the paginator says it served them, and learns a capped per_page', async () => {
    const { client } = recordingClient({
      pageIds: [51, 52],
      echo: { per_page: 50, current_page: 2, from: 51, to: 52 },
    });
    const pageCap = new PageSizeCap();
    const served = await page(loadersFor(client, 't', 8, { pageCap }), 100, 2);
    expect(served.request).toEqual({ perPage: 50, page: 2 });
    expect(pageCap.maxPerPage).toBe(50);
  });

  it('fails a page whose echo contradicts itself', async () => {
    const { client } = recordingClient({ echo: { per_page: 3, current_page: 1, from: 7, to: 9 } });
    await expect(page(loadersFor(client), 3, 1)).rejects.toBeInstanceOf(UpstreamBadResponseError);
  });
});

describe('page cache between operations', () => {
  /** A cache that has seen keys `t`, `a` and `b` before, so it keeps what they read (the doorkeeper). */
  const setUp = () => {
    const clock = new ManualClock();
    const cache = new PageCache({ ttlMs: 5_000, maxBytes: 1 << 20 }, clock);
    for (const token of ['t', 'a', 'b']) cache.admits(`hash-of-${token}`);
    return { clock, cache };
  };

  it("keeps nothing of a key's first operation, and keeps its pages from the second on", async () => {
    const clock = new ManualClock();
    const cache = new PageCache({ ttlMs: 5_000, maxBytes: 1 << 20 }, clock);
    const { client, calls } = recordingClient();
    await page(loadersFor(client, 'new', 8, { cache }), 3, 1);
    const second = loadersFor(client, 'new', 8, { cache });
    expect(second.list('').known(0, 3)).toEqual([]);
    await page(second, 3, 1);
    expect(loadersFor(client, 'new', 8, { cache }).list('').known(0, 3)).toHaveLength(1);
    expect(calls).toHaveLength(2);
    expect(cache.snapshot()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('serves a page another operation of the same key read within the TTL, and counts the hit', async () => {
    const { cache } = setUp();
    const { client, calls } = recordingClient();
    await page(loadersFor(client, 't', 8, { cache }), 3, 1);
    const second = loadersFor(client, 't', 8, { cache });
    expect((await second.list('').known(0, 3)).map((p) => p.request)).toEqual([{ perPage: 3, page: 1 }]);
    expect(await second.call.load(2)).toMatchObject({ callId: 2 });
    expect(calls).toHaveLength(1);
    expect(second.usage.cacheHits).toBe(2);
    expect(cache.snapshot()).toMatchObject({ hits: 2, misses: 1 });
  });

  it("never serves one key's pages to another key", async () => {
    const { cache } = setUp();
    const { client, calls } = recordingClient();
    await page(loadersFor(client, 'a', 8, { cache }), 3, 1);
    expect(loadersFor(client, 'b', 8, { cache }).list('').known(0, 3)).toEqual([]);
    await loadersFor(client, 'b', 8, { cache }).call.load(2);
    expect(calls).toEqual(['list?page=1&per_page=3', 'get/2']);
  });

  it('forgets pages after the TTL', async () => {
    const { cache, clock } = setUp();
    const { client } = recordingClient();
    await page(loadersFor(client, 't', 8, { cache }), 3, 1);
    await clock.advance(5_000);
    expect(loadersFor(client, 't', 8, { cache }).list('').known(0, 3)).toEqual([]);
    expect(cache.call('hash-of-t', 2)).toBeUndefined();
  });

  it('reads nothing from the cache for Cache-Control: no-cache, and keeps what it read', async () => {
    const { cache } = setUp();
    const { client, calls } = recordingClient();
    await page(loadersFor(client, 't', 8, { cache }), 3, 1);
    const fresh = loadersFor(client, 't', 8, { cache, fresh: true });
    expect(fresh.list('').known(0, 3)).toEqual([]);
    await fresh.call.load(2);
    expect(calls).toEqual(['list?page=1&per_page=3', 'get/2']);
  });

  it('keeps each filter apart', async () => {
    const { cache } = setUp();
    const { client } = recordingClient();
    await page(loadersFor(client, 't', 8, { cache }), 3, 1, 'status=completed');
    expect(loadersFor(client, 't', 8, { cache }).list('status=failed').known(0, 3)).toEqual([]);
  });
});

describe('mapConcurrently', () => {
  it('keeps input order and handles fewer items than the limit', async () => {
    expect(await mapConcurrently([3, 1, 2], 8, async (n) => n * 2)).toEqual([6, 2, 4]);
    expect(await mapConcurrently([], 3, async (n: number) => n)).toEqual([]);
  });
});
