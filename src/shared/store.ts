/**
 * The Redis connection that replicas and workers share state through (issue "Live calls and many
 * replicas"): budgets, the page cache, pauses, pollers' leases and the event logs. Built once per process
 * in server.ts, only when `REDIS_URL` is set; without it everything stays in the process, as before.
 *
 * It fails open. Commands fail fast while Redis is unreachable (no offline queue, a short command timeout),
 * `attempt` then returns the caller's local fallback, counts the failure and logs the change of state once,
 * and ioredis reconnects by itself. Keys carry only key hashes, never a token, and every key is written
 * with a TTL by its owner module, so Redis memory stays bounded (set `maxmemory-policy volatile-lru` as well).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface SharedStoreOptions {
  /** Longest a command may take before the caller falls back to local state. @default 250 */
  commandTimeoutMs?: number;
  /** Prefix of every key this gateway writes. @default calls-gw */
  prefix?: string;
}

export interface SharedStore {
  readonly redis: Redis;
  /** Connected and ready now. */
  available(): boolean;
  /** Commands that failed and fell back to local state (monotonic). */
  readonly failures: number;
  /** A key of this gateway: the prefix and the parts, joined by `:`. */
  key(...parts: (string | number)[]): string;
  /** Runs `command`; when Redis fails, counts it and returns `fallback()` instead of throwing. */
  attempt<T>(what: string, command: (redis: Redis) => Promise<T>, fallback: () => T): Promise<T>;
  /** Counts a command not even sent because Redis is unreachable (the caller used its local state at once). */
  skipped(what: string): void;
  close(): Promise<void>;
}

export function connectSharedStore(url: string, logger: Logger, options: SharedStoreOptions = {}): SharedStore {
  const prefix = options.prefix ?? 'calls-gw';
  const redis = new Redis(url, {
    // Fail fast and fall back, rather than queue work behind a Redis that is not there.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 250,
    connectTimeout: 2_000,
    // Reconnect by itself, backing off to one attempt every 2 s.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  let up = false;
  let failures = 0;
  redis.on('ready', () => {
    if (!up) logger.info('shared store (Redis) connected');
    up = true;
  });
  const down = (error?: Error) => {
    if (up) logger.warn({ error: error?.message }, 'shared store (Redis) unavailable; serving with local state');
    up = false;
  };
  redis.on('error', down);
  redis.on('close', () => down());
  redis.on('end', () => down());

  return {
    redis,
    available: () => up && redis.status === 'ready',
    get failures() {
      return failures;
    },
    key: (...parts) => [prefix, ...parts].join(':'),
    async attempt(what, command, fallback) {
      if (!up || redis.status !== 'ready') {
        failures++;
        return fallback();
      }
      try {
        return await command(redis);
      } catch (error) {
        failures++;
        logger.debug({ what, error: (error as Error).message }, 'shared store command failed; local state used');
        return fallback();
      }
    },
    skipped() {
      failures++;
    },
    async close() {
      redis.disconnect();
    },
  };
}
