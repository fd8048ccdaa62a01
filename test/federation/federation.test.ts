/**
 * The gateway as a Federation 2 subgraph, proven with the ecosystem's own tools: The Guild's composition
 * library composes it with a CRM subgraph written here, and Hive Gateway's runtime executes queries that
 * cross the boundary both ways. Both subgraphs listen on 127.0.0.1 port 0; the router runs in-process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { printSubgraphSdl } from '../../src/print-schema.js';
import { DEMO_TOKEN, demoCalls, SECOND_TENANT_TOKEN, secondTenantCalls } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
const globalId = (callId: number) => Buffer.from(`Call:${callId}`).toString('base64');

// The CRM team's subgraph: it stores upstream call ids (from post-call webhooks) and notes about them.
const newest = [...demoCalls()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.raw.id - a.raw.id);
const noted = [newest[0]!.raw.id, newest[2]!.raw.id, newest[40]!.raw.id];
const notes = new Map(noted.map((id, i) => [id, `note ${i + 1} on ${id}`]));
const CRM_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  type Call @key(fields: "callId") {
    callId: Int!
    crmNote: String
  }
  type Query {
    recentNotes: [Call!]!
  }
`;
const crmSchema = buildSubgraphSchema({
  typeDefs: parse(CRM_SDL),
  resolvers: {
    Query: { recentNotes: () => [...noted, noted[0]!].map((callId) => ({ callId })) },
    Call: {
      __resolveReference: (ref: { callId: number }) => ({ callId: ref.callId }),
      crmNote: (call: { callId: number }) => notes.get(call.callId) ?? null,
    },
  },
});

describe('federation', () => {
  let gw: TestGateway;
  let subgraphServer: Server;
  let crmServer: Server;
  let router: GatewayRuntime;
  let supergraphSdl: string;

  beforeAll(async () => {
    // Upstream requests are counted per distinct call: no page cache to answer what an earlier test listed.
    gw = await startTestGateway({ config: { upstreamCacheTtlMs: 0 } });
    subgraphServer = createServer(gw.gateway.handle);
    const callsUrl = `${await listen(subgraphServer)}/subgraph`;
    crmServer = createServer(createYoga({ schema: crmSchema, logging: false }));
    const crmUrl = `${await listen(crmServer)}/graphql`;
    const composed = composeServices([
      { name: 'calls', typeDefs: parse(printSubgraphSdl()), url: callsUrl },
      { name: 'crm', typeDefs: parse(CRM_SDL), url: crmUrl },
    ]);
    expect(composed.errors ?? []).toEqual([]);
    supergraphSdl = composed.supergraphSdl!;
    router = createGatewayRuntime({
      supergraph: supergraphSdl,
      logging: false,
      // What the README tells Hive Gateway users to configure: forward the caller's API key.
      propagateHeaders: {
        fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }),
      },
    });
  });
  afterAll(async () => {
    await router?.[Symbol.asyncDispose]();
    await Promise.all([close(subgraphServer), close(crmServer)]);
    await gw.close();
  });
  beforeEach(() => gw.resetUpstream());

  const viaRouter = async (query: string, token = DEMO_TOKEN) => {
    const response = await router.fetch('http://router.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };

  it('composes with zero errors and keeps both keys of Call in the supergraph', () => {
    expect(supergraphSdl).toContain('@join__type(graph: CALLS, key: "id")');
    expect(supergraphSdl).toContain('@join__type(graph: CALLS, key: "callId")');
    expect(supergraphSdl).toContain('@join__type(graph: CRM, key: "callId")');
  });

  it('calls -> crmNote: one upstream list request, the caller token upstream, CRM fields joined by callId', async () => {
    const body = await viaRouter('{ calls(first: 3) { totalCount edges { node { callId status crmNote } } } }');
    expect(body.errors).toBeUndefined();
    const nodes = (
      body.data!.calls as { edges: { node: { callId: number; status: string; crmNote: string | null } }[] }
    ).edges.map((e) => e.node);
    expect(nodes.map((n) => n.callId)).toEqual(newest.slice(0, 3).map((c) => c.raw.id));
    expect(nodes.map((n) => n.crmNote)).toEqual([notes.get(noted[0]!), null, notes.get(noted[1]!)]);
    expect(gw.upstream()).toHaveLength(1);
    expect(gw.upstream()[0]).toMatchObject({
      path: '/api/user/calls',
      authorization: `Bearer ${DEMO_TOKEN}`,
      query: { per_page: '3', page: '1' },
    });
  });

  it('recentNotes -> Call fields: _entities by callId, one upstream request per distinct call', async () => {
    const body = await viaRouter('{ recentNotes { callId crmNote status transcriptText } }');
    expect(body.errors).toBeUndefined();
    const rows = body.data!.recentNotes as {
      callId: number;
      crmNote: string;
      status: string;
      transcriptText: string | null;
    }[];
    expect(rows.map((r) => r.callId)).toEqual([...noted, noted[0]]);
    const byId = new Map(demoCalls().map((c) => [c.raw.id, c.raw]));
    for (const row of rows) expect(row.status).toBe(byId.get(row.callId)!.status.toUpperCase().replace(/-/g, '_'));
    expect(
      gw
        .upstream()
        .map((r) => r.path)
        .sort(),
    ).toEqual(noted.map((id) => `/api/user/calls/${id}`).sort());
    for (const r of gw.upstream()) expect(r.authorization).toBe(`Bearer ${DEMO_TOKEN}`);
  });

  it("each caller's token reaches the upstream: another tenant sees its own calls through the router", async () => {
    const body = await viaRouter('{ calls(first: 2) { edges { node { callId } } } }', SECOND_TENANT_TOKEN);
    const ids = (body.data!.calls as { edges: { node: { callId: number } }[] }).edges.map((e) => e.node.callId);
    const theirs = new Set(secondTenantCalls().map((c) => c.raw.id));
    expect(ids.every((id) => theirs.has(id))).toBe(true);
    expect(gw.upstream().map((r) => r.authorization)).toEqual([`Bearer ${SECOND_TENANT_TOKEN}`]);
  });
});

describe('the subgraph endpoint', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Lookup concurrency and per-item answers, counted per request: 25 distinct lookups at once are more than
    // one key's budget allows in 10 s (test/budget/ covers that), and no cache answers an earlier test's calls.
    // The per-key limit (8 in flight) is lifted, so that the per-operation lookup limit (8) alone holds lookups to 8.
    gw = await startTestGateway({
      limits: 'off',
      simulator: { latencyMs: 80 },
      config: { upstreamCacheTtlMs: 0, upstreamConcurrencyPerKey: 64 },
    });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.resetUpstream());

  const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Call { callId status } } }';

  it('_entities with 50 representations: one upstream request per distinct id, at most 8 in flight, null for 404', async () => {
    const known = demoCalls()
      .slice(0, 20)
      .map((c) => c.raw.id);
    const unknown = [99_000_001, 99_000_002, 99_000_003, 99_000_004, 99_000_005];
    const pool = [...known, ...unknown];
    const representations = Array.from({ length: 50 }, (_, i) => {
      const callId = pool[i % pool.length]!;
      // Both key forms, mixed: the global id and the upstream callId.
      return i % 2 === 0 ? { __typename: 'Call', callId } : { __typename: 'Call', id: globalId(callId) };
    });
    const { status, headers, body } = await gw.query(ENTITIES, { r: representations }, { path: '/subgraph' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const entities = (body.data as { _entities: ({ callId: number } | null)[] })._entities;
    expect(entities).toHaveLength(50);
    entities.forEach((entity, i) => {
      const callId = pool[i % pool.length]!;
      expect(entity?.callId ?? null).toBe(unknown.includes(callId) ? null : callId);
    });
    const requests = gw.upstream();
    expect(requests.map((r) => r.path).sort()).toEqual(pool.map((id) => `/api/user/calls/${id}`).sort());
    // 25 lookups held 80 ms each by the upstream: counted, not timed, how many were open at once. Exactly 8
    // (the per-operation lookup limit): never more, and in parallel rather than one after another.
    expect(gw.simulator.peakOpenResponses()).toBe(8);
    expect(headers.get('cache-control')).toBe('private, no-store');
  });

  it('a malformed reference is an error at its own position only', async () => {
    const good = demoCalls()[0]!.raw.id;
    const { body } = await gw.query(
      ENTITIES,
      {
        r: [
          { __typename: 'Call', callId: good },
          { __typename: 'Call', callId: -3 },
          { __typename: 'Call', id: 'garbage!' },
        ],
      },
      { path: '/subgraph' },
    );
    const entities = (body.data as { _entities: ({ callId: number } | null)[] })._entities;
    expect(entities[0]?.callId).toBe(good);
    expect(entities.slice(1)).toEqual([null, null]);
    expect(body.errors?.map((e) => e.path)).toEqual([
      ['_entities', 1],
      ['_entities', 2],
    ]);
    expect(gw.upstream()).toHaveLength(1);
  });

  it('a representation of a type that is no entity here is null with BAD_USER_INPUT at its own position', async () => {
    const good = demoCalls()[1]!.raw.id;
    const { body } = await gw.query(
      ENTITIES,
      {
        r: [
          { __typename: 'Nope', id: 'x' },
          { __typename: 'Call', callId: good },
          { __typename: 'TranscriptSegment' },
          {},
          'x',
        ],
      },
      { path: '/subgraph' },
    );
    const entities = (body.data as { _entities: ({ callId: number } | null)[] })._entities;
    expect(entities.map((entity) => entity?.callId ?? null)).toEqual([null, good, null, null, null]);
    expect(body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.argumentName])).toEqual(
      [0, 2, 3, 4].map((i) => [['_entities', i], 'BAD_USER_INPUT', 'representations']),
    );
    expect(gw.upstream()).toHaveLength(1);
  });

  it('_service serves the subgraph SDL with @link and @key', async () => {
    const { body } = await gw.query('{ _service { sdl } }', undefined, { path: '/subgraph', token: null });
    const sdl = (body.data as { _service: { sdl: string } })._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.6"');
    expect(sdl).toMatch(/type Call implements Node\s+@key\(fields: "id"\)\s+@key\(fields: "callId"\)/);
  });

  it('the public endpoint exposes no federation internals', async () => {
    for (const query of ['{ _service { sdl } }', '{ _entities(representations: []) { __typename } }']) {
      const { body } = await gw.query(query);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    const { body } = await gw.query('{ a: __type(name: "_Any") { name } b: __type(name: "_Service") { name } }');
    expect(body.data).toEqual({ a: null, b: null });
    expect(gw.upstream()).toHaveLength(0);
  });

  it('answers with Cache-Control: private, no-store on the public endpoint too', async () => {
    const { headers } = await gw.query('{ calls(first: 1) { totalCount } }');
    expect(headers.get('cache-control')).toBe('private, no-store');
  });
});

describe('protecting or disabling the subgraph endpoint', () => {
  it('with SUBGRAPH_SECRET, only callers presenting it get through, and others cost no upstream request', async () => {
    const secret = 'router-shared-secret-0123';
    const gw = await startTestGateway({ config: { subgraphSecret: secret } });
    try {
      const query = `{ _entities(representations: [{ __typename: "Call", callId: ${demoCalls()[0]!.raw.id} }]) { ... on Call { callId } } }`;
      for (const headers of [{}, { 'x-subgraph-secret': 'wrong' }, { 'x-subgraph-secret': `${secret}x` }] as Record<
        string,
        string
      >[]) {
        const denied = await gw.query(query, undefined, { path: '/subgraph', headers });
        expect(denied.status).toBe(401);
        expect(denied.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      expect(gw.upstream()).toHaveLength(0);
      const allowed = await gw.query(query, undefined, { path: '/subgraph', headers: { 'x-subgraph-secret': secret } });
      expect(allowed.body.errors).toBeUndefined();
      expect(gw.upstream()).toHaveLength(1);
      // The public endpoint does not ask for the secret.
      expect((await gw.query('{ calls(first: 1) { totalCount } }')).body.errors).toBeUndefined();
    } finally {
      await gw.close();
    }
  });

  it('with SUBGRAPH_ENABLED=false there is no subgraph endpoint', async () => {
    const gw = await startTestGateway({ config: { subgraphEnabled: false } });
    try {
      expect(gw.gateway.subgraph).toBeNull();
      const response = await gw.gateway.fetch('http://gw/subgraph', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ _service { sdl } }"}',
      });
      expect(response.status).toBe(404);
    } finally {
      await gw.close();
    }
  });
});
