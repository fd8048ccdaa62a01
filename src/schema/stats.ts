import { GraphQLError, Kind } from 'graphql';
import type { CallStatsResult, GatewayContext } from '../context.js';
import { scanList } from '../pagination/service.js';
import { filterQuery } from '../upstream/filter.js';
import { totalsOf } from '../upstream/stats.js';
import { builder } from './builder.js';
import { AnsweredByEnum, CallFilterInput, CallStatusEnum, CallTypeEnum } from './call.js';

const DECIMAL = /^-?\d+(\.\d+)?$/;
builder.scalarType('Decimal', {
  description: 'An exact decimal number as a string, e.g. `"12.34500000"` (no binary rounding).',
  serialize: (value) => String(value),
  parseValue: (value) => {
    if (typeof value !== 'string' || !DECIMAL.test(value))
      throw new GraphQLError('Decimal must be a string like "12.345".');
    return value;
  },
  parseLiteral: (node) => {
    if (node.kind !== Kind.STRING || !DECIMAL.test(node.value))
      throw new GraphQLError('Decimal must be a string like "12.345".');
    return node.value;
  },
});

const DurationStatsRef = builder.objectRef<CallStatsResult>('DurationStats').implement({
  description: 'Call durations in seconds, over the calls that have one.',
  fields: (t) => ({
    total: t.int({ description: 'Sum of all known durations.', resolve: (s) => s.durationTotal }),
    mean: t.float({
      nullable: true,
      description: 'Mean duration; null when no call has one.',
      resolve: (s) => s.durationMean,
    }),
    median: t.float({
      nullable: true,
      description: 'Median duration; null when no call has one.',
      resolve: (s) => s.durationMedian,
    }),
  }),
});

function countType<Name extends string>(
  name: Name,
  field: string,
  enumRef: typeof CallStatusEnum | typeof CallTypeEnum | typeof AnsweredByEnum,
  what: string,
) {
  return builder.objectRef<{ key: string; count: number }>(name).implement({
    description: `How many of the scanned calls have this ${what}.`,
    fields: (t) => ({
      [field]: t.field({
        type: enumRef as typeof CallStatusEnum,
        description: `The ${what}.`,
        resolve: (c) => c.key as never,
      }),
      count: t.int({ description: 'Number of calls.', resolve: (c) => c.count }),
    }),
  });
}
const StatusCountRef = countType('StatusCount', 'status', CallStatusEnum, 'status');
const TypeCountRef = countType('TypeCount', 'type', CallTypeEnum, 'type');
const AnsweredByCountRef = countType(
  'AnsweredByCount',
  'answeredBy',
  AnsweredByEnum,
  'answeredBy (UNKNOWN also counts calls without one)',
);

const entries = (map: Map<string, number>) =>
  [...map].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));

const CallStatsRef = builder.objectRef<CallStatsResult>('CallStats').implement({
  description:
    'Totals over the whole filtered call list, computed by reading it (the REST API has no aggregates). Up to ' +
    'STATS_MAX_CALLS calls are read, paced within the ' +
    "API key's " +
    'upstream budget; when either stops the reading early, `complete` is false and the totals cover the first ' +
    '`scannedCount` calls of the list.',
  fields: (t) => ({
    count: t.int({
      description:
        'How many calls match the filter (the upstream `total`). An upstream that sends no total leaves only the ' +
        'calls read: then, unless `complete`, a lower bound.',
      resolve: (s) => s.count,
    }),
    complete: t.boolean({
      description:
        'True when every matching call was read, so the totals are over all of them. False when STATS_MAX_CALLS or ' +
        'the API ' +
        "key's upstream " +
        'budget stopped the reading early.',
      resolve: (s) => s.complete,
    }),
    scannedCount: t.int({
      description: 'How many calls the totals are computed over.',
      resolve: (s) => s.scannedCount,
    }),
    totalCost: t.field({
      type: 'Decimal',
      description: 'Exact sum of `totalCost`; calls without one count as zero.',
      resolve: (s) => s.totalCost,
    }),
    carrierCost: t.field({
      type: 'Decimal',
      description: 'Exact sum of `carrierCost`; calls without one count as zero.',
      resolve: (s) => s.carrierCost,
    }),
    durationSeconds: t.field({
      type: DurationStatsRef,
      description: 'Total, mean and median duration.',
      resolve: (s) => s,
    }),
    byStatus: t.field({
      type: [StatusCountRef],
      description: 'Calls per status, most frequent first.',
      resolve: (s) => entries(s.byStatus),
    }),
    byType: t.field({
      type: [TypeCountRef],
      description: 'Calls per type, most frequent first.',
      resolve: (s) => entries(s.byType),
    }),
    byAnsweredBy: t.field({
      type: [AnsweredByCountRef],
      description: 'Calls per answeredBy, most frequent first.',
      resolve: (s) => entries(s.byAnsweredBy),
    }),
  }),
});

/** Pages of 100 (the upstream's maximum `per_page`) the scan may read: what the cost limit charges. */
const PAGE = 100;

/**
 * Reads the filtered list (pagination/service.ts `scanList`: bulk work, paced by the key's scheduler
 * behind interactive reads, pages at hand first) and totals it. When the budget cannot serve every page
 * in time, the totals cover what was read and `complete` is false; never an error for that.
 */
async function computeStats(filter: string, context: GatewayContext): Promise<CallStatsResult> {
  const scan = await scanList(context.loaders.list(filter), context.stats.maxCalls);
  return { count: scan.count, complete: scan.complete, ...totalsOf(scan.items) };
}

builder.queryField('callStats', (t) =>
  t.field({
    type: CallStatsRef,
    // Nullable: a failing scan must not erase a `calls` page of the same operation (issue 11, item 7).
    nullable: true,
    description:
      'Counts and totals (cost, duration, by status, type and answeredBy) over every call that matches the filter; ' +
      'null, with an error, when the upstream failed. Reads the list upstream as background work behind ' +
      'interactive reads, so it costs up to STATS_MAX_CALLS / 100 requests of the API ' +
      "key's budget; " +
      'pages read in the last UPSTREAM_CACHE_TTL_MS cost none, and a repeat by the same caller within STATS_TTL_MS ' +
      'is answered from memory.',
    args: {
      filter: t.arg({
        type: CallFilterInput,
        required: false,
        description: 'Narrows the calls counted; see CallFilter.',
      }),
    },
    // It may read STATS_MAX_CALLS / 100 pages; each counts like a field of ten.
    complexity: (_args, context) => ({ field: Math.ceil(context.stats.maxCalls / PAGE) * 10 }),
    resolve: (_root, args, context) => {
      const filter = filterQuery(args.filter).toString();
      if (context.callerKey === null) return computeStats(filter, context);
      return context.stats.cache.get(`${context.callerKey}\u0000${filter}`, () => computeStats(filter, context));
    },
  }),
);
