/**
 * Relay: relay-compiler (the real one, a binary shipped in its npm package) compiles a pagination
 * fragment with @connection and @refetchable on Query.calls, and a @refetchable fragment on Call,
 * against the committed schema.graphql; the compiled queries then run against the gateway, the Call
 * refetch through node(id:). Sources and artifacts live in a temporary folder.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const SOURCE = `
const graphql = (s: TemplateStringsArray) => s;

export const list = graphql\`
  fragment CallsListPaginationFragment on Query
  @refetchable(queryName: "CallsListPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 5 }, after: { type: "String" }, filter: { type: "CallFilter" }) {
    calls(first: $first, after: $after, filter: $filter) @connection(key: "CallsList_calls", filters: ["filter"]) {
      totalCount
      edges {
        node {
          id
          ...CallRowFragment
        }
      }
    }
  }
\`;

export const row = graphql\`
  fragment CallRowFragment on Call @refetchable(queryName: "CallRowRefetchQuery") {
    callId
    status
    transcriptText
  }
\`;
`;

/** The query text of a compiled Relay artifact (its `params.text`). */
function queryText(artifact: string): string {
  const match = /"text":\s*("(?:[^"\\]|\\.)*")/.exec(artifact);
  if (!match) throw new Error('no query text in the artifact');
  return JSON.parse(match[1]!) as string;
}

describe('Relay', () => {
  let dir: string;
  let gw: TestGateway;
  let compiled: { stdout: string; stderr: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'calls-gateway-relay-'));
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, '__generated__'));
    writeFileSync(join(dir, 'src', 'calls.ts'), SOURCE);
    writeFileSync(
      join(dir, 'relay.config.json'),
      JSON.stringify({
        src: './src',
        schema: resolve('schema.graphql'),
        language: 'typescript',
        artifactDirectory: './__generated__',
        customScalarTypes: { DateTime: 'string', Date: 'string', JSON: 'unknown' },
      }),
    );
    compiled = await promisify(execFile)(resolve('node_modules/.bin/relay-compiler'), [], { cwd: dir });
    gw = await startTestGateway();
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles @connection and @refetchable fragments against schema.graphql without errors', () => {
    expect(`${compiled.stdout}${compiled.stderr}`).not.toMatch(/error/i);
    const text = queryText(readFileSync(join(dir, '__generated__', 'CallsListPaginationQuery.graphql.ts'), 'utf8'));
    expect(text).toMatch(/calls\(first: \$first, after: \$after, filter: \$filter\)/);
    expect(text).toContain('pageInfo');
  });

  it('runs the connection query, then refetches a call through node(id:)', async () => {
    const listText = queryText(readFileSync(join(dir, '__generated__', 'CallsListPaginationQuery.graphql.ts'), 'utf8'));
    // A key's first operation is not cached (cache.ts, "Admission"); this one makes the key known.
    await gw.query('{ calls(first: 1) { totalCount } }');
    const list = await gw.query(listText, { first: 3, filter: { status: 'COMPLETED' } });
    expect(list.body.errors).toBeUndefined();
    const calls = (
      list.body.data as {
        calls: {
          edges: { cursor: string; node: { id: string; callId: number } }[];
          pageInfo: { hasNextPage: boolean };
        };
      }
    ).calls;
    expect(calls.edges).toHaveLength(3);
    expect(calls.pageInfo.hasNextPage).toBe(true);

    gw.resetUpstream();
    const refetchText = queryText(readFileSync(join(dir, '__generated__', 'CallRowRefetchQuery.graphql.ts'), 'utf8'));
    expect(refetchText).toMatch(/node\(id: \$id\)/);
    const first = calls.edges[0]!.node;
    // The list just returned the call, so the page cache answers the refetch; Relay's network-only
    // refetches send `Cache-Control: no-cache` and reach the upstream.
    for (const headers of [{}, { 'cache-control': 'no-cache' }] as Record<string, string>[]) {
      const refetched = await gw.query(refetchText, { id: first.id }, { headers });
      expect(refetched.body.errors).toBeUndefined();
      expect(refetched.body.data).toMatchObject({
        node: { __typename: 'Call', id: first.id, callId: first.callId, status: 'COMPLETED' },
      });
    }
    expect(gw.upstream().map((r) => r.path)).toEqual([`/api/user/calls/${first.callId}`]);
  });
});
