import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/pagination/cursor.js';
import {
  DEMO_TOKEN,
  demoCalls,
  SECOND_TENANT_TOKEN,
  type SimCall,
  secondTenantCalls,
} from '../../src/simulator/data.js';
import { CallByIdDocument, CallIdsPageDocument, NodeByIdDocument } from '../gql/graphql.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let cursorFirstPage: string;
beforeAll(async () => {
  gw = await startTestGateway();
  const { body } = await gw.query(CallIdsPageDocument, { first: 5 });
  cursorFirstPage = body.data!.calls!.pageInfo.endCursor!;
});
afterAll(() => gw.close());
beforeEach(() => gw.resetUpstream());

const b64 = (text: string) => Buffer.from(text).toString('base64');
const flipLastChar = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');

describe('bad input is refused with BAD_USER_INPUT before any upstream request', () => {
  it.each<[string, string, Record<string, unknown>?, RegExp?]>([
    ['negative first', '{ calls(first: -1) { totalCount } }', undefined, /"first" must be a non-negative integer/],
    ['first above the maximum', '{ calls(first: 101) { totalCount } }', undefined, /"first" must not exceed 100/],
    ['negative last', '{ calls(last: -3) { totalCount } }'],
    ['first and last together', '{ calls(first: 5, last: 5) { totalCount } }', undefined, /cannot be used together/],
    [
      'a foreign cursor',
      '{ calls(first: 5, after: "T2Zmc2V0Q29ubmVjdGlvbjo0") { totalCount } }',
      undefined,
      /not a cursor of this connection/,
    ],
    ['a Relay global id as cursor', `{ calls(first: 5, after: "${b64('Call:100001')}") { totalCount } }`],
    [
      'a tampered cursor',
      'query($c: String) { calls(first: 5, after: $c) { totalCount } }',
      { tampered: true },
      /altered/,
    ],
    [
      'a cursor of another filter',
      'query($c: String) { calls(first: 5, after: $c, filter: { status: FAILED }) { totalCount } }',
      { own: true },
      /different filter/,
    ],
    [
      'a cursor signed by another deployment',
      'query($c: String) { calls(first: 5, after: $c) { totalCount } }',
      { foreignSecret: true },
      /altered/,
    ],
    ['filter status UNKNOWN', '{ calls(filter: { status: UNKNOWN }) { totalCount } }', undefined, /cannot be UNKNOWN/],
    ['filter type UNKNOWN', '{ calls(filter: { type: UNKNOWN }) { totalCount } }'],
    [
      'dateTo before dateFrom',
      '{ calls(filter: { dateFrom: "2026-05-02", dateTo: "2026-05-01" }) { totalCount } }',
      undefined,
      /must not be before/,
    ],
    ['a phone number with letters', '{ calls(filter: { phoneNumber: "+49 abc" }) { totalCount } }'],
    [
      'a phone number with a query-string injection',
      '{ calls(filter: { phoneNumber: "1&per_page=500" }) { totalCount } }',
    ],
    ['assistantId 0', '{ calls(filter: { assistantId: 0 }) { totalCount } }', undefined, /positive integer/],
    ['negative campaignId', '{ calls(filter: { campaignId: -4 }) { totalCount } }'],
    ['callId 0', '{ call(callId: 0) { callId } }', undefined, /positive integer/],
    ['a node id that is not base64 of a type', '{ node(id: "%%%") { id } }'],
    [
      'a Call node id that is not a number',
      `{ node(id: "${b64('Call:../../admin')}") { id } }`,
      undefined,
      /does not name a call/,
    ],
    ['a Call node id with a leading zero', `{ node(id: "${b64('Call:0100')}") { id } }`],
  ])('%s', async (_name, query, variables, message) => {
    let vars: Record<string, unknown> | undefined = variables;
    if (variables?.tampered) vars = { c: flipLastChar(cursorFirstPage) };
    if (variables?.own) vars = { c: cursorFirstPage };
    if (variables?.foreignSecret) vars = { c: encodeCursor(4, { filterKey: '', secret: 'another-deployment' }) };
    const { status, body } = await gw.query(query, vars);
    expect(status).toBe(200);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    if (message) expect(body.errors?.[0]?.message).toMatch(message);
    expect(gw.upstream()).toHaveLength(0);
  });

  it.each([
    ['first as a string', '{ calls(first: "x") { totalCount } }'],
    ['a fractional first variable', 'query($n: Int) { calls(first: $n) { totalCount } }', { n: 2.5 }],
    ['an impossible Date literal', '{ calls(filter: { dateFrom: "2026-13-45" }) { totalCount } }'],
    [
      'an invalid Date variable',
      'query($d: Date) { calls(filter: { dateFrom: $d }) { totalCount } }',
      { d: 'yesterday' },
    ],
    ['an unknown field', '{ calls { nope } }'],
    ['an unknown enum value', '{ calls(filter: { status: ANSWERED }) { totalCount } }'],
  ])(
    'GraphQL itself refuses %s, with no upstream request',
    async (_name, query, variables?: Record<string, unknown>) => {
      const { body } = await gw.query(query, variables);
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.length).toBeGreaterThan(0);
      expect(gw.upstream()).toHaveLength(0);
    },
  );
});

describe('authentication', () => {
  it.each([
    ['no Authorization header', { token: null }],
    ['a Basic credential', { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } }],
    ['an empty bearer', { token: null, headers: { authorization: 'Bearer ' } }],
  ])('%s gets UNAUTHENTICATED and costs no upstream request', async (_name, options) => {
    const { body } = await gw.query(
      '{ calls(first: 5) { totalCount } call(callId: 100001) { callId } }',
      undefined,
      options,
    );
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(gw.upstream()).toHaveLength(0);
  });

  it('introspection needs no credential', async () => {
    const { body } = await gw.query('{ __type(name: "Call") { name description } }', undefined, { token: null });
    expect(body.data).toEqual({ __type: { name: 'Call', description: expect.stringContaining('call') } });
  });

  it('a key the upstream refuses is UNAUTHENTICATED, and the key is not echoed', async () => {
    const { body } = await gw.query(CallIdsPageDocument, { first: 3 }, { token: 'sk-live-not-a-real-key-123' });
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(body)).not.toContain('sk-live-not-a-real-key-123');
    expect(gw.upstream()[0]?.authorization).toBe('Bearer sk-live-not-a-real-key-123');
  });
});

describe('single calls and nodes', () => {
  it('call(callId:) is null without an error when the upstream says 404', async () => {
    const { body } = await gw.query(CallByIdDocument, { callId: 99_999_999 });
    expect(body).toEqual({ data: { call: null } });
    expect(gw.upstream().map((r) => r.path)).toEqual(['/api/user/calls/99999999']);
  });

  it("another tenant's call is null for this caller", async () => {
    const theirs = secondTenantCalls()[0]!.raw.id;
    const { body } = await gw.query(CallByIdDocument, { callId: theirs });
    expect(body.data?.call).toBeNull();
    const mine = await gw.query(CallByIdDocument, { callId: theirs }, { token: SECOND_TENANT_TOKEN });
    expect(mine.body.data?.call?.callId).toBe(theirs);
  });

  it('node(id:) round-trips the global id of a call and nodes() keeps order with nulls', async () => {
    const id = demoCalls()[10]!.raw.id;
    const globalId = b64(`Call:${id}`);
    const { body } = await gw.query(NodeByIdDocument, { id: globalId });
    expect(body.data?.node).toMatchObject({ __typename: 'Call', id: globalId, callId: id });
    const many = await gw.query(`{ nodes(ids: ["${globalId}", "${b64('Call:1')}", "${globalId}"]) { id } }`);
    expect(many.body.data).toEqual({ nodes: [{ id: globalId }, null, { id: globalId }] });
  });

  it('a global id of a type that is not a node names nothing: null, no error, no upstream request', async () => {
    gw.resetUpstream();
    const other = b64('User:1');
    const { body } = await gw.query(
      `{ node(id: "${other}") { id } nodes(ids: ["${other}", "${b64('PageInfo:1')}"]) { id } }`,
    );
    expect(body).toEqual({ data: { node: null, nodes: [null, null] } });
    expect(gw.upstream()).toHaveLength(0);
  });
});

describe('malformed upstream records', () => {
  const base = demoCalls()[0]!;
  const broken = (id: number, raw: Record<string, unknown>): SimCall => ({
    ...base,
    raw: { ...base.raw, id, ...raw } as never,
  });
  let bad: TestGateway;
  beforeAll(async () => {
    bad = await startTestGateway({
      simulator: {
        tenants: {
          [DEMO_TOKEN]: [
            broken(1, {
              duration: 'SECRET-VALUE-abc',
              carrier_cost: 'x',
              client_phone_number: 42,
              transcript: 17,
              variables: 'nope',
            }),
            broken(2, {}),
            broken(3, { answered_by: ['human'], recording_url: false }),
          ],
          'broken-id-token': [broken(4, {}), broken(5, { id: 'not-an-id' })],
          'broken-date-token': [broken(6, { created_at: 'yesterday' })],
        },
      },
    });
  });
  afterAll(() => bad.close());

  it('a bad value is null with an error at its own path; the rest of the page is served', async () => {
    const { body } = await bad.query(
      '{ calls(first: 10) { totalCount edges { node { callId durationSeconds carrierCost clientPhoneNumber answeredBy recordingUrl transcript { text } variables status } } } }',
    );
    const edges = (body.data as { calls: { edges: { node: Record<string, unknown> }[] } }).calls.edges;
    expect(edges.map((e) => e.node.callId).sort()).toEqual([1, 2, 3]);
    const paths = body.errors!.map((e) => ({ path: e.path!.join('.'), code: e.extensions?.code }));
    const index = (id: number) => edges.findIndex((e) => e.node.callId === id);
    expect(paths).toEqual(
      expect.arrayContaining([
        { path: `calls.edges.${index(1)}.node.durationSeconds`, code: 'UPSTREAM_BAD_RESPONSE' },
        { path: `calls.edges.${index(1)}.node.carrierCost`, code: 'UPSTREAM_BAD_RESPONSE' },
        { path: `calls.edges.${index(1)}.node.clientPhoneNumber`, code: 'UPSTREAM_BAD_RESPONSE' },
        { path: `calls.edges.${index(3)}.node.answeredBy`, code: 'UPSTREAM_BAD_RESPONSE' },
        { path: `calls.edges.${index(3)}.node.recordingUrl`, code: 'UPSTREAM_BAD_RESPONSE' },
      ]),
    );
    expect(paths).toHaveLength(5);
    const one = edges[index(1)]!.node;
    expect(one).toMatchObject({
      durationSeconds: null,
      carrierCost: null,
      clientPhoneNumber: null,
      transcript: [],
      variables: {},
    });
    expect(edges[index(2)]!.node.durationSeconds).toBe(base.raw.duration);
    expect(JSON.stringify(body)).not.toContain('SECRET-VALUE');
    // Non-null lists fell back to empty, and the repair was logged without the value.
    const warning = bad.logs.find((l) => l.includes('repaired malformed upstream values'));
    expect(warning).toBeDefined();
    expect(warning).not.toContain('SECRET-VALUE');
  });

  it.each([
    ['an unreadable id', 'broken-id-token'],
    ['an unreadable created_at', 'broken-date-token'],
  ])('a record with %s fails its page with UPSTREAM_BAD_RESPONSE', async (_name, token) => {
    const { body } = await bad.query(CallIdsPageDocument, { first: 5 }, { token });
    // `calls` is nullable: the page fails at that field, not the whole response.
    expect(body.data).toEqual({ calls: null });
    expect(body.errors?.[0]).toMatchObject({ path: ['calls'], extensions: { code: 'UPSTREAM_BAD_RESPONSE' } });
    expect(body.errors?.[0]?.message).not.toMatch(/127\.0\.0\.1|http/);
  });
});
