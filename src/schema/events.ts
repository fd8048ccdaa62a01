/**
 * `Subscription.callEvents` (issue 12, item 2; names fixed by the ../shared/docs/clarifications.md, "Live updates
 * contract"): new and changed calls of the caller's API key, as they are seen by the key's one poller or re-read after
 * a webhook (src/live/). Served over SSE on `/graphql` only (src/live/sse.ts writes the event ids); the
 * subgraph has no subscriptions (schema/index.ts removes them).
 *
 * Each subscriber gets the events of its own key only (the hub is keyed by the token's hash) and, of
 * those, the ones that match its filter (src/live/filter.ts). Each event's `cursor` is an anchored cursor of
 * the same filter (pagination/cursor.ts): its anchor is the call, its offset where the call stood in the
 * unfiltered list, so `calls(after:)` starts right after the call, drift correction placing it when the
 * filtered list puts it elsewhere (within the 200 rows a drift search reads).
 */
import { GatewayError, UnauthenticatedError } from '../errors.js';
import { eventFilter } from '../live/filter.js';
import type { LiveItem, LiveStream } from '../live/hub.js';
import type { LiveAwareContext } from '../live/sse.js';
import { cursorCodec } from '../pagination/cursor.js';
import { type CallFilter, filterQuery } from '../upstream/filter.js';
import type { Call } from '../upstream/model.js';
import { builder } from './builder.js';
import { CallFilterInput, CallRef } from './call.js';

/** The resync signal: the client missed events and must read `calls` again (README, "Live calls"). */
class LiveResyncError extends GatewayError {
  readonly code = 'LIVE_RESYNC';
}

interface CallEventShape {
  kind: 'CREATED' | 'UPDATED';
  call: Call;
  cursor: string;
}

const CallEventKindEnum = builder.enumType('CallEventKind', {
  description: 'What happened to the call of a `CallEvent`.',
  values: {
    CREATED: { description: 'A call appeared at the head of the list that was not there before.' },
    UPDATED: { description: 'A call changed: its `updatedAt` or its status is not what the gateway saw before.' },
  } as const,
});

const CallEventRef = builder.objectRef<CallEventShape>('CallEvent').implement({
  description:
    'A new or changed call of the API key. Over SSE each event carries an `id:` (also in `extensions.eventId`); send ' +
    'the last one as the `Last-Event-ID` header when reconnecting to get what was missed.',
  fields: (t) => ({
    kind: t.expose('kind', { type: CallEventKindEnum, description: 'Whether the call is new or changed.' }),
    call: t.field({
      type: CallRef,
      description: 'The call as the upstream answered when the change was seen.',
      resolve: (event) => event.call,
    }),
    cursor: t.exposeString('cursor', {
      description:
        'Cursor of the call in `calls` under the same filter: pass it as `after` to read the calls that follow it.',
    }),
  }),
});

builder.subscriptionType({
  description: 'Live updates, over Server-Sent Events: `POST /graphql` with `Accept: text/event-stream`.',
});

/** Opens the key's stream and turns its items into events for this subscriber (or errors to raise). */
async function openCallEvents(
  filter: CallFilter | null | undefined,
  context: LiveAwareContext,
): Promise<AsyncIterable<CallEventShape | GatewayError>> {
  const live = context.live;
  if (!live) throw new Error('callEvents needs the live plugin (src/live/sse.ts) on this endpoint.');
  // Checked before anything is opened: a refused filter or credential is one error, not a stream.
  const matches = eventFilter(filter, live.timeZone);
  const cursors = cursorCodec({ filterKey: filterQuery(filter).toString(), secret: context.cursorSecret });
  if (live.token === null)
    throw new UnauthenticatedError('This field needs an "Authorization: Bearer <API key>" header.');
  const stream = await live.hub.subscribe(live.token, live.lastEventId, live.signal);
  live.session.startId = stream.startId;
  return events(stream, live, matches, cursors);
}

async function* events(
  stream: LiveStream,
  live: NonNullable<LiveAwareContext['live']>,
  matches: (call: Call) => boolean,
  cursors: ReturnType<typeof cursorCodec>,
): AsyncGenerator<CallEventShape | GatewayError> {
  const { session } = live;
  try {
    for await (const item of stream as AsyncIterable<LiveItem>) {
      if (item.type === 'error') {
        session.current = null;
        yield item.error;
        return;
      }
      if (item.type === 'resync') {
        session.current = item.id;
        yield new LiveResyncError(
          'Events were missed (the log no longer holds them, or they may not all have been seen): read `calls` ' +
            'again, then keep listening.',
          {
            details: { eventId: item.id },
          },
        );
        continue;
      }
      if (!matches(item.call)) {
        session.passed = item.id;
        continue;
      }
      session.current = item.id;
      const anchor = { callId: item.call.callId, createdAtMs: item.call.createdAt.getTime() };
      yield { kind: item.kind, call: item.call, cursor: cursors.encode(item.offset, anchor) };
    }
    if (stream.endedBy === 'shutdown') session.shutdown = true;
  } finally {
    await stream.return?.();
  }
}

builder.subscriptionField('callEvents', (t) =>
  t.field({
    type: CallEventRef,
    description:
      'New and changed calls of the API key, as the gateway sees them: one poller per key reads the head of the ' +
      "list every LIVE_POLL_INTERVAL_MS (within 30% of the key's budget) and webhooks name calls to read again. " +
      'Only calls matching `filter`; `assistantId` and `campaignId` are refused (call records do not carry them). A ' +
      '`LIVE_RESYNC` error in the stream means events were missed: read `calls` again; the stream goes on.',
    args: {
      filter: t.arg({
        type: CallFilterInput,
        required: false,
        description: 'Only events whose call matches; as for `calls`, without assistantId and campaignId.',
      }),
    },
    subscribe: (_root, args, context) => openCallEvents(args.filter, context as LiveAwareContext),
    resolve: (event) => {
      if (event instanceof GatewayError) throw event;
      return event;
    },
  }),
);
