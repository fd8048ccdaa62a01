/**
 * CSRF prevention (issue 11 item 15) is yoga's own check (`@graphql-yoga/plugin-csrf-prevention`: a GET or a
 * non-JSON POST must carry a header a browser cannot send without a preflight). Its 403 has no code, so its
 * error is rethrown with `CSRF_REQUIRED`, and the header the GraphQL-over-HTTP draft suggests,
 * `GraphQL-Require-Preflight`, is accepted beside yoga's and Apollo's.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** Headers that prove a preflight happened (lower case, as CORS `allowedHeaders` lists them too). */
export const CSRF_HEADERS = ['graphql-require-preflight', 'x-graphql-yoga-csrf', 'apollo-require-preflight'] as const;

/** yoga's CSRF prevention, answering 403 with `extensions.code: CSRF_REQUIRED`. */
export function useCsrfPrevention(): Plugin {
  const check = useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] }).onRequestParse!;
  return {
    onRequestParse(payload) {
      try {
        return check(payload);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        throw createGraphQLError(
          'This request needs a GraphQL-Require-Preflight (or X-GraphQL-Yoga-CSRF) header with any value, ' +
            'or a POST with Content-Type: application/json.',
          { extensions: { code: 'CSRF_REQUIRED', http: { status: 403 } } },
        );
      }
    },
  };
}
