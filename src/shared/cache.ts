/**
 * The page cache shared by every replica and worker (issue "Live calls and many replicas", item 1): a layer
 * in Redis under the in-process `PageCache` (src/upstream/cache.ts), with the same rules. An answer one
 * process read from the upstream is served by the others for `UPSTREAM_CACHE_TTL_MS` from when it was read,
 * never longer; entries are keyed by the API key's hash (never a token) and never served to another key; a
 * list is assembled only from pages that agree on its `total`, the newest version winning; there is no
 * stale-while-revalidate.
 *
 * In Redis, per key hash `k` and hash `f` of the canonical filter (filters may hold phone numbers, so they
 * are not written as they are), every key with a TTL of `UPSTREAM_CACHE_TTL_MS`:
 * - `calls-gw:cache:<k>:list:<f>`, a hash: one field per page read (`<per_page>:<page>`) with when it was
 *   read, its total, last page and where its body is; a Lua script adds a page and drops, atomically, the
 *   pages of another version of the list (or the new page, when a newer version is there already);
 * - `…:body:<f>:…`: the page's raw upstream records, as JSON;
 * - `…:call:<id>`: one call's raw record, for `call(callId:)` and `node(id:)`.
 * Raw records are stored, not normalised calls: each process normalises them with its own settings, exactly
 * as if it had read them itself. An entry over `maxEntryBytes` stays in its process only. The doorkeeper is
 * shared too: `…:seen` marks a key some process met in the last minute, so a dashboard whose requests the
 * load balancer spreads is cached from its second request, wherever it lands.
 *
 * Reads: the process's own pages first; Redis is asked for a list only when the key came back (the doorkeeper
 * said so: nothing of a key no one met can be in Redis), and a page's body is fetched only when it is newer
 * than what the process holds and covers rows the caller needs; it is then kept in the process too (with
 * its original read time), so the next operation in this process reads the small index only. While Redis
 * does not answer, the process's own cache serves alone (fail open; counted by the store).
 *
 * In-flight coalescing across processes, for list pages only (`share`; measured in README, "Many replicas"):
 * `…:lease:<f>:<page>` marks a page one process is reading, for at most an attempt's deadline; the others
 * wait for its answer here instead of reading it too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { type FetchedPage, sameList } from '../pagination/connection.js';
import type { PageRequest } from '../pagination/window.js';
import { requestStart } from '../pagination/window.js';
import type { PageCache, PageCacheSnapshot, PageStore, Shared } from '../upstream/cache.js';
import type { Call } from '../upstream/model.js';
import { type NormalizeOptions, normalizeCall } from '../upstream/normalize.js';
import type { SharedStore } from './store.js';

export interface SharedPageCacheOptions {
  /** `UPSTREAM_CACHE_TTL_MS`. */
  ttlMs: number;
  /** Longest a process waits for another's read of a page before reading it itself (an attempt's deadline). */
  leaseMs: number;
  /** Coalescing across replicas (on; tests turn it off): false reads every page a process misses itself. */
  coalesce: boolean;
  /** Largest body kept in Redis; larger ones stay in the process. */
  maxEntryBytes: number;
  /** How this process normalises records read by another. */
  normalize: NormalizeOptions;
}

/** What the index says of one page. */
interface PageMeta {
  at: number;
  total: number | null;
  lastPage: number | null;
  perPage: number;
  page: number;
  body: string;
}

/**
 * Adds one page to a list's index (KEYS[1]) and its body (KEYS[2]). ARGV: field, meta (JSON), body, now, ttl,
 * at, total ('' for none). Pages older than the TTL and pages of another version of the list go; when the
 * index holds a newer page of another version, the new page is the one left out. Answers 1 when kept.
 */
const PUT_PAGE = `
local now, ttl, at = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local total = tonumber(ARGV[7])
local all = redis.call('HGETALL', KEYS[1])
local drop = {}
for i = 1, #all, 2 do
  local meta = cjson.decode(all[i + 1])
  local other = total ~= nil and type(meta.total) == 'number' and meta.total ~= total
  if meta.at <= now - ttl then
    drop[#drop + 1] = all[i]
  elseif other or all[i] == ARGV[1] then
    if meta.at > at then return 0 end
    drop[#drop + 1] = all[i]
  end
end
for _, field in ipairs(drop) do redis.call('HDEL', KEYS[1], field) end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ttl)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`;

type PutPageCommand = (...args: (string | number)[]) => Promise<number>;
const PUT_PAGE_COMMAND = 'callsGatewayPutPage';

/** Ends a lease (KEYS[1]) only if it is still the caller's (ARGV[1]): one that outlived its time is another's. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RELEASE_COMMAND = 'callsGatewayRelease';
/** A page with the size of its body. */
type Served = { page: FetchedPage<Call>; bytes: number };

/** How often a process waiting for another's read looks for it, in the clock's milliseconds. */
const FOLLOW_EVERY_MS = 20;

/** How long the doorkeeper remembers a key (as the in-process one). */
const SEEN_MS = 60_000;

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** The in-process page cache with a layer in Redis under it. */
export class SharedPageCache implements PageStore {
  hits = 0;
  misses = 0;
  /** Keys the shared doorkeeper knew: only these are looked up in Redis. */
  private readonly known: LRUCache<string, true>;
  private bodies = 0;

  constructor(
    private readonly local: PageCache,
    private readonly store: SharedStore,
    private readonly options: SharedPageCacheOptions,
    private readonly clock: Clock,
  ) {
    this.known = new LRUCache<string, true>({
      max: 10_000,
      ttl: SEEN_MS,
      ttlResolution: 0,
      perf: { now: () => clock.now() },
    });
    store.redis.defineCommand(PUT_PAGE_COMMAND, { numberOfKeys: 2, lua: PUT_PAGE });
    store.redis.defineCommand(RELEASE_COMMAND, { numberOfKeys: 1, lua: RELEASE });
  }

  snapshot(): PageCacheSnapshot {
    const local = this.local.snapshot();
    return { hits: this.hits, misses: this.misses, bytes: local.bytes, entries: local.entries };
  }

  /**
   * Admitted when this process or another met the key in the last minute. `SET … GET` notes the key and says
   * whether it was there in one command; without Redis, the process's own doorkeeper decides.
   */
  admits(key: string): boolean | Promise<boolean> {
    if (this.local.admits(key)) {
      this.known.set(key, true);
      return true;
    }
    if (!this.store.available()) return this.skip('cache.admit', false);
    return this.store
      .attempt(
        'cache.admit',
        async (redis) => (await redis.set(this.store.key('cache', key, 'seen'), '1', 'PX', SEEN_MS, 'GET')) !== null,
        () => false,
      )
      .then((seen) => {
        if (seen) this.known.set(key, true);
        return seen;
      });
  }

  pages(
    key: string,
    filter: string,
    window?: { start: number; size: number },
  ): FetchedPage<Call>[] | Promise<FetchedPage<Call>[]> {
    if (!this.known.has(key)) return this.local.pages(key, filter);
    if (!this.store.available()) return this.skip('cache.pages', this.local.pages(key, filter));
    return this.store
      .attempt(
        'cache.pages',
        (redis) => redis.hgetall(this.listKey(key, filter)),
        () => null,
      )
      .then(async (index) => (index ? this.merge(key, filter, index, window) : this.local.pages(key, filter)));
  }

  putPage(key: string, filter: string, page: FetchedPage<Call>, bytes: number, records?: readonly unknown[]): void {
    // One read time for both layers, so that this process never takes its own page in Redis for a newer one.
    const at = Math.round(this.clock.now());
    this.local.putPage(key, filter, page, bytes, undefined, at);
    if (!records || records.length !== page.items.length) return;
    if (!this.store.available()) {
      this.skip('cache.put', undefined);
      return;
    }
    const parts = records.map((record) => JSON.stringify(record));
    const body = `[${parts.join(',')}]`;
    const ttl = this.options.ttlMs;
    void this.store.attempt(
      'cache.put',
      async (redis) => {
        const writes: Promise<unknown>[] = [];
        if (body.length <= this.options.maxEntryBytes) {
          const field = `${page.request.perPage}:${page.request.page}`;
          const bodyKey = this.store.key('cache', key, 'body', digest(filter), field, at, (++this.bodies).toString(36));
          const meta: PageMeta = { at, total: page.total, lastPage: page.lastPage, ...page.request, body: bodyKey };
          const commands = redis as unknown as Record<string, PutPageCommand>;
          const total = page.total ?? '';
          const args = [this.listKey(key, filter), bodyKey, field, JSON.stringify(meta), body, at, ttl, at, total];
          writes.push(commands[PUT_PAGE_COMMAND]!(...args));
        }
        // Each call of the page, for lookups by id.
        const pipeline = redis.pipeline();
        page.items.forEach((call, i) => {
          if (parts[i]!.length > this.options.maxEntryBytes) return;
          pipeline.set(this.callKey(key, call.callId), `${at}\n${parts[i]}`, 'PX', ttl);
        });
        writes.push(pipeline.exec());
        await Promise.all(writes);
      },
      () => undefined,
    );
  }

  /**
   * Coalescing across processes, for list pages (README, "Many replicas"): the first process to need a page
   * no one holds takes a lease on it (`SET NX` with the attempt's deadline) and reads it; a process that finds
   * the lease taken looks every 20 ms for the page the other is reading, and serves it when it is in Redis.
   * When the lease ends without the page (the read failed, or that process does not keep the key's answers),
   * or after `leaseMs`, it reads the page itself. Without Redis, each process reads on its own.
   */
  async share(key: string, filter: string, request: PageRequest, signal?: AbortSignal): Promise<Shared> {
    const alone = { release: () => {} };
    if (!this.options.coalesce || !this.known.has(key) || !this.store.available()) return alone;
    const field = `${request.perPage}:${request.page}`;
    const leaseKey = this.store.key('cache', key, 'lease', digest(filter), field);
    const token = randomBytes(9).toString('base64url');
    const taken = await this.store.attempt(
      'cache.lease',
      async (redis) => (await redis.set(leaseKey, token, 'PX', this.options.leaseMs, 'NX')) === 'OK',
      () => true,
    );
    if (taken) {
      return {
        release: () => {
          const commands = this.store.redis as unknown as Record<string, (...args: string[]) => Promise<number>>;
          void this.store.attempt(
            'cache.lease',
            () => commands[RELEASE_COMMAND]!(leaseKey, token),
            () => 0,
          );
        },
      };
    }
    // Another process is reading the page: wait for its answer, a read that ends after this call.
    const started = this.clock.now();
    while (this.clock.now() - started < this.options.leaseMs && !signal?.aborted) {
      await new Promise<void>((resolve) => this.clock.setTimeout(() => resolve(), FOLLOW_EVERY_MS));
      const found = await this.store.attempt(
        'cache.lease',
        (redis) => redis.multi().hget(this.listKey(key, filter), field).exists(leaseKey).exec(),
        () => null,
      );
      if (!found) return alone;
      const text = found[0]?.[1] as string | null;
      const meta = text ? (JSON.parse(text) as PageMeta) : null;
      if (meta && meta.at >= started) {
        const page = await this.load(key, filter, meta);
        if (page) return page;
      }
      if (!found[1]?.[1]) return alone;
    }
    return alone;
  }

  call(key: string, callId: number): Call | undefined | Promise<Call | undefined> {
    const local = this.local.call(key, callId);
    if (local || !this.known.has(key)) return local;
    if (!this.store.available()) return this.skip('cache.call', undefined);
    return this.store
      .attempt(
        'cache.call',
        (redis) => redis.get(this.callKey(key, callId)),
        () => null,
      )
      .then((stored) => {
        if (stored === null) return undefined;
        const split = stored.indexOf('\n');
        const at = Number(stored.slice(0, split));
        if (!(at > this.clock.now() - this.options.ttlMs)) return undefined;
        const call = this.normalized(JSON.parse(stored.slice(split + 1)));
        if (call) this.local.putCall(key, call, stored.length - split - 1, undefined, at);
        return call ?? undefined;
      });
  }

  putCall(key: string, call: Call, bytes: number, record?: unknown): void {
    const at = Math.round(this.clock.now());
    this.local.putCall(key, call, bytes, undefined, at);
    if (record === undefined) return;
    if (!this.store.available()) {
      this.skip('cache.put', undefined);
      return;
    }
    const text = JSON.stringify(record);
    if (text.length > this.options.maxEntryBytes) return;
    void this.store.attempt(
      'cache.put',
      (redis) => redis.set(this.callKey(key, call.callId), `${at}\n${text}`, 'PX', this.options.ttlMs),
      () => undefined,
    );
  }

  /**
   * The fresh pages of both layers, newest first, one per request, all of one version of the list (the newest
   * one's); bodies missing here are fetched for the pages that overlap `window`, and kept here.
   */
  private async merge(
    key: string,
    filter: string,
    index: Record<string, string>,
    window?: { start: number; size: number },
  ): Promise<FetchedPage<Call>[]> {
    const oldest = this.clock.now() - this.options.ttlMs;
    type Candidate = { at: number; page?: FetchedPage<Call>; meta?: PageMeta };
    const candidates: Candidate[] = this.local.stored(key, filter);
    for (const text of Object.values(index)) {
      const meta = JSON.parse(text) as PageMeta;
      if (meta.at > oldest) candidates.push({ at: meta.at, meta });
    }
    // Newest first; on a tie this process's own copy, which needs no body fetched.
    candidates.sort((a, b) => b.at - a.at || (a.page ? -1 : 0) - (b.page ? -1 : 0));
    const chosen: Candidate[] = [];
    const requests = new Set<string>();
    let total: number | null = null;
    for (const candidate of candidates) {
      const shape = candidate.page ?? { request: candidate.meta!, total: candidate.meta!.total };
      const request = `${shape.request.perPage}:${shape.request.page}`;
      // A page of this request read later is chosen already; one of another version of the list is older.
      if (requests.has(request) || (total !== null && shape.total !== null && shape.total !== total)) continue;
      requests.add(request);
      total ??= shape.total;
      chosen.push(candidate);
    }
    const overlaps = (meta: PageMeta) =>
      !window || (requestStart(meta) < window.start + window.size && requestStart(meta) + meta.perPage > window.start);
    const wanted = chosen.filter((c) => c.meta && overlaps(c.meta));
    if (wanted.length > 0) {
      const keys = wanted.map((c) => c.meta!.body);
      const bodies = await this.store.attempt(
        'cache.pages',
        (redis) => redis.mget(...keys),
        () => null,
      );
      wanted.forEach((candidate, i) => {
        const body = bodies?.[i];
        if (body) candidate.page = this.page(key, filter, candidate.meta!, body)?.page;
      });
    }
    const pages = chosen.filter((c) => c.page !== undefined).map((c) => c.page!);
    return pages.every((page) => pages.every((other) => sameList(page, other))) ? pages : this.local.pages(key, filter);
  }

  /** A page another process read, by its index entry: normalised and kept here too; null when it is gone. */
  private async load(key: string, filter: string, meta: PageMeta): Promise<Served | null> {
    const body = await this.store.attempt(
      'cache.pages',
      (redis) => redis.get(meta.body),
      () => null,
    );
    return body ? this.page(key, filter, meta, body) : null;
  }

  private page(key: string, filter: string, meta: PageMeta, body: string): Served | null {
    const items = (JSON.parse(body) as unknown[]).map((record) => this.normalized(record));
    if (items.some((item) => item === null)) return null;
    const request = { perPage: meta.perPage, page: meta.page };
    const page = { request, items: items as Call[], total: meta.total, lastPage: meta.lastPage };
    this.local.putPage(key, filter, page, body.length, undefined, meta.at);
    return { page, bytes: body.length };
  }

  /** Redis is unreachable: counted, and the process's own cache answers alone. */
  private skip<T>(what: string, local: T): T {
    this.store.skipped(what);
    return local;
  }

  /** A record another process read, normalised here; null when it cannot be (it was served once, so rare). */
  private normalized(record: unknown): Call | null {
    try {
      return normalizeCall(record, this.options.normalize, []);
    } catch {
      return null;
    }
  }

  private listKey(key: string, filter: string): string {
    return this.store.key('cache', key, 'list', digest(filter));
  }

  private callKey(key: string, callId: number): string {
    return this.store.key('cache', key, 'call', callId);
  }
}
