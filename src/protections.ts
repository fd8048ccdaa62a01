/**
 * What a GraphQL request must pass before it may cost an upstream request: a body-size cap and a JSON
 * body, a document length, token, depth, alias and directive limits (graphql-armor), a root-field limit,
 * and a cost limit that grows with `first`/`last`. Every rejection carries `extensions.code`
 * `QUERY_LIMIT_EXCEEDED` (with `limit` naming which one) or a 4xx HTTP status; defaults follow
 * reliability.md §1.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createComplexityRule } from '@pothos/plugin-complexity';
import { GraphQLError, Kind, type OperationDefinitionNode, type ValidationRule, validate } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export interface QueryLimits {
  /** `MAX_REQUEST_BYTES`. @default 262144 */
  maxRequestBytes: number;
  /** `MAX_QUERY_LENGTH`: characters of the document. @default 15000 */
  maxQueryLength: number;
  /** `MAX_QUERY_TOKENS`. @default 1000 */
  maxTokens: number;
  /** `MAX_QUERY_DEPTH`: nesting of fields, fragments flattened. @default 6 */
  maxDepth: number;
  /** `MAX_QUERY_ALIASES`. @default 10 */
  maxAliases: number;
  /** `MAX_QUERY_DIRECTIVES`. @default 10 */
  maxDirectives: number;
  /** `MAX_ROOT_FIELDS`: top-level fields of one operation. @default 5 */
  maxRootFields: number;
  /** `MAX_QUERY_COST`: one per field, multiplied by the page size under `calls` (a page of 100 with every field costs about 3,300). @default 5000 */
  maxCost: number;
}

const limitError = (limit: string, message: string) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit } });

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
 * graphql-armor's document limits plus length and root-field limits; these depend only on the document.
 * The length is checked on the request's parameters, before parsing: armor's own character-limit plugin
 * replaces the parse function just as its token limit does, and only one of the two would run.
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
      blockFieldSuggestion: { enabled: hideSuggestions },
    }) as Plugin,
    {
      onValidate({ addValidationRule }) {
        addValidationRule(maxRootFieldsRule(limits.maxRootFields));
      },
    },
  ];
}

/**
 * The cost limit runs per request, just before execution, because the cost depends on the variables
 * (`first: $n`); as a cached validation rule one request's verdict would be reused for another's.
 * Verdicts are remembered per parsed document (yoga hands out the same object for the same text) and
 * per operation name and variables, which spares repeated operations the walk.
 */
export function useCostLimit(maxCost: number): Plugin {
  const verdicts = new WeakMap<object, Map<string, readonly GraphQLError[]>>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let byVariables = verdicts.get(args.document);
      if (!byVariables) verdicts.set(args.document, (byVariables = new Map()));
      const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
      let errors = byVariables.get(key);
      if (!errors) {
        errors = validate(args.schema, args.document, [
          createComplexityRule({
            context: args.contextValue as object,
            variableValues: (args.variableValues ?? {}) as Record<string, unknown>,
            operationName: args.operationName,
            validate: ({ complexity }, report) => {
              if (complexity > maxCost) {
                report(limitError('cost', `The operation costs ${complexity}; at most ${maxCost} is allowed. Ask for fewer items or fields.`));
              }
            },
          }),
        ]);
        if (byVariables.size >= 64) byVariables.delete(byVariables.keys().next().value!);
        byVariables.set(key, errors);
      }
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
