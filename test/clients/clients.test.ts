/**
 * The clients frontend developers use, against a real HTTP gateway on 127.0.0.1: Apollo Client with
 * `relayStylePagination()` and urql with Graphcache's `relayPagination()` each walk a filtered list with
 * their own pagination helpers until `hasNextPage` is false, and their caches must end with exactly the
 * upstream's calls, in order.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, gql as apolloGql, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { Client, fetchExchange, gql as urqlGql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const WALK = `
  query Walk($filter: CallFilter, $first: Int, $after: String) {
    calls(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id callId status } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const filter = { status: 'COMPLETED', type: 'INBOUND' };

let gw: TestGateway;
let server: Server;
let url: string;
let expected: number[];

beforeAll(async () => {
  gw = await startTestGateway();
  server = createServer(gw.gateway.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  expected = [];
  for (let page = 1; ; page++) {
    const response = await fetch(
      `${gw.simulator.url}/user/calls?status=completed&type=inbound&per_page=100&page=${page}`,
      {
        headers: { authorization: `Bearer ${DEMO_TOKEN}`, accept: 'application/json' },
      },
    );
    const body = (await response.json()) as { data: { id: number }[]; last_page: number };
    expected.push(...body.data.map((c) => c.id));
    if (page >= body.last_page) break;
  }
  expect(expected.length).toBeGreaterThan(50);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gw.close();
});

describe('Apollo Client', () => {
  it('pages with fetchMore and relayStylePagination until hasNextPage is false; the cache holds exactly the upstream calls', async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${DEMO_TOKEN}` } }),
      cache: new InMemoryCache({ typePolicies: { Query: { fields: { calls: relayStylePagination(['filter']) } } } }),
    });
    const query = apolloGql(WALK);
    const observable = client.watchQuery({ query, variables: { filter, first: 25 } });
    const subscription = observable.subscribe(() => {});
    try {
      let result = await client.query({ query, variables: { filter, first: 25 } });
      let fetches = 1;
      for (;;) {
        const current = client.readQuery<{ calls: { pageInfo: { hasNextPage: boolean; endCursor: string } } }>({
          query,
          variables: { filter, first: 25 },
        });
        if (!current?.calls.pageInfo.hasNextPage) break;
        result = (await observable.fetchMore({
          variables: { after: current.calls.pageInfo.endCursor },
        })) as typeof result;
        fetches++;
        expect(fetches).toBeLessThan(100);
      }
      const cached = client.readQuery<{ calls: { edges: { node: { callId: number } }[] } }>({
        query,
        variables: { filter, first: 25 },
      });
      expect(cached!.calls.edges.map((e) => e.node.callId)).toEqual(expected);
      expect(fetches).toBe(Math.ceil(expected.length / 25));
    } finally {
      subscription.unsubscribe();
      client.stop();
    }
  });
});

describe('urql with Graphcache', () => {
  it('pages with relayPagination until hasNextPage is false; the merged result is exactly the upstream calls', async () => {
    const client = new Client({
      url,
      exchanges: [cacheExchange({ resolvers: { Query: { calls: relayPagination() } } }), fetchExchange],
      // urql sends queries as GET by default; GET needs the CSRF header (or `preferGetMethod: false`).
      fetchOptions: { headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'x-graphql-yoga-csrf': '1' } },
    });
    const query = urqlGql(WALK);
    let after: string | null = null;
    let edges: { node: { callId: number } }[] = [];
    for (let fetches = 1; ; fetches++) {
      const result: { error?: unknown; data?: unknown } = await client
        .query(query, { filter, first: 25, after })
        .toPromise();
      expect(result.error).toBeUndefined();
      const calls: { edges: { node: { callId: number } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = (
        result.data as {
          calls: { edges: { node: { callId: number } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
        }
      ).calls;
      // relayPagination merges every page fetched so far into the latest result.
      edges = calls.edges;
      if (!calls.pageInfo.hasNextPage) break;
      after = calls.pageInfo.endCursor;
      expect(fetches).toBeLessThan(100);
    }
    expect(edges.map((e) => e.node.callId)).toEqual(expected);
  });
});
