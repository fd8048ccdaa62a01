/**
 * Loads every type module, then builds the schema. Defines no types itself, except the subgraph's
 * declarations of other subgraphs' Node types (`subgraphSchemaWith`).
 */
import { printSubgraphSchema } from '@apollo/subgraph';
import {
  type GraphQLFieldResolver,
  GraphQLID,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  isInterfaceType,
  isUnionType,
  lexicographicSortSchema,
  type ObjectTypeDefinitionNode,
  parse,
} from 'graphql';
import { ConfigError } from '../config.js';
import { BadUserInputError } from '../errors.js';
import { builder } from './builder.js';
import './transcript.js';
import './evaluation.js';
import './call.js';
import './stats.js';
import './events.js';
import { FOREIGN_NODE } from './node.js';

/** The public schema served at /graphql: no federation fields or directives. */
export const schema = builder.toSchema({ sortSchema: true });

/**
 * `_entities` answers a representation whose `__typename` is not an entity type of this subgraph with null
 * and `BAD_USER_INPUT` at `["_entities", i]`. @apollo/subgraph's resolver throws for it while mapping the
 * list, which failed every representation and the operation's `data` with INTERNAL_SERVER_ERROR; an object
 * type that is no entity (`TranscriptSegment`) got an error without a code. The federation subgraph spec
 * lets `_entities` hold null at the position of a representation it cannot resolve (`[_Entity]!`).
 */
function answerUnknownEntityTypes(subgraph: GraphQLSchema): void {
  const field = subgraph.getQueryType()?.getFields()._entities;
  const union = subgraph.getType('_Entity');
  if (!field?.resolve || !isUnionType(union)) return;
  const names = union.getTypes().map((type) => type.name);
  const message = `A representation's "__typename" must name an entity type of this subgraph: ${names.join(', ')}.`;
  const resolve = field.resolve as GraphQLFieldResolver<unknown, unknown, { representations: unknown[] }>;
  const isEntity = (representation: unknown) => {
    const typename = (representation as { __typename?: unknown } | null)?.__typename;
    return typeof typename === 'string' && names.includes(typename);
  };
  field.resolve = (source, args: { representations: unknown[] }, context, info) => {
    const { representations } = args;
    if (representations.every(isEntity)) return resolve(source, args, context, info);
    const resolved = resolve(source, { ...args, representations: representations.filter(isEntity) }, context, info);
    const merge = (entities: unknown[]) => {
      let next = 0;
      return representations.map((representation) =>
        isEntity(representation)
          ? entities[next++]
          : new BadUserInputError(message, { details: { argumentName: 'representations' } }),
      );
    };
    return resolved instanceof Promise ? resolved.then(merge) : merge(resolved as unknown[]);
  };
}

/** Types only `Subscription.callEvents` uses (schema/events.ts): live updates are not part of the subgraph. */
const LIVE_ONLY_TYPES = new Set(['Subscription', 'CallEvent', 'CallEventKind']);

/**
 * The subgraph without `Subscription` (issue 12: live updates are served on /graphql only; a router would
 * need a subscription protocol to the subgraph, and the gateway's SSE ids and resume are its own), with
 * `_service { sdl }` describing what is left.
 */
function withoutSubscriptions(built: GraphQLSchema): GraphQLSchema {
  const config = built.toConfig();
  const types = config.types.filter((type) => !LIVE_ONLY_TYPES.has(type.name));
  const schema = lexicographicSortSchema(new GraphQLSchema({ ...config, subscription: null, types }));
  const sdl = printSubgraphSchema(schema);
  schema.getQueryType()!.getFields()._service!.resolve = () => ({ sdl });
  return schema;
}

/** The same types as a Federation 2 subgraph (`_service`, `_entities`, `@key`), served to routers only. */
export const subgraphSchema = withoutSubscriptions(
  builder.toSubGraphSchema({
    sortSchema: true,
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key', '@shareable'],
  }),
);
answerUnknownEntityTypes(subgraphSchema);

const withForeignNodes = new Map<string, GraphQLSchema>([['', subgraphSchema]]);

/**
 * The subgraph schema with the Node types of other subgraphs (`SUBGRAPH_NODE_TYPES`) declared as entity stubs
 * `type Note implements Node @key(fields: "id", resolvable: false) { id: ID! }`, so that this subgraph's
 * shared `node`/`nodes` can answer their ids with references (node.ts) and the router fetches the rest from
 * the subgraph that owns each type (Federation 2, "Referencing an entity without contributing fields").
 * Without names it is `subgraphSchema`, whose SDL is committed as subgraph.graphql.
 */
export function subgraphSchemaWith(nodeTypes: readonly string[]): GraphQLSchema {
  const key = [...nodeTypes].sort().join(',');
  const known = withForeignNodes.get(key);
  if (known) return known;
  const node = subgraphSchema.getType('Node');
  if (!isInterfaceType(node)) throw new Error('The subgraph schema has no Node interface.');
  const stubs = [...new Set(nodeTypes)].map((name) => {
    if (!/^[A-Z_a-z]\w*$/.test(name) || name.startsWith('__')) {
      throw new ConfigError('SUBGRAPH_NODE_TYPES', `"${name}" is not a GraphQL type name`);
    }
    if (subgraphSchema.getType(name)) {
      const problem = `"${name}" is a type of this gateway already; list other subgraphs' types only`;
      throw new ConfigError('SUBGRAPH_NODE_TYPES', problem);
    }
    const description = `A Node of another subgraph, which resolves its fields; listed in SUBGRAPH_NODE_TYPES.`;
    const idDescription = 'The global id the other subgraph issued.';
    const sdl =
      `"""${description}"""\ntype ${name} implements Node @key(fields: "id", resolvable: false) ` +
      `{\n  """${idDescription}"""\n  id: ID!\n}`;
    return new GraphQLObjectType({
      name,
      description,
      interfaces: [node],
      fields: { id: { type: new GraphQLNonNull(GraphQLID), description: idDescription } },
      // printSubgraphSchema prints directives from the AST node, as for the types Pothos builds.
      astNode: parse(sdl).definitions[0] as ObjectTypeDefinitionNode,
      extensions: { [FOREIGN_NODE]: true },
    });
  });
  const config = subgraphSchema.toConfig();
  const schema = lexicographicSortSchema(new GraphQLSchema({ ...config, types: [...config.types, ...stubs] }));
  // `_service { sdl }` must describe this schema, stubs included: it is what routers compose.
  const sdl = printSubgraphSchema(schema);
  const service = schema.getQueryType()!.getFields()._service!;
  service.resolve = () => ({ sdl });
  withForeignNodes.set(key, schema);
  return schema;
}
