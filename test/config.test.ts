import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CURSOR_SECRET, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
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
      upstreamConnections: 32,
      upstreamMaxResponseBytes: 5_242_880,
      pageSizeDefault: 20,
      pageSizeMax: 100,
      callConcurrency: 8,
      cursorSecret: DEFAULT_CURSOR_SECRET,
      corsOrigins: '*',
      graphiql: true,
      subgraphEnabled: true,
      subgraphPath: '/subgraph',
      subgraphSecret: null,
      logLevel: 'info',
      production: false,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
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
        UPSTREAM_CONNECTIONS: '8',
        UPSTREAM_MAX_RESPONSE_BYTES: '1048576',
        PAGE_SIZE_DEFAULT: '15',
        PAGE_SIZE_MAX: '50',
        CALL_LOOKUP_CONCURRENCY: '4',
        CURSOR_SECRET: 's3cret',
        CORS_ORIGINS: 'https://a.example,https://b.example',
        GRAPHIQL: 'false',
        SUBGRAPH_ENABLED: 'off',
        SUBGRAPH_PATH: '/federation',
        SUBGRAPH_SECRET: 'router-only-0123456789',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      }),
    ).toEqual({
      port: 8080,
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
      upstreamConnections: 8,
      upstreamMaxResponseBytes: 1_048_576,
      pageSizeDefault: 15,
      pageSizeMax: 50,
      callConcurrency: 4,
      cursorSecret: 's3cret',
      corsOrigins: ['https://a.example', 'https://b.example'],
      graphiql: false,
      subgraphEnabled: false,
      subgraphPath: '/federation',
      subgraphSecret: 'router-only-0123456789',
      logLevel: 'warn',
      production: true,
    });
  });

  it('production turns GraphiQL off and allows no CORS origin unless configured', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ graphiql: false, corsOrigins: [] });
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
    [{ PAGE_SIZE_DEFAULT: '50', PAGE_SIZE_MAX: '20' }, 'PAGE_SIZE_DEFAULT'],
    [{ GRAPHIQL: 'maybe' }, 'GRAPHIQL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SUBGRAPH_PATH: 'subgraph' }, 'SUBGRAPH_PATH'],
    [{ SUBGRAPH_PATH: '/graphql' }, 'SUBGRAPH_PATH'],
    [{ SUBGRAPH_SECRET: 'short' }, 'SUBGRAPH_SECRET'],
    [{ SUBGRAPH_ENABLED: 'sometimes' }, 'SUBGRAPH_ENABLED'],
  ])('%o is refused, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});
