/**
 * Starts the embedded simulator on 127.0.0.1 port 0 and a gateway in front of it; requests go through
 * `yoga.fetch` (in-process HTTP semantics), upstream traffic over real loopback sockets. Upstream
 * requests are counted from the simulator's own log, and every log line the gateway writes is kept.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { inject } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { createGateway, type Gateway, type GatewayConfig } from '../../src/server.js';
import { DEMO_TOKEN } from '../../src/simulator/data.js';
import { type RecordedRequest, type SimulatorOptions, startSimulator } from '../../src/simulator/server.js';
import { parseRateLimits } from '../../src/upstream/budget.js';
import type { UpstreamPolicyOverrides } from '../../src/upstream-policy.js';

export interface GraphQLResponseBody<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

export interface TestGateway {
  simulator: Awaited<ReturnType<typeof startSimulator>>;
  /** Every log line the gateway wrote, as text. */
  logs: string[];
  gateway: Gateway;
  /** Sends an operation to /graphql (or `path`); `token: null` sends no Authorization header. */
  query<T, V>(
    document: TypedDocumentNode<T, V> | string,
    variables?: V,
    options?: { token?: string | null; headers?: Record<string, string>; path?: string },
  ): Promise<{ status: number; headers: Headers; body: GraphQLResponseBody<T> }>;
  /** Upstream requests so far, and a way to start counting again. */
  upstream(): RecordedRequest[];
  resetUpstream(): void;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  simulator?: SimulatorOptions;
  config?: Partial<GatewayConfig>;
  upstream?: UpstreamPolicyOverrides;
  /** Shared by the simulator and the gateway. */
  clock?: Clock;
  /**
   * `documented` (the default): the simulator enforces the upstream's documented limits per key and the
   * gateway plans with them, as in production. `off`: neither limits anything, for suites about something
   * else that need more requests of one key than its budget allows (walks over hundreds of rows, fuzzing,
   * lookup concurrency); the budget itself is tested against the documented limits in test/budget/.
   */
  limits?: 'documented' | 'off';
}

const UNLIMITED = parseRateLimits('1000000/60s');

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const off = options.limits === 'off';
  const simulator = await startSimulator({
    host: '127.0.0.1',
    port: 0,
    clock: options.clock,
    ...(off ? { rateLimits: false as const } : {}),
    ...options.simulator,
  });
  const logs: string[] = [];
  // Also written to the suite-wide capture that global-setup.ts checks for credentials (T6).
  const captureFile = join(inject('logDir'), `${process.pid}.log`);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      appendFileSync(captureFile, String(chunk));
      done();
    },
  });
  const gateway = createGateway(
    {
      ...loadConfig({}),
      upstreamBaseUrl: simulator.url,
      ...(off ? { upstreamRateLimits: UNLIMITED } : {}),
      ...options.config,
    },
    { logger: createLogger('debug', sink), upstream: options.upstream, clock: options.clock },
  );
  return {
    simulator,
    logs,
    gateway,
    async query(document, variables, { token = DEMO_TOKEN, headers = {}, path = '/graphql' } = {}) {
      const response = await gateway.fetch(`http://gateway.test${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...headers,
        },
        body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as never };
    },
    upstream: () => simulator.requests,
    resetUpstream: () => {
      simulator.requests.length = 0;
      simulator.resetPeak();
    },
    async close() {
      await gateway.close();
      await simulator.close();
    },
  };
}

/** A loopback port nothing listens on (bound, then released), for "upstream unreachable" cases. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
