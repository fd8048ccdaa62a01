/**
 * The two-replica workload of `npm run bench -- budget` (bench/budget.ts, issue 12): two gateways sharing a
 * redis-server, 30 clients on one key spread over both, polling every 3 s for 60 s while a call is inserted.
 * Simulator, gateways and clients share a clock ten times faster than the wall clock, so the minute takes six
 * seconds; the shared budget counts on that same clock (Redis's own TTLs run on the wall clock, only longer).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { twoReplicasSharingRedis } from '../../bench/budget.js';
import { createLogger } from '../../src/logging.js';
import { scaledClock } from '../support/clock.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});

/** The gateways' logs go to the suite-wide capture (T6). */
function logger() {
  const captureFile = join(inject('logDir'), `${process.pid}.log`);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      appendFileSync(captureFile, String(chunk));
      done();
    },
  });
  return createLogger('info', sink);
}

describe('two replicas sharing Redis (bench workload)', () => {
  it('30 clients on one key over both: no error, no 429, every window kept, new call seen in TTL + 3 s', async () => {
    const report = await twoReplicasSharingRedis({ clock: scaledClock(10), logger: logger() }, redis.url);
    console.log(JSON.stringify(report));
    expect(report.clientErrors).toEqual({});
    expect(report.rateLimited).toBe(0);
    expect(report.checks.maxIn10s).toBeLessThanOrEqual(20);
    expect(report.checks.maxIn60s).toBeLessThanOrEqual(100);
    expect(report.checks.clientsThatSawTheNewCall).toBe(30);
    expect(report.checks.slowestToSeeItMs).toBeLessThanOrEqual(5_000 + 3_000);
    expect(report.clientRequests).toBeGreaterThan(500);
    // The pair reads the list about once per TTL, as one gateway does (12 in a minute), not once per replica.
    expect(report.upstreamRequests).toBeLessThanOrEqual(18);
  });
});
