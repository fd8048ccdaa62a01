/**
 * Clocks for tests. `ManualClock` moves only when the test says so and runs due timers in order;
 * `scaledClock` runs `factor` times faster than the wall clock, so that a whole deployment (simulator,
 * gateway, clients) can share it over real sockets and a minute of budget takes a few seconds.
 */
import type { Clock } from '../../src/clock.js';

/** 2026-11-01T00:00:00Z: any fixed, non-zero epoch (lru-cache reads a start time of 0 as "no TTL"). */
export const EPOCH = Date.UTC(2026, 10, 1);

export class ManualClock implements Clock {
  private readonly timers = new Map<number, { at: number; run: () => void }>();
  private next = 1;
  constructor(public time = EPOCH) {}

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.next++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), run: callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, running each timer that falls due at its own time, in order, and letting
   * the promise callbacks it triggers settle before the next one.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; run: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].run();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/**
 * Lets real I/O run (loopback sockets, undici, the simulator's handler): a few turns of the event loop.
 * Counted in turns rather than milliseconds, so how far a clock driven with it can run ahead of an
 * exchange on a socket does not depend on how busy the machine is.
 */
export async function ioTurns(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Moves `clock` forward by `ms` in steps of `step` (the last one shorter), letting real I/O run after
 * each, so that what the clock's timers start over real sockets (an abort, a retry, a probe) happens
 * at about the clock time it would in production: a request sent by a timer due at T arrives at T, or
 * a step or two later, never earlier.
 */
export async function drive(clock: ManualClock, ms: number, step = 5): Promise<void> {
  const end = clock.time + ms;
  while (clock.time < end) {
    await clock.advance(Math.min(step, end - clock.time));
    await ioTurns();
  }
}

/**
 * Drives `clock` in steps of `step` until `done()` holds, for at most `limitMs` of its time; returns the
 * clock time at which it held. Throws when it never did: a wait that real time would have ended (a
 * real timer, not the clock's) shows up here as a failure, not as a slow test.
 */
export async function driveUntil(clock: ManualClock, done: () => boolean, limitMs: number, step = 5): Promise<number> {
  const end = clock.time + limitMs;
  await ioTurns();
  while (!done()) {
    if (clock.time >= end) throw new Error(`not reached within ${limitMs} ms of the clock's time`);
    await clock.advance(Math.min(step, end - clock.time));
    await ioTurns();
  }
  return clock.time;
}

/** A promise's outcome once it settles, and the clock time at which it did. */
export interface Watched<T> {
  settled: boolean;
  at: number | null;
  value?: T;
  error?: unknown;
}

export function watch<T>(clock: Clock, promise: Promise<T>): Watched<T> {
  const state: Watched<T> = { settled: false, at: null };
  promise.then(
    (value) => Object.assign(state, { settled: true, at: clock.now(), value }),
    (error: unknown) => Object.assign(state, { settled: true, at: clock.now(), error }),
  );
  return state;
}

/**
 * Waits in real time, at most `ms`, for `check` to hold, without moving any clock. A generous bound that
 * only tells "happened" from "never happens": used to show something needs no clock time at all (an
 * answer given at once, an abort that follows a disconnect), never to measure how long it took.
 */
export async function realUntil(check: () => boolean, ms = 2_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what} not reached within ${ms} ms of real time`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending promise callbacks run (several rounds, for chains). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

export interface ScaledClock extends Clock {
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** A clock that runs `factor` times faster than the wall clock, from now. */
export function scaledClock(factor: number): ScaledClock {
  const startWall = performance.now();
  const startTime = Date.now();
  const clock: ScaledClock = {
    now: () => startTime + (performance.now() - startWall) * factor,
    setTimeout: (callback, ms) => setTimeout(callback, ms / factor),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / factor)),
  };
  return clock;
}
