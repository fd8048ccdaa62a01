/**
 * Every setting of the gateway. The ones an operator would plausibly change are read from the environment
 * once at start-up and validated there: a bad value stops the process with a message naming the variable.
 * The rest are fixed below (`FIXED`), each with its reason; they stay fields of `Config` only so that tests
 * can build a gateway with other values (`createGateway(config)`). The upstream's retry, timeout and breaker
 * constants are in upstream-policy.ts. Only this module and main.ts read process.env.
 */

export interface Config {
  // Server and processes
  /** `PORT`. @default 4000 */
  port: number;
  /** `HOST`: interface to listen on. @default 127.0.0.1 */
  host: string;
  /** `WORKERS`: processes serving on the one port (Node cluster); `auto` is one per core. @default 1 */
  workers: number;
  /** `NODE_ENV` is `production`: switches the defaults of GraphiQL, introspection and CORS, requires the secrets,
   * places /metrics. */
  production: boolean;
  /** `LOG_LEVEL`: pino level. @default info */
  logLevel: string;

  // The upstream
  /** `UPSTREAM_BASE_URL`, e.g. https://app.famulor.de/api; null starts the embedded simulator (demo). @default null */
  upstreamBaseUrl: string | null;
  /** `UPSTREAM_TIMEZONE`: IANA zone of the upstream's zone-less `Y-m-d H:i:s` timestamps. @default UTC */
  upstreamTimezone: string;
  /** `UPSTREAM_TIMEOUT_MS`: total deadline of one upstream request, all attempts included. @default 20000 */
  upstreamTimeoutMs: number;

  // Callers and their keys
  /** `UPSTREAM_API_KEY`: single-tenant mode; this key is used upstream instead of the callers'. @default null */
  upstreamApiKey: string | null;
  /** `GATEWAY_API_KEYS`: comma-separated keys callers must present in single-tenant mode. */
  gatewayApiKeys: string[];
  /** `ALLOW_ANONYMOUS`: in single-tenant mode, serve callers without credentials with the server's key. @default false
   * */
  allowAnonymous: boolean;

  // The upstream budget and cache
  /**
   * `UPSTREAM_RATE_LIMITS`: each API key's upstream budget, windows that all apply at once
   * (../shared/docs/upstream-contract.md §5.3). @default 100/60s,20/10s
   */
  upstreamRateLimits: RateWindow[];
  /** `UPSTREAM_CONCURRENCY_PER_KEY`: upstream requests in flight for one API key. @default 8 */
  upstreamConcurrencyPerKey: number;
  /** `UPSTREAM_QUEUE_TIMEOUT_MS`: how long a request may wait for budget or a free slot. @default 2000 */
  upstreamQueueTimeoutMs: number;
  /** `UPSTREAM_CACHE_TTL_MS`: how long upstream answers are served from memory, per key; 0 turns the cache off.
   * @default 5000 */
  upstreamCacheTtlMs: number;
  /** `UPSTREAM_CACHE_MAX_BYTES`: upstream body bytes the page cache keeps at most (the process's memory). @default
   * 16777216 */
  upstreamCacheMaxBytes: number;
  /** Fixed: identical upstream requests in flight from one API key are made once (tests turn it off). */
  upstreamCoalesce: boolean;

  // Pagination and statistics
  /** `PAGE_SIZE_MAX`: largest `first`/`last`. @default 100 */
  pageSizeMax: number;
  /** Fixed: page size when neither `first` nor `last` is given, 20 (at most `PAGE_SIZE_MAX`). */
  pageSizeDefault: number;
  /** `STATS_MAX_CALLS`: calls `callStats` reads at most; beyond that it says `complete: false`. @default 10000 */
  statsMaxCalls: number;
  /** Fixed: identical `callStats` of the same caller within this time reuse the result. */
  statsTtlMs: number;
  /** Fixed: rows searched on each side when a cursor's call moved. */
  driftSearchRows: number;
  /** Fixed: `GET /user/calls/{id}` in flight at once per operation. */
  callConcurrency: number;
  /**
   * `CURSOR_SECRET`: signs cursors; set it (same value on every replica) so cursors cannot be forged. Required
   * with 32+ characters in production (issue 11 item 9). @default a built-in value outside production
   */
  cursorSecret: string;

  // Requests: limits and browser-facing behaviour
  /** Request and document limits: `MAX_QUERY_COST` and `MAX_LOOKUP_IDS` from the environment, the rest fixed. */
  limits: QueryLimits;
  /** `CORS_ORIGINS`: comma-separated allowed origins, or `*`. @default `*` outside production, none in production */
  corsOrigins: string[] | '*';
  /** `CSRF_PREVENTION`: GET and non-JSON requests need a preflight header (403 `CSRF_REQUIRED` otherwise). @default
   * true */
  csrfPrevention: boolean;
  /** `GRAPHIQL`: serve GraphiQL on GET /graphql. @default true outside production */
  graphiql: boolean;
  /** `INTROSPECTION`: answer introspection queries; off also hides "Did you mean" suggestions. @default true outside
   * production */
  introspection: boolean;
  /**
   * `TRUSTED_DOCUMENTS`: path of a persisted-documents manifest (hash -> document, as GraphQL Code
   * Generator writes it); when set, /graphql executes only those documents. @default null
   */
  trustedDocuments: Record<string, string> | null;
  /** `GRAPHQL_JIT`: execute public operations with graphql-jit (compiled per document). @default true */
  graphqlJit: boolean;
  /** `UPSTREAM_DEBUG_EXTENSION`: add `extensions.upstream` (requests, cache hits, queue wait) to responses; never in
   * production. @default false */
  upstreamDebugExtension: boolean;

  // Federation
  /** `SUBGRAPH_ENABLED`: serve the Federation 2 subgraph endpoint. @default true */
  subgraphEnabled: boolean;
  /** Fixed: where routers reach the subgraph, `/subgraph` (a router is configured with any URL). */
  subgraphPath: string;
  /**
   * `SUBGRAPH_SECRET`: when set, the subgraph endpoint requires `X-Subgraph-Secret: <value>`; required in
   * production unless `SUBGRAPH_ENABLED=false` (issue 11 item 10). @default null
   */
  subgraphSecret: string | null;
  /**
   * `SUBGRAPH_NODE_TYPES`: the Node types of other subgraphs (comma-separated, e.g. `Note,Contact`). The
   * subgraph declares them so that its shared `node`/`nodes` answer their ids with references for the router
   * (README, "Federation"). @default none
   */
  subgraphNodeTypes: string[];

  // Metrics
  /**
   * Fixed on: collect Prometheus metrics where `metricsPort` and `metricsToken` say they are served (see
   * metricsPlacement in metrics.ts; production collects none without either). Tests turn it off.
   */
  metrics: boolean;
  /** `METRICS_PORT`: serve /metrics on this port of HOST instead of the main port (issue 11 item 11). @default null */
  metricsPort: number | null;
  /** `METRICS_TOKEN`: /metrics then requires `Authorization: Bearer <token>` (16+ characters). @default null */
  metricsToken: string | null;

  // Replicas and live calls
  /**
   * `REDIS_URL`: share budgets, the page cache, pauses, pollers and event logs between replicas and workers
   * through this Redis (`redis://host:port/db`); unset keeps everything in the process. @default null
   */
  redisUrl: string | null;
  /** `LIVE_POLL_INTERVAL_MS`: how often the one poller of a key with subscribers reads the list's head. @default 5000
   * */
  livePollIntervalMs: number;
  /**
   * `WEBHOOK_KEYS` (`<secret>:<api key>` pairs, comma-separated; secrets of 16+ characters), or in single-tenant
   * mode `WEBHOOK_SECRET` mapped to `UPSTREAM_API_KEY`: which key a webhook at `/webhooks/calls/<secret>` reads with.
   */
  webhookKeys: Map<string, string>;
}

/**
 * The settings that are not variables: nobody running the gateway has a reason to change them, and each
 * one more variable is one more thing to get wrong. Tests pass other values to createGateway.
 */
export const FIXED = {
  /** Coalescing only saves upstream budget and never shares anything between keys: no reason to turn it off. */
  upstreamCoalesce: true,
  /** ../shared/docs/reliability.md §1: default 20; clients that want another size say `first`. */
  pageSizeDefault: 20,
  /** Long enough to absorb a dashboard's repeated `callStats`, short enough to stay fresh. */
  statsTtlMs: 10_000,
  /** Rows searched on each side of a moved cursor anchor: two upstream pages of 100 each way. */
  driftSearchRows: 200,
  /** Lookups of one operation in flight at once: the per-key bulkhead (`UPSTREAM_CONCURRENCY_PER_KEY`) is the real
   * bound. */
  callConcurrency: 8,
  /** A router is configured with the subgraph's full URL, so its path needs no setting. */
  subgraphPath: '/subgraph',
  /** Whether metrics are collected follows from where they are served (`METRICS_PORT`, `METRICS_TOKEN`). */
  metrics: true,
  /**
   * The document limits of ../shared/docs/reliability.md §1 (graphql-armor's baseline; depth 6 where our deepest real
   * query is 5). They bound what a document may ask, which the schema fixes; the cost and the lookups, which grow
   * with what a client asks for, are variables.
   */
  limits: {
    maxRequestBytes: 256 * 1024,
    maxQueryLength: 15_000,
    maxTokens: 1_000,
    maxDepth: 6,
    maxAliases: 10,
    maxDirectives: 10,
    maxRootFields: 5,
  },
} as const;

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { QueryLimits } from './plugins/document-limits.js';
import { DOCUMENTED_RATE_LIMITS, parseRateLimits, type RateWindow } from './upstream/budget.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Only meant to keep demo cursors stable; production deployments set CURSOR_SECRET. */
export const DEFAULT_CURSOR_SECRET = 'calls-gateway/insecure-default-cursor-secret';

/** Shortest `CURSOR_SECRET` production accepts (../shared/docs/clarifications.md, "Production secrets"). */
export const MIN_PRODUCTION_CURSOR_SECRET = 32;

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function readTrustedDocuments(path: string | null): Record<string, string> | null {
  if (path === null) return null;
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'TRUSTED_DOCUMENTS',
      `cannot read a JSON manifest at "${path}" (${(error as Error).message})`,
    );
  }
  const entries = manifest && typeof manifest === 'object' ? Object.entries(manifest) : [];
  if (
    entries.length === 0 ||
    entries.some(([key, value]) => typeof value !== 'string' || !/^[\w:.-]{8,128}$/.test(key))
  ) {
    throw new ConfigError(
      'TRUSTED_DOCUMENTS',
      'must be a JSON object of hash -> GraphQL document, with at least one entry',
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** `UPSTREAM_RATE_LIMITS` (../shared/docs/clarifications.md, "Upstream budget"). */
function upstreamRateLimits(env: Env): RateWindow[] {
  const raw = env.UPSTREAM_RATE_LIMITS?.trim() || DOCUMENTED_RATE_LIMITS;
  try {
    return parseRateLimits(raw);
  } catch (error) {
    throw new ConfigError('UPSTREAM_RATE_LIMITS', `${(error as Error).message}; e.g. ${DOCUMENTED_RATE_LIMITS}`);
  }
}

/** `REDIS_URL`: a redis:// or rediss:// URL. */
function redisUrl(env: Env): string | null {
  const raw = env.REDIS_URL?.trim() || null;
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL', 'is not a URL (expected e.g. redis://127.0.0.1:6379)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new ConfigError('REDIS_URL', 'must use redis:// or rediss://');
  return raw;
}

/**
 * `WEBHOOK_KEYS` and `WEBHOOK_SECRET` (../shared/docs/clarifications.md, "Live updates contract"): secret -> API key. A
 * secret is the only thing that authenticates a webhook (the platform does not sign them), so it must be long.
 */
function webhookKeys(env: Env, upstreamApiKey: string | null): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of (env.WEBHOOK_KEYS ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = pair.indexOf(':');
    const secret = colon > 0 ? pair.slice(0, colon) : '';
    const key = colon > 0 ? pair.slice(colon + 1) : '';
    if (!/^[A-Za-z0-9_-]{16,256}$/.test(secret) || key === '') {
      throw new ConfigError(
        'WEBHOOK_KEYS',
        'must be comma-separated <secret>:<api key> pairs, each secret 16+ letters, digits, _ or -',
      );
    }
    keys.set(secret, key);
  }
  const single = env.WEBHOOK_SECRET?.trim() || null;
  if (single !== null) {
    if (upstreamApiKey === null)
      throw new ConfigError(
        'WEBHOOK_SECRET',
        'only applies with UPSTREAM_API_KEY (single-tenant mode); use WEBHOOK_KEYS',
      );
    if (!/^[A-Za-z0-9_-]{16,256}$/.test(single))
      throw new ConfigError('WEBHOOK_SECRET', 'must be 16+ letters, digits, _ or -');
    keys.set(single, upstreamApiKey);
  }
  return keys;
}

/** `HOST`: a host name or an IP address (IPv6 without brackets), as `server.listen` takes it. */
function host(env: Env): string {
  const raw = env.HOST?.trim() || '127.0.0.1';
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(raw)) {
    throw new ConfigError('HOST', `must be a host name or an IP address such as 0.0.0.0 or ::, got "${raw}"`);
  }
  return raw;
}

/** `CORS_ORIGINS`: `*`, or origins as browsers send them (`https://app.example.com`, no path). */
function corsOrigins(env: Env, production: boolean): string[] | '*' {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return production ? [] : '*';
  if (raw === '*') return '*';
  const origins = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // reported below
    }
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `"${origin}" is not an origin such as https://app.example.com (scheme, host and port only)`,
      );
    }
  }
  return origins;
}

/**
 * What production refuses to start without (issue 11 items 9 and 10; ../shared/docs/clarifications.md, "Production
 * secrets"): a cursor secret nobody else knows, long enough not to be guessed, and no open subgraph endpoint, which
 * would answer `_service { sdl }` (the whole schema) to anyone even with introspection off. The messages
 * never echo a secret, only its length.
 */
function productionSecrets(env: Env, subgraphEnabled: boolean, subgraphSecret: string | null): void {
  const cursorSecret = env.CURSOR_SECRET ?? '';
  const how =
    `at least ${MIN_PRODUCTION_CURSOR_SECRET} random characters, ` +
    'the same on every replica (e.g. openssl rand -hex 32)';
  if (cursorSecret === '') throw new ConfigError('CURSOR_SECRET', `is required with NODE_ENV=production: ${how}`);
  if (cursorSecret.length < MIN_PRODUCTION_CURSOR_SECRET) {
    const problem = `is ${cursorSecret.length} characters long; NODE_ENV=production needs ${how}`;
    throw new ConfigError('CURSOR_SECRET', problem);
  }
  if (cursorSecret === DEFAULT_CURSOR_SECRET) {
    throw new ConfigError('CURSOR_SECRET', `is the published development value; NODE_ENV=production needs ${how}`);
  }
  if (subgraphEnabled && subgraphSecret === null) {
    throw new ConfigError(
      'SUBGRAPH_SECRET',
      'is required with NODE_ENV=production while the subgraph endpoint is on: set it (16+ characters, sent by the ' +
        'router as X-Subgraph-Secret), or set SUBGRAPH_ENABLED=false for deployments without federation',
    );
  }
}

export function loadConfig(env: Env): Config {
  // A misspelt `production` would quietly mean development: open /metrics, GraphiQL, no required secrets.
  const nodeEnv = env.NODE_ENV?.trim() || 'development';
  if (!['production', 'development', 'test'].includes(nodeEnv)) {
    throw new ConfigError('NODE_ENV', `must be production, development or test; got "${nodeEnv}"`);
  }
  const production = nodeEnv === 'production';
  const upstreamBaseUrl = env.UPSTREAM_BASE_URL?.trim() || null;
  if (upstreamBaseUrl !== null) {
    let url: URL;
    try {
      url = new URL(upstreamBaseUrl);
    } catch {
      throw new ConfigError('UPSTREAM_BASE_URL', 'is not a URL (expected e.g. https://app.famulor.de/api)');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ConfigError('UPSTREAM_BASE_URL', 'must use http or https');
    if (url.search || url.hash || url.username || url.password) {
      throw new ConfigError('UPSTREAM_BASE_URL', 'must not carry a query, fragment or credentials');
    }
  }
  const upstreamTimezone = env.UPSTREAM_TIMEZONE?.trim() || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: upstreamTimezone });
  } catch {
    throw new ConfigError(
      'UPSTREAM_TIMEZONE',
      `is not an IANA time zone (e.g. UTC, Europe/Berlin), got "${upstreamTimezone}"`,
    );
  }
  const pageSizeMax = integer(env, 'PAGE_SIZE_MAX', 100, 1, 1000);
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`,
    );
  }
  const upstreamApiKey = env.UPSTREAM_API_KEY?.trim() || null;
  const gatewayApiKeys = (env.GATEWAY_API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const allowAnonymous = flag(env, 'ALLOW_ANONYMOUS', false);
  if (upstreamApiKey !== null && gatewayApiKeys.length === 0 && !allowAnonymous) {
    throw new ConfigError(
      'GATEWAY_API_KEYS',
      'is required with UPSTREAM_API_KEY (or set ALLOW_ANONYMOUS=true to serve anyone with the server key)',
    );
  }
  if (upstreamApiKey === null && (gatewayApiKeys.length > 0 || allowAnonymous)) {
    throw new ConfigError(
      gatewayApiKeys.length > 0 ? 'GATEWAY_API_KEYS' : 'ALLOW_ANONYMOUS',
      'only applies with UPSTREAM_API_KEY (single-tenant mode)',
    );
  }
  if (gatewayApiKeys.some((k) => k.length < 16))
    throw new ConfigError('GATEWAY_API_KEYS', 'each key must be at least 16 characters');
  const subgraphSecret = env.SUBGRAPH_SECRET || null;
  const nodeTypeList = (env.SUBGRAPH_NODE_TYPES ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const subgraphNodeTypes = [...new Set(nodeTypeList)];
  const badNodeType = subgraphNodeTypes.find((t) => !/^[A-Z_a-z]\w*$/.test(t) || t.startsWith('__'));
  if (badNodeType !== undefined) {
    throw new ConfigError('SUBGRAPH_NODE_TYPES', `"${badNodeType}" is not a GraphQL type name`);
  }
  if (subgraphSecret !== null && subgraphSecret.length < 16)
    throw new ConfigError('SUBGRAPH_SECRET', 'must be at least 16 characters');
  const workers = env.WORKERS?.trim() === 'auto' ? availableParallelism() : integer(env, 'WORKERS', 1, 1, 64);
  const upstreamDebugExtension = flag(env, 'UPSTREAM_DEBUG_EXTENSION', false);
  if (upstreamDebugExtension && production) {
    throw new ConfigError(
      'UPSTREAM_DEBUG_EXTENSION',
      'is for development only; it must be off with NODE_ENV=production',
    );
  }
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const subgraphEnabled = flag(env, 'SUBGRAPH_ENABLED', true);
  if (production) productionSecrets(env, subgraphEnabled, subgraphSecret);
  const metricsPort = env.METRICS_PORT?.trim() ? integer(env, 'METRICS_PORT', 0, 0, 65535) : null;
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${port}): it is a listener of its own`);
  }
  const metricsToken = env.METRICS_TOKEN || null;
  if (metricsToken !== null && metricsToken.length < 16) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  }
  return {
    port,
    host: host(env),
    workers,
    production,
    logLevel,
    upstreamBaseUrl,
    upstreamTimezone,
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', 20_000, 100, 300_000),
    upstreamApiKey,
    gatewayApiKeys,
    allowAnonymous,
    upstreamRateLimits: upstreamRateLimits(env),
    upstreamConcurrencyPerKey: integer(env, 'UPSTREAM_CONCURRENCY_PER_KEY', 8, 1, 1024),
    upstreamQueueTimeoutMs: integer(env, 'UPSTREAM_QUEUE_TIMEOUT_MS', 2_000, 0, 60_000),
    upstreamCacheTtlMs: integer(env, 'UPSTREAM_CACHE_TTL_MS', 5_000, 0, 3_600_000),
    upstreamCacheMaxBytes: integer(env, 'UPSTREAM_CACHE_MAX_BYTES', 16 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    upstreamCoalesce: FIXED.upstreamCoalesce,
    pageSizeMax,
    pageSizeDefault: Math.min(FIXED.pageSizeDefault, pageSizeMax),
    statsMaxCalls: integer(env, 'STATS_MAX_CALLS', 10_000, 100, 100_000),
    statsTtlMs: FIXED.statsTtlMs,
    driftSearchRows: FIXED.driftSearchRows,
    callConcurrency: FIXED.callConcurrency,
    cursorSecret: env.CURSOR_SECRET || DEFAULT_CURSOR_SECRET,
    limits: {
      ...FIXED.limits,
      maxCost: integer(env, 'MAX_QUERY_COST', 5_000, 1, 10_000_000),
      maxLookupIds: integer(env, 'MAX_LOOKUP_IDS', 100, 1, 10_000),
    },
    corsOrigins: corsOrigins(env, production),
    csrfPrevention: flag(env, 'CSRF_PREVENTION', true),
    graphiql: flag(env, 'GRAPHIQL', !production),
    introspection: flag(env, 'INTROSPECTION', !production),
    trustedDocuments: readTrustedDocuments(env.TRUSTED_DOCUMENTS?.trim() || null),
    graphqlJit: flag(env, 'GRAPHQL_JIT', true),
    upstreamDebugExtension,
    subgraphEnabled,
    subgraphPath: FIXED.subgraphPath,
    subgraphSecret,
    subgraphNodeTypes,
    metrics: FIXED.metrics,
    metricsPort,
    metricsToken,
    redisUrl: redisUrl(env),
    livePollIntervalMs: integer(env, 'LIVE_POLL_INTERVAL_MS', 5_000, 500, 600_000),
    webhookKeys: webhookKeys(env, upstreamApiKey),
  };
}
