/**
 * In-flight coalescing: while one upstream request for a key is on its way, identical requests wait
 * for it instead of making their own. Keys include the caller's API-key hash, so nothing is ever shared
 * between callers (../shared/docs/reliability.md §2, "dedupe GETs keyed on URL + hash(Authorization)"). Nothing is kept
 * once the answer is in: this is not a cache. The shared request is aborted only when every waiter has
 * gone away, so one client that disconnects cannot fail the others.
 */
export class InFlight<T> {
  private readonly pending = new Map<string, Flight<T>>();
  /** Requests that were served by another's upstream request. */
  hits = 0;

  run(key: string, signal: AbortSignal | undefined, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let entry = this.pending.get(key);
    if (entry) {
      this.hits++;
    } else {
      const controller = new AbortController();
      const created: Flight<T> = { promise: task(controller.signal), waiters: 0, controller };
      // Once settled, the entry lets go of the answer: a deleted Map entry stays reachable from the
      // Map's old backing store until a full mark-compact, and with it every answer it held, which
      // promoted each upstream page to the old generation (issue 13's profile: 73 KB survived the young
      // generation per request, 14 KB without coalescing).
      const forget = () => {
        if (this.pending.get(key) === created) this.pending.delete(key);
        created.promise = SETTLED as Promise<T>;
        created.controller = null;
      };
      created.promise.then(forget, forget);
      this.pending.set(key, created);
      entry = created;
    }
    const shared = entry;
    const promise = shared.promise;
    shared.waiters++;
    if (!signal) return promise;
    if (signal.aborted) return this.leave(shared, signal);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.leave(shared, signal).catch(reject);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private leave(entry: Flight<T>, signal: AbortSignal): Promise<never> {
    entry.waiters--;
    if (entry.waiters === 0) entry.controller?.abort(signal.reason);
    return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  }
}

interface Flight<T> {
  promise: Promise<T>;
  waiters: number;
  /** Aborts the shared request; null once it has settled. */
  controller: AbortController | null;
}
/** What a settled entry holds instead of its answer (never awaited: the entry has left the map). */
const SETTLED: Promise<never> = new Promise<never>(() => {});

/**
 * Results remembered for a short time, per key (which again includes the caller's API-key hash). A
 * failed computation is forgotten at once, so an error is never served from memory.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = compute();
    this.entries.delete(key);
    this.entries.set(key, { at: this.now(), value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
