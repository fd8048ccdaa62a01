/**
 * `npm run bench -- profile`: where the gateway's CPU goes under the fair case (issue 13: "profile first").
 * One gateway process, started as `npm run bench` starts it plus `--cpu-prof`, is loaded by autocannon with a
 * distinct API key per request for PROFILE_SECONDS (10) after the usual warm-up, then stopped with SIGTERM so
 * Node writes the profile. Self time is grouped by where the code lives (a package of node_modules, a folder of
 * src/, a Node core module, a V8 builtin such as `JSON.parse`, the garbage collector) and printed as shares of
 * the busy time, beside the CPU time per request of the main thread and of the other threads (/proc). Writes
 * bench/results/profile-<scenario>.json.
 *   PROFILE_SCENARIO (tokens; any scenario of bench/compare.ts)  PROFILE_LATENCY_MS (0)  PROFILE_SECONDS (10)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  build,
  check,
  load,
  perRequestMs,
  SCENARIOS,
  startContender,
  startUpstream,
  statCpuMs,
  stop,
} from './compare.js';

/** The parts of a `.cpuprofile` (Chrome DevTools protocol, Profiler.Profile) read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  /** Microseconds of CLOCK_MONOTONIC, the clock of `process.hrtime` in every process on Linux. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where a frame's code lives. Code without a URL (V8's builtins, natives, functions made by `new Function`)
 * is named by function, so `JSON.parse` of upstream bodies and `JSON.stringify` of results stand out.
 * Nested node_modules count for the innermost package.
 */
export function category(callFrame: { functionName: string; url: string }): string {
  const { functionName, url } = callFrame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/Node native (unattributed)';
    if (functionName === 'parse' || functionName === 'stringify') return `JSON.${functionName}`;
    // V8's builtins and code made by `new Function` (graphql-jit's compiled queries) have no URL either.
    return `no URL: ${functionName || '(anonymous)'}`;
  }
  const packages = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (packages.length > 0) return packages.at(-1)![1]!;
  const own = /\/(src|bench)\/(?:([^/]+)\/)?[^/]+\.[cm]?js$/.exec(url);
  if (own) return own[2] ? `${own[1]}/${own[2]}` : `${own[1]}/`;
  if (url.startsWith('node:'))
    return `node:${
      url
        .slice(5)
        .replace(/^internal\//, '')
        .split('/')[0]
    }`;
  return 'other';
}

export interface ProfileSummary {
  /** Samples in the window, idle included. */
  samples: number;
  idleSamples: number;
  /** Self samples by category, most first, with their share (%) of the busy (non-idle) samples. */
  categories: { name: string; samples: number; share: number }[];
  /** The functions with the most self samples. */
  functions: { name: string; category: string; samples: number; share: number }[];
}

/**
 * Shares of the busy time by category and by function. Each sample counts once: V8's sampler signals the
 * main thread at a fixed interval, but a thread the kernel has preempted takes its pending signal only when it
 * runs again, so counting samples measures running time, where summing `timeDeltas` (as DevTools does) would
 * charge the preemption to the frame that happened to resume. The machine runs the gateway beside the load
 * generator and the upstream on 2 cores, so the difference is not small.
 * `window`: only the samples taken between these two CLOCK_MONOTONIC instants (µs), e.g. the measured load.
 */
export function summarise(profile: CpuProfile, window?: { fromUs: number; toUs: number }, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, { category: string; samples: number }>();
  let total = 0;
  for (const [id, n] of counts) {
    const { callFrame } = byId.get(id)!;
    const name = category(callFrame);
    total += n;
    categories.set(name, (categories.get(name) ?? 0) + n);
    const where = callFrame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/');
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    const entry = functions.get(key) ?? { category: name, samples: 0 };
    entry.samples += n;
    functions.set(key, entry);
  }
  const idle = categories.get('idle') ?? 0;
  const share = (n: number) => Math.round((n / Math.max(1, total - idle)) * 1000) / 10;
  return {
    samples: total,
    idleSamples: idle,
    categories: [...categories]
      .filter(([name]) => name !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => ({ name, samples: n, share: share(n) })),
    functions: [...functions]
      .filter(([, f]) => f.category !== 'idle')
      .sort((a, b) => b[1].samples - a[1].samples)
      .slice(0, top)
      .map(([name, f]) => ({ name, category: f.category, samples: f.samples, share: share(f.samples) })),
  };
}

/**
 * CPU time so far of the gateway's main thread (the event loop, the one the profile samples) and of its other
 * threads (V8's platform workers: parallel scavenges, concurrent marking and compilation; libuv's pool).
 */
function threadCpuMs(pid: number): { main: number; others: number } {
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    if (Number(tid) !== pid) others += statCpuMs(`/proc/${pid}/task/${tid}/stat`);
  return { main: statCpuMs(`/proc/${pid}/task/${pid}/stat`), others };
}

export async function profile(): Promise<boolean> {
  const name = process.env.PROFILE_SCENARIO ?? 'tokens';
  const latencyMs = Number(process.env.PROFILE_LATENCY_MS ?? 0);
  const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario "${name}"; one of: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  build();
  const dir = mkdtempSync(join(tmpdir(), 'gateway-profile-'));
  const upstream = await startUpstream(latencyMs);
  try {
    const gateway = await startContender('gateway', upstream.origin, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const pid = gateway.child!.pid!;
    await check('gateway', gateway.url, scenario);
    await load(gateway.url, scenario.requests('gateway'), Number(process.env.BENCH_WARMUP ?? 3), true);
    const cpuBefore = threadCpuMs(pid);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const result = await load(gateway.url, scenario.requests('gateway'), seconds, scenario.uniqueTokens);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const cpuAfter = threadCpuMs(pid);
    await stop(gateway.child!);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the gateway wrote no .cpuprofile (did it exit through its SIGTERM handler?)');
    // Only the measured load: start-up, compilation and warm-up are left out.
    const summary = summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, { fromUs, toUs });
    if (summary.samples < seconds * 100)
      throw new Error(`the profile holds ${summary.samples} samples of the ${seconds} s load`);
    const report = {
      date: new Date().toISOString(),
      scenario: name,
      latencyMs,
      seconds,
      requestsPerSecond: Math.round(result.requests.average),
      cpuMsPerRequest: {
        mainThread: perRequestMs(cpuAfter.main - cpuBefore.main, result.requests.total),
        otherThreads: perRequestMs(cpuAfter.others - cpuBefore.others, result.requests.total),
      },
      ...summary,
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/profile-${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      `${name}, ${latencyMs} ms: ${report.requestsPerSecond} req/s, CPU per request ${report.cpuMsPerRequest.mainThread} ms on the main thread + ${report.cpuMsPerRequest.otherThreads} ms on the others; idle ${((summary.idleSamples / summary.samples) * 100).toFixed(1)}% of ${summary.samples} samples`,
    );
    for (const c of summary.categories.slice(0, 30)) console.log(`${String(c.share).padStart(5)}%  ${c.name}`);
    console.log('top functions (self time):');
    for (const f of summary.functions) console.log(`${String(f.share).padStart(5)}%  ${f.name}`);
    console.log(`wrote bench/results/profile-${name}.json`);
    return result.errors + result.non2xx + result.timeouts === 0;
  } finally {
    await stop(upstream.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
