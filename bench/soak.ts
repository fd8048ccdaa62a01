/**
 * Soak: steady load for a bounded time while the gateway's heap (after a forced GC), its RSS, its open
 * sockets and the sizes of its per-key structures are sampled; after warm-up all must stay flat. By
 * default every request carries its own API key (issue 13: the fair case, where per-key state would grow
 * with every user); SOAK_KEYS=one sends the demo key every time. The gateway runs in this process so it
 * can be measured; the upstream (bench/fixed-upstream.ts, which takes any key) and the load generator
 * (bench/load.ts, autocannon) each run in their own process.
 *
 *   npm run bench -- soak                          # 300 s (issue 13: a 5-minute soak), 20 connections, distinct keys
 *   SOAK_SECONDS=60 npm run bench -- soak
 *
 * Writes bench/results/soak.json and prints a summary; exits 1 when heap, RSS, sockets or per-key state grow.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { createGateway } from '../src/server.js';
import { CONNECTIONS as UPSTREAM_POOL_CONNECTIONS } from '../src/upstream-policy.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 300);
const distinctKeys = process.env.SOAK_KEYS !== 'one';
const connections = Number(process.env.SOAK_CONNECTIONS ?? 20);
const sampleEveryMs = 5_000;
const warmupShare = 0.25;

if (typeof globalThis.gc !== 'function') {
  console.error('run with --expose-gc (npm run bench -- soak does)');
  process.exit(2);
}

function startChild(
  args: string[],
  env: Record<string, string>,
  marker: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      const match = marker.exec(output);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${output}`)));
  });
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const openSockets = () =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length;

export async function soak(): Promise<boolean> {
  const { child: simulator, match } = await startChild(
    ['--import', 'tsx', 'bench/fixed-upstream.ts'],
    {},
    /UPSTREAM (\S+)/,
  );
  const gateway = createGateway(
    // As in the throughput benchmark (bench/compare.ts): CPU and memory, not the upstream's budget.
    {
      ...loadConfig({ LOG_LEVEL: 'silent', UPSTREAM_RATE_LIMITS: '999999999/60s', UPSTREAM_CONCURRENCY_PER_KEY: '64' }),
      upstreamBaseUrl: `${match[1]!}/api`,
    },
    { logger: createLogger('silent') },
  );
  const server = createServer(gateway.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const body = JSON.stringify({
    query:
      'query Soak { calls(first: 15) { totalCount pageInfo { hasNextPage endCursor } edges { node { callId status transcriptText totalCost createdAt evaluation { name value } } } } }',
  });

  /** The structures that hold something per API key, each bounded (issue 13: checked over the soak). */
  const perKey = () => {
    const stats = gateway.upstreamSnapshot();
    return {
      schedulerLanes: stats.scheduler.keys,
      breakerKeys: stats.breakerKeys,
      cacheEntries: stats.cache?.entries ?? 0,
      doorkeeperKeys: stats.cache?.keysSeen ?? 0,
    };
  };
  const samples: { t: number; heapMB: number; rssMB: number; sockets: number; perKey: ReturnType<typeof perKey> }[] =
    [];
  const started = Date.now();
  const sample = () => {
    globalThis.gc!();
    const { heapUsed, rss } = process.memoryUsage();
    samples.push({
      t: (Date.now() - started) / 1000,
      heapMB: heapUsed / 2 ** 20,
      rssMB: rss / 2 ** 20,
      sockets: openSockets(),
      perKey: perKey(),
    });
  };
  const spec = {
    url: url.replace(/\/graphql$/, ''),
    connections,
    seconds,
    headers: { 'content-type': 'application/json', authorization: 'Bearer soak-token' },
    requests: [{ method: 'POST', path: '/graphql', body }],
    uniqueTokens: distinctKeys,
  };
  const load = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  load.stdout.on('data', (c) => (report += String(c)));
  sample();
  const timer = setInterval(sample, sampleEveryMs);
  await new Promise((resolve) => load.once('exit', resolve));
  clearInterval(timer);
  const underLoad = samples.length;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  sample();

  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gateway.close();
  simulator.kill('SIGTERM');

  const result = JSON.parse(report) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  const steady = samples.slice(0, underLoad).filter((s) => s.t >= seconds * warmupShare);
  const after = samples.at(-1)!;
  const heapSlopeMBperMin = slope(steady.map((s) => [s.t, s.heapMB])) * 60;
  const heapRangeMB = Math.max(...steady.map((s) => s.heapMB)) - Math.min(...steady.map((s) => s.heapMB));
  const rssSlopeMBperMin = slope(steady.map((s) => [s.t, s.rssMB])) * 60;
  // Per-key structures: none may exceed its bound (the scheduler's and the doorkeeper's LRUs hold 10,000).
  const largest = Object.fromEntries(
    Object.keys(after.perKey).map((k) => [k, Math.max(...samples.map((s) => s.perKey[k as keyof typeof s.perKey]))]),
  );
  const bounded = Object.values(largest).every((n) => n <= 10_000);
  // Open sockets: the load's own connections plus at most the upstream pool's (idle ones close after
  // keep-alive, so the count moves within that bound), and a second after the load back to the idle count.
  const socketBound = connections + UPSTREAM_POOL_CONNECTIONS;
  const socketsBounded =
    Math.max(...steady.map((s) => s.sockets)) <= socketBound && after.sockets <= samples[0]!.sockets;
  // Flat: after GC the heap wanders by less than 5 MB and trends by less than 1 MB a minute; RSS trends by
  // less than 5 MB a minute; sockets and every per-key structure stay within their bounds.
  const flat = heapRangeMB < 5 && Math.abs(heapSlopeMBperMin) < 1 && rssSlopeMBperMin < 5 && socketsBounded && bounded;
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    seconds,
    connections,
    keys: distinctKeys ? 'a distinct API key per request' : 'one API key',
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
    afterWarmup: {
      heapMB: {
        min: +Math.min(...steady.map((s) => s.heapMB)).toFixed(1),
        max: +Math.max(...steady.map((s) => s.heapMB)).toFixed(1),
      },
      heapSlopeMBperMinute: +heapSlopeMBperMin.toFixed(3),
      rssMB: {
        min: +Math.min(...steady.map((s) => s.rssMB)).toFixed(1),
        max: +Math.max(...steady.map((s) => s.rssMB)).toFixed(1),
      },
      rssSlopeMBperMinute: +rssSlopeMBperMin.toFixed(3),
      openSockets: {
        min: Math.min(...steady.map((s) => s.sockets)),
        max: Math.max(...steady.map((s) => s.sockets)),
        bound: socketBound,
      },
    },
    oneSecondAfterLoad: { heapMB: +after.heapMB.toFixed(1), openSockets: after.sockets },
    perKeyStructures: { largestSeen: largest, atEnd: after.perKey, bound: 10_000 },
    flat,
    samples: samples.map((s) => ({
      t: +s.t.toFixed(1),
      heapMB: +s.heapMB.toFixed(2),
      rssMB: +s.rssMB.toFixed(1),
      sockets: s.sockets,
      ...s.perKey,
    })),
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/soak.json', `${JSON.stringify(summary, null, 2)}\n`);
  const { samples: _, ...printed } = summary;
  console.log(JSON.stringify(printed, null, 2));
  return flat && result.non2xx === 0 && result.errors === 0;
}
