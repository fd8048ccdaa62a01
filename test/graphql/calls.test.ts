import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CURSOR_SECRET } from '../../src/config.js';
import { encodeCursor } from '../../src/pagination/cursor.js';
import { planWindow } from '../../src/pagination/window.js';
import { DEMO_TOKEN, SECOND_TENANT_TOKEN } from '../../src/simulator/data.js';
import {
  type CallFilter,
  CallIdsPageDocument,
  type CallIdsPageQuery,
  CallsPageDocument,
  CallsTotalDocument,
} from '../gql/graphql.js';
import { ManualClock } from '../support/clock.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  // The planner's choices, page by page: no page cache (it would answer repeated rows without a request)
  // and no budget (the walks below make more requests than one key may make in 10 s; test/budget/ covers it).
  gw = await startTestGateway({ limits: 'off', config: { pageSizeMax: 250, upstreamCacheTtlMs: 0 } });
});
afterAll(() => gw.close());
beforeEach(() => gw.resetUpstream());

/** The upstream's own list for a query, read straight from the simulator with per_page=100. */
async function upstreamIds(query: Record<string, string>): Promise<number[]> {
  const ids: number[] = [];
  for (let page = 1; ; page++) {
    const url = `${gw.simulator.url}/user/calls?${new URLSearchParams({ ...query, per_page: '100', page: String(page) })}`;
    const body = (await (
      await fetch(url, { headers: { authorization: `Bearer ${DEMO_TOKEN}`, accept: 'application/json' } })
    ).json()) as {
      data: { id: number }[];
      last_page: number;
    };
    ids.push(...body.data.map((c) => c.id));
    if (page >= body.last_page) return ids;
  }
}

const filtered: CallFilter = { status: 'COMPLETED', type: 'OUTBOUND' };
const filteredQuery = { status: 'completed', type: 'outbound' };

describe('calls: forward and backward walks', () => {
  it('walks a filtered list with a page size that changes between requests and gets exactly the upstream list', async () => {
    const expected = await upstreamIds(filteredQuery);
    expect(expected.length).toBeGreaterThan(150);
    gw.resetUpstream();
    const sizes = [7, 20, 13, 100, 1, 50, 33, 250, 2];
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    let expectedRequests = 0;
    for (;;) {
      const first = sizes[pages % sizes.length]!;
      const response = await gw.query(CallIdsPageDocument, { filter: filtered, first, after });
      expect(response.body.errors).toBeUndefined();
      const calls: NonNullable<CallIdsPageQuery['calls']> = response.body.data!.calls!;
      expect(calls.totalCount).toBe(expected.length);
      expect(calls.pageInfo.hasPreviousPage).toBe(seen.length > 0);
      seen.push(...calls.edges.map((e) => e.node.callId!));
      // Pages after the first also read their anchor's row (drift-proof cursors).
      const offset = seen.length - calls.edges.length;
      expectedRequests += (after === null ? planWindow(offset, first) : planWindow(offset - 1, first + 1)).length;
      pages++;
      if (!calls.pageInfo.hasNextPage) break;
      expect(calls.edges).toHaveLength(first);
      after = calls.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    // Every page cost exactly the planner's optimum, and every request carried the filter.
    expect(gw.upstream()).toHaveLength(expectedRequests);
    for (const r of gw.upstream()) expect(r.query).toMatchObject(filteredQuery);
  });

  it('walks backwards with last/before from the end to the start', async () => {
    const expected = await upstreamIds({ status: 'failed' });
    gw.resetUpstream();
    const first = await gw.query(CallIdsPageDocument, { filter: { status: 'FAILED' }, last: 12 });
    // `last` without `before` needs the total first: one per_page=1 request, then the window.
    expect(gw.upstream().map((r) => r.query.per_page)).toEqual(['1', expect.any(String)]);
    const collected: number[] = [];
    let page = first.body.data!.calls!;
    expect(page.pageInfo.hasNextPage).toBe(false);
    for (;;) {
      expect(page.totalCount).toBe(expected.length);
      collected.unshift(...page.edges.map((e) => e.node.callId!));
      if (!page.pageInfo.hasPreviousPage) break;
      const { body } = await gw.query(CallIdsPageDocument, {
        filter: { status: 'FAILED' },
        last: 12,
        before: page.pageInfo.startCursor,
      });
      expect(body.errors).toBeUndefined();
      page = body.data!.calls!;
      expect(page.pageInfo.hasNextPage).toBe(true);
    }
    expect(collected).toEqual(expected);
  });

  it('serves every field of a page of 15 in one upstream request and forwards the bearer token with Accept: application/json', async () => {
    const { body } = await gw.query(CallsPageDocument, { first: 15 });
    expect(body.errors).toBeUndefined();
    expect(body.data!.calls!.edges).toHaveLength(15);
    expect(gw.upstream()).toHaveLength(1);
    expect(gw.upstream()[0]).toMatchObject({
      method: 'GET',
      path: '/api/user/calls',
      query: { page: '1', per_page: '15' },
      authorization: `Bearer ${DEMO_TOKEN}`,
      accept: 'application/json',
    });
    const node = body.data!.calls!.edges[0]!.node;
    expect(node.id).toBe(Buffer.from(`Call:${node.callId}`).toString('base64'));
    expect(node.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it.each([
    ['a first page: the cheapest plan', null, 15, ['15', '1']],
    ['a walk at offset 30: an aligned page of 100 for the same one request (read-ahead)', 29, 15, ['100', '1']],
    ['a walk at offset 3: an aligned page of 100', 2, 10, ['100', '1']],
    [
      'a walk across a boundary of 100 (rows 95-114): aligned pages would take two, so the cheapest one',
      94,
      20,
      ['23', '5'],
    ],
  ])('plans %s', async (_name, cursorOffset, first, expected) => {
    // Version 1 cursors carry no anchor, so the window is exactly the rows asked for.
    const after =
      cursorOffset === null ? null : encodeCursor(cursorOffset, { filterKey: '', secret: DEFAULT_CURSOR_SECRET });
    await gw.query(CallIdsPageDocument, { first, after });
    expect(gw.upstream().map((r) => [r.query.per_page, r.query.page])).toEqual([expected]);
  });

  it('fetches a window larger than one upstream page with concurrent requests', async () => {
    const slow = await startTestGateway({ config: { pageSizeMax: 250 }, simulator: { latencyMs: 150 } });
    try {
      const { body } = await slow.query(CallIdsPageDocument, { first: 250 });
      expect(body.data!.calls!.edges).toHaveLength(250);
      const pages = planWindow(0, 250).length;
      expect(slow.upstream()).toHaveLength(pages);
      // Counted, not timed: every page was open upstream at the same moment (each is held 150 ms there),
      // which sequential requests never are.
      expect(slow.simulator.peakOpenResponses()).toBe(pages);
    } finally {
      await slow.close();
    }
  });
});

describe('calls: page info, totals and empty windows', () => {
  it('answers a totalCount-only query with one per_page=1 request', async () => {
    const { body } = await gw.query(CallsTotalDocument, { filter: { status: 'NO_ANSWER' } });
    expect(body.data!.calls!.totalCount).toBe((await upstreamIds({ status: 'no-answer' })).length);
    expect(gw.upstream()[0]!.query).toEqual({ status: 'no-answer', page: '1', per_page: '1' });
  });

  it('first: 0 gives no edges but exact page info and total', async () => {
    const { body } = await gw.query(CallIdsPageDocument, { first: 0 });
    expect(body.errors).toBeUndefined();
    expect(body.data!.calls).toMatchObject({
      edges: [],
      totalCount: 2500,
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
    expect(gw.upstream()).toHaveLength(1);
  });

  it('the last page says hasNextPage false and the list is exactly covered', async () => {
    const total = (await gw.query(CallsTotalDocument, {})).body.data!.calls!.totalCount!;
    const all = await gw.query(CallIdsPageDocument, { last: 5 });
    expect(all.body.data!.calls!.edges).toHaveLength(5);
    expect(all.body.data!.calls!.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: total > 5 });
  });

  it('an empty filtered list has no edges and no next page', async () => {
    const { body } = await gw.query(CallIdsPageDocument, { filter: { phoneNumber: '+0000000000' }, first: 10 });
    expect(body.data!.calls).toMatchObject({
      edges: [],
      totalCount: 0,
      pageInfo: { hasNextPage: false, hasPreviousPage: false },
    });
  });

  it('costs nothing upstream when only __typename is asked', async () => {
    const { body } = await gw.query('{ calls(first: 5) { __typename } }');
    expect(body.data).toEqual({ calls: { __typename: 'CallConnection' } });
    expect(gw.upstream()).toHaveLength(0);
  });
});

describe('calls: per-request DataLoader', () => {
  it('makes two aliases of the same page one upstream request', async () => {
    const { body } = await gw.query(`{
      a: calls(first: 15) { edges { node { callId } } }
      b: calls(first: 15) { totalCount edges { node { callId status } } }
    }`);
    expect(body.errors).toBeUndefined();
    expect(gw.upstream()).toHaveLength(1);
  });

  it('serves call(callId:) from a list of the same operation without another request', async () => {
    const ids = (await upstreamIds({})).slice(0, 5);
    gw.resetUpstream();
    const { body } = await gw.query(`{
      calls(first: 5) { edges { node { callId } } }
      call(callId: ${ids[3]}) { callId status }
      node(id: "${Buffer.from(`Call:${ids[1]}`).toString('base64')}") { ... on Call { callId } }
    }`);
    expect(body.errors).toBeUndefined();
    expect((body.data as { call: { callId: number } }).call.callId).toBe(ids[3]);
    expect((body.data as { node: { callId: number } }).node.callId).toBe(ids[1]);
    expect(gw.upstream().map((r) => r.path)).toEqual(['/api/user/calls']);
  });

  it('dedupes repeated lookups of one call and looks up distinct calls once each', async () => {
    const ids = await upstreamIds({ status: 'busy' });
    gw.resetUpstream();
    const { body } = await gw.query(`{
      a: call(callId: ${ids[0]}) { callId }
      b: call(callId: ${ids[0]}) { status }
      c: call(callId: ${ids[1]}) { callId }
    }`);
    expect(body.errors).toBeUndefined();
    expect(
      gw
        .upstream()
        .map((r) => r.path)
        .sort(),
    ).toEqual([`/api/user/calls/${ids[0]}`, `/api/user/calls/${ids[1]}`].sort());
  });

  it('shares nothing between requests without the page cache: the same page twice costs two requests', async () => {
    await gw.query(CallIdsPageDocument, { first: 3 });
    await gw.query(CallIdsPageDocument, { first: 3 });
    expect(gw.upstream()).toHaveLength(2);
  });
});

describe('calls: the page cache (UPSTREAM_CACHE_TTL_MS)', () => {
  let cached: TestGateway;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    cached = await startTestGateway({ clock, config: { upstreamDebugExtension: true } });
    // The cache keeps what a key reads once the key has come back (cache.ts, "Admission").
    await cached.query(CallsTotalDocument, {});
    await cached.query(CallsTotalDocument, {}, { token: SECOND_TENANT_TOKEN });
  });
  afterAll(() => cached.close());
  beforeEach(() => cached.resetUpstream());

  it('answers a repeat by the same key within the TTL from memory, with the same data, and says so in extensions.upstream', async () => {
    const first = await cached.query(CallIdsPageDocument, { first: 7, filter: { type: 'WEB' } });
    const again = await cached.query(CallIdsPageDocument, { first: 7, filter: { type: 'WEB' } });
    expect(again.body.data).toEqual(first.body.data);
    expect(cached.upstream()).toHaveLength(1);
    expect(first.body.extensions?.upstream).toEqual({ requests: 1, cacheHits: 0, queuedMs: 0 });
    expect(again.body.extensions?.upstream).toEqual({ requests: 0, cacheHits: 1, queuedMs: 0 });
  });

  it('serves rows of a wider cached page, and call(callId:) of a listed call, without a request', async () => {
    const wide = await cached.query(CallIdsPageDocument, { first: 20, filter: { type: 'INBOUND' } });
    const ids = wide.body.data!.calls!.edges.map((e) => e.node.callId);
    const narrow = await cached.query(CallIdsPageDocument, { first: 5, filter: { type: 'INBOUND' } });
    expect(narrow.body.data!.calls!.edges.map((e) => e.node.callId)).toEqual(ids.slice(0, 5));
    const one = await cached.query(`{ call(callId: ${ids[7]}) { callId } }`);
    expect(one.body.data).toEqual({ call: { callId: ids[7] } });
    expect(cached.upstream()).toHaveLength(1);
  });

  it("never answers one key from another key's cache", async () => {
    await cached.query(CallIdsPageDocument, { first: 4, filter: { type: 'OUTBOUND' } });
    const other = await cached.query(
      CallIdsPageDocument,
      { first: 4, filter: { type: 'OUTBOUND' } },
      { token: SECOND_TENANT_TOKEN },
    );
    expect(other.body.extensions?.upstream).toMatchObject({ requests: 1, cacheHits: 0 });
    expect(cached.upstream().map((r) => r.authorization)).toEqual([
      `Bearer ${DEMO_TOKEN}`,
      `Bearer ${SECOND_TENANT_TOKEN}`,
    ]);
  });

  it('asks the upstream again once the TTL is over, and for Cache-Control: no-cache', async () => {
    await cached.query(CallIdsPageDocument, { first: 6, filter: { status: 'BUSY' } });
    await clock.advance(5_000);
    await cached.query(CallIdsPageDocument, { first: 6, filter: { status: 'BUSY' } });
    await cached.query(
      CallIdsPageDocument,
      { first: 6, filter: { status: 'BUSY' } },
      { headers: { 'cache-control': 'no-cache' } },
    );
    expect(cached.upstream()).toHaveLength(3);
  });
});
