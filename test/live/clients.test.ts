/**
 * A real SSE client (issue 12, item 5): graphql-sse's `createClient` in distinct connections mode, set up as
 * the README's frontend snippet says (the last `extensions.eventId` sent back as `Last-Event-ID` by the
 * `headers` function, which the client calls again on every reconnection), over a real socket. The server
 * drops the connection; calls logged meanwhile arrive after the client reconnects by itself, each once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import { createClient, type ExecutionResult } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN } from '../../src/simulator/data.js';
import { CallEventsDocument, type CallEventsSubscription } from '../gql/graphql.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { newCall, openSse, until } from './support.js';

type CallEventResult = ExecutionResult<CallEventsSubscription, { eventId?: string }>;

describe('graphql-sse client', () => {
  let gw: TestGateway;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    gw = await startTestGateway({ limits: 'off', config: { livePollIntervalMs: 500 } });
    server = createServer(gw.gateway.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await gw?.close();
  });

  it('gets new calls, reconnects by itself when the connection drops and resumes without loss or repeat', async () => {
    // The README's snippet.
    let lastEventId: string | undefined;
    // The client comes back only once the calls it missed are in the log (see below).
    let back: Promise<void> = Promise.resolve();
    const client = createClient({
      url,
      headers: () => ({
        authorization: `Bearer ${DEMO_TOKEN}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      }),
      retryAttempts: 10,
      retry: () => back,
    });
    const received: CallEventResult[] = [];
    let connects = 0;
    const dispose = client.subscribe<CallEventResult['data'], CallEventResult['extensions']>(
      // The typed operation of test/operations/live.graphql.
      { query: print(CallEventsDocument), variables: { filter: { type: 'INBOUND' } } },
      {
        next: (result) => {
          lastEventId = result.extensions?.eventId ?? lastEventId;
          received.push(result as CallEventResult);
        },
        error: (error) => {
          throw error;
        },
        complete: () => {},
      },
      { connecting: () => void connects++ },
    );
    try {
      await until(() => gw.gateway.live.snapshot().subscribers === 1, 10_000, 'subscribed');
      await until(() => gw.upstream().some((r) => r.query.per_page === '100'), 10_000, 'the first poll');
      const calls = gw.simulator.tenants.get(DEMO_TOKEN)!;
      const first = newCall();
      calls.push(first);
      await until(() => received.length === 1, 10_000, 'the first event');
      expect(received[0]!.data?.callEvents).toMatchObject({
        kind: 'CREATED',
        call: { callId: first.raw.id, type: 'INBOUND' },
      });
      expect(lastEventId).toMatch(/^m\./);

      // The connection drops; two calls arrive and are logged (another subscriber keeps the key's poller
      // going) before the client is back: only its Last-Event-ID can bring them.
      const keeper = await openSse(gw.gateway.fetch, 'http://gateway.test/graphql');
      const missed = [newCall(), newCall()];
      let logged!: () => void;
      back = new Promise((resolve) => (logged = resolve));
      server.closeAllConnections();
      calls.push(...missed);
      await keeper.waitForResults(2);
      logged();
      await until(() => received.length === 3, 15_000, 'the missed events after reconnecting');
      expect(connects).toBeGreaterThanOrEqual(2);
      expect(received.map((r) => r.data?.callEvents.call.callId)).toEqual([first, ...missed].map((c) => c.raw.id));
      // And nothing twice afterwards.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(received).toHaveLength(3);
      expect(received.every((r) => r.errors === undefined)).toBe(true);
      keeper.close();
    } finally {
      dispose();
      client.dispose();
    }
  });
});
