/**
 * The page cache (issue "Live within the upstream's budget", item 2): successful upstream answers, list
 * pages and single calls, kept per API-key hash for `UPSTREAM_CACHE_TTL_MS`, so a dashboard that polls, a
 * walk that reads ahead and a `callStats` that repeats cost no upstream request within that time. Entries
 * are keyed by the key's hash first: nothing one key cached is ever served to another. Bounded by
 * `UPSTREAM_CACHE_MAX_BYTES`, counted as the upstream body bytes of what is kept (lru-cache's size
 * accounting; the least recently used entries go first). Nothing stale is served: an entry older than the
 * TTL is never read, and there is no stale-while-revalidate.
 *
 * Admission: a key's answers are kept only once the key has come back (a doorkeeper, as in TinyLFU). Most
 * keys seen once never come back (a caller with its own key making one request); keeping their pages for
 * the TTL held every page past the young generation and cost the distinct-key benchmark about a fifth of
 * its throughput and 80 MB of RSS. A walk or a dashboard is cached from its second request on.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { type FetchedPage, sameList } from '../pagination/connection.js';
import type { PageRequest } from '../pagination/window.js';
import type { Call } from './model.js';

export interface PageCacheOptions {
  /** How long an answer may be served from memory. */
  ttlMs: number;
  /** Upstream body bytes kept at most, all keys together. */
  maxBytes: number;
}

interface StoredPage {
  page: FetchedPage<Call>;
  at: number;
  bytes: number;
}

/** All cached pages of one key's list under one filter, so a window can be assembled from any of them. */
interface ListEntry {
  kind: 'list';
  pages: StoredPage[];
  bytes: number;
}

interface CallEntry {
  kind: 'call';
  call: Call;
  at: number;
  bytes: number;
}

export interface PageCacheSnapshot {
  /** Upstream requests answered from the cache (pages used, calls looked up), monotonic. */
  hits: number;
  /** Upstream answers fetched because the cache held nothing usable, monotonic. */
  misses: number;
  /** Body bytes held now. */
  bytes: number;
  entries: number;
  /** Keys the doorkeeper remembers (bounded at 10,000); absent for a shared store. */
  keysSeen?: number;
}

/**
 * What the loaders need of a page cache. `PageCache` keeps it in this process and answers at once;
 * `SharedPageCache` (src/shared/cache.ts, `REDIS_URL`) adds a layer in Redis under it and may answer with a
 * promise (the pagination service awaits what `pages` gives, the loaders what `admits` and `call` give).
 */
export interface PageStore {
  /** Whether answers for `key` are worth keeping (the doorkeeper); call once per operation. */
  admits(key: string): boolean | Promise<boolean>;
  /** Fresh pages of `key`'s list under `filter`; `window` says which rows the caller needs. */
  pages(
    key: string,
    filter: string,
    window?: { start: number; size: number },
  ): FetchedPage<Call>[] | Promise<FetchedPage<Call>[]>;
  /** Keeps a page as served; `records` are its raw upstream records, for a layer that stores them. */
  putPage(key: string, filter: string, page: FetchedPage<Call>, bytes: number, records?: readonly unknown[]): void;
  /**
   * Optional: one read of a list page for every process sharing the store. Either the page another process
   * read while the caller waited for it (a read that ended after the call, so as fresh as the caller's own),
   * or leave to read it: `release` once what was read is kept (or the read failed), so that the processes
   * waiting for it stop waiting.
   */
  share?(key: string, filter: string, request: PageRequest, signal?: AbortSignal): Promise<Shared>;
  call(key: string, callId: number): Call | undefined | Promise<Call | undefined>;
  /** Keeps a call; `record` is its raw upstream record. */
  putCall(key: string, call: Call, bytes: number, record?: unknown): void;
  /** Counted by the loaders, read by the metrics. */
  hits: number;
  misses: number;
  snapshot(): PageCacheSnapshot;
}

/** What `PageStore.share` answers: a page read by another process, or leave to read it. */
export type Shared = { page: FetchedPage<Call>; bytes: number } | { release(): void };

export class PageCache implements PageStore {
  private readonly entries: LRUCache<string, ListEntry | CallEntry>;
  /** Key hashes seen recently: the doorkeeper. */
  private readonly seen: LRUCache<string, true>;
  private readonly maxEntryBytes: number;
  hits = 0;
  misses = 0;

  constructor(
    private readonly options: PageCacheOptions,
    private readonly clock: Clock,
  ) {
    // One list may use at most a quarter of the cache, so that one key's scan cannot flush every other key.
    this.maxEntryBytes = Math.max(1, Math.floor(options.maxBytes / 4));
    this.entries = new LRUCache<string, ListEntry | CallEntry>({
      maxSize: options.maxBytes,
      maxEntrySize: this.maxEntryBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      ttl: options.ttlMs,
      ttlResolution: 0,
      perf: { now: () => clock.now() },
    });
    this.seen = new LRUCache<string, true>({
      max: 10_000,
      ttl: Math.max(60_000, options.ttlMs),
      ttlResolution: 0,
      perf: { now: () => clock.now() },
    });
  }

  /**
   * Whether answers for `key` are worth keeping: true when the key was seen before (within a minute, or
   * the TTL if longer). Notes the key as seen either way. Call once per operation.
   */
  admits(key: string): boolean {
    if (this.seen.get(key)) return true;
    this.seen.set(key, true);
    return false;
  }

  snapshot(): PageCacheSnapshot {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.entries.calculatedSize,
      entries: this.entries.size,
      keysSeen: this.seen.size,
    };
  }

  /** Fresh pages of `key`'s list under `filter`, newest first. */
  pages(key: string, filter: string): FetchedPage<Call>[] {
    return this.stored(key, filter).map((stored) => stored.page);
  }

  /** Fresh pages of `key`'s list under `filter` with when each was read, newest first (for a layer under this one). */
  stored(key: string, filter: string): { page: FetchedPage<Call>; at: number }[] {
    const entry = this.entries.get(listKey(key, filter));
    if (entry?.kind !== 'list') return [];
    const oldest = this.clock.now() - this.options.ttlMs;
    const fresh: { page: FetchedPage<Call>; at: number }[] = [];
    for (let i = entry.pages.length - 1; i >= 0; i--) {
      const { page, at } = entry.pages[i]!;
      if (at > oldest) fresh.push({ page, at });
    }
    return fresh;
  }

  /**
   * Keeps a page as served, and each of its calls for lookups by id. `at` is when it was read upstream: now,
   * or earlier for a page another process read (it then expires when it would have there).
   */
  putPage(
    key: string,
    filter: string,
    page: FetchedPage<Call>,
    bytes: number,
    _records?: readonly unknown[],
    at?: number,
  ): void {
    const now = at ?? this.clock.now();
    const oldest = this.clock.now() - this.options.ttlMs;
    if (now <= oldest) return;
    const entryKey = listKey(key, filter);
    const previous = this.entries.get(entryKey);
    const same = (p: StoredPage) =>
      p.page.request.perPage === page.request.perPage && p.page.request.page === page.request.page;
    // Pages of an older version of the list (another total) go: mixed with this one they would repeat or
    // skip calls.
    const keep = (p: StoredPage) => p.at > oldest && !same(p) && sameList(p.page, page);
    const pages = previous?.kind === 'list' ? previous.pages.filter(keep) : [];
    // Oldest first: a page read elsewhere earlier goes before the ones read here since.
    let index = pages.length;
    while (index > 0 && pages[index - 1]!.at > now) index--;
    pages.splice(index, 0, { page, at: now, bytes });
    let total = pages.reduce((sum, p) => sum + p.bytes, 0);
    while (total > this.maxEntryBytes && pages.length > 1) total -= pages.shift()!.bytes;
    // The entry lives as long as its newest page is fresh.
    const newest = pages[pages.length - 1]!.at;
    const ttl = Math.max(1, newest + this.options.ttlMs - this.clock.now());
    this.entries.set(entryKey, { kind: 'list', pages, bytes: total }, { ttl });
    const share = Math.max(1, Math.floor(bytes / Math.max(1, page.items.length)));
    for (const call of page.items) this.putCall(key, call, share, undefined, now);
  }

  /** A fresh call of `key` by upstream id. */
  call(key: string, callId: number): Call | undefined {
    const entry = this.entries.get(callKey(key, callId));
    return entry?.kind === 'call' && entry.at > this.clock.now() - this.options.ttlMs ? entry.call : undefined;
  }

  /** Keeps a call; `at` as in `putPage`. */
  putCall(key: string, call: Call, bytes: number, _record?: unknown, at?: number): void {
    const now = at ?? this.clock.now();
    const ttl = now + this.options.ttlMs - this.clock.now();
    if (ttl <= 0) return;
    this.entries.set(callKey(key, call.callId), { kind: 'call', call, at: now, bytes }, { ttl });
  }
}

const listKey = (key: string, filter: string) => `${key}\u0000L\u0000${filter}`;
const callKey = (key: string, callId: number) => `${key}\u0000C\u0000${callId}`;
