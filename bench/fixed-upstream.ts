/**
 * The benchmark's upstream: a minimal server for `GET /api/user/calls` (Laravel paginator, new dialect:
 * array transcripts and evaluations, decimal-string costs, ISO dates) whose pages are rendered once and
 * then served from memory, so that the upstream costs as little CPU as possible and every contender sees
 * the same bytes. Any bearer token is accepted (the distinct-token scenario sends a new one each time).
 *   PORT (0), CALLS (2000), SEGMENTS (transcript segments per call, 8), LATENCY_MS (0)
 * `GET /__stats` answers the number of API requests served, for counting upstream requests.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const total = Number(process.env.CALLS ?? 2000);
const segments = Number(process.env.SEGMENTS ?? 8);
const latencyMs = Number(process.env.LATENCY_MS ?? 0);
const statuses = ['completed', 'ended_by_customer', 'no-answer', 'failed', 'in-progress', 'busy'];

function call(index: number) {
  const id = 100_000 + total - index;
  const created = Date.UTC(2026, 9, 31) - index * 97_000;
  const start = created / 1000;
  return {
    id,
    assistant_name: `Assistant ${index % 5}`,
    campaign_name: index % 3 === 0 ? null : `Campaign ${index % 4}`,
    type: ['inbound', 'outbound', 'web'][index % 3],
    duration: 30 + (index % 600),
    assistant_phone_number: '+4930123456',
    client_phone_number: `+49151${String(1_000_000 + index).slice(-7)}`,
    status: statuses[index % statuses.length],
    transcript: Array.from({ length: segments }, (_, s) => ({
      text:
        s % 2 === 0
          ? `Hello, this is the assistant speaking, turn ${s}.`
          : `Sure, I would like to hear more about option ${s}.`,
      type: 'transcript',
      sender: s % 2 === 0 ? 'bot' : 'human',
      timestamp: start + s * 3.25,
    })),
    variables: index % 4 === 0 ? [] : { customer_name: `Customer ${index}`, interest: 'high' },
    evaluation: [
      { name: 'status', type: 'bool', value: index % 2 === 0, description: 'Whether the call objective was achieved.' },
      { name: 'summary', type: 'string', value: `Call ${id} went fine.`, description: 'Call summary in a few words.' },
      { name: 'score', type: 'integer', value: index % 10, description: 'Lead score.' },
    ],
    webhook_response: index % 2 === 0 ? { crm_updated: true } : null,
    carrier_cost: (0.01 + (index % 7) / 1000).toFixed(8),
    total_cost: (0.02 + (index % 11) / 1000).toFixed(8),
    answered_by: ['human', 'machine', null][index % 3],
    recording_url: `https://recordings.example/calls/${id}.mp3`,
    created_at: new Date(created).toISOString(),
    updated_at: new Date(created + 60_000).toISOString(),
  };
}

const calls = Array.from({ length: total }, (_, i) => call(i));
const pages = new Map<string, string>();
let served = 0;

function page(perPage: number, pageNumber: number, origin: string): string {
  const key = `${perPage}:${pageNumber}`;
  let body = pages.get(key);
  if (!body) {
    const last = Math.max(1, Math.ceil(total / perPage));
    const data = calls.slice((pageNumber - 1) * perPage, pageNumber * perPage);
    const path = `${origin}/api/user/calls`;
    body = JSON.stringify({
      current_page: pageNumber,
      data,
      first_page_url: `${path}?page=1`,
      from: data.length ? (pageNumber - 1) * perPage + 1 : null,
      last_page: last,
      last_page_url: `${path}?page=${last}`,
      links: [],
      next_page_url: pageNumber < last ? `${path}?page=${pageNumber + 1}` : null,
      path,
      per_page: perPage,
      prev_page_url: pageNumber > 1 ? `${path}?page=${pageNumber - 1}` : null,
      to: data.length ? (pageNumber - 1) * perPage + data.length : null,
      total,
    });
    pages.set(key, body);
  }
  return body;
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://upstream');
  const send = (status: number, body: string) => {
    const write = () => {
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    };
    if (latencyMs > 0) setTimeout(write, latencyMs);
    else write();
  };
  if (url.pathname === '/__stats') return void response.end(JSON.stringify({ requests: served }));
  if (url.pathname !== '/api/user/calls') return send(404, '{"message":"Not Found"}');
  served++;
  if (!/^Bearer \S+$/.test(request.headers.authorization ?? '')) return send(401, '{"message":"Unauthenticated."}');
  const perPage = Number(url.searchParams.get('per_page') ?? 15);
  const pageNumber = Number(url.searchParams.get('page') ?? 1);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100 || !Number.isInteger(pageNumber) || pageNumber < 1) {
    return send(422, '{"message":"The given data was invalid."}');
  }
  send(200, page(perPage, pageNumber, `http://${request.headers.host}`));
});

server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`UPSTREAM http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
