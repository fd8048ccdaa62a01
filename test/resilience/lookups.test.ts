/**
 * Fan-out: `node`, `nodes(ids:)` and `_entities(representations:)` make one upstream request per id, and
 * the upstream allows an API key 100 requests a minute. The ids of one operation are counted before
 * execution and capped by MAX_LOOKUP_IDS (nothing reaches the upstream past it), and each id is charged
 * its selection in the cost limit.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { demoCalls } from '../../src/simulator/data.js';
import { type GraphQLResponseBody, startTestGateway, type TestGateway } from '../support/gateway.js';

const globalId = (callId: number) => Buffer.from(`Call:${callId}`).toString('base64');
/**
 * Upstream ids of `n` demo calls from the `from`th on (the demo ids start at 100001, with gaps). Each served
 * case asks for calls no earlier case fetched: one the gateway has seen may be answered without a request.
 */
const callIds = (n: number, from = 0) =>
  demoCalls()
    .slice(from, from + n)
    .map((call) => call.raw.id);
/** Global ids of `n` demo calls from the `from`th on. */
const ids = (n: number, from = 0) => callIds(n, from).map(globalId);
/** `_entities` representations of `n` demo calls from the `from`th on. */
const representations = (n: number, from = 0) => callIds(n, from).map((callId) => ({ __typename: 'Call', callId }));
/** A list as a GraphQL literal. */
const literal = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
const literalRepresentations = (n: number) =>
  `[${representations(n)
    .map((r) => `{ __typename: "Call", callId: ${r.callId} }`)
    .join(', ')}]`;

const NODES = 'query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id ... on Call { callId } } }';
const LITERAL_100 = `{ nodes(ids: ${literal(ids(100))}) { id ... on Call { callId } } }`;
const ENTITIES = 'query Entities($r: [_Any!]!) { _entities(representations: $r) { ... on Call { callId } } }';

/** The whole operation was refused before execution: no data, the one limit error, no upstream request. */
function expectRefused(gw: TestGateway, body: GraphQLResponseBody<unknown>, limit: string) {
  expect(body.data ?? null).toBeNull();
  expect(body.errors).toHaveLength(1);
  expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit });
  expect(gw.upstream()).toHaveLength(0);
  return body.errors![0]!.message;
}

describe('MAX_LOOKUP_IDS (default 100)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Served cases make 100 upstream requests of one key at once: more than its documented burst (20 in
    // 10 s), which the simulator and the gateway's own budget would hold back. This suite is about the cap.
    gw = await startTestGateway({ limits: 'off' });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.resetUpstream());

  it.each<[string, string, string, Record<string, unknown> | undefined, number]>([
    ['nodes: 101 literal ids', '/graphql', `{ nodes(ids: ${literal(ids(101))}) { id } }`, undefined, 101],
    ['nodes: 101 ids in a variable', '/graphql', NODES, { ids: ids(101) }, 101],
    // Malformed ids count too: the cap is on what the operation names, checked before anything is decoded.
    ['nodes: 100 ids and a malformed one', '/graphql', NODES, { ids: [...ids(100), 'garbage'] }, 101],
    [
      'two aliased nodes of 60 ids each',
      '/graphql',
      `{ a: nodes(ids: ${literal(ids(60))}) { id } b: nodes(ids: ${literal(ids(60))}) { id } }`,
      undefined,
      120,
    ],
    [
      'nodes of 60 ids in a fragment and 60 in an inline fragment',
      '/graphql',
      'query($ids: [ID!]!) { ...A ... on Query { b: nodes(ids: $ids) { id } } } ' +
        'fragment A on Query { a: nodes(ids: $ids) { id } }',
      { ids: ids(60) },
      120,
    ],
    [
      'nodes of 100 ids and one node(id:)',
      '/graphql',
      `query($ids: [ID!]!) { nodes(ids: $ids) { id } node(id: "${ids(1)[0]}") { id } }`,
      { ids: ids(100) },
      101,
    ],
    ['_entities: 101 representations in a variable', '/subgraph', ENTITIES, { r: representations(101) }, 101],
    [
      '_entities: 101 literal representations',
      '/subgraph',
      `{ _entities(representations: ${literalRepresentations(101)}) { __typename } }`,
      undefined,
      101,
    ],
  ])('refuses %s before any upstream request', async (_name, path, query, variables, asked) => {
    const { status, body } = await gw.query(query, variables, { path });
    // Nothing executes, so no `data`: 400 under application/graphql-response+json (GraphQL over HTTP).
    expect(status).toBe(400);
    const message = expectRefused(gw, body, 'lookupIds');
    expect(message).toContain(`looks up ${asked} ids`);
    expect(message).toContain('at most 100');
  });

  it.each<[string, number, string, string, Record<string, unknown> | undefined, 'nodes' | '_entities']>([
    ['nodes: 100 literal ids', 0, '/graphql', LITERAL_100, {}, 'nodes'],
    ['nodes: 100 ids in a variable', 100, '/graphql', NODES, { ids: ids(100, 100) }, 'nodes'],
    ['_entities: 100 representations', 200, '/subgraph', ENTITIES, { r: representations(100, 200) }, '_entities'],
  ])('serves %s, one upstream request each', async (_name, from, path, query, variables, field) => {
    const { body } = await gw.query(query, variables, { path });
    expect(body.errors).toBeUndefined();
    const items = (body.data as Record<string, ({ callId: number } | null)[]>)[field]!;
    expect(items.map((item) => item?.callId)).toEqual(callIds(100, from));
    expect(gw.upstream()).toHaveLength(100);
  });

  it('a malformed global id is null at its own position with BAD_USER_INPUT; the other id is served', async () => {
    // Costing does not decode the ids (src/schema/node.ts), so one bad id no longer refuses the operation.
    const [good] = ids(1, 300);
    const { body } = await gw.query(`{ nodes(ids: ["${good}", "garbage"]) { id } }`);
    expect(body.data).toEqual({ nodes: [{ id: good }, null] });
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]).toMatchObject({
      path: ['nodes', 1],
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'ids' },
    });
    expect(gw.upstream()).toHaveLength(1);
  });
});

describe('a lower MAX_LOOKUP_IDS', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      limits: 'off',
      // Room for six aliased root fields, so that the lookup cap is what refuses them.
      config: { limits: { ...loadConfig({}).limits, maxLookupIds: 5, maxRootFields: 10 } },
    });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.resetUpstream());

  const nodes = (n: number, from = 0) => `{ nodes(ids: ${literal(ids(n, from))}) { id } }`;
  const aliasedNode = (n: number, from = 0) =>
    `{ ${ids(n, from)
      .map((id, i) => `n${i}: node(id: "${id}") { id }`)
      .join(' ')} }`;
  // `ids: $one` given a single id: coerced to a list of one, it counts 1.
  const mixed = (withNode: boolean) =>
    `query($four: [ID!]!, $one: [ID!]!) { a: nodes(ids: $four) { id } b: nodes(ids: $one) { id } ${
      withNode ? `c: node(id: "${ids(1)[0]}") { id }` : ''
    } }`;
  const mixedVariables = { four: ids(4, 20), one: ids(1, 24)[0] };

  it.each([
    ['nodes of 5 ids', nodes(5), undefined],
    ['5 aliased node(id:)', aliasedNode(5, 10), undefined],
    ['nodes of 4 ids and a single id given for a list', mixed(false), mixedVariables],
  ])('serves %s', async (_name, query, variables) => {
    const { body } = await gw.query(query, variables);
    expect(body.errors).toBeUndefined();
    expect(gw.upstream()).toHaveLength(5);
  });

  it.each([
    ['nodes of 6 ids', nodes(6), undefined, 6],
    ['6 aliased node(id:)', aliasedNode(6), undefined, 6],
    ['nodes of 4 ids, a single id given for a list, and node(id:)', mixed(true), mixedVariables, 6],
  ])('refuses %s', async (_name, query, variables, asked) => {
    const { body } = await gw.query(query, variables);
    const message = expectRefused(gw, body, 'lookupIds');
    expect(message).toContain(`looks up ${asked} ids through node, nodes and _entities; at most 5`);
  });

  it('refuses _entities with 6 representations on the subgraph endpoint', async () => {
    const { body } = await gw.query(ENTITIES, { r: representations(6) }, { path: '/subgraph' });
    expectRefused(gw, body, 'lookupIds');
  });
});

describe('each id is charged its selection in the cost limit', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      limits: 'off',
      config: { limits: { ...loadConfig({}).limits, maxCost: 60 } },
    });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.resetUpstream());

  // nodes: 1 + ids × 4 (id, callId, status, durationSeconds); _entities: 1 + representations × 3.
  const NODES_COST = 'query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Call { callId status durationSeconds } } }';
  const ENTITIES_COST =
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Call { callId status durationSeconds } } }';

  it.each<[string, number, string, string, Record<string, unknown>]>([
    ['nodes of 10 ids', 41, '/graphql', NODES_COST, { ids: ids(10) }],
    ['_entities of 10 representations', 31, '/subgraph', ENTITIES_COST, { r: representations(10, 10) }],
  ])('serves %s (cost %i)', async (_name, _cost, path, query, variables) => {
    const { body } = await gw.query(query, variables, { path });
    expect(body.errors).toBeUndefined();
    expect(gw.upstream()).toHaveLength(10);
  });

  it.each<[string, number, string, string, Record<string, unknown>]>([
    ['nodes of 15 ids', 61, '/graphql', NODES_COST, { ids: ids(15) }],
    ['nodes of 14 ids and a malformed one', 61, '/graphql', NODES_COST, { ids: [...ids(14), 'garbage'] }],
    ['_entities of 20 representations', 61, '/subgraph', ENTITIES_COST, { r: representations(20) }],
  ])('refuses %s: it costs %i, over 60', async (_name, cost, path, query, variables) => {
    const { body } = await gw.query(query, variables, { path });
    expect(expectRefused(gw, body, 'cost')).toContain(`costs ${cost}; at most 60`);
  });
});

describe('MAX_LOOKUP_IDS setting', () => {
  it.each([
    [{}, 100],
    [{ MAX_LOOKUP_IDS: '1' }, 1],
    [{ MAX_LOOKUP_IDS: '10000' }, 10_000],
  ])('%j reads as %i', (env, expected) => {
    expect(loadConfig(env).limits.maxLookupIds).toBe(expected);
  });
  it.each(['0', '10001', '2.5', 'many'])('refuses MAX_LOOKUP_IDS=%s', (value) => {
    const read = () => loadConfig({ MAX_LOOKUP_IDS: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/MAX_LOOKUP_IDS: must be a whole number from 1 to 10000/);
  });
});
