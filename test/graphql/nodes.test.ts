/**
 * `node(id:)` and `nodes(ids:)` with ids that are not what they should be (issue 11, item 3): each bad id is
 * null at its own position with BAD_USER_INPUT at `["nodes", i]`, while the good ids, the other root fields
 * and the cost charge per id stay as they were.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoCalls } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const [first, second] = demoCalls()
  .slice(30, 32)
  .map((c) => c.raw);
const FIRST = b64(`Call:${first!.id}`);
const SECOND = b64(`Call:${second!.id}`);

describe('nodes with malformed ids among good ones', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ config: { upstreamCacheTtlMs: 0 } });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.resetUpstream());

  it('each bad id is null with BAD_USER_INPUT at its position; good ids and siblings keep their data', async () => {
    const ids = [FIRST, 'garbage', SECOND, b64('Call:abc'), b64('User:1'), '', FIRST];
    const { status, body } = await gw.query(
      'query($ids: [ID!]!) { calls(first: 1) { totalCount } nodes(ids: $ids) { id ... on Call { callId } } }',
      { ids },
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({
      calls: { totalCount: demoCalls().length },
      nodes: [
        { id: FIRST, callId: first!.id },
        null,
        { id: SECOND, callId: second!.id },
        null,
        // A well-formed id of a type that is not a node here names nothing: null without an error.
        null,
        null,
        { id: FIRST, callId: first!.id },
      ],
    });
    const errors = body.errors?.map(({ path, extensions }) => ({
      path,
      code: extensions?.code,
      argumentName: extensions?.argumentName,
    }));
    expect(errors).toEqual([
      { path: ['nodes', 1], code: 'BAD_USER_INPUT', argumentName: 'ids' },
      { path: ['nodes', 3], code: 'BAD_USER_INPUT', argumentName: 'ids' },
      { path: ['nodes', 5], code: 'BAD_USER_INPUT', argumentName: 'ids' },
    ]);
    // The list page and one request per distinct good id; the bad ids cost the upstream nothing.
    expect(
      gw
        .upstream()
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/api/user/calls', `/api/user/calls/${first!.id}`, `/api/user/calls/${second!.id}`].sort());
  });

  it('node(id:) with a malformed id is null with BAD_USER_INPUT at ["node"]; siblings keep their data', async () => {
    const { body } = await gw.query(`{ calls(first: 1) { totalCount } node(id: "garbage") { id } }`);
    expect(body.data).toEqual({ calls: { totalCount: demoCalls().length }, node: null });
    expect(body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['node'], 'BAD_USER_INPUT']]);
  });

  it('node and nodes naming the same call in one operation both get it, fetched once', async () => {
    const query = `{ node(id: "${FIRST}") { __typename id } nodes(ids: ["${FIRST}"]) { __typename id } }`;
    const { body } = await gw.query(query);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ node: { __typename: 'Call', id: FIRST }, nodes: [{ __typename: 'Call', id: FIRST }] });
    expect(gw.upstream().map((r) => r.path)).toEqual([`/api/user/calls/${first!.id}`]);
  });
});
