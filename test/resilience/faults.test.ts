/**
 * Upstream faults F1-F9 of ../shared/docs/reliability.md §6, each with its pass criterion, injected by the simulator's
 * fault hook. Every timing rule (attempt timeout, deadline, back-off, Retry-After, pauses, the open
 * circuit) runs on a ManualClock shared by the gateway and the simulator, with the production timings:
 * the test moves the clock and checks what happened at each instant, and simulator arrivals are stamped
 * with that clock. Traffic still crosses real loopback sockets, so the clock is driven in 5 ms steps
 * with the event loop turning between them (test/support/clock.ts `drive`): an exchange started by a
 * timer due at T is seen at T or up to SLACK later, never earlier. Waits in real time (`realUntil`) only
 * tell "happens" from "never happens", with generous bounds; none measures a duration.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, demoCalls, SECOND_TENANT_TOKEN } from '../../src/simulator/data.js';
import type { SimFault } from '../../src/simulator/server.js';
import { CallIdsPageDocument } from '../gql/graphql.js';
import { drive, driveUntil, ioTurns, ManualClock, realUntil, type Watched, watch } from '../support/clock.js';
import { closedPort, startTestGateway, type TestGateway } from '../support/gateway.js';

const PAGE = { first: 5 };
const hang: SimFault = { kind: 'hang' };
const respond = (
  status: number,
  headers: Record<string, string> = {},
  body = '{"message":"Server Error"}',
): SimFault => ({
  kind: 'respond',
  status,
  headers,
  body,
});

/** The production policy (config.ts defaults): deadline 20 s, attempt 8 s, back-off 250 ms x 2^n, pauses 15 s. */
const DEADLINE = 20_000;
const ATTEMPT = 8_000;
const BASE = 250;
const PAUSE = 15_000;
/** How far past a timer's instant the driven clock may be when the exchange it started is seen (a few steps). */
const SLACK = 50;

type Answer = Awaited<ReturnType<TestGateway['query']>>;
const codeOf = (answer: Watched<Answer>) => answer.value?.body.errors?.[0]?.extensions?.code;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** Sends a query and waits for its answer with the clock standing still: the answer needed no time at all. */
async function atOnce<T>(clock: ManualClock, send: () => Promise<T>): Promise<T> {
  const before = clock.time;
  const answer = watch(clock, send());
  await realUntil(() => answer.settled, 2_000, 'an answer without the clock moving');
  expect(clock.time).toBe(before);
  if (answer.error) throw answer.error;
  return answer.value!;
}

describe('upstream faults (../shared/docs/reliability.md §6)', () => {
  it('F1: every attempt slower than the attempt timeout gives UPSTREAM_TIMEOUT at the deadline, in 3 attempts cut at the attempt timeout, leaving nothing in flight', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock, simulator: { faults: () => hang } });
    const t0 = clock.time;
    const answer = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    await driveUntil(clock, () => answer.settled, DEADLINE + 5_000);
    expect(codeOf(answer)).toBe('UPSTREAM_TIMEOUT');
    const [a0, a1, a2, ...more] = gw.upstream().map((r) => r.at - t0);
    expect(more).toEqual([]);
    expect(a0).toBe(0);
    // Each retry goes once the attempt before it has timed out, after a back-off of at most 250, then 500 ms.
    expect(a1).toBeGreaterThanOrEqual(ATTEMPT);
    expect(a1).toBeLessThan(ATTEMPT + BASE + SLACK);
    expect(a2).toBeGreaterThanOrEqual(a1! + ATTEMPT);
    expect(a2).toBeLessThan(a1! + ATTEMPT + 2 * BASE + SLACK);
    // The third attempt is cut by the deadline, not by its own 8 s.
    expect(answer.at! - t0).toBeGreaterThanOrEqual(DEADLINE);
    expect(answer.at! - t0).toBeLessThan(DEADLINE + SLACK);
    await realUntil(() => gw!.simulator.openResponses() === 0, 2_000, 'the sockets closing');
    expect(gw.gateway.upstreamSnapshot().inFlight).toBe(0);
  });

  it('F2: a body dripping one byte at a time (which undici, timing bodies between chunks, never cuts) is cut by the deadline and its socket closed', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({
      clock,
      simulator: { faults: () => ({ kind: 'drip', intervalMs: 20 }) },
      // One attempt as long as the deadline: the deadline alone has to end it.
      upstream: { attemptTimeoutMs: DEADLINE },
    });
    const t0 = clock.time;
    const answer = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    await realUntil(() => gw!.simulator.openResponses() === 1, 2_000, 'the dripping response');
    await drive(clock, DEADLINE - 1);
    expect(answer.settled).toBe(false);
    await driveUntil(clock, () => answer.settled, SLACK);
    expect(codeOf(answer)).toBe('UPSTREAM_TIMEOUT');
    expect(answer.at! - t0).toBeGreaterThanOrEqual(DEADLINE);
    expect(gw.upstream()).toHaveLength(1);
    await realUntil(() => gw!.simulator.openResponses() === 0, 2_000, 'the socket closing');
  });

  it('F3: a connection reset in the middle of a GET is retried and succeeds (the API has no mutations to protect)', async () => {
    gw = await startTestGateway({
      simulator: { faults: (_r, i) => (i === 0 ? { kind: 'reset' } : undefined) },
      upstream: { retryBaseMs: 10 },
    });
    const { body } = await gw.query(CallIdsPageDocument, PAGE);
    expect(body.errors).toBeUndefined();
    expect(body.data!.calls!.edges).toHaveLength(5);
    expect(gw.upstream()).toHaveLength(2);
  });

  it('F4: timeout, then 429 Retry-After: 1, then 504, then 200: correct data, 4 upstream requests, the retry after the 429 exactly 1 s later', async () => {
    const script = [hang, respond(429, { 'retry-after': '1' }, '{"message":"Too Many Attempts."}'), respond(504)];
    const reference = await startTestGateway();
    const expected = (await reference.query(CallIdsPageDocument, PAGE)).body.data;
    await reference.close();
    const clock = new ManualClock();
    gw = await startTestGateway({ clock, simulator: { faults: (_r, i) => script[i] }, upstream: { maxRetries: 3 } });
    const t0 = clock.time;
    const answer = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    await driveUntil(clock, () => answer.settled, DEADLINE);
    expect(answer.value!.body.errors).toBeUndefined();
    expect(answer.value!.body.data).toEqual(expected);
    const [a0, a1, a2, a3, ...more] = gw.upstream().map((r) => r.at - t0);
    expect(more).toEqual([]);
    expect(a0).toBe(0);
    expect(a1).toBeGreaterThanOrEqual(ATTEMPT);
    // The 429 holds the key for the second it names (from when its answer came, a step or so after it
    // arrived), and not longer.
    expect(a2! - a1!).toBeGreaterThanOrEqual(1_000);
    expect(a2! - a1!).toBeLessThan(1_000 + SLACK);
    // The 504 is the third failure: a back-off of at most 250 x 2^2 ms.
    expect(a3! - a2!).toBeLessThan(4 * BASE + SLACK);
  });

  it('F5: 429 with Retry-After longer than the deadline fails at once with retryAfter; the key stays throttled for exactly that long; another tenant is not', async () => {
    const clock = new ManualClock();
    let refused = false;
    gw = await startTestGateway({
      clock,
      simulator: {
        // The demo key's first request is refused for two minutes; the upstream serves it again after that.
        faults: (r) => {
          if (r.authorization !== `Bearer ${DEMO_TOKEN}` || refused) return undefined;
          refused = true;
          return respond(429, { 'retry-after': '120' }, '{"message":"Too Many Attempts."}');
        },
      },
    });
    const demoRequests = () => gw!.upstream().filter((r) => r.authorization === `Bearer ${DEMO_TOKEN}`).length;
    const t0 = clock.time;
    // "At once": both answers come with the clock standing still, so neither waited for any timer.
    const [first, other] = await Promise.all([
      atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE)),
      atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE, { token: SECOND_TENANT_TOKEN })),
    ]);
    expect(first.body.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_RATE_LIMITED', retryAfter: 120 });
    expect(other.body.errors).toBeUndefined();
    expect(other.body.data!.calls!.edges).toHaveLength(5);
    expect(demoRequests()).toBe(1);
    // The same key is answered at once, without the upstream, while the 120 s are further off than an
    // interactive request may queue (UPSTREAM_QUEUE_TIMEOUT_MS, 2 s) ...
    await clock.advance(60_000);
    const later = await atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE));
    expect(later.body.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_RATE_LIMITED', retryAfter: 60 });
    await clock.advance(t0 + 120_000 - 2_001 - clock.time);
    const last = await atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE));
    expect(last.body.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_RATE_LIMITED', retryAfter: 3 });
    expect(demoRequests()).toBe(1);
    // ... then queues, and goes to the upstream when the 120 s are up, not a millisecond earlier.
    await clock.advance(1);
    const served = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    await clock.advance(1_999);
    await ioTurns(20);
    expect(served.settled).toBe(false);
    expect(demoRequests()).toBe(1);
    await clock.advance(1);
    await realUntil(() => served.settled, 2_000, 'the answer');
    expect(served.value!.body.errors).toBeUndefined();
    expect(
      gw
        .upstream()
        .filter((r) => r.authorization === `Bearer ${DEMO_TOKEN}`)
        .map((r) => r.at - t0),
    ).toEqual([0, 120_000]);
  });

  it('F6, one key: 503s for one key pause that key alone after 5 failures in a row, for exactly the pause; the circuit and readiness stay; one probe; it resumes', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({
      clock,
      simulator: { faults: (r) => (r.authorization === `Bearer ${DEMO_TOKEN}` ? respond(503) : undefined) },
    });
    // Two client requests with their retries make 5 failed attempts in a row.
    const first = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    await driveUntil(clock, () => first.settled, 5_000);
    expect(codeOf(first)).toBe('UPSTREAM_UNAVAILABLE');
    expect(gw.upstream()).toHaveLength(3);
    const second = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    await driveUntil(clock, () => gw!.upstream().length === 5, 5_000);
    // The clock stands still until the fifth failure is recorded: the pause starts at this instant.
    await realUntil(() => gw!.gateway.upstreamSnapshot().inFlight === 0, 2_000, 'the fifth answer');
    const pausedAt = clock.time;
    // Its retry, after the back-off, is refused by the pause.
    await driveUntil(clock, () => second.settled, 5_000);
    expect(codeOf(second)).toBe('UPSTREAM_UNAVAILABLE');
    for (let i = 0; i < 18; i++) {
      const { body } = await atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE));
      expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    }
    expect(gw.upstream()).toHaveLength(5);
    expect(gw.gateway.upstreamSnapshot().breaker).toBe('closed');
    const other = await gw.query(CallIdsPageDocument, PAGE, { token: SECOND_TENANT_TOKEN });
    expect(other.body.errors).toBeUndefined();
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(200);

    gw.resetUpstream();
    await clock.advance(pausedAt + PAUSE - 1 - clock.time);
    expect((await atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE))).body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      retryAfter: 1,
    });
    expect(gw.upstream()).toHaveLength(0);
    await clock.advance(1);
    // Pause over: of five requests at once exactly one probes the upstream; it fails, so the key pauses again.
    const five = Array.from({ length: 5 }, () => watch(clock, gw!.query(CallIdsPageDocument, PAGE)));
    await realUntil(
      () => gw!.upstream().length === 1 && gw!.gateway.upstreamSnapshot().inFlight === 0,
      2_000,
      'the probe',
    );
    const probedAt = clock.time;
    await driveUntil(clock, () => five.every((a) => a.settled), 5_000);
    expect(five.map(codeOf)).toEqual(Array(5).fill('UPSTREAM_UNAVAILABLE'));
    expect(gw.upstream()).toHaveLength(1);

    gw.simulator.setFaults(undefined);
    await clock.advance(probedAt + PAUSE - 1 - clock.time);
    expect((await atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE))).body.errors?.[0]?.extensions?.code).toBe(
      'UPSTREAM_UNAVAILABLE',
    );
    await clock.advance(1);
    expect((await gw.query(CallIdsPageDocument, PAGE)).body.errors).toBeUndefined();
    expect((await gw.query(CallIdsPageDocument, PAGE)).body.errors).toBeUndefined();
  });

  it('F6, the whole upstream: failures from many keys open the circuit; open-state failures answer at once; exactly the open interval; one half-open probe; after it, no further UPSTREAM_UNAVAILABLE', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `outage-key-${i}`);
    const clock = new ManualClock();
    gw = await startTestGateway({
      clock,
      simulator: { tenants: Object.fromEntries(keys.map((k) => [k, demoCalls()])), faults: () => respond(503) },
    });
    const breaker = () => gw!.gateway.upstreamSnapshot().breaker;
    const t0 = clock.time;
    const clientRequests = 60;
    let openedAt: number | null = null;
    for (let i = 0; i < clientRequests; i++) {
      const send = () => gw!.query(CallIdsPageDocument, PAGE, { token: keys[i % keys.length] });
      if (openedAt !== null) {
        // Once open, failures are answered at once.
        expect((await atOnce(clock, send)).body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
        continue;
      }
      const answer = watch(clock, send());
      await driveUntil(
        clock,
        () => {
          // The clock moves only between checks: the circuit opened at the instant it is first seen open.
          if (openedAt === null && breaker() === 'open') openedAt = clock.time;
          return answer.settled;
        },
        5_000,
      );
      expect(codeOf(answer)).toBe('UPSTREAM_UNAVAILABLE');
    }
    expect(openedAt).not.toBeNull();
    expect(breaker()).toBe('open');
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(503);
    // Retries are budgeted: attempts stay within 1.1x the client requests plus the 10/s floor.
    const seconds = Math.max(1, Math.ceil((clock.time - t0) / 1000));
    expect(gw.upstream().length).toBeLessThanOrEqual(1.1 * clientRequests + 10 * seconds);
    expect(gw.upstream().length).toBeLessThan(clientRequests);

    gw.resetUpstream();
    await clock.advance(openedAt! + PAUSE - 1 - clock.time);
    expect(breaker()).toBe('open');
    expect(
      (await atOnce(clock, () => gw!.query(CallIdsPageDocument, PAGE, { token: keys[0] }))).body.errors?.[0]?.extensions
        ?.code,
    ).toBe('UPSTREAM_UNAVAILABLE');
    expect(gw.upstream()).toHaveLength(0);
    await clock.advance(1);
    expect(breaker()).toBe('half-open');
    const five = keys.slice(0, 5).map((token) => watch(clock, gw!.query(CallIdsPageDocument, PAGE, { token })));
    await realUntil(() => gw!.upstream().length === 1 && breaker() === 'open', 2_000, 'the failed probe');
    const probedAt = clock.time;
    await driveUntil(clock, () => five.every((a) => a.settled), 5_000);
    expect(gw.upstream()).toHaveLength(1);
    expect(breaker()).toBe('open');

    gw.simulator.setFaults(undefined);
    await clock.advance(probedAt + PAUSE - clock.time);
    // The first good probe closes the circuit with an empty window and resumes every key paused in the
    // outage: none of the next requests, on any key, is refused.
    for (const token of keys)
      expect((await gw.query(CallIdsPageDocument, PAGE, { token })).body.errors).toBeUndefined();
    expect(breaker()).toBe('closed');
    for (const token of keys)
      expect((await gw.query(CallIdsPageDocument, { first: 6 }, { token })).body.errors).toBeUndefined();
  });

  it('F7: a refused connection is UPSTREAM_UNAVAILABLE after its two retries alone (no connect timeout or deadline waited for), and the gateway stays healthy', async () => {
    const port = await closedPort();
    const clock = new ManualClock();
    gw = await startTestGateway({ clock, config: { upstreamBaseUrl: `http://127.0.0.1:${port}/api` } });
    const t0 = clock.time;
    const answer = watch(clock, gw.query(CallIdsPageDocument, PAGE));
    // A refusal on loopback is immediate; only the back-offs (at most 250 + 500 ms) take the clock's time.
    // undici's connect timeout runs in real time: had the gateway waited for it, the clock would have been
    // driven past this limit long before.
    await driveUntil(clock, () => answer.settled, 5_000);
    expect(codeOf(answer)).toBe('UPSTREAM_UNAVAILABLE');
    expect(answer.at! - t0).toBeLessThan(3 * BASE + SLACK);
    expect(JSON.stringify(answer.value!.body)).not.toContain(String(port));
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

  it('F9: a client that disconnects aborts its upstream request at once (no timer needed), and no retry follows', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock, simulator: { faults: () => hang } });
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
      await realUntil(() => gw!.simulator.openResponses() === 1, 2_000, 'the upstream request');
      controller.abort();
      await pending;
      // The disconnect is a socket event, so this part is real network: the upstream request must close
      // with the clock standing still (no attempt timeout or deadline involved); the bound is generous.
      await realUntil(() => gw!.simulator.openResponses() === 0, 2_000, 'the upstream request closing');
      // Past the deadline, nothing was retried.
      await drive(clock, DEADLINE + 1_000, 50);
      expect(gw.upstream()).toHaveLength(1);
      expect(gw.gateway.upstreamSnapshot().inFlight).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
