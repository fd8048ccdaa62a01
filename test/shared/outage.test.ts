/**
 * Proof of issue 12: "Redis stopped during a run: the gateway keeps answering queries, readiness reports the
 * degraded state, and sharing resumes when Redis returns." Two gateways share a redis-server; six clients
 * poll them the whole time (mostly answered from the cache) and a seventh reads fresh every second (always
 * through the key's budget); Redis is stopped, then started again (empty, as after a restart).
 *
 * On the wall clock: Redis going away and ioredis reconnecting are real network events. Every wait is
 * bounded (`until`, 10 s) or a short fixed pause of the polling clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCalls } from '../../src/simulator/data.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { dumpRedis, type Replicas, startReplicas } from './replicas.js';

const KEY = 'sk-live-outage-key';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded, on the wall clock) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

let redis: TestRedis;
let replicas: Replicas;
beforeAll(async () => {
  redis = await startRedis();
  const tenants = { [KEY]: generateCalls({ seed: 7, count: 200, firstId: 1 }) };
  replicas = await startReplicas(redis.url, { simulator: { tenants } });
});
afterAll(async () => {
  await replicas?.close();
  await redis?.close();
});

const readiness = async (index: number) => {
  const response = await replicas.gateways[index]!.fetch('http://gw/health/ready');
  return { status: response.status, body: await response.json() };
};
const metric = async (index: number, name: string) => {
  const text = await (await replicas.gateways[index]!.fetch('http://gw/metrics')).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
};

describe('Redis stopped during a run', () => {
  it('the gateways keep answering, readiness says degraded, and sharing resumes when Redis returns', async () => {
    const errors: string[] = [];
    let answered = 0;
    let running = true;
    const client = async (index: number) => {
      while (running) {
        const body = await replicas.query(index % 2, KEY, '{ calls(first: 10) { edges { node { callId } } } }');
        if (body.errors) errors.push(...body.errors.map((e) => String(e.extensions?.code)));
        else answered++;
        await sleep(150);
      }
    };
    // And one that reads fresh (Cache-Control: no-cache) every second, so each phase goes through the budget.
    let fresh = 0;
    const reader = async () => {
      for (let i = 0; running; i++) {
        const query = '{ calls(first: 3) { edges { node { callId } } } }';
        const body = await replicas.query(i % 2, KEY, query, { 'cache-control': 'no-cache' });
        if (body.errors) errors.push(...body.errors.map((e) => `fresh ${String(e.extensions?.code)}`));
        else fresh++;
        await sleep(1_000);
      }
    };
    const clients = [...Array.from({ length: 6 }, (_, i) => client(i)), reader()];
    try {
      await until(() => answered >= 12);
      await redis.stop();
      await until(() => replicas.gateways.every((g) => !g.shared!.available()));

      // Down: queries are answered with local state; readiness stays 200 but says so; metrics count it.
      const before = answered;
      const freshBefore = fresh;
      await until(() => answered >= before + 12 && fresh >= freshBefore + 2);
      for (const index of [0, 1]) {
        expect(await readiness(index)).toEqual({
          status: 200,
          body: { status: 'degraded', circuit: 'closed', sharedStore: 'unavailable' },
        });
        expect(await metric(index, 'calls_gateway_shared_store_available')).toBe(0);
        expect(await metric(index, 'calls_gateway_shared_store_failures_total')).toBeGreaterThan(0);
      }

      // Back (empty, as after a restart): the connections come back by themselves.
      await redis.start();
      await until(() => replicas.gateways.every((g) => g.shared!.available()));
      for (const index of [0, 1]) {
        expect(await readiness(index)).toEqual({
          status: 200,
          body: { status: 'ready', circuit: 'closed', sharedStore: 'available' },
        });
        expect(await metric(index, 'calls_gateway_shared_store_available')).toBe(1);
      }
      // Sharing resumes: each told Redis its recent requests again, and a page one gateway reads the other serves.
      const budgetLog = (entry: { key: string }) => entry.key.includes(':budget:') && entry.key.endsWith(':log');
      await until(async () => (await dumpRedis(redis.url)).some(budgetLog));
      const upstream = replicas.upstream().length;
      const page = '{ calls(first: 7, filter: { status: COMPLETED }) { totalCount edges { node { callId } } } }';
      const first = await replicas.query(0, KEY, page);
      await replicas.gateways[0]!.shared!.redis.ping();
      expect(await replicas.query(1, KEY, page)).toEqual(first);
      expect(replicas.upstream().filter((r) => r.query.status === 'completed')).toHaveLength(1);
      expect(replicas.upstream().length - upstream).toBeLessThanOrEqual(3);
    } finally {
      running = false;
      await Promise.all(clients);
    }
    expect(errors).toEqual([]);
    expect(replicas.simulator.rateLimited).toBe(0);
  }, 60_000);
});
