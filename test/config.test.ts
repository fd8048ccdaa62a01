import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CURSOR_SECRET, loadConfig } from '../src/config.js';

/** What production needs to start at all (../shared/docs/clarifications.md, "Production secrets"). */
const PRODUCTION = { NODE_ENV: 'production', CURSOR_SECRET: 'c'.repeat(32), SUBGRAPH_ENABLED: 'false' };

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      workers: 1,
      production: false,
      logLevel: 'info',
      upstreamBaseUrl: null,
      upstreamTimezone: 'UTC',
      upstreamTimeoutMs: 20_000,
      upstreamApiKey: null,
      gatewayApiKeys: [],
      allowAnonymous: false,
      upstreamRateLimits: [
        { limit: 20, windowMs: 10_000 },
        { limit: 100, windowMs: 60_000 },
      ],
      upstreamConcurrencyPerKey: 8,
      upstreamQueueTimeoutMs: 2_000,
      upstreamCacheTtlMs: 5_000,
      upstreamCacheMaxBytes: 16_777_216,
      upstreamCoalesce: true,
      pageSizeMax: 100,
      pageSizeDefault: 20,
      statsMaxCalls: 10_000,
      statsTtlMs: 10_000,
      driftSearchRows: 200,
      callConcurrency: 8,
      cursorSecret: DEFAULT_CURSOR_SECRET,
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
      corsOrigins: '*',
      csrfPrevention: true,
      graphiql: true,
      introspection: true,
      trustedDocuments: null,
      graphqlJit: true,
      upstreamDebugExtension: false,
      subgraphEnabled: true,
      subgraphPath: '/subgraph',
      subgraphSecret: null,
      subgraphNodeTypes: [],
      metrics: true,
      metricsPort: null,
      metricsToken: null,
      redisUrl: null,
      livePollIntervalMs: 5_000,
      webhookKeys: new Map(),
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
        HOST: '0.0.0.0',
        WORKERS: '3',
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        UPSTREAM_BASE_URL: 'https://app.famulor.de/api/',
        UPSTREAM_TIMEZONE: 'Europe/Berlin',
        UPSTREAM_TIMEOUT_MS: '5000',
        UPSTREAM_API_KEY: 'server-key',
        GATEWAY_API_KEYS: 'frontend-key-0123456789, backoffice-key-0123456789',
        ALLOW_ANONYMOUS: 'true',
        UPSTREAM_RATE_LIMITS: '60/60s, 10/10s, 1000/3600s',
        UPSTREAM_CONCURRENCY_PER_KEY: '4',
        UPSTREAM_QUEUE_TIMEOUT_MS: '500',
        UPSTREAM_CACHE_TTL_MS: '0',
        UPSTREAM_CACHE_MAX_BYTES: '1048576',
        PAGE_SIZE_MAX: '15',
        STATS_MAX_CALLS: '2000',
        CURSOR_SECRET: 's3cret-s3cret-s3cret-s3cret-s3cret',
        MAX_QUERY_COST: '2000',
        MAX_LOOKUP_IDS: '20',
        CORS_ORIGINS: 'https://a.example,https://b.example:8443',
        CSRF_PREVENTION: 'false',
        GRAPHIQL: 'false',
        INTROSPECTION: 'false',
        GRAPHQL_JIT: 'false',
        SUBGRAPH_ENABLED: 'off',
        SUBGRAPH_SECRET: 'router-only-0123456789',
        SUBGRAPH_NODE_TYPES: 'Note,Contact',
        METRICS_PORT: '9464',
        METRICS_TOKEN: 'scraper-token-0123456789',
        REDIS_URL: 'redis://cache.internal:6379/2',
        LIVE_POLL_INTERVAL_MS: '2000',
        WEBHOOK_SECRET: 'hook-secret-0123456789',
      }),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      workers: 3,
      production: true,
      logLevel: 'warn',
      upstreamBaseUrl: 'https://app.famulor.de/api/',
      upstreamTimezone: 'Europe/Berlin',
      upstreamTimeoutMs: 5000,
      upstreamApiKey: 'server-key',
      gatewayApiKeys: ['frontend-key-0123456789', 'backoffice-key-0123456789'],
      allowAnonymous: true,
      upstreamRateLimits: [
        { limit: 10, windowMs: 10_000 },
        { limit: 60, windowMs: 60_000 },
        { limit: 1000, windowMs: 3_600_000 },
      ],
      upstreamConcurrencyPerKey: 4,
      upstreamQueueTimeoutMs: 500,
      upstreamCacheTtlMs: 0,
      upstreamCacheMaxBytes: 1_048_576,
      upstreamCoalesce: true,
      pageSizeMax: 15,
      // The fixed default page size, capped by a smaller PAGE_SIZE_MAX.
      pageSizeDefault: 15,
      statsMaxCalls: 2000,
      statsTtlMs: 10_000,
      driftSearchRows: 200,
      callConcurrency: 8,
      cursorSecret: 's3cret-s3cret-s3cret-s3cret-s3cret',
      limits: {
        maxRequestBytes: 262_144,
        maxQueryLength: 15_000,
        maxTokens: 1_000,
        maxDepth: 6,
        maxAliases: 10,
        maxDirectives: 10,
        maxRootFields: 5,
        maxCost: 2_000,
        maxLookupIds: 20,
      },
      corsOrigins: ['https://a.example', 'https://b.example:8443'],
      csrfPrevention: false,
      graphiql: false,
      introspection: false,
      trustedDocuments: null,
      graphqlJit: false,
      upstreamDebugExtension: false,
      subgraphEnabled: false,
      subgraphPath: '/subgraph',
      subgraphSecret: 'router-only-0123456789',
      subgraphNodeTypes: ['Note', 'Contact'],
      metrics: true,
      metricsPort: 9464,
      metricsToken: 'scraper-token-0123456789',
      redisUrl: 'redis://cache.internal:6379/2',
      livePollIntervalMs: 2_000,
      webhookKeys: new Map([['hook-secret-0123456789', 'server-key']]),
    });
  });

  it('reads no variable for the fixed settings (upstream-policy.ts and FIXED in config.ts)', () => {
    const removed = {
      UPSTREAM_ATTEMPT_TIMEOUT_MS: '1',
      UPSTREAM_CONNECT_TIMEOUT_MS: '1',
      UPSTREAM_MAX_RETRIES: '9',
      UPSTREAM_CONCURRENCY: '1',
      UPSTREAM_BREAKER_OPEN_MS: '1',
      UPSTREAM_COALESCE: 'false',
      UPSTREAM_CONNECTIONS: '1',
      UPSTREAM_MAX_RESPONSE_BYTES: '1',
      PAGE_SIZE_DEFAULT: '1',
      DRIFT_SEARCH_ROWS: '1',
      STATS_TTL_MS: '1',
      CALL_LOOKUP_CONCURRENCY: '1',
      SUBGRAPH_PATH: '/elsewhere',
      METRICS: 'false',
      SIMULATOR_RATE_LIMITS: 'off',
      MAX_REQUEST_BYTES: '1',
      MAX_QUERY_LENGTH: '1',
      MAX_QUERY_TOKENS: '1',
      MAX_QUERY_DEPTH: '1',
      MAX_QUERY_ALIASES: '1',
      MAX_QUERY_DIRECTIVES: '1',
      MAX_ROOT_FIELDS: '1',
    };
    expect(loadConfig(removed)).toEqual(loadConfig({}));
  });

  it('production turns GraphiQL off and allows no CORS origin unless configured', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({ graphiql: false, introspection: false, corsOrigins: [] });
    expect(loadConfig({ ...PRODUCTION, INTROSPECTION: 'true' })).toMatchObject({ introspection: true });
  });

  describe('production secrets (issue 11 items 9 and 10; ../shared/docs/clarifications.md, "Production secrets")', () => {
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
    [{ UPSTREAM_API_KEY: 'server-key' }, 'GATEWAY_API_KEYS'],
    [{ GATEWAY_API_KEYS: 'frontend-key-0123456789' }, 'GATEWAY_API_KEYS'],
    [{ ALLOW_ANONYMOUS: 'true' }, 'ALLOW_ANONYMOUS'],
    [{ UPSTREAM_API_KEY: 'k', GATEWAY_API_KEYS: 'short' }, 'GATEWAY_API_KEYS'],
    [{ MAX_QUERY_COST: 'lots' }, 'MAX_QUERY_COST'],
    [{ GRAPHIQL: 'maybe' }, 'GRAPHIQL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SUBGRAPH_SECRET: 'short' }, 'SUBGRAPH_SECRET'],
    [{ SUBGRAPH_ENABLED: 'sometimes' }, 'SUBGRAPH_ENABLED'],
    [{ UPSTREAM_RATE_LIMITS: '100 per minute' }, 'UPSTREAM_RATE_LIMITS'],
    [{ UPSTREAM_RATE_LIMITS: '0/60s' }, 'UPSTREAM_RATE_LIMITS'],
    [{ UPSTREAM_CACHE_TTL_MS: '-5' }, 'UPSTREAM_CACHE_TTL_MS'],
    [{ UPSTREAM_CACHE_MAX_BYTES: '10' }, 'UPSTREAM_CACHE_MAX_BYTES'],
    [{ UPSTREAM_DEBUG_EXTENSION: 'true', NODE_ENV: 'production' }, 'UPSTREAM_DEBUG_EXTENSION'],
    [{ MAX_LOOKUP_IDS: '0' }, 'MAX_LOOKUP_IDS'],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV'],
    [{ HOST: 'http://0.0.0.0' }, 'HOST'],
    [{ HOST: 'local host' }, 'HOST'],
    [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com/' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com,*' }, 'CORS_ORIGINS'],
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
