/**
 * The live store's rules (src/live/store.ts), the same table against both implementations: in this process
 * and in a real redis-server (Lua scripts, streams, the lease). What a poll or a webhook re-read turns into:
 * nothing on the first poll, CREATED for a call newer than the last head, nothing for an old call that moved
 * into the page, UPDATED for a changed fingerprint, one event for repeated hints, a GAP when a whole page is
 * new or the snapshot expired; and the log: reads after an id, resync for trimmed, foreign or future ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { MemoryLiveStore } from '../../src/live/memory.js';
import { RedisLiveStore } from '../../src/live/redis.js';
import {
  comesAfter,
  type LiveStore,
  LOG_MAX_ENTRIES,
  type LoggedEvent,
  type ObservedCall,
} from '../../src/live/store.js';
import { createLogger } from '../../src/logging.js';
import { connectSharedStore, type SharedStore } from '../../src/shared/store.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { until } from './support.js';

let redis: TestRedis;
let shared: SharedStore;
beforeAll(async () => {
  redis = await startRedis();
  shared = connectSharedStore(redis.url, createLogger('silent'));
  await until(() => shared.available(), 10_000, 'Redis connected');
});
afterAll(async () => {
  await shared?.close();
  await redis?.close();
});

const T0 = Date.UTC(2026, 10, 1);
/** A call created `minutes` after T0 with fingerprint `version`. */
const call = (id: number, minutes: number, version = 'a', offset = 0): ObservedCall => ({
  callId: id,
  fingerprint: version,
  createdMs: T0 + minutes * 60_000,
  offset,
  record: JSON.stringify({ id, v: version }),
});
/** A head page, newest first as the upstream sends it, handed over oldest first as the poller does. */
const head = (...calls: ObservedCall[]) => [...calls].sort((a, b) => a.createdMs - b.createdMs || a.callId - b.callId);
const kinds = (events: LoggedEvent[]) =>
  events.map((e) => (e.kind === 'GAP' ? 'GAP' : `${e.kind}:${JSON.parse(e.record).id}`));

let keyNumber = 0;
const stores: [string, () => LiveStore][] = [
  ['in process', () => new MemoryLiveStore(systemClock)],
  ['Redis', () => new RedisLiveStore(shared, new MemoryLiveStore(systemClock), createLogger('silent'), systemClock)],
];

describe.each(stores)('live store %s', (_name, make) => {
  let store: LiveStore;
  let key: string;
  beforeAll(() => {
    store = make();
  });
  afterAll(() => store.close());
  const fresh = () => (key = `test-key-${++keyNumber}`);

  it('records the first poll without events, then logs what is new or changed, oldest first', async () => {
    fresh();
    expect(await store.apply(key, head(call(3, 3), call(2, 2), call(1, 1)), 'poll', 3)).toEqual([]);
    const before = (await store.head(key))!;
    const second = await store.apply(key, head(call(5, 5), call(4, 4), call(3, 3, 'b')), 'poll', 3);
    expect(kinds(second)).toEqual(['UPDATED:3', 'CREATED:4', 'CREATED:5']);
    // Unchanged: nothing.
    expect(await store.apply(key, head(call(5, 5), call(4, 4), call(3, 3, 'b')), 'poll', 3)).toEqual([]);
    const read = await store.read(key, before, 100);
    expect('entries' in read && kinds(read.entries)).toEqual(['UPDATED:3', 'CREATED:4', 'CREATED:5']);
  });

  it('does not call a call new when it only moved into the page (a newer one was deleted)', async () => {
    fresh();
    await store.apply(key, head(call(12, 12), call(11, 11)), 'poll', 2);
    // 12 deleted upstream: 10 (older than the page's oldest, 11) shifts in.
    expect(kinds(await store.apply(key, head(call(11, 11), call(10, 10)), 'poll', 2))).toEqual([]);
  });

  it('says GAP when a whole page is new: more may have arrived than the page shows', async () => {
    fresh();
    await store.apply(key, head(call(2, 2), call(1, 1)), 'poll', 2);
    expect(kinds(await store.apply(key, head(call(9, 9), call(8, 8)), 'poll', 2))).toEqual([
      'CREATED:8',
      'CREATED:9',
      'GAP',
    ]);
  });

  it('turns webhook hints into CREATED or UPDATED once per change', async () => {
    fresh();
    // No poll yet: an unknown call is CREATED; the same again is nothing.
    expect(kinds(await store.apply(key, [call(20, 20)], 'hint', 100))).toEqual(['CREATED:20']);
    expect(await store.apply(key, [call(20, 20)], 'hint', 100)).toEqual([]);
    expect(kinds(await store.apply(key, [call(20, 20, 'b')], 'hint', 100))).toEqual(['UPDATED:20']);
    await store.apply(key, head(call(22, 22), call(21, 21), call(20, 20, 'b')), 'poll', 100);
    // Known to the snapshot: UPDATED; unknown but older than the head: an old call changed, UPDATED too.
    expect(kinds(await store.apply(key, [call(21, 21, 'b')], 'hint', 100))).toEqual(['UPDATED:21']);
    expect(kinds(await store.apply(key, [call(5, 5)], 'hint', 100))).toEqual(['UPDATED:5']);
    expect(kinds(await store.apply(key, [call(30, 30)], 'hint', 100))).toEqual(['CREATED:30']);
    // The poller then sees 30 at the head: already known, no second event.
    expect(await store.apply(key, head(call(30, 30), call(22, 22), call(21, 21, 'b')), 'poll', 100)).toEqual([]);
  });

  it('concurrent writers of one change publish it once', async () => {
    fresh();
    await store.apply(key, [call(40, 40)], 'poll', 100);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.apply(key, [call(40, 40, 'b')], 'hint', 100)),
    );
    expect(results.flat().map((e) => e.kind)).toEqual(['UPDATED']);
  });

  it('reads after an id, and says resync for ids it cannot continue from', async () => {
    fresh();
    const start = (await store.head(key))!;
    expect(await store.read(key, start, 10)).toEqual({ entries: [] });
    await store.apply(key, [call(50, 50)], 'hint', 100);
    const [second] = await store.apply(key, [call(51, 51)], 'hint', 100);
    const all = await store.read(key, start, 10);
    expect('entries' in all && kinds(all.entries)).toEqual(['CREATED:50', 'CREATED:51']);
    const after = await store.read(key, (all as { entries: LoggedEvent[] }).entries[0]!.id, 10);
    expect('entries' in after && after.entries.map((e) => e.id)).toEqual([second!.id]);
    expect(await store.head(key)).toBe(second!.id);
    // Another process's id, an id of no log, one from the future: resync.
    for (const foreign of ['m.00000000.1', 'garbage', '99999999999999-0']) {
      expect(await store.read(key, foreign, 10), foreign).toMatchObject({ resync: true });
    }
    expect(comesAfter(second!.id, start)).toBe(true);
    expect(comesAfter(start, second!.id)).toBe(false);
  });

  it(`keeps ${LOG_MAX_ENTRIES} entries; a reader behind them gets resync, one within them the rest`, async () => {
    fresh();
    const start = (await store.head(key))!;
    const first = await store.apply(key, [call(1, 1)], 'hint', 100);
    for (let i = 2; i <= LOG_MAX_ENTRIES + 50; i += 50) {
      await store.apply(
        key,
        Array.from({ length: 50 }, (_, j) => call(i + j, i + j)),
        'hint',
        100,
      );
    }
    expect(await store.read(key, start, 10)).toMatchObject({ resync: true });
    expect(await store.read(key, first[0]!.id, 10)).toMatchObject({ resync: true });
    const newest = (await store.head(key))!;
    expect(await store.read(key, newest, 10)).toEqual({ entries: [] });
  });

  it('lets one holder have a lease, renews it for that holder, and frees it on release', async () => {
    fresh();
    expect(await store.lease(key, 'replica-a', 5_000)).toBe(true);
    expect(await store.lease(key, 'replica-a', 5_000)).toBe(true);
    const other = await store.lease(key, 'replica-b', 5_000);
    // In one process there is one poller per key anyway; in Redis the second holder must wait.
    expect(other).toBe(store instanceof MemoryLiveStore);
    await store.release(key, 'replica-b');
    expect(await store.lease(key, 'replica-a', 5_000)).toBe(true);
    await store.release(key, 'replica-a');
    expect(await store.lease(key, 'replica-b', 5_000)).toBe(true);
  });
});

describe('Redis keys', () => {
  it('carry the key hash and a TTL, never a token; the lease lapses by itself', async () => {
    const store = new RedisLiveStore(shared, new MemoryLiveStore(systemClock), createLogger('silent'), systemClock);
    await store.apply('hash-of-a-key', [call(1, 1)], 'hint', 100);
    await store.lease('hash-of-a-key', 'replica-a', 300);
    const keys = await shared.redis.keys('calls-gw:live:*hash-of-a-key');
    expect(keys.sort()).toEqual([
      'calls-gw:live:lease:hash-of-a-key',
      'calls-gw:live:log:hash-of-a-key',
      'calls-gw:live:snapshot:hash-of-a-key',
    ]);
    for (const name of keys) expect(await shared.redis.pttl(name)).toBeGreaterThan(0);
    // A crashed holder's lease lapses: another takes it (wall clock: Redis expires it).
    await until(async () => store.lease('hash-of-a-key', 'replica-b', 5_000), 5_000, 'lease taken over');
    await store.close();
  });
});
