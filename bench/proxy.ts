/**
 * The limit for any Node gateway: a hand-written proxy with no GraphQL at all. It forwards
 * `GET /api/user/calls?…` with the caller's Authorization to the upstream through one undici Pool and
 * returns the upstream's JSON as it came.   PORT (0), UPSTREAM (origin)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const pool = new Pool(process.env.UPSTREAM!, { connections: 64, pipelining: 1 });
const server = createServer(async (request, response) => {
  try {
    const upstream = await pool.request({
      path: request.url ?? '/',
      method: 'GET',
      headers: { authorization: request.headers.authorization ?? '', accept: 'application/json' },
    });
    const body = await upstream.body.text();
    response.writeHead(upstream.statusCode, { 'content-type': 'application/json' });
    response.end(body);
  } catch {
    response.writeHead(502);
    response.end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
