import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SECOND_TENANT_TOKEN } from '../src/simulator/data.js';
import { parseRateLimits } from '../src/upstream/budget.js';
import { keyId } from '../src/upstream/resilience.js';
import { CallIdsPageDocument } from './gql/graphql.js';
import { closedPort, startTestGateway, type TestGateway } from './support/gateway.js';
import { ManualClock } from './support/clock.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const metricsText = async (g: TestGateway) => {
  const response = await g.gateway.fetch('http://gw/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/plain/);
  return response.text();
};
/** The value of one sample, e.g. `name{a="b"}`. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('Prometheus metrics', () => {
  it('counts operations by name and result, errors by code, upstream attempts by status, retries, circuit state and coalescing', async () => {
    gw = await startTestGateway({ simulator: { faults: (_r, i) => (i === 1 ? { kind: 'respond', status: 503, body: '{}' } : undefined) }, upstream: { retryBaseMs: 5 } });
    await gw.query(CallIdsPageDocument, { first: 5 });
    await gw.query(CallIdsPageDocument, { first: 6 });
    await gw.query(CallIdsPageDocument, { first: -1 });
    const text = await metricsText(gw);
    expect(sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="CallIdsPage",result="ok"}')).toBe(2);
    expect(sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="CallIdsPage",result="error"}')).toBe(1);
    expect(sample(text, 'calls_gateway_graphql_errors_total{operation="CallIdsPage",code="BAD_USER_INPUT"}')).toBe(1);
    expect(sample(text, 'calls_gateway_upstream_request_duration_seconds_count{status="200",outcome="ok"}')).toBe(2);
    expect(sample(text, 'calls_gateway_upstream_request_duration_seconds_count{status="503",outcome="error"}')).toBe(1);
    expect(sample(text, 'calls_gateway_upstream_retries_total')).toBe(1);
    expect(sample(text, 'calls_gateway_upstream_circuit_state')).toBe(0);
    expect(sample(text, 'calls_gateway_upstream_requests_in_flight')).toBe(0);
    expect(sample(text, 'calls_gateway_graphql_requests_in_flight')).toBe(0);
    expect(sample(text, 'calls_gateway_upstream_coalesced_total')).toBe(0);
    expect(text).toContain('calls_gateway_process_resident_memory_bytes');
    expect(text).not.toContain(DEMO_TOKEN);
  });

  it('shows the budget at work: queue, waiting, refusals for budget, 429s received, cache hits, misses and bytes, and no key in any label', async () => {
    gw = await startTestGateway({
      config: { upstreamRateLimits: parseRateLimits('3/10s'), upstreamQueueTimeoutMs: 0 },
      simulator: { faults: (r) => (r.query.per_page === '9' ? { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: '{}' } : undefined) },
      upstream: { maxRetries: 0 },
    });
    // Operations of one key: the second is kept by the cache (the key came back), the third reads it,
    // the fourth reads its two missing rows: three upstream requests.
    await gw.query(CallIdsPageDocument, { first: 5 });
    await gw.query(CallIdsPageDocument, { first: 6 });
    await gw.query(CallIdsPageDocument, { first: 6 });
    await gw.query(CallIdsPageDocument, { first: 8 });
    // The key's budget (3 per 10 s) is spent: the next is refused before reaching the upstream.
    const refused = await gw.query(CallIdsPageDocument, { first: 20 });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_RATE_LIMITED');
    // Another key gets a 429 from the upstream.
    await gw.query(CallIdsPageDocument, { first: 9 }, { token: SECOND_TENANT_TOKEN });
    const text = await metricsText(gw);
    expect(sample(text, 'calls_gateway_upstream_budget_refused_total')).toBe(1);
    expect(sample(text, 'calls_gateway_upstream_rate_limited_total')).toBe(1);
    // Cached pages relied on: one by the third operation, one by the fourth, two by the refused fifth.
    expect(sample(text, 'calls_gateway_upstream_cache_hits_total')).toBe(4);
    expect(sample(text, 'calls_gateway_upstream_cache_misses_total')).toBe(3);
    expect(sample(text, 'calls_gateway_upstream_cache_bytes')).toBeGreaterThan(1_000);
    expect(sample(text, 'calls_gateway_upstream_queued_requests')).toBe(0);
    expect(sample(text, 'calls_gateway_upstream_tracked_keys')).toBe(2);
    expect(sample(text, 'calls_gateway_upstream_queue_wait_seconds_count{priority="interactive"}')).toBe(4);
    for (const token of [DEMO_TOKEN, SECOND_TENANT_TOKEN]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(keyId(token));
    }
  });

  it('caps operation names a client chooses', async () => {
    gw = await startTestGateway();
    await gw.query(`query ${'X'.repeat(100)} { calls(first: 1) { totalCount } }`);
    const text = await metricsText(gw);
    expect(text).toContain('operation="anonymous"');
    expect(text).not.toContain('X'.repeat(65));
  });

  it('METRICS=false serves no /metrics', async () => {
    gw = await startTestGateway({ config: { metrics: false } });
    expect((await gw.gateway.fetch('http://gw/metrics')).status).toBe(404);
  });
});

describe('liveness and readiness', () => {
  it('live and ready while the upstream answers', async () => {
    gw = await startTestGateway();
    expect((await gw.gateway.fetch('http://gw/health/live')).status).toBe(200);
    const ready = await gw.gateway.fetch('http://gw/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', circuit: 'closed' });
    // The probe carries no credential.
    expect(gw.upstream().at(-1)?.authorization).toBeNull();
  });

  it('asks the upstream at most once per 5 s, on the injected clock: load balancers polling every second cost one probe', async () => {
    const clock = new ManualClock();
    gw = await startTestGateway({ clock });
    const probes = () => gw!.upstream().filter((r) => r.authorization === null).length;
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(200);
    expect(probes()).toBe(1);
    await clock.advance(5_000);
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(200);
    expect(probes()).toBe(1);
    await clock.advance(1);
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(200);
    expect(probes()).toBe(2);
  });

  it('not ready (503) when the upstream cannot be reached, but still live', async () => {
    const port = await closedPort();
    gw = await startTestGateway({ config: { upstreamBaseUrl: `http://127.0.0.1:${port}/api` } });
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(503);
    expect((await gw.gateway.fetch('http://gw/health/live')).status).toBe(200);
  });
});
