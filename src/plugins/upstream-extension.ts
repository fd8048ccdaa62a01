/**
 * `extensions.upstream` on every GraphQL response, when `UPSTREAM_DEBUG_EXTENSION=true` (never in
 * production): what the operation cost the caller's upstream budget. For people exploring in GraphiQL
 * and for tests; the same figures reach logs and metrics without it.
 *
 *   "extensions": { "upstream": { "requests": 1, "cacheHits": 2, "queuedMs": 0 } }
 */
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';

export function useUpstreamExtension(): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const { usage } = (args.contextValue as GatewayContext).loaders;
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              upstream: { requests: usage.requests, cacheHits: usage.cacheHits, queuedMs: Math.round(usage.queuedMs) },
            },
          });
        },
      };
    },
  };
}
