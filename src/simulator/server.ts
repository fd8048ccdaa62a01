/**
 * The embedded fake upstream on a real socket: node:http around `handleRequest`, with a request log for
 * tests and an optional fixed latency. Keep-alive works as with any node:http server. Like the real
 * upstream it throttles each API key (../shared/docs/upstream-contract.md §5.3: 100/minute, 20 per 10 s; see
 * throttle.ts), on an injectable clock so that tests need not wait.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimCall } from './data.js';
import { defaultTenants } from './data.js';
import type { SimEnvelope, SimOrder, SimResponse } from './routes.js';
import { DEFAULT_BASE_PATH, handleRequest, normalizeBasePath } from './routes.js';
import type { ThrottleClock } from './throttle.js';
import { DEFAULT_RATE_LIMITS, parseRateLimits, RateLimiter } from './throttle.js';

export interface RecordedRequest {
  method: string;
  /** The path without the query string, as sent. */
  path: string;
  /** Query parameters as sent (not trimmed); for a repeated name the last value wins, as in PHP. */
  query: Record<string, string>;
  authorization: string | null;
  accept: string | null;
  /** The simulator clock's `now()` (by default `Date.now()`) when the request arrived. */
  at: number;
}

/**
 * A fault to inject instead of the normal answer (the shapes ../shared/docs/reliability.md §6 tests):
 * an answer of our choosing, a delay before the normal answer, no answer at all, a body that drips one
 * byte every `intervalMs`, or a connection reset after the headers.
 */
export type SimFault =
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'drip'; intervalMs: number }
  | { kind: 'reset' };

export interface SimulatorOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default '/api' */
  basePath?: string;
  /** Bearer token → calls. The arrays are used as given (not copied). @default demo + second tenant */
  tenants?: Record<string, SimCall[]>;
  /** @default 'newest-first' (created_at desc, id desc) */
  order?: SimOrder;
  /**
   * Called for every request with its arrival index (0-based); a returned fault replaces the normal
   * answer. Tests swap it at will through `Simulator.setFaults`. A request answered by a fault other than
   * `delay` never reaches the rate limiter.
   */
  faults?: (request: RecordedRequest, index: number) => SimFault | undefined;
  /** Delay before each response, in milliseconds. @default 0 */
  latencyMs?: number;
  /** Keep the `requests` log; a long-running demo turns it off so it cannot grow without bound. @default true */
  recordRequests?: boolean;
  /**
   * Rate limits per API token, all applied at once: comma-separated `<requests>/<seconds>s` fixed windows (see
   * `parseRateLimits`). Only authenticated requests to the calls routes count. `false` or `'off'` turns throttling
   * off. An invalid string makes `startSimulator` reject. @default '100/60s,20/10s'
   * (../shared/docs/upstream-contract.md §5.3)
   */
  rateLimits?: string | false;
  /** Time for the rate limiter and `RecordedRequest.at`; tests pass a manual or fast clock. @default Date */
  clock?: ThrottleClock;
  /**
   * Clamp the list's page size to this (a positive integer) instead of serving up to 100, as a Laravel controller
   * doing `->paginate(min($request->per_page, 50))` does; the envelope shows the clamped `per_page`. @default none
   */
  maxPerPage?: number;
  /** How much of the paginator envelope the list answers with (see `RouteContext.envelope`). @default 'full' */
  envelope?: SimEnvelope;
}

export interface Simulator {
  /** Base URL of the API without a trailing slash, e.g. `http://127.0.0.1:PORT/api`. */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Every request received, in arrival order, including rejected ones (empty when `recordRequests` is false). */
  requests: RecordedRequest[];
  /** Live and mutable: insert or delete calls (or whole tenants) between requests. */
  tenants: Map<string, SimCall[]>;
  /** Replaces the fault hook (undefined: no faults). */
  setFaults(faults: SimulatorOptions['faults']): void;
  /** Requests whose response has not ended yet (hung, dripping, delayed). */
  openResponses(): number;
  /** The most responses that were open at once since the start or `resetPeak` (a concurrency high-water mark). */
  peakOpenResponses(): number;
  resetPeak(): void;
  /** 429s the rate limiter has sent since start (not reset by `setRateLimits`). */
  readonly rateLimited: number;
  /**
   * Replaces the rate limits (same syntax as `SimulatorOptions.rateLimits`; `false`/`'off'` turns throttling off)
   * and starts every token's windows afresh. Throws on an invalid string, leaving the current limits in place.
   */
  setRateLimits(limits: string | false): void;
  /** Changes `SimulatorOptions.maxPerPage` (undefined: no clamp) for the requests that follow. */
  setMaxPerPage(maxPerPage: number | undefined): void;
  /** Closes idle and active connections; resolves when the server has closed. Safe to call twice. */
  close(): Promise<void>;
}

function checkedMaxPerPage(maxPerPage: number | undefined): number | undefined {
  if (maxPerPage !== undefined && (!Number.isSafeInteger(maxPerPage) || maxPerPage < 1)) {
    throw new Error(`Invalid maxPerPage ${maxPerPage}: expected a whole number of at least 1`);
  }
  return maxPerPage;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : (value[0] ?? null);
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const basePath = normalizeBasePath(options.basePath ?? DEFAULT_BASE_PATH);
  const latencyMs = options.latencyMs ?? 0;
  const recordRequests = options.recordRequests ?? true;
  const clock = options.clock ?? Date;
  let limiter = new RateLimiter(parseRateLimits(options.rateLimits ?? DEFAULT_RATE_LIMITS), clock);
  let rateLimited = 0;
  let maxPerPage = checkedMaxPerPage(options.maxPerPage);
  const throttle = (token: string) => {
    const decision = limiter.attempt(token);
    if (!decision.allowed) rateLimited += 1;
    return decision;
  };
  const tenants = new Map(Object.entries(options.tenants ?? defaultTenants()));
  const requests: RecordedRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();
  let origin = '';

  const send = (request: IncomingMessage, response: ServerResponse, answer: SimResponse): void => {
    if (response.destroyed || response.writableEnded) return;
    const body = request.method === 'HEAD' ? '' : answer.body;
    response.writeHead(answer.status, {
      ...answer.headers,
      'content-length': String(Buffer.byteLength(answer.body)),
    });
    response.end(body);
  };

  let faults = options.faults;
  let seen = 0;
  const open = new Set<ServerResponse>();
  let peak = 0;
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      pending.delete(timer);
      run();
    }, ms);
    pending.add(timer);
  };

  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    const parsed = new URL(url, 'http://simulator.invalid');
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      authorization: headerValue(request.headers.authorization),
      accept: headerValue(request.headers.accept),
      at: clock.now(),
    };
    if (recordRequests) requests.push(recorded);
    request.resume();
    open.add(response);
    peak = Math.max(peak, open.size);
    response.on('close', () => open.delete(response));

    const fault = faults?.(recorded, seen++);
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      response.write('{"data":[');
      later(5, () => response.destroy());
      return;
    }
    if (fault?.kind === 'drip') {
      response.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(
        () => (response.destroyed ? clearInterval(drip) : response.write(' ')),
        fault.intervalMs,
      );
      response.on('close', () => clearInterval(drip));
      return;
    }
    if (fault?.kind === 'respond') {
      send(request, response, {
        status: fault.status,
        headers: { 'content-type': 'application/json', ...fault.headers },
        body: fault.body ?? '',
      });
      return;
    }

    let answer: SimResponse;
    try {
      answer = handleRequest(
        { method: request.method ?? 'GET', url, headers: request.headers },
        {
          tenants,
          origin,
          basePath,
          order: options.order,
          throttle: limiter.limits.length > 0 ? throttle : undefined,
          maxPerPage,
          envelope: options.envelope,
        },
      );
    } catch {
      answer = {
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: '{"message":"Server Error"}',
      };
    }

    const delay = latencyMs + (fault?.kind === 'delay' ? fault.ms : 0);
    if (delay <= 0) send(request, response, answer);
    else later(delay, () => send(request, response, answer));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${urlHost(host)}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    url: `${origin}${basePath}`,
    origin,
    requests,
    tenants,
    setFaults: (next) => {
      faults = next;
    },
    openResponses: () => open.size,
    peakOpenResponses: () => peak,
    resetPeak: () => {
      peak = open.size;
    },
    get rateLimited() {
      return rateLimited;
    },
    setRateLimits: (limits) => {
      limiter = new RateLimiter(parseRateLimits(limits), clock);
    },
    setMaxPerPage: (next) => {
      maxPerPage = checkedMaxPerPage(next);
    },
    close,
  };
}
