import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CURSOR_SECRET, loadConfig } from '../src/config.js';

/** What production needs to start at all (clarifications, "Production secrets"). */
const PRODUCTION = { NODE_ENV: 'production', CURSOR_SECRET: 'c'.repeat(32), SUBGRAPH_ENABLED: 'false' };

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      workers: 1,
      host: '127.0.0.1',
      upstreamBaseUrl: null,
      upstreamTimezone: 'UTC',
      upstreamTimeoutMs: 20_000,
      upstreamAttemptTimeoutMs: 8_000,
      upstreamConnectTimeoutMs: 3_000,
      upstreamMaxRetries: 2,
      upstreamConcurrency: 64,
      upstreamConcurrencyPerKey: 8,
      upstreamQueueTimeoutMs: 2_000,
      upstreamBreakerOpenMs: 15_000,
      upstreamCoalesce: true,
      upstreamConnections: 32,
      upstreamMaxResponseBytes: 5_242_880,
      upstreamRateLimits: [
        { limit: 20, windowMs: 10_000 },
        { limit: 100, windowMs: 60_000 },
      ],
      upstreamCacheTtlMs: 5_000,
      upstreamCacheMaxBytes: 16_777_216,
      upstreamDebugExtension: false,
      pageSizeDefault: 20,
      pageSizeMax: 100,
      callConcurrency: 8,
      driftSearchRows: 200,
      statsMaxCalls: 10_000,
      statsTtlMs: 10_000,
      cursorSecret: DEFAULT_CURSOR_SECRET,
      corsOrigins: '*',
      graphiql: true,
      upstreamApiKey: null,
      gatewayApiKeys: [],
      allowAnonymous: false,
      introspection: true,
      trustedDocuments: null,
      graphqlJit: true,
      csrfPrevention: true,
      limits: {
        maxRequestBytes: 262_144,
        maxQueryLength: 15_000,
        maxTokens: 1_000,
        maxDepth: 6,
        maxAliases: 10,
        maxDirectives: 10,
        maxRootFields: 5,
        maxCost: 5_000,
        maxLookupIds: 100,
      },
      subgraphEnabled: true,
      subgraphPath: '/subgraph',
      subgraphSecret: null,
      subgraphNodeTypes: [],
      metrics: true,
      metricsPort: null,
      metricsToken: null,
      logLevel: 'info',
      production: false,
      simulatorRateLimits: '100/60s,20/10s',
      redisUrl: null,
      livePollIntervalMs: 5_000,
      webhookKeys: new Map(),
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
        WORKERS: '3',
        HOST: '0.0.0.0',
        UPSTREAM_BASE_URL: 'https://app.famulor.de/api/',
        UPSTREAM_TIMEZONE: 'Europe/Berlin',
        UPSTREAM_TIMEOUT_MS: '5000',
        UPSTREAM_ATTEMPT_TIMEOUT_MS: '2000',
        UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
        UPSTREAM_MAX_RETRIES: '3',
        UPSTREAM_CONCURRENCY: '16',
        UPSTREAM_CONCURRENCY_PER_KEY: '4',
        UPSTREAM_QUEUE_TIMEOUT_MS: '500',
        UPSTREAM_BREAKER_OPEN_MS: '5000',
        UPSTREAM_COALESCE: 'false',
        UPSTREAM_CONNECTIONS: '8',
        UPSTREAM_MAX_RESPONSE_BYTES: '1048576',
        UPSTREAM_RATE_LIMITS: '60/60s, 10/10s, 1000/3600s',
        UPSTREAM_CACHE_TTL_MS: '0',
        UPSTREAM_CACHE_MAX_BYTES: '1048576',
        PAGE_SIZE_DEFAULT: '15',
        PAGE_SIZE_MAX: '50',
        CALL_LOOKUP_CONCURRENCY: '4',
        DRIFT_SEARCH_ROWS: '50',
        STATS_MAX_CALLS: '2000',
        STATS_TTL_MS: '0',
        CURSOR_SECRET: 's3cret-s3cret-s3cret-s3cret-s3cret',
        CORS_ORIGINS: 'https://a.example,https://b.example',
        GRAPHIQL: 'false',
        UPSTREAM_API_KEY: 'server-key',
        GATEWAY_API_KEYS: 'frontend-key-0123456789, backoffice-key-0123456789',
        ALLOW_ANONYMOUS: 'true',
        INTROSPECTION: 'false',
        GRAPHQL_JIT: 'false',
        CSRF_PREVENTION: 'false',
        MAX_REQUEST_BYTES: '65536',
        MAX_QUERY_LENGTH: '5000',
        MAX_QUERY_TOKENS: '500',
        MAX_QUERY_DEPTH: '8',
        MAX_QUERY_ALIASES: '4',
        MAX_QUERY_DIRECTIVES: '3',
        MAX_ROOT_FIELDS: '2',
        MAX_QUERY_COST: '2000',
        MAX_LOOKUP_IDS: '20',
        SUBGRAPH_ENABLED: 'off',
        SUBGRAPH_PATH: '/federation',
        SUBGRAPH_SECRET: 'router-only-0123456789',
        SUBGRAPH_NODE_TYPES: 'Note,Contact',
        METRICS: 'false',
        METRICS_PORT: '9464',
        METRICS_TOKEN: 'scraper-token-0123456789',
        LOG_LEVEL: 'warn',
        SIMULATOR_RATE_LIMITS: 'off',
        REDIS_URL: 'redis://cache.internal:6379/2',
        LIVE_POLL_INTERVAL_MS: '2000',
        WEBHOOK_SECRET: 'hook-secret-0123456789',
        NODE_ENV: 'production',
      }),
    ).toEqual({
      port: 8080,
      workers: 3,
      host: '0.0.0.0',
      upstreamBaseUrl: 'https://app.famulor.de/api/',
      upstreamTimezone: 'Europe/Berlin',
      upstreamTimeoutMs: 5000,
      upstreamAttemptTimeoutMs: 2000,
      upstreamConnectTimeoutMs: 1000,
      upstreamMaxRetries: 3,
      upstreamConcurrency: 16,
      upstreamConcurrencyPerKey: 4,
      upstreamQueueTimeoutMs: 500,
      upstreamBreakerOpenMs: 5000,
      upstreamCoalesce: false,
      upstreamConnections: 8,
      upstreamMaxResponseBytes: 1_048_576,
      upstreamRateLimits: [
        { limit: 10, windowMs: 10_000 },
        { limit: 60, windowMs: 60_000 },
        { limit: 1000, windowMs: 3_600_000 },
      ],
      upstreamCacheTtlMs: 0,
      upstreamCacheMaxBytes: 1_048_576,
      upstreamDebugExtension: false,
      pageSizeDefault: 15,
      pageSizeMax: 50,
      callConcurrency: 4,
      driftSearchRows: 50,
      statsMaxCalls: 2000,
      statsTtlMs: 0,
      cursorSecret: 's3cret-s3cret-s3cret-s3cret-s3cret',
      corsOrigins: ['https://a.example', 'https://b.example'],
      graphiql: false,
      upstreamApiKey: 'server-key',
      gatewayApiKeys: ['frontend-key-0123456789', 'backoffice-key-0123456789'],
      allowAnonymous: true,
      introspection: false,
      trustedDocuments: null,
      graphqlJit: false,
      csrfPrevention: false,
      limits: {
        maxRequestBytes: 65_536,
        maxQueryLength: 5_000,
        maxTokens: 500,
        maxDepth: 8,
        maxAliases: 4,
        maxDirectives: 3,
        maxRootFields: 2,
        maxCost: 2_000,
        maxLookupIds: 20,
      },
      subgraphEnabled: false,
      subgraphPath: '/federation',
      subgraphSecret: 'router-only-0123456789',
      subgraphNodeTypes: ['Note', 'Contact'],
      metrics: false,
      metricsPort: 9464,
      metricsToken: 'scraper-token-0123456789',
      logLevel: 'warn',
      production: true,
      simulatorRateLimits: false,
      redisUrl: 'redis://cache.internal:6379/2',
      livePollIntervalMs: 2_000,
      webhookKeys: new Map([['hook-secret-0123456789', 'server-key']]),
    });
  });

  it('production turns GraphiQL off and allows no CORS origin unless configured', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({ graphiql: false, introspection: false, corsOrigins: [] });
    expect(loadConfig({ ...PRODUCTION, INTROSPECTION: 'true' })).toMatchObject({ introspection: true });
  });

  describe('production secrets (issue 11 items 9 and 10; clarifications, "Production secrets")', () => {
    const secret32 = 'c'.repeat(32);
    const noSubgraph = { NODE_ENV: 'production', SUBGRAPH_ENABLED: 'false' };
    const builtIn = DEFAULT_CURSOR_SECRET;
    it.each([
      ['no CURSOR_SECRET', noSubgraph, 'CURSOR_SECRET', /is required/],
      ['31 characters of CURSOR_SECRET', { ...noSubgraph, CURSOR_SECRET: 'c'.repeat(31) }, 'CURSOR_SECRET', /31 char/],
      ['the built-in CURSOR_SECRET', { ...noSubgraph, CURSOR_SECRET: builtIn }, 'CURSOR_SECRET', /development/],
      ['no SUBGRAPH_SECRET', { NODE_ENV: 'production', CURSOR_SECRET: secret32 }, 'SUBGRAPH_SECRET', /ENABLED=false/],
    ])('refuses %s', (_name, env, variable, problem) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
      expect(() => loadConfig(env)).toThrow(problem);
    });

    it('never echoes the secret it refuses', () => {
      const env = { NODE_ENV: 'production', CURSOR_SECRET: 'short-secret-value' };
      expect(() => loadConfig(env)).toThrow(/^(?!.*short-secret-value)/s);
    });

    it('accepts 32 characters with SUBGRAPH_SECRET or with SUBGRAPH_ENABLED=false', () => {
      const env = { NODE_ENV: 'production', CURSOR_SECRET: secret32 };
      expect(loadConfig({ ...env, SUBGRAPH_SECRET: 'router-only-0123456789' })).toMatchObject({
        cursorSecret: secret32,
        subgraphEnabled: true,
      });
      expect(loadConfig({ ...env, SUBGRAPH_ENABLED: 'false' })).toMatchObject({ subgraphEnabled: false });
    });

    it('development keeps the built-in cursor secret and an open subgraph', () => {
      const open = { cursorSecret: DEFAULT_CURSOR_SECRET, subgraphEnabled: true, subgraphSecret: null };
      expect(loadConfig({})).toMatchObject(open);
      expect(loadConfig({ CURSOR_SECRET: 'short' })).toMatchObject({ cursorSecret: 'short' });
    });
  });

  it('reads METRICS_PORT and METRICS_TOKEN', () => {
    const token = 't'.repeat(16);
    const read = loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: token });
    expect(read).toMatchObject({ metricsPort: 9464, metricsToken: token });
    expect(loadConfig({ METRICS_PORT: '0' })).toMatchObject({ metricsPort: 0 });
    expect(loadConfig({ METRICS_PORT: ' ' })).toMatchObject({ metricsPort: null, metricsToken: null });
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ UPSTREAM_BASE_URL: 'not a url' }, 'UPSTREAM_BASE_URL'],
    [{ UPSTREAM_BASE_URL: 'ftp://x/api' }, 'UPSTREAM_BASE_URL'],
    [{ UPSTREAM_BASE_URL: 'https://user:pw@x/api' }, 'UPSTREAM_BASE_URL'],
    [{ UPSTREAM_TIMEZONE: 'Mars/Olympus' }, 'UPSTREAM_TIMEZONE'],
    [{ UPSTREAM_TIMEOUT_MS: '1.5' }, 'UPSTREAM_TIMEOUT_MS'],
    [{ PAGE_SIZE_MAX: '0' }, 'PAGE_SIZE_MAX'],
    [{ UPSTREAM_MAX_RETRIES: '9' }, 'UPSTREAM_MAX_RETRIES'],
    [{ MAX_QUERY_DEPTH: '1' }, 'MAX_QUERY_DEPTH'],
    [{ UPSTREAM_API_KEY: 'server-key' }, 'GATEWAY_API_KEYS'],
    [{ GATEWAY_API_KEYS: 'frontend-key-0123456789' }, 'GATEWAY_API_KEYS'],
    [{ ALLOW_ANONYMOUS: 'true' }, 'ALLOW_ANONYMOUS'],
    [{ UPSTREAM_API_KEY: 'k', GATEWAY_API_KEYS: 'short' }, 'GATEWAY_API_KEYS'],
    [{ MAX_QUERY_COST: 'lots' }, 'MAX_QUERY_COST'],
    [{ PAGE_SIZE_DEFAULT: '50', PAGE_SIZE_MAX: '20' }, 'PAGE_SIZE_DEFAULT'],
    [{ GRAPHIQL: 'maybe' }, 'GRAPHIQL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SUBGRAPH_PATH: 'subgraph' }, 'SUBGRAPH_PATH'],
    [{ SUBGRAPH_PATH: '/graphql' }, 'SUBGRAPH_PATH'],
    [{ SUBGRAPH_SECRET: 'short' }, 'SUBGRAPH_SECRET'],
    [{ SUBGRAPH_ENABLED: 'sometimes' }, 'SUBGRAPH_ENABLED'],
    [{ UPSTREAM_RATE_LIMITS: '100 per minute' }, 'UPSTREAM_RATE_LIMITS'],
    [{ UPSTREAM_RATE_LIMITS: '0/60s' }, 'UPSTREAM_RATE_LIMITS'],
    [{ UPSTREAM_CACHE_TTL_MS: '-5' }, 'UPSTREAM_CACHE_TTL_MS'],
    [{ UPSTREAM_CACHE_MAX_BYTES: '10' }, 'UPSTREAM_CACHE_MAX_BYTES'],
    [{ UPSTREAM_DEBUG_EXTENSION: 'true', NODE_ENV: 'production' }, 'UPSTREAM_DEBUG_EXTENSION'],
    [{ MAX_LOOKUP_IDS: '0' }, 'MAX_LOOKUP_IDS'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ LIVE_POLL_INTERVAL_MS: '100' }, 'LIVE_POLL_INTERVAL_MS'],
    [{ WEBHOOK_KEYS: 'short:key' }, 'WEBHOOK_KEYS'],
    [{ WEBHOOK_KEYS: 'hook-secret-0123456789' }, 'WEBHOOK_KEYS'],
    [{ WEBHOOK_SECRET: 'hook-secret-0123456789' }, 'WEBHOOK_SECRET'],
    [{ METRICS_PORT: '65536' }, 'METRICS_PORT'],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '4000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '9000', PORT: '9000' }, 'METRICS_PORT'],
    [{ METRICS_TOKEN: 'short-token' }, 'METRICS_TOKEN'],
  ])('%o is refused, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});
