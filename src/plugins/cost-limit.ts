/**
 * The limits that grow with what a client asks for: the ids looked up one by one (`node`, `nodes`,
 * `_entities`; `MAX_LOOKUP_IDS`) and a cost that grows with `first`/`last` and with those ids
 * (`MAX_QUERY_COST`). Checked before anything runs, so a refused operation costs no upstream request.
 */
import { createComplexityRule } from '@pothos/plugin-complexity';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  validate,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitError, type QueryLimits } from './document-limits.js';

/**
 * The root fields that make one upstream request per id (`GET /user/calls/{id}`), and the argument that
 * holds the ids. A Map, so that a field named like an Object.prototype member cannot match.
 */
const LOOKUP_ARGUMENTS = new Map([
  ['node', 'id'],
  ['nodes', 'ids'],
  ['_entities', 'representations'],
]);

/** How many ids one occurrence of a lookup field names: none when execution will refuse its arguments. */
function idsOf(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  argument: string,
  variables: Record<string, unknown>,
): number {
  try {
    const value = getArgumentValues(field, node, variables)[argument];
    return Array.isArray(value) ? value.length : value == null ? 0 : 1;
  } catch {
    // e.g. a null variable for a non-null argument: that field fails at execution without fetching.
    return 0;
  }
}

/**
 * How many ids the operation looks up through `node(id:)`, `nodes(ids:)` and `_entities(representations:)`
 * together: through aliases, fragments and inline fragments, from literals and variables, coerced as
 * execution will coerce them (a single value given for a list is a list of one). Every occurrence counts,
 * even one that execution would merge with another or skip (@skip/@include): an overestimate only. Each
 * selection set is counted once and its count reused wherever it recurs, so fragments spread inside
 * fragments cannot make the walk exponential. Variables that do not coerce count nothing (useCostLimit
 * refuses such a request before counting).
 */
function countLookupIds(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variableValues: Record<string, unknown>,
): number {
  const operation = getOperationAST(document, operationName);
  const rootType = operation && schema.getRootType(operation.operation);
  if (!operation || !rootType) return 0;
  const variables = getVariableValues(schema, operation.variableDefinitions ?? [], variableValues);
  if (variables.errors) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const queryType = schema.getQueryType();
  const counted = new Map<SelectionSetNode, number>();
  const count = (selectionSet: SelectionSetNode, type: GraphQLNamedType): number => {
    const known = counted.get(selectionSet);
    if (known !== undefined) return known;
    // A fragment cycle (validation has refused it already) would count nothing rather than recurse.
    counted.set(selectionSet, 0);
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[selection.name.value] : undefined;
        if (!field) continue;
        const argument = type === queryType ? LOOKUP_ARGUMENTS.get(field.name) : undefined;
        if (argument) total += idsOf(field, selection, argument, variables.coerced);
        if (selection.selectionSet) total += count(selection.selectionSet, getNamedType(field.type));
      } else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        const condition = fragment?.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
        if (fragment && condition) total += count(fragment.selectionSet, condition);
      }
    }
    counted.set(selectionSet, total);
    return total;
  };
  return count(operation.selectionSet, rootType);
}

/**
 * Charges `_entities` like `nodes` (schema/node.ts): one upstream request, hence its selection, per
 * representation. @pothos/plugin-federation adds `_entities` from @apollo/subgraph's field config after
 * Pothos's plugins have run, so no `complexity` option can reach it, and the complexity walker charges a
 * list field without one ten times its selection whatever the number of representations. The option is
 * set once on the subgraph schema's own field; only the complexity walker reads it.
 */
function chargeEntitiesPerRepresentation(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field || field.extensions.complexity) return;
  field.extensions = {
    ...field.extensions,
    complexity: (args: { representations?: unknown }) => ({
      field: 1,
      multiplier: Array.isArray(args.representations) ? args.representations.length : 1,
    }),
  };
}

/**
 * A variable that does not coerce is a request error (GraphQL spec, "CoerceVariableValues()"): nothing
 * executes and the response has no `data`. GraphQL over HTTP asks for 400 under
 * `application/graphql-response+json` and 200 under legacy `application/json` ("Variable coercion
 * failure" examples; graphql-http audits 86EE and 7B9B): yoga's `http.spec` flag does exactly that, as
 * for its validation errors.
 */
const coercionError = (error: GraphQLError) =>
  new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { code: 'BAD_USER_INPUT', http: { status: 400, spec: true } },
  });

/**
 * The lookup cap and the cost limit run per request, just before execution, because both depend on the
 * variables (`ids: $ids`, `first: $n`); as a cached validation rule one request's verdict would be reused
 * for another's. The variables are coerced first, as execution would (GraphQL spec, "CoerceVariableValues()"):
 * a request whose variables fail gets those errors as request errors, never reaches the executor (graphql-jit
 * answers them with 200 and no code) and is not costed. Then the ids are counted with the coerced values:
 * past `maxLookupIds` nothing else is computed and nothing runs. Verdicts are remembered per parsed
 * document (yoga hands out the same object for the same text) and per operation name and variables,
 * which spares repeated operations the walk.
 */
export function useCostLimit(limits: Pick<QueryLimits, 'maxCost' | 'maxLookupIds'>): Plugin {
  const { maxCost, maxLookupIds } = limits;
  const verdicts = new WeakMap<object, Map<string, readonly GraphQLError[]>>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let byVariables = verdicts.get(args.document);
      if (!byVariables) {
        byVariables = new Map();
        verdicts.set(args.document, byVariables);
      }
      const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
      let errors = byVariables.get(key);
      if (!errors) {
        const variableValues = (args.variableValues ?? {}) as Record<string, unknown>;
        const operation = getOperationAST(args.document, args.operationName);
        // No operation at all: yoga refuses that when parsing (OPERATION_RESOLUTION_FAILURE), before this hook.
        const definitions = operation?.variableDefinitions ?? [];
        const coercion = operation && getVariableValues(args.schema, definitions, variableValues);
        const ids = coercion?.coerced
          ? countLookupIds(args.schema, args.document, args.operationName, variableValues)
          : 0;
        if (coercion?.errors) {
          errors = coercion.errors.map(coercionError);
        } else if (ids > maxLookupIds) {
          errors = [
            limitError(
              'lookupIds',
              `The operation looks up ${ids} ids through node, nodes and _entities; at most ${maxLookupIds} are ` +
                'allowed per operation (each is one upstream request).',
            ),
          ];
        } else {
          chargeEntitiesPerRepresentation(args.schema);
          errors = validate(args.schema, args.document, [
            createComplexityRule({
              context: args.contextValue as object,
              variableValues,
              operationName: args.operationName,
              validate: ({ complexity }, report) => {
                if (complexity > maxCost) {
                  const message = `The operation costs ${complexity}; at most ${maxCost} is allowed.`;
                  report(limitError('cost', `${message} Ask for fewer items or fields.`));
                }
              },
            }),
          ]);
        }
        if (byVariables.size >= 64) byVariables.delete(byVariables.keys().next().value!);
        byVariables.set(key, errors);
      }
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
