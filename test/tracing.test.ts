import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN } from '../src/simulator/data.js';
import { startTracing } from '../src/tracing.js';
import { CallIdsPageDocument } from './gql/graphql.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('OpenTelemetry tracing', () => {
  const exporter = new InMemorySpanExporter();
  let gw: TestGateway;
  beforeAll(async () => {
    // Each test file runs in its own worker, so this global provider stays in this file.
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    gw = await startTestGateway({
      simulator: { faults: (_r, i) => (i === 0 ? { kind: 'respond', status: 503, body: '{}' } : undefined) },
      upstream: { retryBaseMs: 5 },
    });
  });
  afterAll(async () => {
    await gw.close();
    trace.disable();
  });

  it('a span per GraphQL operation, with a child span per upstream attempt, and no credential or query string in any attribute', async () => {
    const { body } = await gw.query(CallIdsPageDocument, { first: 5, filter: { phoneNumber: '+4915' } });
    expect(body.errors).toBeUndefined();
    const spans = exporter.getFinishedSpans();
    const operation = spans.find((s) => s.name === 'graphql CallIdsPage')!;
    expect(operation).toBeDefined();
    expect(operation.attributes).toMatchObject({
      'graphql.operation.name': 'CallIdsPage',
      'graphql.operation.type': 'query',
      'http.response.status_code': 200,
    });
    const upstream = spans.filter((s) => s.name === 'GET /user/calls');
    expect(
      upstream.map((s) => [s.attributes['calls_gateway.attempt'], s.attributes['http.response.status_code']]),
    ).toEqual([
      [0, 503],
      [1, 200],
    ]);
    for (const span of upstream) {
      expect(span.parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(operation.spanContext().traceId);
    }
    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
    expect(everything).not.toContain(DEMO_TOKEN);
    expect(everything).not.toMatch(/per_page|phone_number|4915|127\.0\.0\.1/);
  });

  it('records the error codes of a failed operation', async () => {
    exporter.reset();
    await gw.query(CallIdsPageDocument, { first: -1 });
    const operation = exporter.getFinishedSpans().find((s) => s.name === 'graphql CallIdsPage')!;
    expect(operation.attributes['graphql.error.codes']).toEqual(['BAD_USER_INPUT']);
    expect(operation.status.code).toBe(2);
  });

  it('is off unless the OTEL_* variables ask for it', async () => {
    expect(await startTracing({})).toBeNull();
    expect(
      await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeNull();
    expect(await startTracing({ OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
  });
});
