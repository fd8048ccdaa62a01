/**
 * `Subscription.callEvents` over SSE against the simulator (issue 12, items 2 and 5): ids on every message,
 * filters, cursors that continue `calls(after:)`, refusals before any upstream request, resuming with
 * `Last-Event-ID` (from the log while another subscriber kept the poller going, from the snapshot when nobody
 * listened, and on another replica sharing Redis), the resync signal, a refused key, and a shutdown. The
 * gateway polls every 500 ms here (the simulator's limits off: these suites are about events, the budget share
 * is tested in poller.test.ts and replicas.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { createGateway } from '../../src/server.js';
import { DEMO_TOKEN } from '../../src/simulator/data.js';
import { parseRateLimits } from '../../src/upstream/budget.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { newCall, openSse as open, type SseConnection, sleep, until } from './support.js';

const URL = 'http://gateway.test/graphql';

/** Streams opened by the test running now; closed after it, whatever happened. */
const streams: SseConnection[] = [];
const openSse = async (...args: Parameters<typeof open>) => {
  const connection = await open(...args);
  streams.push(connection);
  return connection;
};
afterEach(() => {
  for (const connection of streams.splice(0)) connection.close();
});
const POLL_MS = 500;

/** Waits until the simulator has answered a head read (`per_page=100&page=1`) that arrived after `since`. */
async function nextPoll(gw: TestGateway, since = Date.now()): Promise<void> {
  await until(
    () => gw.upstream().some((r) => r.at > since && r.query.per_page === '100' && r.query.page === '1'),
    10_000,
    'a poll',
  );
  // The poll's answer is applied right after it arrives.
  await sleep(50);
}

describe('callEvents over SSE, one gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ limits: 'off', config: { livePollIntervalMs: POLL_MS } });
  });
  afterAll(() => gw.close());
  const calls = () => gw.simulator.tenants.get(DEMO_TOKEN)!;

  it('gives every message an id, also in extensions.eventId; CREATED, then UPDATED when the call changes', async () => {
    const opened = Date.now();
    const sse = await openSse(gw.gateway.fetch, URL);
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    await nextPoll(gw, opened);
    const call = newCall();
    calls().push(call);
    const [created] = await sse.waitForResults(1);
    expect(created!.data?.callEvents).toMatchObject({
      kind: 'CREATED',
      call: { callId: call.raw.id, status: 'COMPLETED' },
    });
    expect(created!.sseId).toMatch(/^m\.[0-9a-f]+\.\d+$/);
    expect(created!.extensions?.eventId).toBe(created!.sseId);
    // The first message says where the stream starts, before any event.
    expect(sse.messages[0]).toEqual({ id: expect.stringMatching(/^m\./) });

    const index = calls().indexOf(call);
    calls()[index] = {
      ...call,
      raw: { ...call.raw, status: 'failed', updated_at: new Date(call.createdAt.getTime() + 5_000).toISOString() },
    };
    const [, updated] = await sse.waitForResults(2);
    expect(updated!.data?.callEvents).toMatchObject({
      kind: 'UPDATED',
      call: { callId: call.raw.id, status: 'FAILED' },
    });
    expect(sse.messages.filter((m) => m.event === 'next').every((m) => m.id !== undefined)).toBe(true);
    sse.close();
  });

  it('leaves other responses as yoga writes them: a query over SSE has no ids', async () => {
    const sse = await openSse(gw.gateway.fetch, URL, { query: '{ calls(first: 1) { totalCount } }' });
    expect(await sse.ended).toEqual({ completed: true });
    expect(sse.messages.map((m) => [m.event, m.id])).toEqual([
      ['next', undefined],
      ['complete', undefined],
    ]);
    expect(JSON.parse(sse.messages[0]!.data!)).toEqual({ data: { calls: { totalCount: expect.any(Number) } } });
  });

  it('sends each subscriber the calls its filter matches; cursors continue calls(after:) after the call', async () => {
    const opened = Date.now();
    const all = await openSse(gw.gateway.fetch, URL);
    const failedOutbound = await openSse(gw.gateway.fetch, URL, {
      variables: { filter: { status: 'FAILED', type: 'OUTBOUND' } },
    });
    const phone = await openSse(gw.gateway.fetch, URL, { variables: { filter: { phoneNumber: '151777' } } });
    const october = await openSse(gw.gateway.fetch, URL, { variables: { filter: { dateTo: '2026-10-31' } } });
    const november = await openSse(gw.gateway.fetch, URL, {
      variables: { filter: { dateFrom: '2026-11-01', type: 'INBOUND' } },
    });
    await nextPoll(gw, opened);
    const a = newCall({ status: 'completed', type: 'inbound' });
    const b = newCall({ status: 'failed', type: 'outbound' });
    const c = newCall({ status: 'failed', type: 'inbound', client_phone_number: '+4915177712345' });
    const d = newCall({ status: 'failed', type: 'outbound' });
    const e = newCall({ status: 'completed', type: 'outbound' });
    calls().push(a, b, c, d, e);
    const ids = (results: Awaited<ReturnType<typeof all.waitForResults>>) =>
      results.map((r) => r.data?.callEvents?.call.callId);
    expect(ids(await all.waitForResults(5))).toEqual([a.raw.id, b.raw.id, c.raw.id, d.raw.id, e.raw.id]);
    expect(ids(await failedOutbound.waitForResults(2))).toEqual([b.raw.id, d.raw.id]);
    expect(ids(await phone.waitForResults(1))).toEqual([c.raw.id]);
    expect(ids(await november.waitForResults(2))).toEqual([a.raw.id, c.raw.id]);
    await nextPoll(gw);
    expect(october.results()).toEqual([]);
    expect(failedOutbound.results()).toHaveLength(2);

    // The cursor of b, under the filter it was delivered with, continues at the call after b in that list.
    const filter = { status: 'FAILED', type: 'OUTBOUND' };
    const query = `query($filter: CallFilter, $after: String) {
      calls(first: 3, after: $after, filter: $filter) { drift { status } edges { node { callId } } }
    }`;
    const list = await gw.query<{ calls: { edges: { node: { callId: number } }[] } }, unknown>(query, { filter });
    const order = list.body.data!.calls.edges.map((e) => e.node.callId);
    expect(order.slice(0, 2)).toEqual([d.raw.id, b.raw.id]);
    const whole = await gw.query<{ calls: { edges: { node: { callId: number } }[] } }, unknown>(
      'query($filter: CallFilter) { calls(first: 5, filter: $filter) { edges { node { callId } } } }',
      { filter },
    );
    const expected = whole.body.data!.calls.edges.map((e) => e.node.callId);
    const cursorB = (await failedOutbound.waitForResults(2))[0]!.data!.callEvents!.cursor;
    const next = await gw.query<
      { calls: { drift: { status: string }; edges: { node: { callId: number } }[] } },
      unknown
    >(query, {
      filter,
      after: cursorB,
    });
    expect(next.body.errors).toBeUndefined();
    expect(next.body.data!.calls.edges.map((e) => e.node.callId)).toEqual(expected.slice(2, 5));
    // Its offset was the call's place in the unfiltered list; drift correction found it in the filtered one.
    expect(next.body.data!.calls.drift.status).toMatch(/^(CLEAN|SHIFTED)$/);

    // The unfiltered cursor of d (the newest) continues at c.
    const cursorD = (await all.waitForResults(5))[3]!.data!.callEvents!.cursor;
    const afterD = await gw.query<{ calls: { edges: { node: { callId: number } }[] } }, unknown>(
      'query($after: String) { calls(first: 2, after: $after) { edges { node { callId } } } }',
      { after: cursorD },
    );
    expect(afterD.body.data!.calls.edges.map((e) => e.node.callId)).toEqual([c.raw.id, b.raw.id]);
    for (const sse of [all, failedOutbound, phone, october, november]) sse.close();
  });

  it.each([
    ['assistantId', { assistantId: 3 }, 'BAD_USER_INPUT', 'filter.assistantId'],
    ['campaignId', { campaignId: 3 }, 'BAD_USER_INPUT', 'filter.campaignId'],
    ['an UNKNOWN status', { status: 'UNKNOWN' }, 'BAD_USER_INPUT', 'filter.status'],
    ['dateTo before dateFrom', { dateFrom: '2026-11-02', dateTo: '2026-11-01' }, 'BAD_USER_INPUT', 'filter.dateTo'],
  ])('refuses %s before opening anything or asking the upstream', async (_name, filter, code, argumentName) => {
    const before = gw.upstream().length;
    const sse = await openSse(gw.gateway.fetch, URL, { variables: { filter } });
    await sse.ended;
    const [result] = sse.results();
    expect(result!.errors?.[0]?.extensions).toMatchObject({ code, argumentName });
    expect(gw.upstream().length).toBe(before);
    expect(gw.gateway.live.snapshot().keys).toBe(0);
  });

  it('refuses a request without credentials with UNAUTHENTICATED', async () => {
    const sse = await openSse(gw.gateway.fetch, URL, { token: null });
    await sse.ended;
    expect(sse.results()[0]!.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('ends the stream with UNAUTHENTICATED when the upstream refuses the key', async () => {
    const sse = await openSse(gw.gateway.fetch, URL, { token: 'a-key-the-upstream-does-not-know' });
    expect(await sse.ended).toEqual({ completed: true });
    expect(sse.results().map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    await until(() => gw.gateway.live.snapshot().keys === 0, 5_000, 'the refused key forgotten');
  });

  it('is not on the subgraph endpoint', async () => {
    const response = await gw.query('subscription { callEvents { kind } }', undefined, { path: '/subgraph' });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('sends LIVE_RESYNC for an id it cannot continue from, then goes on', async () => {
    const opened = Date.now();
    const sse = await openSse(gw.gateway.fetch, URL, { lastEventId: 'm.00000000.7' });
    const [resync] = await sse.waitForResults(1);
    expect(resync!.data).toBeNull();
    expect(resync!.errors?.[0]?.extensions).toMatchObject({ code: 'LIVE_RESYNC', eventId: resync!.sseId });
    await nextPoll(gw, opened);
    const call = newCall();
    calls().push(call);
    const [, event] = await sse.waitForResults(2);
    expect(event!.data?.callEvents?.call.callId).toBe(call.raw.id);
    sse.close();
  });

  it('sends LIVE_RESYNC after the events when more calls arrived between two polls than one page shows', async () => {
    const opened = Date.now();
    const sse = await openSse(gw.gateway.fetch, URL);
    await nextPoll(gw, opened);
    calls().push(...Array.from({ length: 101 }, () => newCall()));
    const results = await sse.waitForResults(101);
    expect(results.slice(0, 100).every((r) => r.data?.callEvents?.kind === 'CREATED')).toBe(true);
    expect(results[100]!.errors?.[0]?.extensions?.code).toBe('LIVE_RESYNC');
    sse.close();
  });

  it.each([
    ['another subscriber kept the poller going', true],
    ['nobody listened: the next poller compares with the snapshot', false],
  ])(
    'resumes with Last-Event-ID: exactly the 3 calls inserted meanwhile, in order, once (%s)',
    async (_name, keepOther) => {
      const opened = Date.now();
      const other = keepOther ? await openSse(gw.gateway.fetch, URL) : null;
      const first = await openSse(gw.gateway.fetch, URL);
      await nextPoll(gw, opened);
      calls().push(newCall());
      const [seen] = await first.waitForResults(1);
      first.close();
      await until(() => gw.gateway.live.snapshot().subscribers === (keepOther ? 1 : 0), 5_000, 'the subscriber gone');
      const missed = [newCall(), newCall(), newCall()];
      calls().push(...missed);
      if (keepOther) await other!.waitForResults(4);
      else await sleep(2 * POLL_MS);
      const resumed = await openSse(gw.gateway.fetch, URL, { lastEventId: seen!.sseId });
      const results = await resumed.waitForResults(3);
      // The stream starts at the id it resumed from.
      expect(resumed.messages[0]).toEqual({ id: seen!.sseId });
      expect(results.map((r) => [r.data?.callEvents?.kind, r.data?.callEvents?.call.callId])).toEqual(
        missed.map((c) => ['CREATED', c.raw.id]),
      );
      // Nothing more: two more polls bring no repeat.
      const since = Date.now();
      await nextPoll(gw, since);
      await nextPoll(gw);
      expect(resumed.results()).toHaveLength(3);
      resumed.close();
      other?.close();
    },
  );
});

describe('callEvents across two gateways sharing Redis', () => {
  let redis: TestRedis;
  let gw: TestGateway;
  let second: ReturnType<typeof createGateway>;
  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({ limits: 'off', config: { livePollIntervalMs: POLL_MS, redisUrl: redis.url } });
    second = createGateway(
      {
        ...loadConfig({}),
        upstreamBaseUrl: gw.simulator.url,
        livePollIntervalMs: POLL_MS,
        redisUrl: redis.url,
        upstreamRateLimits: parseRateLimits('1000000/60s'),
      },
      { logger: createLogger('silent') },
    );
    await until(() => gw.gateway.shared!.available() && second.shared!.available(), 10_000, 'Redis connected');
  });
  afterAll(async () => {
    await second?.close();
    await gw?.close();
    await redis?.close();
  });

  it("resumes on the other replica with the first one's id: exactly the 3 missed calls, in order, once", async () => {
    const calls = gw.simulator.tenants.get(DEMO_TOKEN)!;
    const opened = Date.now();
    const first = await openSse(gw.gateway.fetch, URL);
    await nextPoll(gw, opened);
    calls.push(newCall());
    const [seen] = await first.waitForResults(1);
    expect(seen!.sseId).toMatch(/^\d+-\d+$/);
    // Another subscriber on the first replica keeps the key's poller there: the missed calls are logged in
    // Redis before the client comes back on the second replica, so only its Last-Event-ID can bring them.
    const keeper = await openSse(gw.gateway.fetch, URL);
    await until(() => keeper.messages.length > 0, 5_000, 'the keeper subscribed');
    first.close();
    await until(() => gw.gateway.live.snapshot().subscribers === 1, 5_000, 'the subscriber gone');
    const missed = [newCall(), newCall(), newCall()];
    calls.push(...missed);
    await keeper.waitForResults(3);
    const resumed = await openSse(second.fetch, URL, { lastEventId: seen!.sseId });
    const results = await resumed.waitForResults(3);
    expect(results.map((r) => r.data?.callEvents?.call.callId)).toEqual(missed.map((c) => c.raw.id));
    await nextPoll(gw, Date.now());
    await nextPoll(gw);
    expect(resumed.results()).toHaveLength(3);
    resumed.close();
  });
});

describe('shutdown', () => {
  it('ends every stream without `complete`, so clients reconnect and resume', async () => {
    const gw = await startTestGateway({ limits: 'off', config: { livePollIntervalMs: POLL_MS } });
    try {
      const sse = await openSse(gw.gateway.fetch, URL);
      await until(() => gw.gateway.live.snapshot().subscribers === 1, 5_000, 'subscribed');
      await gw.gateway.live.close();
      expect(await sse.ended).toEqual({ completed: false });
      expect(gw.gateway.live.snapshot().keys).toBe(0);
    } finally {
      await gw.close();
    }
  });
});
