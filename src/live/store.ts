/**
 * What live updates keep per API key (issue 12, items 2 and 3): a snapshot of the calls last seen at the
 * head of the key's list, a bounded log of the events derived from it, and the lease that makes one poller
 * per key in the deployment. Two implementations: in this process (memory.ts) and in Redis (redis.ts), used
 * when `REDIS_URL` is set. Keys are held by key hash (`keyId`) only; no token is ever stored.
 *
 * The snapshot and the log change together, in one step (`apply`), so that two writers (a poller and a
 * webhook, or two pollers during a lease hand-over) never publish one change twice: a call's fingerprint is
 * compared and set atomically, and only the writer that changed it appends the event.
 */

/** What a subscriber is told: a call appeared, or a call it may know changed. */
export type CallEventKind = 'CREATED' | 'UPDATED';

/**
 * One entry of a key's log. `GAP` says that changes may have happened that the log does not hold (the
 * snapshot had expired, or more calls arrived between two polls than one page shows): a subscriber that
 * reads it must read the list again (the resync signal).
 */
export interface LoggedEvent {
  /** The SSE `id:`: the entry's position in its log, comparable only with ids of the same log. */
  id: string;
  kind: CallEventKind | 'GAP';
  /** The call record exactly as the upstream answered it (JSON text); empty for `GAP`. */
  record: string;
  /** Where the call stood in the unfiltered list when it was seen (0 when not known): a hint for cursors. */
  offset: number;
}

/** A call as a poll or a webhook re-read saw it upstream. */
export interface ObservedCall {
  callId: number;
  /** `updated_at` and `status` as sent: a call whose fingerprint changed is UPDATED. */
  fingerprint: string;
  /** Creation time (ms): with the id, the call's place in the list order. */
  createdMs: number;
  offset: number;
  /** The record as JSON text. */
  record: string;
}

/**
 * `poll`: the head of the list, read by the key's poller; a call the snapshot does not know is CREATED only
 * when it is newer than the oldest call of the previous head (otherwise it merely moved into the page, e.g.
 * after a deletion), and the first read only records (no events). `hint`: one call re-read for a webhook;
 * unknown and newer than that watermark (or no watermark yet) is CREATED, otherwise UPDATED.
 */
export type ApplyMode = 'poll' | 'hint';

/**
 * The result of reading a log after an id: the entries, or `resync` when some were dropped or the id is foreign.
 * `unavailable`: the log cannot be read now (Redis unreachable); nothing was read, nothing is known to be lost.
 */
export type LogRead = { entries: LoggedEvent[]; unavailable?: true } | { resync: true; head: string };

export interface LiveStore {
  /** Which log ids belong to: ids of another log (another process, or a restarted Redis) mean resync. */
  owns(id: string): boolean;
  /**
   * Compares `calls` with the key's snapshot, records them and appends an event for each new or changed
   * one (and a GAP where changes may have been missed); returns the entries appended, in order.
   */
  apply(key: string, calls: readonly ObservedCall[], mode: ApplyMode, pageSize: number): Promise<LoggedEvent[]>;
  /** Up to `limit` entries after `after` (exclusive), oldest first; `resync` when entries after it were dropped. */
  read(key: string, after: string, limit: number): Promise<LogRead>;
  /**
   * The id of the newest entry, or the log's zero id when it holds none: where a new subscriber starts; null
   * when the log cannot be read now (Redis unreachable).
   */
  head(key: string): Promise<string | null>;
  /**
   * The head of the log in this process that entries go to while the shared log is unreachable (redis.ts);
   * absent for a store that has none.
   */
  fallbackHead?(key: string): Promise<string>;
  /** Takes or renews the key's poller lease for `holder`; false while another holder has it. */
  lease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `holder` still has it. */
  release(key: string, holder: string): Promise<void>;
  /**
   * Calls `listener` whenever entries may have been appended to the key's log (here, or in Redis by any
   * replica) and once whenever notifications may have been lost; returns the way to stop.
   */
  watch(key: string, listener: () => void): () => void;
  close(): Promise<void>;
}

/** Entries a key's log keeps; older ones are dropped (a subscriber further behind gets the resync signal). */
export const LOG_MAX_ENTRIES = 1_000;

/** How long a key's snapshot and log outlive their last write: a poller started later compares against it. */
export const LIVE_STATE_TTL_MS = 60 * 60_000;

/** Calls a snapshot tracks at most before it is rebuilt from the current head alone. */
export const SNAPSHOT_MAX_CALLS = 2_000;

/** Total order of calls in a list: creation time, then id (the order drift.ts reads from the rows). */
export function newer(a: { createdMs: number; callId: number }, b: { createdMs: number; callId: number }): boolean {
  return a.createdMs !== b.createdMs ? a.createdMs > b.createdMs : a.callId > b.callId;
}

/**
 * Whether entry id `a` comes after `b`. Ids of one log compare by position (Redis stream ids `<ms>-<seq>`,
 * in-process ids `m.<boot>.<n>`); ids of two different logs never name the same entry, so `a` counts as new.
 */
export function comesAfter(a: string, b: string): boolean {
  const stream = /^(\d{1,16})-(\d{1,16})$/;
  const local = /^(m\.[0-9a-f]+)\.(\d{1,16})$/;
  const sa = stream.exec(a);
  const sb = stream.exec(b);
  if (sa && sb) return Number(sa[1]) - Number(sb[1]) > 0 || (sa[1] === sb[1] && Number(sa[2]) > Number(sb[2]));
  const la = local.exec(a);
  const lb = local.exec(b);
  if (la && lb && la[1] === lb[1]) return Number(la[2]) > Number(lb[2]);
  return true;
}
