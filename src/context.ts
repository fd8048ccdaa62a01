/**
 * What every resolver gets. Built fresh for each GraphQL request by `createContext`; the long-lived
 * parts (the upstream client, the logger) are passed in from server.ts and only shared read-only.
 */
import type { Logger } from 'pino';
import type { SizeLimits } from './pagination/arguments.js';
import type { UpstreamClient } from './upstream/client.js';
import { createLoaders, type Loaders } from './upstream/loaders.js';
import type { NormalizeOptions } from './upstream/normalize.js';

export interface GatewayContext {
  loaders: Loaders;
  cursorSecret: string;
  pageSizes: SizeLimits;
  logger: Logger;
}

export interface ContextDependencies {
  client: UpstreamClient;
  logger: Logger;
  cursorSecret: string;
  pageSizes: SizeLimits;
  normalize: NormalizeOptions;
  callConcurrency: number;
}

/** `Authorization: Bearer <token>` -> token; anything else -> null (the resolvers then answer UNAUTHENTICATED). */
export function bearerToken(header: string | null): string | null {
  const match = header ? /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

export function createContext(deps: ContextDependencies, request: { headers: Headers; signal?: AbortSignal }): GatewayContext {
  const token = bearerToken(request.headers.get('authorization'));
  return {
    loaders: createLoaders({
      client: deps.client,
      token,
      normalize: deps.normalize,
      callConcurrency: deps.callConcurrency,
      signal: request.signal,
      onWarnings: (warnings) => deps.logger.warn({ warnings }, 'repaired malformed upstream values'),
    }),
    cursorSecret: deps.cursorSecret,
    pageSizes: deps.pageSizes,
    logger: deps.logger,
  };
}
