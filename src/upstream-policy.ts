/**
 * How the gateway treats the upstream: the few settings an operator sets (deadline, budget, per-key
 * concurrency, queue wait) and the fixed rest, the recommended values of ../shared/docs/reliability.md §2. The fixed
 * values are constants, not variables: they follow from the upstream's documented behaviour, not from a deployment.
 * Tests shorten them through `createGateway`'s `upstream` option.
 */
import type { Config } from './config.js';
import { shareOf } from './upstream/budget.js';
import type { UpstreamClientOptions } from './upstream/client.js';

/** One attempt's deadline, below the total deadline so that a slow attempt can be retried
 * (../shared/docs/reliability.md §2). */
const ATTEMPT_TIMEOUT_MS = 8_000;
/** TCP/TLS connect timeout (../shared/docs/reliability.md §2: undici's 10 s is too long for a probe or a retry). */
const CONNECT_TIMEOUT_MS = 3_000;
/** Keep-alive sockets to the one upstream origin (../shared/docs/reliability.md §2). */
export const CONNECTIONS = 32;
/** Larger upstream bodies are refused, `UPSTREAM_BAD_RESPONSE` (../shared/docs/reliability.md §2: undici sets no
 * limit). */
const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
/** Retries of a GET: 3 attempts at most (../shared/docs/reliability.md §2). */
const MAX_RETRIES = 2;
/** Full-jitter back-off, base and cap (../shared/docs/reliability.md §2). */
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 4_000;
/** Retries stay within 10% of requests plus a floor of 10 a second (../shared/docs/reliability.md §2, the SRE book's
 * budget). */
const RETRY_BUDGET = { ratio: 0.1, minPerSecond: 10, windowMs: 10_000 };
/**
 * The circuit of the whole upstream: open at 50% failures over at least 20 calls from at least 3 keys in
 * 30 s, for 15 s, then one probe (../shared/docs/reliability.md §2). A key whose requests fail 5 times in a row pauses
 * alone for the same 15 s.
 */
const BREAKER = { failureRatio: 0.5, minCalls: 20, minKeys: 3, windowMs: 30_000, openMs: 15_000 };
const KEY_FAILURES = 5;
/** Upstream requests in flight, all keys together (../shared/docs/reliability.md §2: global 64). */
const GLOBAL_CONCURRENCY = 64;
/** Requests queued per key at most; the queue's wait is bounded by `UPSTREAM_QUEUE_TIMEOUT_MS`. */
const MAX_QUEUE = 100;
/** Added to each budget window for clock differences with the upstream. */
const WINDOW_MARGIN_MS = 250;
/** Background reads (statistics, drift searches) may use 75% of a key's budget, so interactive reads never wait for
 * them. */
const BULK_SHARE = 0.75;
/** Keys whose budget is tracked at most (the least recently used is forgotten first). */
const MAX_KEYS = 10_000;

/** What tests may change of the policy: any field, and single fields of the breaker and the scheduler. */
export type UpstreamPolicyOverrides = Partial<Omit<UpstreamClientOptions, 'breaker' | 'scheduler'>> & {
  breaker?: Partial<UpstreamClientOptions['breaker']>;
  scheduler?: Partial<UpstreamClientOptions['scheduler']>;
};

type PolicySettings = Pick<
  Config,
  | 'upstreamTimeoutMs'
  | 'upstreamRateLimits'
  | 'upstreamConcurrencyPerKey'
  | 'upstreamQueueTimeoutMs'
  | 'redisUrl'
  | 'workers'
> & { upstreamBaseUrl: string };

/** The upstream policy: the environment's settings plus the fixed parts of ../shared/docs/reliability.md §2. */
export function upstreamClientOptions(
  config: PolicySettings,
  overrides: UpstreamPolicyOverrides = {},
): UpstreamClientOptions {
  const { breaker, scheduler, ...rest } = overrides;
  const openMs = breaker?.openMs ?? BREAKER.openMs;
  return {
    baseUrl: config.upstreamBaseUrl,
    timeoutMs: config.upstreamTimeoutMs,
    attemptTimeoutMs: Math.min(ATTEMPT_TIMEOUT_MS, config.upstreamTimeoutMs),
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    connections: CONNECTIONS,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    maxRetries: MAX_RETRIES,
    retryBaseMs: RETRY_BASE_MS,
    retryCapMs: RETRY_CAP_MS,
    retryBudget: RETRY_BUDGET,
    ...rest,
    breaker: { ...BREAKER, ...breaker },
    scheduler: {
      // Worker processes without a shared store each take their share, so together they stay within
      // the key's budget (../shared/docs/clarifications.md, "One key, one budget"). With one (REDIS_URL) they share the
      // whole budget, and each falls back to its share only while Redis is unreachable (shared/budget.ts).
      windows: config.redisUrl ? config.upstreamRateLimits : shareOf(config.upstreamRateLimits, 1 / config.workers),
      marginMs: WINDOW_MARGIN_MS,
      bulkShare: BULK_SHARE,
      perKey: config.upstreamConcurrencyPerKey,
      global: GLOBAL_CONCURRENCY,
      maxQueue: MAX_QUEUE,
      maxWaitMs: config.upstreamQueueTimeoutMs,
      keyFailures: KEY_FAILURES,
      // A failing key pauses as long as the circuit stays open (README, "Living within the upstream's budget").
      keyPauseMs: openMs,
      maxKeys: MAX_KEYS,
      ...scheduler,
    },
  };
}
