import { decodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.js';
import { BadUserInputError, UpstreamBadResponseError } from '../errors.js';
import { rowRangeForArgs } from '../pagination/arguments.js';
import { cursorCodec } from '../pagination/cursor.js';
import type { Continuation } from '../pagination/drift.js';
import { readConnection } from '../pagination/service.js';
import { filterQuery } from '../upstream/filter.js';
import type { Call } from '../upstream/model.js';
import { builder } from './builder.js';
import { checked } from './checked.js';
import { EvaluationItemRef } from './evaluation.js';
import { selectedFieldNames } from './selection.js';
import { TranscriptSegmentRef } from './transcript.js';

export const CallStatusEnum = builder.enumType('CallStatus', {
  description:
    'Where a call stands. The upstream spells these in lower case with `-` or `_` (e.g. `in-progress`, `no-answer`).',
  values: {
    INITIATED: { description: 'Created, not dialled yet (upstream `initiated`).' },
    RINGING: { description: 'Dialling (upstream `ringing`).' },
    BUSY: { description: 'The line was busy (upstream `busy`).' },
    IN_PROGRESS: { description: 'The conversation is running (upstream `in-progress`).' },
    ENDED: { description: 'Ended (upstream `ended`).' },
    COMPLETED: { description: 'Completed normally (upstream `completed`).' },
    ENDED_BY_CUSTOMER: { description: 'The person hung up (upstream `ended_by_customer`).' },
    ENDED_BY_ASSISTANT: { description: 'The assistant ended the call (upstream `ended_by_assistant`).' },
    NO_ANSWER: { description: 'Nobody answered (upstream `no-answer`).' },
    FAILED: { description: 'The call failed (upstream `failed`).' },
    UNKNOWN: { description: 'A status this gateway does not know; not usable as a filter.' },
  } as const,
});

export const CallTypeEnum = builder.enumType('CallType', {
  description: 'How the call came about.',
  values: {
    INBOUND: { description: 'Someone called the assistant (upstream `inbound`).' },
    OUTBOUND: { description: 'The assistant called someone (upstream `outbound`).' },
    WEB: { description: 'A browser call through the web widget (upstream `web`).' },
    UNKNOWN: { description: 'A type this gateway does not know; not usable as a filter.' },
  } as const,
});

export const AnsweredByEnum = builder.enumType('AnsweredBy', {
  description: 'Who picked up, according to the upstream answering-machine detection.',
  values: {
    HUMAN: { description: 'A person.' },
    MACHINE: { description: 'A voicemail or answering machine.' },
    UNKNOWN: { description: 'Detection could not tell, or said something this gateway does not know.' },
  } as const,
});

export const CallFilterInput = builder.inputType('CallFilter', {
  description: 'Narrows `calls` with the filters the upstream supports. All fields are combined with AND.',
  fields: (t) => ({
    status: t.field({
      type: CallStatusEnum,
      required: false,
      description: 'Only calls with this status (UNKNOWN is refused).',
    }),
    type: t.field({
      type: CallTypeEnum,
      required: false,
      description: 'Only calls of this type (UNKNOWN is refused).',
    }),
    phoneNumber: t.string({
      required: false,
      description:
        'Only calls whose client phone number matches this (as the upstream matches it), e.g. `+4915123456789`.',
    }),
    assistantId: t.int({
      required: false,
      description: 'Only calls handled by this assistant (upstream assistant id).',
    }),
    campaignId: t.int({ required: false, description: 'Only calls of this campaign (upstream campaign id).' }),
    dateFrom: t.field({
      type: 'Date',
      required: false,
      description: 'Only calls created on or after this day (upstream `date_from`).',
    }),
    dateTo: t.field({
      type: 'Date',
      required: false,
      description: 'Only calls created on or before this day (upstream `date_to`).',
    }),
  }),
});

export const CallRef = builder.objectRef<Call>('Call');

/** The upstream id inside a Relay global id (`Call:<callId>`). */
function parseCallId(id: string): number {
  if (!/^[1-9]\d{0,15}$/.test(id) || !Number.isSafeInteger(Number(id))) {
    throw new BadUserInputError('This global id does not name a call.', { details: { argumentName: 'id' } });
  }
  return Number(id);
}

const decimalToFloat = (value: string | null) => (value === null ? null : Number(value));

/** GraphQL's Int: a signed 32-bit integer (GraphQL spec §3.5.1). */
const MAX_INT = 2 ** 31 - 1;

builder.node(CallRef, {
  description: 'One phone or web call handled by a voice assistant, with its transcript, evaluation and costs.',
  id: { resolve: (call) => call.callId, parse: parseCallId },
  // A failed lookup is returned, not thrown: Pothos loads `nodes(ids:)` with one Promise.all, so a throw
  // would fail the whole list, while an Error value becomes an error at its own position (its item is
  // nullable), e.g. the lookups the key's budget cannot serve in time.
  loadOne: (callId, context) => context.loaders.call.load(callId).catch((error: Error) => error as unknown as Call),
  fields: (t) => ({
    callId: t.int({
      // Nullable: GraphQL's Int holds ids up to 2,147,483,647; a larger upstream id fails this field alone
      // (issue 11, item 17), and `id` still names the call.
      nullable: true,
      description:
        'The id of the call in the upstream API (`GET /user/calls/{id}`); what webhooks and other systems store. ' +
        'Null, with UPSTREAM_BAD_RESPONSE, for an id above 2,147,483,647 (GraphQL Int); `id` works for any call.',
      resolve: (call) => {
        if (call.callId > MAX_INT) {
          throw new UpstreamBadResponseError(
            `The call id is larger than GraphQL's Int allows (${MAX_INT}); use \`id\` for this call.`,
          );
        }
        return call.callId;
      },
    }),
    assistantName: t.string({
      nullable: true,
      description: 'Name of the assistant that handled the call.',
      resolve: (call) => checked(call.assistantName),
    }),
    campaignName: t.string({
      nullable: true,
      description: 'Name of the campaign the call belongs to; null for calls outside a campaign.',
      resolve: (call) => checked(call.campaignName),
    }),
    type: t.expose('type', { type: CallTypeEnum, description: 'Inbound, outbound or web.' }),
    durationSeconds: t.int({
      nullable: true,
      description: 'Length of the call in seconds; null when the upstream has none (e.g. not answered).',
      resolve: (call) => checked(call.durationSeconds),
    }),
    assistantPhoneNumber: t.string({
      nullable: true,
      description: "The assistant's phone number (E.164); null for web calls.",
      resolve: (call) => checked(call.assistantPhoneNumber),
    }),
    clientPhoneNumber: t.string({
      nullable: true,
      description: "The other party's phone number (E.164); null for web calls.",
      resolve: (call) => checked(call.clientPhoneNumber),
    }),
    status: t.expose('status', { type: CallStatusEnum, description: 'Where the call stands.' }),
    transcript: t.expose('transcript', {
      type: [TranscriptSegmentRef],
      description: 'The conversation, segment by segment; empty when there is none.',
    }),
    transcriptText: t.exposeString('transcriptText', {
      nullable: true,
      description:
        'The whole conversation as text, one `Bot: …`/`Human: …` line per segment (string transcripts as sent); null ' +
        'when there is none.',
    }),
    variables: t.expose('variables', {
      type: 'JSON',
      description: 'Variables of the call (a JSON object, `{}` when none), as the upstream sent them.',
    }),
    evaluation: t.expose('evaluation', {
      type: [EvaluationItemRef],
      description: "The assistant's post-call evaluation, one item per field; empty when there is none.",
    }),
    webhookResponse: t.field({
      type: 'JSON',
      nullable: true,
      description: "What the customer's post-call webhook answered, as opaque JSON; null when nothing was recorded.",
      resolve: (call) => checked(call.webhookResponse),
    }),
    carrierCost: t.float({
      nullable: true,
      description:
        'Telephony cost of the call in the account currency, as a float (for display); null when not billed (yet). ' +
        '`carrierCostDecimal` has the exact amount.',
      resolve: (call) => decimalToFloat(checked(call.carrierCost)),
    }),
    carrierCostDecimal: t.field({
      type: 'Decimal',
      nullable: true,
      description:
        'Telephony cost of the call, exactly as the upstream sent it (e.g. `"0.02500000"`); null when not billed ' +
        '(yet).',
      resolve: (call) => checked(call.carrierCost),
    }),
    totalCost: t.float({
      nullable: true,
      description:
        'Total cost of the call in the account currency, as a float (for display); null when not billed (yet). ' +
        '`totalCostDecimal` has the exact amount.',
      resolve: (call) => decimalToFloat(checked(call.totalCost)),
    }),
    totalCostDecimal: t.field({
      type: 'Decimal',
      nullable: true,
      description:
        'Total cost of the call, exactly as the upstream sent it (e.g. `"0.08000000"`); sums of these add up to ' +
        '`callStats.totalCost`.',
      resolve: (call) => checked(call.totalCost),
    }),
    answeredBy: t.field({
      type: AnsweredByEnum,
      nullable: true,
      description: 'Who picked up; null when the upstream did not detect it.',
      resolve: (call) => checked(call.answeredBy),
    }),
    recordingUrl: t.string({
      nullable: true,
      description: 'Where the recording can be downloaded, exactly as the upstream sent it; null when not recorded.',
      resolve: (call) => checked(call.recordingUrl),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the call was created (UTC).' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the call record last changed (UTC).' }),
  }),
});

interface CallConnectionShape {
  edges: { cursor: string; node: Call }[];
  drift: Continuation | null;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  total: number | null;
}

/**
 * `calls`: Relay arguments -> absolute row range -> rows through the pagination service -> edges. Every
 * check runs before the first upstream request, and only what the selection needs is read: `totalCount`
 * alone costs one `per_page=1` request, or none when a cached page of the list says it.
 */
async function resolveCalls(
  args: {
    filter?: Parameters<typeof filterQuery>[0];
    first?: number | null;
    after?: string | null;
    last?: number | null;
    before?: string | null;
  },
  context: GatewayContext,
  info: GraphQLResolveInfo,
): Promise<CallConnectionShape> {
  const filter = filterQuery(args.filter).toString();
  const cursors = cursorCodec({ filterKey: filter, secret: context.cursorSecret });
  // `after` is decoded once: its offset for the range, its anchor for the drift check.
  const after = args.after == null ? null : cursors.decodeAnchored(args.after, 'after');
  const range = rowRangeForArgs(args, context.pageSizes, (cursor, name) =>
    name === 'after' && after ? after.offset : cursors.decode(cursor, name),
  );
  const selected = selectedFieldNames(info);
  const needRows = selected.has('edges') || selected.has('pageInfo');
  const page = await readConnection(context.loaders.list(filter), {
    range,
    anchor: args.before == null ? (after?.anchor ?? null) : null,
    needRows,
    needTotal: needRows || selected.has('totalCount'),
    driftSearchRows: context.driftSearchRows,
    // A cursor means the client walks the list: the next pages will likely be asked for too.
    readAhead: args.after != null || args.before != null,
  });
  const edges = page.rows.map(({ offset, item }) => ({
    cursor: cursors.encode(offset, { callId: item.callId, createdAtMs: item.createdAt.getTime() }),
    node: item,
  }));
  return {
    edges,
    drift: page.drift,
    pageInfo: {
      hasPreviousPage: page.hasPreviousPage,
      hasNextPage: page.hasNextPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    total: page.total,
  };
}

/**
 * Federation 2 entity: other subgraphs reference a call by its global `id` or by the upstream `callId`
 * they stored (e.g. from a post-call webhook). `_entities` resolves through the per-request call loader:
 * duplicates cost one request, lookups run at most 8 at a time (callConcurrency), a 404 is null at
 * its position, and calls a list already returned in the operation cost nothing.
 */
builder.asEntity(CallRef, {
  key: [builder.selection<{ id: string }>('id'), builder.selection<{ callId: number }>('callId')],
  // async: a bad reference must reject its own promise; a synchronous throw would fail every entity.
  resolveReference: async (reference, context) => {
    if ('callId' in reference && reference.callId != null) {
      if (!Number.isSafeInteger(reference.callId) || reference.callId < 1) {
        throw new BadUserInputError('A Call reference needs a positive integer "callId".', {
          details: { argumentName: 'representations' },
        });
      }
      return context.loaders.call.load(reference.callId);
    }
    const details = { argumentName: 'representations' };
    const globalId = (reference as { id?: unknown }).id;
    if (typeof globalId !== 'string') {
      throw new BadUserInputError('A Call reference needs "id" (its global id) or "callId".', { details });
    }
    let decoded: { typename: string; id: string };
    try {
      decoded = decodeGlobalID(globalId);
    } catch {
      throw new BadUserInputError('The "id" of this Call reference is not a global id.', { details });
    }
    if (decoded.typename !== 'Call') return null;
    return context.loaders.call.load(parseCallId(decoded.id));
  },
});

const DriftStatusEnum = builder.enumType('DriftStatus', {
  description: 'What the gateway found where the `after` cursor said the previous page ended.',
  values: {
    CLEAN: { description: 'The list did not move: the page starts where the cursor said.' },
    SHIFTED: {
      description:
        'Calls were inserted or deleted before the cursor; the page starts right after its call, wherever that is now.',
    },
    ANCHOR_DELETED: {
      description: "The cursor's call was deleted; the page starts at the first call the list order puts after it.",
    },
    ANCHOR_NOT_FOUND: {
      description:
        "The cursor's call was not within DRIFT_SEARCH_ROWS of its place; the page starts where the cursor said.",
    },
  } as const,
});

const PageDriftRef = builder.objectRef<Continuation>('PageDrift').implement({
  description:
    'How a page was corrected for calls inserted into or deleted from the list since the previous page (drift-proof ' +
    'pagination).',
  fields: (t) => ({
    status: t.expose('status', { type: DriftStatusEnum, description: 'What was found.' }),
    shift: t.exposeInt('shift', {
      description:
        'How many rows the page start moved from what the cursor said (positive: calls were inserted before it).',
    }),
  }),
});

builder.queryFields((t) => ({
  call: t.field({
    type: CallRef,
    nullable: true,
    description: 'One call by its upstream id; null when the upstream has no such call for this API key.',
    args: { callId: t.arg.int({ required: true, description: 'The upstream call id.' }) },
    resolve: (_root, { callId }, context) => {
      if (callId < 1)
        throw new BadUserInputError('Argument "callId" must be a positive integer.', {
          details: { argumentName: 'callId' },
        });
      return context.loaders.call.load(callId);
    },
  }),
  calls: t.connection(
    {
      type: CallRef,
      // Nullable: when the upstream fails for this field, the other root fields of the operation keep
      // their data (issue 11, item 7); the error says why at `calls`.
      nullable: true,
      description:
        'Calls of the API key, as a Relay connection in the upstream order. Use `first`/`after` to page forward and ' +
        '`last`/`before` to page back; `first` may change between pages. A cursor only works with the filter it ' +
        'was issued for. Null, with an error, when the page could not be read.',
      args: {
        filter: t.arg({ type: CallFilterInput, required: false, description: 'Narrows the list; see CallFilter.' }),
      },
      // Each requested row costs its selection: the query cost limit grows with first/last.
      // Clamped to the maximum size so an out-of-range `first` gets its own, clearer error.
      complexity: (args, context) => ({
        field: 1,
        multiplier: Math.min(
          context.pageSizes.maxSize,
          Math.max(1, args.first ?? args.last ?? context.pageSizes.defaultSize),
        ),
      }),
      resolve: (_root, args, context, info) => resolveCalls(args, context, info) as never,
    },
    {
      name: 'CallConnection',
      description: 'A page of calls with cursors, page info and the size of the whole filtered list.',
      fields: (c) => ({
        drift: c.field({
          type: PageDriftRef,
          nullable: true,
          description:
            'Whether the list moved since the `after` cursor was issued (calls inserted or deleted upstream) and how ' +
            'this page was corrected; null without an anchored `after` cursor or when no rows were asked for.',
          resolve: (parent) => (parent as unknown as CallConnectionShape).drift,
        }),
        totalCount: c.int({
          // Nullable: an upstream that does not say its total fails this field alone, and the edges are
          // still served (../shared/docs/clarifications.md, "totalCount without total").
          nullable: true,
          description:
            'How many calls match the filter in all (the upstream `total`), not just on this page; null, with an ' +
            'error, when the upstream does not say.',
          resolve: (parent) => {
            const { total } = parent as unknown as CallConnectionShape;
            if (total === null) throw new UpstreamBadResponseError('The upstream did not say how many calls match.');
            return total;
          },
        }),
      }),
    },
    { name: 'CallEdge', description: 'A call in a connection, with the cursor that points at it.' },
  ),
}));
