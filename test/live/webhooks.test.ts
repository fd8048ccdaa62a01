/**
 * Webhooks as hints (issue 12, item 4): `POST /webhooks/calls/<secret>` re-reads the call it names with the
 * API key the secret maps to and publishes one event from the upstream's answer, never from the payload;
 * an unknown secret, an oversized or malformed body, a call the key cannot read, a conversation-ended
 * payload: no event, a clear status, nothing leaked. Over `Gateway.fetch` and over a real socket
 * (`Gateway.handle`). The key's poller runs once (a baseline) and then not for ten minutes, so every event
 * here comes from a webhook.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SECOND_TENANT_TOKEN } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { newCall, openSse, type SseConnection, sleep, until } from './support.js';

const SECRET_A = 'hook-secret-demo-0123456789';
const SECRET_B = 'hook-secret-tenant-b-0123456789';
const URL = 'http://gateway.test/graphql';

let gw: TestGateway;
let server: Server;
let origin: string;
let subscriber: SseConnection;
beforeAll(async () => {
  gw = await startTestGateway({
    config: {
      livePollIntervalMs: 600_000,
      webhookKeys: new Map([
        [SECRET_A, DEMO_TOKEN],
        [SECRET_B, SECOND_TENANT_TOKEN],
      ]),
    },
  });
  server = createServer(gw.gateway.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  subscriber = await openSse(gw.gateway.fetch, URL);
  // The poller's first read (a baseline of the head) is done.
  await until(() => gw.upstream().some((r) => r.query.per_page === '100'), 10_000, 'the baseline poll');
  await sleep(50);
});
afterAll(async () => {
  subscriber?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await gw?.close();
});
afterEach(() => gw.simulator.setFaults(undefined));

const demo = () => gw.simulator.tenants.get(DEMO_TOKEN)!;
const callReads = (since: number) => gw.upstream().filter((r) => r.at >= since && /\/user\/calls\/\d+$/.test(r.path));

/** A post-call payload as Famulor sends it (D-misc `webhooks/post-call.mdx`), with data that is not true. */
const postCall = (id: number | string) => ({
  id,
  customer_phone: '+4915123456789',
  assistant_phone: '+4912345678',
  duration: 9_999,
  status: 'busy',
  extracted_variables: { summary: 'not what the upstream says' },
  input_variables: {},
  transcript: 'Assistant: forged\nCustomer: forged',
  recording_url: null,
  created_at: '2024-01-15T10:30:00Z',
  finished_at: '2024-01-15T10:33:00Z',
  lead: null,
  campaign: null,
});

async function deliver(secret: string, body: unknown, init: RequestInit = {}) {
  const response = await gw.gateway.fetch(`http://gateway.test/webhooks/calls/${secret}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the fields of its own answer
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

describe('webhooks', () => {
  it('re-reads the call with the mapped key, publishes CREATED from the answer in 1 s; repeats: nothing', async () => {
    const call = newCall({ status: 'completed', duration: 42 });
    demo().push(call);
    const before = subscriber.results().length;
    const started = Date.now();
    const answer = await deliver(SECRET_A, postCall(call.raw.id));
    expect(answer).toMatchObject({
      status: 200,
      body: { status: 'published', kind: 'CREATED', eventId: expect.any(String) },
    });
    const reads = callReads(started);
    expect(reads.map((r) => [r.path, r.authorization])).toEqual([
      [`/api/user/calls/${call.raw.id}`, `Bearer ${DEMO_TOKEN}`],
    ]);
    // Real time, with a generous bound: the re-read crosses a real socket and the event an SSE stream, and
    // no timer of the gateway is on that path (the poller is ten minutes away, so the event is the webhook's).
    const results = await subscriber.waitForResults(before + 1, 1_000);
    const event = results.at(-1)!;
    expect(event.sseId).toBe(answer.body.eventId);
    // The upstream's status, not the payload's "busy".
    expect(event.data?.callEvents).toMatchObject({
      kind: 'CREATED',
      call: { callId: call.raw.id, status: 'COMPLETED' },
    });

    for (let i = 0; i < 3; i++)
      expect((await deliver(SECRET_A, postCall(call.raw.id))).body).toEqual({ status: 'unchanged' });
    await sleep(300);
    expect(subscriber.results()).toHaveLength(before + 1);
  });

  it('publishes UPDATED for a call the snapshot knows once it changed upstream, once', async () => {
    // The newest call of the seeded head, which the baseline poll recorded.
    const known = [...demo()]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .find((c) => c.raw.id < 5_000_000)!;
    expect((await deliver(SECRET_A, postCall(known.raw.id))).body).toEqual({ status: 'unchanged' });
    const index = demo().indexOf(known);
    demo()[index] = { ...known, raw: { ...known.raw, status: 'failed', updated_at: '2026-11-20T10:00:00Z' } };
    const before = subscriber.results().length;
    const answers = await Promise.all([1, 2, 3].map(() => deliver(SECRET_A, { ...postCall(String(known.raw.id)) })));
    expect(answers.map((a) => a.body.status).sort()).toEqual(['published', 'unchanged', 'unchanged']);
    const results = await subscriber.waitForResults(before + 1, 1_000);
    expect(results.at(-1)!.data?.callEvents).toMatchObject({
      kind: 'UPDATED',
      call: { callId: known.raw.id, status: 'FAILED' },
    });
    await sleep(300);
    expect(subscriber.results()).toHaveLength(before + 1);
  });

  it('answers a call the key cannot read with 422 CALL_NOT_FOUND: no event, nothing of the call', async () => {
    const other = gw.simulator.tenants.get(SECOND_TENANT_TOKEN)![0]!;
    const before = subscriber.results().length;
    const started = Date.now();
    const answer = await deliver(SECRET_A, postCall(other.raw.id));
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ status: 'refused', error: { code: 'CALL_NOT_FOUND', message: expect.any(String) } });
    expect(JSON.stringify(answer.body)).not.toMatch(new RegExp(`${other.raw.assistant_name}|Call not found`));
    // One read, with the key the secret maps to, which cannot see tenant B's calls.
    expect(callReads(started).map((r) => r.authorization)).toEqual([`Bearer ${DEMO_TOKEN}`]);
    await sleep(300);
    expect(subscriber.results()).toHaveLength(before);
  });

  it('answers an unknown secret with 404 without reading anything', async () => {
    const started = Date.now();
    for (const secret of ['wrong-secret-0123456789', SECRET_A.slice(0, -1), `${SECRET_A}x`, '']) {
      const answer = await deliver(secret, postCall(demo()[0]!.raw.id));
      expect(answer.status, secret).toBe(404);
      expect(answer.body).toEqual({ status: 'refused', error: { code: 'NOT_FOUND', message: 'Not found.' } });
    }
    expect(gw.upstream().filter((r) => r.at >= started)).toEqual([]);
  });

  it.each([
    ['not JSON', '{"id": 1', 'WEBHOOK_MALFORMED'],
    ['an array', '[1, 2]', 'WEBHOOK_MALFORMED'],
    ['no call id', { status: 'completed' }, 'WEBHOOK_MALFORMED'],
    ['a negative id', { id: -4 }, 'WEBHOOK_MALFORMED'],
    ['an id that is no number', { id: 'abc' }, 'WEBHOOK_MALFORMED'],
  ])('answers %s with 400 and reads nothing', async (_name, body, code) => {
    const started = Date.now();
    const answer = await deliver(SECRET_A, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect(gw.upstream().filter((r) => r.at >= started)).toEqual([]);
  });

  it('answers a conversation-ended payload with 202 ignored: it names a chat, not a call', async () => {
    const started = Date.now();
    const answer = await deliver(SECRET_A, {
      id: demo()[0]!.raw.id,
      conversation_id: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890',
      type: 'widget',
      status: 'ended',
    });
    expect(answer).toMatchObject({ status: 202, body: { status: 'ignored' } });
    expect(gw.upstream().filter((r) => r.at >= started)).toEqual([]);
  });

  it('refuses a body over 64 KiB with 413, in process and over a socket, reading nothing upstream', async () => {
    const started = Date.now();
    const big = JSON.stringify({ ...postCall(demo()[0]!.raw.id), transcript: 'x'.repeat(70 * 1024) });
    expect((await deliver(SECRET_A, big)).status).toBe(413);
    const overSocket = await fetch(`${origin}/webhooks/calls/${SECRET_A}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(overSocket.status).toBe(413);
    expect(((await overSocket.json()) as { error: { code: string } }).error.code).toBe('REQUEST_TOO_LARGE');
    // A body sent in chunks without a length is cut off just the same.
    const chunked = await fetch(`${origin}/webhooks/calls/${SECRET_A}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(gw.upstream().filter((r) => r.at >= started)).toEqual([]);
  });

  it('works over a socket; other methods get 405; an unknown secret 404', async () => {
    const call = newCall();
    demo().push(call);
    const post = await fetch(`${origin}/webhooks/calls/${SECRET_A}`, {
      method: 'POST',
      body: JSON.stringify(postCall(call.raw.id)),
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ status: 'published', kind: 'CREATED' });
    const get = await fetch(`${origin}/webhooks/calls/${SECRET_A}`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${origin}/webhooks/calls/nope-nope-nope-nope`, { method: 'POST', body: '{}' })).status).toBe(
      404,
    );
  });

  it('answers 503 with the code when the upstream cannot re-read the call now; no event', async () => {
    gw.simulator.setFaults((request) =>
      /\/user\/calls\/\d+$/.test(request.path)
        ? { kind: 'respond', status: 500, body: '{"message":"Server Error"}' }
        : undefined,
    );
    const before = subscriber.results().length;
    const answer = await deliver(SECRET_A, postCall(demo()[0]!.raw.id));
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(JSON.stringify(answer.body)).not.toContain('Server Error');
    await sleep(200);
    expect(subscriber.results()).toHaveLength(before);
  });

  it("maps each secret to its own key: tenant B's secret reads with tenant B's key", async () => {
    const call = newCall();
    gw.simulator.tenants.get(SECOND_TENANT_TOKEN)!.push(call);
    const started = Date.now();
    const before = subscriber.results().length;
    expect((await deliver(SECRET_B, postCall(call.raw.id))).body).toMatchObject({
      status: 'published',
      kind: 'CREATED',
    });
    expect(callReads(started).map((r) => r.authorization)).toEqual([`Bearer ${SECOND_TENANT_TOKEN}`]);
    // The demo key's subscriber does not see tenant B's call.
    await sleep(300);
    expect(subscriber.results()).toHaveLength(before);
  });

  it('logs one line per delivery, without the secret, the key or upstream text', () => {
    const lines = gw.logs.join('');
    expect(lines).toContain('"msg":"webhook"');
    expect(lines).toContain('/webhooks/calls/[secret]');
    for (const secret of [SECRET_A, SECRET_B, 'wrong-secret-0123456789']) expect(lines).not.toContain(secret);
    expect(lines).not.toContain('Server Error');
  });
});
