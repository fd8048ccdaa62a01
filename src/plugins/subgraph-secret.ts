/** Lets only callers that present the shared secret (`SUBGRAPH_SECRET`) reach the subgraph endpoint: the router. */
import { timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

export function useSubgraphSecret(secret: string): Plugin {
  const expected = Buffer.from(secret);
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const given = Buffer.from(request.headers.get('x-subgraph-secret') ?? '');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({
            errors: [
              { message: 'This endpoint is for the federation router only.', extensions: { code: 'UNAUTHENTICATED' } },
            ],
          }),
          { status: 401, headers: { 'content-type': 'application/json', 'cache-control': 'private, no-store' } },
        ),
      );
    },
  };
}
