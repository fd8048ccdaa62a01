/**
 * HTTP and GraphQL semantics of issue 11, items 1, 2, 13 and 14: requests whose variables do not coerce and
 * operations the schema cannot run are request errors (GraphQL over HTTP: 400 under
 * `application/graphql-response+json`, no `data`, a code, no upstream request); with introspection off no
 * message suggests a name of the schema; and a client's mistake is logged at info, not at error with a stack.
 */
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BadUserInputError, UnauthenticatedError, UpstreamUnavailableError } from '../../src/errors.js';
import { createLogger, yogaLogging } from '../../src/logging.js';
import { type GraphQLResponseBody, startTestGateway, type TestGateway } from '../support/gateway.js';

const ENDPOINTS = ['/graphql', '/subgraph'];

/** The log lines written since the last reset, parsed. */
const lines = (gw: TestGateway) =>
  gw.logs.map((line) => JSON.parse(line) as { level: number; msg: string } & Record<string, unknown>);

/** pino's numeric levels: 30 info, 40 warn, 50 error. */
function expectNoErrorLevelLog(gw: TestGateway) {
  const loud = lines(gw).filter((line) => line.level >= 50);
  expect(loud, JSON.stringify(loud)).toEqual([]);
  expect(gw.logs.join('\n')).not.toMatch(/"stack"|\n\s+at /);
}

const INVALID_VARIABLES: [string, string, Record<string, unknown>][] = [
  ['an Int! given "x"', 'query($n: Int!) { calls(first: $n) { totalCount } }', { n: 'x' }],
  ['a missing required variable', 'query($n: Int!) { calls(first: $n) { totalCount } }', {}],
  ['a Date that is no date', 'query($d: Date) { calls(filter: { dateFrom: $d }) { totalCount } }', { d: '2026-13-45' }],
  ['an unknown enum value', 'query($s: CallStatus) { calls(filter: { status: $s }) { totalCount } }', { s: 'DONE' }],
  ['an unknown input field', 'query($f: CallFilter) { calls(filter: $f) { totalCount } }', { f: { x: 'COMPLETED' } }],
  ['a list of ids given an object', 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: { a: 1 } }],
];

describe.each(ENDPOINTS)('item 1: invalid variables on %s', (path) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ limits: 'off' });
  });
  afterAll(() => gw.close());
  beforeEach(() => {
    gw.resetUpstream();
    gw.logs.length = 0;
  });

  it.each(INVALID_VARIABLES)('%s: 400, BAD_USER_INPUT, no data, no upstream request', async (_, query, variables) => {
    // Twice: the second answer comes from the plugin's verdict cache and must be the same.
    for (let i = 0; i < 2; i++) {
      const { status, headers, body } = await gw.query(query, variables, {
        path,
        headers: { accept: 'application/graphql-response+json' },
      });
      expect(status).toBe(400);
      expect(headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
      expect(body).not.toHaveProperty('data');
      expect(body.errors?.length).toBeGreaterThan(0);
      for (const error of body.errors!) {
        expect(error.extensions?.code).toBe('BAD_USER_INPUT');
        expect(error.message).toMatch(/^Variable "\$\w+"/);
      }
    }
    expect(gw.upstream()).toHaveLength(0);
    expectNoErrorLevelLog(gw);
  });

  it('under legacy application/json the same request is 200 with the code, as GraphQL over HTTP asks', async () => {
    const [, query, variables] = INVALID_VARIABLES[0]!;
    const { status, body } = await gw.query(query, variables, { path, headers: { accept: 'application/json' } });
    expect(status).toBe(200);
    expect(body).not.toHaveProperty('data');
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(gw.upstream()).toHaveLength(0);
  });

  it('valid variables still run and are still costed with their values', async () => {
    const { status, body } = await gw.query('query($n: Int!) { calls(first: $n) { totalCount } }', { n: 2 }, { path });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(gw.upstream()).toHaveLength(1);
  });
});

describe.each(ENDPOINTS)('item 2: mutations and subscriptions on %s', (path) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ limits: 'off' });
  });
  afterAll(() => gw.close());
  beforeEach(() => {
    gw.resetUpstream();
    gw.logs.length = 0;
  });

  it.each([
    ['mutation', 'mutation { calls { totalCount } }', undefined],
    ['subscription', 'subscription { calls { totalCount } }', undefined],
    ['mutation named by operationName', 'query Q { __typename } mutation M { calls { totalCount } }', 'M'],
    ['subscription beside the query that operationName names', 'query Q { __typename } subscription S { x }', 'Q'],
  ])('a %s is 400 GRAPHQL_VALIDATION_FAILED, no data, no error-level log', async (name, query, operationName) => {
    const response = await gw.gateway.fetch(`http://gateway.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, operationName }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as GraphQLResponseBody<unknown>;
    expect(body).not.toHaveProperty('data');
    // /graphql has one subscription since issue 12 (callEvents, over SSE): these select fields it lacks.
    const message =
      path === '/graphql' && name.startsWith('subscription')
        ? expect.stringMatching(/^Cannot query field "(calls|x)" on type "Subscription"\.$/)
        : `This API has no ${name.split(' ')[0]}s: the schema defines only queries.`;
    expect(body.errors?.[0]).toMatchObject({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(gw.upstream()).toHaveLength(0);
    expectNoErrorLevelLog(gw);
  });
});

describe('item 13: no "Did you mean" with introspection off', () => {
  let prod: TestGateway;
  let dev: TestGateway;
  beforeAll(async () => {
    [prod, dev] = await Promise.all([
      startTestGateway({ limits: 'off', config: { introspection: false, graphiql: false } }),
      startTestGateway({ limits: 'off' }),
    ]);
  });
  afterAll(() => Promise.all([prod.close(), dev.close()]));

  // Each would suggest a name of the schema; graphql-armor's blockFieldSuggestion hides only some.
  const typos: [string, string, Record<string, unknown>?][] = [
    ['an enum value in a literal', '{ calls(filter: { status: COMPLETE }) { totalCount } }'],
    [
      'an enum value in a variable',
      'query($s: CallStatus) { calls(filter: { status: $s }) { totalCount } }',
      {
        s: 'COMPLETE',
      },
    ],
    [
      'an input field in a variable',
      'query($f: CallFilter) { calls(filter: $f) { totalCount } }',
      {
        f: { statuss: 'FAILED' },
      },
    ],
    ['an input field in a literal', '{ calls(filter: { statuss: FAILED }) { totalCount } }'],
    ['a field', '{ calls { totalCont } }'],
    ['an argument', '{ calls(frist: 1) { totalCount } }'],
    ['a type', 'query($s: CallStatuss) { calls(filter: { status: $s }) { totalCount } }', { s: 'FAILED' }],
  ];

  for (const path of ENDPOINTS) {
    it.each(typos)(`${path}: %s`, async (_name, query, variables) => {
      const hidden = await prod.query(query, variables, { path });
      expect(hidden.body.errors?.length).toBeGreaterThan(0);
      for (const error of hidden.body.errors!) expect(error.message).not.toMatch(/did you mean|suggestion/i);
      expect(hidden.body.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/);
      // With introspection on the schema is public anyway, and the hint helps.
      const shown = await dev.query(query, variables, { path });
      expect(shown.body.errors?.map((error) => error.message).join('\n')).toMatch(/Did you mean/);
    });
  }

  it('made no upstream request', () => {
    expect(prod.upstream()).toHaveLength(0);
  });
});

describe('item 14: client mistakes are logged at info, without a stack', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ limits: 'off' });
  });
  afterAll(() => gw.close());
  beforeEach(() => {
    gw.logs.length = 0;
  });

  const ids = Array.from({ length: 101 }, (_, i) => Buffer.from(`Call:${100001 + i}`).toString('base64'));
  const SIX_ROOT_FIELDS = `{ ${[1, 2, 3, 4, 5, 6].map((i) => `c${i}: calls { totalCount }`).join(' ')} }`;
  it.each<[string, string, Record<string, unknown> | undefined, string | null]>([
    ['a malformed global id', '{ node(id: "garbage") { id } }', undefined, 'BAD_USER_INPUT'],
    ['first: -1', '{ calls(first: -1) { totalCount } }', undefined, 'BAD_USER_INPUT'],
    ['no Authorization header', '{ call(callId: 100001) { callId } }', undefined, 'UNAUTHENTICATED'],
    ['invalid variables', 'query($n: Int!) { calls(first: $n) { totalCount } }', { n: 'x' }, null],
    ['too many looked-up ids', 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids }, null],
    ['too many root fields', SIX_ROOT_FIELDS, undefined, null],
    ['a subscription', 'subscription { calls { totalCount } }', undefined, null],
  ])('%s', async (name, query, variables, code) => {
    const { body } = await gw.query(query, variables, { token: name === 'no Authorization header' ? null : undefined });
    expect(body.errors?.length).toBeGreaterThan(0);
    expectNoErrorLevelLog(gw);
    if (code) {
      // An error the resolver raised stays visible to operators: one info line with its code, no stack.
      expect(lines(gw).find((line) => line.msg === 'request error')).toMatchObject({ level: 30, code });
    }
  });

  it("yogaLogging: client errors at info, upstream failures at warn, the gateway's own faults at error", () => {
    const written: string[] = [];
    const logger = createLogger(
      'debug',
      new Writable({
        write: (c, _e, done) => {
          written.push(String(c));
          done();
        },
      }),
    );
    const yogaLogger = yogaLogging(logger);
    const wrap = (original: Error) => new GraphQLError(original.message, { path: ['calls'], originalError: original });
    yogaLogger.error(wrap(new BadUserInputError('Argument "first" must be a non-negative integer.')));
    yogaLogger.error(wrap(new UnauthenticatedError('The upstream refused the API key.')));
    yogaLogger.error(wrap(new UpstreamUnavailableError('The upstream API is unavailable.')));
    yogaLogger.error(wrap(new Error('a bug of ours')));
    const logged = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map((line) => [line.level, line.code ?? null])).toEqual([
      [30, 'BAD_USER_INPUT'],
      [30, 'UNAUTHENTICATED'],
      [40, 'UPSTREAM_UNAVAILABLE'],
      [50, null],
    ]);
    expect(written.slice(0, 3).join('')).not.toContain('stack');
    expect(written[3]).toContain('a bug of ours');
    expect(written[3]).toContain('"stack"');
  });
});
