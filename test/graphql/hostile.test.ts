/**
 * What a hostile or merely odd upstream does to the connection and to `callStats` (issue 11): a `total`
 * larger than the rows it serves, envelopes without `total`, a failing field beside a working one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateCalls, type SimCall } from '../../src/simulator/data.js';
import type { SimFault } from '../../src/simulator/server.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const TOKEN = 'hostile-token';
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const newestFirst = (calls: SimCall[]) =>
  [...calls].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.raw.id - a.raw.id);

const PAGE = `query Page($first: Int, $after: String, $last: Int) {
  calls(first: $first, after: $after, last: $last) { totalCount pageInfo { hasNextPage endCursor } edges { node { callId } } }
}`;
type Page = {
  totalCount: number | null;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: { callId: number } }[];
};

describe('an upstream whose total is larger than the rows it serves (item 4)', () => {
  it('ends a walk where the rows end: never hasNextPage without an end cursor to continue from', async () => {
    const calls = newestFirst(generateCalls({ seed: 4, count: 20, firstId: 1 }));
    // Pages as the paginator would cut them, but with a total of 300 for a list of 20.
    const lying = (request: { path: string; query: Record<string, string> }): SimFault | undefined => {
      if (!request.path.endsWith('/user/calls')) return undefined;
      const perPage = Number(request.query.per_page ?? 15);
      const page = Number(request.query.page ?? 1);
      const data = calls.slice((page - 1) * perPage, page * perPage).map((c) => c.raw);
      const body = { data, current_page: page, per_page: perPage, total: 300, last_page: Math.ceil(300 / perPage) };
      return {
        kind: 'respond',
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
    };
    gw = await startTestGateway({ simulator: { tenants: { [TOKEN]: calls }, faults: lying } });
    const seen: number[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const response: { body: { data?: unknown } } = await gw.query(PAGE, { first: 8, after }, { token: TOKEN });
      const page: Page = (response.body.data as { calls: Page }).calls;
      seen.push(...page.edges.map((e) => e.node.callId));
      if (page.pageInfo.hasNextPage) expect(page.pageInfo.endCursor).not.toBeNull();
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(calls.map((c) => c.raw.id));
  });
});

describe('an upstream that answers lists with { data } only (items 4 and 5)', () => {
  const calls = generateCalls({ seed: 5, count: 250, firstId: 1 });

  it('callStats reads to the end (the short page) and counts all 250 calls, complete', async () => {
    gw = await startTestGateway({ simulator: { tenants: { [TOKEN]: calls }, envelope: 'data' } });
    const { body } = await gw.query('{ callStats { count complete scannedCount } }', {}, { token: TOKEN });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ callStats: { count: 250, complete: true, scannedCount: 250 } });
  });

  it('callStats stopped by STATS_MAX_CALLS says complete: false', async () => {
    gw = await startTestGateway({
      simulator: { tenants: { [TOKEN]: calls }, envelope: 'data' },
      config: { statsMaxCalls: 100 },
    });
    const { body } = await gw.query('{ callStats { count complete scannedCount } }', {}, { token: TOKEN });
    expect(body.data).toEqual({ callStats: { count: 100, complete: false, scannedCount: 100 } });
  });

  it('totalCount fails alone with UPSTREAM_BAD_RESPONSE; the edges and page info are served', async () => {
    gw = await startTestGateway({ simulator: { tenants: { [TOKEN]: calls }, envelope: 'data' } });
    const { body } = await gw.query(PAGE, { first: 5 }, { token: TOKEN });
    const page = (body.data as { calls: Page }).calls;
    expect(page.edges.map((e) => e.node.callId)).toEqual(
      newestFirst(calls)
        .slice(0, 5)
        .map((c) => c.raw.id),
    );
    expect(page).toMatchObject({ totalCount: null, pageInfo: { hasNextPage: true } });
    expect(body.errors).toMatchObject([
      { path: ['calls', 'totalCount'], extensions: { code: 'UPSTREAM_BAD_RESPONSE' } },
    ]);
  });

  it('last without before says why it cannot be served, instead of an empty list', async () => {
    gw = await startTestGateway({ simulator: { tenants: { [TOKEN]: calls }, envelope: 'data' } });
    const { body } = await gw.query(PAGE, { last: 5 }, { token: TOKEN });
    expect(body.data).toEqual({ calls: null });
    expect(body.errors).toMatchObject([{ path: ['calls'], extensions: { code: 'UPSTREAM_BAD_RESPONSE' } }]);
    expect(body.errors![0]!.message).toMatch(/`last` without `before`/);
  });
});

describe('one failing root field leaves the others (item 7)', () => {
  it('a callStats that fails is null with its error; the calls page of the same operation is served', async () => {
    gw = await startTestGateway({
      simulator: {
        faults: (r) =>
          r.query.per_page === '100' ? { kind: 'respond', status: 500, body: '{"message":"Server Error"}' } : undefined,
      },
      upstream: { maxRetries: 0 },
    });
    const { body } = await gw.query('{ calls(first: 3) { edges { node { callId } } } callStats { count } }');
    expect((body.data as { calls: Page }).calls.edges).toHaveLength(3);
    expect((body.data as { callStats: unknown }).callStats).toBeNull();
    expect(body.errors).toMatchObject([{ path: ['callStats'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } }]);
  });

  it('a calls page that fails is null with its error; a call looked up beside it is served', async () => {
    gw = await startTestGateway({
      simulator: {
        faults: (r) =>
          r.path.endsWith('/user/calls')
            ? { kind: 'respond', status: 500, body: '{"message":"Server Error"}' }
            : undefined,
      },
      upstream: { maxRetries: 0 },
    });
    const { body } = await gw.query(
      '{ calls(first: 3) { edges { node { callId } } } call(callId: 100001) { callId } }',
    );
    expect(body.data).toEqual({ calls: null, call: { callId: 100_001 } });
    expect(body.errors).toMatchObject([{ path: ['calls'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } }]);
  });
});

describe('range and precision (items 17 and 18)', () => {
  const calls = generateCalls({ seed: 17, count: 5, firstId: 1 });
  const newest = newestFirst(calls)[0]!;
  // The newest call gets an id beyond GraphQL's Int and a cost a float cannot hold.
  newest.raw = { ...newest.raw, id: 3_000_000_000, total_cost: '12345678901.12345678', carrier_cost: '0.10000001' };

  it('an upstream id above 2^31-1 fails only its own callId field; id and the other fields and calls are served', async () => {
    gw = await startTestGateway({ simulator: { tenants: { [TOKEN]: calls } } });
    const { body } = await gw.query(
      '{ calls(first: 5) { edges { node { id callId status } } } }',
      {},
      { token: TOKEN },
    );
    const nodes = (
      body.data as { calls: { edges: { node: { id: string; callId: number | null; status: string } }[] } }
    ).calls.edges.map((e) => e.node);
    expect(nodes).toHaveLength(5);
    expect(nodes[0]).toMatchObject({
      id: Buffer.from('Call:3000000000').toString('base64'),
      callId: null,
      status: expect.any(String),
    });
    expect(nodes.slice(1).every((n) => typeof n.callId === 'number')).toBe(true);
    expect(body.errors).toMatchObject([
      { path: ['calls', 'edges', 0, 'node', 'callId'], extensions: { code: 'UPSTREAM_BAD_RESPONSE' } },
    ]);
    // The global id still reaches the call.
    const byId = await gw.query(`{ node(id: "${nodes[0]!.id}") { ... on Call { status } } }`, {}, { token: TOKEN });
    expect(byId.body.errors).toBeUndefined();
    expect(byId.body.data).toEqual({ node: { status: nodes[0]!.status } });
  });

  it('costs come exactly as Decimal beside the Float fields', async () => {
    gw = await startTestGateway({ simulator: { tenants: { [TOKEN]: calls } } });
    const { body } = await gw.query(
      '{ calls(first: 1) { edges { node { totalCost totalCostDecimal carrierCost carrierCostDecimal } } } }',
      {},
      { token: TOKEN },
    );
    const node = (body.data as { calls: { edges: { node: Record<string, unknown> }[] } }).calls.edges[0]!.node;
    expect(node).toEqual({
      totalCost: 12_345_678_901.123457,
      totalCostDecimal: '12345678901.12345678',
      carrierCost: 0.10000001,
      carrierCostDecimal: '0.10000001',
    });
  });
});
