/**
 * OpenTelemetry tracing: a span per GraphQL operation and a child span per upstream attempt. Off unless
 * the standard variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_TRACES_EXPORTER=otlp; OTEL_SDK_DISABLED=true wins); without an SDK the API's no-op tracer costs
 * next to nothing. Attributes never carry a credential, a query string or an upstream body.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';
import type { ServerContext } from './context.js';
import { operationNameOf } from './logging.js';

const TRACER_NAME = 'calls-gateway';
const tracer = () => trace.getTracer(TRACER_NAME);

type Env = Record<string, string | undefined>;

/** Starts the SDK with the OTLP/HTTP exporter, which reads the other OTEL_* variables itself. */
export async function startTracing(env: Env): Promise<(() => Promise<void>) | null> {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  const wanted =
    env.OTEL_SDK_DISABLED !== 'true' &&
    exporter !== 'none' &&
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || exporter === 'otlp');
  if (!wanted) return null;
  const [{ BatchSpanProcessor, NodeTracerProvider }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'calls-gateway' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return () => provider.shutdown();
}

/** The request's span, kept on its server context (src/context.ts) while it records. */
export function useTracing(): Plugin<Record<string, unknown>, ServerContext> {
  return {
    onRequest({ request, url, serverContext }) {
      if (url.pathname.startsWith('/health') || url.pathname === '/metrics') return;
      const span = tracer().startSpan('graphql', {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': url.pathname },
      });
      if (span.isRecording()) serverContext.requestSpan = span;
      else span.end();
    },
    onParams({ params, context }) {
      const span = context.requestSpan;
      if (!span) return;
      const name = operationNameOf(params);
      if (name) {
        span.updateName(`graphql ${name.slice(0, 64)}`);
        span.setAttribute('graphql.operation.name', name.slice(0, 64));
      }
    },
    onExecute({ args }) {
      const span = (args.contextValue as ServerContext).requestSpan;
      const operation = args.document.definitions.find((d: { kind: string }) => d.kind === 'OperationDefinition') as
        | { operation?: string }
        | undefined;
      if (span && operation?.operation) span.setAttribute('graphql.operation.type', operation.operation);
    },
    onResultProcess({ result, serverContext }) {
      const span = serverContext.requestSpan;
      if (!span) return;
      const codes = new Set<string>();
      for (const item of Array.isArray(result) ? result : [result]) {
        for (const error of (item as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? []) {
          codes.add(typeof error.extensions?.code === 'string' ? error.extensions.code : 'UNKNOWN');
        }
      }
      if (codes.size > 0) {
        span.setAttribute('graphql.error.codes', [...codes]);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    },
    onResponse({ response, serverContext }) {
      const span = serverContext.requestSpan;
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      span.end();
      serverContext.requestSpan = undefined;
    },
  };
}
