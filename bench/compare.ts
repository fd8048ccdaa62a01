/**
 * `npm run bench`: the side-by-side benchmark of issue 5. On one machine, in one run, each contender
 * in its own process and in turn, after a warm-up, loaded by autocannon from a separate process:
 *   rest     the upstream REST endpoint itself (the throughput ceiling)
 *   proxy    a minimal undici proxy without GraphQL (the limit for any Node gateway)
 *   gateway  this project, compiled, NODE_ENV=production, one process
 *   gateway-x2  the same with WORKERS=2 (Node cluster; the machine has 2 cores shared with load and upstream)
 *   mesh     GraphQL Mesh + Hive Gateway over an OpenAPI 3 description (bench/peers/mesh, installed on demand)
 * with zero and 20 ms of upstream latency, then cost growth by page size and transcript length.
 * Writes bench/results/<date>.json, bench/results/latest.json and docs/benchmarks.md.
 *
 *   BENCH_SECONDS (10)  BENCH_WARMUP (3)  BENCH_CONNECTIONS (20)  BENCH_LATENCIES (0,20)
 *   BENCH_CONTENDERS (rest,proxy,gateway,mesh)  BENCH_GROWTH (1: also measure cost growth)
 *   BENCH_SCENARIOS (all: tokens,tokens100,page15,page100,totalOnly,walk10)
 *   BENCH_GATEWAY_ENV (a JSON object of gateway settings laid over the ones below, for A/B runs of one
 *     lever; such a run writes only its dated file)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { encodeCursor } from '../src/pagination/cursor.js';
import { renderBudget } from './budget.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const LATENCIES = (process.env.BENCH_LATENCIES ?? '0,20').split(',').map(Number);
const CONTENDERS = (process.env.BENCH_CONTENDERS ?? 'rest,proxy,gateway,gateway-x2,mesh').split(',') as Kind[];
const GROWTH = process.env.BENCH_GROWTH !== '0';
const ONLY = process.env.BENCH_SCENARIOS?.split(',');
// Production needs 32+ characters (issue 11 item 9); the benchmark signs its own `after` cursors with it.
const CURSOR_SECRET = 'bench-cursor-secret-of-32-characters-or-more';
const TOKEN = 'bench-token';

type Kind = 'rest' | 'proxy' | 'gateway' | 'gateway-x2' | 'mesh';
interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}
interface Scenario {
  name: string;
  title: string;
  /** Requests per contender kind; autocannon cycles through them. */
  requests(kind: Kind): Request[];
  /** How many calls each response must hold (checked once before measuring). */
  items: number;
  uniqueTokens?: boolean;
}
interface Measurement {
  latencyMs: number;
  contender: Kind;
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMB: number;
  /** CPU time (user + system) of the contender's processes per request served, in ms. */
  cpuMsPerRequest?: number;
  upstreamPerRequest: number;
  requests: number;
  errors: number;
}

const SCALARS_GQL =
  'callId assistantName campaignName type durationSeconds assistantPhoneNumber clientPhoneNumber status variables webhookResponse carrierCost totalCost answeredBy recordingUrl createdAt updatedAt';
const SCALARS_MESH =
  'id assistant_name campaign_name type duration assistant_phone_number client_phone_number status variables webhook_response carrier_cost total_cost answered_by recording_url created_at updated_at';
const RICH_GQL = 'callId status transcript { text sender timestamp } evaluation { name type value description }';
const RICH_MESH = 'id status transcript { text sender timestamp } evaluation { name type value description }';

const gql = (query: string): Request => ({ method: 'POST', path: '/graphql', body: JSON.stringify({ query }) });
const rest = (perPage: number, page = 1): Request => ({
  method: 'GET',
  path: `/api/user/calls?per_page=${perPage}&page=${page}`,
});

const isGateway = (kind: Kind) => kind === 'gateway' || kind === 'gateway-x2';

function pageScenario(name: string, title: string, size: number, gqlFields: string, meshFields: string): Scenario {
  return {
    name,
    title,
    items: size,
    requests: (kind) =>
      isGateway(kind)
        ? [
            gql(
              `{ calls(first: ${size}) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${gqlFields} } } } }`,
            ),
          ]
        : kind === 'mesh'
          ? [
              gql(
                `{ listCalls(per_page: ${size}, page: 1) { ... on CallPage { total last_page data { ${meshFields} } } } }`,
              ),
            ]
          : [rest(size)],
  };
}

/**
 * The fair case first: every request carries its own API key, as when each user of a frontend has
 * theirs, so nothing can be coalesced or cached (issue 13). The same-key scenarios after them are the
 * best case: 20 connections send one query with one key, and most requests share another's upstream
 * request.
 */
export const SCENARIOS: Scenario[] = [
  {
    ...pageScenario('tokens', 'a 15-call page, a distinct API key per request', 15, SCALARS_GQL, SCALARS_MESH),
    uniqueTokens: true,
  },
  {
    ...pageScenario(
      'tokens100',
      'a 100-call page with transcripts and evaluations, a distinct API key per request',
      100,
      RICH_GQL,
      RICH_MESH,
    ),
    uniqueTokens: true,
  },
  pageScenario('page15', 'best case, one key: a 15-call page, every scalar field', 15, SCALARS_GQL, SCALARS_MESH),
  pageScenario(
    'page100',
    'best case, one key: a 100-call page with transcripts and evaluations',
    100,
    RICH_GQL,
    RICH_MESH,
  ),
  {
    name: 'totalOnly',
    title: 'best case, one key: `totalCount` only',
    items: 0,
    requests: (kind) =>
      isGateway(kind)
        ? [gql('{ calls { totalCount } }')]
        : kind === 'mesh'
          ? [gql('{ listCalls(per_page: 1) { ... on CallPage { total } } }')]
          : [rest(1)],
  },
  {
    name: 'walk10',
    title: 'best case, one key: a walk of 10 consecutive 15-call pages',
    items: 15,
    requests: (kind) =>
      Array.from({ length: 10 }, (_, k) => {
        if (isGateway(kind)) {
          // The cursor a client would hold: anchored on the previous page's last call (drift-proof).
          // bench/fixed-upstream.ts makes row i the call 100000 + CALLS - i, created 97 s before row i - 1.
          const row = 15 * k - 1;
          const anchor = { callId: 100_000 + 2_000 - row, createdAtMs: Date.UTC(2026, 9, 31) - row * 97_000 };
          const after =
            k === 0 ? '' : `, after: "${encodeCursor(row, { filterKey: '', secret: CURSOR_SECRET }, anchor)}"`;
          return gql(
            `{ calls(first: 15${after}) { drift { status } pageInfo { hasNextPage endCursor } edges { node { ${SCALARS_GQL} } } } }`,
          );
        }
        if (kind === 'mesh')
          return gql(
            `{ listCalls(per_page: 15, page: ${k + 1}) { ... on CallPage { last_page data { ${SCALARS_MESH} } } } }`,
          );
        return rest(15, k + 1);
      }),
  },
];

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function start(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  cwd?: string,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(args[0]!, args.slice(1), {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')} not ready in 60 s:\n${output.slice(-2000)}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${output.slice(-2000)}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** The process and its children (the cluster's workers). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    children = [];
  }
  return [pid, ...children.flatMap(processTree)];
}

/** Peak resident memory since the last reset, from /proc (VmHWM), summed over the process tree. */
function peakRssMB(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    const line = readFileSync(`/proc/${p}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    kb += Number(line?.split(/\s+/)[1] ?? 0);
  }
  return Math.round(kb / 1024);
}
/**
 * CPU time (user + system) so far of the process or thread whose stat file this is, in ms: fields 14 and 15
 * of /proc/<pid>/stat, in USER_HZ ticks, which Linux fixes at 100 a second for user space. 0 when it is gone.
 */
export function statCpuMs(statFile: string): number {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = readFileSync(statFile, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    // A worker that exited between listing and reading: its time is lost to this sample only.
    return 0;
  }
}
/**
 * CPU time used so far by the process tree, in ms. Per request and multiplied by req/s, it says how busy the
 * contender was: under 1000 ms a second for one process means it waited.
 */
function cpuMs(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statCpuMs(`/proc/${p}/stat`), 0);
}
/** Milliseconds of CPU per request served, to the microsecond. */
export const perRequestMs = (ms: number, requests: number) => Math.round((ms / Math.max(1, requests)) * 1000) / 1000;
function resetPeak(pid: number): void {
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      // Not permitted on every kernel; the peak then covers the process's whole life.
    }
  }
}

async function upstreamCount(origin: string): Promise<number> {
  return ((await (await fetch(`${origin}/__stats`)).json()) as { requests: number }).requests;
}

export async function load(url: string, requests: Request[], seconds: number, uniqueTokens = false) {
  const spec = {
    url,
    connections: CONNECTIONS,
    seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    requests,
    uniqueTokens,
  };
  const child = spawn(process.execPath, ['dist-bench/bench/load.js', JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let output = '';
  child.stdout.on('data', (c) => (output += String(c)));
  await new Promise((resolve) => child.once('exit', resolve));
  children.delete(child);
  return JSON.parse(output) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
    timeouts: number;
  };
}

/** One request of each kind, checked, so a contender that answers errors fast cannot win. */
export async function check(kind: Kind, url: string, scenario: Scenario): Promise<void> {
  for (const request of scenario.requests(kind)) {
    const response = await fetch(url + request.path, {
      method: request.method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: request.body,
    });
    // biome-ignore lint/suspicious/noExplicitAny: three contenders answer three shapes; the checks below probe them
    const json = (await response.json()) as Record<string, any>;
    const items = isGateway(kind)
      ? json.data?.calls?.edges?.length
      : kind === 'mesh'
        ? json.data?.listCalls?.data?.length
        : json.data?.length;
    const drift = isGateway(kind) ? json.data?.calls?.drift : undefined;
    const ok =
      response.status === 200 &&
      !json.errors &&
      (scenario.items === 0 ? true : items === scenario.items) &&
      (drift == null || drift.status === 'CLEAN');
    if (!ok) throw new Error(`${kind} ${scenario.name}: unexpected answer ${JSON.stringify(json).slice(0, 500)}`);
  }
}

/** `nodeFlags`: more V8/Node flags for a gateway (the profile adds `--cpu-prof`). */
export async function startContender(
  kind: Kind,
  upstream: string,
  nodeFlags: string[] = [],
): Promise<{ url: string; child: ChildProcess | null }> {
  if (kind === 'rest') return { url: upstream, child: null };
  const port = await freePort();
  if (kind === 'proxy') {
    const { child } = await start(
      [process.execPath, 'dist-bench/bench/proxy.js'],
      { PORT: String(port), UPSTREAM: upstream },
      /READY/,
    );
    return { url: `http://127.0.0.1:${port}`, child };
  }
  if (isGateway(kind)) {
    const env = {
      WORKERS: kind === 'gateway-x2' ? '2' : '1',
      NODE_ENV: 'production',
      PORT: String(port),
      UPSTREAM_BASE_URL: `${upstream}/api`,
      CURSOR_SECRET,
      // No router in the benchmark; production refuses an open /subgraph (issue 11 item 10).
      SUBGRAPH_ENABLED: 'false',
      // Metrics are collected as in a deployment that scrapes them (and as in earlier runs); production
      // collects none unless METRICS_PORT or METRICS_TOKEN says where they go. Port 0: any free one.
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      // The per-key bulkhead (default 8) protects a real upstream's per-key rate limit; the peers have none,
      // so the throughput comparison lifts it.
      UPSTREAM_CONCURRENCY_PER_KEY: '64',
      // The throughput comparison measures CPU cost, not the upstream's budget (../shared/docs/clarifications.md: a very
      // large value effectively turns shaping off); `npm run bench -- budget` measures the budget at work.
      UPSTREAM_RATE_LIMITS: '999999999/60s',
      PAGE_SIZE_MAX: '100',
      ...(JSON.parse(process.env.BENCH_GATEWAY_ENV ?? '{}') as Record<string, string>),
    };
    const { child } = await start(
      [process.execPath, ...gatewayNodeFlags(), ...nodeFlags, 'dist-bench/src/main.js'],
      env,
      /calls gateway listening/,
    );
    child.stdout!.resume();
    return { url: `http://127.0.0.1:${port}`, child };
  }
  const dir = 'bench/peers/mesh';
  if (!existsSync(`${dir}/node_modules/.bin/hive-gateway`)) {
    console.log('installing GraphQL Mesh + Hive Gateway (bench/peers/mesh) …');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  }
  execFileSync('node_modules/.bin/mesh-compose', ['-o', 'supergraph.graphql'], {
    cwd: dir,
    env: { ...process.env, UPSTREAM: upstream },
    stdio: 'ignore',
  });
  const { child } = await start(
    [
      'node_modules/.bin/hive-gateway',
      'supergraph',
      'supergraph.graphql',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { NODE_ENV: 'production' },
    /Listening on/,
    dir,
  );
  return { url: `http://127.0.0.1:${port}`, child };
}

/**
 * The V8 flags `npm start` runs the gateway with (package.json, the one place they are written; the
 * Dockerfile repeats them and test/bench/node-flags.test.ts keeps the two in step). A fixed 16 MB young
 * generation: issue 13 measured ×1.4 req/s with a distinct key per request, for about 12 MB of RSS.
 */
export function gatewayNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
  return /\bnode ((?:--\S+ )*)dist\/main\.js/.exec(start)?.[1]?.trim().split(' ') ?? [];
}

export async function startUpstream(latencyMs: number, segments = 8): Promise<{ origin: string; child: ChildProcess }> {
  const { child, match } = await start(
    [process.execPath, 'dist-bench/bench/fixed-upstream.js'],
    { LATENCY_MS: String(latencyMs), SEGMENTS: String(segments) },
    /UPSTREAM (\S+)/,
  );
  return { origin: match[1]!, child };
}

async function measure(
  latencyMs: number,
  kind: Kind,
  url: string,
  pid: number | undefined,
  upstream: string,
  scenario: Scenario,
  label = scenario.name,
): Promise<Measurement> {
  await check(kind, url, scenario);
  if (pid) resetPeak(pid);
  const before = await upstreamCount(upstream);
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const result = await load(url, scenario.requests(kind), SECONDS, scenario.uniqueTokens);
  const cpu = pid ? cpuMs(pid) - cpuBefore : 0;
  const upstreamRequests = (await upstreamCount(upstream)) - before;
  const m: Measurement = {
    latencyMs,
    contender: kind,
    scenario: label,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    peakRssMB: pid ? peakRssMB(pid) : 0,
    cpuMsPerRequest: perRequestMs(cpu, result.requests.total),
    upstreamPerRequest:
      kind === 'rest' ? 1 : Math.round((upstreamRequests / Math.max(1, result.requests.total)) * 100) / 100,
    requests: result.requests.total,
    errors: result.errors + result.non2xx + result.timeouts,
  };
  console.log(
    `${String(latencyMs).padStart(2)} ms  ${kind.padEnd(7)} ${label.padEnd(12)} ${String(m.requestsPerSecond).padStart(6)} req/s  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms  rss ${m.peakRssMB} MB  cpu ${m.cpuMsPerRequest} ms/req  upstream/req ${m.upstreamPerRequest}  errors ${m.errors}`,
  );
  return m;
}

function versions(): Record<string, string> {
  const version = (dir: string) => {
    try {
      return (JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      return 'n/a';
    }
  };
  return {
    node: process.version,
    'graphql-yoga': version('node_modules/graphql-yoga'),
    graphql: version('node_modules/graphql'),
    undici: version('node_modules/undici'),
    autocannon: version('node_modules/autocannon'),
    '@graphql-hive/gateway': version('bench/peers/mesh/node_modules/@graphql-hive/gateway'),
    '@graphql-mesh/compose-cli': version('bench/peers/mesh/node_modules/@graphql-mesh/compose-cli'),
    '@omnigraph/openapi': version('bench/peers/mesh/node_modules/@omnigraph/openapi'),
  };
}

/** Compiles the gateway and the benchmark's processes into dist-bench/. */
export function build(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bench.json'], {
    stdio: 'inherit',
  });
}

export async function compare(): Promise<boolean> {
  build();
  const results: Measurement[] = [];
  for (const latencyMs of LATENCIES) {
    const upstream = await startUpstream(latencyMs);
    for (const kind of CONTENDERS) {
      const contender = await startContender(kind, upstream.origin);
      await check(kind, contender.url, SCENARIOS[0]!);
      await load(contender.url, SCENARIOS[0]!.requests(kind), WARMUP);
      for (const scenario of SCENARIOS.filter((s) => !ONLY || ONLY.includes(s.name))) {
        results.push(
          await measure(
            latencyMs,
            kind,
            contender.url,
            contender.child?.pid ?? upstream.child.pid,
            upstream.origin,
            scenario,
          ),
        );
      }
      if (contender.child) await stop(contender.child);
    }
    await stop(upstream.child);
  }

  const growth: Measurement[] = [];
  if (GROWTH) {
    const growthContenders = CONTENDERS.filter((k) => k !== 'rest' && k !== 'gateway-x2');
    const upstream = await startUpstream(0);
    for (const kind of growthContenders) {
      const contender = await startContender(kind, upstream.origin);
      await load(contender.url, SCENARIOS[0]!.requests(kind), WARMUP);
      for (const size of [15, 50, 100]) {
        const scenario = pageScenario(`page${size}`, `${size} calls`, size, SCALARS_GQL, SCALARS_MESH);
        growth.push(
          await measure(0, kind, contender.url, contender.child?.pid, upstream.origin, scenario, `size ${size}`),
        );
      }
      if (contender.child) await stop(contender.child);
    }
    await stop(upstream.child);
    for (const segments of [10, 100, 1000]) {
      const upstream = await startUpstream(0, segments);
      for (const kind of growthContenders) {
        const contender = await startContender(kind, upstream.origin);
        await load(contender.url, SCENARIOS[0]!.requests(kind), WARMUP);
        const scenario = pageScenario(
          'transcripts',
          `15 calls, ${segments} segments each`,
          15,
          'callId transcript { text sender timestamp }',
          'id transcript { text sender timestamp }',
        );
        growth.push(
          await measure(
            0,
            kind,
            contender.url,
            contender.child?.pid,
            upstream.origin,
            scenario,
            `segments ${segments}`,
          ),
        );
        if (contender.child) await stop(contender.child);
      }
      await stop(upstream.child);
    }
  }

  const report = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    versions: versions(),
    settings: { seconds: SECONDS, warmupSeconds: WARMUP, connections: CONNECTIONS, latencies: LATENCIES },
    results,
    growth,
  };
  mkdirSync('bench/results', { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  writeFileSync(`bench/results/${stamp}.json`, `${JSON.stringify(report, null, 2)}\n`);
  // A run with a lever changed is an experiment: it does not replace the published figures.
  if (process.env.BENCH_GATEWAY_ENV) {
    console.log(`wrote bench/results/${stamp}.json (BENCH_GATEWAY_ENV set: latest.json and docs/benchmarks.md kept)`);
  } else {
    writeFileSync('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync('docs/benchmarks.md', renderMarkdown(report));
    console.log('wrote bench/results/latest.json and docs/benchmarks.md');
  }
  return results.every((m) => m.errors === 0);
}

type Report = {
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number };
  versions: Record<string, string>;
  settings: Record<string, unknown>;
  results: Measurement[];
  growth: Measurement[];
};

const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '–');

function renderMarkdown(report: Report): string {
  const find = (list: Measurement[], latency: number, kind: Kind, scenario: string) =>
    list.find((m) => m.latencyMs === latency && m.contender === kind && m.scenario === scenario);
  const lines: string[] = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (bench/compare.ts); raw figures in `bench/results/latest.json`.',
    '',
    `- Run: ${report.date}, ${report.machine.cores} × ${report.machine.cpu}, ${report.machine.memoryGiB} GiB.`,
    `- Versions: ${Object.entries(report.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `- Load: autocannon in its own process, ${report.settings.connections} connections, ${report.settings.warmupSeconds} s warm-up per contender, then ${report.settings.seconds} s per scenario. Upstream: bench/fixed-upstream.ts in its own process (pages rendered once, served from memory). Each contender runs alone, in turn, in its own process; all share the machine's cores with the load generator and the upstream.`,
    '- Contenders: `rest` is the upstream itself (the ceiling), `proxy` a minimal undici proxy without GraphQL (bench/proxy.ts), `gateway` this project (compiled, `NODE_ENV=production`, `UPSTREAM_CONCURRENCY_PER_KEY=64`, one process), `gateway-x2` the same with `WORKERS=2` (Node cluster: more processes on the same 2 cores, so it takes CPU from the load generator and the upstream; the other contenders are single processes), `mesh` GraphQL Mesh + Hive Gateway over an OpenAPI 3 description of the same endpoint (bench/peers/mesh).',
    '- Peak RSS is the contender process\'s high-water mark during the scenario (`rest`: the upstream process). "CPU ms/req" is the CPU time (user + system, from `/proc/<pid>/stat`) of the contender\'s processes during the scenario divided by the requests served; times req/s, it says how busy the contender was (1000 ms a second is one core fully used). "Upstream/req" counts upstream requests per client request.',
    '',
  ];
  for (const latency of report.settings.latencies as number[]) {
    lines.push(`## Upstream latency ${latency} ms`, '');
    lines.push(
      '| Scenario | Contender | req/s | p50 ms | p99 ms | Peak RSS MB | CPU ms/req | Upstream/req | Errors |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const scenario of SCENARIOS) {
      for (const kind of ['rest', 'proxy', 'gateway', 'gateway-x2', 'mesh'] as Kind[]) {
        const m = find(report.results, latency, kind, scenario.name);
        if (m)
          lines.push(
            `| ${scenario.title} | ${kind} | ${m.requestsPerSecond} | ${m.p50Ms} | ${m.p99Ms} | ${m.peakRssMB} | ${m.cpuMsPerRequest ?? '–'} | ${m.upstreamPerRequest} | ${m.errors} |`,
          );
      }
    }
    lines.push(
      '',
      '| Scenario | gateway / mesh req/s | gateway / mesh p99 | gateway / proxy req/s | gateway-x2 / mesh req/s | gateway-x2 / proxy req/s |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const scenario of SCENARIOS) {
      const g = find(report.results, latency, 'gateway', scenario.name);
      const g2 = find(report.results, latency, 'gateway-x2', scenario.name);
      const mesh = find(report.results, latency, 'mesh', scenario.name);
      const proxy = find(report.results, latency, 'proxy', scenario.name);
      lines.push(
        `| ${scenario.title} | ${ratio(g?.requestsPerSecond, mesh?.requestsPerSecond)} | ${ratio(g?.p99Ms, mesh?.p99Ms)} | ${ratio(g?.requestsPerSecond, proxy?.requestsPerSecond)} | ${ratio(g2?.requestsPerSecond, mesh?.requestsPerSecond)} | ${ratio(g2?.requestsPerSecond, proxy?.requestsPerSecond)} |`,
      );
    }
    lines.push('');
  }
  if (report.growth.length > 0) {
    lines.push(
      '## How cost grows (upstream latency 0 ms)',
      '',
      '| Load | Contender | req/s | p99 ms | Peak RSS MB |',
      '| --- | --- | ---: | ---: | ---: |',
    );
    for (const m of report.growth)
      lines.push(`| ${m.scenario} | ${m.contender} | ${m.requestsPerSecond} | ${m.p99Ms} | ${m.peakRssMB} |`);
    lines.push('');
  }
  const at = (latency: number, kind: Kind, scenario: string) => find(report.results, latency, kind, scenario);
  const gatewayRuns = report.results.filter((m) => m.contender === 'gateway');
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  /** One target row: gateway against a baseline of the same scenario and latency. */
  const target = (
    label: string,
    latency: number,
    scenario: string,
    of: 'requestsPerSecond' | 'p99Ms',
    base: Kind,
    holds: (ratio: number) => boolean,
  ) => {
    const g = at(latency, 'gateway', scenario);
    const b = at(latency, base, scenario);
    return `| ${label} | ${ratio(g?.[of], b?.[of])} | ${verdict(g && b ? holds(g[of] / b[of]) : undefined)} |`;
  };
  lines.push(
    '## Targets (issue 13: a distinct API key per request)',
    '',
    '| Target | Measured | |',
    '| --- | --- | --- |',
    target('15-call page, 0 ms: ≥ 3× Mesh req/s', 0, 'tokens', 'requestsPerSecond', 'mesh', (r) => r >= 3),
    target('15-call page, 0 ms: p99 ≤ ½ Mesh', 0, 'tokens', 'p99Ms', 'mesh', (r) => r <= 0.5),
    target(
      '15-call page, 0 ms: ≥ 0.35× the minimal proxy (stretch 0.5×)',
      0,
      'tokens',
      'requestsPerSecond',
      'proxy',
      (r) => r >= 0.35,
    ),
    target('15-call page, 20 ms: ≥ 1.3× Mesh req/s', 20, 'tokens', 'requestsPerSecond', 'mesh', (r) => r >= 1.3),
    target('15-call page, 20 ms: p99 ≤ ⅔ Mesh', 20, 'tokens', 'p99Ms', 'mesh', (r) => r <= 2 / 3),
    target(
      '100-call page with transcripts, 0 ms: ≥ 5× Mesh req/s',
      0,
      'tokens100',
      'requestsPerSecond',
      'mesh',
      (r) => r >= 5,
    ),
    `| Peak RSS < 150 MB in every scenario | max ${Math.max(0, ...gatewayRuns.map((m) => m.peakRssMB))} MB | ${verdict(gatewayRuns.length ? gatewayRuns.every((m) => m.peakRssMB < 150) : undefined)} |`,
    `| Upstream requests per query ≤ the planner's optimum (1; less when one key's identical queries share one) | ${[...new Set(gatewayRuns.map((m) => m.upstreamPerRequest))].sort((a, b) => a - b).join(', ')} | ${verdict(gatewayRuns.length ? gatewayRuns.every((m) => m.upstreamPerRequest <= 1.02) : undefined)} |`,
    '',
    '## Reading the targets',
    '',
    '- **Distinct keys first.** Every user has their own key, so the fair case gets no coalescing and no cache: each request costs one upstream request and the whole GraphQL pipeline. The best-case rows (one key, 20 connections sending the same query) share upstream requests or are answered by the page cache (0 upstream requests per query), and are shown for comparison only.',
    "- **Against the minimal proxy.** The proxy does no GraphQL at all. A graphql-yoga server answering `{ __typename }` with no upstream serves about 4,500–5,000 req/s on this kind of machine (`../shared/docs/stack.md` §5), so yoga's own floor bounds the ratio; the gateway spends the rest on limits, execution, the upstream exchange and the JSON of every call. `gateway-x2` shows what a second worker adds on these 2 cores, which the load generator and the upstream also use.",
    '- **Noise.** Figures move by about ±15% between runs on this shared 2-core machine; compare ratios within one run.',
    '',
  );
  if (existsSync('bench/levers.md')) lines.push(readFileSync('bench/levers.md', 'utf8').trimEnd(), '');
  if (existsSync('bench/results/budget.json'))
    lines.push(...renderBudget(JSON.parse(readFileSync('bench/results/budget.json', 'utf8'))));
  return `${lines.join('\n')}\n`;
}

/** Rewrites docs/benchmarks.md from bench/results/latest.json without measuring again. */
export async function render(): Promise<boolean> {
  const report = JSON.parse(readFileSync('bench/results/latest.json', 'utf8')) as Report;
  writeFileSync('docs/benchmarks.md', renderMarkdown(report));
  console.log('wrote docs/benchmarks.md');
  return true;
}
