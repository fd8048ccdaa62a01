/**
 * Live calls while Redis is down (issue 12, item 1's fail-open, for subscriptions): the streams stay open,
 * the replica polls for its own subscribers and delivers from its in-process log; when Redis is back (empty:
 * it lost the log and the snapshot) subscribers are told to resync once, and events flow through Redis again.
 * Waits are on the wall clock: a Redis outage and ioredis's reconnection are real-network events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN } from '../../src/simulator/data.js';
import { parseRateLimits } from '../../src/upstream/budget.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { newCall, openSse, until } from './support.js';

describe('a Redis outage', () => {
  let redis: TestRedis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({
      limits: 'off',
      config: { livePollIntervalMs: 500, redisUrl: redis.url, upstreamRateLimits: parseRateLimits('1000000/60s') },
    });
    await until(() => gw.gateway.shared!.available(), 10_000, 'Redis connected');
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.close();
  });

  it('keeps streams open and events flowing from this replica, then through Redis again', async () => {
    const calls = gw.simulator.tenants.get(DEMO_TOKEN)!;
    const sse = await openSse(gw.gateway.fetch, 'http://gateway.test/graphql');
    const polls = () => gw.upstream().filter((r) => r.query.per_page === '100').length;
    await until(() => polls() > 0, 10_000, 'a first poll');
    const before = newCall();
    calls.push(before);
    const [first] = await sse.waitForResults(1);
    expect(first!.sseId).toMatch(/^\d+-\d+$/);

    await redis.stop();
    await until(() => !gw.gateway.shared!.available(), 10_000, 'Redis seen down');
    // The replica's own snapshot starts with its first poll during the outage; then it sees what changes.
    const seen = polls();
    await until(() => polls() >= seen + 2, 10_000, 'two polls during the outage');
    const during = newCall();
    calls.push(during);
    const [, second] = await sse.waitForResults(2);
    expect(second!.data?.callEvents?.call.callId).toBe(during.raw.id);
    expect(second!.sseId).toMatch(/^m\./);

    await redis.start();
    await until(() => gw.gateway.shared!.available(), 15_000, 'Redis back');
    // Redis came back empty: the log is gone (subscribers are told to resync), and the poller's first read
    // through Redis records a new snapshot; what changes after that flows through Redis.
    await until(() => sse.results().length >= 3, 10_000, 'the resync signal');
    expect(sse.results()[2]!.errors?.[0]?.extensions?.code).toBe('LIVE_RESYNC');
    const back = polls();
    await until(() => polls() >= back + 2, 10_000, 'two polls after the outage');
    const after = newCall();
    calls.push(after);
    await until(
      () => sse.results().some((r) => r.data?.callEvents?.call.callId === after.raw.id),
      15_000,
      'the call after the outage',
    );
    const results = sse.results();
    const last = results.at(-1)!;
    expect(last.sseId).toMatch(/^\d+-\d+$/);
    expect(results).toHaveLength(4);
    expect(
      await Promise.race([sse.ended.then(() => 'ended'), new Promise((resolve) => setTimeout(resolve, 50, 'open'))]),
    ).toBe('open');
    sse.close();
    await until(() => gw.gateway.live.snapshot().keys === 0, 5_000, 'the subscriber gone');
  }, 60_000);

  it('serves a subscriber that joined while Redis was down, and moves it to Redis when it is back', async () => {
    const calls = gw.simulator.tenants.get(DEMO_TOKEN)!;
    const polls = () => gw.upstream().filter((r) => r.query.per_page === '100').length;
    await redis.stop();
    await until(() => !gw.gateway.shared!.available(), 10_000, 'Redis seen down');
    const sse = await openSse(gw.gateway.fetch, 'http://gateway.test/graphql');
    await until(() => sse.messages.length > 0, 10_000, 'subscribed');
    expect(sse.messages[0]!.id).toMatch(/^m\./);
    const seen = polls();
    await until(() => polls() >= seen + 2, 10_000, 'two polls during the outage');
    const during = newCall();
    calls.push(during);
    const [first] = await sse.waitForResults(1);
    expect(first!.data?.callEvents?.call.callId).toBe(during.raw.id);

    await redis.start();
    // Its feed now reads the Redis log, from its head: what other replicas logged meanwhile is unknown.
    const [, resync] = await sse.waitForResults(2, 15_000);
    expect(resync!.errors?.[0]?.extensions?.code).toBe('LIVE_RESYNC');
    expect(resync!.sseId).toMatch(/^\d+-\d+$/);
    const back = polls();
    await until(() => polls() >= back + 2, 10_000, 'two polls after the outage');
    const after = newCall();
    calls.push(after);
    const [, , event] = await sse.waitForResults(3, 10_000);
    expect(event!.data?.callEvents?.call.callId).toBe(after.raw.id);
    expect(event!.sseId).toMatch(/^\d+-\d+$/);
    sse.close();
  }, 60_000);
});
