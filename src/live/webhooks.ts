/**
 * `POST /webhooks/calls/<secret>` (issue 12, item 4): the platform's webhooks as hints. Famulor's post-call
 * webhook is unsigned and fires per assistant with the call's id as `id` (D-misc `webhooks/post-call.mdx`,
 * ../shared/docs/upstream-contract.md §0), so the only credential is the secret in the URL (`WEBHOOK_KEYS`, or
 * `WEBHOOK_SECRET` in single-tenant mode), and nothing in the body is believed: the call is read again with
 * the API key the secret maps to (`GET /user/calls/{id}`, interactive priority, through the key's scheduler),
 * and the event is made from that answer (hub.ts `hint`). A call the key cannot read (404) makes no event,
 * and repeated deliveries of an unchanged call make one (the snapshot remembers its fingerprint).
 *
 * The conversation-ended webhook is accepted too, but it names a chat conversation (WhatsApp or web widget):
 * its `id` is the conversation's number and `conversation_id` its UUID, neither of them a call in
 * `/user/calls` (D-misc `webhooks/conversation-ended.mdx`). Reading `/user/calls/{id}` with it would read an
 * unrelated call, so it is answered 202 `ignored` with no upstream request.
 *
 * Served outside yoga, so that the secret in the path reaches no request log, trace or metric label. Answers:
 * 404 for an unknown secret (the body is not read), 405 for another method, 413 over `maxBytes`, 400 for a
 * body that is not a JSON object naming a call, 422 when the key cannot read the call, 503 (with
 * `Retry-After` when known) when the upstream or the key's budget cannot serve the re-read now, 502 when the
 * upstream refuses the mapped key or answers nonsense. The body says `status` and, on failure, a stable `code`;
 * it never carries upstream text, the secret or the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GatewayError, UnauthenticatedError, UpstreamBadResponseError, UpstreamRateLimitedError } from '../errors.js';
import type { HintOutcome, LiveHub } from './hub.js';

const WEBHOOK_PATH_PREFIX = '/webhooks/calls/';

/** Webhook bodies larger than this are refused (a post-call payload with a long transcript is a few KiB). */
const WEBHOOK_MAX_BYTES = 64 * 1024;

export interface WebhookEndpointOptions {
  /** Secret -> API key (config `webhookKeys`). */
  keys: ReadonlyMap<string, string>;
  hub: LiveHub;
  logger: Logger;
  /** @default WEBHOOK_MAX_BYTES */
  maxBytes?: number;
}

export interface WebhookEndpoint {
  /** Whether a request path is for this endpoint. */
  matches(pathname: string): boolean;
  /** Fetch API entry (in-process tests and `Gateway.fetch`). */
  fetch(request: Request): Promise<Response>;
  /** Node entry (`Gateway.handle`). */
  handle(request: IncomingMessage, response: ServerResponse): void;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** The call the webhook named, for the log line. */
  callId?: number;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

const refusal = (status: number, code: string, message: string, headers?: Record<string, string>): Answer => ({
  status,
  body: { status: 'refused', error: { code, message } },
  headers,
});

/** The call a post-call payload names: its `id` (or `call_id`), a positive integer or its decimal text. */
function callIdOf(payload: Record<string, unknown>): number | null {
  for (const value of [payload.id, payload.call_id]) {
    const id = typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : value;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return id;
  }
  return null;
}

export function createWebhookEndpoint(options: WebhookEndpointOptions): WebhookEndpoint {
  const maxBytes = options.maxBytes ?? WEBHOOK_MAX_BYTES;
  // Compared as digests in constant time: neither timing nor length tells how close a guess was.
  const known = [...options.keys].map(([secret, token]) => ({ secret: digest(secret), token }));
  const tokenFor = (secret: string): string | null => {
    const given = digest(secret);
    let token: string | null = null;
    for (const entry of known) if (timingSafeEqual(entry.secret, given)) token = entry.token;
    return token;
  };

  const outcomeAnswer = (outcome: HintOutcome): Answer => {
    if (outcome.outcome === 'published')
      return { status: 200, body: { status: 'published', kind: outcome.kind, eventId: outcome.id } };
    if (outcome.outcome === 'unchanged') return { status: 200, body: { status: 'unchanged' } };
    return refusal(
      422,
      'CALL_NOT_FOUND',
      'The API key this webhook maps to cannot read the call it names; nothing was published.',
    );
  };

  const errorAnswer = (error: unknown): Answer => {
    if (error instanceof UpstreamRateLimitedError) {
      const retry = error.retryAfter === null ? undefined : { 'retry-after': String(error.retryAfter) };
      return refusal(
        503,
        error.code,
        "The API key's upstream budget cannot re-read the call now; deliver again later.",
        retry,
      );
    }
    if (error instanceof UnauthenticatedError) {
      return refusal(502, error.code, 'The upstream API refused the API key this webhook maps to.');
    }
    if (error instanceof UpstreamBadResponseError)
      return refusal(502, error.code, 'The upstream API answered the re-read with something unusable.');
    if (error instanceof GatewayError)
      return refusal(503, error.code, 'The upstream API could not re-read the call now; deliver again later.');
    return refusal(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
  };

  /** Everything after the secret was found: method, size, shape, then the re-read. */
  const receive = async (
    token: string,
    method: string,
    length: number | null,
    read: () => Promise<string | null>,
  ): Promise<Answer> => {
    if (method !== 'POST')
      return refusal(405, 'METHOD_NOT_ALLOWED', 'Webhooks are delivered with POST.', { allow: 'POST' });
    if (length !== null && length > maxBytes)
      return refusal(413, 'REQUEST_TOO_LARGE', `A webhook body may have at most ${maxBytes} bytes.`);
    const text = await read();
    if (text === null) return refusal(413, 'REQUEST_TOO_LARGE', `A webhook body may have at most ${maxBytes} bytes.`);
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return refusal(400, 'WEBHOOK_MALFORMED', 'The body is not JSON.');
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      return refusal(400, 'WEBHOOK_MALFORMED', 'The body is not a JSON object.');
    }
    const fields = payload as Record<string, unknown>;
    if (typeof fields.conversation_id === 'string') {
      return {
        status: 202,
        body: { status: 'ignored', reason: 'A conversation-ended webhook names a chat conversation, not a call.' },
      };
    }
    const callId = callIdOf(fields);
    if (callId === null)
      return refusal(400, 'WEBHOOK_MALFORMED', 'The body names no call: a post-call payload has the call id as "id".');
    try {
      return { ...outcomeAnswer(await options.hub.hint(token, callId)), callId };
    } catch (error) {
      return { ...errorAnswer(error), callId };
    }
  };

  const log = (answer: Answer, started: number) => {
    const code = (answer.body.error as { code?: string } | undefined)?.code;
    const durationMs = Math.round(performance.now() - started);
    const line = {
      path: `${WEBHOOK_PATH_PREFIX}[secret]`,
      status: answer.status,
      outcome: answer.body.status,
      code,
      callId: answer.callId,
      durationMs,
    };
    options.logger.info(line, 'webhook');
  };

  const notFound: Answer = refusal(404, 'NOT_FOUND', 'Not found.');
  const secretOf = (pathname: string) => pathname.slice(WEBHOOK_PATH_PREFIX.length);
  const headersOf = (answer: Answer) => ({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'private, no-store',
    ...answer.headers,
  });

  return {
    matches: (pathname) => pathname.startsWith(WEBHOOK_PATH_PREFIX),

    async fetch(request) {
      const started = performance.now();
      const token = tokenFor(secretOf(new URL(request.url).pathname));
      let answer = notFound;
      if (token !== null) {
        const length = request.headers.get('content-length');
        answer = await receive(token, request.method, length === null ? null : Number(length), async () => {
          if (!request.body) return '';
          const reader = request.body.getReader();
          const chunks: Uint8Array[] = [];
          let size = 0;
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            size += value.byteLength;
            if (size > maxBytes) {
              await reader.cancel();
              return null;
            }
            chunks.push(value);
          }
          return Buffer.concat(chunks).toString('utf8');
        });
      }
      log(answer, started);
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: headersOf(answer) });
    },

    handle(request, response) {
      const started = performance.now();
      const token = tokenFor(secretOf(new URL(request.url ?? '/', 'http://gateway').pathname));
      const send = (answer: Answer, close = false) => {
        log(answer, started);
        response.writeHead(answer.status, { ...headersOf(answer), ...(close ? { connection: 'close' } : {}) });
        response.end(JSON.stringify(answer.body));
      };
      if (token === null) return send(notFound);
      const length = request.headers['content-length'];
      let tooLarge = false;
      void receive(
        token,
        request.method ?? 'GET',
        length === undefined ? null : Number(length),
        () =>
          new Promise<string | null>((resolve, reject) => {
            const chunks: Buffer[] = [];
            let size = 0;
            request.on('data', (chunk: Buffer) => {
              if (tooLarge) return;
              size += chunk.byteLength;
              if (size > maxBytes) {
                tooLarge = true;
                request.pause();
                resolve(null);
              } else chunks.push(chunk);
            });
            request.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
            request.on('error', reject);
          }),
      ).then(
        // The rest of a refused body is not read: the connection is closed instead.
        (answer) => send(answer, answer.status === 413),
        () => send(refusal(400, 'WEBHOOK_MALFORMED', 'The body could not be read.'), true),
      );
    },
  };
}
