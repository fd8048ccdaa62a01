/**
 * GraphiQL on `GET /graphql` (`GRAPHIQL`): the example operation it opens with, and the header editor
 * prefilled with an Authorization header (the demo fills in its token).
 */
import type { YogaServerOptions } from 'graphql-yoga';

export const EXAMPLE_QUERY = `# Press ▶ (Ctrl-Enter) to run. The API key in the
# Authorization header below is forwarded upstream.
query RecentCalls($after: String) {
  calls(first: 5, after: $after, filter: { status: COMPLETED }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        callId
        assistantName
        status
        durationSeconds
        totalCost
        createdAt
        transcript { sender text offsetSeconds }
        evaluation { name type value }
      }
    }
  }
}
`;

type GraphiQLSettings = Pick<YogaServerOptions<object, object>, 'graphiql' | 'renderGraphiQL'>;

/** yoga's `graphiql` and `renderGraphiQL` options; GraphiQL off when `enabled` is false. */
export function graphiqlSettings(enabled: boolean, headers: Record<string, string> | undefined): GraphiQLSettings {
  if (!enabled) return { graphiql: false };
  return {
    graphiql: {
      title: 'Calls gateway',
      defaultQuery: EXAMPLE_QUERY,
      headers: JSON.stringify(headers ?? { Authorization: 'Bearer <your API key>' }, null, 2),
      shouldPersistHeaders: false,
      // Subscriptions too (its fetcher would GET them, which CSRF prevention refuses): POST over SSE.
      method: 'POST',
    },
    // The bundled GraphiQL (no CDN) holds 47 MB of assets: loaded on the first GraphiQL request only.
    renderGraphiQL: async (graphiql) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiql),
  };
}
