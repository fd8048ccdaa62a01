import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { EXAMPLE_QUERY } from '../src/graphiql.js';
import { createGateway, type Gateway } from '../src/server.js';
import { DEMO_TOKEN } from '../src/simulator/data.js';
import { type Simulator, startSimulator } from '../src/simulator/server.js';

let simulator: Simulator;
const gateways: Gateway[] = [];
beforeAll(async () => {
  simulator = await startSimulator();
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await simulator.close();
});

/** What production needs to start at all (../shared/docs/clarifications.md, "Production secrets"). */
const PRODUCTION = { NODE_ENV: 'production', CURSOR_SECRET: 'c'.repeat(32), SUBGRAPH_SECRET: 'router-only-0123456789' };

function gateway(env: Record<string, string> = {}, graphiqlHeaders?: Record<string, string>): Gateway {
  const g = createGateway(
    { ...loadConfig({ LOG_LEVEL: 'silent', ...env }), upstreamBaseUrl: simulator.url },
    { graphiqlHeaders },
  );
  gateways.push(g);
  return g;
}

describe('HTTP surface', () => {
  it('answers the health check', async () => {
    const response = await gateway().yoga.fetch('http://gw/health');
    expect(response.status).toBe(200);
  });

  it('serves GraphiQL from its own bundle with the example query and the demo header filled in', async () => {
    const response = await gateway({}, { Authorization: `Bearer ${DEMO_TOKEN}` }).yoga.fetch('http://gw/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('query RecentCalls');
    expect(html).toContain(`Bearer ${DEMO_TOKEN}`);
    // No CDN: the page must work on a machine without internet access.
    expect(html).not.toMatch(/unpkg\.com|jsdelivr/);
  });

  it('runs the GraphiQL example query with the demo token', async () => {
    const response = await gateway().yoga.fetch('http://gw/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
      body: JSON.stringify({ query: EXAMPLE_QUERY }),
    });
    const body = (await response.json()) as {
      data: { calls: { edges: unknown[]; totalCount: number } };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.calls.edges).toHaveLength(5);
    expect(body.data.calls.totalCount).toBeGreaterThan(100);
  });

  it('turns GraphiQL off with GRAPHIQL=false and in production', async () => {
    for (const env of [{ GRAPHIQL: 'false' }, PRODUCTION] as Record<string, string>[]) {
      const response = await gateway(env).yoga.fetch('http://gw/graphql', { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toContain('query RecentCalls');
    }
  });

  it('accepts queries over GET with a CSRF header, and refuses them without one (403)', async () => {
    const url = `http://gw/graphql?query=${encodeURIComponent('{ calls(first: 2) { totalCount } }')}`;
    const headers = { authorization: `Bearer ${DEMO_TOKEN}`, accept: 'application/json' };
    const ok = await gateway().yoga.fetch(url, { headers: { ...headers, 'x-graphql-yoga-csrf': '1' } });
    expect(((await ok.json()) as { data: unknown }).data).toEqual({ calls: { totalCount: 2500 } });
    const refused = await gateway().yoga.fetch(url, { headers });
    expect(refused.status).toBe(403);
    const off = await gateway({ CSRF_PREVENTION: 'false' }).yoga.fetch(url, { headers });
    expect(off.status).toBe(200);
  });

  it.each([
    ['the demo allows any origin', {}, 'https://anything.example', true],
    [
      'CORS_ORIGINS allows a listed origin',
      { CORS_ORIGINS: 'https://app.example, https://admin.example' },
      'https://admin.example',
      true,
    ],
    ['CORS_ORIGINS refuses an unlisted origin', { CORS_ORIGINS: 'https://app.example' }, 'https://evil.example', false],
    ['production allows none by default', PRODUCTION, 'https://app.example', false],
  ])('CORS preflight with Authorization: %s', async (_name, env, origin, allowed) => {
    const response = await gateway(env).yoga.fetch('http://gw/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    const allowOrigin = response.headers.get('access-control-allow-origin');
    if (allowed) {
      expect([origin, '*']).toContain(allowOrigin);
      expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    } else {
      expect(allowOrigin === origin || allowOrigin === '*').toBe(false);
    }
  });
});

describe('npm start (src/main.ts)', () => {
  it('starts the demo on the embedded simulator, prints the GraphiQL URL and token, serves data and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', UPSTREAM_BASE_URL: '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 20_000);
        child.stdout.on('data', (chunk) => {
          output += String(chunk);
          const match = /GraphiQL:\s+(http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      expect(output).toContain(`Bearer ${DEMO_TOKEN}`);
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify({ query: '{ calls(first: 3) { totalCount edges { node { callId } } } }' }),
      });
      const body = (await response.json()) as { data: { calls: { totalCount: number; edges: unknown[] } } };
      expect(body.data.calls.totalCount).toBeGreaterThanOrEqual(2000);
      expect(body.data.calls.edges).toHaveLength(3);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 40_000);

  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    const slow = await startSimulator({ latencyMs: 1_500 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', UPSTREAM_BASE_URL: slow.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${output}`)), 20_000);
        child.stdout.on('data', (chunk) => {
          output += String(chunk);
          const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      const inFlight = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify({ query: '{ calls(first: 2) { totalCount } }' }),
      });
      await new Promise((r) => setTimeout(r, 400));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      await expect(
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"{ __typename }"}',
        }),
      ).rejects.toThrow();
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown }).data).toEqual({ calls: { totalCount: 2500 } });
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await slow.close();
    }
  }, 40_000);

  it('refuses a bad configuration with a message naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'eighty', UPSTREAM_BASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('PORT: must be a whole number');
  }, 30_000);
});
