/**
 * What a GraphQL request must pass before it may cost an upstream request: a body-size cap and a JSON
 * body, a document length, token, depth, alias and directive limits (graphql-armor), a root-field limit,
 * a cap on the ids looked up one by one (`node`, `nodes`, `_entities`), and a cost limit that grows with
 * `first`/`last` and with those ids. Every rejection carries `extensions.code`
 * `QUERY_LIMIT_EXCEEDED` (with `limit` naming which one) or a 4xx HTTP status; defaults follow
 * reliability.md §1.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createComplexityRule } from '@pothos/plugin-complexity';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  type GraphQLField,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  validate,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export interface QueryLimits {
  /** Fixed (config.ts `FIXED`): request body bytes. 262144 */
  maxRequestBytes: number;
  /** Fixed: characters of the document. 15000 */
  maxQueryLength: number;
  /** Fixed: tokens of the document. 1000 */
  maxTokens: number;
  /** Fixed: nesting of fields, fragments flattened. 6 */
  maxDepth: number;
  /** Fixed: aliases. 10 */
  maxAliases: number;
  /** Fixed: directives. 10 */
  maxDirectives: number;
  /** Fixed: top-level fields of one operation. 5 */
  maxRootFields: number;
  /**
   * `MAX_QUERY_COST`: one per field, multiplied by the page size under `calls` (a page of 100 with every field
   * costs about 3,300) and by the ids under `nodes` and `_entities`. @default 5000
   */
  maxCost: number;
  /**
   * `MAX_LOOKUP_IDS`: ids one operation may look up through `node`, `nodes` and `_entities` together;
   * each id is one upstream request, and the upstream allows an API key 100 a minute. @default 100
   */
  maxLookupIds: number;
}

/**
 * A limit refusal: nothing executes, so there is no `data`, and GraphQL over HTTP answers 400 under
 * `application/graphql-response+json` (200 under `application/json`: yoga's `spec` flag).
 */
const limitError = (limit: string, message: string) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit, http: { status: 400, spec: true } } });

/** Gives armor's rejections (plain GraphQLErrors) our stable code; armor hands us the error object. */
const tag = (limit: string) => ({
  onReject: [
    (_context: unknown, error: GraphQLError) => {
      Object.assign(error.extensions, { code: 'QUERY_LIMIT_EXCEEDED', limit });
    },
  ],
});

/** Root fields of each operation, through fragments; `__typename` is free. */
export function maxRootFieldsRule(max: number): ValidationRule {
  return (context) => ({
    OperationDefinition(node: OperationDefinitionNode) {
      const names = new Set<string>();
      const visit = (selections: OperationDefinitionNode['selectionSet']['selections'], seen: Set<string>) => {
        for (const selection of selections) {
          if (selection.kind === Kind.FIELD) {
            if (selection.name.value !== '__typename') names.add(selection.alias?.value ?? selection.name.value);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            visit(selection.selectionSet.selections, seen);
          } else if (!seen.has(selection.name.value)) {
            seen.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) visit(fragment.selectionSet.selections, seen);
          }
        }
      };
      visit(node.selectionSet.selections, new Set());
      if (names.size > max) context.reportError(limitError('rootFields', `The operation selects ${names.size} root fields; at most ${max} are allowed.`));
    },
  });
}

async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const tooLarge = (maxBytes: number) =>
  createGraphQLError(`The request body is larger than ${maxBytes} bytes.`, {
    extensions: { code: 'REQUEST_TOO_LARGE', http: { status: 413 } },
  });

/**
 * Caps the body before anything parses it (yoga's JSON parser has no cap) and accepts only JSON
 * bodies on POST: the GraphQL-over-HTTP media types. Form and text bodies are what CSRF abuses.
 */
export function useRequestBodyLimit(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') return;
      const declared = Number(request.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
      const type = (request.headers.get('content-type') ?? '').toLowerCase();
      if (!/^application\/(json|graphql\+json|graphql-response\+json)\b/.test(type)) {
        throw createGraphQLError('POST bodies must be JSON (Content-Type: application/json).', {
          extensions: { code: 'BAD_REQUEST', http: { status: 415 } },
        });
      }
      setRequestParser(async (req) => {
        const text = await readLimited(req.body, maxBytes);
        try {
          return JSON.parse(text);
        } catch {
          throw createGraphQLError('The POST body is not valid JSON.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
      });
    },
  };
}

/**
 * Operation Type Existence (graphql-spec#955, in the spec draft; graphql-js 17 ships it as
 * KnownOperationTypesRule): an operation whose root type the schema lacks is invalid. graphql 16 lets
 * `mutation { … }` and `subscription { … }` through validation on this query-only schema, and execution
 * then failed: 200 with no data and no code, or a 500 from graphql-jit. Refused as a validation error, they
 * get yoga's 400 under `application/graphql-response+json` (GraphQL over HTTP, "Validation") and nothing runs.
 */
export const operationTypeExistsRule: ValidationRule = (context) => ({
  OperationDefinition(node: OperationDefinitionNode) {
    if (context.getSchema().getRootType(node.operation)) return;
    context.reportError(
      new GraphQLError(`This API has no ${node.operation}s: the schema defines only queries.`, {
        nodes: node,
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      }),
    );
  },
});

/** graphql-js's `didYouMean` text, appended to a message: names only, so no `?` inside. */
const SUGGESTION = / Did you mean [^?]*\?/g;

/** A message without its "Did you mean …?" hints. */
export function stripSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/**
 * With introspection off, the schema's names must not leak through hints either. graphql-js suggests
 * fields, arguments, types, input fields and enum values, in validation and in variable coercion;
 * armor's blockFieldSuggestion matches only `Did you mean "…"?` (not `Did you mean the enum value "…"?`)
 * and only validation. So the hints are removed from every error of every result, whatever raised it.
 */
const hideSuggestionsPlugin: Plugin = {
  onExecutionResult({ result, setResult }) {
    if (!result || Array.isArray(result) || !('errors' in result)) return;
    if (!result.errors?.some((error) => error.message.includes(' Did you mean '))) return;
    setResult({
      ...result,
      errors: result.errors.map((error) => {
        const message = stripSuggestions(error.message);
        if (message === error.message) return error;
        return new GraphQLError(message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          originalError: error.originalError,
          extensions: error.extensions,
        });
      }),
    });
  },
};

/**
 * graphql-armor's document limits plus length and root-field limits, the operation-type rule and, with
 * introspection off, no suggestions; these depend only on the document. The length is checked on the
 * request's parameters, before parsing: armor's own character-limit plugin replaces the parse function
 * just as its token limit does, and only one of the two would run.
 */
export function useDocumentLimits(limits: QueryLimits, hideSuggestions: boolean): Plugin[] {
  return [
    {
      onParams({ params }) {
        const length = params.query?.length ?? 0;
        if (length > limits.maxQueryLength) {
          throw createGraphQLError(`The document has ${length} characters; at most ${limits.maxQueryLength} are allowed.`, {
            extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'length', http: { status: 400 } },
          });
        }
      },
    },
    EnvelopArmorPlugin({
      maxTokens: { n: limits.maxTokens, ...tag('tokens') },
      maxDepth: { n: limits.maxDepth, flattenFragments: true, ...tag('depth') },
      maxAliases: { n: limits.maxAliases, ...tag('aliases') },
      maxDirectives: { n: limits.maxDirectives, ...tag('directives') },
      // The cost is ours (below): armor's cost limit cannot see `first`/`last`.
      costLimit: { enabled: false },
      // Ours covers every hint (hideSuggestionsPlugin); armor's would leave "[Suggestion hidden]" behind.
      blockFieldSuggestion: { enabled: false },
    }) as Plugin,
    {
      onValidate({ addValidationRule }) {
        addValidationRule(operationTypeExistsRule);
        addValidationRule(maxRootFieldsRule(limits.maxRootFields));
      },
    },
    ...(hideSuggestions ? [hideSuggestionsPlugin] : []),
  ];
}

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
export function countLookupIds(
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
  const field = schema.getQueryType()?.getFields()['_entities'];
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
      if (!byVariables) verdicts.set(args.document, (byVariables = new Map()));
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
