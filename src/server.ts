/**
 * `createGateway` builds the whole gateway — upstream client, logger, yoga — and never listens, so tests
 * import it and talk to `yoga.fetch` or mount it on their own server. main.ts does the listening.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PothosValidationError } from '@pothos/core';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, maskError as yogaMaskError, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { type CallStatsResult, createContext, createTokenResolver, type GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import { LiveHub } from './live/hub.js';
import { MemoryLiveStore } from './live/memory.js';
import { minPollIntervalMs } from './live/poller.js';
import { RedisLiveStore } from './live/redis.js';
import { useLiveEvents } from './live/sse.js';
import { createWebhookEndpoint } from './live/webhooks.js';
import { createLogger, useRequestLogging, yogaLogging } from './logging.js';
import { createMetrics, type GatewayMetrics, metricsPlacement, type UpstreamStats } from './metrics.js';
import { CSRF_HEADERS, useCsrfPrevention, usePostOnly } from './endpoint-guards.js';
import { useTracing } from './tracing.js';
import { useCostLimit, useDocumentLimits, useRequestBodyLimit } from './protections.js';
import { schema, subgraphSchemaWith } from './schema/index.js';
import { useUpstreamExtension } from './upstream-extension.js';
import { shareOf } from './upstream/budget.js';
import { SharedBudget } from './shared/budget.js';
import { SharedPageCache } from './shared/cache.js';
import { connectSharedStore, type SharedStore } from './shared/store.js';
import { PageCache, type PageStore } from './upstream/cache.js';
import {
  createUpstreamClient,
  type UpstreamCallInfo,
  type UpstreamClient,
  type UpstreamClientOptions,
} from './upstream/client.js';
import { InFlight, TtlCache } from './upstream/coalesce.js';
import { PageSizeCap, type Served } from './upstream/loaders.js';
import type { Call } from './upstream/model.js';

export type GatewayConfig = Omit<Config, 'port' | 'host' | 'upstreamBaseUrl'> & { upstreamBaseUrl: string };

export interface GatewayOptions {
  /** Defaults to a pino logger at `config.logLevel` writing to stdout. */
  logger?: Logger;
  /** Prefilled in GraphiQL's header editor (the demo fills in its token). */
  graphiqlHeaders?: Record<string, string>;
  /** Called after every upstream attempt (tests count them; metrics will). */
  onUpstreamCall?: (info: UpstreamCallInfo) => void;
  /** Overrides of the upstream policy beyond what the environment sets (tests shorten timings). */
  upstream?: Partial<UpstreamClientOptions>;
  /** Time for the scheduler, cache, breaker and deadlines (tests run it by hand or faster). */
  clock?: Clock;
}

/** The upstream policy: the environment's settings plus the fixed parts of reliability.md §2. */
export function upstreamClientOptions(config: GatewayConfig): UpstreamClientOptions {
  return {
    baseUrl: config.upstreamBaseUrl,
    timeoutMs: config.upstreamTimeoutMs,
    attemptTimeoutMs: Math.min(config.upstreamAttemptTimeoutMs, config.upstreamTimeoutMs),
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    connections: config.upstreamConnections,
    maxResponseBytes: config.upstreamMaxResponseBytes,
    maxRetries: config.upstreamMaxRetries,
    retryBaseMs: 250,
    retryCapMs: 4_000,
    retryBudget: { ratio: 0.1, minPerSecond: 10, windowMs: 10_000 },
    breaker: { failureRatio: 0.5, minCalls: 20, minKeys: 3, windowMs: 30_000, openMs: config.upstreamBreakerOpenMs },
    scheduler: {
      // Worker processes without a shared store each take their share, so together they stay within
      // the key's budget (clarifications, "One key, one budget"). With one (REDIS_URL) they share the
      // whole budget, and each falls back to its share only while Redis is unreachable (shared/budget.ts).
      windows: config.redisUrl ? config.upstreamRateLimits : shareOf(config.upstreamRateLimits, 1 / config.workers),
      marginMs: 250,
      bulkShare: 0.75,
      perKey: config.upstreamConcurrencyPerKey,
      global: config.upstreamConcurrency,
      maxQueue: 100,
      maxWaitMs: config.upstreamQueueTimeoutMs,
      keyFailures: 5,
      keyPauseMs: config.upstreamBreakerOpenMs,
      maxKeys: 10_000,
    },
  };
}


type GatewayYoga = YogaServerInstance<Record<string, never>, GatewayContext>;

export interface Gateway {
  /** The public endpoint, /graphql. */
  yoga: GatewayYoga;
  /** The Federation 2 subgraph endpoint for routers (config.subgraphPath); null when disabled. */
  subgraph: GatewayYoga | null;
  /** Node request listener serving both endpoints: `createServer(gateway.handle)`. */
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** Fetch API entry serving both endpoints, for in-process tests. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  logger: Logger;
  /** Circuit state, scheduler and cache figures, and requests served by another's identical request. */
  upstreamStats(): UpstreamStats;
  /**
   * The registry, and the Node listener main.ts mounts on `METRICS_PORT` (`createServer(gateway.metrics.handle)`);
   * null when nothing is collected (`METRICS=false`, or production with neither `METRICS_PORT` nor `METRICS_TOKEN`).
   */
  metrics: Pick<GatewayMetrics, 'registry' | 'handle'> | null;
  /** The Redis connection shared with other replicas; null without `REDIS_URL`. */
  shared: SharedStore | null;
  /** Live calls (`Subscription.callEvents`, webhooks): subscribers, pollers and event logs (issue 12). */
  live: LiveHub;
  close(): Promise<void>;
}

/**
 * Every response may carry one caller's calls, so no shared cache (CDN, router response cache) may
 * keep it: Apollo Router caches responses without `private` for all users (reliability.md §3).
 */
const usePrivateResponses: Plugin = {
  onResponse({ response }) {
    response.headers.set('cache-control', 'private, no-store');
  },
};

/**
 * `/health/live`: the process serves requests. `/health/ready`: it can serve them usefully, i.e. the
 * circuit to the upstream is not open and the upstream answers a probe (cached for 5 s, so load
 * balancers polling every second cost the upstream one request per 5 s per replica). With a shared store
 * (`REDIS_URL`) it also says whether that answers; without it the gateway still serves, on its own state
 * (200, `"status":"degraded"`, `"sharedStore":"unavailable"`; issue 12).
 */
function useHealthEndpoints(client: UpstreamClient, shared: SharedStore | null, clock: Clock): Plugin {
  let cached: { at: number; ready: boolean } | null = null;
  const ready = async () => {
    if (client.stats().breaker === 'open') return false;
    if (!cached || clock.now() - cached.at > 5_000) cached = { at: clock.now(), ready: await client.probe() };
    return cached.ready;
  };
  return {
    // Synchronous except on /health/ready: an async hook would take every request off yoga's fast path.
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname === '/health/live') {
        endResponse(new fetchAPI.Response('{"status":"live"}', { status: 200, headers: { 'content-type': 'application/json' } }));
      } else if (url.pathname === '/health/ready') {
        return ready().then((ok) => {
          const sharedStore = shared === null ? undefined : shared.available() ? 'available' : 'unavailable';
          const status = !ok ? 'upstream unreachable' : sharedStore === 'unavailable' ? 'degraded' : 'ready';
          endResponse(
            new fetchAPI.Response(JSON.stringify({ status, circuit: client.stats().breaker, sharedStore }), {
              status: ok ? 200 : 503,
              headers: { 'content-type': 'application/json' },
            }),
          );
        });
      }
    },
  };
}

/**
 * Trusted documents: only the operations of the manifest run (first-party clients, built with the same
 * codegen). A request names one by `documentId` (GraphQL over HTTP) or Apollo's
 * `extensions.persistedQuery.sha256Hash`; any other document is refused before anything runs.
 */
function useTrustedDocuments(manifest: Record<string, string>): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: false,
    extractPersistedOperationId: (params) => {
      const request = params as { documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
      const id = request.documentId ?? request.extensions?.persistedQuery?.sha256Hash;
      return typeof id === 'string' ? id : null;
    },
    // GraphQL Code Generator writes `sha256:<hex>` keys; clients may send the bare hex.
    getPersistedOperation: (id) => manifest[id] ?? manifest[`sha256:${id}`] ?? null,
    customErrors: {
      notFound: { message: 'This document is not among the trusted documents.', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } } },
      persistedQueryOnly: { message: 'Only trusted documents may run here: send a documentId.', extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } } },
      keyNotFound: { message: 'Send a documentId naming a trusted document.', extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } } },
    },
  }) as Plugin;
}

/** Lets only callers that present the shared secret reach the subgraph endpoint (the router). */
function useSharedSecret(secret: string): Plugin {
  const expected = Buffer.from(secret);
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const given = Buffer.from(request.headers.get('x-subgraph-secret') ?? '');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({ errors: [{ message: 'This endpoint is for the federation router only.', extensions: { code: 'UNAUTHENTICATED' } }] }),
          { status: 401, headers: { 'content-type': 'application/json', 'cache-control': 'private, no-store' } },
        ),
      );
    },
  };
}

export const EXAMPLE_QUERY = `# Press ▶ (Ctrl-Enter) to run. The API key in the
# Authorization header below is forwarded upstream.
query RecentCalls($after: String) {
  calls(first: 5, after: $after, filter: { status: COMPLETED }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        callId
        assistantName
        status
        durationSeconds
        totalCost
        createdAt
        transcript { sender text offsetSeconds }
        evaluation { name type value }
      }
    }
  }
}
`;

/**
 * The one place that decides what an error tells a client: our own GatewayErrors become their public
 * message and code, argument errors from Pothos become BAD_USER_INPUT, GraphQL errors raised on purpose
 * pass through, and everything else is masked by yoga ("Unexpected error.").
 */
export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError) {
    const original = error.originalError;
    if (original instanceof GatewayError || original instanceof PothosValidationError) {
      const publicError = original instanceof GatewayError ? original : null;
      return new GraphQLError(original.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: { code: publicError?.code ?? 'BAD_USER_INPUT', ...publicError?.details },
      });
    }
  }
  return yogaMaskError(error, message, isDev);
}

export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const logger = options.logger ?? createLogger(config.logLevel);
  let metrics: GatewayMetrics | null = null;
  const clock = options.clock ?? systemClock;
  // State shared with the other replicas and workers (issue 12); fails open to the local state.
  const shared = config.redisUrl ? connectSharedStore(config.redisUrl, logger) : null;
  const policy = { ...upstreamClientOptions(config), ...options.upstream };
  const sharedBudget = shared
    ? new SharedBudget(
        shared,
        {
          windows: policy.scheduler.windows,
          marginMs: policy.scheduler.marginMs,
          attemptTimeoutMs: policy.attemptTimeoutMs,
          keyFailures: policy.scheduler.keyFailures,
          keyPauseMs: policy.scheduler.keyPauseMs,
          processes: config.workers,
        },
        clock,
      )
    : null;
  const client = createUpstreamClient(
    { ...policy, sharedBudget },
    {
      onCall: (info) => {
        metrics?.observeUpstream(info);
        options.onUpstreamCall?.(info);
      },
      warn: (details, message) => logger.warn(details, message),
    },
    clock,
  );
  const localCache =
    config.upstreamCacheTtlMs > 0
      ? new PageCache({ ttlMs: config.upstreamCacheTtlMs, maxBytes: config.upstreamCacheMaxBytes }, clock)
      : null;
  // With a shared store, the page cache has a layer in Redis under the process's own (shared/cache.ts).
  const cache: PageStore | null =
    localCache && shared
      ? new SharedPageCache(
          localCache,
          shared,
          {
            ttlMs: config.upstreamCacheTtlMs,
            leaseMs: policy.attemptTimeoutMs,
            coalesce: config.upstreamCoalesce,
            maxEntryBytes: Math.max(1, Math.min(1 << 20, Math.floor(config.upstreamCacheMaxBytes / 4))),
            normalize: { timeZone: config.upstreamTimezone },
          },
          clock,
        )
      : localCache;
  const deps = {
    client,
    cache,
    pageCap: new PageSizeCap(),
    resolveToken: createTokenResolver(config),
    logger,
    cursorSecret: config.cursorSecret,
    pageSizes: { defaultSize: config.pageSizeDefault, maxSize: config.pageSizeMax },
    normalize: { timeZone: config.upstreamTimezone },
    callConcurrency: config.callConcurrency,
    inFlight: config.upstreamCoalesce ? { pages: new InFlight<Served>(), calls: new InFlight<Call | null>() } : undefined,
    stats: { maxCalls: config.statsMaxCalls, cache: new TtlCache<CallStatsResult>(config.statsTtlMs, 1_000, () => clock.now()) },
    driftSearchRows: config.driftSearchRows,
  };
  // Live calls (issue 12): one poller per key within 30% of the key's budget (all of it with Redis, this
  // process's share without), its events logged in Redis when shared, else in this process.
  const pollerWindows = shared ? config.upstreamRateLimits : shareOf(config.upstreamRateLimits, 1 / config.workers);
  const localLive = new MemoryLiveStore(clock);
  const live = new LiveHub({
    client,
    store: shared ? new RedisLiveStore(shared, localLive, logger, clock) : localLive,
    clock,
    logger,
    normalize: deps.normalize,
    pollIntervalMs: Math.max(config.livePollIntervalMs, minPollIntervalMs(pollerWindows, 0.3)),
  });
  const webhooks = createWebhookEndpoint({ keys: config.webhookKeys, hub: live, logger });
  const common: YogaServerOptions<Record<string, never>, GatewayContext> = {
    context: ({ request }) => createContext(deps, request),
    maskedErrors: { maskError },
    landingPage: false,
    batching: false,
    multipart: false,
    // Our own cap (protections.ts) reads the body once with a limit; yoga's pipes every body through a
    // TransformStream, which cost about 7% of the CPU of a small query (issue 5 profile).
    maxRequestBodySize: false,
    healthCheckEndpoint: '/health',
    logging: yogaLogging(logger),
  };
  const upstreamStats = (): UpstreamStats => ({
    ...client.stats(),
    coalesced: (deps.inFlight?.pages.hits ?? 0) + (deps.inFlight?.calls.hits ?? 0),
    cache: cache?.stats() ?? null,
    shared: shared ? { available: shared.available(), failures: shared.failures } : null,
  });
  // Where /metrics is answered, if anywhere (issue 11 item 11): nothing is collected when nobody may read it.
  const placement = metricsPlacement(config);
  if (placement !== 'off') {
    metrics = createMetrics(upstreamStats, { onMainPort: placement === 'main-port', token: config.metricsToken });
  }
  // Every check runs before execution, so a rejected request never reaches the upstream.
  // yoga's Plugin type is invariant in its context; these plugins use only the initial context.
  const protections: Plugin<Record<string, any>>[] = [
    useHealthEndpoints(client, shared, clock),
    useTracing(),
    ...(metrics ? [metrics.plugin] : []),
    useRequestLogging(logger),
    ...(config.csrfPrevention ? [useCsrfPrevention()] : []),
    useRequestBodyLimit(config.limits.maxRequestBytes),
    ...(config.introspection ? [] : [useDisableIntrospection()]),
    ...useDocumentLimits(config.limits, !config.introspection),
    useCostLimit(config.limits),
    ...(config.upstreamDebugExtension ? [useUpstreamExtension() as Plugin] : []),
  ];
  const build = (graphSchema: GraphQLSchema, endpoint: YogaServerOptions<Record<string, never>, GatewayContext>): GatewayYoga =>
    createYoga({ ...common, ...endpoint, schema: graphSchema, plugins: [usePrivateResponses, ...(protections as Plugin[]), ...(endpoint.plugins ?? [])] });

  const yoga = build(schema, {
    graphqlEndpoint: '/graphql',
    // Compiled execution doubled the throughput of a 100-call page (issue 5, docs/benchmarks.md). Only on
    // the public endpoint: for `_entities` graphql-jit reports a failed list item differently.
    plugins: [
      ...(config.trustedDocuments ? [useTrustedDocuments(config.trustedDocuments)] : []),
      ...(config.graphqlJit ? [useGraphQlJit() as Plugin] : []),
      useLiveEvents({ hub: live, resolveToken: deps.resolveToken, timeZone: config.upstreamTimezone, clock }) as Plugin,
    ],
    graphiql: config.graphiql
      ? {
          title: 'Calls gateway',
          defaultQuery: EXAMPLE_QUERY,
          headers: JSON.stringify(options.graphiqlHeaders ?? { Authorization: 'Bearer <your API key>' }, null, 2),
          shouldPersistHeaders: false,
          // Subscriptions too (its fetcher would GET them, which CSRF prevention refuses): POST over SSE.
          method: 'POST',
        }
      : false,
    // The bundled GraphiQL (no CDN) holds 47 MB of assets: loaded on the first GraphiQL request only.
    renderGraphiQL: async (graphiql) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiql),
    // yoga treats an empty origin list as "echo any origin", so no configured origin means no CORS at all.
    cors:
      config.corsOrigins.length === 0
        ? false
        : {
            origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
            methods: ['GET', 'POST', 'OPTIONS'],
            // `Last-Event-ID` resumes a subscription (src/live/sse.ts).
            allowedHeaders: ['authorization', 'content-type', 'last-event-id', ...CSRF_HEADERS],
            maxAge: 600,
          },
  });
  // Routers call subgraphs server to server: no GraphiQL, no CORS, and optionally a shared secret.
  const subgraph = config.subgraphEnabled
    ? build(subgraphSchemaWith(config.subgraphNodeTypes), {
        graphqlEndpoint: config.subgraphPath,
        graphiql: false,
        cors: false,
        // Routers POST; a GET gets 405 before the secret is even looked at (issue 11 item 10).
        plugins: [usePostOnly(), ...(config.subgraphSecret ? [useSharedSecret(config.subgraphSecret)] : [])],
      })
    : null;
  const route = (pathname: string) => (subgraph && pathname === config.subgraphPath ? subgraph : yoga);

  return {
    yoga,
    subgraph,
    handle: (request, response) => {
      const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
      // Webhooks are answered outside yoga: the secret in their path must reach no request log or trace.
      if (webhooks.matches(pathname)) return webhooks.handle(request, response);
      void route(pathname).requestListener(request, response);
    },
    fetch: (url, init = {}) => {
      const pathname = new URL(url).pathname;
      if (webhooks.matches(pathname)) return webhooks.fetch(new Request(url, init));
      return Promise.resolve(route(pathname).fetch(url, init));
    },
    logger,
    upstreamStats,
    metrics: metrics && { registry: metrics.registry, handle: metrics.handle },
    shared,
    live,
    close: async () => {
      await live.close();
      await client.close();
      await shared?.close();
    },
  };
}
