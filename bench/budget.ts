/**
 * The upstream budget at work (issue "Live within the upstream's budget"): seven workloads against the
 * embedded simulator enforcing the upstream's documented limits (100 requests a minute and 20 in 10 s per
 * key, ../shared/docs/upstream-contract.md §5.3), each through real HTTP to a gateway with its default settings. Issue 12 adds
 * an eighth: two gateways sharing a redis-server (`REDIS_URL`), with clients spread over both, once against
 * an upstream that answers at once and once against one that takes 250 ms (as a real one does).
 *
 * `npm run bench -- budget` runs them on the wall clock and writes bench/results/budget.json and the
 * budget section of docs/benchmarks.md. test/budget/budget.test.ts runs the very same workloads on a clock
 * that runs ten times faster, shared by the simulator, the gateway and the clients (rate-limit arithmetic
 * is exact on any clock), and asserts the proof figures on their reports.
 *
 * Per workload: client requests, upstream requests, 429s received, client errors by code, p50/p99 client
 * latency (in the clock's milliseconds), and the workload's own checks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { createGateway, type GatewayConfig } from '../src/server.js';
import { generateCalls, type SimCall } from '../src/simulator/data.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../src/simulator/server.js';

/** A clock the workloads can also wait on. */
interface WorkloadClock extends Clock {
  sleep(ms: number): Promise<void>;
}

const wallClock: WorkloadClock = { ...systemClock, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

export interface WorkloadOptions {
  clock: WorkloadClock;
  /** Where the gateways write their logs. @default silent */
  logger?: Logger;
}

export interface WorkloadReport {
  workload: string;
  clientRequests: number;
  /** Client-visible errors, by `extensions.code`. */
  clientErrors: Record<string, number>;
  upstreamRequests: number;
  /** 429 answers the upstream (simulator) sent. */
  rateLimited: number;
  p50Ms: number;
  p99Ms: number;
  /** How long the workload ran, on its clock. */
  durationMs: number;
  /** The workload's own figures and verdicts. */
  checks: Record<string, number | boolean>;
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
  extensions?: { upstream?: { requests: number; cacheHits: number; queuedMs: number } };
}

interface Deployment {
  origin: string;
  simulator: Simulator;
  gatewayStats(): { breaker: string };
  /** Sends one GraphQL request; counts it, its latency and its error codes. */
  query(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLBody>;
  readiness(): Promise<number>;
  report(workload: string, started: number, checks: WorkloadReport['checks']): WorkloadReport;
  close(): Promise<void>;
}

/** The simulator (documented limits on unless told) and a gateway in front of it, on loopback. */
async function deploy(
  options: WorkloadOptions,
  tenants: Record<string, SimCall[]>,
  more: { simulator?: Partial<SimulatorOptions>; config?: Partial<GatewayConfig> } = {},
): Promise<Deployment> {
  const { clock } = options;
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, tenants, clock, ...more.simulator });
  const gateway = createGateway(
    { ...loadConfig({}), upstreamBaseUrl: simulator.url, upstreamDebugExtension: true, ...more.config },
    { logger: options.logger ?? createLogger('silent'), clock },
  );
  const server = createServer(gateway.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  return {
    origin,
    simulator,
    gatewayStats: () => gateway.upstreamSnapshot(),
    async query(query, variables = {}, headers = {}) {
      const started = clock.now();
      const response = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLBody;
      latencies.push(clock.now() - started);
      for (const error of body.errors ?? []) {
        const code = error.extensions?.code ?? 'NO_CODE';
        errors[code] = (errors[code] ?? 0) + 1;
      }
      return body;
    },
    async readiness() {
      return (await fetch(`${origin}/health/ready`)).status;
    },
    report(workload, started, checks) {
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
      return {
        workload,
        clientRequests: latencies.length,
        clientErrors: { ...errors },
        // Readiness probes carry no key; everything else is a key's request.
        upstreamRequests: simulator.requests.filter((r) => r.authorization !== null).length,
        rateLimited: simulator.rateLimited,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        durationMs: Math.round(clock.now() - started),
        checks,
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
      await simulator.close();
    },
  };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** The simulator's own list order (newest first: creation time, then id), read from its data. */
const newestFirst = (calls: readonly SimCall[]) =>
  [...calls].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.raw.id - a.raw.id).map((c) => c.raw.id);

/** An upstream cost (decimal string or number) in units of 10⁻⁸, exactly; computed here, not by the gateway. */
function costUnits(value: unknown): bigint {
  if (value === null || value === undefined) return 0n;
  const text = typeof value === 'number' ? value.toFixed(8) : String(value);
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 10n ** 8n + BigInt(fraction.padEnd(8, '0').slice(0, 8));
}

const decimal8 = (units: bigint) => `${units / 10n ** 8n}.${(units % 10n ** 8n).toString().padStart(8, '0')}`;

/** `callStats` over an account of 3,000 calls: exact totals within 40 s, no 429. */
export async function statsOverThreeThousand(options: WorkloadOptions): Promise<WorkloadReport> {
  const token = 'stats-key';
  const calls = generateCalls({ seed: 3_000, count: 3_000, firstId: 300_001 });
  const d = await deploy(options, { [token]: calls });
  try {
    const started = options.clock.now();
    const body = await d.query(
      '{ callStats { count complete scannedCount totalCost carrierCost byStatus { status count } } }',
      {},
      auth(token),
    );
    const stats = body.data?.callStats as
      | {
          count: number;
          complete: boolean;
          scannedCount: number;
          totalCost: string;
          carrierCost: string;
          byStatus: { status: string; count: number }[];
        }
      | undefined;
    const byStatus = new Map<string, number>();
    for (const call of calls) {
      const status = call.raw.status.toUpperCase().replace(/-/g, '_');
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    }
    const exact =
      stats !== undefined &&
      stats.count === calls.length &&
      stats.scannedCount === calls.length &&
      stats.totalCost === decimal8(calls.reduce((sum, c) => sum + costUnits(c.raw.total_cost), 0n)) &&
      stats.carrierCost === decimal8(calls.reduce((sum, c) => sum + costUnits(c.raw.carrier_cost), 0n)) &&
      stats.byStatus.every((s) => byStatus.get(s.status) === s.count) &&
      stats.byStatus.length === byStatus.size;
    return d.report('callStats over 3,000 calls', started, {
      calls: calls.length,
      exactTotals: exact,
      complete: stats?.complete ?? false,
    });
  } finally {
    await d.close();
  }
}

/** A walk of 1,000 calls with `first: 25`: the exact upstream list in about 10 upstream requests. */
export async function walkOfOneThousand(options: WorkloadOptions): Promise<WorkloadReport> {
  const token = 'walk-key';
  const calls = generateCalls({ seed: 1_000, count: 1_000, firstId: 10_001 });
  const d = await deploy(options, { [token]: calls });
  try {
    const started = options.clock.now();
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (; pages < 60; pages++) {
      const body = await d.query(
        'query Walk($after: String) { calls(first: 25, after: $after) { pageInfo { hasNextPage endCursor } edges { node { callId } } } }',
        { after },
        auth(token),
      );
      const page = body.data?.calls as
        | { pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: { callId: number } }[] }
        | undefined;
      if (!page) break;
      seen.push(...page.edges.map((e) => e.node.callId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const expected = newestFirst(calls);
    return d.report('walk of 1,000 calls, first: 25', started, {
      pages: pages + 1,
      exactList: seen.length === expected.length && seen.every((id, i) => id === expected[i]),
    });
  } finally {
    await d.close();
  }
}

/**
 * 30 people sharing one key (single-tenant mode), each polling a 20-call page every 3 s for 60 s; a call
 * is inserted upstream at 20 s and every client must see it within UPSTREAM_CACHE_TTL_MS + 3 s.
 */
export async function sharedKeyDashboard(
  options: WorkloadOptions,
  shape = { clients: 30, everyMs: 3_000, forMs: 60_000, insertAtMs: 20_000 },
): Promise<WorkloadReport> {
  const serverKey = 'server-key';
  const dashboardKey = 'dashboard-key-0123456789';
  const calls = generateCalls({ seed: 30, count: 500, firstId: 50_001 });
  const d = await deploy(
    options,
    { [serverKey]: calls },
    { config: { upstreamApiKey: serverKey, gatewayApiKeys: [dashboardKey] } },
  );
  const { clock } = options;
  try {
    const started = clock.now();
    const newest = calls.reduce((a, b) => (a.createdAt > b.createdAt ? a : b));
    const insertedId = 99_999;
    let insertedAt = Number.POSITIVE_INFINITY;
    const seenAfter: number[] = [];
    const insert = (async () => {
      await clock.sleep(shape.insertAtMs);
      const createdAt = new Date(newest.createdAt.getTime() + 60_000);
      const iso = createdAt.toISOString();
      d.simulator.tenants
        .get(serverKey)!
        .push({ ...newest, createdAt, raw: { ...newest.raw, id: insertedId, created_at: iso, updated_at: iso } });
      insertedAt = clock.now();
    })();
    const client = async (index: number) => {
      // Spread over the first polling interval, as real dashboards are.
      await clock.sleep((index * shape.everyMs) / shape.clients);
      let saw = false;
      while (clock.now() - started < shape.forMs) {
        const body = await d.query(
          'query Dashboard { calls(first: 20) { edges { node { callId status } } } }',
          {},
          auth(dashboardKey),
        );
        const ids = ((body.data?.calls as { edges: { node: { callId: number } }[] } | undefined)?.edges ?? []).map(
          (e) => e.node.callId,
        );
        if (!saw && ids.includes(insertedId)) {
          saw = true;
          seenAfter.push(clock.now() - insertedAt);
        }
        await clock.sleep(shape.everyMs);
      }
    };
    await Promise.all([insert, ...Array.from({ length: shape.clients }, (_, i) => client(i))]);
    return d.report('30 clients share one key, polling every 3 s for 60 s', started, {
      clients: shape.clients,
      clientsThatSawTheNewCall: seenAfter.length,
      slowestToSeeItMs: Math.round(Math.max(0, ...seenAfter)),
    });
  } finally {
    await d.close();
  }
}

/**
 * One key sends 60 different queries at once: its budget serves what it can, the excess is refused at
 * once with `retryAfter`, no 429 reaches the upstream; meanwhile another key's requests never queue.
 */
export async function burstOfDistinctQueries(options: WorkloadOptions): Promise<WorkloadReport> {
  const [busy, quiet] = ['busy-key', 'quiet-key'];
  const d = await deploy(options, {
    [busy]: generateCalls({ seed: 60, count: 400, firstId: 60_001 }),
    [quiet]: generateCalls({ seed: 61, count: 400, firstId: 70_001 }),
  });
  const day = (i: number) => new Date(Date.UTC(2026, 6, 1) + i * 86_400_000).toISOString().slice(0, 10);
  const page =
    'query Day($day: Date) { calls(first: 5, filter: { dateFrom: $day }) { totalCount edges { node { callId } } } }';
  try {
    const started = options.clock.now();
    const burst = Promise.all(Array.from({ length: 60 }, (_, i) => d.query(page, { day: day(i) }, auth(busy))));
    const other: { ms: number; queuedMs: number; ok: boolean }[] = [];
    for (let i = 0; i < 20; i++) {
      const at = options.clock.now();
      const body = await d.query(page, { day: day(100 + i) }, auth(quiet));
      other.push({
        ms: options.clock.now() - at,
        queuedMs: body.extensions?.upstream?.queuedMs ?? -1,
        ok: !body.errors,
      });
    }
    const answers = await burst;
    const refused = answers.filter((b) => b.errors?.[0]?.extensions?.code === 'UPSTREAM_RATE_LIMITED');
    const otherMs = other.map((o) => o.ms).sort((a, b) => a - b);
    return d.report('one key sends 60 different queries at once', started, {
      served: answers.filter((b) => !b.errors).length,
      refusedForBudget: refused.length,
      everyRefusalSaysRetryAfter: refused.every((b) => (b.errors![0]!.extensions!.retryAfter ?? 0) >= 1),
      otherKeyServed: other.filter((o) => o.ok).length,
      otherKeyMaxQueuedMs: Math.max(...other.map((o) => o.queuedMs)),
      otherKeyMedianMs: Math.round(otherMs[Math.floor(otherMs.length / 2)]!),
    });
  } finally {
    await d.close();
  }
}

/** An upstream that caps `per_page` at 50: walks with `first`/`last` 100 still give exactly its list. */
export async function cappedPerPage(options: WorkloadOptions): Promise<WorkloadReport> {
  const token = 'capped-key';
  const calls = generateCalls({ seed: 50, count: 300, firstId: 20_001 });
  const d = await deploy(options, { [token]: calls }, { simulator: { maxPerPage: 50 } });
  const query =
    'query Walk($first: Int, $after: String, $last: Int, $before: String) { calls(first: $first, after: $after, last: $last, before: $before) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { callId } } } }';
  type Page = {
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
    edges: { node: { callId: number } }[];
  };
  const read = async (variables: Record<string, unknown>) =>
    (await d.query(query, variables, auth(token))).data?.calls as Page | undefined;
  try {
    const started = options.clock.now();
    const forward: number[] = [];
    for (let after: string | null = null, i = 0; i < 10; i++) {
      const page = await read({ first: 100, after });
      if (!page) break;
      forward.push(...page.edges.map((e) => e.node.callId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const backward: number[] = [];
    for (let before: string | null = null, i = 0; i < 10; i++) {
      const page = await read({ last: 100, before });
      if (!page) break;
      backward.unshift(...page.edges.map((e) => e.node.callId));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    const expected = newestFirst(calls);
    const same = (ids: number[]) => ids.length === expected.length && ids.every((id, i) => id === expected[i]);
    return d.report('an upstream capping per_page at 50: first/last 100', started, {
      forwardExact: same(forward),
      backwardExact: same(backward),
    });
  } finally {
    await d.close();
  }
}

/** An upstream answering 500 to one key only: that key pauses on its own; the others and readiness do not. */
export async function oneKeyFailing(options: WorkloadOptions): Promise<WorkloadReport> {
  const failing = 'failing-key';
  const healthy = ['healthy-key-1', 'healthy-key-2', 'healthy-key-3', 'healthy-key-4'];
  const tenants = Object.fromEntries(
    [failing, ...healthy].map((k, i) => [k, generateCalls({ seed: 500 + i, count: 100, firstId: 1 + i * 1_000 })]),
  );
  const d = await deploy(options, tenants, {
    simulator: {
      faults: (r) =>
        r.authorization === `Bearer ${failing}`
          ? { kind: 'respond', status: 500, body: '{"message":"Server Error"}' }
          : undefined,
    },
  });
  try {
    const started = options.clock.now();
    let healthyErrors = 0;
    for (let round = 0; round < 22; round++) {
      await d.query('{ calls(first: 3) { edges { node { callId } } } }', {}, auth(failing));
      for (const key of healthy) {
        const body = await d.query(`{ calls(first: ${1 + (round % 5)}) { edges { node { callId } } } }`, {}, auth(key));
        if (body.errors) healthyErrors++;
      }
    }
    return d.report('500s for one key only', started, {
      failingKeyUpstreamRequests: d.simulator.requests.filter((r) => r.authorization === `Bearer ${failing}`).length,
      healthyKeyErrors: healthyErrors,
      circuitClosed: d.gatewayStats().breaker === 'closed',
      readinessStatus: await d.readiness(),
    });
  } finally {
    await d.close();
  }
}

/**
 * The whole upstream fails (503 for every key), then recovers: the circuit opens, and after its first
 * good probe no request gets UPSTREAM_UNAVAILABLE any more.
 */
export async function outageAndRecovery(options: WorkloadOptions): Promise<WorkloadReport> {
  const keys = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);
  const calls = generateCalls({ seed: 77, count: 50, firstId: 1 });
  let down = true;
  const d = await deploy(options, Object.fromEntries(keys.map((k) => [k, [...calls]])), {
    simulator: {
      faults: () => (down ? { kind: 'respond', status: 503, body: '{"message":"Service Unavailable"}' } : undefined),
    },
  });
  const { clock } = options;
  const ask = (i: number) =>
    d.query(`{ calls(first: ${1 + (i % 7)}) { edges { node { callId } } } }`, {}, auth(keys[i % keys.length]!));
  try {
    const started = clock.now();
    let opened = false;
    for (let i = 0; i < 60 && !opened; i++) {
      await ask(i);
      opened = d.gatewayStats().breaker === 'open';
    }
    const readinessInOutage = await d.readiness();
    down = false;
    const recoveryStarted = clock.now();
    // Ask every second until the first answer comes back (the circuit's probe), then 40 more across all keys.
    let recoveredAt = Number.NaN;
    for (let i = 0; i < 120 && Number.isNaN(recoveredAt); i++) {
      if (!(await ask(i)).errors) recoveredAt = clock.now();
      else await clock.sleep(1_000);
    }
    let unavailableAfter = 0;
    for (let i = 0; i < 40; i++) {
      const body = await ask(i);
      if (body.errors?.some((e) => e.extensions?.code === 'UPSTREAM_UNAVAILABLE')) unavailableAfter++;
    }
    return d.report('outage of the whole upstream, then recovery', started, {
      circuitOpened: opened,
      readinessInOutage,
      recoveredAfterMs: Math.round(recoveredAt - recoveryStarted),
      unavailableAfterFirstGoodAnswer: unavailableAfter,
      readinessAfter: await d.readiness(),
    });
  } finally {
    await d.close();
  }
}

/** A redis-server on a free loopback port, persistence off (as test/support/redis.ts starts one). */
interface BenchRedis {
  url: string;
  close(): Promise<void>;
}

/** Starts redis-server; `{ missing }` says why when it cannot (the binary is missing). */
async function startRedisServer(): Promise<BenchRedis | { missing: string }> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const started = await new Promise<string | null>((resolve) => {
    const hint = 'apt-get install redis-server';
    child.once('error', (error) => resolve(`cannot start redis-server (${error.message}); ${hint}`));
    child.once('spawn', () => resolve(null));
  });
  if (started !== null) return { missing: started };
  const close = async () => {
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };
  for (const deadline = Date.now() + 10_000; ; ) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { url: `redis://127.0.0.1:${port}`, close };
    } catch {
      client.disconnect();
      if (Date.now() > deadline) {
        await close();
        return { missing: 'redis-server did not answer PING within 10 s' };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The most requests of `times` in any window of `windowMs`, both ends included (a sliding check of the log). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! > windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/**
 * Issue 12: two gateways (replicas) sharing one Redis, each on its own HTTP port, in front of one simulator
 * with the documented limits; 30 clients share one key (single-tenant mode), half on each replica, each
 * polling a 20-call page every 3 s for 60 s; a call is inserted at 20 s. Checks: the most upstream requests in
 * any 10 s and 60 s window (at most 20 and 100), whether every client saw the new call within
 * UPSTREAM_CACHE_TTL_MS + 3 s, and how often both replicas read the list within one TTL of each other (the
 * reads that coalescing across replicas would save).
 */
export async function twoReplicasSharingRedis(
  options: WorkloadOptions,
  redisUrl: string,
  shape = { clients: 30, everyMs: 3_000, forMs: 60_000, insertAtMs: 20_000, latencyMs: 0 },
): Promise<WorkloadReport> {
  const { clock } = options;
  const serverKey = 'server-key';
  const dashboardKey = 'dashboard-key-0123456789';
  const calls = generateCalls({ seed: 30, count: 500, firstId: 50_001 });
  const tenants = { [serverKey]: calls };
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, tenants, clock, latencyMs: shape.latencyMs });
  const config = {
    ...loadConfig({}),
    upstreamBaseUrl: simulator.url,
    redisUrl,
    upstreamApiKey: serverKey,
    gatewayApiKeys: [dashboardKey],
  };
  const gateways = [0, 1].map(() => createGateway(config, { logger: options.logger ?? createLogger('silent'), clock }));
  const servers = gateways.map((gateway) => createServer(gateway.handle));
  const origins = await Promise.all(
    servers.map(async (server) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }),
  );
  // The connections to Redis come up on the wall clock (bounded).
  for (const deadline = Date.now() + 10_000; !gateways.every((g) => g.shared?.available()); ) {
    if (Date.now() > deadline) throw new Error('the replicas did not connect to Redis');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  try {
    const started = clock.now();
    const newest = calls.reduce((a, b) => (a.createdAt > b.createdAt ? a : b));
    const insertedId = 99_999;
    let insertedAt = Number.POSITIVE_INFINITY;
    const seenAfter: number[] = [];
    const insert = (async () => {
      await clock.sleep(shape.insertAtMs);
      const createdAt = new Date(newest.createdAt.getTime() + 60_000);
      const iso = createdAt.toISOString();
      const raw = { ...newest.raw, id: insertedId, created_at: iso, updated_at: iso };
      simulator.tenants.get(serverKey)!.push({ ...newest, createdAt, raw });
      insertedAt = clock.now();
    })();
    const client = async (index: number) => {
      await clock.sleep((index * shape.everyMs) / shape.clients);
      let saw = false;
      while (clock.now() - started < shape.forMs) {
        const at = clock.now();
        const response = await fetch(`${origins[index % 2]}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth(dashboardKey) },
          body: JSON.stringify({ query: 'query Dashboard { calls(first: 20) { edges { node { callId status } } } }' }),
        });
        const body = (await response.json()) as GraphQLBody;
        latencies.push(clock.now() - at);
        for (const error of body.errors ?? []) {
          const code = error.extensions?.code ?? 'NO_CODE';
          errors[code] = (errors[code] ?? 0) + 1;
        }
        const page = body.data?.calls as { edges: { node: { callId: number } }[] } | undefined;
        const ids = (page?.edges ?? []).map((e) => e.node.callId);
        if (!saw && ids.includes(insertedId)) {
          saw = true;
          seenAfter.push(clock.now() - insertedAt);
        }
        await clock.sleep(shape.everyMs);
      }
    };
    await Promise.all([insert, ...Array.from({ length: shape.clients }, (_, i) => client(i))]);
    const keyed = simulator.requests.filter((r) => r.authorization !== null);
    const times = keyed.map((r) => r.at);
    // Reads of the same list within one TTL of the previous one: both replicas missed at the same moment.
    const ttl = config.upstreamCacheTtlMs;
    const sorted = [...times].sort((a, b) => a - b);
    const duplicateReads = sorted.filter((at, i) => i > 0 && at - sorted[i - 1]! < ttl).length;
    const sortedLatencies = [...latencies].sort((a, b) => a - b);
    const quantile = (q: number) =>
      Math.round(sortedLatencies[Math.min(sortedLatencies.length - 1, Math.floor(q * sortedLatencies.length))] ?? 0);
    return {
      workload: `two replicas sharing Redis, 30 clients on one key, upstream latency ${shape.latencyMs} ms`,
      clientRequests: latencies.length,
      clientErrors: errors,
      upstreamRequests: keyed.length,
      rateLimited: simulator.rateLimited,
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      durationMs: Math.round(clock.now() - started),
      checks: {
        maxIn10s: maxInWindow(times, 10_000),
        maxIn60s: maxInWindow(times, 60_000),
        clientsThatSawTheNewCall: seenAfter.length,
        slowestToSeeItMs: Math.round(Math.max(0, ...seenAfter)),
        duplicateReads,
      },
    };
  } finally {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    for (const gateway of gateways) await gateway.close();
    await simulator.close();
  }
}

const WORKLOADS = [
  statsOverThreeThousand,
  walkOfOneThousand,
  sharedKeyDashboard,
  burstOfDistinctQueries,
  cappedPerPage,
  oneKeyFailing,
  outageAndRecovery,
] as const;

/** A report as one row of the markdown table in docs/benchmarks.md. */
function budgetRow(r: WorkloadReport): string {
  const errors =
    Object.entries(r.clientErrors)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ') || '0';
  const checks = Object.entries(r.checks)
    .map(([name, value]) => `${name}: ${value}`)
    .join('; ');
  return `| ${r.workload} | ${r.clientRequests} | ${r.upstreamRequests} | ${r.rateLimited} | ${errors} | ${r.p50Ms} / ${r.p99Ms} | ${(r.durationMs / 1000).toFixed(1)} | ${checks} |`;
}

/** The budget section of docs/benchmarks.md. */
export function renderBudget(run: { date: string; reports: WorkloadReport[] }): string[] {
  return [
    '## The upstream budget at work (`npm run bench -- budget`)',
    '',
    `Run: ${run.date}, on the wall clock; raw figures in \`bench/results/budget.json\`. Each workload starts the`,
    'embedded simulator enforcing the documented limits (100 requests a minute and 20 in 10 s per key; 429 with',
    '`Retry-After` beyond them) and a gateway with its default settings in front of it, and talks to the gateway',
    'over HTTP. "429s" counts the 429 answers the upstream sent; latencies are per client request. The',
    'two-replica rows run two gateways sharing a redis-server (`REDIS_URL`), clients spread over both; `maxIn10s`',
    "and `maxIn60s` are the most upstream requests in any 10 s and 60 s window of the simulator's log, and",
    '`duplicateReads` the reads of the list within one cache TTL of the previous one (both replicas missing at once).',
    '',
    '| Workload | Client requests | Upstream requests | 429s | Client errors | p50 / p99 ms | Seconds | Checks |',
    '| --- | ---: | ---: | ---: | --- | --- | ---: | --- |',
    ...run.reports.map(budgetRow),
    '',
  ];
}

/** `npm run bench -- budget`: the workloads in real time; writes bench/results/budget.json and docs/benchmarks.md. */
export async function budget(): Promise<boolean> {
  const reports: WorkloadReport[] = [];
  for (const workload of WORKLOADS) {
    const report = await workload({ clock: wallClock });
    console.log(budgetRow(report));
    reports.push(report);
  }
  // Issue 12: replicas sharing Redis, when a redis-server can be started here.
  const redis = await startRedisServer();
  if ('missing' in redis) {
    console.log(`skipped the two-replica workloads: ${redis.missing}`);
  } else {
    try {
      for (const latencyMs of [0, 250]) {
        const shape = { clients: 30, everyMs: 3_000, forMs: 60_000, insertAtMs: 20_000, latencyMs };
        const report = await twoReplicasSharingRedis({ clock: wallClock }, redis.url, shape);
        console.log(budgetRow(report));
        reports.push(report);
      }
    } finally {
      await redis.close();
    }
  }
  const run = { date: new Date().toISOString(), reports };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/budget.json', `${JSON.stringify(run, null, 2)}\n`);
  console.log('wrote bench/results/budget.json');
  return reports.every((r) => r.rateLimited === 0);
}
