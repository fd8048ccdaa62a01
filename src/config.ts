/**
 * Every setting of the gateway, read from the environment once at start-up and validated there: a bad
 * value stops the process with a message naming the variable. Only this module and main.ts read process.env.
 */

export interface Config {
  /** `PORT`. @default 4000 */
  port: number;
  /** `HOST`. @default 127.0.0.1 */
  host: string;
  /** `WORKERS`: processes serving on the one port (Node cluster); `auto` is one per core. @default 1 */
  workers: number;
  /** `UPSTREAM_BASE_URL`, e.g. https://app.famulor.de/api; null starts the embedded simulator (demo). @default null */
  upstreamBaseUrl: string | null;
  /** `UPSTREAM_TIMEZONE`: IANA zone of the upstream's zone-less `Y-m-d H:i:s` timestamps. @default UTC */
  upstreamTimezone: string;
  /** `UPSTREAM_TIMEOUT_MS`: total deadline of one upstream request. @default 20000 */
  upstreamTimeoutMs: number;
  /** `UPSTREAM_ATTEMPT_TIMEOUT_MS`: deadline of one attempt. @default 8000 */
  upstreamAttemptTimeoutMs: number;
  /** `UPSTREAM_CONNECT_TIMEOUT_MS`: TCP/TLS connect timeout. @default 3000 */
  upstreamConnectTimeoutMs: number;
  /** `UPSTREAM_MAX_RETRIES`: retries of a failed GET (connection errors, 502/503/504, 429). @default 2 */
  upstreamMaxRetries: number;
  /** `UPSTREAM_CONCURRENCY`: upstream requests in flight, all API keys together. @default 64 */
  upstreamConcurrency: number;
  /** `UPSTREAM_CONCURRENCY_PER_KEY`: upstream requests in flight for one API key. @default 8 */
  upstreamConcurrencyPerKey: number;
  /** `UPSTREAM_QUEUE_TIMEOUT_MS`: how long a request may wait for a free slot. @default 2000 */
  upstreamQueueTimeoutMs: number;
  /** `UPSTREAM_BREAKER_OPEN_MS`: how long the circuit stays open before one probe. @default 15000 */
  upstreamBreakerOpenMs: number;
  /** `UPSTREAM_COALESCE`: identical upstream requests in flight from one API key are made once. @default true */
  upstreamCoalesce: boolean;
  /** `UPSTREAM_CONNECTIONS`: sockets to the upstream origin. @default 32 */
  upstreamConnections: number;
  /** `UPSTREAM_MAX_RESPONSE_BYTES`: larger upstream bodies are refused. @default 5242880 */
  upstreamMaxResponseBytes: number;
  /**
   * `UPSTREAM_RATE_LIMITS`: each API key's upstream budget, windows that all apply at once
   * (upstream-contract §5.3). @default 100/60s,20/10s
   */
  upstreamRateLimits: RateWindow[];
  /** `UPSTREAM_CACHE_TTL_MS`: how long upstream answers are served from memory, per key; 0 turns the cache off. @default 5000 */
  upstreamCacheTtlMs: number;
  /** `UPSTREAM_CACHE_MAX_BYTES`: upstream body bytes the page cache keeps at most. @default 16777216 */
  upstreamCacheMaxBytes: number;
  /** `UPSTREAM_DEBUG_EXTENSION`: add `extensions.upstream` (requests, cache hits, queue wait) to responses; never in production. @default false */
  upstreamDebugExtension: boolean;
  /** `PAGE_SIZE_DEFAULT`: page size when neither `first` nor `last` is given. @default 20 */
  pageSizeDefault: number;
  /** `PAGE_SIZE_MAX`: largest `first`/`last`. @default 100 */
  pageSizeMax: number;
  /** `DRIFT_SEARCH_ROWS`: rows searched on each side when a cursor's call moved. @default 200 */
  driftSearchRows: number;
  /** `STATS_MAX_CALLS`: calls `callStats` reads at most; beyond that it says `complete: false`. @default 10000 */
  statsMaxCalls: number;
  /** `STATS_TTL_MS`: identical `callStats` of the same caller within this time reuse the result. @default 10000 */
  statsTtlMs: number;
  /** `CALL_LOOKUP_CONCURRENCY`: `GET /user/calls/{id}` in flight at once per operation. @default 8 */
  callConcurrency: number;
  /**
   * `CURSOR_SECRET`: signs cursors; set it (same value on every replica) so cursors cannot be forged. Required
   * with 32+ characters in production (issue 11 item 9). @default a built-in value outside production
   */
  cursorSecret: string;
  /** `CORS_ORIGINS`: comma-separated allowed origins, or `*`. @default `*` outside production, none in production */
  corsOrigins: string[] | '*';
  /** `GRAPHIQL`: serve GraphiQL on GET /graphql. @default true outside production */
  graphiql: boolean;
  /** `UPSTREAM_API_KEY`: single-tenant mode; this key is used upstream instead of the callers'. @default null */
  upstreamApiKey: string | null;
  /** `GATEWAY_API_KEYS`: comma-separated keys callers must present in single-tenant mode. */
  gatewayApiKeys: string[];
  /** `ALLOW_ANONYMOUS`: in single-tenant mode, serve callers without credentials with the server's key. @default false */
  allowAnonymous: boolean;
  /** `INTROSPECTION`: answer introspection queries; off also hides "Did you mean" suggestions. @default true outside production */
  introspection: boolean;
  /**
   * `TRUSTED_DOCUMENTS`: path of a persisted-documents manifest (hash -> document, as GraphQL Code
   * Generator writes it); when set, /graphql executes only those documents. @default null
   */
  trustedDocuments: Record<string, string> | null;
  /** `GRAPHQL_JIT`: execute public operations with graphql-jit (compiled per document). @default true */
  graphqlJit: boolean;
  /** `CSRF_PREVENTION`: GET and non-JSON requests need an `X-GraphQL-Yoga-CSRF` header. @default true */
  csrfPrevention: boolean;
  /** Request and document limits (`MAX_REQUEST_BYTES`, `MAX_QUERY_*`, `MAX_ROOT_FIELDS`). */
  limits: QueryLimits;
  /** `SUBGRAPH_ENABLED`: serve the Federation 2 subgraph endpoint. @default true */
  subgraphEnabled: boolean;
  /** `SUBGRAPH_PATH`: where routers reach the subgraph. @default /subgraph */
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
  /**
   * `METRICS`: collect Prometheus metrics and serve them at /metrics, where `metricsPort` and `metricsToken` say
   * (see metricsPlacement in metrics.ts). @default true
   */
  metrics: boolean;
  /** `METRICS_PORT`: serve /metrics on this port of HOST instead of the main port (issue 11 item 11). @default null */
  metricsPort: number | null;
  /** `METRICS_TOKEN`: /metrics then requires `Authorization: Bearer <token>` (16+ characters). @default null */
  metricsToken: string | null;
  /** `LOG_LEVEL`: pino level. @default info */
  logLevel: string;
  /** `NODE_ENV` is `production`. */
  production: boolean;
  /** `SIMULATOR_RATE_LIMITS`: the demo simulator's per-key limits, e.g. `100/60s,20/10s`; `off` is false. */
  simulatorRateLimits: string | false;
  /**
   * `REDIS_URL`: share budgets, the page cache, pauses, pollers and event logs between replicas and workers
   * through this Redis (`redis://host:port/db`); unset keeps everything in the process. @default null
   */
  redisUrl: string | null;
  /** `LIVE_POLL_INTERVAL_MS`: how often the one poller of a key with subscribers reads the list's head. @default 5000 */
  livePollIntervalMs: number;
  /**
   * `WEBHOOK_KEYS` (`<secret>:<api key>` pairs, comma-separated; secrets of 16+ characters), or in single-tenant
   * mode `WEBHOOK_SECRET` mapped to `UPSTREAM_API_KEY`: which key a webhook at `/webhooks/calls/<secret>` reads with.
   */
  webhookKeys: Map<string, string>;
}

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { QueryLimits } from './protections.js';
import { DOCUMENTED_RATE_LIMITS, parseRateLimits, type RateWindow } from './upstream/budget.js';
import { DEFAULT_RATE_LIMITS, parseRateLimits as parseSimulatorRateLimits } from './simulator/throttle.js';

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

/** Shortest `CURSOR_SECRET` production accepts (clarifications, "Production secrets"). */
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
    throw new ConfigError('TRUSTED_DOCUMENTS', `cannot read a JSON manifest at "${path}" (${(error as Error).message})`);
  }
  const entries = manifest && typeof manifest === 'object' ? Object.entries(manifest) : [];
  if (entries.length === 0 || entries.some(([key, value]) => typeof value !== 'string' || !/^[\w:.-]{8,128}$/.test(key))) {
    throw new ConfigError('TRUSTED_DOCUMENTS', 'must be a JSON object of hash -> GraphQL document, with at least one entry');
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** `UPSTREAM_RATE_LIMITS` (clarifications, "Upstream budget"). */
function upstreamRateLimits(env: Env): RateWindow[] {
  const raw = env.UPSTREAM_RATE_LIMITS?.trim() || DOCUMENTED_RATE_LIMITS;
  try {
    return parseRateLimits(raw);
  } catch (error) {
    throw new ConfigError('UPSTREAM_RATE_LIMITS', `${(error as Error).message}; e.g. ${DOCUMENTED_RATE_LIMITS}`);
  }
}

/** `SIMULATOR_RATE_LIMITS`, checked with the simulator's own parser; `off` turns the limits off. */
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
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError('REDIS_URL', 'must use redis:// or rediss://');
  return raw;
}

/**
 * `WEBHOOK_KEYS` and `WEBHOOK_SECRET` (clarifications, "Live updates contract"): secret -> API key. A secret is
 * the only thing that authenticates a webhook (the platform does not sign them), so it must be long.
 */
function webhookKeys(env: Env, upstreamApiKey: string | null): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of (env.WEBHOOK_KEYS ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const colon = pair.indexOf(':');
    const secret = colon > 0 ? pair.slice(0, colon) : '';
    const key = colon > 0 ? pair.slice(colon + 1) : '';
    if (!/^[A-Za-z0-9_-]{16,256}$/.test(secret) || key === '') {
      throw new ConfigError('WEBHOOK_KEYS', 'must be comma-separated <secret>:<api key> pairs, each secret 16+ letters, digits, _ or -');
    }
    keys.set(secret, key);
  }
  const single = env.WEBHOOK_SECRET?.trim() || null;
  if (single !== null) {
    if (upstreamApiKey === null) throw new ConfigError('WEBHOOK_SECRET', 'only applies with UPSTREAM_API_KEY (single-tenant mode); use WEBHOOK_KEYS');
    if (!/^[A-Za-z0-9_-]{16,256}$/.test(single)) throw new ConfigError('WEBHOOK_SECRET', 'must be 16+ letters, digits, _ or -');
    keys.set(single, upstreamApiKey);
  }
  return keys;
}

function simulatorRateLimits(env: Env): string | false {
  const raw = env.SIMULATOR_RATE_LIMITS?.trim() || DEFAULT_RATE_LIMITS;
  try {
    return parseSimulatorRateLimits(raw).length === 0 ? false : raw;
  } catch (error) {
    throw new ConfigError('SIMULATOR_RATE_LIMITS', `${(error as Error).message}, or "off"`);
  }
}

/**
 * What production refuses to start without (issue 11 items 9 and 10; clarifications, "Production secrets"):
 * a cursor secret nobody else knows, long enough not to be guessed, and no open subgraph endpoint, which
 * would answer `_service { sdl }` (the whole schema) to anyone even with introspection off. The messages
 * never echo a secret, only its length.
 */
function productionSecrets(env: Env, subgraphEnabled: boolean, subgraphSecret: string | null): void {
  const cursorSecret = env.CURSOR_SECRET ?? '';
  const how =
    `at least ${MIN_PRODUCTION_CURSOR_SECRET} random characters, the same on every replica (e.g. openssl rand -hex 32)`;
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
  const production = env.NODE_ENV === 'production';
  const upstreamBaseUrl = env.UPSTREAM_BASE_URL?.trim() || null;
  if (upstreamBaseUrl !== null) {
    let url: URL;
    try {
      url = new URL(upstreamBaseUrl);
    } catch {
      throw new ConfigError('UPSTREAM_BASE_URL', 'is not a URL (expected e.g. https://app.famulor.de/api)');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('UPSTREAM_BASE_URL', 'must use http or https');
    if (url.search || url.hash || url.username || url.password) {
      throw new ConfigError('UPSTREAM_BASE_URL', 'must not carry a query, fragment or credentials');
    }
  }
  const upstreamTimezone = env.UPSTREAM_TIMEZONE?.trim() || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: upstreamTimezone });
  } catch {
    throw new ConfigError('UPSTREAM_TIMEZONE', `is not an IANA time zone (e.g. UTC, Europe/Berlin), got "${upstreamTimezone}"`);
  }
  const pageSizeMax = integer(env, 'PAGE_SIZE_MAX', 100, 1, 1000);
  const pageSizeDefault = integer(env, 'PAGE_SIZE_DEFAULT', 20, 1, 1000);
  if (pageSizeDefault > pageSizeMax) throw new ConfigError('PAGE_SIZE_DEFAULT', `must not exceed PAGE_SIZE_MAX (${pageSizeMax})`);
  const origins = env.CORS_ORIGINS?.trim();
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }
  const upstreamApiKey = env.UPSTREAM_API_KEY?.trim() || null;
  const gatewayApiKeys = (env.GATEWAY_API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  const allowAnonymous = flag(env, 'ALLOW_ANONYMOUS', false);
  if (upstreamApiKey !== null && gatewayApiKeys.length === 0 && !allowAnonymous) {
    throw new ConfigError('GATEWAY_API_KEYS', 'is required with UPSTREAM_API_KEY (or set ALLOW_ANONYMOUS=true to serve anyone with the server key)');
  }
  if (upstreamApiKey === null && (gatewayApiKeys.length > 0 || allowAnonymous)) {
    throw new ConfigError(gatewayApiKeys.length > 0 ? 'GATEWAY_API_KEYS' : 'ALLOW_ANONYMOUS', 'only applies with UPSTREAM_API_KEY (single-tenant mode)');
  }
  if (gatewayApiKeys.some((k) => k.length < 16)) throw new ConfigError('GATEWAY_API_KEYS', 'each key must be at least 16 characters');
  const subgraphPath = env.SUBGRAPH_PATH?.trim() || '/subgraph';
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(subgraphPath) || subgraphPath === '/graphql' || subgraphPath === '/health') {
    throw new ConfigError('SUBGRAPH_PATH', `must be a path such as /subgraph, other than /graphql and /health; got "${subgraphPath}"`);
  }
  const subgraphSecret = env.SUBGRAPH_SECRET || null;
  const nodeTypeList = (env.SUBGRAPH_NODE_TYPES ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const subgraphNodeTypes = [...new Set(nodeTypeList)];
  const badNodeType = subgraphNodeTypes.find((t) => !/^[A-Z_a-z]\w*$/.test(t) || t.startsWith('__'));
  if (badNodeType !== undefined) {
    throw new ConfigError('SUBGRAPH_NODE_TYPES', `"${badNodeType}" is not a GraphQL type name`);
  }
  if (subgraphSecret !== null && subgraphSecret.length < 16) throw new ConfigError('SUBGRAPH_SECRET', 'must be at least 16 characters');
  const workers = env.WORKERS?.trim() === 'auto' ? availableParallelism() : integer(env, 'WORKERS', 1, 1, 64);
  const upstreamDebugExtension = flag(env, 'UPSTREAM_DEBUG_EXTENSION', false);
  if (upstreamDebugExtension && production) {
    throw new ConfigError('UPSTREAM_DEBUG_EXTENSION', 'is for development only; it must be off with NODE_ENV=production');
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
    workers,
    host: env.HOST?.trim() || '127.0.0.1',
    upstreamBaseUrl,
    upstreamTimezone,
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', 20_000, 100, 300_000),
    upstreamAttemptTimeoutMs: integer(env, 'UPSTREAM_ATTEMPT_TIMEOUT_MS', 8_000, 100, 300_000),
    upstreamConnectTimeoutMs: integer(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', 3_000, 100, 60_000),
    upstreamMaxRetries: integer(env, 'UPSTREAM_MAX_RETRIES', 2, 0, 5),
    upstreamConcurrency: integer(env, 'UPSTREAM_CONCURRENCY', 64, 1, 4096),
    upstreamConcurrencyPerKey: integer(env, 'UPSTREAM_CONCURRENCY_PER_KEY', 8, 1, 1024),
    upstreamQueueTimeoutMs: integer(env, 'UPSTREAM_QUEUE_TIMEOUT_MS', 2_000, 0, 60_000),
    upstreamBreakerOpenMs: integer(env, 'UPSTREAM_BREAKER_OPEN_MS', 15_000, 100, 600_000),
    upstreamCoalesce: flag(env, 'UPSTREAM_COALESCE', true),
    upstreamConnections: integer(env, 'UPSTREAM_CONNECTIONS', 32, 1, 1024),
    upstreamMaxResponseBytes: integer(env, 'UPSTREAM_MAX_RESPONSE_BYTES', 5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    upstreamRateLimits: upstreamRateLimits(env),
    upstreamCacheTtlMs: integer(env, 'UPSTREAM_CACHE_TTL_MS', 5_000, 0, 3_600_000),
    upstreamCacheMaxBytes: integer(env, 'UPSTREAM_CACHE_MAX_BYTES', 16 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    upstreamDebugExtension,
    pageSizeDefault,
    pageSizeMax,
    callConcurrency: integer(env, 'CALL_LOOKUP_CONCURRENCY', 8, 1, 100),
    driftSearchRows: integer(env, 'DRIFT_SEARCH_ROWS', 200, 0, 1_000),
    statsMaxCalls: integer(env, 'STATS_MAX_CALLS', 10_000, 100, 100_000),
    statsTtlMs: integer(env, 'STATS_TTL_MS', 10_000, 0, 600_000),
    cursorSecret: env.CURSOR_SECRET || DEFAULT_CURSOR_SECRET,
    corsOrigins: origins ? (origins === '*' ? '*' : origins.split(',').map((o) => o.trim()).filter(Boolean)) : production ? [] : '*',
    graphiql: flag(env, 'GRAPHIQL', !production),
    upstreamApiKey,
    gatewayApiKeys,
    allowAnonymous,
    introspection: flag(env, 'INTROSPECTION', !production),
    trustedDocuments: readTrustedDocuments(env.TRUSTED_DOCUMENTS?.trim() || null),
    graphqlJit: flag(env, 'GRAPHQL_JIT', true),
    csrfPrevention: flag(env, 'CSRF_PREVENTION', true),
    limits: {
      maxRequestBytes: integer(env, 'MAX_REQUEST_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
      maxQueryLength: integer(env, 'MAX_QUERY_LENGTH', 15_000, 100, 1_000_000),
      maxTokens: integer(env, 'MAX_QUERY_TOKENS', 1_000, 50, 100_000),
      maxDepth: integer(env, 'MAX_QUERY_DEPTH', 6, 2, 50),
      maxAliases: integer(env, 'MAX_QUERY_ALIASES', 10, 0, 1_000),
      maxDirectives: integer(env, 'MAX_QUERY_DIRECTIVES', 10, 0, 1_000),
      maxRootFields: integer(env, 'MAX_ROOT_FIELDS', 5, 1, 100),
      maxCost: integer(env, 'MAX_QUERY_COST', 5_000, 1, 10_000_000),
      maxLookupIds: integer(env, 'MAX_LOOKUP_IDS', 100, 1, 10_000),
    },
    subgraphEnabled,
    subgraphPath,
    subgraphSecret,
    subgraphNodeTypes,
    metrics: flag(env, 'METRICS', true),
    metricsPort,
    metricsToken,
    logLevel,
    production,
    simulatorRateLimits: simulatorRateLimits(env),
    redisUrl: redisUrl(env),
    livePollIntervalMs: integer(env, 'LIVE_POLL_INTERVAL_MS', 5_000, 500, 600_000),
    webhookKeys: webhookKeys(env, upstreamApiKey),
  };
}
