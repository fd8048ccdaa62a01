/**
 * The only code that talks HTTP to the upstream calls API. One undici Pool per gateway (keep-alive,
 * bounded sockets), a total deadline per call enforced with an AbortSignal (undici's own timeouts are
 * per phase and, for bodies, between chunks), no redirects followed, and every failure turned into a
 * GatewayError whose public message carries no upstream URL, body, header or token.
 */
import { Pool, errors as undiciErrors } from 'undici';
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
  /** Total deadline of one upstream call, all phases. @default 20000 */
  timeoutMs: number;
  /** Sockets to the upstream origin. @default 32 */
  connections: number;
  /** Responses larger than this are refused. @default 5 MiB */
  maxResponseBytes: number;
}

/** What one upstream call was, for counting and logging; never the token. */
export interface UpstreamCallInfo {
  path: string;
  status: number | null;
  durationMs: number;
  outcome: 'ok' | 'not_found' | 'error';
}

export interface UpstreamClient {
  /** `GET /user/calls?…`; resolves to the parsed JSON body. */
  listCalls(query: URLSearchParams, token: string, signal?: AbortSignal): Promise<unknown>;
  /** `GET /user/calls/{id}`; resolves to the parsed JSON body, or null when the upstream says 404. */
  getCall(callId: number, token: string, signal?: AbortSignal): Promise<unknown>;
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

function transportError(error: unknown, deadline: AbortSignal, caller?: AbortSignal): GatewayError {
  if (error instanceof GatewayError) return error;
  if (caller?.aborted && !deadline.aborted) {
    return new UpstreamUnavailableError('The request was cancelled before the upstream API answered.', { cause: error });
  }
  if (
    deadline.aborted ||
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
): UpstreamClient {
  const { origin, basePath } = splitBaseUrl(options.baseUrl);
  const pool = new Pool(origin, {
    connections: options.connections,
    pipelining: 1,
    connectTimeout: Math.min(options.timeoutMs, 3_000),
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    maxResponseSize: options.maxResponseBytes,
  });

  async function getJson(path: string, token: string, caller: AbortSignal | undefined, allowNotFound: boolean): Promise<unknown> {
    const started = performance.now();
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = caller ? AbortSignal.any([deadline, caller]) : deadline;
    let status: number | null = null;
    try {
      const response = await pool.request({
        path: basePath + path,
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal,
      });
      status = response.statusCode;
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
      if (status === 404 && allowNotFound) {
        onCall({ path, status, durationMs: performance.now() - started, outcome: 'not_found' });
        return null;
      }
      if (status < 200 || status >= 300) throw statusError(status, response.headers, body);
      if (!isJson) throw new UpstreamBadResponseError('The upstream API answered with something that is not JSON.');
      onCall({ path, status, durationMs: performance.now() - started, outcome: 'ok' });
      return body;
    } catch (error) {
      onCall({ path, status, durationMs: performance.now() - started, outcome: 'error' });
      throw transportError(error, deadline, caller);
    }
  }

  return {
    listCalls(query, token, signal) {
      const search = query.toString();
      return getJson(`/user/calls${search ? `?${search}` : ''}`, token, signal, false);
    },
    getCall(callId, token, signal) {
      if (!Number.isSafeInteger(callId) || callId < 1) throw new RangeError('callId must be a positive integer');
      return getJson(`/user/calls/${callId}`, token, signal, true);
    },
    close: () => pool.close(),
  };
}
