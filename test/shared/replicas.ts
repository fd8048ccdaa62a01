/**
 * Two gateways (in-process `createGateway` instances, each with its own Redis connection) in front of one
 * simulator, sharing one redis-server: replicas as the tests of issue 12 need them. Every log line goes to
 * the suite-wide capture that global-setup.ts checks for credentials (T6).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { createGateway, type Gateway, type GatewayConfig } from '../../src/server.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/server.js';

export interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; retryAfter?: number } }[];
}

export interface Replicas {
  simulator: Simulator;
  gateways: Gateway[];
  /** Sends an operation to gateway `index` with `token` as the bearer token. */
  query(index: number, token: string, query: string, headers?: Record<string, string>): Promise<Body>;
  /** Upstream requests with a key (the readiness probe carries none). */
  upstream(): Simulator['requests'];
  close(): Promise<void>;
}

/** Where the gateways' logs go: the suite's capture file. */
function captureLogger() {
  const captureFile = join(inject('logDir'), `${process.pid}.log`);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      appendFileSync(captureFile, String(chunk));
      done();
    },
  });
  return createLogger('info', sink);
}

/** The simulator and `count` gateways sharing `redisUrl`; each waits until its Redis connection is ready. */
export async function startReplicas(
  redisUrl: string,
  options: { clock?: Clock; simulator?: SimulatorOptions; config?: Partial<GatewayConfig>; count?: number } = {},
): Promise<Replicas> {
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, clock: options.clock, ...options.simulator });
  const logger = captureLogger();
  const gateways = Array.from({ length: options.count ?? 2 }, () =>
    createGateway(
      { ...loadConfig({}), upstreamBaseUrl: simulator.url, redisUrl, ...options.config },
      { logger, clock: options.clock },
    ),
  );
  const deadline = Date.now() + 10_000;
  // A real connection comes up on the wall clock: bounded wait.
  while (!gateways.every((g) => g.shared?.available())) {
    if (Date.now() > deadline) throw new Error('the gateways did not connect to Redis');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    simulator,
    gateways,
    async query(index, token, query, headers = {}) {
      const response = await gateways[index]!.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify({ query }),
      });
      return (await response.json()) as Body;
    },
    upstream: () => simulator.requests.filter((r) => r.authorization !== null),
    async close() {
      for (const gateway of gateways) await gateway.close();
      await simulator.close();
    },
  };
}

/** Empties Redis between tests. */
export async function flush(url: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  await redis.flushall();
  redis.disconnect();
}

/** Every key in Redis with its type, TTL and everything it holds as text. */
export async function dumpRedis(url: string): Promise<{ key: string; ttl: number; text: string }[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    return await Promise.all(
      keys.map(async (key) => {
        const type = await redis.type(key);
        const content =
          type === 'string'
            ? [await redis.get(key)]
            : type === 'hash'
              ? Object.entries(await redis.hgetall(key)).flat()
              : type === 'zset'
                ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
                : type === 'stream'
                  ? [JSON.stringify(await redis.xrange(key, '-', '+'))]
                  : type === 'set'
                    ? await redis.smembers(key)
                    : type === 'list'
                      ? await redis.lrange(key, 0, -1)
                      : [`(${type})`];
        return { key, ttl: await redis.pttl(key), text: [key, ...content].join('\n') };
      }),
    );
  } finally {
    redis.disconnect();
  }
}

/** The most requests in any window of `windowMs`, both ends included (bench/budget.ts). */
export { maxInWindow } from '../../bench/budget.js';
