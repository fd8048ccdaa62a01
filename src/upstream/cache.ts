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

export interface PageCacheStats {
  /** Upstream requests answered from the cache (pages used, calls looked up), monotonic. */
  hits: number;
  /** Upstream answers fetched because the cache held nothing usable, monotonic. */
  misses: number;
  /** Body bytes held now. */
  bytes: number;
  entries: number;
}

/**
 * What the loaders need of a page cache. `PageCache` keeps it in this process; a store shared by several
 * processes (Redis, in a later issue) implements the same interface (the pagination service already
 * awaits what `pages` gives).
 */
export interface PageStore {
  admits(key: string): boolean;
  pages(key: string, filter: string): FetchedPage<Call>[];
  putPage(key: string, filter: string, page: FetchedPage<Call>, bytes: number): void;
  call(key: string, callId: number): Call | undefined;
  putCall(key: string, call: Call, bytes: number): void;
  /** Counted by the loaders, read by the metrics. */
  hits: number;
  misses: number;
  stats(): PageCacheStats;
}

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

  stats(): PageCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.entries.calculatedSize, entries: this.entries.size };
  }

  /** Fresh pages of `key`'s list under `filter`, newest first. */
  pages(key: string, filter: string): FetchedPage<Call>[] {
    const entry = this.entries.get(listKey(key, filter));
    if (entry?.kind !== 'list') return [];
    const oldest = this.clock.now() - this.options.ttlMs;
    const fresh: FetchedPage<Call>[] = [];
    for (let i = entry.pages.length - 1; i >= 0; i--) if (entry.pages[i]!.at > oldest) fresh.push(entry.pages[i]!.page);
    return fresh;
  }

  /** Keeps a page as served, and each of its calls for lookups by id. */
  putPage(key: string, filter: string, page: FetchedPage<Call>, bytes: number): void {
    const now = this.clock.now();
    const oldest = now - this.options.ttlMs;
    const entryKey = listKey(key, filter);
    const previous = this.entries.get(entryKey);
    const same = (p: StoredPage) => p.page.request.perPage === page.request.perPage && p.page.request.page === page.request.page;
    // Pages of an older version of the list (another total) go: mixed with this one they would repeat or
    // skip calls.
    const keep = (p: StoredPage) => p.at > oldest && !same(p) && sameList(p.page, page);
    const pages = previous?.kind === 'list' ? previous.pages.filter(keep) : [];
    pages.push({ page, at: now, bytes });
    let total = pages.reduce((sum, p) => sum + p.bytes, 0);
    while (total > this.maxEntryBytes && pages.length > 1) total -= pages.shift()!.bytes;
    this.entries.set(entryKey, { kind: 'list', pages, bytes: total });
    const share = Math.max(1, Math.floor(bytes / Math.max(1, page.items.length)));
    for (const call of page.items) this.putCall(key, call, share);
  }

  /** A fresh call of `key` by upstream id. */
  call(key: string, callId: number): Call | undefined {
    const entry = this.entries.get(callKey(key, callId));
    return entry?.kind === 'call' && entry.at > this.clock.now() - this.options.ttlMs ? entry.call : undefined;
  }

  putCall(key: string, call: Call, bytes: number): void {
    this.entries.set(callKey(key, call.callId), { kind: 'call', call, at: this.clock.now(), bytes });
  }
}

const listKey = (key: string, filter: string) => `${key}\u0000L\u0000${filter}`;
const callKey = (key: string, callId: number) => `${key}\u0000C\u0000${callId}`;
