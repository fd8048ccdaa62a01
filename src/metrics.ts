/**
 * Prometheus metrics (prom-client), served at /metrics: GraphQL operations by name and outcome, errors
 * by `extensions.code`, upstream attempts by status and outcome, retries, circuit state, coalescing,
 * in-flight requests, and the budget at work: requests queued, their wait, requests refused for budget,
 * 429s received, the page cache's hits, misses and bytes, and with `REDIS_URL` whether the shared store answers
 * and how many of its commands fell back to local state (issue 12). One registry per gateway, so tests and
 * cluster workers never share counters. Labels never carry tokens, key hashes or free text from the
 * request beyond a bounded set of operation names (see OperationLabels).
 *
 * Where /metrics is answered is decided here (issue 11 item 11; ../shared/docs/clarifications.md, "Production
 * secrets"): a public /metrics tells anyone the traffic, error codes and upstream health, so production serves it only
 * where `METRICS_PORT` (a listener of its own, for a network the scraper alone reaches) or `METRICS_TOKEN` (a bearer
 * token, compared in constant time) says how.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DocumentNode, Kind, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from './config.js';
import type { ServerContext } from './context.js';
import { operationNameOf } from './logging.js';
import type { PageCacheSnapshot } from './upstream/cache.js';
import type { UpstreamAttemptInfo, UpstreamClientSnapshot } from './upstream/client.js';

/** State of the long-lived upstream parts, read when metrics are scraped (and by health checks and tests). */
export interface UpstreamSnapshot extends UpstreamClientSnapshot {
  /** Requests served by an identical in-flight request of the same key (monotonic). */
  coalesced: number;
  /** Null when the page cache is off. */
  cache: PageCacheSnapshot | null;
  /** The store shared with other replicas (`REDIS_URL`); null or absent without one. */
  shared?: SharedStoreSnapshot | null;
}

/** The shared store's state (src/shared/store.ts). */
interface SharedStoreSnapshot {
  /** Connected and answering now. */
  available: boolean;
  /** Commands that failed and fell back to the process's own state (monotonic). */
  failures: number;
}

export interface GatewayMetrics {
  registry: Registry;
  /** Feeds upstream attempts (wire to the client's `onAttempt`). */
  observeUpstream(info: UpstreamAttemptInfo): void;
  /** Times GraphQL requests and counts their error codes; answers /metrics when it is on the main port. */
  plugin: Plugin<Record<string, unknown>, ServerContext>;
  /** Node listener for the separate metrics port: /metrics with the token checked, 404 elsewhere. */
  handle(request: IncomingMessage, response: ServerResponse): void;
}

/**
 * Where /metrics is answered: `main-port` beside /graphql, `metrics-port` only on the `METRICS_PORT` listener,
 * `off` nowhere. `METRICS_PORT` moves it off the main port; otherwise development keeps it on the main port
 * and production serves it there only behind `METRICS_TOKEN`. The token, when set, is required everywhere.
 */
export type MetricsPlacement = 'main-port' | 'metrics-port' | 'off';

/** Decides the placement from the settings (README, Operating it: `METRICS_PORT`, `METRICS_TOKEN`; `metrics` is off
 * only in tests). */
export function metricsPlacement(
  config: Pick<Config, 'metrics' | 'metricsPort' | 'metricsToken' | 'production'>,
): MetricsPlacement {
  if (!config.metrics) return 'off';
  if (config.metricsPort !== null) return 'metrics-port';
  return config.metricsToken !== null || !config.production ? 'main-port' : 'off';
}

/** One answer to a scrape, for the yoga plugin and the separate listener alike. */
interface ScrapeAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

const PRIVATE = { 'cache-control': 'private, no-store' };

const refusal = (status: number, message: string, code: string, headers = {}): ScrapeAnswer => ({
  status,
  headers: { 'content-type': 'application/json', ...PRIVATE, ...headers },
  body: JSON.stringify({ errors: [{ message, extensions: { code } }] }),
});

/**
 * Answers a scrape of `render` (a registry, or the primary's aggregate of its workers): 401 without the token
 * when one is set, never a line of metric text then. Both sides are hashed before `timingSafeEqual`, so neither
 * the content nor the length of the token leaks through timing.
 */
export function createScraper(
  render: () => Promise<string>,
  contentType: string,
  token: string | null,
): (authorization: string | null) => Promise<ScrapeAnswer> {
  const expected = token === null ? null : digest(token);
  return async (authorization) => {
    if (expected !== null) {
      const given = /^Bearer (.+)$/i.exec(authorization?.trim() ?? '')?.[1] ?? '';
      if (!timingSafeEqual(digest(given), expected)) {
        return refusal(401, 'Send the metrics token as Authorization: Bearer <METRICS_TOKEN>.', 'UNAUTHENTICATED', {
          'www-authenticate': 'Bearer',
        });
      }
    }
    return { status: 200, headers: { 'content-type': contentType, ...PRIVATE }, body: await render() };
  };
}

/** Node listener for a metrics-only port: `/metrics` through `scrape`, 404 for any other path. */
export function metricsListener(
  scrape: (authorization: string | null) => Promise<ScrapeAnswer>,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    const answer =
      path === '/metrics'
        ? scrape(request.headers.authorization ?? null)
        : Promise.resolve(refusal(404, 'Only /metrics is served on this port.', 'NOT_FOUND'));
    answer.then(
      ({ status, headers, body }) => response.writeHead(status, headers).end(body),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable'),
    );
  };
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];

/** Distinct operation names labelled as themselves without a trusted-documents manifest; later ones are `other`. */
export const MAX_OPERATION_LABELS = 100;

/**
 * Operation names are chosen by the client, and prom-client keeps a series for every label value it sees:
 * left alone, a client sending a new name with every request grows the registry (and each scrape) without
 * bound (../shared/docs/clarifications.md, "Two unbounded structures"). A name becomes a label only when it is plain
 * and at most 64 characters (`anonymous` otherwise, as for no name) and known: with a trusted-documents manifest,
 * one of its operations; without one, one of the first `MAX_OPERATION_LABELS` distinct names this process
 * saw. Every other name is counted as `other`.
 */
class OperationLabels {
  private readonly seen = new Set<string>();

  constructor(
    private readonly known: ReadonlySet<string> | null,
    private readonly capacity = MAX_OPERATION_LABELS,
  ) {}

  label(name: string | null | undefined): string {
    if (!name || !/^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name)) return 'anonymous';
    if (this.known !== null) return this.known.has(name) ? name : 'other';
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.capacity) return 'other';
    this.seen.add(name);
    return name;
  }
}

/** Error codes are the gateway's and yoga's own; anything that does not look like one is counted as UNKNOWN. */
function codeLabel(code: unknown): string {
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'UNKNOWN';
}

/** The metrics plugin's state of one GraphQL request, kept on its server context (src/context.ts). */
export interface OperationTiming {
  at: number;
  operation: string;
  failed: boolean;
}

/** A counter that follows a monotonic figure kept elsewhere (read when scraped). */
function followingCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

/** How the gateway's /metrics is served (see metricsPlacement), and what it labels. */
export interface MetricsOptions {
  /** Answer /metrics in the yoga plugin, beside /graphql. @default true */
  onMainPort?: boolean;
  /** `METRICS_TOKEN`: required as a bearer token wherever /metrics is answered. @default null */
  token?: string | null;
  /** The operation names of the trusted-documents manifest, when one is set (see OperationLabels). @default null */
  knownOperations?: ReadonlySet<string> | null;
  /** A store shared with other replicas is configured (`REDIS_URL`): its gauges are registered. @default false */
  sharedStore?: boolean;
}

/**
 * The gateway's registry and the ways it is fed and served. `state` is read only when metrics are scraped,
 * so it may read parts built after the registry (the upstream client reports to `observeUpstream`).
 */
export function createMetrics(state: () => UpstreamSnapshot, options: MetricsOptions = {}): GatewayMetrics {
  const serving = { onMainPort: options.onMainPort ?? true, token: options.token ?? null };
  const labels = new OperationLabels(options.knownOperations ?? null);
  const registry = new Registry();
  const scrape = createScraper(() => registry.metrics(), registry.contentType, serving.token);
  collectDefaultMetrics({ register: registry, prefix: 'calls_gateway_' });
  const operations = new Histogram({
    name: 'calls_gateway_graphql_operation_duration_seconds',
    help: 'Duration of GraphQL requests, by operation name and result (ok, error: the response carried errors).',
    labelNames: ['operation', 'result'],
    buckets: SECONDS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'calls_gateway_graphql_errors_total',
    help: 'GraphQL errors returned to clients, by operation name and extensions.code.',
    labelNames: ['operation', 'code'],
    registers: [registry],
  });
  const inFlightRequests = new Gauge({
    name: 'calls_gateway_graphql_requests_in_flight',
    help: 'GraphQL requests being served.',
    registers: [registry],
  });
  const upstream = new Histogram({
    name: 'calls_gateway_upstream_request_duration_seconds',
    help: 'Duration of upstream attempts, by HTTP status (none: no answer) and outcome.',
    labelNames: ['status', 'outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'calls_gateway_upstream_retries_total',
    help: 'Upstream attempts that were retries.',
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: 'calls_gateway_upstream_queue_wait_seconds',
    help: "Time upstream attempts waited in their API key's queue for budget or a slot, by priority.",
    labelNames: ['priority'],
    buckets: [0, 0.01, 0.1, 0.5, 1, 2, 5, 10, 20],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'calls_gateway_upstream_rate_limited_total',
    help: 'Upstream answers 429 (Too Many Requests) received.',
    registers: [registry],
  });
  new Gauge({
    name: 'calls_gateway_upstream_queued_requests',
    help: "Upstream requests waiting in their API key's queue.",
    registers: [registry],
    collect() {
      this.set(state().scheduler.queued);
    },
  });
  new Gauge({
    name: 'calls_gateway_upstream_tracked_keys',
    help: 'API keys whose upstream budget is being tracked.',
    registers: [registry],
    collect() {
      this.set(state().scheduler.keys);
    },
  });
  followingCounter(
    registry,
    'calls_gateway_upstream_budget_refused_total',
    "Requests refused before reaching the upstream because their API key's budget could not serve them in time.",
    () => state().scheduler.refused,
  );
  followingCounter(
    registry,
    'calls_gateway_upstream_cache_hits_total',
    'Upstream requests answered from the page cache.',
    () => state().cache?.hits ?? 0,
  );
  followingCounter(
    registry,
    'calls_gateway_upstream_cache_misses_total',
    'Upstream requests the page cache could not answer.',
    () => state().cache?.misses ?? 0,
  );
  new Gauge({
    name: 'calls_gateway_upstream_cache_bytes',
    help: 'Upstream body bytes held in the page cache.',
    registers: [registry],
    collect() {
      this.set(state().cache?.bytes ?? 0);
    },
  });
  new Gauge({
    name: 'calls_gateway_upstream_circuit_state',
    help: 'State of the circuit breaker to the upstream: 0 closed, 1 half-open, 2 open.',
    registers: [registry],
    // Aggregated over cluster workers (METRICS_PORT with WORKERS > 1), the most open circuit is the state.
    aggregator: 'max',
    collect() {
      this.set({ closed: 0, 'half-open': 1, open: 2 }[state().breaker]);
    },
  });
  // Only with a shared store (REDIS_URL): without one, "unavailable" would be a false alarm.
  if (options.sharedStore) {
    new Gauge({
      name: 'calls_gateway_shared_store_available',
      help: 'Whether the store shared with other replicas (Redis) answers: 1 yes, 0 no (serving with local state).',
      registers: [registry],
      // Aggregated over cluster workers, one worker without it makes the figure 0.
      aggregator: 'min',
      collect() {
        this.set(state().shared?.available ? 1 : 0);
      },
    });
    followingCounter(
      registry,
      'calls_gateway_shared_store_failures_total',
      'Commands to the shared store (Redis) that failed or were not sent because it was unreachable, answered from ' +
        'local state instead.',
      () => state().shared?.failures ?? 0,
    );
  }
  new Gauge({
    name: 'calls_gateway_upstream_requests_in_flight',
    help: 'Upstream requests on their way.',
    registers: [registry],
    collect() {
      this.set(state().inFlight);
    },
  });
  new Gauge({
    name: 'calls_gateway_upstream_coalesced_total',
    help:
      'Requests served by an identical upstream request of the same API key ' +
      'that was already in flight (monotonic).',
    registers: [registry],
    collect() {
      this.set(state().coalesced);
    },
  });

  const plugin: Plugin<Record<string, unknown>, ServerContext> = {
    // Synchronous except on /metrics: an async hook would take every request off yoga's fast path.
    onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (url.pathname === '/metrics') {
        // Not served here: yoga answers 404, and the refused scrape is no GraphQL request to count.
        if (!serving.onMainPort) return;
        return scrape(request.headers.get('authorization')).then(({ status, headers, body }) => {
          endResponse(new fetchAPI.Response(body, { status, headers }));
        });
      }
      if (url.pathname.startsWith('/health')) return;
      inFlightRequests.inc();
      serverContext.operationTiming = { at: performance.now(), operation: 'anonymous', failed: false };
    },
    onParams({ params, context }) {
      if (context.operationTiming) context.operationTiming.operation = labels.label(operationNameOf(params));
    },
    // A trusted document named only by its id has no name in the parameters: it has one once it runs.
    onExecute({ args }) {
      const timing = (args.contextValue as ServerContext).operationTiming;
      if (timing?.operation !== 'anonymous') return;
      const operation = (args.document as DocumentNode).definitions.find(
        (d): d is OperationDefinitionNode =>
          d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
      );
      timing.operation = labels.label(operation?.name?.value);
    },
    onResultProcess({ result, serverContext }) {
      const timing = serverContext.operationTiming;
      for (const item of Array.isArray(result) ? result : [result]) {
        for (const error of (item as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? []) {
          errors.inc({ operation: timing?.operation ?? 'anonymous', code: codeLabel(error.extensions?.code) });
          if (timing) timing.failed = true;
        }
      }
    },
    onResponse({ response, serverContext }) {
      const timing = serverContext.operationTiming;
      if (!timing) return;
      serverContext.operationTiming = undefined;
      inFlightRequests.dec();
      operations.observe(
        { operation: timing.operation, result: timing.failed || response.status >= 400 ? 'error' : 'ok' },
        (performance.now() - timing.at) / 1000,
      );
    },
  };

  return {
    registry,
    plugin,
    handle: metricsListener(scrape),
    observeUpstream(info) {
      upstream.observe(
        { status: info.status === null ? 'none' : String(info.status), outcome: info.outcome },
        info.durationMs / 1000,
      );
      queueWait.observe({ priority: info.priority }, info.queuedMs / 1000);
      if (info.attempt > 0) retries.inc();
      if (info.status === 429) rateLimited.inc();
    },
  };
}
