/**
 * What one GraphQL operation reads from the upstream, built per request (DataLoader README, "Creating a
 * new DataLoader per request"): never shared, so nothing one caller loaded can reach another. A list page
 * comes from, in order: this operation (the same page asked twice costs one request), the page cache (per
 * key hash, fresh within its TTL), an identical request of the same key already on its way (coalescing),
 * and finally the upstream through the key's scheduler. `call` dedupes `GET /user/calls/{id}` and serves
 * any call a list of the operation returned, or the cache holds, without a request. A cache shared with
 * other processes (src/shared/cache.ts) answers with promises; a cache in this process answers at once, and
 * then so does `known`.
 */
import DataLoader from 'dataloader';
import { UnauthenticatedError } from '../errors.js';
import type { FetchedPage } from '../pagination/connection.js';
import { servedBlock } from '../pagination/echo.js';
import type { PageSource } from '../pagination/service.js';
import type { PageRequest } from '../pagination/window.js';
import { requestStart, UPSTREAM_MAX_PER_PAGE } from '../pagination/window.js';
import type { PageStore } from './cache.js';
import type { RequestOptions, UpstreamAttemptInfo, UpstreamClient } from './client.js';
import type { InFlight } from './coalesce.js';
import { pageQuery } from './filter.js';
import type { Call, NormalizeWarning } from './model.js';
import { type NormalizeOptions, normalizeCall, normalizeCallPage, unwrapCallRecord } from './normalize.js';
import type { Priority } from './scheduler.js';

/**
 * The largest `per_page` the upstream serves. 100 is documented (../shared/docs/upstream-contract.md §2); an upstream
 * seen to serve less (its paginator echoed a smaller `per_page`) is planned with that from then on. One per gateway.
 */
export class PageSizeCap {
  maxPerPage = UPSTREAM_MAX_PER_PAGE;

  /** Takes a smaller cap; true when it is news (worth a log line). */
  learn(perPage: number): boolean {
    if (perPage >= this.maxPerPage || perPage < 1) return false;
    this.maxPerPage = perPage;
    return true;
  }
}

/** What an operation cost upstream, for logs and the `extensions.upstream` debug field. */
interface UpstreamUsage {
  /** Upstream attempts made (retries included). */
  requests: number;
  /** Pages and calls served from the page cache instead. */
  cacheHits: number;
  /** Milliseconds the operation's attempts waited in their key's queue, summed. */
  queuedMs: number;
}

export interface Loaders {
  /** The list of the caller's calls under one filter (its canonical query string), as a page source. */
  list(filter: string): PageSource<Call>;
  /** Keyed by upstream call id; null when the upstream says 404. */
  call: DataLoader<number, Call | null>;
  usage: UpstreamUsage;
}

export interface LoaderOptions {
  client: UpstreamClient;
  /** The caller's bearer token; null when the request carried none. */
  token: string | null;
  /** `keyId(token)`, computed once per request. */
  key: string | null;
  normalize: NormalizeOptions;
  /** How many `GET /user/calls/{id}` may be in flight at once for one operation. @default 8 */
  callConcurrency: number;
  /** Aborts the operation's upstream requests when the client goes away. */
  signal?: AbortSignal;
  /** Told about every upstream attempt of this operation. */
  onAttempt?: (info: UpstreamAttemptInfo) => void;
  /** The operation's trace span, parent of the upstream spans. */
  parentSpan?: RequestOptions['parentSpan'];
  onWarnings?: (warnings: NormalizeWarning[]) => void;
  /** Told once when the upstream is seen to cap `per_page`. */
  onPageCap?: (perPage: number) => void;
  /** Identical requests of one key in flight at once are made once; omit to make each on its own. */
  inFlight?: { pages: InFlight<Served>; calls: InFlight<Call | null> };
  /** The page cache shared by all requests; null when switched off. */
  cache: PageStore | null;
  /** The request said `Cache-Control: no-cache`: read nothing from the cache (what is read is still kept). */
  fresh: boolean;
  pageCap: PageSizeCap;
}

/** A page as served, with the size of its body (for the cache). */
export interface Served {
  page: FetchedPage<Call>;
  bytes: number;
}

/** Runs `task` over `items` with at most `limit` running at once; results keep the items' order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function createLoaders(options: LoaderOptions): Loaders {
  const { client, token, key, signal, cache, fresh } = options;
  // What this operation reads is kept only for a key that came back (cache.ts, "Admission"). A shared
  // store answers later; the operation reads the cache once it has.
  const admitted = cache !== null && key !== null ? cache.admits(key) : false;
  let admittedNow = admitted instanceof Promise ? null : admitted;
  if (admitted instanceof Promise) void admitted.then((yes) => (admittedNow = yes));
  const keep = (put: (store: PageStore) => void) => {
    if (admittedNow === true) put(cache!);
    else if (admittedNow === null) void (admitted as Promise<boolean>).then((yes) => yes && put(cache!));
  };
  const usage: UpstreamUsage = { requests: 0, cacheHits: 0, queuedMs: 0 };
  const onAttempt = (info: UpstreamAttemptInfo) => {
    usage.requests++;
    usage.queuedMs += info.queuedMs;
    options.onAttempt?.(info);
  };
  const report = (warnings: NormalizeWarning[]) => {
    if (warnings.length > 0) options.onWarnings?.(warnings);
  };
  const requestOptions = (priority: Priority): RequestOptions => {
    if (token === null || key === null)
      throw new UnauthenticatedError('This field needs an "Authorization: Bearer <API key>" header.');
    return { token, key, priority, signal, onAttempt, parentSpan: options.parentSpan };
  };
  /** Runs `task` alone, or joins an identical request of the same key (and priority) already on its way. */
  const shared = <T>(
    inFlight: InFlight<T> | undefined,
    what: string,
    priority: Priority,
    task: (request: RequestOptions) => Promise<T>,
  ) => {
    const request = requestOptions(priority);
    if (!inFlight) return task(request);
    return inFlight.run(`${key}\u0000${priority}\u0000${what}`, signal, (joined) =>
      task({ ...request, signal: joined }),
    );
  };

  // Calls returned by the operation's list pages, and the list pages still on their way.
  const listed = new Map<number, Call>();
  const pagesInFlight = new Set<Promise<unknown>>();

  const call: DataLoader<number, Call | null> = new DataLoader(
    // DataLoader contract: one result per key, in key order; an Error fails only its own key.
    async (ids) => {
      // Root fields run side by side, so `call(callId:)` is asked for before a sibling `calls` page has
      // come back. Waiting for pages already in flight spends a little latency to save an upstream
      // request whenever the page holds the call.
      if (pagesInFlight.size > 0) await Promise.allSettled([...pagesInFlight]);
      return mapConcurrently(ids, options.callConcurrency, async (id) => {
        if (admitted instanceof Promise) await admitted;
        const readsCache = !fresh && key !== null && admittedNow !== false;
        const known = listed.get(id) ?? (readsCache ? await cache?.call(key, id) : undefined);
        if (known) {
          if (!listed.has(id) && cache) {
            cache.hits++;
            usage.cacheHits++;
          }
          return known;
        }
        try {
          return await shared(options.inFlight?.calls, `call/${id}`, 'interactive', async (request) => {
            const answer = await client.getCall(id, request);
            if (cache) cache.misses++;
            if (answer === null) return null;
            const warnings: NormalizeWarning[] = [];
            const found = normalizeCall(unwrapCallRecord(answer.body), options.normalize, warnings);
            report(warnings);
            keep((store) => store.putCall(request.key, found, answer.bytes, unwrapCallRecord(answer.body)));
            return found;
          });
        } catch (error) {
          return error as Error;
        }
      });
    },
    { maxBatchSize: 100 },
  );

  /** Pages of one filter this operation has read, by request (as asked), and as served. */
  const lists = new Map<
    string,
    { asked: Map<string, Promise<FetchedPage<Call>>>; read: FetchedPage<Call>[]; cached: Set<object> }
  >();

  const fetchPage = async (filter: string, asked: PageRequest, priority: Priority): Promise<FetchedPage<Call>> => {
    const query = pageQuery(filter, asked.perPage, asked.page);
    const served = await shared(
      options.inFlight?.pages,
      `list?${query}`,
      priority,
      async (request): Promise<Served> => {
        // Across processes too, when the cache is shared and the key keeps what it reads (shared/cache.ts).
        const shares = cache?.share !== undefined && (await admitted);
        const lease = shares ? await cache.share!(request.key, filter, asked, request.signal) : null;
        if (lease && 'page' in lease) {
          cache!.hits++;
          usage.cacheHits++;
          return lease;
        }
        try {
          return await readPage(filter, asked, query, request);
        } finally {
          lease?.release();
        }
      },
    );
    for (const found of served.page.items) {
      listed.set(found.callId, found);
      call.prime(found.callId, found);
    }
    return served.page;
  };

  /** One list page from the upstream, normalised, and kept when the key's answers are. */
  const readPage = async (
    filter: string,
    asked: PageRequest,
    query: string,
    upstream: RequestOptions,
  ): Promise<Served> => {
    const answer = await client.listCalls(query, upstream);
    if (cache) cache.misses++;
    const warnings: NormalizeWarning[] = [];
    const raw = normalizeCallPage(answer.body, options.normalize, warnings);
    report(warnings);
    const request = servedBlock(asked, raw.echo, raw.calls.length);
    if (request.perPage < asked.perPage && options.pageCap.learn(request.perPage)) options.onPageCap?.(request.perPage);
    const page = { request, items: raw.calls, total: raw.total, lastPage: raw.lastPage };
    const records = (answer.body as { data: unknown[] }).data;
    keep((store) => store.putPage(upstream.key, filter, page, answer.bytes, records));
    return { page, bytes: answer.bytes };
  };

  const list = (filter: string): PageSource<Call> => {
    let state = lists.get(filter);
    if (!state) {
      state = { asked: new Map(), read: [], cached: new Set() };
      lists.set(filter, state);
    }
    const { asked, read, cached } = state;
    return {
      maxPerPage: () => options.pageCap.maxPerPage,
      known(start, size) {
        const overlaps = (page: FetchedPage<Call>) =>
          requestStart(page.request) < start + size && requestStart(page.request) + page.request.perPage > start;
        // A key the doorkeeper has not seen before has nothing in the cache (its answers are kept only from
        // its second operation on), so it skips the lookups: with a distinct key per request they cost about
        // 9% of throughput (issue 13, docs/benchmarks.md "Levers").
        if (fresh || key === null || !cache || admittedNow === false) return read.filter(overlaps);
        const withCached = (stored: FetchedPage<Call>[]) => {
          const fromCache = stored.filter(overlaps);
          // A cached page counts as a hit once per operation, when a read first relies on it.
          for (const page of fromCache) {
            if (cached.has(page)) continue;
            cached.add(page);
            cache.hits++;
            usage.cacheHits++;
          }
          return [...read.filter(overlaps), ...fromCache];
        };
        const fromStore = () => {
          if (admittedNow === false) return read.filter(overlaps);
          const stored = cache.pages(key, filter, { start, size });
          return stored instanceof Promise ? stored.then(withCached) : withCached(stored);
        };
        return admitted instanceof Promise ? admitted.then(fromStore) : fromStore();
      },
      fetch(requests, priority) {
        return Promise.allSettled(
          requests.map((request) => {
            const id = `${request.perPage}:${request.page}`;
            let pending = asked.get(id);
            if (!pending) {
              pending = fetchPage(filter, request, priority);
              asked.set(id, pending);
              pagesInFlight.add(pending);
              void pending.then(
                (page) => {
                  read.push(page);
                  pagesInFlight.delete(pending!);
                },
                () => {
                  // A failed page may be asked again later in the operation (after a budget refusal, say).
                  asked.delete(id);
                  pagesInFlight.delete(pending!);
                },
              );
            }
            return pending;
          }),
        );
      },
    };
  };

  return { list, call, usage };
}
