import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { GatewayError } from '../../src/errors.js';
import { parseRetryAfter } from '../../src/upstream/budget.js';
import {
  createUpstreamClient,
  type RequestOptions,
  scrubUpstreamText,
  splitBaseUrl,
  type UpstreamClient,
  type UpstreamClientOptions,
} from '../../src/upstream/client.js';
import { upstreamClientOptions } from '../../src/upstream-policy.js';
import { ioTurns, ManualClock, realUntil, watch } from '../support/clock.js';
import { closedPort } from '../support/gateway.js';

const TOKEN = 'tok-SECRET-123';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A throwaway upstream on 127.0.0.1:0 whose next answer each test scripts. */
let server: Server;
let base: string;
let handler: Handler;
const seen: { url: string; headers: IncomingMessage['headers'] }[] = [];
const open = new Set<import('node:net').Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    handler(req, res);
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

/** What the client logged at warn, in the last client made by `client()`. */
let warnings: { details: Record<string, unknown>; message: string }[] = [];

/** The production policy with shorter timings and, unless a test asks, no retries; on `clock` when given. */
function client(overrides: Partial<UpstreamClientOptions> = {}, clock?: Clock, random?: () => number): UpstreamClient {
  const defaults = upstreamClientOptions({ ...loadConfig({}), upstreamBaseUrl: base });
  warnings = [];
  return createUpstreamClient(
    {
      ...defaults,
      timeoutMs: 2_000,
      attemptTimeoutMs: 2_000,
      maxRetries: 0,
      maxResponseBytes: 64 * 1024,
      ...overrides,
    },
    { warn: (details, message) => warnings.push({ details, message }) },
    clock,
    random,
  );
}
const auth: RequestOptions = { token: TOKEN, key: 'key-hash', priority: 'interactive' };

const reply =
  (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Handler =>
  (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    const e = error as GatewayError;
    // Nothing that identifies the upstream or the caller reaches the public message or details.
    expect(`${e.message} ${JSON.stringify(e.details)}`).not.toMatch(/127\.0\.0\.1|SECRET|http:|tok-/);
    return e;
  }
  throw new Error('expected a failure');
}

describe('upstream client', () => {
  it('joins the base URL with or without a trailing slash and sends the bearer token and Accept: application/json', async () => {
    handler = reply(200, '{"data":[]}');
    const c = client();
    await c.listCalls(new URLSearchParams({ status: 'in-progress', phone_number: '+49 151' }).toString(), auth);
    const c2 = client({ baseUrl: base.replace(/\/$/, '') });
    await c2.getCall(42, auth);
    expect(seen.map((s) => s.url)).toEqual([
      '/api/user/calls?status=in-progress&phone_number=%2B49+151',
      '/api/user/calls/42',
    ]);
    expect(seen[0]!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, accept: 'application/json' });
    await Promise.all([c.close(), c2.close()]);
  });

  it.each<[string, Handler, string, Record<string, unknown>?]>([
    [
      '302 to a login page',
      reply(302, '<html>login</html>', { location: 'http://127.0.0.1:1/login', 'content-type': 'text/html' }),
      'UNAUTHENTICATED',
    ],
    ['401', reply(401, '{"message":"Unauthenticated."}'), 'UNAUTHENTICATED'],
    ['403', reply(403, '{"error":"Insufficient permissions","message":"SECRET"}'), 'UNAUTHENTICATED'],
    ['404 on the list', reply(404, '{"message":"Not Found"}'), 'UPSTREAM_BAD_RESPONSE'],
    [
      '429 with Retry-After seconds',
      reply(429, '{"message":"Too Many Attempts."}', { 'content-type': 'application/json', 'retry-after': '7' }),
      'UPSTREAM_RATE_LIMITED',
      { retryAfter: 7 },
    ],
    [
      '429 with retry_after in the body',
      reply(429, '{"error":"Rate limit exceeded","retry_after":60}'),
      'UPSTREAM_RATE_LIMITED',
      { retryAfter: 60 },
    ],
    ['429 without any hint', reply(429, 'slow down'), 'UPSTREAM_RATE_LIMITED', {}],
    [
      '500 with an HTML page',
      reply(500, '<h1>SECRET stack trace at /var/www</h1>', { 'content-type': 'text/html' }),
      'UPSTREAM_UNAVAILABLE',
    ],
    ['502', reply(502, 'Bad Gateway', { 'content-type': 'text/plain' }), 'UPSTREAM_UNAVAILABLE'],
    ['503 JSON', reply(503, '{"message":"Server Error"}'), 'UPSTREAM_UNAVAILABLE'],
    ['418', reply(418, '{}'), 'UPSTREAM_BAD_RESPONSE'],
    [
      '200 with HTML',
      reply(200, '<!doctype html><title>Login</title>', { 'content-type': 'text/html' }),
      'UPSTREAM_BAD_RESPONSE',
    ],
    ['200 with broken JSON', reply(200, '{"data": [SECRET'), 'UPSTREAM_BAD_RESPONSE'],
    [
      'a body over the size cap',
      reply(200, JSON.stringify({ data: [], pad: 'x'.repeat(100 * 1024) })),
      'UPSTREAM_BAD_RESPONSE',
    ],
  ])('maps %s to %s', async (_name, h, code, details) => {
    handler = h;
    const c = client();
    const error = await failure(c.listCalls(new URLSearchParams().toString(), auth));
    expect(error.code).toBe(code);
    if (details) expect(error.details).toEqual(details);
    expect(seen).toHaveLength(1);
    await c.close();
  });

  it('answers a 422 in its own words, naming the parameters; the upstream text goes to the log, scrubbed', async () => {
    handler = reply(
      422,
      JSON.stringify({
        message: 'The given data was invalid. <b>key=sk-live-abc</b>',
        errors: {
          date_from: ['The date from field must match <i>Y-m-d</i>; see https://upstream.example/docs?key=sk-live-abc'],
          internal_debug: ['SECRET'],
          page: ['x'.repeat(500)],
        },
      }),
    );
    const c = client();
    const error = await failure(c.listCalls(new URLSearchParams({ date_from: '2026-01-01' }).toString(), auth));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toBe(
      'The upstream API refused "date_from", "page", which the gateway accepted; the two disagree on what is valid.',
    );
    expect(error.details).toEqual({ upstreamParameters: ['date_from', 'page'], argumentName: 'filter.dateFrom' });
    expect(JSON.stringify(error)).not.toMatch(/Y-m-d|sk-live|upstream\.example|<i>/);
    expect(warnings).toEqual([
      {
        message: 'the upstream refused parameters the gateway accepted',
        details: {
          status: 422,
          refused: { date_from: ['The date from field must match Y-m-d ; see [url]'], page: ['x'.repeat(200)] },
        },
      },
    ]);
    await c.close();
  });

  it.each([
    ['HTML and a URL with a token', '<p>Bad <b>value</b></p> at https://x.example/a?token=abc', 'Bad value at [url]'],
    ['key=value pairs', 'invalid key=sk-live-123 and id=7', 'invalid key=[redacted] and id=[redacted]'],
    ['control characters and non-ASCII', 'line\u0000one\nzwei\u00e4', 'line one zwei'],
    ['a very long text', 'y'.repeat(300), 'y'.repeat(200)],
  ])('scrubs upstream text for the log: %s', (_name, text, expected) => {
    expect(scrubUpstreamText(text)).toBe(expected);
  });

  it('a same-host redirect (http to https) says what happened and how to fix it, not "login page"', async () => {
    handler = reply(301, '', { location: base.replace('http://', 'https://') });
    const c = client();
    const error = await failure(c.listCalls('', auth));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/redirect \(HTTP 301\) to another address on the same host.*UPSTREAM_BASE_URL/);
    expect(error.message).not.toMatch(/login/);
    expect(warnings.map((w) => w.details)).toEqual([{ status: 301 }]);
    await c.close();
  });

  it('getCall answers null on 404', async () => {
    handler = reply(404, '{"message":"Call not found"}');
    const c = client();
    await expect(c.getCall(7, auth)).resolves.toBeNull();
    await c.close();
  });

  it('never follows a redirect, so the token never reaches another origin', async () => {
    const other = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    let otherHits = 0;
    other.on('request', () => otherHits++);
    handler = reply(302, '', { location: `http://localhost:${(other.address() as AddressInfo).port}/steal` });
    const c = client();
    const error = await failure(c.listCalls(new URLSearchParams().toString(), auth));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/to another host, which the gateway never follows/);
    expect(otherHits).toBe(0);
    await c.close();
    await new Promise((r) => other.close(r));
  });

  // Deadlines and back-off run on a clock the test moves (src/clock.ts): each rule is checked at the
  // millisecond it names, and nothing here depends on how fast the machine is. The attempt timeout is set
  // well above the deadline so that undici's own timers (real time, per phase) cannot be what fires.
  it('gives up at the deadline when the upstream does not answer, and not a millisecond before', async () => {
    handler = () => {}; // never answers
    const clock = new ManualClock();
    const c = client({ timeoutMs: 2_000, attemptTimeoutMs: 8_000 }, clock);
    const call = watch(clock, c.listCalls(new URLSearchParams().toString(), auth));
    await realUntil(() => seen.length === 1, 2_000, 'the request');
    await clock.advance(1_999);
    await ioTurns();
    expect(call.settled).toBe(false);
    await clock.advance(1);
    await realUntil(() => call.settled, 2_000, 'the answer');
    expect(call.at).toBe(clock.time);
    expect((await failure(Promise.reject(call.error))).code).toBe('UPSTREAM_TIMEOUT');
    expect(seen).toHaveLength(1);
    await c.close();
  });

  it('a body that keeps dripping (undici times bodies between chunks, so never cuts it) is cut at the deadline, and its socket closed', async () => {
    let chunks = 0;
    let closed = false;
    handler = (req, res) => {
      req.socket.on('close', () => (closed = true));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":[');
      const drip = setInterval(() => {
        if (res.destroyed) return clearInterval(drip);
        res.write(' ');
        chunks++;
      }, 20);
      res.on('close', () => clearInterval(drip));
    };
    const clock = new ManualClock();
    const c = client({ timeoutMs: 2_000, attemptTimeoutMs: 8_000 }, clock);
    const call = watch(clock, c.listCalls(new URLSearchParams().toString(), auth));
    await clock.advance(1_999);
    // The body is flowing: the call is still waiting for its end, not stuck before the headers.
    await realUntil(() => chunks >= 3, 2_000, 'three chunks');
    expect(call.settled).toBe(false);
    await clock.advance(1);
    await realUntil(() => call.settled, 2_000, 'the answer');
    expect(call.at).toBe(clock.time);
    expect((await failure(Promise.reject(call.error))).code).toBe('UPSTREAM_TIMEOUT');
    await realUntil(() => closed, 2_000, 'the socket closing');
    await c.close();
  });

  it('retries a 503 only once its full-jitter back-off has passed on the clock (250 ms, then 500 ms, at the top of their range)', async () => {
    handler = reply(503, '{"message":"Server Error"}');
    const clock = new ManualClock();
    // random() just under 1: the longest back-offs the policy allows, floor(0.999 x 250 x 2^n) = 249, 499 ms.
    const c = client({ timeoutMs: 20_000, attemptTimeoutMs: 8_000, maxRetries: 2 }, clock, () => 0.999);
    const call = watch(clock, c.listCalls(new URLSearchParams().toString(), auth));
    await realUntil(() => seen.length === 1, 2_000, 'the first attempt');
    await clock.advance(248);
    await ioTurns(20);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    await realUntil(() => seen.length === 2, 2_000, 'the first retry');
    await clock.advance(498);
    await ioTurns(20);
    expect(seen).toHaveLength(2);
    await clock.advance(1);
    await realUntil(() => call.settled, 2_000, 'the answer');
    expect(seen).toHaveLength(3);
    expect(call.at).toBe(clock.time);
    expect((await failure(Promise.reject(call.error))).code).toBe('UPSTREAM_UNAVAILABLE');
    await c.close();
  });

  it('cuts an attempt at the attempt timeout and retries within the deadline', async () => {
    let attempts = 0;
    handler = (req, res) => {
      // The first attempt hangs; the retry is answered.
      if (attempts++ > 0) reply(200, '{"data":[]}')(req, res);
    };
    const clock = new ManualClock();
    const c = client({ timeoutMs: 20_000, attemptTimeoutMs: 8_000, maxRetries: 1 }, clock, () => 0);
    const call = watch(clock, c.listCalls(new URLSearchParams().toString(), auth));
    await realUntil(() => seen.length === 1, 2_000, 'the first attempt');
    await clock.advance(7_999);
    await ioTurns(20);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    await realUntil(() => call.settled, 2_000, 'the answer');
    expect(call.error).toBeUndefined();
    expect(seen).toHaveLength(2);
    expect(call.at).toBe(clock.time);
    await c.close();
  });

  it('an unreachable upstream is UPSTREAM_UNAVAILABLE', async () => {
    const port = await closedPort();
    const c = client({ baseUrl: `http://127.0.0.1:${port}/api` });
    expect((await failure(c.listCalls(new URLSearchParams().toString(), auth))).code).toBe('UPSTREAM_UNAVAILABLE');
    await c.close();
  });

  it('aborts the upstream request when the caller goes away', async () => {
    let closed = false;
    handler = (req) => req.socket.on('close', () => (closed = true));
    const c = client();
    const controller = new AbortController();
    const pending = c.listCalls(new URLSearchParams().toString(), { ...auth, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    expect((await failure(pending)).code).toBe('UPSTREAM_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    await c.close();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each<[string | undefined, unknown, number | null]>([
    ['7', null, 7],
    [' 120 ', null, 120],
    ['Thu, 01 Jan 2026 00:00:30 GMT', null, 30],
    ['Wed, 31 Dec 2025 23:00:00 GMT', null, 0],
    [undefined, { retry_after: 60 }, 60],
    [undefined, { retry_after: 1.2 }, 2],
    [undefined, { retry_after: '15' }, 15],
    [undefined, { retry_after: -1 }, null],
    ['soon', null, null],
    [undefined, null, null],
  ])('header %s, body %o -> %s', (header, body, expected) => {
    expect(parseRetryAfter(header, body, now)).toBe(expected);
  });
});

describe('splitBaseUrl', () => {
  it.each([
    ['https://app.famulor.de/api', { origin: 'https://app.famulor.de', basePath: '/api' }],
    ['https://ki.web-wb.de/api/', { origin: 'https://ki.web-wb.de', basePath: '/api' }],
    ['http://127.0.0.1:8080', { origin: 'http://127.0.0.1:8080', basePath: '' }],
  ])('%s', (url, expected) => {
    expect(splitBaseUrl(url)).toEqual(expected);
  });
  it.each(['ftp://x/api', 'https://u:p@x/api', 'https://x/api?key=1'])('refuses %s', (url) => {
    expect(() => splitBaseUrl(url)).toThrow(TypeError);
  });
});
