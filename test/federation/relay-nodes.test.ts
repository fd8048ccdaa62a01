/**
 * Relay's `node`/`nodes` in a graph where another subgraph has Node types and `node`/`nodes` of its own
 * (issue 11, item 8). Both subgraphs share the two fields (`@shareable`), so a router may send any id to
 * either: each one answers the ids of the other's Node types with references `{ __typename, id }`
 * (`SUBGRAPH_NODE_TYPES` here), and the router fetches their fields from the owner. Proven with both
 * composers, Apollo's and The Guild's, and with Hive Gateway's runtime executing over each supergraph.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices as composeWithTheGuild } from '@theguild/federation-composition';
import { type DocumentNode, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { printSubgraphSdl } from '../../src/print-schema.js';
import { subgraphSchemaWith } from '../../src/schema/index.js';
import { DEMO_TOKEN, demoCalls } from '../../src/simulator/data.js';
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
const globalId = (typename: string, id: number | string) => Buffer.from(`${typename}:${id}`).toString('base64');

// The CRM team's subgraph, Relay-style: its own Node type, its own node/nodes, and the calls subgraph's
// Node type declared as a reference, as SUBGRAPH_NODE_TYPES declares Note in the calls subgraph.
const CRM_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])
  interface Node { id: ID! }
  type Note implements Node @key(fields: "id") {
    id: ID!
    text: String!
  }
  type Call implements Node @key(fields: "id", resolvable: false) {
    id: ID!
  }
  type Query {
    node(id: ID!): Node @shareable
    nodes(ids: [ID!]!): [Node]! @shareable
  }
`;
const noteTexts = new Map([
  [7, 'Wants a quote for 40 seats.'],
  [8, 'Call back on Monday.'],
]);
/** What the CRM's node(id:) answers: its own notes, references for calls, null for anything else. */
function crmNode(id: string) {
  const [typename, key] = Buffer.from(id, 'base64').toString().split(':');
  if (typename === 'Call') return { __typename: 'Call', id };
  const text = typename === 'Note' ? noteTexts.get(Number(key)) : undefined;
  return text === undefined ? null : { __typename: 'Note', id, text };
}
const crmSchema = buildSubgraphSchema({
  typeDefs: parse(CRM_SDL),
  resolvers: {
    Query: {
      node: (_: unknown, args: { id: string }) => crmNode(args.id),
      nodes: (_: unknown, args: { ids: string[] }) => args.ids.map(crmNode),
    },
    Note: { __resolveReference: (reference: { id: string }) => crmNode(reference.id) },
  } as never,
});

const call = demoCalls()[3]!.raw;
const CALL = globalId('Call', call.id);
const NOTE = globalId('Note', 7);
const OTHER_NOTE = globalId('Note', 8);
const SELECTION = '__typename id ... on Call { callId status } ... on Note { text }';

describe('Relay node and nodes across subgraphs', () => {
  let gw: TestGateway;
  let callsServer: Server;
  let crmServer: Server;
  let callsSdl: string;
  let services: { name: string; typeDefs: DocumentNode; url: string }[];
  const routers = new Map<string, GatewayRuntime>();

  beforeAll(async () => {
    gw = await startTestGateway({ config: { subgraphNodeTypes: ['Note'], upstreamCacheTtlMs: 0 } });
    callsServer = createServer(gw.gateway.handle);
    const callsUrl = `${await listen(callsServer)}/subgraph`;
    crmServer = createServer(createYoga({ schema: crmSchema, logging: false }));
    const crmUrl = `${await listen(crmServer)}/graphql`;
    // What rover's `subgraph_url` and Hive's tooling read: the running subgraph's own SDL.
    const { body } = await gw.query('{ _service { sdl } }', undefined, { path: '/subgraph' });
    callsSdl = (body.data as { _service: { sdl: string } })._service.sdl;
    services = [
      { name: 'calls', typeDefs: parse(callsSdl), url: callsUrl },
      { name: 'crm', typeDefs: parse(CRM_SDL), url: crmUrl },
    ];
  });
  afterAll(async () => {
    for (const router of routers.values()) await router[Symbol.asyncDispose]();
    await Promise.all([close(callsServer), close(crmServer)]);
    await gw.close();
  });
  beforeEach(() => gw.resetUpstream());

  it('the subgraph shares node and nodes, and declares the Note of SUBGRAPH_NODE_TYPES as a reference', () => {
    expect(callsSdl).toMatch(/\n {2}node\([^)]*\): Node @shareable\n/);
    expect(callsSdl).toMatch(/\n {2}nodes\([^)]*\): \[Node\]! @shareable\n/);
    expect(callsSdl).toMatch(/type Note implements Node\s+@key\(fields: "id", resolvable: false\)/);
    // The committed SDL (no SUBGRAPH_NODE_TYPES) shares them too, and knows no Note.
    expect(printSubgraphSdl()).toMatch(/\n {2}node\([^)]*\): Node @shareable\n/);
    expect(printSubgraphSdl()).not.toContain('Note');
  });

  it.each([
    ['Apollo (@apollo/composition)', () => composeWithApollo(services)],
    ["The Guild's (@theguild/federation-composition)", () => composeWithTheGuild(services)],
  ])('composes with %s composer, zero errors', (_name, compose) => {
    const result = compose();
    expect(result.errors?.map((e) => e.message) ?? []).toEqual([]);
    const supergraph = (result as { supergraphSdl: string }).supergraphSdl;
    expect(supergraph).toContain('@join__type(graph: CALLS, key: "id", resolvable: false)');
    expect(supergraph).toContain('@join__type(graph: CRM, key: "id", resolvable: false)');
  });

  it.each(['Apollo', 'The Guild'])(
    'Hive Gateway over the %s supergraph resolves a Call id and a Note id through node and nodes',
    async (composer) => {
      const composed = composer === 'Apollo' ? composeWithApollo(services) : composeWithTheGuild(services);
      const router = createGatewayRuntime({
        supergraph: (composed as { supergraphSdl: string }).supergraphSdl,
        logging: false,
        propagateHeaders: {
          fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }),
        },
      });
      routers.set(composer, router);
      const query = `{
        call: node(id: "${CALL}") { ${SELECTION} }
        note: node(id: "${NOTE}") { ${SELECTION} }
        both: nodes(ids: ["${NOTE}", "${CALL}", "${OTHER_NOTE}"]) { ${SELECTION} }
      }`;
      const response = await router.fetch('http://router.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      const status = call.status.toUpperCase().replace(/-/g, '_');
      const asCall = { __typename: 'Call', id: CALL, callId: call.id, status };
      const asNote = (id: string, text: string) => ({ __typename: 'Note', id, text });
      expect(body.data).toEqual({
        call: asCall,
        note: asNote(NOTE, noteTexts.get(7)!),
        both: [asNote(NOTE, noteTexts.get(7)!), asCall, asNote(OTHER_NOTE, noteTexts.get(8)!)],
      });
      // The notes cost the upstream nothing; the call is fetched with the caller's key.
      expect(gw.upstream().map((r) => r.path)).toEqual(expect.arrayContaining([`/api/user/calls/${call.id}`]));
      expect(new Set(gw.upstream().map((r) => r.path))).toEqual(new Set([`/api/user/calls/${call.id}`]));
      for (const request of gw.upstream()) expect(request.authorization).toBe(`Bearer ${DEMO_TOKEN}`);
    },
  );

  it('the subgraph answers every id of the graph, as a shared field must: calls, note references, nulls', async () => {
    const { body } = await gw.query(
      `{ nodes(ids: ["${CALL}", "${NOTE}", "${globalId('User', 1)}", "not an id"]) ` +
        '{ __typename id ... on Call { callId } } }',
      undefined,
      { path: '/subgraph' },
    );
    expect(body.data).toEqual({
      nodes: [{ __typename: 'Call', id: CALL, callId: call.id }, { __typename: 'Note', id: NOTE }, null, null],
    });
    expect(body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['nodes', 3], 'BAD_USER_INPUT']]);
    // The public endpoint has no Note: there the same id names nothing.
    const publicAnswer = await gw.query(`{ node(id: "${NOTE}") { id } }`);
    expect(publicAnswer.body).toEqual({ data: { node: null } });
  });

  it("Apollo's composer refuses shared node fields whose possible types do not intersect", () => {
    // Why SUBGRAPH_NODE_TYPES exists: marking the fields @shareable is not enough when neither subgraph
    // can return the other's Node types; a router could then ask either one for an id only the other knows.
    const ownTypesOnly = CRM_SDL.replace(/type Call implements Node[^}]*\}/, '');
    const result = composeWithApollo([
      { name: 'calls', typeDefs: parse(printSubgraphSdl()), url: 'http://calls.test/subgraph' },
      { name: 'crm', typeDefs: parse(ownTypesOnly), url: 'http://crm.test/graphql' },
    ]);
    const messages = result.errors?.map((e) => e.message).join('\n');
    expect(messages).toMatch(/"Query\.node".*non-intersecting set of possible runtime types/);
  });
});

describe('SUBGRAPH_NODE_TYPES', () => {
  it.each([
    [{}, []],
    [{ SUBGRAPH_NODE_TYPES: 'Note' }, ['Note']],
    [{ SUBGRAPH_NODE_TYPES: ' Note, Contact ,Note,' }, ['Note', 'Contact']],
  ])('%j reads as %j', (env, expected) => {
    expect(loadConfig(env).subgraphNodeTypes).toEqual(expected);
  });

  it.each(['Not-e', '1Note', '__Type'])('refuses the name %j', (name) => {
    const read = () => loadConfig({ SUBGRAPH_NODE_TYPES: name });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/SUBGRAPH_NODE_TYPES: .* is not a GraphQL type name/);
  });

  it("refuses a type of this gateway's own schema", () => {
    expect(() => subgraphSchemaWith(['Call'])).toThrow(/SUBGRAPH_NODE_TYPES: "Call" is a type of this gateway already/);
  });
});
