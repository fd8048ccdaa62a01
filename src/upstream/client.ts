/**
 * The only code that talks HTTP to the upstream calls API. One undici Pool per gateway (keep-alive,
 * bounded sockets). Every attempt first takes a permit from its API key's lane of the scheduler (the
 * key's request budget, queue and pause; scheduler.ts) and tells it how the attempt went and what the
 * upstream said about the budget. Per attempt and per request deadlines are enforced with AbortSignals on the
 * injected clock (undici's own timeouts are per phase and, for bodies, between chunks); retries of these
 * idempotent GETs use full-jitter back-off inside a retry budget; a circuit breaker guards the origin; no
 * redirect is followed; every failure is a GatewayError whose message carries no upstream URL, body or
 * token.
 */
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Pool, errors as undiciErrors } from 'undici';
import { type Clock, systemClock } from '../clock.js';
import {
  BadUserInputError,
  GatewayError,
  UnauthenticatedError,
  UpstreamBadResponseError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../errors.js';
import { parseRetryAfter, type RateLimitHeaders, readRateLimitHeaders } from './budget.js';
import {
  type BreakerOptions,
  type BreakerState,
  backoffMs,
  CircuitBreaker,
  RetryBudget,
  type RetryBudgetOptions,
} from './resilience.js';
import {
  type Permit,
  type Priority,
  type RequestScheduler,
  type SchedulerOptions,
  type SchedulerSnapshot,
  type SharedLedger,
  UpstreamScheduler,
} from './scheduler.js';
import { CheckPhaseGate } from './turns.js';

export interface UpstreamClientOptions {
  /** e.g. `https://app.famulor.de/api`, with or without a trailing slash. */
  baseUrl: string;
  /** Total deadline of one upstream request, all attempts and back-off included. @default 20000 */
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
  /** Per-key budgets, queues and pauses, and the global concurrency limit. */
  scheduler: SchedulerOptions;
  /**
   * The budgets, 429 back-offs and pauses shared with the other replicas and workers (src/shared/budget.ts,
   * `REDIS_URL`); null or absent keeps them in this process.
   */
  sharedBudget?: SharedLedger | null;
}

/** What one upstream attempt was, for counting and logging; never the token. */
export interface UpstreamAttemptInfo {
  path: string;
  status: number | null;
  durationMs: number;
  outcome: 'ok' | 'not_found' | 'error';
  /** 0 for the first attempt, 1 for the first retry … */
  attempt: number;
  /** Milliseconds the attempt waited in its key's queue for budget or a slot. */
  queuedMs: number;
  priority: Priority;
}

export interface RequestOptions {
  /** The caller's API key, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** `keyId(token)`, computed once per request: the key's lane in the scheduler. */
  key: string;
  /** Interactive reads go before bulk work in the key's queue. */
  priority: Priority;
  /** The caller's request; aborting it aborts the upstream request and its retries. */
  signal?: AbortSignal;
  /** Told about every attempt made for this request. */
  onAttempt?: (info: UpstreamAttemptInfo) => void;
  /** The caller's trace span: each attempt gets a child span (tracing.ts). */
  parentSpan?: Span;
}

/** A successful upstream answer: its parsed JSON body and the size of the body as received. */
interface UpstreamAnswer {
  body: unknown;
  bytes: number;
}

export interface UpstreamClientSnapshot {
  breaker: BreakerState;
  /** Keys the breaker holds as failing within its window (bounded by the window). */
  breakerKeys: number;
  inFlight: number;
  scheduler: SchedulerSnapshot;
}

export interface UpstreamClient {
  /** `GET /user/calls?<query>`. */
  listCalls(query: string, options: RequestOptions): Promise<UpstreamAnswer>;
  /** `GET /user/calls/{id}`; null when the upstream says 404. */
  getCall(callId: number, options: RequestOptions): Promise<UpstreamAnswer | null>;
  /** State for health checks and metrics. */
  snapshot(): UpstreamClientSnapshot;
  /**
   * The status the upstream gives one unauthenticated `GET /user/calls?per_page=1` within the connect
   * timeout (401 is the expected one), or null when it does not answer. Never retried; what the status
   * means for readiness is decided by the readiness check (src/plugins/health.ts).
   */
  probe(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * The upstream's parameters a 422 may name, and the argument each comes from. The gateway checks every
 * argument itself before sending, so a 422 means the two disagree on what is valid: the client is told
 * which argument in the gateway's own words, never the upstream's text (issue 11, item 12).
 */
const ARGUMENT_OF_PARAMETER: Record<string, string | null> = {
  status: 'filter.status',
  type: 'filter.type',
  phone_number: 'filter.phoneNumber',
  assistant_id: 'filter.assistantId',
  campaign_id: 'filter.campaignId',
  date_from: 'filter.dateFrom',
  date_to: 'filter.dateTo',
  per_page: null,
  page: null,
};

/** What an operator may read of an upstream's text: printable, short, no markup, no URL, no `key=value`. */
export function scrubUpstreamText(text: string): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/\b([\w-]+)=\S+/g, '$1=[redacted]')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** The parameters a Laravel 422 body names (only ours), with their messages scrubbed for the log. */
function refusedParameters(body: unknown): Record<string, string[]> {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const result: Record<string, string[]> = {};
  if (!errors || typeof errors !== 'object') return result;
  for (const [field, messages] of Object.entries(errors)) {
    if (!(field in ARGUMENT_OF_PARAMETER) || !Array.isArray(messages)) continue;
    result[field] = messages.filter((m): m is string => typeof m === 'string').map(scrubUpstreamText);
  }
  return result;
}

/** What the gateway may say of a redirect: only whether it went to a login page, the same host, or elsewhere. */
function redirectError(status: number, location: string | undefined, origin: string): GatewayError {
  let target: URL | null = null;
  try {
    target = location ? new URL(location, origin) : null;
  } catch {
    target = null;
  }
  // ../shared/docs/upstream-contract.md §5.2: a bad key may be answered with a redirect to the login page.
  if (target && /\/login\b/i.test(target.pathname)) {
    return new UnauthenticatedError('The upstream API did not accept the credentials (redirected to a login page).');
  }
  if (target && target.hostname === new URL(origin).hostname) {
    // A same-host 301, typically http to https: the fix is the base URL (README, "Errors").
    return new UpstreamBadResponseError(
      `The upstream API answered with a redirect (HTTP ${status}) to another address on the same host, ` +
        'which the gateway does not follow: ' +
        'set UPSTREAM_BASE_URL to the address it redirects to (its https:// form, say).',
    );
  }
  return new UpstreamBadResponseError(
    `The upstream API answered with a redirect (HTTP ${status}) to another host, which the gateway never follows.`,
  );
}

function statusError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  now: number,
  origin: string,
): GatewayError {
  if (status >= 300 && status < 400) {
    const location = headers.location;
    return redirectError(status, Array.isArray(location) ? location[0] : location, origin);
  }
  if (status === 401 || status === 403) {
    return new UnauthenticatedError('The upstream API refused the credentials.');
  }
  if (status === 422) {
    const parameters = Object.keys(refusedParameters(body));
    const argumentName = parameters.map((p) => ARGUMENT_OF_PARAMETER[p]).find((a) => a !== null && a !== undefined);
    return new BadUserInputError(
      parameters.length > 0
        ? `The upstream API refused ${parameters.map((p) => `"${p}"`).join(', ')}, which the gateway accepted; ` +
            'the two disagree on what is valid.'
        : 'The upstream API refused the request parameters, which the gateway accepted.',
      { details: { upstreamParameters: parameters, ...(argumentName ? { argumentName } : {}) } },
    );
  }
  if (status === 429) return new UpstreamRateLimitedError(parseRetryAfter(headers['retry-after'], body, now));
  if (status >= 500) return new UpstreamUnavailableError(`The upstream API failed (HTTP ${status}).`);
  return new UpstreamBadResponseError(`The upstream API answered with an unexpected status (HTTP ${status}).`);
}

/**
 * The gateway's error for what went wrong on the wire. `timedOut`: the attempt's own timer fired (its
 * timeout, or the request's deadline when that came first); `cancelled`: the caller went away first.
 */
function transportError(error: unknown, timedOut: boolean, cancelled: boolean): GatewayError {
  if (error instanceof GatewayError) return error;
  if (cancelled && !timedOut) {
    return new UpstreamUnavailableError('The request was cancelled before the upstream API answered.', {
      cause: error,
    });
  }
  if (
    timedOut ||
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

/** Retried: connection failures and resets, timeouts of one attempt, 502/503/504 and 429 (../shared/docs/reliability.md
 * §2). */
function isRetryable(error: GatewayError, status: number | null): boolean {
  if (error instanceof UpstreamRateLimitedError) return true;
  if (status !== null) return status === 502 || status === 503 || status === 504;
  return (
    error instanceof UpstreamTimeoutError ||
    (error instanceof UpstreamUnavailableError && !/cancelled/.test(error.message))
  );
}

/** What the breaker counts as the upstream failing: 5xx, timeouts and network errors. */
function isUpstreamFailure(error: GatewayError, status: number | null): boolean {
  if (status !== null) return status >= 500;
  return (
    error instanceof UpstreamTimeoutError ||
    (error instanceof UpstreamUnavailableError && !/cancelled/.test(error.message))
  );
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One attempt's signal: one controller and one timer, aborted when the timer fires (after `ms` of the
 * clock's time) or when the caller's signal aborts. Issue 13's profile: two `AbortSignal.any()` chains
 * and a second controller per request cost about three times as much (41 µs against 14 µs).
 */
function attemptSignal(clock: Clock, ms: number, caller: AbortSignal | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('attempt', 'TimeoutError'));
  }, ms);
  const onAbort = () => controller.abort(caller!.reason);
  if (caller?.aborted) controller.abort(caller.reason);
  else caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done() {
      clock.clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}

/** Splits `https://host:port/api/` into the origin and a base path without trailing slash. */
export function splitBaseUrl(baseUrl: string): { origin: string; basePath: string } {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError('the upstream base URL must be http or https');
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('the upstream base URL must not carry a query, fragment or credentials');
  }
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

/** What the client tells its owner besides answers. */
export interface UpstreamClientHooks {
  /** After every attempt (metrics and tests count them). */
  onAttempt?: (info: UpstreamAttemptInfo) => void;
  /** A mismatch between gateway and upstream worth an operator's look (pino's `warn` signature). */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

export function createUpstreamClient(
  options: UpstreamClientOptions,
  hooks: UpstreamClientHooks = {},
  clock: Clock = systemClock,
  random: () => number = Math.random,
): UpstreamClient {
  const onAttempt = hooks.onAttempt ?? (() => {});
  const { origin, basePath } = splitBaseUrl(options.baseUrl);
  const pool = new Pool(origin, {
    connections: options.connections,
    pipelining: 1,
    connectTimeout: options.connectTimeoutMs,
    headersTimeout: options.attemptTimeoutMs,
    bodyTimeout: options.attemptTimeoutMs,
    maxResponseSize: options.maxResponseBytes,
  });
  const now = () => clock.now();
  // Bodies are parsed and turned into responses after the loop has read this round's requests (turns.ts).
  const turns = new CheckPhaseGate();
  const scheduler: RequestScheduler = new UpstreamScheduler(options.scheduler, clock, options.sharedBudget ?? null);
  const budget = new RetryBudget(options.retryBudget, now);
  // When the origin recovers from an outage, keys paused during it resume with it.
  const breaker = new CircuitBreaker(options.breaker, now, () => scheduler.resumeAll());

  /** One HTTP exchange. Resolves to the answer; throws a GatewayError with the status and budget it saw. */
  async function exchange(path: string, token: string, signal: AbortSignal, allowNotFound: boolean) {
    const response = await pool.request({
      path: basePath + path,
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    const text = await response.body.text();
    const gate = turns.wait(text.length);
    if (gate) await gate;
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
    const said = readRateLimitHeaders(response.headers, status === 429 ? body : null, clock.now());
    if (status === 404 && allowNotFound) return { status, said, answer: null };
    if (status < 200 || status >= 300) {
      // A 422 or a redirect means the gateway and the upstream disagree: worth an operator's look, with
      // nothing but what scrubUpstreamText keeps of the upstream's words.
      if (status === 422)
        hooks.warn?.(
          { status, refused: refusedParameters(body) },
          'the upstream refused parameters the gateway accepted',
        );
      if (status >= 300 && status < 400)
        hooks.warn?.({ status }, 'the upstream answered with a redirect, which is never followed');
      throw Object.assign(statusError(status, response.headers, body, clock.now(), origin), { status, said });
    }
    if (!isJson) {
      throw Object.assign(new UpstreamBadResponseError('The upstream API answered with something that is not JSON.'), {
        status,
        said,
      });
    }
    return { status, said, answer: { body, bytes: text.length } };
  }

  /** The attempt's permit from its key's lane: at once, after a wait in the queue, or a refusal. */
  async function permitFor(request: RequestOptions, deadlineAt: number): Promise<Permit> {
    // The lane's own timer refuses a wait that would outlast the deadline, so only the caller's signal
    // is passed.
    try {
      const permit = scheduler.acquire(request.key, request.priority, deadlineAt, request.signal);
      return permit instanceof Promise ? await permit : permit;
    } catch (error) {
      throw transportError(error, false, request.signal?.aborted === true);
    }
  }

  async function getJson(
    path: string,
    request: RequestOptions,
    allowNotFound: boolean,
  ): Promise<UpstreamAnswer | null> {
    const deadlineAt = clock.now() + options.timeoutMs;
    const pastDeadline = () => clock.now() >= deadlineAt;
    const report = (info: UpstreamAttemptInfo) => {
      onAttempt(info);
      request.onAttempt?.(info);
    };
    const template = path.startsWith('/user/calls/') ? '/user/calls/{id}' : '/user/calls';
    budget.recordFirstAttempt();
    for (let attempt = 0; ; attempt++) {
      // An open circuit answers at once, before the request costs any budget or waiting.
      if (breaker.state === 'open') breaker.admit();
      const permit = await permitFor(request, deadlineAt);
      let probe: boolean;
      try {
        ({ probe } = breaker.admit());
      } catch (error) {
        permit.done({ sent: false, failed: null });
        throw error;
      }
      const started = performance.now();
      // The path's template only: ids, filters and credentials stay out of traces.
      const span = request.parentSpan
        ? trace.getTracer('calls-gateway').startSpan(
            `GET ${template}`,
            {
              kind: SpanKind.CLIENT,
              attributes: { 'http.request.method': 'GET', 'url.template': template, 'calls_gateway.attempt': attempt },
            },
            trace.setSpan(context.active(), request.parentSpan),
          )
        : undefined;
      const attemptAbort = attemptSignal(
        clock,
        Math.max(1, Math.min(options.attemptTimeoutMs, deadlineAt - clock.now())),
        request.signal,
      );
      const info = { path, attempt, queuedMs: permit.waitedMs, priority: request.priority };
      let status: number | null = null;
      try {
        const result = await exchange(path, request.token, attemptAbort.signal, allowNotFound);
        status = result.status;
        permit.done({ sent: true, failed: false, said: result.said });
        breaker.record('success', probe, request.key);
        report({
          ...info,
          status,
          durationMs: performance.now() - started,
          outcome: result.answer === null ? 'not_found' : 'ok',
        });
        span?.setAttribute('http.response.status_code', status);
        span?.end();
        return result.answer;
      } catch (raw) {
        status = (raw as { status?: number }).status ?? null;
        let said = (raw as { said?: RateLimitHeaders }).said;
        const error = transportError(raw, attemptAbort.timedOut(), request.signal?.aborted === true);
        report({ ...info, status, durationMs: performance.now() - started, outcome: 'error' });
        if (span) {
          if (status !== null) span.setAttribute('http.response.status_code', status);
          span.setAttribute('error.type', error.code);
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
        if (request.signal?.aborted && !attemptAbort.timedOut()) {
          permit.done({ sent: true, failed: null });
          breaker.release(probe);
          throw error;
        }
        // A 429 that names no wait still means "not now": hold the key for a second.
        if (status === 429 && said && said.retryAfterMs === null) said = { ...said, retryAfterMs: 1_000 };
        const failed = isUpstreamFailure(error, status);
        permit.done({ sent: true, failed, said });
        breaker.record(failed ? 'failure' : 'success', probe, request.key);
        if (pastDeadline() || !isRetryable(error, status) || attempt >= options.maxRetries || !budget.tryRetry())
          throw error;
        // After a 429 the key's lane holds the next attempt until the upstream's time is up, or refuses
        // it at once when that is past the deadline; other failures back off here.
        if (status === 429) continue;
        const pause = backoffMs(attempt, options.retryBaseMs, options.retryCapMs, random);
        if (clock.now() + pause >= deadlineAt) throw error;
        await sleep(clock, pause, request.signal).catch(() => {
          throw transportError(undefined, false, true);
        });
      } finally {
        attemptAbort.done();
      }
    }
  }

  return {
    async listCalls(query, request) {
      return (await getJson(`/user/calls${query ? `?${query}` : ''}`, request, false))!;
    },
    getCall(callId, request) {
      if (!Number.isSafeInteger(callId) || callId < 1) throw new RangeError('callId must be a positive integer');
      return getJson(`/user/calls/${callId}`, request, true);
    },
    snapshot: () => {
      const queue = scheduler.snapshot();
      return {
        breaker: breaker.state,
        breakerKeys: breaker.failingKeyCount,
        inFlight: queue.inFlight,
        scheduler: queue,
      };
    },
    async probe() {
      try {
        const response = await pool.request({
          path: `${basePath}/user/calls?per_page=1`,
          method: 'GET',
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(options.connectTimeoutMs),
        });
        await response.body.dump();
        return response.statusCode;
      } catch {
        return null;
      }
    },
    close: () => {
      scheduler.close();
      return pool.close();
    },
  };
}
