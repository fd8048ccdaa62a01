/**
 * The live store in this process (store.ts): used without `REDIS_URL`, and by the Redis store while Redis is
 * unreachable (fail open). Each key's log is a ring of `LOG_MAX_ENTRIES`; ids are `m.<boot>.<n>`, where
 * `<boot>` is random per process, so an id from another process or an earlier run is recognised as foreign
 * (resync) instead of being read as a position in this one. Keys are kept in an LRU bounded in number and
 * expiring `LIVE_STATE_TTL_MS` after their last write, on the injected clock.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import {
  type ApplyMode,
  LIVE_STATE_TTL_MS,
  type LiveStore,
  LOG_MAX_ENTRIES,
  type LoggedEvent,
  type LogRead,
  newer,
  type ObservedCall,
  SNAPSHOT_MAX_CALLS,
} from './store.js';

interface KeyState {
  /** callId -> fingerprint. */
  snapshot: Map<number, string>;
  /** Null until the first poll; then the oldest call of the last head read (null for an empty list). */
  watermark: { createdMs: number; callId: number } | null | undefined;
  log: LoggedEvent[];
  /** Sequence number of the newest entry dropped from the ring (0: none). */
  dropped: number;
  /** Sequence number of the newest entry (0: none yet). */
  last: number;
}

export interface MemoryLiveStoreOptions {
  /** Keys kept at most. @default 10000 */
  maxKeys?: number;
  /** @default LOG_MAX_ENTRIES */
  maxEntries?: number;
}

export class MemoryLiveStore implements LiveStore {
  private readonly prefix = `m.${randomBytes(4).toString('hex')}.`;
  private readonly keys: LRUCache<string, KeyState>;
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly maxEntries: number;
  private seq = 0;

  constructor(clock: Clock, options: MemoryLiveStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? LOG_MAX_ENTRIES;
    this.keys = new LRUCache({
      max: options.maxKeys ?? 10_000,
      ttl: LIVE_STATE_TTL_MS,
      ttlResolution: 0,
      perf: { now: () => clock.now() },
    });
  }

  owns(id: string): boolean {
    return this.seqOf(id) !== null;
  }

  private seqOf(id: string): number | null {
    if (!id.startsWith(this.prefix)) return null;
    const text = id.slice(this.prefix.length);
    return /^(0|[1-9]\d{0,15})$/.test(text) ? Number(text) : null;
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { snapshot: new Map(), watermark: undefined, log: [], dropped: 0, last: 0 };
      this.keys.set(key, state);
    }
    return state;
  }

  private append(state: KeyState, entry: Omit<LoggedEvent, 'id'>): LoggedEvent {
    const seq = ++this.seq;
    const logged = { ...entry, id: `${this.prefix}${seq}` };
    state.log.push(logged);
    state.last = seq;
    while (state.log.length > this.maxEntries) state.dropped = this.seqOf(state.log.shift()!.id)!;
    return logged;
  }

  async apply(key: string, calls: readonly ObservedCall[], mode: ApplyMode, pageSize: number): Promise<LoggedEvent[]> {
    return this.record(key, calls, mode, pageSize, true);
  }

  /**
   * Takes in what was applied to the shared store (redis.ts), without logging: should Redis become
   * unreachable, this replica's fallback compares with what was last seen, not with an empty snapshot.
   */
  mirror(key: string, calls: readonly ObservedCall[], mode: ApplyMode, pageSize: number): void {
    this.record(key, calls, mode, pageSize, false);
  }

  private record(
    key: string,
    calls: readonly ObservedCall[],
    mode: ApplyMode,
    pageSize: number,
    log: boolean,
  ): LoggedEvent[] {
    const state = this.state(key);
    // Set again so that the key's TTL counts from this write.
    this.keys.set(key, state);
    const appended: LoggedEvent[] = [];
    const { watermark } = state;
    // A restarted poller whose snapshot expired while the log lives on: what changed meanwhile is unknown.
    if (log && mode === 'poll' && watermark === undefined && state.last > 0) {
      appended.push(this.append(state, { kind: 'GAP', record: '', offset: 0 }));
    }
    let created = 0;
    for (const call of calls) {
      const known = state.snapshot.get(call.callId);
      if (known === call.fingerprint) continue;
      let kind: LoggedEvent['kind'] | null = 'UPDATED';
      if (known === undefined) {
        // Newer than the oldest call of the last head read; no watermark yet (a first poll) is not.
        const isNewer = watermark === null || (watermark !== undefined && newer(call, watermark));
        if (mode === 'poll') {
          kind = isNewer ? 'CREATED' : null;
          if (isNewer) created++;
        } else {
          kind = isNewer || watermark === undefined ? 'CREATED' : 'UPDATED';
        }
      }
      state.snapshot.set(call.callId, call.fingerprint);
      if (kind && log) appended.push(this.append(state, { kind, record: call.record, offset: call.offset }));
    }
    if (mode === 'poll') {
      // A full page of calls all newer than the last head: more may have arrived than the page shows.
      if (log && created > 0 && created === calls.length && calls.length >= pageSize) {
        appended.push(this.append(state, { kind: 'GAP', record: '', offset: 0 }));
      }
      state.watermark = calls.reduce<{ createdMs: number; callId: number } | null>(
        (oldest, call) =>
          oldest === null || newer(oldest, call) ? { createdMs: call.createdMs, callId: call.callId } : oldest,
        null,
      );
      if (state.snapshot.size > SNAPSHOT_MAX_CALLS)
        state.snapshot = new Map(calls.map((call) => [call.callId, call.fingerprint]));
    }
    if (appended.length > 0) this.notify(key);
    return appended;
  }

  async read(key: string, after: string, limit: number): Promise<LogRead> {
    const state = this.keys.get(key);
    const seq = this.seqOf(after);
    const last = state?.last ?? 0;
    // Foreign, from the future, or entries after it dropped (or expired with the whole key): resync.
    if (seq === null || seq > this.seq || (state ? seq < state.dropped : seq > 0)) {
      return { resync: true, head: `${this.prefix}${last}` };
    }
    if (!state) return { entries: [] };
    return { entries: state.log.filter((entry) => this.seqOf(entry.id)! > seq).slice(0, limit) };
  }

  async head(key: string): Promise<string> {
    return `${this.prefix}${this.keys.get(key)?.last ?? 0}`;
  }

  /** One process: its poller of a key is the only one, so the lease is always granted. */
  async lease(_key: string, _holder: string, _ttlMs: number): Promise<boolean> {
    return true;
  }

  async release(_key: string, _holder: string): Promise<void> {}

  watch(key: string, listener: () => void): () => void {
    let listeners = this.watchers.get(key);
    if (!listeners) {
      listeners = new Set();
      this.watchers.set(key, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.watchers.delete(key);
    };
  }

  private notify(key: string): void {
    for (const listener of this.watchers.get(key) ?? []) listener();
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
