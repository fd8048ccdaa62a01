/**
 * The one Pothos builder: plugins, scalars and the context type. Defines no types of its own; those live
 * in one file per GraphQL type next to their root fields (Pothos guide, "app layout").
 */
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { DateResolver, DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { GatewayContext } from '../context.js';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    Decimal: { Input: string; Output: string };
  };
}>({
  // Federation last; without the directives plugin registered the subgraph SDL silently loses @key.
  plugins: [ComplexityPlugin, RelayPlugin, DirectivePlugin, FederationPlugin],
  // Costs only; the limit is enforced per request before execution (plugins/cost-limit.ts), not per field.
  complexity: { defaultComplexity: 1, defaultListMultiplier: 1 },
  defaultFieldNullability: false,
  relay: {
    cursorType: 'String',
    edgesFieldOptions: {
      nullable: { list: false, items: false },
      description: 'The items of this page, in list order.',
    },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    cursorFieldOptions: { description: 'Opaque cursor of this item; pass it as `after` or `before`.' },
    pageInfoFieldOptions: {
      description: 'Whether more items exist before and after this page, and the cursors at its ends.',
    },
    hasNextPageFieldOptions: { description: 'True when items exist after this page (exact: from the list total).' },
    hasPreviousPageFieldOptions: { description: 'True when items exist before this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of this page; null when the page is empty.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of this page; null when the page is empty.' },
    firstArgOptions: {
      description:
        'Return at most this many items from the start (after `after`); 0 to the configured maximum (default 100).',
    },
    afterArgOptions: { description: 'Start after the item with this cursor.' },
    lastArgOptions: {
      description: 'Return at most this many items from the end (before `before`); cannot be combined with `first`.',
    },
    beforeArgOptions: { description: 'End before the item with this cursor.' },
    nodeTypeOptions: {
      description: 'An object with a globally unique, opaque `id` (Relay Global Object Identification spec).',
    },
    // Other subgraphs of a supergraph commonly define PageInfo too.
    pageInfoTypeOptions: {
      description: 'Where a page of a connection stands in the whole list (Relay Cursor Connections spec §5).',
      shareable: true,
    },
    // Written in node.ts: per-position errors in `nodes`, and references to other subgraphs' Node types.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    idFieldOptions: { description: 'Globally unique, opaque identifier (Relay); use `callId` for the upstream id.' },
  },
});

/**
 * graphql-scalars' DateTime, serialising to the string itself. Its own `serialize` returns the `Date` and
 * leaves the string to `JSON.stringify`, which then calls `toJSON` on every instant and leaves its fast path:
 * the result of a 100-call page with transcripts (1,000 instants) took 2.4× as long to stringify as the same
 * data with strings (issue 13, bench/levers.md). The wire format is the same: `toJSON` of a valid `Date` is
 * its `toISOString`, and values graphql-scalars refuses still raise its errors.
 */
const DateTimeScalar = new GraphQLScalarType<Date, string>({
  ...DateTimeResolver.toConfig(),
  serialize(value) {
    const date = DateTimeResolver.serialize(value) as Date;
    // A number is taken as epoch milliseconds without a check; `toJSON` would have sent null for NaN.
    if (Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
});

builder.addScalarType('DateTime', DateTimeScalar, {
  description: 'An instant in time, serialised as an ISO-8601 string in UTC, e.g. `2025-08-01T13:34:28.525Z`.',
});
builder.addScalarType('Date', DateResolver, { description: 'A calendar date, `YYYY-MM-DD`.' });
builder.addScalarType('JSON', JSONResolver, { description: 'Any JSON value, passed through as the upstream sent it.' });

builder.queryType({ description: 'Read access to the call history of the API key sent in `Authorization: Bearer …`.' });
