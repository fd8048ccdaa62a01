/**
 * Per-request DataLoaders over the upstream (DataLoader README, "Creating a new DataLoader per request"):
 * built for each GraphQL operation, never shared, so nothing one caller loaded can reach another.
 * `page` dedupes identical list requests of one operation; `call` dedupes `GET /user/calls/{id}` and
 * serves any call that a list of the same operation returned, so a listed call costs nothing more.
 */
import DataLoader from 'dataloader';
import { UnauthenticatedError } from '../errors.js';
import type { CallOptions, UpstreamCallInfo, UpstreamClient } from './client.js';
import type { InFlight } from './coalesce.js';
import { keyId } from './resilience.js';
import type { Call, CallPage, NormalizeWarning } from './model.js';
import { type NormalizeOptions, normalizeCall, normalizeCallPage, unwrapCallRecord } from './normalize.js';

export interface Loaders {
  /** Keyed by the page's canonical query string (see `pageQuery`). */
  page: DataLoader<string, CallPage>;
  /** Keyed by upstream call id; null when the upstream says 404. */
  call: DataLoader<number, Call | null>;
}

export interface LoaderOptions {
  client: UpstreamClient;
  /** The caller's bearer token; null when the request carried none. */
  token: string | null;
  normalize: NormalizeOptions;
  /** How many `GET /user/calls/{id}` may be in flight at once for one operation. @default 8 */
  callConcurrency: number;
  /** Aborts the operation's upstream requests when the client goes away. */
  signal?: AbortSignal;
  /** Told about every upstream attempt of this operation (request logs count them). */
  onCall?: (info: UpstreamCallInfo) => void;
  /** The operation's trace span, parent of the upstream spans. */
  parentSpan?: CallOptions['parentSpan'];
  onWarnings?: (warnings: NormalizeWarning[]) => void;
  /**
   * Shared by all requests of a gateway: identical upstream requests in flight at the same time, from
   * the same API key, are made once. Omit to make every request on its own.
   */
  inFlight?: { pages: InFlight<CallPage>; calls: InFlight<Call | null> };
}

/** Runs `task` over `items` with at most `limit` running at once; results keep the items' order. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
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
  const { client, token, signal } = options;
  const report = (warnings: NormalizeWarning[]) => {
    if (warnings.length > 0) options.onWarnings?.(warnings);
  };
  const callOptions = (): CallOptions => {
    if (token === null) throw new UnauthenticatedError('This field needs an "Authorization: Bearer <API key>" header.');
    return { token, signal, onCall: options.onCall, parentSpan: options.parentSpan };
  };
  const tokenKey = token === null ? null : keyId(token);
  /** Runs `task` alone, or joins an identical request of the same API key already on its way. */
  const shared = <T>(inFlight: InFlight<T> | undefined, path: string, task: (call: CallOptions) => Promise<T>): Promise<T> => {
    const call = callOptions();
    if (!inFlight) return task(call);
    return inFlight.run(`${tokenKey}\u0000${path}`, signal, (joined) => task({ ...call, signal: joined }));
  };

  // Calls returned by the operation's list pages, and the list pages still on their way.
  const listed = new Map<number, Call>();
  const pagesInFlight = new Set<Promise<unknown>>();

  const call: DataLoader<number, Call | null> = new DataLoader(
    // DataLoader contract: one result per key, in key order; an Error fails only its own key.
    async (ids) => {
      // Root fields run side by side, so `call(callId:)` is asked for before a sibling `calls` page has
      // come back. Waiting for pages already in flight spends a little latency to save an upstream
      // request (the API allows about 100 a minute) whenever the page holds the call.
      if (pagesInFlight.size > 0) await Promise.allSettled([...pagesInFlight]);
      return mapConcurrently(ids, options.callConcurrency, async (id) => {
        const known = listed.get(id);
        if (known) return known;
        try {
          return await shared(options.inFlight?.calls, `call/${id}`, async (call) => {
            const raw = await client.getCall(id, call);
            if (raw === null) return null;
            const warnings: NormalizeWarning[] = [];
            const found = normalizeCall(unwrapCallRecord(raw), options.normalize, warnings);
            report(warnings);
            return found;
          });
        } catch (error) {
          return error as Error;
        }
      });
    },
    { maxBatchSize: 100 },
  );

  const loadPage = async (query: string): Promise<CallPage> => {
    const result = await shared(options.inFlight?.pages, `list?${query}`, async (call) => {
      const raw = await client.listCalls(new URLSearchParams(query), call);
      const warnings: NormalizeWarning[] = [];
      const page = normalizeCallPage(raw, options.normalize, warnings);
      report(warnings);
      return page;
    });
    for (const found of result.calls) {
      listed.set(found.callId, found);
      call.prime(found.callId, found);
    }
    return result;
  };

  const page = new DataLoader<string, CallPage>((queries) =>
    Promise.all(
      queries.map((query) => {
        const pending = loadPage(query).catch((error: unknown) => error as Error);
        pagesInFlight.add(pending);
        void pending.finally(() => pagesInFlight.delete(pending));
        return pending;
      }),
    ),
  );

  return { page, call };
}
