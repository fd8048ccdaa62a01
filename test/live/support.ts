/**
 * Helpers of the live-calls suites: a Server-Sent Events reader that keeps every field of every message
 * (graphql-sse's client drops `id:`, which these tests are about), new calls for the simulator, and bounded
 * waits. Waits are on the wall clock: what they wait for crosses real sockets (and, with Redis, processes).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { createGateway, type Gateway, type GatewayConfig } from '../../src/server.js';
import type { SimCall } from '../../src/simulator/data.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/server.js';

/** One SSE message as the WHATWG parsing rules read it (`id`, `event`, `data`; comments dropped). */
interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

interface GraphQLEvent {
  data?: {
    callEvents?: { kind: string; cursor: string; call: { callId: number; status?: string; type?: string } };
  } | null;
  errors?: { message: string; extensions?: { code?: string; eventId?: string } }[];
  extensions?: { eventId?: string };
}

export interface SseConnection {
  status: number;
  headers: Headers;
  /** Every message so far, keep-alives without fields excluded. */
  messages: SseMessage[];
  /** The `next` payloads so far, parsed, each with its message's id. */
  results(): (GraphQLEvent & { sseId?: string })[];
  /** Waits until `count` `next` messages have arrived (at most `ms`); returns them all. */
  waitForResults(count: number, ms?: number): Promise<(GraphQLEvent & { sseId?: string })[]>;
  /** Resolves when the stream ends (server closed it), with whether a `complete` came. */
  ended: Promise<{ completed: boolean }>;
  close(): void;
}

const SUBSCRIPTION = `subscription Live($filter: CallFilter) {
  callEvents(filter: $filter) { kind cursor call { callId status type createdAt } }
}`;

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Opens `callEvents` (or `query`) over SSE, as GraphQL over SSE's distinct connections mode does. */
export async function openSse(
  fetcher: FetchLike,
  url: string,
  options: {
    token?: string | null;
    lastEventId?: string;
    variables?: Record<string, unknown>;
    query?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<SseConnection> {
  const controller = new AbortController();
  const { token = 'demo-token' } = options;
  const response = await fetcher(url, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query: options.query ?? SUBSCRIPTION, variables: options.variables ?? {} }),
  });
  const messages: SseMessage[] = [];
  const waiters = new Set<() => void>();
  let completed = false;
  const ended = (async () => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let message: SseMessage = {};
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let newline = buffer.search(/\r\n|\r|\n/); newline >= 0; newline = buffer.search(/\r\n|\r|\n/)) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (Object.keys(message).length > 0) {
              messages.push(message);
              if (message.event === 'complete') completed = true;
              for (const wake of waiters) wake();
            }
            message = {};
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') message.data = message.data === undefined ? text : `${message.data}\n${text}`;
          else if (field === 'id' || field === 'event') message[field] = text;
        }
      }
    } catch {
      // Aborted by close().
    }
    for (const wake of waiters) wake();
    return { completed };
  })();
  const results = () =>
    messages
      .filter((m) => m.event === 'next')
      .map((m) => ({ ...(JSON.parse(m.data ?? '{}') as GraphQLEvent), sseId: m.id }));
  let finished = false;
  void ended.then(() => (finished = true));
  return {
    status: response.status,
    headers: response.headers,
    messages,
    results,
    ended,
    close: () => controller.abort(),
    async waitForResults(count, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (results().length < count) {
        if (finished)
          throw new Error(`stream ended after ${results().length} of ${count} results: ${JSON.stringify(messages)}`);
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `${results().length} of ${count} results within ${ms} ms: ${JSON.stringify(messages).slice(0, 2000)}`,
          );
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(left, 250));
          waiters.add(wake);
        });
      }
      return results();
    },
  };
}

let nextId = 5_000_000;
/** The newest instant of the seeded data is 2026-11-01; new calls come after it, newest last. */
let nextAt = Date.UTC(2026, 10, 2);

/**
 * A call newer than every call of the tenant (so it is at the head of a newest-first list), with a fresh id,
 * shaped like the simulator's NEW dialect. `overrides` changes the raw record.
 */
export function newCall(overrides: Partial<SimCall['raw']> = {}): SimCall {
  const id = nextId++;
  nextAt += 60_000;
  const createdAt = new Date(nextAt);
  return {
    assistantId: 1,
    campaignId: null,
    createdAt,
    raw: {
      id,
      assistant_name: 'Live test assistant',
      campaign_name: null,
      type: 'inbound',
      duration: 42,
      assistant_phone_number: '+4930123456',
      client_phone_number: '+4915100000000',
      status: 'completed',
      transcript: [],
      variables: [],
      evaluation: [],
      webhook_response: null,
      carrier_cost: '0.01000000',
      total_cost: '0.02000000',
      answered_by: 'human',
      recording_url: null,
      created_at: createdAt.toISOString(),
      updated_at: createdAt.toISOString(),
      ...overrides,
    },
  };
}

/** Waits until `check` holds (at most `ms`, on the wall clock: it waits for real-network events). */
export async function until(check: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Several gateways in this process in front of one simulator (replicas), their log lines kept and written to
 * the suite-wide capture that global-setup.ts checks for credentials.
 */
export async function startReplicas(
  count: number,
  config: Partial<GatewayConfig>,
  simulatorOptions: SimulatorOptions = {},
): Promise<{ simulator: Simulator; gateways: Gateway[]; logs: string[]; close(): Promise<void> }> {
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, ...simulatorOptions });
  const logs: string[] = [];
  const captureFile = join(inject('logDir'), `${process.pid}.log`);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      appendFileSync(captureFile, String(chunk));
      done();
    },
  });
  const gateways = Array.from({ length: count }, () =>
    createGateway(
      { ...loadConfig({}), upstreamBaseUrl: simulator.url, ...config },
      { logger: createLogger('info', sink) },
    ),
  );
  return {
    simulator,
    gateways,
    logs,
    async close() {
      await Promise.all(gateways.map((gateway) => gateway.close()));
      await simulator.close();
    },
  };
}
