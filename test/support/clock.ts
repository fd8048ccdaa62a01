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
