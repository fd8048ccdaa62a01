import { describe, expect, it } from 'vitest';
import { UnauthenticatedError, UpstreamUnavailableError } from '../../src/errors.js';
import type { UpstreamClient } from '../../src/upstream/client.js';
import { createLoaders, mapConcurrently } from '../../src/upstream/loaders.js';

const record = (id: number) => ({ id, status: 'completed', type: 'inbound', created_at: '2026-01-01 10:00:00', updated_at: '2026-01-01 10:05:00' });

/** A client that records every call it receives (DataLoader's `idLoader` pattern) and tracks concurrency. */
function recordingClient(options: { delayMs?: number; missing?: number[]; failing?: number[]; pageIds?: number[] } = {}) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const wait = () => new Promise((r) => setTimeout(r, options.delayMs ?? 0));
  const client: UpstreamClient = {
    async listCalls(query) {
      calls.push(`list?${query}`);
      await wait();
      return { data: (options.pageIds ?? [1, 2, 3]).map(record), total: 3 };
    },
    async getCall(id) {
      calls.push(`get/${id}`);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await wait();
      inFlight--;
      if (options.failing?.includes(id)) throw new UpstreamUnavailableError('down');
      return options.missing?.includes(id) ? null : record(id);
    },
    stats: () => ({ breaker: 'closed', inFlight }),
    probe: async () => true,
    close: async () => {},
  };
  return { client, calls, maxInFlight: () => maxInFlight };
}

const loadersFor = (client: UpstreamClient, token: string | null = 't', callConcurrency = 8) =>
  createLoaders({ client, token, normalize: { timeZone: 'UTC' }, callConcurrency });

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
    expect(results.map((r) => (r.status === 'fulfilled' ? (r.value?.callId ?? null) : (r.reason as Error).constructor.name))).toEqual([
      7,
      null,
      'UpstreamUnavailableError',
      10,
    ]);
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
    const [page, two, four] = await Promise.all([loaders.page.load('page=1&per_page=3'), loaders.call.load(2), loaders.call.load(4)]);
    expect(page.calls.map((c) => c.callId)).toEqual([1, 2, 3]);
    expect(two?.callId).toBe(2);
    expect(four?.callId).toBe(4);
    expect(calls).toEqual(['list?page=1&per_page=3', 'get/4']);
  });

  it('primes from a finished page, so a later lookup costs nothing', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client);
    await loaders.page.load('page=1&per_page=3');
    await loaders.call.load(3);
    expect(calls).toEqual(['list?page=1&per_page=3']);
  });

  it('without a token every load fails UNAUTHENTICATED and the client is never called', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client, null);
    await expect(loaders.call.load(1)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(loaders.page.load('page=1&per_page=1')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(calls).toEqual([]);
  });
});

describe('page loader', () => {
  it('dedupes identical page queries and keeps distinct ones', async () => {
    const { client, calls } = recordingClient();
    const loaders = loadersFor(client);
    await Promise.all([loaders.page.load('page=1&per_page=3'), loaders.page.load('page=1&per_page=3'), loaders.page.load('page=2&per_page=3')]);
    expect(calls).toEqual(['list?page=1&per_page=3', 'list?page=2&per_page=3']);
  });

  it('two operations get two loader sets that share nothing', async () => {
    const { client, calls } = recordingClient();
    await loadersFor(client).page.load('page=1&per_page=3');
    await loadersFor(client).page.load('page=1&per_page=3');
    expect(calls).toHaveLength(2);
  });
});

describe('mapConcurrently', () => {
  it('keeps input order and handles fewer items than the limit', async () => {
    expect(await mapConcurrently([3, 1, 2], 8, async (n) => n * 2)).toEqual([6, 2, 4]);
    expect(await mapConcurrently([], 3, async (n: number) => n)).toEqual([]);
  });
});
