/**
 * The proof of issue "Live within the upstream's budget": the workloads of bench/budget.ts, against the
 * simulator enforcing the documented limits (100/60 s and 20/10 s per key) and the gateway with its
 * defaults, through real HTTP. Simulator, gateway and clients share one clock that runs ten times faster
 * than the wall clock, so a minute of traffic takes six seconds; the limits are counted on that same
 * clock, so the arithmetic of the budget is exactly the production one.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import {
  burstOfDistinctQueries,
  cappedPerPage,
  oneKeyFailing,
  outageAndRecovery,
  sharedKeyDashboard,
  statsOverThreeThousand,
  type WorkloadOptions,
  walkOfOneThousand,
} from '../../bench/budget.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { demoCalls } from '../../src/simulator/data.js';
import { upstreamClientOptions } from '../../src/upstream-policy.js';
import { scaledClock } from '../support/clock.js';
import { startTestGateway } from '../support/gateway.js';

/** Each workload on its own fast clock; the gateways' logs go to the suite-wide capture (T6). */
function options(): WorkloadOptions {
  const captureFile = join(inject('logDir'), `${process.pid}.log`);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      appendFileSync(captureFile, String(chunk));
      done();
    },
  });
  return { clock: scaledClock(10), logger: createLogger('info', sink) };
}

describe('the upstream budget at work (documented limits on)', () => {
  it('callStats over 3,000 calls: exact totals, complete, no 429, under 40 s', async () => {
    const report = await statsOverThreeThousand(options());
    expect(report.checks).toMatchObject({ exactTotals: true, complete: true });
    expect(report.clientErrors).toEqual({});
    expect(report.rateLimited).toBe(0);
    // 30 pages of 100: 15 at once (the bulk share of 20 per 10 s), 15 one window later.
    expect(report.upstreamRequests).toBe(30);
    expect(report.durationMs).toBeLessThan(40_000);
  });

  it('a walk of 1,000 calls with first: 25: exactly the upstream list, no error, no 429, at most 15 upstream requests', async () => {
    const report = await walkOfOneThousand(options());
    expect(report.checks.exactList).toBe(true);
    expect(report.clientErrors).toEqual({});
    expect(report.rateLimited).toBe(0);
    expect(report.upstreamRequests).toBeLessThanOrEqual(15);
  });

  it('30 clients sharing one key, polling every 3 s for 60 s: no error, no 429, the new call seen within TTL + 3 s', async () => {
    const report = await sharedKeyDashboard(options());
    expect(report.clientErrors).toEqual({});
    expect(report.rateLimited).toBe(0);
    expect(report.checks.clientsThatSawTheNewCall).toBe(30);
    expect(report.checks.slowestToSeeItMs).toBeLessThanOrEqual(5_000 + 3_000);
    // About one upstream request per TTL, whatever the number of clients (~600 polls).
    expect(report.clientRequests).toBeGreaterThan(500);
    expect(report.upstreamRequests).toBeLessThanOrEqual(15);
  });

  it("60 different queries of one key at once: the excess is refused with retryAfter, no 429; another key's requests never queue", async () => {
    const report = await burstOfDistinctQueries(options());
    expect(report.rateLimited).toBe(0);
    expect(report.checks.served).toBe(20);
    expect(report.checks.refusedForBudget).toBe(40);
    expect(report.checks.everyRefusalSaysRetryAfter).toBe(true);
    expect(report.checks.otherKeyServed).toBe(20);
    expect(report.checks.otherKeyMaxQueuedMs).toBe(0);
  });

  it('an upstream capping per_page at 50: forward and backward walks with first/last 100 equal its list', async () => {
    const report = await cappedPerPage(options());
    expect(report.checks).toMatchObject({ forwardExact: true, backwardExact: true });
    expect(report.clientErrors).toEqual({});
    expect(report.rateLimited).toBe(0);
  });

  it('500s for one key only: that key pauses alone, the other keys are served, readiness stays 200', async () => {
    const report = await oneKeyFailing(options());
    expect(report.checks).toMatchObject({ healthyKeyErrors: 0, circuitClosed: true, readinessStatus: 200 });
    // Five failed attempts in a row pause the key; its other 20 requests never reach the upstream.
    expect(report.checks.failingKeyUpstreamRequests).toBeLessThanOrEqual(6);
  });

  it('an outage of the whole upstream, then recovery: after the first good answer, no further UPSTREAM_UNAVAILABLE', async () => {
    const report = await outageAndRecovery(options());
    expect(report.checks).toMatchObject({
      circuitOpened: true,
      readinessInOutage: 503,
      unavailableAfterFirstGoodAnswer: 0,
      readinessAfter: 200,
    });
    expect(report.rateLimited).toBe(0);
  });
});

describe('a lookup larger than the budget', () => {
  it('nodes(ids:) of 30 calls under the documented limits: 20 served, the other 10 refused at their positions, no 429', async () => {
    const gw = await startTestGateway({ config: { upstreamCacheTtlMs: 0 } });
    try {
      const ids = demoCalls()
        .slice(0, 30)
        .map((c) => Buffer.from(`Call:${c.raw.id}`).toString('base64'));
      const { body } = await gw.query(`query Lookup($ids: [ID!]!) { nodes(ids: $ids) { ... on Call { callId } } }`, {
        ids,
      });
      const nodes = (body.data as { nodes: ({ callId: number } | null)[] }).nodes;
      expect(nodes.filter((n) => n !== null)).toHaveLength(20);
      const refusals = body.errors ?? [];
      expect(refusals).toHaveLength(10);
      for (const error of refusals) {
        expect(error.extensions).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
        expect(error.extensions!.retryAfter).toBeGreaterThanOrEqual(1);
        expect(nodes[error.path![1] as number]).toBeNull();
      }
      expect(gw.upstream()).toHaveLength(20);
      expect(gw.simulator.rateLimited).toBe(0);
    } finally {
      await gw.close();
    }
  });
});

describe('several worker processes', () => {
  it('each of WORKERS processes takes its share of every limit, so together they stay within the key budget', () => {
    const config = { ...loadConfig({ WORKERS: '3' }), upstreamBaseUrl: 'http://127.0.0.1:1/api' };
    expect(upstreamClientOptions(config).scheduler.windows).toEqual([
      { limit: 6, windowMs: 10_000 },
      { limit: 33, windowMs: 60_000 },
    ]);
  });
});
