/**
 * Proof of issue 12: "Two gateway processes sharing Redis, 30 clients spread over both polling one key:
 * together they never exceed 100 requests a minute or 20 in 10 s (zero 429s received), zero client errors."
 *
 * Two `src/main.ts` processes (single-tenant mode: the server's key upstream, a gateway key for the callers)
 * share one redis-server, in front of a simulator in this process with the documented limits on. 30
 * clients, 15 on each process, each poll one of 8 dashboard queries (8 lists of one key) every 2 s for 25 s:
 * without the shared cache each process would read each list every 5 s (32 requests per 10 s, over the
 * limit); with it, the pair reads each about once per 5 s. Then a burst of 40 different queries, 20 on each
 * process, asks for more than the budget: what does not fit is refused with `retryAfter`, and nothing
 * reaches the upstream beyond it. The simulator's request log is checked over every sliding 10 s and 60 s
 * window.
 *
 * Real processes cannot share an injected clock, so this runs on the wall clock, shortened to about 30 s.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCalls } from '../../src/simulator/data.js';
import { type Simulator, startSimulator } from '../../src/simulator/server.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { maxInWindow } from './replicas.js';

const SERVER_KEY = 'sk-live-server-key-of-the-replicas';
const CALLER_KEY = 'frontend-key-dashboard-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Main {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
}

/** Starts `src/main.ts` with `env`; resolves with its URL once it says it listens (bounded: 30 s). */
function startMain(env: Record<string, string>): Promise<Main> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening: ${output}`)), 30_000);
    const look = () => {
      const line = output.split('\n').find((l) => l.includes('"msg":"calls gateway listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout.off('data', look);
      resolve({ child, url: (JSON.parse(line) as { url: string }).url, output: () => output });
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

async function stop(main: Main | undefined): Promise<void> {
  if (!main || main.child.exitCode !== null) return;
  const exited = new Promise((resolve) => main.child.once('exit', resolve));
  main.child.kill('SIGTERM');
  await Promise.race([exited, sleep(12_000)]);
  if (main.child.exitCode === null) main.child.kill('SIGKILL');
}

interface Answer {
  data?: unknown;
  errors?: { extensions?: { code?: string; retryAfter?: number } }[];
}

async function query(url: string, text: string): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CALLER_KEY}` },
    body: JSON.stringify({ query: text }),
  });
  return (await response.json()) as Answer;
}

/** One list per day: a distinct upstream request each. */
const dayFilter = (i: number) => new Date(Date.UTC(2026, 5, 1) + i * 86_400_000).toISOString().slice(0, 10);
const dashboard = (i: number) =>
  `{ calls(first: 10, filter: { dateFrom: "${dayFilter(i)}" }) { totalCount edges { node { callId status } } } }`;

let redis: TestRedis;
let simulator: Simulator;
const mains: Main[] = [];
beforeAll(async () => {
  redis = await startRedis();
  simulator = await startSimulator({ tenants: { [SERVER_KEY]: generateCalls({ seed: 2, count: 600, firstId: 1 }) } });
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    UPSTREAM_BASE_URL: simulator.url,
    REDIS_URL: redis.url,
    UPSTREAM_API_KEY: SERVER_KEY,
    GATEWAY_API_KEYS: CALLER_KEY,
    CURSOR_SECRET: 'replicas-share-one-cursor-secret-0123456789',
  };
  mains.push(...(await Promise.all([startMain(env), startMain(env)])));
}, 60_000);
afterAll(async () => {
  await Promise.all(mains.map(stop));
  await simulator?.close();
  await redis?.close();
}, 30_000);

describe('two gateway processes sharing Redis', () => {
  it('30 clients polling one key over both: never over 100/min or 20 in 10 s, no 429, no client error', async () => {
    const started = Date.now();
    const errors: string[] = [];
    let answers = 0;
    const client = async (index: number) => {
      // Spread over the first polling interval, as real dashboards are.
      await sleep((index * 2_000) / 30);
      while (Date.now() - started < 25_000) {
        // Clients 2k and 2k + 1 poll the same list, one through each process.
        const body = await query(mains[index % 2]!.url, dashboard(Math.floor(index / 2) % 8));
        answers++;
        for (const error of body.errors ?? []) errors.push(error.extensions?.code ?? 'NO_CODE');
        await sleep(2_000);
      }
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => client(i)));
    const polled = simulator.requests.map((r) => r.at);

    // More than the budget at once, spread over both: refused with retryAfter beyond what fits.
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => query(mains[i % 2]!.url, dashboard(100 + i))));
    const refused = burst.flatMap((b) => b.errors ?? []);
    const times = simulator.requests.map((r) => r.at);
    const figures = {
      clientRequests: answers,
      clientErrors: errors.length,
      upstreamWhilePolling: polled.length,
      maxIn10s: maxInWindow(times, 10_000),
      maxIn60s: maxInWindow(times, 60_000),
      rateLimited: simulator.rateLimited,
      burstServed: burst.filter((b) => !b.errors).length,
      burstRefused: refused.length,
    };
    console.log('two processes sharing Redis:', JSON.stringify(figures));

    expect(errors).toEqual([]);
    expect(answers).toBeGreaterThan(300);
    expect(simulator.rateLimited).toBe(0);
    expect(figures.maxIn10s).toBeLessThanOrEqual(20);
    expect(figures.maxIn60s).toBeLessThanOrEqual(100);
    // About one read of each list per 5 s for the pair (8 lists, 25 s), not one per process.
    expect(polled.length).toBeLessThanOrEqual(8 * 7);
    for (const error of refused) {
      expect(error.extensions?.code).toBe('UPSTREAM_RATE_LIMITED');
      expect(error.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
    }
    expect(figures.burstServed + figures.burstRefused).toBe(40);
    // Nothing a process wrote names a token.
    for (const main of mains) expect(main.output()).not.toMatch(/sk-live-server-key|frontend-key-dashboard/);
  }, 90_000);
});
