/**
 * What a document must pass before anything runs: length, token, depth, alias and directive limits
 * (graphql-armor), a root-field limit, operation types the schema has, and, with introspection off, no
 * "Did you mean" hints. Every refusal carries `extensions.code` `QUERY_LIMIT_EXCEEDED` with `limit` naming
 * which one; the values are ../shared/docs/reliability.md §1's (config.ts `FIXED.limits`).
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, type OperationDefinitionNode, type ValidationRule } from 'graphql';
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
export const limitError = (limit: string, message: string) =>
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
function maxRootFieldsRule(max: number): ValidationRule {
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
      if (names.size > max)
        context.reportError(
          limitError('rootFields', `The operation selects ${names.size} root fields; at most ${max} are allowed.`),
        );
    },
  });
}

/**
 * Operation Type Existence (graphql-spec#955, in the spec draft; graphql-js 17 ships it as
 * KnownOperationTypesRule): an operation whose root type the schema lacks is invalid. graphql 16 lets
 * `mutation { … }` and `subscription { … }` through validation on this query-only schema, and execution
 * then failed: 200 with no data and no code, or a 500 from graphql-jit. Refused as a validation error, they
 * get yoga's 400 under `application/graphql-response+json` (GraphQL over HTTP, "Validation") and nothing runs.
 */
const operationTypeExistsRule: ValidationRule = (context) => ({
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
function stripSuggestions(message: string): string {
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
          throw createGraphQLError(
            `The document has ${length} characters; at most ${limits.maxQueryLength} are allowed.`,
            {
              extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'length', http: { status: 400 } },
            },
          );
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
