/**
 * Relay's `node(id:)` and `nodes(ids:)` (Relay's Global Object Identification spec, "Node root field" and
 * "Plural identifying root fields"), written here rather than taken from @pothos/plugin-relay, for two reasons:
 *
 * - Per-position errors. The plugin decodes `ids` in an argument mapper, before the resolver and while the
 *   cost limit charges each id (plugins/cost-limit.ts), so one malformed id failed the whole non-null list and with
 *   it the operation's `data`. Here each id is decoded on its own: a malformed one is null at its position
 *   with `BAD_USER_INPUT` at `["nodes", i]`, as the field's nullable items promise (issue 11, item 3).
 * - Federation. In the subgraph both fields are `@shareable`, as every Relay subgraph's are, and a shared field
 *   must resolve the same way in every subgraph that defines it (Federation 2 directives, "@shareable"; Apollo's
 *   composer refuses shared `node` fields whose possible types do not intersect): a router may send any id to
 *   any of them. So a well-formed id naming a Node type of another subgraph (`SUBGRAPH_NODE_TYPES`, declared
 *   in the subgraph schema with `@key(fields: "id", resolvable: false)`) resolves to a reference
 *   `{ __typename, id }`, and the router fetches its fields from the subgraph that owns the type.
 */
import { brandWithType, type OutputType, type SchemaTypes } from '@pothos/core';
import { decodeGlobalID, resolveNodes } from '@pothos/plugin-relay';
import { type GraphQLResolveInfo, isObjectType } from 'graphql';
import type { GatewayContext } from '../context.js';
import { BadUserInputError } from '../errors.js';
import { builder } from './builder.js';

/** Marks a Node type of another subgraph in the subgraph schema (see `subgraphSchemaWith`, index.ts). */
export const FOREIGN_NODE = 'gatewayForeignNode';

/** What one global id names: a node of this gateway to load, a reference to another subgraph's, or nothing. */
type Decoded = { load: { typename: string; id: unknown } } | { reference: object } | null;

/**
 * Decodes one global id. A string that is not a global id, or one naming a call whose id part is not an
 * upstream id, is the caller's mistake (`BAD_USER_INPUT`); a well-formed id naming a type that is not a Node
 * here (`User:1`, or another subgraph's type on /graphql) names nothing and is null without an error, like
 * an id whose object does not exist (test/graphql/errors.test.ts).
 */
function decode(globalId: string, argumentName: string, context: GatewayContext, info: GraphQLResolveInfo): Decoded {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    // The id is not echoed back: it may be long or hold anything.
    throw new BadUserInputError('This is not a global id: pass the `id` of a Node as returned by this API.', {
      details: { argumentName },
    });
  }
  const type = info.schema.getType(decoded.typename);
  if (!isObjectType(type) || !type.getInterfaces().some((i) => i.name === 'Node')) return null;
  if (type.extensions[FOREIGN_NODE]) {
    // The exact string the other subgraph issued: it resolves the reference by it.
    const reference = { id: globalId };
    brandWithType(reference, decoded.typename as OutputType<SchemaTypes>);
    return { reference };
  }
  const parse = type.extensions.pothosParseGlobalID as ((id: string, context: object) => unknown) | undefined;
  try {
    return { load: { typename: decoded.typename, id: parse ? parse(decoded.id, context) : decoded.id } };
  } catch (error) {
    // e.g. `Call:abc` (parseCallId, call.ts): named after the argument it came in.
    if (!(error instanceof BadUserInputError)) throw error;
    throw new BadUserInputError(error.message, { cause: error, details: { ...error.details, argumentName } });
  }
}

/** Each id at its own position: its node, its reference, null, or the Error that becomes its error. */
async function resolveIds(
  ids: readonly string[],
  argumentName: string,
  context: GatewayContext,
  info: GraphQLResolveInfo,
) {
  const decoded = ids.map((id): Decoded | Error => {
    try {
      return decode(id, argumentName, context, info);
    } catch (error) {
      return error as Error;
    }
  });
  // One call for every id to load keeps the plugin's per-request cache and the loaders' batching.
  const loaded = await resolveNodes(
    builder,
    context,
    info,
    decoded.map((d) => (d && 'load' in d ? d.load : null)),
  );
  return decoded.map((d, i) => {
    if (d instanceof Error || d === null) return d;
    if ('reference' in d) return d.reference;
    // Branded here too: the plugin brands an object once its own batch settles, and an id another field of the
    // operation is loading already comes back from its cache unbranded until then (`node` and `nodes` alike).
    return Promise.resolve(loaded[i]).then((value) => {
      brandWithType(value, d.load.typename as OutputType<SchemaTypes>);
      return value;
    });
  });
}

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    shareable: true,
    description: 'Fetches any object by its global `id`; null when it does not exist for the caller.',
    args: { id: t.arg.id({ required: true, description: 'A global id, as returned in `id`.' }) },
    resolve: async (_root, args, context, info) => {
      const [node] = await resolveIds([String(args.id)], 'id', context, info);
      if (node instanceof Error) throw node;
      return node as never;
    },
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    shareable: true,
    description: 'Fetches objects by their global ids, in order; null at the position of one that does not exist.',
    args: { ids: t.arg.idList({ required: true, description: 'Global ids, as returned in `id`.' }) },
    // Each id is one upstream request (GET /user/calls/{id}), so each costs its selection, as a row under
    // `calls` does. How many ids one operation may name is capped before this (MAX_LOOKUP_IDS, plugins/cost-limit.ts).
    // The ids are plain strings here: costing decodes nothing, so a malformed id cannot refuse the operation.
    complexity: (args) => ({ field: 1, multiplier: args.ids.length }),
    // A failed id is returned as an Error at its position: graphql-js makes it an error at ["nodes", i] and
    // null there, and the other ids and root fields keep their data (GraphQL spec §6.4.4, "Handling Field
    // Errors", for the nullable items of a list).
    resolve: (_root, args, context, info) => resolveIds(args.ids.map(String), 'ids', context, info) as never,
  }),
}));
