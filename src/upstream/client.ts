/**
 * The only code that talks HTTP to the upstream calls API. One undici Pool per gateway (keep-alive,
 * bounded sockets); per attempt and per call deadlines enforced with AbortSignals (undici's own timeouts
 * are per phase and, for bodies, between chunks); retries of these idempotent GETs with full-jitter
 * back-off inside a retry budget; a circuit breaker; 429 back-off and bulkheads per API key; no
 * redirects followed; every failure a GatewayError whose message carries no upstream URL, body or token.
 */
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Pool, errors as undiciErrors } from 'undici';
import {
  backoffMs,
  type BreakerOptions,
  type BreakerState,
  CircuitBreaker,
  type Clock,
  ConcurrencyLimiter,
  type ConcurrencyOptions,
  keyId,
  RateLimitState,
  RetryBudget,
  type RetryBudgetOptions,
} from './resilience.js';
import {
  BadUserInputError,
  GatewayError,
  UnauthenticatedError,
  UpstreamBadResponseError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../errors.js';

export interface UpstreamClientOptions {
  /** e.g. `https://app.famulor.de/api`, with or without a trailing slash. */
  baseUrl: string;
  /** Total deadline of one upstream call, all attempts and back-off included. @default 20000 */
  timeoutMs: number;
  /** Deadline of one attempt. @default 8000 */
  attemptTimeoutMs: number;
  /** TCP/TLS connect timeout. @default 3000 */
  connectTimeoutMs: number;
  /** Sockets to the upstream origin. @default 32 */
  connections: number;
  /** Responses larger than this are refused. @default 5 MiB */
  maxResponseBytes: number;
  /** Retries after the first attempt, for connection errors, 502/503/504 and 429. @default 2 */
  maxRetries: number;
  /** Full-jitter back-off: base and cap in milliseconds. @default 250 / 4000 */
  retryBaseMs: number;
  retryCapMs: number;
  retryBudget: RetryBudgetOptions;
  breaker: BreakerOptions;
  concurrency: ConcurrencyOptions;
}

/** What one upstream attempt was, for counting and logging; never the token. */
export interface UpstreamCallInfo {
  path: string;
  status: number | null;
  durationMs: number;
  outcome: 'ok' | 'not_found' | 'error';
  /** 0 for the first attempt, 1 for the first retry … */
  attempt: number;
}

export interface CallOptions {
  /** The caller's API key, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** The caller's request; aborting it aborts the upstream request and its retries. */
  signal?: AbortSignal;
  /** Told about every attempt made for this call. */
  onCall?: (info: UpstreamCallInfo) => void;
  /** The caller's trace span: each attempt gets a child span (tracing.ts). */
  parentSpan?: Span;
}

export interface UpstreamClient {
  /** `GET /user/calls?…`; resolves to the parsed JSON body. */
  listCalls(query: URLSearchParams, options: CallOptions): Promise<unknown>;
  /** `GET /user/calls/{id}`; resolves to the parsed JSON body, or null when the upstream says 404. */
  getCall(callId: number, options: CallOptions): Promise<unknown>;
  /** State for health checks and metrics. */
  stats(): { breaker: BreakerState; inFlight: number };
  /**
   * Whether the upstream answers at all: one unauthenticated `GET /user/calls?per_page=1` within the
   * connect timeout; any HTTP status (401 is the expected one) counts as reachable. Never retried.
   */
  probe(): Promise<boolean>;
  close(): Promise<void>;
}

/** Fields of a Laravel 422 body that we pass on: only our own parameter names, only short strings. */
const PUBLIC_422_FIELDS = new Set([
  'status',
  'type',
  'phone_number',
  'assistant_id',
  'campaign_id',
  'date_from',
  'date_to',
  'per_page',
  'page',
]);

export function parseRetryAfter(header: string | string[] | undefined, body: unknown, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined) {
    if (/^\s*\d+\s*$/.test(value)) return Number(value);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  const fromBody = (body as { retry_after?: unknown } | null)?.retry_after;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0) return Math.ceil(fromBody);
  if (typeof fromBody === 'string' && /^\d+$/.test(fromBody)) return Number(fromBody);
  return null;
}

function fieldMessages(body: unknown): Record<string, string[]> {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const result: Record<string, string[]> = {};
  if (!errors || typeof errors !== 'object') return result;
  for (const [field, messages] of Object.entries(errors)) {
    if (!PUBLIC_422_FIELDS.has(field) || !Array.isArray(messages)) continue;
    const clean = messages.filter((m): m is string => typeof m === 'string').map((m) => m.slice(0, 200));
    if (clean.length > 0) result[field] = clean;
  }
  return result;
}

function statusError(status: number, headers: Record<string, string | string[] | undefined>, body: unknown): GatewayError {
  if (status >= 300 && status < 400) {
    // upstream-contract §5.2: a bad key may be answered with a redirect to the login page.
    return new UnauthenticatedError('The upstream API did not accept the credentials (redirected to a login page).');
  }
  if (status === 401 || status === 403) {
    return new UnauthenticatedError('The upstream API refused the credentials.');
  }
  if (status === 422) {
    const fields = fieldMessages(body);
    const summary = Object.values(fields).flat().join(' ');
    return new BadUserInputError(summary ? `The upstream API rejected the request: ${summary}` : 'The upstream API rejected the request parameters.', {
      details: { fieldErrors: fields },
    });
  }
  if (status === 429) return new UpstreamRateLimitedError(parseRetryAfter(headers['retry-after'], body));
  if (status >= 500) return new UpstreamUnavailableError(`The upstream API failed (HTTP ${status}).`);
  return new UpstreamBadResponseError(`The upstream API answered with an unexpected status (HTTP ${status}).`);
}

function transportError(error: unknown, deadline: AbortSignal, attempt: AbortSignal, caller?: AbortSignal): GatewayError {
  if (error instanceof GatewayError) return error;
  if (caller?.aborted && !deadline.aborted) {
    return new UpstreamUnavailableError('The request was cancelled before the upstream API answered.', { cause: error });
  }
  if (
    deadline.aborted ||
    attempt.aborted ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError
  ) {
    return new UpstreamTimeoutError('The upstream API did not answer in time.', { cause: error });
  }
  if (error instanceof undiciErrors.ResponseExceededMaxSizeError) {
    return new UpstreamBadResponseError('The upstream API answered with a body larger than allowed.', { cause: error });
  }
  return new UpstreamUnavailableError('The upstream API could not be reached.', { cause: error });
}

/** Retried: connection failures and resets, timeouts of one attempt, 502/503/504 and 429 (reliability.md §2). */
function isRetryable(error: GatewayError, status: number | null): boolean {
  if (error instanceof UpstreamRateLimitedError) return true;
  if (status !== null) return status === 502 || status === 503 || status === 504;
  return error instanceof UpstreamTimeoutError || (error instanceof UpstreamUnavailableError && !/cancelled/.test(error.message));
}

/** What the breaker counts as the upstream failing: 5xx, timeouts and network errors. */
function isUpstreamFailure(error: GatewayError, status: number | null): boolean {
  if (status !== null) return status >= 500;
  return error instanceof UpstreamTimeoutError || (error instanceof UpstreamUnavailableError && !/cancelled/.test(error.message));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Splits `https://host:port/api/` into the origin and a base path without trailing slash. */
export function splitBaseUrl(baseUrl: string): { origin: string; basePath: string } {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('the upstream base URL must be http or https');
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('the upstream base URL must not carry a query, fragment or credentials');
  }
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

export function createUpstreamClient(
  options: UpstreamClientOptions,
  onCall: (info: UpstreamCallInfo) => void = () => {},
  clock: { now: Clock; random: () => number } = { now: Date.now, random: Math.random },
): UpstreamClient {
  const { origin, basePath } = splitBaseUrl(options.baseUrl);
  const pool = new Pool(origin, {
    connections: options.connections,
    pipelining: 1,
    connectTimeout: options.connectTimeoutMs,
    headersTimeout: options.attemptTimeoutMs,
    bodyTimeout: options.attemptTimeoutMs,
    maxResponseSize: options.maxResponseBytes,
  });
  const budget = new RetryBudget(options.retryBudget, clock.now);
  const breaker = new CircuitBreaker(options.breaker, clock.now);
  const rateLimits = new RateLimitState(clock.now);
  const limiter = new ConcurrencyLimiter(options.concurrency);

  /** One HTTP exchange. Resolves to the parsed body; throws a GatewayError with the status it saw. */
  async function exchange(path: string, token: string, signal: AbortSignal, allowNotFound: boolean): Promise<{ status: number; body: unknown }> {
    const response = await pool.request({
      path: basePath + path,
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    const text = await response.body.text();
    let body: unknown;
    let isJson = false;
    if (/\bjson\b/i.test(contentType) || /^\s*[[{]/.test(text)) {
      try {
        body = JSON.parse(text);
        isJson = true;
      } catch {
        body = undefined;
      }
    }
    const status = response.statusCode;
    if (status === 404 && allowNotFound) return { status, body: null };
    if (status < 200 || status >= 300) throw Object.assign(statusError(status, response.headers, body), { status });
    if (!isJson) throw Object.assign(new UpstreamBadResponseError('The upstream API answered with something that is not JSON.'), { status });
    return { status, body };
  }

  async function getJson(path: string, call: CallOptions, allowNotFound: boolean): Promise<unknown> {
    const deadlineAt = clock.now() + options.timeoutMs;
    // Timers we hold and clear, not AbortSignal.timeout(): a timeout signal that only an
    // AbortSignal.any() composite refers to can be garbage-collected before it fires (seen here: a cold
    // process's first attempt never timed out).
    const deadlineController = new AbortController();
    const deadlineTimer = setTimeout(() => deadlineController.abort(new DOMException('deadline', 'TimeoutError')), options.timeoutMs);
    const deadline = deadlineController.signal;
    const signal = call.signal ? AbortSignal.any([deadline, call.signal]) : deadline;
    const key = keyId(call.token);
    const report = (info: UpstreamCallInfo) => {
      onCall(info);
      call.onCall?.(info);
    };
    const release = await limiter.acquire(key, signal);
    try {
      budget.recordFirstAttempt();
      for (let attempt = 0; ; attempt++) {
        const wait = rateLimits.waitMs(key);
        if (wait > 0) {
          // The key is still in its 429 back-off: wait when that fits the deadline, else fail at once.
          if (clock.now() + wait > deadlineAt) throw new UpstreamRateLimitedError(Math.ceil(wait / 1000));
          await sleep(wait, signal);
        }
        const { probe } = breaker.admit();
        const started = performance.now();
        // The path's template only: ids, filters and credentials stay out of traces.
        const span = call.parentSpan
          ? trace.getTracer('calls-gateway').startSpan(
              `GET ${path.startsWith('/user/calls/') ? '/user/calls/{id}' : '/user/calls'}`,
              { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'url.template': path.startsWith('/user/calls/') ? '/user/calls/{id}' : '/user/calls', 'calls_gateway.attempt': attempt } },
              trace.setSpan(context.active(), call.parentSpan),
            )
          : undefined;
        const attemptController = new AbortController();
        const attemptTimer = setTimeout(
          () => attemptController.abort(new DOMException('attempt', 'TimeoutError')),
          Math.max(1, Math.min(options.attemptTimeoutMs, deadlineAt - clock.now())),
        );
        const attemptSignal = AbortSignal.any([signal, attemptController.signal]);
        let status: number | null = null;
        try {
          const result = await exchange(path, call.token, attemptSignal, allowNotFound);
          status = result.status;
          breaker.record('success', probe);
          report({ path, status, durationMs: performance.now() - started, outcome: result.body === null ? 'not_found' : 'ok', attempt });
          span?.setAttribute('http.response.status_code', status);
          span?.end();
          return result.body;
        } catch (raw) {
          status = (raw as { status?: number }).status ?? null;
          const error = transportError(raw, deadline, attemptSignal, call.signal);
          report({ path, status, durationMs: performance.now() - started, outcome: 'error', attempt });
          if (span) {
            if (status !== null) span.setAttribute('http.response.status_code', status);
            span.setAttribute('error.type', error.code);
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
          }
          if (call.signal?.aborted && !deadline.aborted) {
            breaker.release(probe);
            throw error;
          }
          breaker.record(isUpstreamFailure(error, status) ? 'failure' : 'success', probe);
          if (error instanceof UpstreamRateLimitedError && error.retryAfter !== null) {
            rateLimits.limit(key, error.retryAfter);
            if (clock.now() + error.retryAfter * 1000 > deadlineAt) throw error;
          }
          if (deadline.aborted || !isRetryable(error, status) || attempt >= options.maxRetries || !budget.tryRetry()) throw error;
          const pause = backoffMs(attempt, options.retryBaseMs, options.retryCapMs, clock.random);
          if (clock.now() + pause >= deadlineAt) throw error;
          await sleep(pause, signal).catch(() => {
            throw transportError(undefined, deadline, attemptSignal, call.signal);
          });
        } finally {
          clearTimeout(attemptTimer);
        }
      }
    } finally {
      clearTimeout(deadlineTimer);
      release();
    }
  }

  return {
    listCalls(query, call) {
      const search = query.toString();
      return getJson(`/user/calls${search ? `?${search}` : ''}`, call, false);
    },
    getCall(callId, call) {
      if (!Number.isSafeInteger(callId) || callId < 1) throw new RangeError('callId must be a positive integer');
      return getJson(`/user/calls/${callId}`, call, true);
    },
    stats: () => ({ breaker: breaker.state, inFlight: limiter.inFlight }),
    async probe() {
      try {
        const response = await pool.request({
          path: `${basePath}/user/calls?per_page=1`,
          method: 'GET',
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(options.connectTimeoutMs),
        });
        await response.body.dump();
        return response.statusCode < 500;
      } catch {
        return false;
      }
    },
    close: () => pool.close(),
  };
}
