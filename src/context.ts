/**
 * What every resolver gets. Built fresh for each GraphQL request by `createContext`; the long-lived
 * parts (the upstream client, the logger) are passed in from server.ts and only shared read-only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { requestStats } from './logging.js';
import { requestSpan } from './tracing.js';
import type { SizeLimits } from './pagination/arguments.js';
import type { UpstreamClient } from './upstream/client.js';
import type { TtlCache } from './upstream/coalesce.js';
import { createLoaders, type LoaderOptions, type Loaders } from './upstream/loaders.js';
import { keyId } from './upstream/resilience.js';
import type { CallTotals } from './upstream/stats.js';

/** What `callStats` computes: the totals plus the size of the whole filtered list. */
export interface CallStatsResult extends CallTotals {
  count: number;
}
import type { NormalizeOptions } from './upstream/normalize.js';

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
export function bearerToken(header: string | null): string | null {
  const match = header ? /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

export function createContext(deps: ContextDependencies, request: Request): GatewayContext {
  const token = deps.resolveToken(request.headers.get('authorization'));
  const stats = requestStats(request);
  return {
    loaders: createLoaders({
      client: deps.client,
      token,
      normalize: deps.normalize,
      callConcurrency: deps.callConcurrency,
      inFlight: deps.inFlight,
      signal: request.signal,
      parentSpan: requestSpan(request),
      onCall: stats
        ? () => {
            stats.upstreamRequests++;
          }
        : undefined,
      onWarnings: (warnings) => deps.logger.warn({ warnings }, 'repaired malformed upstream values'),
    }),
    callerKey: token === null ? null : keyId(token),
    stats: deps.stats,
    driftSearchRows: deps.driftSearchRows,
    cursorSecret: deps.cursorSecret,
    pageSizes: deps.pageSizes,
    logger: deps.logger,
  };
}
