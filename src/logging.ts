/**
 * Structured logs (pino) that never carry a credential: header paths are redacted by name, and every
 * serialised line is scrubbed of `Bearer …` values and `authorization`/`x-subgraph-secret` fields in any
 * casing, which also covers tokens quoted inside error messages and stacks. One line per request says
 * who asked what (request id, operation), how long it took and how many upstream requests it cost.
 */
import { randomUUID } from 'node:crypto';
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import type { Plugin, YogaLogger } from 'graphql-yoga';
import { type Logger, pino } from 'pino';
import type { ServerContext } from './context.js';
import { GatewayError } from './errors.js';

/** pino redact paths are case-sensitive, hence both spellings. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'authorization',
  'Authorization',
  'token',
];

const BEARER = /(bearer)(\s|\\[nrt]|%20|\+)+[^\s"',;\\]+/gi;
const SECRET_FIELD = /("(?:authorization|x-subgraph-secret|proxy-authorization|cookie)"\s*:\s*")((?:[^"\\]|\\.)*)"/gi;

/** Removes credentials from one serialised log line. */
export function scrubSecrets(line: string): string {
  return line.replace(BEARER, '$1 [redacted]').replace(SECRET_FIELD, '$1[redacted]"');
}

/**
 * Without a destination, logs go to stdout through an asynchronous, buffered writer (a log line per
 * request written synchronously cost about 7% of a small query's CPU); call `logger.flush()` before exit.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    hooks: { streamWrite: scrubSecrets },
  };
  return pino(options, (destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 })) as never);
}

/**
 * Where an error that maskError shows to the client is logged. The caller's own mistakes (bad arguments
 * or ids, no or a refused credential, a spent budget) at info; the upstream's failures at warn: neither
 * is the gateway's fault, and a stack says nothing about them. Unknown codes are warnings.
 */
const LEVEL_BY_CODE = new Map<string, 'info' | 'warn'>([
  ['BAD_USER_INPUT', 'info'],
  ['UNAUTHENTICATED', 'info'],
  ['QUERY_LIMIT_EXCEEDED', 'info'],
  ['UPSTREAM_RATE_LIMITED', 'info'],
  // A live stream telling its client to read the list again: expected, not a fault.
  ['LIVE_RESYNC', 'info'],
  ['UPSTREAM_TIMEOUT', 'warn'],
  ['UPSTREAM_UNAVAILABLE', 'warn'],
  ['UPSTREAM_BAD_RESPONSE', 'warn'],
]);

/**
 * The public code of an error maskError passes on with its own message (the same test as maskError's:
 * a GraphQLError around a GatewayError or a Pothos argument error), or null for everything it masks.
 */
function publicCodeOf(error: unknown): string | null {
  if (!(error instanceof GraphQLError)) return null;
  const original = error.originalError;
  if (original instanceof GatewayError) return original.code;
  return original instanceof PothosValidationError ? 'BAD_USER_INPUT' : null;
}

/**
 * yoga's logger interface on top of pino. yoga logs at error every error that maskError replaces, which
 * includes the GatewayErrors we mean to show: those go at info or warn (LEVEL_BY_CODE) as code, public
 * message and path, without a stack. Error level is left to what is masked as INTERNAL_SERVER_ERROR, the
 * gateway's own faults; those keep their stack, which the scrub also covers.
 */
export function yogaLogging(logger: Logger): YogaLogger {
  return {
    debug: (...args) => logger.debug({ args }, 'yoga'),
    info: (...args) => logger.info({ args }, 'yoga'),
    warn: (...args) => logger.warn({ args }, 'yoga'),
    error: (...args) => {
      const [only] = args;
      const code = args.length === 1 ? publicCodeOf(only) : null;
      if (code) {
        const { message, path } = only as GraphQLError;
        logger[LEVEL_BY_CODE.get(code) ?? 'warn']({ code, error: message, path }, 'request error');
        return;
      }
      const err = args.find((a) => a instanceof Error);
      logger.error({ err, args: args.filter((a) => !(a instanceof Error)) }, 'yoga error');
    },
  };
}

/** What the request log line says about one request; kept on the request's server context (src/context.ts). */
export interface RequestLog {
  requestId: string;
  started: number;
  operationName: string | null;
  /** Counted by the context's loaders as they send upstream requests. */
  upstreamRequests: number;
}

/**
 * The operation a request names: `operationName`, else the name of the document's first operation.
 * Read from the parameters, before parsing, so that logs, metrics and traces agree even for requests
 * that never get as far as execution.
 */
export function operationNameOf(params: { operationName?: string | null; query?: string | null }): string | null {
  return (
    params.operationName ??
    /(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(params.query ?? '')?.[1] ??
    null
  );
}

/** An incoming `X-Request-Id` is kept when it looks like an id; otherwise one is made up. */
function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

export function useRequestLogging(logger: Logger): Plugin<Record<string, unknown>, ServerContext> {
  return {
    onRequest({ request, serverContext }) {
      serverContext.requestLog = {
        requestId: requestIdOf(request),
        started: performance.now(),
        operationName: null,
        upstreamRequests: 0,
      };
    },
    onParams({ params, context }) {
      if (context.requestLog) context.requestLog.operationName = operationNameOf(params);
    },
    onResponse({ request, response, serverContext }) {
      const log = serverContext.requestLog;
      if (!log) return;
      response.headers.set('x-request-id', log.requestId);
      const path = new URL(request.url).pathname;
      logger[path === '/health' ? 'debug' : 'info'](
        {
          requestId: log.requestId,
          method: request.method,
          path,
          status: response.status,
          operationName: log.operationName,
          durationMs: Math.round((performance.now() - log.started) * 100) / 100,
          upstreamRequests: log.upstreamRequests,
        },
        'request',
      );
    },
  };
}
