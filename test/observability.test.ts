import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { MAX_OPERATION_LABELS } from '../src/metrics.js';
import { DEMO_TOKEN, SECOND_TENANT_TOKEN } from '../src/simulator/data.js';
import { startSimulator } from '../src/simulator/server.js';
import { parseRateLimits } from '../src/upstream/budget.js';
import { keyId } from '../src/upstream/resilience.js';
import { CallIdsPageDocument, CallsTotalDocument } from './gql/graphql.js';
import { ManualClock } from './support/clock.js';
import { closedPort, startTestGateway, type TestGateway } from './support/gateway.js';

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
    gw = await startTestGateway({
      simulator: { faults: (_r, i) => (i === 1 ? { kind: 'respond', status: 503, body: '{}' } : undefined) },
      upstream: { retryBaseMs: 5 },
    });
    await gw.query(CallIdsPageDocument, { first: 5 });
    await gw.query(CallIdsPageDocument, { first: 6 });
    await gw.query(CallIdsPageDocument, { first: -1 });
    const text = await metricsText(gw);
    expect(
      sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="CallIdsPage",result="ok"}'),
    ).toBe(2);
    expect(
      sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="CallIdsPage",result="error"}'),
    ).toBe(1);
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
      simulator: {
        faults: (r) =>
          r.query.per_page === '9'
            ? { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: '{}' }
            : undefined,
      },
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

  /** The distinct values of the `operation` label across the registry. */
  const operationLabels = (text: string) => new Set([...text.matchAll(/operation="([^"]*)"/g)].map((m) => m[1]));
  /** Every series (sample line) of the registry. */
  const seriesCount = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const named = (name: string) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `query ${name} { __typename }` }),
  });

  it(`labels at most ${MAX_OPERATION_LABELS} distinct client-chosen operation names, the rest as other: 1,000 names make a bounded registry`, async () => {
    gw = await startTestGateway();
    for (let i = 0; i < 1_000; i++)
      expect((await gw.gateway.fetch('http://gw/graphql', named(`Op${i}`))).status).toBe(200);
    const text = await metricsText(gw);
    const labels = operationLabels(text);
    expect(labels.size).toBe(MAX_OPERATION_LABELS + 1);
    expect(labels).toContain('Op0');
    expect(labels).toContain(`Op${MAX_OPERATION_LABELS - 1}`);
    expect(labels).not.toContain(`Op${MAX_OPERATION_LABELS}`);
    expect(sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="other",result="ok"}')).toBe(
      1_000 - MAX_OPERATION_LABELS,
    );
    // A name seen before keeps its label after the slots are taken.
    await gw.gateway.fetch('http://gw/graphql', named('Op7'));
    expect(
      sample(
        await metricsText(gw),
        'calls_gateway_graphql_operation_duration_seconds_count{operation="Op7",result="ok"}',
      ),
    ).toBe(2);
    // 1,000 more names add no series at all.
    const before = seriesCount(await metricsText(gw));
    for (let i = 1_000; i < 2_000; i++) await gw.gateway.fetch('http://gw/graphql', named(`Op${i}`));
    const after = await metricsText(gw);
    expect(seriesCount(after)).toBe(before);
    expect(operationLabels(after).size).toBe(MAX_OPERATION_LABELS + 1);
  });

  it('with trusted documents, labels only the manifest operations by name, named by the parameters or by the document that runs', async () => {
    const manifest = loadConfig({ TRUSTED_DOCUMENTS: 'test/gql/persisted-documents.json' }).trustedDocuments!;
    gw = await startTestGateway({ config: { trustedDocuments: manifest } });
    const post = (body: unknown) =>
      gw!.gateway.fetch('http://gw/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify(body),
      });
    const documentId = (CallsTotalDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
    expect((await post({ documentId })).status).toBe(200);
    expect((await post({ documentId, operationName: 'CallsTotal' })).status).toBe(200);
    for (let i = 0; i < 50; i++) await post({ documentId, operationName: `Chosen${i}` });
    const text = await metricsText(gw);
    expect(
      sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="CallsTotal",result="ok"}'),
    ).toBe(2);
    expect(
      sample(text, 'calls_gateway_graphql_operation_duration_seconds_count{operation="other",result="error"}'),
    ).toBe(50);
    expect([...operationLabels(text)].sort()).toEqual(['CallsTotal', 'other']);
  });

  it('without metrics (a test-only switch) serves no /metrics', async () => {
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

  it('not ready (503) when the upstream answers 404 for the list path (a wrong UPSTREAM_BASE_URL), but still live', async () => {
    // The simulator serves its API under /api, route matching before auth as the real one does; the
    // gateway is pointed at /v2, where every path is a 404.
    const simulator = await startSimulator({ host: '127.0.0.1', port: 0 });
    try {
      gw = await startTestGateway({ config: { upstreamBaseUrl: simulator.url.replace(/\/api$/, '/v2') } });
      const ready = await gw.gateway.fetch('http://gw/health/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'upstream path not found', circuit: 'closed' });
      expect(simulator.requests.map((r) => r.path)).toEqual(['/v2/user/calls']);
      expect((await gw.gateway.fetch('http://gw/health/live')).status).toBe(200);
    } finally {
      await simulator.close();
    }
  });

  it('not ready (503) when the upstream cannot be reached, but still live', async () => {
    const port = await closedPort();
    gw = await startTestGateway({ config: { upstreamBaseUrl: `http://127.0.0.1:${port}/api` } });
    expect((await gw.gateway.fetch('http://gw/health/ready')).status).toBe(503);
    expect((await gw.gateway.fetch('http://gw/health/live')).status).toBe(200);
  });
});
