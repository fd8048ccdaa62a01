/**
 * The subgraph endpoint serves routers, which POST (README, Federation; issue 11 item 10): anything else gets
 * 405 with `Allow: POST` and a GraphQL error body with a stable `extensions.code`, before anything parses or runs.
 */
import type { Plugin } from 'graphql-yoga';

/** 405 with `Allow: POST` for any other method (the subgraph endpoint); nothing is parsed or executed. */
export function usePostOnly(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method === 'POST') return;
      const error = { message: 'This endpoint accepts POST only.', extensions: { code: 'METHOD_NOT_ALLOWED' } };
      const body = { errors: [error] };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 405,
          headers: { allow: 'POST', 'content-type': 'application/json', 'cache-control': 'private, no-store' },
        }),
      );
    },
  };
}
