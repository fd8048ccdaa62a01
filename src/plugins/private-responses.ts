/**
 * Every response may carry one caller's calls, so no shared cache (CDN, router response cache) may
 * keep it: Apollo Router caches responses without `private` for all users (../shared/docs/reliability.md §3).
 */
import type { Plugin } from 'graphql-yoga';

export function usePrivateResponses(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('cache-control', 'private, no-store');
    },
  };
}
