/**
 * The simulator's rate limits (../shared/docs/upstream-contract.md §5.3, modelled on Laravel's ThrottleRequests) and its per_page
 * cap, over real sockets on a manual clock: time only moves when a test moves it, so nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, demoCalls, SECOND_TENANT_TOKEN } from '../../src/simulator/data.js';
import { handleRequest } from '../../src/simulator/routes.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/server.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { RateLimit } from '../../src/simulator/throttle.js';
import { parseRateLimits, RateLimiter } from '../../src/simulator/throttle.js';

/** A whole second, so that window ends are whole seconds too. */
const T0 = 1_800_000_000_000;

class ManualClock {
  constructor(public ms = T0) {}
  now(): number {
    return this.ms;
  }
  /** Moves to `T0 + offsetMs`. */
  at(offsetMs: number): this {
    this.ms = T0 + offsetMs;
    return this;
  }
}

const running: Simulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ host: '127.0.0.1', port: 0, ...options });
  running.push(sim);
  return sim;
}

interface Sent {
  status: number;
  limit: string | null;
  remaining: string | null;
  retryAfter: string | null;
  reset: string | null;
  contentType: string | null;
  body: string;
}

interface SendOptions {
  token?: string | null;
  accept?: string;
  method?: string;
}

async function send(sim: Simulator, path: string, options: SendOptions = {}): Promise<Sent> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  const token = options.token === undefined ? DEMO_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${sim.url}${path}`, { method: options.method ?? 'GET', headers, redirect: 'manual' });
  return {
    status: response.status,
    limit: response.headers.get('x-ratelimit-limit'),
    remaining: response.headers.get('x-ratelimit-remaining'),
    retryAfter: response.headers.get('retry-after'),
    reset: response.headers.get('x-ratelimit-reset'),
    contentType: response.headers.get('content-type'),
    body: await response.text(),
  };
}

/** Sends `count` requests one after another and returns their answers. */
async function sendMany(sim: Simulator, count: number, path = '/user/calls?per_page=1', options: SendOptions = {}) {
  const answers: Sent[] = [];
  for (let i = 0; i < count; i += 1) answers.push(await send(sim, path, options));
  return answers;
}

const seconds = (ms: number): string => String(ms / 1000);

describe('parseRateLimits', () => {
  it.each<[string, string | false, RateLimit[]]>([
    [
      'the documented default',
      '100/60s,20/10s',
      [
        { requests: 100, seconds: 60 },
        { requests: 20, seconds: 10 },
      ],
    ],
    ['one window', '1/1s', [{ requests: 1, seconds: 1 }]],
    [
      'spaces around the parts',
      ' 5/2s , 7/3s ',
      [
        { requests: 5, seconds: 2 },
        { requests: 7, seconds: 3 },
      ],
    ],
    [
      'three windows',
      '1000/3600s,100/60s,20/10s',
      [
        { requests: 1000, seconds: 3600 },
        { requests: 100, seconds: 60 },
        { requests: 20, seconds: 10 },
      ],
    ],
    ['off', 'off', []],
    ['OFF in capitals', ' OFF ', []],
    ['false', false, []],
  ])('accepts %s', (_name, spec, expected) => {
    expect(parseRateLimits(spec)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['an empty string', '', '""'],
    ['a count without a window', '100', '"100"'],
    ['a window without its unit', '100/60', '"100/60"'],
    ['minutes as the unit', '100/1m', '"100/1m"'],
    ['a bad second part', '100/60s,20/10', '"20/10"'],
    ['a trailing comma', '100/60s,', '""'],
    ['a semicolon separator', '100/60s;20/10s', '"100/60s;20/10s"'],
    ['a zero count', '0/10s', '"0/10s"'],
    ['a zero window', '10/0s', '"10/0s"'],
    ['a negative count', '-1/10s', '"-1/10s"'],
    ['a fractional count', '1.5/10s', '"1.5/10s"'],
    ['spaces inside a part', '100 / 60s', '"100 / 60s"'],
    ['a word', 'unlimited', '"unlimited"'],
    ['a count too large to be exact', '99999999999999999999/1s', '"99999999999999999999/1s"'],
  ])('rejects %s, naming the bad part', (_name, spec, quotedPart) => {
    expect(() => parseRateLimits(spec)).toThrow(quotedPart);
  });
});

describe('RateLimiter', () => {
  // Attempts at the given offsets from T0; the headers of the last one are checked.
  it.each<[string, string, number[], string, string]>([
    ['the window with fewer left', '5/10s,3/60s', [0], '3', '2'],
    ['the larger window when it has fewer left', '100/60s,200/10s', [0], '100', '99'],
    ['the first listed on a tie (minute first)', '3/60s,2/10s', [0, 10_000], '3', '1'],
    ['the first listed on a tie (burst first)', '2/10s,3/60s', [0, 10_000], '2', '1'],
  ])('reports %s on an allowed request', (_name, spec, offsets, limit, remaining) => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(parseRateLimits(spec), clock);
    let headers: Record<string, string> = {};
    for (const offset of offsets) {
      clock.at(offset);
      headers = limiter.attempt('k').headers;
    }
    expect(headers).toEqual({ 'x-ratelimit-limit': limit, 'x-ratelimit-remaining': remaining });
  });

  it('reports the exhausted window that ends last on a refusal', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(parseRateLimits('2/60s,1/10s'), clock);
    limiter.attempt('k');
    // Only the 10 s window is exhausted.
    expect(limiter.attempt('k')).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
    clock.at(55_000);
    expect(limiter.attempt('k').allowed).toBe(true);
    // Now both are: the minute one ends at 60 s, the new 10 s one at 65 s, so a retry must wait for the latter.
    expect(limiter.attempt('k')).toEqual({
      allowed: false,
      retryAfterSeconds: 10,
      headers: {
        'retry-after': '10',
        'x-ratelimit-reset': seconds(T0 + 65_000),
        'x-ratelimit-limit': '1',
        'x-ratelimit-remaining': '0',
      },
    });
  });

  it('rounds a partial second up in Retry-After and X-RateLimit-Reset', () => {
    const clock = new ManualClock(T0 + 250);
    const limiter = new RateLimiter(parseRateLimits('1/10s'), clock);
    limiter.attempt('k');
    clock.ms = T0 + 10_000;
    // The window ends at T0 + 10.25 s: 0.25 s away.
    expect(limiter.attempt('k').headers).toMatchObject({
      'retry-after': '1',
      'x-ratelimit-reset': seconds(T0 + 11_000),
    });
  });

  it("drops a key's windows once they have all ended", () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(parseRateLimits('100/60s,20/10s'), clock);
    for (let i = 0; i < 500; i += 1) limiter.attempt(`key-${i}`);
    expect(limiter.trackedKeys).toBe(500);
    clock.at(59_999);
    limiter.attempt('late');
    expect(limiter.trackedKeys).toBe(501);
    clock.at(120_000);
    limiter.attempt('later');
    expect(limiter.trackedKeys).toBe(1);
  });

  it('allows everything without headers when there are no limits', () => {
    const limiter = new RateLimiter([], new ManualClock());
    for (let i = 0; i < 50; i += 1) expect(limiter.attempt('k')).toEqual({ allowed: true, headers: {} });
    expect(limiter.trackedKeys).toBe(0);
  });
});

describe('simulator rate limits', () => {
  it('lets 20 requests through in 10 s, refuses the 21st until the window ends, and counts 429s', async () => {
    const clock = new ManualClock();
    const sim = await start({ clock });
    for (let i = 1; i <= 20; i += 1) {
      clock.at((i - 1) * 100);
      const answer = await send(sim, '/user/calls?per_page=1');
      const expected = { status: 200, limit: '20', remaining: String(20 - i), retryAfter: null, reset: null };
      expect(answer).toMatchObject(expected);
    }
    expect(sim.rateLimited).toBe(0);

    // The burst window opened at T0 with the first request and ends 10 s later.
    const windowEnd = T0 + 10_000;
    clock.at(5_000);
    expect(await send(sim, '/user/calls?per_page=1')).toEqual({
      status: 429,
      limit: '20',
      remaining: '0',
      retryAfter: '5',
      reset: seconds(windowEnd),
      contentType: 'application/json',
      body: '{"message":"Too Many Attempts."}',
    });
    clock.at(9_999);
    expect(await send(sim, '/user/calls?per_page=1')).toMatchObject({ status: 429, retryAfter: '1' });
    expect(sim.rateLimited).toBe(2);

    clock.at(10_000);
    expect(await send(sim, '/user/calls?per_page=1')).toMatchObject({ status: 200, limit: '20', remaining: '19' });
    expect(sim.rateLimited).toBe(2);
  });

  it("does not count refused requests; the minute's 101st is refused with that window's Retry-After", async () => {
    const clock = new ManualClock();
    const sim = await start({ clock });
    for (let burst = 0; burst < 5; burst += 1) {
      clock.at(burst * 10_000);
      const answers = await sendMany(sim, 20);
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      // Until the last burst the 10 s window has fewer left; in the last one both have the same, and the
      // first listed (the minute) is shown.
      const limit = burst < 4 ? '20' : '100';
      expect(answers.map((answer) => [answer.limit, answer.remaining])).toEqual(
        Array.from({ length: 20 }, (_, i) => [limit, String(19 - i)]),
      );
      clock.at(burst * 10_000 + 5_000);
      const refused = await sendMany(sim, 3);
      expect(refused.map((answer) => [answer.status, answer.limit, answer.retryAfter])).toEqual(
        Array(3).fill([429, burst < 4 ? '20' : '100', burst < 4 ? '5' : '15']),
      );
    }
    expect(sim.rateLimited).toBe(15);

    // 100 counted this minute; the 10 s window has reset, the minute's has not.
    clock.at(50_000);
    expect(await send(sim, '/user/calls/100001')).toMatchObject({
      status: 429,
      limit: '100',
      remaining: '0',
      retryAfter: '10',
      reset: seconds(T0 + 60_000),
    });
    clock.at(60_000);
    expect(await send(sim, '/user/calls?per_page=1')).toMatchObject({ status: 200, limit: '20', remaining: '19' });
  });

  it.each<[string, string, number]>([
    ['a list', '/user/calls?per_page=2', 200],
    ['a HEAD of a list', '/user/calls?per_page=2', 200],
    ['a get', `/user/calls/${demoCalls()[7]!.raw.id}`, 200],
    ['a get of an unknown id', '/user/calls/1', 404],
    ['an invalid list', '/user/calls?per_page=101', 422],
  ])('throttles %s, with the headers on every answer', async (name, path, status) => {
    const clock = new ManualClock();
    const sim = await start({ clock });
    const method = name.startsWith('a HEAD') ? 'HEAD' : 'GET';
    const answers = await sendMany(sim, 21, path, { method });
    expect(answers.slice(0, 20).map((answer) => [answer.status, answer.limit, answer.remaining])).toEqual(
      Array.from({ length: 20 }, (_, i) => [status, '20', String(19 - i)]),
    );
    expect(answers[20]).toMatchObject({
      status: 429,
      limit: '20',
      remaining: '0',
      retryAfter: '10',
      reset: seconds(T0 + 10_000),
    });
    expect(sim.rateLimited).toBe(1);
  });

  it("never lets one token's limit affect another token", async () => {
    const clock = new ManualClock();
    const sim = await start({ clock });
    await sendMany(sim, 20);
    expect((await send(sim, '/user/calls')).status).toBe(429);
    const other = await sendMany(sim, 20, '/user/calls?per_page=1', { token: SECOND_TENANT_TOKEN });
    expect(other.map((answer) => [answer.status, answer.remaining])).toEqual(
      Array.from({ length: 20 }, (_, i) => [200, String(19 - i)]),
    );
    expect((await send(sim, '/user/calls', { token: SECOND_TENANT_TOKEN })).status).toBe(429);
    expect((await send(sim, '/user/calls')).status).toBe(429);
    clock.at(10_000);
    expect((await send(sim, '/user/calls')).remaining).toBe('19');
    expect((await send(sim, '/user/calls', { token: SECOND_TENANT_TOKEN })).remaining).toBe('19');
  });

  it.each<[string, string, SendOptions, number]>([
    ['no token (401)', '/user/calls', { token: null }, 401],
    ['an unknown token (401)', '/user/calls/1', { token: 'wrong' }, 401],
    ['an unknown token without JSON (302)', '/user/calls', { token: 'wrong', accept: 'text/html' }, 302],
    ['an unknown path', '/user/call', {}, 404],
    ['another method', '/user/calls', { method: 'POST' }, 405],
  ])('does not throttle or count requests refused before the throttle: %s', async (_name, path, options, status) => {
    const sim = await start({ clock: new ManualClock(), rateLimits: '1/60s' });
    const answers = await sendMany(sim, 5, path, options);
    expect(answers.map((answer) => [answer.status, answer.limit, answer.remaining])).toEqual(
      Array(5).fill([status, null, null]),
    );
    expect(await send(sim, '/user/calls?per_page=1')).toMatchObject({ status: 200, limit: '1', remaining: '0' });
    expect((await send(sim, '/user/calls?per_page=1')).status).toBe(429);
    expect(sim.rateLimited).toBe(1);
  });

  it.each<[string, string | false]>([
    ['false', false],
    ["'off'", 'off'],
  ])('never throttles with rateLimits %s', async (_name, rateLimits) => {
    const sim = await start({ clock: new ManualClock(), rateLimits });
    const answers = await sendMany(sim, 120, '/user/calls/1');
    expect(answers.every((answer) => answer.status === 404 && answer.limit === null && answer.remaining === null)).toBe(
      true,
    );
    expect(sim.rateLimited).toBe(0);
  });

  it('changes the limits at run time, starting every window afresh', async () => {
    const clock = new ManualClock();
    const sim = await start({ clock });
    await sendMany(sim, 20);
    expect((await send(sim, '/user/calls')).status).toBe(429);

    sim.setRateLimits('3/1s');
    const small = await sendMany(sim, 4);
    expect(small.map((answer) => [answer.status, answer.limit, answer.remaining, answer.retryAfter])).toEqual([
      [200, '3', '2', null],
      [200, '3', '1', null],
      [200, '3', '0', null],
      [429, '3', '0', '1'],
    ]);
    expect(() => sim.setRateLimits('3/1m')).toThrow('"3/1m"');
    expect((await send(sim, '/user/calls')).status).toBe(429);
    expect(sim.rateLimited).toBe(3);

    sim.setRateLimits('off');
    expect((await sendMany(sim, 30)).every((answer) => answer.status === 200 && answer.limit === null)).toBe(true);
    sim.setRateLimits(false);
    expect((await send(sim, '/user/calls')).status).toBe(200);

    sim.setRateLimits('100/60s,20/10s');
    expect(await send(sim, '/user/calls')).toMatchObject({ status: 200, limit: '20', remaining: '19' });
    expect(sim.rateLimited).toBe(3);
  });

  it('refuses to start with invalid limits or page cap', async () => {
    await expect(startSimulator({ rateLimits: '20/10' })).rejects.toThrow('"20/10"');
    await expect(startSimulator({ maxPerPage: 0 })).rejects.toThrow('maxPerPage');
  });

  it('stamps recorded requests with the injected clock', async () => {
    const clock = new ManualClock();
    const sim = await start({ clock, rateLimits: false });
    clock.at(1_234);
    await send(sim, '/user/calls', { token: null });
    expect(sim.requests.map((request) => request.at)).toEqual([T0 + 1_234]);
  });
});

describe('maxPerPage', () => {
  const sorted = demoCalls().sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.raw.id - a.raw.id);
  const ids = (rows: readonly { raw: { id: number } }[]): number[] => rows.map((row) => row.raw.id);
  const dataIds = (body: { data: { id: number }[] }): number[] => body.data.map((raw) => raw.id);

  it('clamps a larger per_page and leaves a smaller one alone, and can be changed at run time', async () => {
    const sim = await start({ maxPerPage: 50, clock: new ManualClock() });

    const clamped = await send(sim, '/user/calls?per_page=100&page=2');
    expect(clamped.status).toBe(200);
    const body = JSON.parse(clamped.body);
    expect(body).toMatchObject({
      per_page: 50,
      current_page: 2,
      from: 51,
      to: 100,
      last_page: Math.ceil(sorted.length / 50),
      total: sorted.length,
      next_page_url: `${sim.url}/user/calls?page=3`,
    });
    expect(body.last_page).toBe(50);
    expect(dataIds(body)).toEqual(ids(sorted.slice(50, 100)));

    const untouched = JSON.parse((await send(sim, '/user/calls?per_page=30&page=2')).body);
    expect(untouched).toMatchObject({ per_page: 30, current_page: 2, from: 31, to: 60, last_page: 84 });
    expect(dataIds(untouched)).toEqual(ids(sorted.slice(30, 60)));

    // Validation still runs first: over 100 is a 422, not a clamp.
    expect((await send(sim, '/user/calls?per_page=101')).status).toBe(422);

    sim.setMaxPerPage(10);
    expect(JSON.parse((await send(sim, '/user/calls')).body)).toMatchObject({ per_page: 10, to: 10 });
    sim.setMaxPerPage(undefined);
    expect(JSON.parse((await send(sim, '/user/calls?per_page=100')).body)).toMatchObject({ per_page: 100, to: 100 });
    expect(() => sim.setMaxPerPage(2.5)).toThrow('maxPerPage');
  });

  it('is a RouteContext option of the pure handler', () => {
    const answer = handleRequest(
      { method: 'GET', url: '/api/user/calls?per_page=100&page=3', headers: { authorization: 'Bearer x' } },
      { tenants: new Map([['x', sorted]]), origin: 'http://upstream.test', maxPerPage: 40 },
    );
    expect(JSON.parse(answer.body)).toMatchObject({ per_page: 40, current_page: 3, from: 81, to: 120 });
    expect(answer.headers['x-ratelimit-limit']).toBeUndefined();
  });
});
