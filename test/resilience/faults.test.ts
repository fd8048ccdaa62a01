/**
 * Upstream faults F1-F9 of reliability.md §6, each with its pass criterion, injected by the simulator's
 * fault hook. Timings are scaled down by configuration (deadline, attempt timeout, open interval) so the
 * suite stays fast; the code paths are the production ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, demoCalls, SECOND_TENANT_TOKEN } from '../../src/simulator/data.js';
import type { SimFault } from '../../src/simulator/server.js';
import { CallIdsPageDocument } from '../gql/graphql.js';
import { closedPort, startTestGateway, type TestGateway } from '../support/gateway.js';

const PAGE = { first: 5 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hang: SimFault = { kind: 'hang' };
const respond = (status: number, headers: Record<string, string> = {}, body = '{"message":"Server Error"}'): SimFault => ({
  kind: 'respond',
  status,
  headers,
  body,
});

/** Waits until `check` holds, for at most `ms`. */
async function eventually(check: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

describe('upstream faults (reliability.md §6)', () => {
  it('F1: every attempt slower than the attempt timeout gives UPSTREAM_TIMEOUT within the deadline, in at most 3 attempts, leaving nothing in flight', async () => {
    gw = await startTestGateway({
      simulator: { faults: () => hang },
      upstream: { timeoutMs: 1_000, attemptTimeoutMs: 200, retryBaseMs: 20, retryCapMs: 50 },
    });
    const { result, ms } = await timed(() => gw!.query(CallIdsPageDocument, PAGE));
    expect(result.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_TIMEOUT');
    expect(ms).toBeLessThan(1_000 + 1_000);
    expect(gw.upstream().length).toBeLessThanOrEqual(3);
    expect(gw.upstream().length).toBeGreaterThanOrEqual(2);
    await eventually(() => gw!.simulator.openResponses() === 0);
    expect(gw.gateway.upstreamStats().inFlight).toBe(0);
  });

  it('F2: a body dripping one byte at a time is cut by the deadline and its socket closed', async () => {
    gw = await startTestGateway({
      simulator: { faults: () => ({ kind: 'drip', intervalMs: 50 }) },
      upstream: { timeoutMs: 600, attemptTimeoutMs: 600, maxRetries: 2 },
    });
    const { result, ms } = await timed(() => gw!.query(CallIdsPageDocument, PAGE));
    expect(result.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_TIMEOUT');
    expect(ms).toBeLessThan(600 + 500);
    await eventually(() => gw!.simulator.openResponses() === 0, 500);
  });

  it('F3: a connection reset in the middle of a GET is retried and succeeds (the API has no mutations to protect)', async () => {
    gw = await startTestGateway({ simulator: { faults: (_r, i) => (i === 0 ? { kind: 'reset' } : undefined) }, upstream: { retryBaseMs: 10 } });
    const { body } = await gw.query(CallIdsPageDocument, PAGE);
    expect(body.errors).toBeUndefined();
    expect(body.data!.calls!.edges).toHaveLength(5);
    expect(gw.upstream()).toHaveLength(2);
  });

  it('F4: timeout, then 429 Retry-After: 1, then 504, then 200: correct data, 4 upstream requests, the retry after the 429 at least 1 s later', async () => {
    const script = [hang, respond(429, { 'retry-after': '1' }, '{"message":"Too Many Attempts."}'), respond(504)];
    gw = await startTestGateway({
      simulator: { faults: (_r, i) => script[i] },
      upstream: { maxRetries: 3, timeoutMs: 5_000, attemptTimeoutMs: 300, retryBaseMs: 20, retryCapMs: 50 },
    });
    const reference = await startTestGateway();
    const expected = (await reference.query(CallIdsPageDocument, PAGE)).body.data;
    await reference.close();
    const { body } = await gw.query(CallIdsPageDocument, PAGE);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual(expected);
    const arrivals = gw.upstream().map((r) => r.at);
    expect(arrivals).toHaveLength(4);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(1_000);
  });

  it('F5: 429 with Retry-After longer than the deadline fails at once with retryAfter; the key stays throttled; another tenant is not', async () => {
    gw = await startTestGateway({
      simulator: { faults: (r) => (r.authorization === `Bearer ${DEMO_TOKEN}` ? respond(429, { 'retry-after': '120' }, '{"message":"Too Many Attempts."}') : undefined) },
    });
    const [first, other] = await Promise.all([
      timed(() => gw!.query(CallIdsPageDocument, PAGE)),
      gw.query(CallIdsPageDocument, PAGE, { token: SECOND_TENANT_TOKEN }),
    ]);
    expect(first.result.body.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_RATE_LIMITED', retryAfter: 120 });
    expect(first.ms).toBeLessThan(300);
    expect(other.body.errors).toBeUndefined();
    expect(other.body.data!.calls!.edges).toHaveLength(5);
    expect(gw.upstream().filter((r) => r.authorization === `Bearer ${DEMO_TOKEN}`)).toHaveLength(1);
    // The same key keeps getting a fast answer without touching the upstream until the time is up.
    const again = await gw.query(CallIdsPageDocument, PAGE);
    expect(again.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_RATE_LIMITED');
    expect((again.body.errors?.[0]?.extensions?.retryAfter as number) <= 120).toBe(true);
    expect(gw.upstream().filter((r) => r.authorization === `Bearer ${DEMO_TOKEN}`)).toHaveLength(1);
  });

  it('F6, one key: 503s for one key pause that key alone after 5 failures in a row; the circuit and readiness stay; one probe; it resumes', async () => {
    const pauseMs = 400;
    gw = await startTestGateway({
      simulator: { faults: (r) => (r.authorization === `Bearer ${DEMO_TOKEN}` ? respond(503) : undefined) },
      upstream: { retryBaseMs: 5, retryCapMs: 10, breaker: { openMs: pauseMs } },
    });
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { result, ms } = await timed(() => gw!.query(CallIdsPageDocument, PAGE));
      expect(result.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      durations.push(ms);
    }
    // 5 failed attempts in a row (two client requests with their retries) pause the key: no more upstream traffic.
    expect(gw.upstream()).toHaveLength(5);
    expect(Math.max(...durations.slice(-15))).toBeLessThan(50);
    expect(gw.gateway.upstreamStats().breaker).toBe('closed');
    const other = await gw.query(CallIdsPageDocument, PAGE, { token: SECOND_TENANT_TOKEN });
    expect(other.body.errors).toBeUndefined();
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(200);

    await sleep(pauseMs + 50);
    gw.resetUpstream();
    await Promise.all(Array.from({ length: 5 }, () => gw!.query(CallIdsPageDocument, PAGE)));
    expect(gw.upstream()).toHaveLength(1);

    gw.simulator.setFaults(undefined);
    await sleep(pauseMs + 50);
    expect((await gw.query(CallIdsPageDocument, PAGE)).body.errors).toBeUndefined();
    expect((await gw.query(CallIdsPageDocument, PAGE)).body.errors).toBeUndefined();
  });

  it('F6, the whole upstream: failures from many keys open the circuit; open-state failures answer in under 50 ms; one half-open probe; after it, no further UPSTREAM_UNAVAILABLE', async () => {
    const openMs = 400;
    const keys = Array.from({ length: 10 }, (_, i) => `outage-key-${i}`);
    gw = await startTestGateway({
      simulator: { tenants: Object.fromEntries(keys.map((k) => [k, demoCalls()])), faults: () => respond(503) },
      upstream: { retryBaseMs: 5, retryCapMs: 10, breaker: { openMs } },
    });
    const started = Date.now();
    const clientRequests = 60;
    const durations: number[] = [];
    for (let i = 0; i < clientRequests; i++) {
      const { result, ms } = await timed(() => gw!.query(CallIdsPageDocument, PAGE, { token: keys[i % keys.length] }));
      expect(result.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      durations.push(ms);
    }
    const seconds = Math.max(1, (Date.now() - started) / 1000);
    expect(gw.gateway.upstreamStats().breaker).toBe('open');
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(503);
    // Retries are budgeted: attempts stay within 1.1x the client requests plus the 10/s floor.
    expect(gw.upstream().length).toBeLessThanOrEqual(1.1 * clientRequests + 10 * Math.ceil(seconds));
    expect(gw.upstream().length).toBeLessThan(clientRequests);
    // Once open, failures are immediate.
    expect(Math.max(...durations.slice(-20))).toBeLessThan(50);

    await sleep(openMs + 50);
    gw.resetUpstream();
    await Promise.all(keys.slice(0, 5).map((token) => gw!.query(CallIdsPageDocument, PAGE, { token })));
    expect(gw.upstream()).toHaveLength(1);
    expect(gw.gateway.upstreamStats().breaker).toBe('open');

    gw.simulator.setFaults(undefined);
    await sleep(openMs + 50);
    // The first good probe closes the circuit with an empty window and resumes every key paused in the
    // outage: none of the next requests, on any key, is refused.
    for (const token of keys) expect((await gw.query(CallIdsPageDocument, PAGE, { token })).body.errors).toBeUndefined();
    expect(gw.gateway.upstreamStats().breaker).toBe('closed');
    for (const token of keys) expect((await gw.query(CallIdsPageDocument, { first: 6 }, { token })).body.errors).toBeUndefined();
  });

  it('F7: a refused connection is UPSTREAM_UNAVAILABLE within the connect timeout, and the gateway stays healthy', async () => {
    const port = await closedPort();
    gw = await startTestGateway({ config: { upstreamBaseUrl: `http://127.0.0.1:${port}/api` } });
    const { result, ms } = await timed(() => gw!.query(CallIdsPageDocument, PAGE));
    expect(result.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(ms).toBeLessThan(3_000 + 100);
    expect(JSON.stringify(result.body)).not.toContain(String(port));
    expect((await gw.gateway.fetch('http://gw/health')).status).toBe(200);
  });

  it.each([
    ['malformed JSON', respond(200, {}, '{"data": [{"id": 1,')],
    ['the wrong shape', respond(200, {}, '{"items": []}')],
    ['a 6 MB body', respond(200, {}, JSON.stringify({ data: [], padding: 'x'.repeat(6 * 1024 * 1024) }))],
    ['HTML with status 200', respond(200, { 'content-type': 'text/html' }, '<html>login</html>')],
  ])('F8: 200 with %s is UPSTREAM_BAD_RESPONSE, not echoed, no crash', async (_name, fault) => {
    gw = await startTestGateway({ simulator: { faults: () => fault } });
    const before = process.memoryUsage().rss;
    const { body } = await gw.query(CallIdsPageDocument, PAGE);
    expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(JSON.stringify(body)).not.toMatch(/items|padding|login|"id": 1/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    expect(gw.upstream()).toHaveLength(1);
  });

  it('F9: a client that disconnects aborts its upstream request within 100 ms, and no retry follows', async () => {
    gw = await startTestGateway({ simulator: { faults: () => hang } });
    const server: Server = createServer(gw.gateway.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const controller = new AbortController();
      const pending = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify({ query: '{ calls(first: 5) { totalCount } }' }),
        signal: controller.signal,
      }).catch(() => undefined);
      await eventually(() => gw!.simulator.openResponses() === 1);
      const abortedAt = performance.now();
      controller.abort();
      await pending;
      await eventually(() => gw!.simulator.openResponses() === 0, 1_000);
      expect(performance.now() - abortedAt).toBeLessThan(100);
      await sleep(400);
      expect(gw.upstream()).toHaveLength(1);
      expect(gw.gateway.upstreamStats().inFlight).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
