/**
 * Time, injected: everything that waits or expires (the per-key scheduler, the page cache, breakers,
 * retry budgets) reads this instead of `Date.now()` and `setTimeout`, so tests run it on a clock they
 * move by hand, or on one that runs faster than the wall clock (shared with the simulator).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as `Date.now()`. */
  now(): number;
  /** Runs `callback` once after `ms` milliseconds of this clock's time. */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
