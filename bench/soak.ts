/**
 * Soak: steady load for a bounded time while the gateway's heap (after a forced GC) and its open
 * sockets are sampled; after warm-up both must stay flat. The gateway runs in this process so it can be
 * measured; the simulator and the load generator (autocannon) each run in their own process.
 *
 *   npm run bench -- soak                          # 120 s, 20 connections
 *   SOAK_SECONDS=300 SOAK_CONNECTIONS=50 npm run bench -- soak
 *
 * Writes bench/results/soak.json and prints a summary; exits 1 when heap or sockets grow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { createGateway } from '../src/server.js';
import { DEMO_TOKEN } from '../src/simulator/data.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 120);
const connections = Number(process.env.SOAK_CONNECTIONS ?? 20);
const sampleEveryMs = 5_000;
const warmupShare = 0.25;

if (typeof globalThis.gc !== 'function') {
  console.error('run with --expose-gc (npm run bench -- soak does)');
  process.exit(2);
}

function startChild(args: string[], env: Record<string, string>, marker: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
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

const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length;

export async function soak(): Promise<boolean> {
  const { child: simulator, match } = await startChild(['--import', 'tsx', 'bench/simulator-process.ts'], {}, /SIMULATOR (\S+)/);
  const gateway = createGateway(
    { ...loadConfig({ LOG_LEVEL: 'silent', UPSTREAM_RATE_LIMITS: '999999999/60s' }), upstreamBaseUrl: match[1]! },
    { logger: createLogger('silent') },
  );
  const server = createServer(gateway.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const body = JSON.stringify({
    query: 'query Soak { calls(first: 15) { totalCount pageInfo { hasNextPage endCursor } edges { node { callId status transcriptText totalCost createdAt evaluation { name value } } } } }',
  });

  const samples: { t: number; heapMB: number; rssMB: number; sockets: number }[] = [];
  const started = Date.now();
  const sample = () => {
    globalThis.gc!();
    const { heapUsed, rss } = process.memoryUsage();
    samples.push({ t: (Date.now() - started) / 1000, heapMB: heapUsed / 2 ** 20, rssMB: rss / 2 ** 20, sockets: openSockets() });
  };
  const load = spawn(
    process.execPath,
    [
      'node_modules/autocannon/autocannon.js',
      '-c', String(connections),
      '-d', String(seconds),
      '-m', 'POST',
      '-H', 'content-type=application/json',
      '-H', `authorization=Bearer ${DEMO_TOKEN}`,
      '-b', body,
      '--json',
      url,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
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

  const result = JSON.parse(report) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
  const steady = samples.slice(0, underLoad).filter((s) => s.t >= seconds * warmupShare);
  const after = samples.at(-1)!;
  const heapSlopeMBperMin = slope(steady.map((s) => [s.t, s.heapMB])) * 60;
  const heapRangeMB = Math.max(...steady.map((s) => s.heapMB)) - Math.min(...steady.map((s) => s.heapMB));
  const socketRange = Math.max(...steady.map((s) => s.sockets)) - Math.min(...steady.map((s) => s.sockets));
  // Flat: after GC the heap wanders by less than 5 MB and trends by less than 1 MB a minute, open sockets
  // vary by at most 10, and a second after the load the sockets are back to the idle count.
  const flat = heapRangeMB < 5 && Math.abs(heapSlopeMBperMin) < 1 && socketRange <= 10;
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    seconds,
    connections,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
    afterWarmup: {
      heapMB: { min: +Math.min(...steady.map((s) => s.heapMB)).toFixed(1), max: +Math.max(...steady.map((s) => s.heapMB)).toFixed(1) },
      heapSlopeMBperMinute: +heapSlopeMBperMin.toFixed(3),
      rssMB: { max: +Math.max(...steady.map((s) => s.rssMB)).toFixed(1) },
      openSockets: { min: Math.min(...steady.map((s) => s.sockets)), max: Math.max(...steady.map((s) => s.sockets)) },
    },
    oneSecondAfterLoad: { heapMB: +after.heapMB.toFixed(1), openSockets: after.sockets },
    flat,
    samples: samples.map((s) => ({ t: +s.t.toFixed(1), heapMB: +s.heapMB.toFixed(2), rssMB: +s.rssMB.toFixed(1), sockets: s.sockets })),
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/soak.json', `${JSON.stringify(summary, null, 2)}\n`);
  const { samples: _, ...printed } = summary;
  console.log(JSON.stringify(printed, null, 2));
  return flat && result.non2xx === 0 && result.errors === 0;
}
