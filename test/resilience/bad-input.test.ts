/**
 * Hostile input B1-B10 of ../shared/docs/reliability.md §6: every rejection happens before any upstream request and
 * carries a clear code or HTTP status. B9 is a fast-check fuzz for a bounded time (FUZZ_SECONDS).
 */

import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { print } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, yogaLogging } from '../../src/logging.js';
import { maskError } from '../../src/mask-error.js';
import { DEMO_TOKEN } from '../../src/simulator/data.js';
import { CallsPageDocument } from '../gql/graphql.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());
beforeEach(() => gw.resetUpstream());

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Posts a raw body, as a hostile client would. */
async function post(body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await gw.gateway.fetch('http://gw/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}`, ...headers },
    body: body as BodyInit,
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: (() => {
      try {
        return JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
      } catch {
        return null;
      }
    })(),
  };
}

async function rejected(query: string, limit?: string) {
  const { body } = await gw.query(query);
  expect(body.data ?? null).toBeNull();
  expect(body.errors?.length).toBeGreaterThan(0);
  if (limit) expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit });
  expect(gw.upstream()).toHaveLength(0);
  return { body };
}

const deepType = (levels: number) => `${'ofType { '.repeat(levels)}name${' }'.repeat(levels)}`;

describe('B1: depth', () => {
  it('accepts the deepest real operation (depth 5)', async () => {
    const { body } = await gw.query('{ calls(first: 1) { edges { node { transcript { text } } } } }');
    expect(body.errors).toBeUndefined();
  });
  it.each([
    ['fields', `{ __type(name: "Call") { fields { type { ${deepType(4)} } } } }`],
    ['a fragment', `{ __type(name: "Call") { ...F } } fragment F on __Type { fields { type { ${deepType(4)} } } }`],
    [
      'a fragment named __schema',
      `{ __type(name: "Call") { ...__schema } } fragment __schema on __Type { fields { type { ${deepType(4)} } } }`,
    ],
    [
      'a reused fragment',
      `{ __type(name: "Call") { ...T fields { type { ...T } } } } fragment T on __Type { ${deepType(5)} }`,
    ],
  ])('rejects depth 7+ through %s', async (_name, query) => {
    await rejected(query, 'depth');
  });
  it('rejects recursive fragments without crashing', async () => {
    const { body } = await rejected('{ __type(name: "Call") { ...A } } fragment A on __Type { ofType { ...A } }');
    expect(body.errors?.[0]?.message).toMatch(/cannot spread fragment "A" within itself|limit/i);
  });
});

describe('B2: aliases, directives, root fields', () => {
  const aliases = (n: number) =>
    `{ calls(first: 1) { ${Array.from({ length: n }, (_, i) => `a${i}: totalCount`).join(' ')} } }`;
  it('accepts 10 aliases', async () => {
    expect((await gw.query(aliases(10))).body.errors).toBeUndefined();
  });
  it.each([11, 100])('rejects %i aliases', async (n) => {
    await rejected(aliases(n), 'aliases');
  });
  it('rejects 11 directives', async () => {
    await rejected(`{ calls(first: 1) { totalCount ${'@include(if: true) '.repeat(11)} } }`, 'directives');
  });
  it('rejects 6 root fields', async () => {
    await rejected(
      `{ ${Array.from({ length: 6 }, (_, i) => `r${i}: call(callId: ${i + 1}) { callId }`).join(' ')} }`,
      'rootFields',
    );
  });
  const fragments = CallsPageDocument.definitions
    .filter((d) => d.kind === 'FragmentDefinition' && d.name.value === 'CallFields')
    .map((d) => print(d))
    .join('\n');
  it('accepts one page of 100 with every field, and rejects two (cost grows with first)', async () => {
    const page = 'calls(first: 100) { edges { node { ...CallFields } } }';
    expect((await gw.query(`{ a: ${page} } ${fragments}`)).body.errors).toBeUndefined();
    gw.resetUpstream();
    const { body } = await rejected(`{ a: ${page} b: ${page} } ${fragments}`, 'cost');
    expect(body.errors?.[0]?.message).toMatch(/costs \d+; at most 5000/);
  });
  it('measures the cost with the variables of each request', async () => {
    const query = `query($n: Int) { a: calls(first: $n) { edges { node { ...CallFields } } } b: calls(first: $n) { edges { node { ...CallFields } } } } ${fragments}`;
    expect((await gw.query(query, { n: 10 })).body.errors).toBeUndefined();
    gw.resetUpstream();
    const { body } = await gw.query(query, { n: 100 });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'cost' });
    expect(gw.upstream()).toHaveLength(0);
  });
});

describe('B3: oversized documents', () => {
  // Which limit refused a document shows where: `length` before parsing, `tokens` while parsing, both
  // before validation, so neither parse nor validation cost grows with the document.
  it('rejects 2000 __typename before validation (length, then token limit)', async () => {
    const { body } = await rejected(`{ ${'__typename '.repeat(2000)}}`);
    expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_LIMIT_EXCEEDED');
    expect(['length', 'tokens']).toContain(body.errors?.[0]?.extensions?.limit);
  });
  it('rejects a short document of 1100 tokens at parse time', async () => {
    await rejected(`{ calls { ${'totalCount '.repeat(1100)}} }`, 'tokens');
  });
  it('rejects 1000+ duplicate fields', async () => {
    await rejected(`{ calls(first: 1) { ${'totalCount '.repeat(1200)}} }`);
  });
  it('rejects 200 kB of comments around a tiny query by its length', async () => {
    const comments = `# ${'x'.repeat(98)}\n`.repeat(1000);
    // `limit: 'length'` shows it was refused before parsing: a parsed document would hit the token limit.
    await rejected(`${comments}{ calls(first: 1) { totalCount } }${comments}`, 'length');
  });
});

describe('B4: request bodies', () => {
  it('refuses a 300 kB body with 413 before parsing it', async () => {
    const { status, json } = await post(
      JSON.stringify({ query: `{ calls { totalCount } }`, padding: 'x'.repeat(300 * 1024) }),
    );
    expect(status).toBe(413);
    expect(json?.errors?.[0]?.extensions?.code).toBe('REQUEST_TOO_LARGE');
  });
  it('refuses a 300 kB body sent without Content-Length (chunked) with 413', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 30; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(10 * 1024)));
        controller.close();
      },
    });
    const response = await gw.gateway.fetch('http://gw/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });
  it('refuses a gzip bomb (10 MB of spaces in 10 kB) without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, ' '));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const before = process.memoryUsage().rss;
    const { status, json } = await post(bomb, { 'content-encoding': 'gzip' });
    // The body is read as it came (at most the 256 KiB body cap), never inflated: its bytes are not JSON.
    expect(status).toBe(400);
    expect(json?.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    // Inflating the bomb takes about 30 MB (measured: gunzip plus the string); reading it as sent, under 1 MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(8 * 1024 * 1024);
  });
  it('refuses an array batch (batching is off)', async () => {
    const { status } = await post(
      JSON.stringify([{ query: '{ calls { totalCount } }' }, { query: '{ calls { totalCount } }' }]),
    );
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });
  it('refuses a body that is not JSON with 400', async () => {
    expect((await post('{"query": "{ calls { totalCount } }"')).status).toBe(400);
  });
  it('refuses a multipart upload', async () => {
    const { status } = await post('--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n--x--', {
      'content-type': 'multipart/form-data; boundary=x',
      'x-graphql-yoga-csrf': '1',
    });
    expect(status).toBe(415);
  });
  // After each test, before the next one clears the log: every refusal came without an upstream request.
  afterEach(() => expect(gw.upstream()).toHaveLength(0));
});

describe('B5: page sizes', () => {
  it.each([
    ['first -1', '{ calls(first: -1) { totalCount } }', 'BAD_USER_INPUT'],
    ['first 101', '{ calls(first: 101) { totalCount } }', 'BAD_USER_INPUT'],
    ['first 1e9', '{ calls(first: 1000000000) { edges { cursor } } }', 'BAD_USER_INPUT'],
    ['first "x"', '{ calls(first: "x") { totalCount } }', 'GRAPHQL_VALIDATION_FAILED'],
    ['last 2^31', '{ calls(last: 2147483648) { totalCount } }', 'GRAPHQL_VALIDATION_FAILED'],
    ['last 0 before nothing', '{ calls(last: -2147483648) { totalCount } }', 'BAD_USER_INPUT'],
  ])('%s', async (_name, query, code) => {
    const { body } = await gw.query(query);
    expect(body.errors?.[0]?.extensions?.code).toBe(code);
    expect(gw.upstream()).toHaveLength(0);
  });
});

describe('B6: injection through ids and arguments', () => {
  const nasty = [
    '../../admin',
    '%2F..%2Fadmin',
    'http://evil.example/',
    '+49\r\nX-Injected: 1',
    '\u202e\u0000😀',
    '?per_page=1000#',
  ];
  it.each(nasty)('a phone number filter %j is refused', async (value) => {
    const { body } = await gw.query('query($p: String) { calls(filter: { phoneNumber: $p }) { totalCount } }', {
      p: value,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
  it.each(nasty)('a node id %j is refused or names nothing', async (value) => {
    const { body } = await gw.query('query($id: ID!) { node(id: $id) { id } }', { id: b64(`Call:${value}`) });
    expect((body.data as { node?: unknown } | null | undefined)?.node ?? null).toBeNull();
  });
  it.each(nasty)('a cursor %j is refused', async (value) => {
    const { body } = await gw.query('query($c: String) { calls(after: $c) { totalCount } }', { c: value });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
  afterEach(() => {
    // Nothing reached the upstream, so its origin and paths could not have been steered.
    expect(gw.upstream()).toHaveLength(0);
  });
});

describe('B7: production hides the schema', () => {
  let prod: TestGateway;
  beforeAll(async () => {
    prod = await startTestGateway({ config: { introspection: false, graphiql: false } });
  });
  afterAll(() => prod.close());

  it('refuses introspection', async () => {
    const { body } = await prod.query('{ __schema { types { name } } }');
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });
  it('gives no "Did you mean" for a typo', async () => {
    const { body } = await prod.query('{ callz { totalCount } }');
    expect(body.errors?.[0]?.message).not.toMatch(/did you mean/i);
    const dev = await gw.query('{ callz { totalCount } }');
    expect(dev.body.errors?.[0]?.message).toMatch(/did you mean/i);
  });
  it('serves no GraphiQL', async () => {
    const response = await prod.gateway.fetch('http://gw/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.text()).not.toContain('RecentCalls');
  });
  it('made no upstream request', () => {
    expect(prod.upstream()).toHaveLength(0);
  });
});

describe('B8: mutations over GET and CSRF', () => {
  it('refuses an operation other than a query over GET', async () => {
    const response = await gw.gateway.fetch(`http://gw/graphql?query=${encodeURIComponent('mutation { x }')}`, {
      headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' },
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
  it('refuses a text/plain POST without the CSRF header with 403', async () => {
    const { status } = await post('{"query":"{ calls { totalCount } }"}', { 'content-type': 'text/plain' });
    expect(status).toBe(403);
  });
  // After each test, before the next one clears the log: every refusal came without an upstream request.
  afterEach(() => expect(gw.upstream()).toHaveLength(0));
});

describe('B9: fuzz', () => {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 5);
  const fieldNames = [
    'callId',
    'status',
    'type',
    'durationSeconds',
    'totalCost',
    'transcriptText',
    'createdAt',
    'variables',
    'nope',
    '__typename',
  ];
  const intish = fc.oneof(
    fc.integer({ min: -5, max: 300 }),
    fc.constantFrom(0, 2147483647, -2147483648),
    fc.double(),
    fc.string(),
  );
  const operation = fc
    .record({
      first: fc.option(intish, { nil: undefined }),
      last: fc.option(intish, { nil: undefined }),
      after: fc.option(fc.oneof(fc.string(), fc.base64String()), { nil: undefined }),
      status: fc.option(fc.constantFrom('COMPLETED', 'UNKNOWN', 'nope', 'NO_ANSWER'), { nil: undefined }),
      phone: fc.option(fc.string(), { nil: undefined }),
      fields: fc.subarray(fieldNames, { minLength: 1 }),
      depth: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ fields, depth, ...variables }) => {
      const inner = `edges { node { ${fields.join(' ')} } } pageInfo { hasNextPage endCursor } totalCount`;
      const query = `query Q($first: Int, $last: Int, $after: String, $status: CallStatus, $phone: String) {
        calls(first: $first, last: $last, after: $after, filter: { status: $status, phoneNumber: $phone }) { ${inner} }
        ${'__typename '.repeat(depth)}
      }`;
      return { query, variables };
    });
  const garbage = fc.record({
    query: fc.oneof(fc.string(), fc.stringMatching(/^[{}()a-z_:$!@ "\n]{0,200}$/)),
    variables: fc.jsonValue(),
  });

  it(`never answers 5xx, never crashes, always well-formed GraphQL JSON (${seconds} s)`, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(operation, garbage), async (request) => {
        runs++;
        const { status, json, text } = await post(JSON.stringify(request));
        expect(status, text).toBeLessThan(500);
        expect(json, text).not.toBeNull();
        const body = json as { data?: unknown; errors?: { message: unknown }[] };
        expect('data' in body || Array.isArray(body.errors)).toBe(true);
        for (const error of body.errors ?? []) expect(typeof error.message).toBe('string');
        expect(text).not.toMatch(/127\.0\.0\.1|at \w+ \(|node_modules/);
      }),
      { interruptAfterTimeLimit: seconds * 1000, numRuns: 1_000_000, markInterruptAsFailure: false },
    );
    expect(runs).toBeGreaterThan(20);
    console.log(`fuzz: ${runs} requests in ${seconds} s, none answered 5xx or malformed`);
  }, 180_000);
});

describe('B10: unexpected errors are masked', () => {
  it('a resolver throwing a plain Error with the upstream URL and a token shows only "Unexpected error.", and the log has no token', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'debug',
      new Writable({
        write: (c, _e, done) => {
          lines.push(String(c));
          done();
        },
      }),
    );
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { boom: String }',
        resolvers: {
          Query: {
            boom: () => {
              throw new Error(
                'GET https://app.famulor.de/api/user/calls failed with Authorization: Bearer sk-live-LEAK-123',
              );
            },
          },
        },
      }),
      maskedErrors: { maskError },
      logging: yogaLogging(logger),
    });
    const response = await yoga.fetch('http://x/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ boom }"}',
    });
    const text = await response.text();
    expect(JSON.parse(text).errors).toEqual([
      {
        message: 'Unexpected error.',
        locations: [{ line: 1, column: 3 }],
        path: ['boom'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(text).not.toMatch(/famulor|LEAK|stack/);
    expect(lines.join('')).toContain('yoga error');
    expect(lines.join('')).not.toContain('sk-live-LEAK-123');
  });
});
