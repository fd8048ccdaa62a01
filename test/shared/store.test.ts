/**
 * The shared store against a real redis-server: commands run, an outage makes them fall back to local
 * state (counted, no throw), and the connection comes back by itself when Redis does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { connectSharedStore, type SharedStore } from '../../src/shared/store.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let store: SharedStore;
beforeAll(async () => {
  redis = await startRedis();
  store = connectSharedStore(redis.url, createLogger('silent'));
  await until(() => store.available());
});
afterAll(async () => {
  await store?.close();
  await redis?.close();
});

/** Waits (bounded, on the wall clock: a reconnection is a real-network event) until `check` holds. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('shared store', () => {
  it('runs commands under its prefix', async () => {
    expect(store.key('budget', 'abc')).toBe('calls-gw:budget:abc');
    const value = await store.attempt(
      'set',
      async (r) => {
        await r.set(store.key('t'), '1', 'PX', 10_000);
        return r.get(store.key('t'));
      },
      () => 'local',
    );
    expect(value).toBe('1');
    expect(store.failures).toBe(0);
  });

  it('falls back to local state while Redis is down, counts it, and reconnects by itself', async () => {
    await redis.stop();
    await until(() => !store.available());
    const before = store.failures;
    expect(
      await store.attempt(
        'get',
        (r) => r.get(store.key('t')),
        () => 'local',
      ),
    ).toBe('local');
    expect(store.failures).toBe(before + 1);
    await redis.start();
    await until(() => store.available());
    expect(
      await store.attempt(
        'ping',
        (r) => r.ping(),
        () => 'local',
      ),
    ).toBe('PONG');
  });
});
