/**
 * One poller per key, not per subscriber (issue 12, item 3), and keys kept apart (item 2), with real Redis:
 * 50 subscribers of one key spread over two replicas cost the upstream the requests one subscriber costs;
 * two keys subscribed at once on both replicas never see each other's calls over 1,000 events. The
 * interval is 500 ms and the budget unlimited here, so that the counts are large enough to compare in a few
 * seconds (the budget share is tested in poller.test.ts and replicas.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/server.js';
import { DEMO_TOKEN, SECOND_TENANT_TOKEN } from '../../src/simulator/data.js';
import type { Simulator } from '../../src/simulator/server.js';
import { parseRateLimits } from '../../src/upstream/budget.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { newCall, openSse, type SseConnection, sleep, startReplicas, until } from './support.js';

const URL = 'http://gateway.test/graphql';
const POLL_MS = 500;
const CONFIG = { livePollIntervalMs: POLL_MS, upstreamRateLimits: parseRateLimits('1000000/60s') };

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.close());

/** Head reads of the simulator within [from, to). */
const headReads = (simulator: Simulator, from: number, to: number) =>
  simulator.requests.filter(
    (r) => r.at >= from && r.at < to && r.path.endsWith('/user/calls') && r.query.per_page === '100',
  ).length;

describe('50 subscribers of one key over two replicas', () => {
  let replicas: Awaited<ReturnType<typeof startReplicas>>;
  beforeAll(async () => {
    replicas = await startReplicas(2, { ...CONFIG, redisUrl: redis.url }, { rateLimits: false });
    await until(() => replicas.gateways.every((g) => g.shared!.available()), 10_000, 'Redis connected');
  });
  afterAll(() => replicas.close());

  /** Opens `count` subscribers spread over the replicas, measures head reads over `windowMs` after the first poll. */
  async function measure(count: number, windowMs: number): Promise<{ reads: number; streams: SseConnection[] }> {
    const { simulator, gateways } = replicas;
    const opened = Date.now();
    const streams = await Promise.all(Array.from({ length: count }, (_, i) => openSse(gateways[i % 2]!.fetch, URL)));
    await until(() => headReads(simulator, opened, Date.now() + 1) > 0, 10_000, 'a first poll');
    const from = Date.now();
    // Wall clock: the polls are real requests on a real interval.
    await sleep(windowMs);
    return { reads: headReads(simulator, from, from + windowMs), streams };
  }

  it('cost the upstream what one subscriber costs (±1 request), and all get each event once', async () => {
    const { gateways, simulator } = replicas;
    const windowMs = 6_000;
    const one = await measure(1, windowMs);
    for (const stream of one.streams) stream.close();
    await until(() => gateways.every((g) => g.live.snapshot().keys === 0), 5_000, 'the poller stopped');

    const fifty = await measure(50, windowMs);
    expect(gateways.map((g) => g.live.snapshot().subscribers)).toEqual([25, 25]);
    // One poller in the deployment.
    expect(gateways.reduce((sum, g) => sum + g.live.snapshot().polling, 0)).toBe(1);
    const perMinute = (reads: number) => Math.round((reads * 60_000) / windowMs);
    console.log(
      `head reads in ${windowMs} ms: 1 subscriber ${one.reads} (${perMinute(one.reads)}/min), ` +
        `50 subscribers ${fifty.reads} (${perMinute(fifty.reads)}/min)`,
    );
    expect(one.reads).toBeGreaterThanOrEqual(8);
    expect(Math.abs(fifty.reads - one.reads)).toBeLessThanOrEqual(1);

    const call = newCall();
    simulator.tenants.get(DEMO_TOKEN)!.push(call);
    for (const stream of fifty.streams) {
      const [event] = await stream.waitForResults(1, 5_000);
      expect(event!.data?.callEvents?.call.callId).toBe(call.raw.id);
    }
    await sleep(2 * POLL_MS);
    expect(fifty.streams.every((stream) => stream.results().length === 1)).toBe(true);
    for (const stream of fifty.streams) stream.close();
  });
});

describe.each([
  ['one gateway, in process', false],
  ['two replicas sharing Redis', true],
])('two keys subscribed at once (%s)', (_name, withRedis) => {
  let replicas: Awaited<ReturnType<typeof startReplicas>>;
  beforeAll(async () => {
    replicas = await startReplicas(
      withRedis ? 2 : 1,
      { ...CONFIG, redisUrl: withRedis ? redis.url : null },
      { rateLimits: false },
    );
    if (withRedis) await until(() => replicas.gateways.every((g) => g.shared!.available()), 10_000, 'Redis connected');
  });
  afterAll(() => replicas.close());

  it("never see each other's calls (1,000 events checked)", async () => {
    const { simulator, gateways } = replicas;
    const tokens = [DEMO_TOKEN, SECOND_TENANT_TOKEN];
    // Each key subscribed on every replica.
    const subscribers: { token: string; gateway: Gateway; stream: SseConnection }[] = [];
    const opened = Date.now();
    for (const gateway of gateways) {
      for (const token of tokens)
        subscribers.push({ token, gateway, stream: await openSse(gateway.fetch, URL, { token }) });
    }
    await until(() => headReads(simulator, opened, Date.now() + 1) >= tokens.length, 10_000, 'first polls');
    await sleep(100);
    const inserted = new Map<string, number[]>(tokens.map((token) => [token, []]));
    const perRound = 50;
    const rounds = 500 / perRound;
    for (let round = 1; round <= rounds; round++) {
      for (const token of tokens) {
        const calls = Array.from({ length: perRound }, () => newCall());
        simulator.tenants.get(token)!.push(...calls);
        inserted.get(token)!.push(...calls.map((c) => c.raw.id));
      }
      for (const { stream } of subscribers) await stream.waitForResults(round * perRound, 10_000);
    }
    let checked = 0;
    for (const { token, stream } of subscribers) {
      const got = stream.results().map((r) => r.data?.callEvents?.call.callId);
      // Exactly its own key's calls, in the order they were created, none of the other key's.
      expect(got).toEqual(inserted.get(token));
      checked += got.length;
      stream.close();
    }
    expect(checked).toBeGreaterThanOrEqual(1_000);
    console.log(`two keys: ${checked} events checked on ${subscribers.length} subscribers`);
  });
});
