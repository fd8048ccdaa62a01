/**
 * `createGateway` composes the gateway — upstream client, caches, live hub, metrics, the yoga endpoints and
 * their plugins — and never listens, so tests import it and talk to `fetch` or mount `handle` on their own
 * server. main.ts does the listening. Each plugin lives in its own module (src/plugins/, and the logging,
 * tracing and metrics modules); per-request state lives on yoga's server context (src/context.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import {
  type CallStatsResult,
  createContext,
  createTokenResolver,
  type GatewayContext,
  type ServerContext,
} from './context.js';
import { graphiqlSettings } from './graphiql.js';
import { LiveHub } from './live/hub.js';
import { MemoryLiveStore } from './live/memory.js';
import { minPollIntervalMs } from './live/poller.js';
import { RedisLiveStore } from './live/redis.js';
import { useLiveEvents } from './live/sse.js';
import { createWebhookEndpoint } from './live/webhooks.js';
import { createLogger, useRequestLogging, yogaLogging } from './logging.js';
import { maskError } from './mask-error.js';
import { createMetrics, type GatewayMetrics, metricsPlacement, type UpstreamSnapshot } from './metrics.js';
import { useCostLimit } from './plugins/cost-limit.js';
import { CSRF_HEADERS, useCsrfPrevention } from './plugins/csrf-prevention.js';
import { useDocumentLimits } from './plugins/document-limits.js';
import { useHealthEndpoints } from './plugins/health.js';
import { usePostOnly } from './plugins/post-only.js';
import { usePrivateResponses } from './plugins/private-responses.js';
import { useRequestBodyLimit } from './plugins/request-body-limit.js';
import { useSubgraphSecret } from './plugins/subgraph-secret.js';
import { operationNamesOf, useTrustedDocuments } from './plugins/trusted-documents.js';
import { useUpstreamExtension } from './plugins/upstream-extension.js';
import { schema, subgraphSchemaWith } from './schema/index.js';
import { SharedBudget } from './shared/budget.js';
import { SharedPageCache } from './shared/cache.js';
import { connectSharedStore, type SharedStore } from './shared/store.js';
import { useTracing } from './tracing.js';
import { shareOf } from './upstream/budget.js';
import { PageCache, type PageStore } from './upstream/cache.js';
import { createUpstreamClient, type UpstreamAttemptInfo } from './upstream/client.js';
import { InFlight, TtlCache } from './upstream/coalesce.js';
import { PageSizeCap, type Served } from './upstream/loaders.js';
import type { Call } from './upstream/model.js';
import { type UpstreamPolicyOverrides, upstreamClientOptions } from './upstream-policy.js';

export type GatewayConfig = Omit<Config, 'port' | 'host' | 'upstreamBaseUrl'> & { upstreamBaseUrl: string };

export interface GatewayOptions {
  /** Defaults to a pino logger at `config.logLevel` writing to stdout. */
  logger?: Logger;
  /** Prefilled in GraphiQL's header editor (the demo fills in its token). */
  graphiqlHeaders?: Record<string, string>;
  /** Called after every upstream attempt (tests count them; metrics do). */
  onUpstreamCall?: (info: UpstreamAttemptInfo) => void;
  /** Changes to the upstream policy of upstream-policy.ts (tests shorten timings). */
  upstream?: UpstreamPolicyOverrides;
  /** Time for the scheduler, cache, breaker, deadlines and readiness (tests run it by hand or faster). */
  clock?: Clock;
}

type GatewayYoga = YogaServerInstance<ServerContext, GatewayContext>;
type EndpointOptions = YogaServerOptions<ServerContext, GatewayContext>;

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
  upstreamSnapshot(): UpstreamSnapshot;
  /**
   * The registry, and the Node listener main.ts mounts on `METRICS_PORT` (`createServer(gateway.metrics.handle)`);
   * null when nothing is collected (production with neither `METRICS_PORT` nor `METRICS_TOKEN`).
   */
  metrics: Pick<GatewayMetrics, 'registry' | 'handle'> | null;
  /** The Redis connection shared with other replicas; null without `REDIS_URL`. */
  shared: SharedStore | null;
  /** Live calls (`Subscription.callEvents`, webhooks): subscribers, pollers and event logs (issue 12). */
  live: LiveHub;
  close(): Promise<void>;
}

export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  // State shared with the other replicas and workers (issue 12); fails open to the local state.
  const shared = config.redisUrl ? connectSharedStore(config.redisUrl, logger) : null;
  // Where /metrics is answered, if anywhere (issue 11 item 11): nothing is collected when nobody may read it.
  // Built before the client it observes; the figures it reads from the client are read at scrape time only.
  const placement = metricsPlacement(config);
  const metrics =
    placement === 'off'
      ? null
      : createMetrics(() => upstreamSnapshot(), {
          onMainPort: placement === 'main-port',
          token: config.metricsToken,
          knownOperations: config.trustedDocuments ? operationNamesOf(config.trustedDocuments) : null,
          sharedStore: shared !== null,
        });
  const policy = upstreamClientOptions(config, options.upstream);
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
      onAttempt: (info) => {
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
    inFlight: config.upstreamCoalesce
      ? { pages: new InFlight<Served>(), calls: new InFlight<Call | null>() }
      : undefined,
    stats: {
      maxCalls: config.statsMaxCalls,
      cache: new TtlCache<CallStatsResult>(config.statsTtlMs, 1_000, () => clock.now()),
    },
    driftSearchRows: config.driftSearchRows,
  };
  function upstreamSnapshot(): UpstreamSnapshot {
    return {
      ...client.snapshot(),
      coalesced: (deps.inFlight?.pages.hits ?? 0) + (deps.inFlight?.calls.hits ?? 0),
      cache: cache?.snapshot() ?? null,
      shared: shared ? { available: shared.available(), failures: shared.failures } : null,
    };
  }
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

  const common: EndpointOptions = {
    context: (initial) => createContext(deps, initial),
    maskedErrors: { maskError },
    landingPage: false,
    batching: false,
    multipart: false,
    // Our own cap (plugins/request-body-limit.ts) reads the body once with a limit; yoga's pipes every body through a
    // TransformStream, which cost about 7% of the CPU of a small query (issue 5 profile).
    maxRequestBodySize: false,
    healthCheckEndpoint: '/health',
    logging: yogaLogging(logger),
  };
  // Every check runs before execution, so a rejected request never reaches the upstream.
  // yoga's Plugin type is invariant in its contexts, and each of these names only the part it uses.
  // biome-ignore lint/suspicious/noExplicitAny: see above; each plugin is checked against its own context types
  const plugins: Plugin<any, any>[] = [
    usePrivateResponses(),
    useHealthEndpoints({ client, shared, clock, logger }),
    useTracing(),
    ...(metrics ? [metrics.plugin] : []),
    useRequestLogging(logger),
    ...(config.csrfPrevention ? [useCsrfPrevention()] : []),
    useRequestBodyLimit(config.limits.maxRequestBytes),
    ...(config.introspection ? [] : [useDisableIntrospection()]),
    ...useDocumentLimits(config.limits, !config.introspection),
    useCostLimit(config.limits),
    ...(config.upstreamDebugExtension ? [useUpstreamExtension()] : []),
  ];
  const build = (graphSchema: GraphQLSchema, endpoint: EndpointOptions): GatewayYoga =>
    createYoga({ ...common, ...endpoint, schema: graphSchema, plugins: [...plugins, ...(endpoint.plugins ?? [])] });

  const yoga = build(schema, {
    graphqlEndpoint: '/graphql',
    // Compiled execution doubled the throughput of a 100-call page (issue 5, docs/benchmarks.md). Only on
    // the public endpoint: for `_entities` graphql-jit reports a failed list item differently.
    plugins: [
      ...(config.trustedDocuments ? [useTrustedDocuments(config.trustedDocuments)] : []),
      ...(config.graphqlJit ? [useGraphQlJit() as Plugin] : []),
      useLiveEvents({ hub: live, resolveToken: deps.resolveToken, timeZone: config.upstreamTimezone, clock }) as Plugin,
    ],
    ...graphiqlSettings(config.graphiql, options.graphiqlHeaders),
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
        plugins: [usePostOnly(), ...(config.subgraphSecret ? [useSubgraphSecret(config.subgraphSecret)] : [])],
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
    upstreamSnapshot,
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
