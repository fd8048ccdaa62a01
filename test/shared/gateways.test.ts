/**
 * Two gateways sharing one redis-server in front of one simulator with the documented limits on (issue 12
 * item 1): together they keep each key's budget, what one learns (a smaller limit, a 429's Retry-After, a key
 * that keeps failing) the other obeys, and a page one read the other serves, never to another key. Redis holds
 * key hashes only, and every key has a TTL. No test waits for time to pass: they run on the system clock, so
 * that a loaded machine cannot stretch a queued request's 2 s past its deadline (a faster clock would make it
 * 200 ms of wall time). The only waits are for Redis connections (bounded).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, generateCalls } from '../../src/simulator/data.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { type Body, dumpRedis, flush, type Replicas, startReplicas } from './replicas.js';

const KEY_A = 'sk-live-replica-key-a';
const KEY_B = 'sk-live-replica-key-b';
const tenants = () => ({
  [KEY_A]: generateCalls({ seed: 12, count: 300, firstId: 1 }),
  [KEY_B]: generateCalls({ seed: 13, count: 300, firstId: 10_001 }),
  [DEMO_TOKEN]: generateCalls({ seed: 14, count: 50, firstId: 20_001 }),
});

let redis: TestRedis;
let replicas: Replicas | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await replicas?.close();
  replicas = undefined;
  await flush(redis.url);
});
afterAll(async () => {
  await redis?.close();
});

/** A page of one day's calls: a distinct upstream request per day. */
const dayQuery = (i: number) => {
  const day = new Date(Date.UTC(2026, 6, 1) + i * 86_400_000).toISOString().slice(0, 10);
  return `{ calls(first: 5, filter: { dateFrom: "${day}" }) { totalCount edges { node { callId } } } }`;
};
/** Gateway `index`'s writes to Redis are done: they go before a PING on the same connection. */
const written = async (index: number) => void (await replicas!.gateways[index]!.shared!.redis.ping());
const codes = (bodies: Body[]) => bodies.flatMap((b) => (b.errors ?? []).map((e) => e.extensions?.code));

describe('two gateways, one budget', () => {
  it('a burst spread over both: 20 reach the upstream in 10 s, no 429, every refusal says retryAfter', async () => {
    replicas = await startReplicas(redis.url, { simulator: { tenants: tenants() } });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => replicas!.query(i % 2, KEY_A, dayQuery(i))));
    expect(replicas.upstream()).toHaveLength(20);
    expect(replicas.simulator.rateLimited).toBe(0);
    const refused = answers.filter((b) => b.errors);
    expect(refused).toHaveLength(40);
    for (const body of refused) {
      expect(body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
      expect(body.errors![0]!.extensions!.retryAfter).toBeGreaterThanOrEqual(1);
    }
    // The other key's budget is its own.
    const other = await Promise.all(Array.from({ length: 10 }, (_, i) => replicas!.query(i % 2, KEY_B, dayQuery(i))));
    expect(codes(other)).toEqual([]);
  });

  it('a smaller limit the upstream reported to one gateway holds in the other', async () => {
    replicas = await startReplicas(redis.url, {
      // The upstream allows 10 per 10 s, the gateways assume the documented 20: the headers say otherwise.
      simulator: { tenants: tenants(), rateLimits: '100/60s,10/10s' },
    });
    expect(codes([await replicas.query(0, KEY_A, dayQuery(0))])).toEqual([]);
    const burst = await Promise.all(Array.from({ length: 15 }, (_, i) => replicas!.query(1, KEY_A, dayQuery(i + 1))));
    expect(replicas.simulator.rateLimited).toBe(0);
    expect(burst.filter((b) => !b.errors)).toHaveLength(9);
    expect(replicas.upstream()).toHaveLength(10);
  });

  it("a 429's Retry-After holds the key in both gateways", async () => {
    let first = true;
    replicas = await startReplicas(redis.url, {
      simulator: {
        tenants: tenants(),
        faults: () => {
          if (!first) return undefined;
          first = false;
          const body = '{"message":"Too Many Attempts."}';
          return { kind: 'respond', status: 429, headers: { 'retry-after': '30' }, body };
        },
      },
    });
    const a = await replicas.query(0, KEY_A, dayQuery(0));
    expect(a.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', retryAfter: 30 });
    const b = await replicas.query(1, KEY_A, dayQuery(1));
    expect(b.errors?.[0]?.extensions?.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(b.errors![0]!.extensions!.retryAfter).toBeGreaterThanOrEqual(29);
    // One request reached the upstream: B's was refused without one.
    expect(replicas.upstream()).toHaveLength(1);
  });

  it('a key failing 5 times in a row through one gateway pauses in the other', async () => {
    replicas = await startReplicas(redis.url, {
      simulator: {
        tenants: tenants(),
        faults: (r) =>
          r.authorization === `Bearer ${KEY_A}`
            ? { kind: 'respond', status: 500, body: '{"message":"Server Error"}' }
            : undefined,
      },
    });
    for (let i = 0; i < 5; i++) {
      expect(codes([await replicas.query(0, KEY_A, dayQuery(i))])).toEqual(['UPSTREAM_UNAVAILABLE']);
    }
    expect(replicas.upstream()).toHaveLength(5);
    const b = await replicas.query(1, KEY_A, dayQuery(9));
    expect(b.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(b.errors![0]!.extensions!.retryAfter).toBeGreaterThanOrEqual(1);
    expect(replicas.upstream()).toHaveLength(5);
    // The other key goes on.
    expect(codes([await replicas.query(1, KEY_B, dayQuery(0))])).toEqual([]);
  });
});

describe('two gateways, one page cache', () => {
  it('what one gateway read the other serves without a request, never to another key; a new version wins', async () => {
    const data = tenants();
    replicas = await startReplicas(redis.url, { simulator: { tenants: data } });
    const page = '{ calls(first: 5) { totalCount edges { node { callId status } } } }';
    // The doorkeeper: a key's answers are kept from its second request on, wherever it lands.
    await replicas.query(0, KEY_A, page);
    const first = await replicas.query(0, KEY_A, page);
    expect(replicas.upstream()).toHaveLength(2);
    await written(0);
    const second = await replicas.query(1, KEY_A, page);
    expect(second).toEqual(first);
    expect(replicas.upstream()).toHaveLength(2);
    // A listed call by id, in the other gateway, from the same read.
    const id = (first.data!.calls as { edges: { node: { callId: number } }[] }).edges[2]!.node.callId;
    const call = await replicas.query(1, KEY_A, `{ call(callId: ${id}) { callId status } }`);
    expect(call.data).toEqual({ call: { callId: id, status: expect.any(String) } });
    expect(replicas.upstream()).toHaveLength(2);
    // Another key, same query: its own request, its own calls.
    const other = await replicas.query(1, KEY_B, page);
    expect(replicas.upstream()).toHaveLength(3);
    const ids = (body: Body) =>
      (body.data!.calls as { edges: { node: { callId: number } }[] }).edges.map((e) => e.node.callId);
    expect(ids(other).every((callId) => callId > 10_000)).toBe(true);
    // A fresh read through B (no-cache) of a list that grew: A then serves the new version, not the old one.
    const newest = data[KEY_A].reduce((x, y) => (x.createdAt > y.createdAt ? x : y));
    const createdAt = new Date(newest.createdAt.getTime() + 60_000);
    const raw = { ...newest.raw, id: 999, created_at: createdAt.toISOString() };
    replicas.simulator.tenants.get(KEY_A)!.push({ ...newest, createdAt, raw });
    const fresh = await replicas.query(1, KEY_A, page, { 'cache-control': 'no-cache' });
    expect(ids(fresh)[0]).toBe(999);
    await written(1);
    expect(await replicas.query(0, KEY_A, page)).toEqual(fresh);
    expect(replicas.upstream()).toHaveLength(4);
  });
});

describe('two gateways, one read of a page', () => {
  /** Both gateways have met the key, so its answers are kept (the doorkeeper). */
  const warm = async () => {
    for (const index of [0, 1]) await replicas!.query(index, KEY_A, '{ calls(first: 1) { totalCount } }');
    replicas!.simulator.requests.length = 0;
  };
  const page = '{ calls(first: 5) { totalCount edges { node { callId } } } }';

  it("the same page asked of both at once is read once: the second waits for the first one's answer", async () => {
    // An upstream that takes 300 ms, as real ones do: long enough for both to miss at once.
    replicas = await startReplicas(redis.url, { simulator: { tenants: tenants(), latencyMs: 300 } });
    await warm();
    const answers = await Promise.all([replicas.query(0, KEY_A, page), replicas.query(1, KEY_A, page)]);
    expect(codes(answers)).toEqual([]);
    expect(answers[1]).toEqual(answers[0]);
    expect(replicas.upstream()).toHaveLength(1);
  });

  it('when the read it waits for fails, the other gateway reads the page itself', async () => {
    let failed = false;
    replicas = await startReplicas(redis.url, {
      simulator: {
        tenants: tenants(),
        latencyMs: 300,
        faults: (r) => {
          if (failed || r.query.per_page !== '5') return undefined;
          failed = true;
          return { kind: 'respond', status: 500, body: '{"message":"Server Error"}' };
        },
      },
    });
    await warm();
    const answers = await Promise.all([replicas.query(0, KEY_A, page), replicas.query(1, KEY_A, page)]);
    expect(codes(answers)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(answers.filter((b) => b.data?.calls)).toHaveLength(1);
    expect(replicas.upstream()).toHaveLength(2);
  });
});

describe('what Redis holds', () => {
  it('key hashes only, never a token; every key with a TTL', async () => {
    replicas = await startReplicas(redis.url, { simulator: { tenants: tenants() } });
    for (const token of [KEY_A, KEY_B, DEMO_TOKEN]) {
      for (let i = 0; i < 4; i++) {
        await replicas.query(i % 2, token, i < 2 ? '{ calls(first: 3) { totalCount } }' : dayQuery(i));
      }
      await replicas.query(1, token, '{ call(callId: 1) { callId } }');
    }
    const dump = await dumpRedis(redis.url);
    expect(dump.length).toBeGreaterThan(10);
    expect(dump.map((d) => d.key).some((key) => key.includes(':budget:'))).toBe(true);
    expect(dump.map((d) => d.key).some((key) => key.includes(':cache:'))).toBe(true);
    for (const entry of dump) {
      for (const token of [KEY_A, KEY_B, DEMO_TOKEN]) expect(entry.text).not.toContain(token);
      expect(entry.text).not.toMatch(/bearer/i);
      expect(entry.ttl, entry.key).toBeGreaterThan(0);
    }
  });

  it('readiness and metrics say the shared store answers', async () => {
    replicas = await startReplicas(redis.url, { simulator: { tenants: tenants() } });
    const ready = await replicas.gateways[0]!.fetch('http://gw/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', circuit: 'closed', sharedStore: 'available' });
    const text = await (await replicas.gateways[0]!.fetch('http://gw/metrics')).text();
    expect(text).toMatch(/^calls_gateway_shared_store_available 1$/m);
    expect(text).toMatch(/^calls_gateway_shared_store_failures_total 0$/m);
  });
});
