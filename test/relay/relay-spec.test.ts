/**
 * `calls` against the Relay spec's pagination algorithm as graphql-relay implements it
 * (`connectionFromArray`), on the same list, for combinations of first/after/last/before. The edges must
 * be the same; page info must agree wherever the spec says MUST (§4.4: `hasNextPage` when paging with
 * `first`, `hasPreviousPage` with `last`). Where the spec says MAY, graphql-relay always answers false and
 * the gateway answers what it knows; those and the other deliberate differences are listed in the README
 * ("How pagination works").
 */
import { connectionFromArray, offsetToCursor } from 'graphql-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CURSOR_SECRET } from '../../src/config.js';
import { encodeCursor } from '../../src/pagination/cursor.js';
import { demoCalls } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// The demo tenant's failed calls, newest first as the simulator lists them.
const list = demoCalls()
  .filter((c) => c.raw.status === 'failed')
  .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.raw.id - a.raw.id);
const ids = list.map((c) => c.raw.id);
const N = ids.length;

/** The cursor the gateway issues for the row at `offset` (anchored on its call, as clients receive it). */
const cursorAt = (offset: number) =>
  encodeCursor(
    offset,
    { filterKey: 'status=failed', secret: DEFAULT_CURSOR_SECRET },
    { callId: ids[offset]!, createdAtMs: list[offset]!.createdAt.getTime() },
  );

const QUERY = `query Page($first: Int, $after: String, $last: Int, $before: String) {
  calls(first: $first, after: $after, last: $last, before: $before, filter: { status: FAILED }) {
    pageInfo { hasNextPage hasPreviousPage }
    edges { node { callId } }
  }
}`;

const offsets = [null, 0, 5, N - 2, N - 1];
type Case = { first?: number; last?: number; after: number | null; before: number | null };
const cases: Case[] = [];
for (const after of offsets) {
  for (const before of offsets) {
    if (after !== null && before !== null && before <= after) continue;
    for (const first of [0, 1, 7, 40]) cases.push({ first, after, before });
    for (const last of [1, 7, 40]) cases.push({ last, after, before });
  }
}

let gw: TestGateway;
beforeAll(async () => {
  // About 150 pages of one key: more than its budget, which is not the subject here.
  gw = await startTestGateway({ limits: 'off' });
});
afterAll(() => gw.close());

describe(`calls against graphql-relay's connectionFromArray (${N} failed calls, ${cases.length} combinations)`, () => {
  it('has a list long enough for every combination to matter', () => {
    expect(N).toBeGreaterThan(50);
  });

  it.each(cases)('first $first, last $last, after $after, before $before', async ({ first, last, after, before }) => {
    const relay = connectionFromArray(ids, {
      first,
      last,
      after: after === null ? undefined : offsetToCursor(after),
      before: before === null ? undefined : offsetToCursor(before),
    });
    const { body } = await gw.query(QUERY, {
      first,
      last,
      after: after === null ? null : cursorAt(after),
      before: before === null ? null : cursorAt(before),
    });
    expect(body.errors).toBeUndefined();
    const page = (
      body.data as {
        calls: { pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean }; edges: { node: { callId: number } }[] };
      }
    ).calls;
    const got = page.edges.map((e) => e.node.callId);
    expect(got).toEqual(relay.edges.map((e) => e.node));
    // The rows the page holds, as offsets in the list (an empty page sits where it starts).
    const start = got.length > 0 ? ids.indexOf(got[0]!) : null;
    const end = got.length > 0 ? ids.indexOf(got.at(-1)!) + 1 : null;
    if (first !== undefined) {
      expect(page.pageInfo.hasNextPage).toBe(relay.pageInfo.hasNextPage);
      // MAY: graphql-relay says false; the gateway says whether rows come before the page.
      if (start !== null) expect(page.pageInfo.hasPreviousPage).toBe(start > 0);
    } else {
      expect(page.pageInfo.hasPreviousPage).toBe(relay.pageInfo.hasPreviousPage);
      // MAY: graphql-relay says false; the gateway says whether rows follow the page.
      if (end !== null) expect(page.pageInfo.hasNextPage).toBe(end < N);
    }
  });

  it('refuses first and last together, which graphql-relay slices both ways (a deliberate difference)', async () => {
    expect(connectionFromArray(ids, { first: 5, last: 2 }).edges).toHaveLength(2);
    const { body } = await gw.query(QUERY, { first: 5, last: 2 });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
