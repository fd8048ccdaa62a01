/**
 * GraphQL over Server-Sent Events with event ids (issue 12, item 2). yoga serves subscriptions over SSE in
 * the GraphQL-over-SSE "distinct connections" mode (`POST /graphql` with `Accept: text/event-stream`), but
 * its processor writes no `id:` lines, so a client that reconnects cannot say what it saw last. This plugin
 * replaces yoga's processor for `callEvents` streams only (every other response, and a subscription that
 * fails before its stream starts, stays yoga's) with one that writes the same messages plus:
 *
 * - `id: <event id>` on every `next` message, and the same id in the result's `extensions.eventId`, for
 *   clients (graphql-sse, Apollo, urql) that do not expose SSE ids;
 * - a first message `id: <start>` (the id the stream resumes from, or the log's head), so that a client that
 *   drops before the first event resumes from where it began;
 * - keep-alive messages every `pingMs` that carry `id: <newest id passed>` when events were filtered out
 *   since the last id (an SSE message without data moves `Last-Event-ID` on and dispatches nothing;
 *   WHATWG HTML, "Server-sent events", dispatch steps 1–2), so a resumed stream need not replay them;
 * - on a gateway shutdown, the end of the stream without `complete`, so clients reconnect and resume.
 *
 * A client resumes by sending the last id it got as the `Last-Event-ID` request header.
 */
import { isAsyncIterable } from '@envelop/core';
import { type ExecutionResult, subscribe } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Clock } from '../clock.js';
import type { GatewayContext } from '../context.js';
import type { LiveHub } from './hub.js';
import { comesAfter } from './store.js';

/** What the SSE writer needs to know of one stream; the subscription resolver keeps it current. */
class SseSession {
  /** The id the stream starts from (written first). */
  startId: string | null = null;
  /** The id of the result being written next. */
  current: string | null = null;
  /** The newest log entry the stream filtered out (never one it is about to deliver). */
  passed: string | null = null;
  /** The gateway is stopping: end the stream without `complete`. */
  shutdown = false;
}

/** What `callEvents` gets in its context: the hub, the stream's session and the request's credentials. */
interface LiveContext {
  hub: LiveHub;
  session: SseSession;
  /** The token to poll with (the caller's, or the server's in single-tenant mode); null: UNAUTHENTICATED. */
  token: string | null;
  /** The `Last-Event-ID` request header. */
  lastEventId: string | null;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** `UPSTREAM_TIMEZONE`, for the date filters. */
  timeZone: string;
}

export type LiveAwareContext = GatewayContext & { live?: LiveContext };

export interface LiveSseOptions {
  hub: LiveHub;
  resolveToken: (authorization: string | null) => string | null;
  timeZone: string;
  clock: Clock;
  /** Keep-alive interval. @default 12000 (yoga's) */
  pingMs?: number;
}

/** A result as yoga serialises it for a client: no `http` or `unexpected` extensions of errors. */
function serialize(result: ExecutionResult, eventId: string | null): string {
  const errors = result.errors?.map((error) => {
    const json = (typeof error.toJSON === 'function' ? error.toJSON() : error) as {
      extensions?: Record<string, unknown>;
    };
    const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions ?? {};
    return { ...json, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
  });
  const { http: _http, ...extensions } = (result.extensions ?? {}) as Record<string, unknown>;
  return JSON.stringify({
    ...result,
    ...(errors ? { errors } : {}),
    extensions:
      eventId === null ? (Object.keys(extensions).length > 0 ? extensions : undefined) : { ...extensions, eventId },
  });
}

/** yoga's SSE processor (graphql-yoga `plugins/result-processor/sse.ts`) with ids, for one session. */
function sseWithIds(session: SseSession, clock: Clock, pingMs: number) {
  return (
    result: unknown,
    fetchAPI: { TextEncoder: typeof TextEncoder; ReadableStream: typeof ReadableStream; Response: typeof Response },
  ) => {
    const encoder = new fetchAPI.TextEncoder();
    const iterator = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    let written = session.startId;
    let timer: unknown = null;
    const stopPing = () => {
      clock.clearTimeout(timer);
      timer = null;
    };
    const stream = new fetchAPI.ReadableStream<Uint8Array>({
      start(controller) {
        // Always something first: some browsers hold a response back until a byte of its body arrives.
        controller.enqueue(encoder.encode(written ? `id: ${written}\n\n` : ':\n\n'));
        const ping = () => {
          timer = clock.setTimeout(ping, pingMs);
          // `null` is errored; 0 is back-pressure or closed.
          if (controller.desiredSize === null) return stopPing();
          if (controller.desiredSize <= 0) return;
          const passed = session.passed;
          const advance = passed !== null && (written === null || comesAfter(passed, written));
          controller.enqueue(encoder.encode(advance ? `id: ${passed}\n\n` : ':\n\n'));
          if (advance) written = passed;
        };
        timer = clock.setTimeout(ping, pingMs);
      },
      async pull(controller) {
        try {
          const { value, done } = await iterator.next();
          if (value != null) {
            const id = session.current;
            const lines = `${id ? `id: ${id}\n` : ''}event: next\ndata: ${serialize(value, id)}\n\n`;
            controller.enqueue(encoder.encode(lines));
            if (id) written = id;
          }
          if (done) {
            stopPing();
            if (!session.shutdown) controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
            controller.close();
          }
        } catch (error) {
          stopPing();
          if (session.shutdown) controller.close();
          else controller.error(error);
        }
      },
      async cancel(reason) {
        stopPing();
        await iterator.return?.(reason);
      },
    });
    return new fetchAPI.Response(stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        connection: 'keep-alive',
        'cache-control': 'no-cache',
        'content-encoding': 'none',
        // Proxies that buffer responses (nginx) would hold events back.
        'x-accel-buffering': 'no',
      },
    });
  };
}

/**
 * Gives `callEvents` its live context (only subscriptions pay for it) and writes its streams with ids.
 * Mounted on `/graphql` only, after graphql-jit: the subgraph has no subscriptions.
 */
export function useLiveEvents(options: LiveSseOptions): Plugin {
  const sessions = new WeakMap<Request, SseSession>();
  const pingMs = options.pingMs ?? 12_000;
  return {
    onSubscribe({ args, extendContext, setSubscribeFn }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (!request) return;
      // graphql-js, not graphql-jit (mounted before this plugin): jit coerces the already coerced variables
      // again for every event, and a `Date` filter then fails ("got invalid value {}").
      setSubscribeFn(subscribe as never);
      const session = new SseSession();
      sessions.set(request, session);
      const live: LiveContext = {
        hub: options.hub,
        session,
        token: options.resolveToken(request.headers.get('authorization')),
        lastEventId: request.headers.get('last-event-id'),
        signal: request.signal,
        timeZone: options.timeZone,
      };
      extendContext({ live } as Record<string, unknown>);
    },
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      const session = sessions.get(request);
      // Only a stream that started; yoga chose SSE for it (a subscription has no other streaming processor).
      if (!session || !resultProcessor || !isAsyncIterable(result)) return;
      setResultProcessor(sseWithIds(session, options.clock, pingMs) as never, 'text/event-stream');
    },
  };
}
