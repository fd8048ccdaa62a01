/**
 * What every resolver gets. Built fresh for each GraphQL request by `createContext`; the long-lived
 * parts (the upstream client, the logger) are passed in from server.ts and only shared read-only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { RequestLog } from './logging.js';
import type { OperationTiming } from './metrics.js';
import type { SizeLimits } from './pagination/arguments.js';
import type { PageStore } from './upstream/cache.js';
import type { UpstreamClient } from './upstream/client.js';
import type { TtlCache } from './upstream/coalesce.js';
import { createLoaders, type LoaderOptions, type Loaders, type PageSizeCap } from './upstream/loaders.js';
import type { NormalizeOptions } from './upstream/normalize.js';
import { keyId } from './upstream/resilience.js';
import type { CallTotals } from './upstream/stats.js';

/** What `callStats` computes: the totals, the size of the whole filtered list, and whether all was read. */
export interface CallStatsResult extends CallTotals {
  count: number;
  complete: boolean;
}

/**
 * yoga's server context: one object per HTTP request, which yoga then extends into the GraphQL context
 * (`createContext` below adds to it). The plugins keep what they learn about a request here rather than in
 * maps keyed by the Request, so it lives exactly as long as the request and reaches every hook, from
 * `onRequest` to `onResponse`, and the resolvers' context.
 */
export interface ServerContext {
  /** useRequestLogging (logging.ts): id, start, operation name and upstream requests, for the log line. */
  requestLog?: RequestLog;
  /** useTracing (tracing.ts): the request's span while it records, parent of the upstream spans. */
  requestSpan?: Span;
  /** The metrics plugin (metrics.ts): the operation's label, start and outcome. */
  operationTiming?: OperationTiming;
}

export interface GatewayContext {
  loaders: Loaders;
  /** Hash of the API key used upstream (never the key); null without one. Keys per-caller memory. */
  callerKey: string | null;
  stats: { maxCalls: number; cache: TtlCache<CallStatsResult> };
  /** Rows searched on each side of a moved cursor anchor. */
  driftSearchRows: number;
  cursorSecret: string;
  pageSizes: SizeLimits;
  logger: Logger;
}

/**
 * Whose API key goes upstream. Multi-tenant (the default): each caller's own bearer token. Single-tenant
 * (`UPSTREAM_API_KEY`): the server's key, for callers that present one of the gateway's own keys
 * (`GATEWAY_API_KEYS`), or for anonymous callers only when `ALLOW_ANONYMOUS` opts in.
 */
export interface AuthPolicy {
  upstreamApiKey: string | null;
  gatewayApiKeys: readonly string[];
  allowAnonymous: boolean;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Returns the token to send upstream, or null for UNAUTHENTICATED. */
export function createTokenResolver(policy: AuthPolicy): (authorization: string | null) => string | null {
  const { upstreamApiKey } = policy;
  if (upstreamApiKey === null) return bearerToken;
  // Compared as fixed-length digests in constant time, so neither timing nor length tells a key apart.
  const known = policy.gatewayApiKeys.map(digest);
  return (authorization) => {
    if (authorization === null) return policy.allowAnonymous ? upstreamApiKey : null;
    const presented = bearerToken(authorization);
    if (presented === null) return null;
    const given = digest(presented);
    let match = false;
    for (const key of known) match = timingSafeEqual(key, given) || match;
    return match ? upstreamApiKey : null;
  };
}

export interface ContextDependencies {
  client: UpstreamClient;
  /** The page cache; null when `UPSTREAM_CACHE_TTL_MS` is 0. */
  cache: PageStore | null;
  pageCap: PageSizeCap;
  resolveToken: (authorization: string | null) => string | null;
  logger: Logger;
  cursorSecret: string;
  pageSizes: SizeLimits;
  normalize: NormalizeOptions;
  callConcurrency: number;
  inFlight?: LoaderOptions['inFlight'];
  stats: GatewayContext['stats'];
  driftSearchRows: number;
}

/** `Authorization: Bearer <token>` -> token; anything else -> null (the resolvers then answer UNAUTHENTICATED). */
function bearerToken(header: string | null): string | null {
  const match = header ? /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

/** `Cache-Control: no-cache` (or `no-store`, `max-age=0`) on the request: read nothing from the page cache. */
function wantsFresh(cacheControl: string | null): boolean {
  return cacheControl !== null && /\b(no-cache|no-store|max-age=0)\b/i.test(cacheControl);
}

export function createContext(
  deps: ContextDependencies,
  initial: ServerContext & { request: Request },
): GatewayContext {
  const { request, requestLog } = initial;
  const token = deps.resolveToken(request.headers.get('authorization'));
  // Hashed once per request: the key's lane in the scheduler, its cache entries, its coalescing.
  const key = token === null ? null : keyId(token);
  return {
    loaders: createLoaders({
      client: deps.client,
      token,
      key,
      cache: deps.cache,
      fresh: wantsFresh(request.headers.get('cache-control')),
      pageCap: deps.pageCap,
      onPageCap: (perPage) =>
        deps.logger.warn({ perPage }, 'the upstream serves at most this many calls per page; planning with it'),
      normalize: deps.normalize,
      callConcurrency: deps.callConcurrency,
      inFlight: deps.inFlight,
      signal: request.signal,
      parentSpan: initial.requestSpan,
      onAttempt: requestLog
        ? () => {
            requestLog.upstreamRequests++;
          }
        : undefined,
      onWarnings: (warnings) => deps.logger.warn({ warnings }, 'repaired malformed upstream values'),
    }),
    callerKey: key,
    stats: deps.stats,
    driftSearchRows: deps.driftSearchRows,
    cursorSecret: deps.cursorSecret,
    pageSizes: deps.pageSizes,
    logger: deps.logger,
  };
}
