/**
 * Every failure the gateway means to tell a client about is one of these classes. Each carries a stable
 * public `code` and a public `message` that never contains an upstream URL, body, header or token; the
 * original failure stays in `cause` for logs. `maskError` in server.ts turns them into GraphQL errors.
 * This module imports nothing so that every layer may throw these.
 */
export abstract class GatewayError extends Error {
  abstract readonly code: string;
  /** Extra public fields for `extensions` (never upstream text unless sanitised by the thrower). */
  readonly details: Record<string, unknown>;

  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

/** Our own argument validation, or the upstream's 422 with its per-field messages. */
export class BadUserInputError extends GatewayError {
  readonly code = 'BAD_USER_INPUT';
}

/** No bearer credential, or the upstream refused it (401, 403, or a redirect to its login page). */
export class UnauthenticatedError extends GatewayError {
  readonly code = 'UNAUTHENTICATED';
}

/**
 * The upstream answered 429, or this key's upstream budget cannot serve the request within its deadline
 * (the scheduler refuses it before it is sent); `retryAfter` is in seconds when known.
 */
export class UpstreamRateLimitedError extends GatewayError {
  readonly code = 'UPSTREAM_RATE_LIMITED';
  constructor(
    readonly retryAfter: number | null,
    options: { cause?: unknown; message?: string } = {},
  ) {
    super(options.message ?? 'The upstream API rate-limited this API key; retry later.', {
      cause: options.cause,
      details: retryAfter === null ? {} : { retryAfter },
    });
  }
}

/** The upstream did not answer within the deadline. */
export class UpstreamTimeoutError extends GatewayError {
  readonly code = 'UPSTREAM_TIMEOUT';
}

/** The upstream answered 5xx or could not be reached. */
export class UpstreamUnavailableError extends GatewayError {
  readonly code = 'UPSTREAM_UNAVAILABLE';
}

/** The upstream answered with something that is not the documented JSON (or a record we cannot identify). */
export class UpstreamBadResponseError extends GatewayError {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
}
