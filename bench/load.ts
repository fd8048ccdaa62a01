/**
 * The load generator, in its own process: autocannon driven from a JSON spec on argv[2], printing
 * autocannon's result as JSON. Requests cycle through `requests` (a walk over pages), and with
 * `uniqueTokens` every request carries its own `Authorization: Bearer bench-<n>`.
 */
import autocannon, { type Request } from 'autocannon';

interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  requests: { method: 'GET' | 'POST'; path: string; body?: string }[];
  uniqueTokens?: boolean;
}

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
let counter = 0;
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  headers: spec.headers,
  requests: spec.requests.map((r) => ({
    ...r,
    ...(spec.uniqueTokens
      ? {
          setupRequest: (req: Request): Request => ({
            ...req,
            headers: { ...req.headers, authorization: `Bearer bench-${process.pid}-${counter++}` },
          }),
        }
      : {}),
  })),
});
process.stdout.write(JSON.stringify(result));
