/**
 * Production defaults and leaks (issue 11 items 9, 10, 11 and 15; ../shared/docs/clarifications.md, "Production secrets"):
 * production refuses to start without a cursor secret of its own, `/subgraph` accepts POST only, `/metrics`
 * is served only where METRICS_PORT or METRICS_TOKEN says, and the CSRF refusal carries a code. The
 * configuration table itself is in config.test.ts; here the gateway runs, in process and as `src/main.ts`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN } from '../src/simulator/data.js';
import { startSimulator } from '../src/simulator/server.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const METRICS_TOKEN = 'scraper-token-0123456789';
const PRODUCTION_ENV = { NODE_ENV: 'production', CURSOR_SECRET: 'c'.repeat(32), SUBGRAPH_ENABLED: 'false' };
const QUERY = encodeURIComponent('{ calls(first: 2) { totalCount } }');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Starts `src/main.ts` with `env` over the test process's environment; stdout and stderr are collected. */
function startMain(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return { child, output: () => output };
}

/** Waits for the "calls gateway listening" line and returns its URLs. */
async function listening(main: ReturnType<typeof startMain>): Promise<{ url: string; metricsUrl?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening: ${main.output()}`)), 20_000);
    const look = () => {
      const line = main
        .output()
        .split('\n')
        .find((l) => l.includes('"msg":"calls gateway listening"'));
      if (!line) return;
      clearTimeout(timer);
      main.child.stdout.off('data', look);
      resolve(JSON.parse(line) as { url: string; metricsUrl?: string });
    };
    main.child.stdout.on('data', look);
    main.child.once('exit', (code) => reject(new Error(`exited ${code}: ${main.output()}`)));
  });
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

const OPERATIONS = 'calls_gateway_graphql_operation_duration_seconds_count';

/** The value of one sample, e.g. `name{a="b"}`. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/** The same over a connection of its own (no keep-alive), for a cluster's round robin. */
const operationOnNewConnection = (url: string, name: string) =>
  new Promise<number | undefined>((resolve, reject) => {
    const body = JSON.stringify({ query: `query ${name} { calls(first: 1) { totalCount } }` });
    const headers = { 'content-type': 'application/json', ...bearer(DEMO_TOKEN) };
    const request = httpRequest(url, { method: 'POST', agent: false, headers });
    request.once('response', (response) => response.resume().once('end', () => resolve(response.statusCode)));
    request.once('error', reject);
    request.end(body);
  });

const operation = (url: string, name: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(DEMO_TOKEN) },
    body: JSON.stringify({ query: `query ${name} { calls(first: 1) { totalCount } }` }),
  });

describe('CURSOR_SECRET in production (item 9)', () => {
  it('src/main.ts exits 2 naming CURSOR_SECRET when production has none', async () => {
    const main = startMain({ ...PRODUCTION_ENV, CURSOR_SECRET: '', UPSTREAM_BASE_URL: '' });
    try {
      const code = await new Promise<number | null>((resolve) => {
        main.child.once('exit', resolve);
        setTimeout(() => resolve(null), 20_000).unref();
      });
      expect(code).toBe(2);
      expect(main.output()).toContain('Invalid configuration: CURSOR_SECRET: is required with NODE_ENV=production');
    } finally {
      if (main.child.exitCode === null) main.child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('/subgraph accepts POST only (item 10)', () => {
  it.each(['GET', 'PUT', 'DELETE', 'OPTIONS'])('%s gets 405, Allow: POST and METHOD_NOT_ALLOWED', async (m) => {
    gw = await startTestGateway();
    const response = await gw.gateway.fetch(`http://gw/subgraph?query=${QUERY}`, {
      method: m,
      headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...bearer(DEMO_TOKEN) },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    const body = (await response.json()) as { errors: { extensions: { code: string } }[]; data?: unknown };
    expect(body.errors[0]!.extensions.code).toBe('METHOD_NOT_ALLOWED');
    expect(body.data).toBeUndefined();
    expect(gw.upstream()).toHaveLength(0);
  });

  it('a GET gets 405 before the shared secret is looked at; a POST with the secret is served', async () => {
    gw = await startTestGateway({ config: { subgraphSecret: 'router-only-0123456789' } });
    const headers = { 'x-subgraph-secret': 'router-only-0123456789', 'x-graphql-yoga-csrf': '1' };
    const get = await gw.gateway.fetch(`http://gw/subgraph?query=${QUERY}`, { headers });
    expect(get.status).toBe(405);
    const post = await gw.query('{ calls(first: 2) { totalCount } }', undefined, {
      path: '/subgraph',
      headers: { 'x-subgraph-secret': 'router-only-0123456789' },
    });
    expect(post.body.data).toEqual({ calls: { totalCount: 2500 } });
  });
});

describe('/metrics (item 11)', () => {
  it('production serves no /metrics on the main port without METRICS_TOKEN (404, no metric text)', async () => {
    gw = await startTestGateway({ config: { production: true } });
    const response = await gw.gateway.fetch('http://gw/metrics');
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('calls_gateway_');
    expect(gw.gateway.metrics).toBeNull();
  });

  it('METRICS_TOKEN: 401 without it or with a wrong one (no metric text), 200 with the right one', async () => {
    gw = await startTestGateway({ config: { production: true, metricsToken: METRICS_TOKEN } });
    const wrong = [
      {},
      bearer('scraper-token-0123456788'),
      bearer(`${METRICS_TOKEN}x`),
      { authorization: METRICS_TOKEN },
    ];
    for (const headers of wrong) {
      const refused = await gw.gateway.fetch('http://gw/metrics', { headers });
      expect(refused.status).toBe(401);
      const text = await refused.text();
      expect(text).not.toContain('calls_gateway_');
      expect(JSON.parse(text)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    const ok = await gw.gateway.fetch('http://gw/metrics', { headers: bearer(METRICS_TOKEN) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('calls_gateway_graphql_operation_duration_seconds');
    expect(gw.logs.join('')).not.toContain(METRICS_TOKEN);
  });

  it('development keeps /metrics open on the main port', async () => {
    gw = await startTestGateway();
    expect((await gw.gateway.fetch('http://gw/metrics')).status).toBe(200);
  });

  it('METRICS_PORT moves /metrics to its own listener (gateway.metrics.handle); the main port says 404', async () => {
    gw = await startTestGateway({ config: { metricsPort: 0, metricsToken: METRICS_TOKEN } });
    expect((await gw.gateway.fetch('http://gw/metrics', { headers: bearer(METRICS_TOKEN) })).status).toBe(404);
    const server = createServer(gw.gateway.metrics!.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const ok = await fetch(`${base}/metrics`, { headers: bearer(METRICS_TOKEN) });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('calls_gateway_upstream_circuit_state 0');
      expect((await fetch(`${base}/graphql`, { headers: bearer(METRICS_TOKEN) })).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('src/main.ts in production serves METRICS_PORT on a listener of its own, not the main port; SIGTERM', async () => {
    const simulator = await startSimulator();
    const main = startMain({
      ...PRODUCTION_ENV,
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      UPSTREAM_BASE_URL: simulator.url,
      LOG_LEVEL: 'info',
    });
    try {
      const { url, metricsUrl } = await listening(main);
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await operation(url, 'Scraped')).status).toBe(200);
      expect((await fetch(url.replace(/graphql$/, 'metrics'))).status).toBe(404);
      const scraped = await fetch(metricsUrl!);
      expect(scraped.status).toBe(200);
      expect(sample(await scraped.text(), `${OPERATIONS}{operation="Scraped",result="ok"}`)).toBe(1);
      expect(await stop(main.child)).toBe(0);
      await expect(fetch(metricsUrl!)).rejects.toThrow();
    } finally {
      if (main.child.exitCode === null) main.child.kill('SIGKILL');
      await simulator.close();
    }
  }, 40_000);

  it('with WORKERS=2 the primary serves the sum of both workers on METRICS_PORT', async () => {
    const simulator = await startSimulator({ rateLimits: false });
    const main = startMain({
      ...PRODUCTION_ENV,
      WORKERS: '2',
      PORT: '0',
      METRICS_PORT: '0',
      METRICS_TOKEN,
      HOST: '127.0.0.1',
      UPSTREAM_BASE_URL: simulator.url,
      LOG_LEVEL: 'info',
    });
    try {
      const { url, metricsUrl } = await listening(main);
      // A new connection each time, so the cluster's round robin hands the operations to both workers.
      for (let i = 0; i < 6; i++) expect(await operationOnNewConnection(url, 'Summed')).toBe(200);
      expect((await fetch(metricsUrl!)).status).toBe(401);
      const scraped = await fetch(metricsUrl!, { headers: bearer(METRICS_TOKEN) });
      expect(scraped.status).toBe(200);
      const text = await scraped.text();
      expect(sample(text, `${OPERATIONS}{operation="Summed",result="ok"}`)).toBe(6);
      expect(sample(text, 'calls_gateway_upstream_circuit_state')).toBe(0);
      expect(await stop(main.child)).toBe(0);
    } finally {
      if (main.child.exitCode === null) main.child.kill('SIGKILL');
      await simulator.close();
    }
  }, 40_000);
});

describe('CSRF prevention (item 15)', () => {
  it('the 403 carries a GraphQL error with extensions.code CSRF_REQUIRED', async () => {
    gw = await startTestGateway();
    const headers = { accept: 'application/json', ...bearer(DEMO_TOKEN) };
    const response = await gw.gateway.fetch(`http://gw/graphql?query=${QUERY}`, { headers });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'CSRF_REQUIRED' } }] });
    expect(gw.upstream()).toHaveLength(0);
  });

  const preflightHeaders = ['GraphQL-Require-Preflight', 'X-GraphQL-Yoga-CSRF', 'Apollo-Require-Preflight'];
  it.each(preflightHeaders)('a GET with %s: 1 is served', async (header) => {
    gw = await startTestGateway();
    const response = await gw.gateway.fetch(`http://gw/graphql?query=${QUERY}`, {
      headers: { accept: 'application/json', [header]: '1', ...bearer(DEMO_TOKEN) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { calls: { totalCount: 2500 } } });
  });

  it('a CORS preflight may ask for GraphQL-Require-Preflight', async () => {
    gw = await startTestGateway();
    const response = await gw.gateway.fetch('http://gw/graphql', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'graphql-require-preflight',
      },
    });
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('graphql-require-preflight');
  });
});
