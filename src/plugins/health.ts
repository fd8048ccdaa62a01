/**
 * `/health/live`: the process serves requests. `/health/ready` (yoga's readiness check): it can serve them
 * usefully, i.e. the circuit to the upstream is not open and the upstream answers a probe of the list path
 * with something other than 5xx or 404. A 404 there means every query would get one too: the upstream is
 * up but `UPSTREAM_BASE_URL` names the wrong path. The probe's answer is kept for 5 s, so load balancers
 * polling every second cost the upstream one request per 5 s per replica. With a shared store
 * (`REDIS_URL`) readiness also says whether that answers; without it the gateway still serves, on its own
 * state (200, `"status":"degraded"`, `"sharedStore":"unavailable"`; issue 12).
 */
import { type Plugin, useReadinessCheck } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SharedStore } from '../shared/store.js';
import type { UpstreamClient } from '../upstream/client.js';

/** How long one probe's answer stands for the next readiness checks. */
const PROBE_TTL_MS = 5_000;

const JSON_HEADERS = { 'content-type': 'application/json' };

type UpstreamState = 'ready' | 'upstream unreachable' | 'upstream path not found';

/** What a probe's status says about the upstream (null: no answer within the connect timeout). */
function upstreamState(status: number | null): UpstreamState {
  if (status === null || status >= 500) return 'upstream unreachable';
  return status === 404 ? 'upstream path not found' : 'ready';
}

export interface HealthOptions {
  client: Pick<UpstreamClient, 'probe' | 'snapshot'>;
  shared: Pick<SharedStore, 'available'> | null;
  clock: Clock;
  logger: Pick<Logger, 'warn'>;
}

export function useHealthEndpoints({ client, shared, clock, logger }: HealthOptions): Plugin {
  let cached: { at: number; state: UpstreamState } | null = null;
  const upstream = async (): Promise<UpstreamState> => {
    if (client.snapshot().breaker === 'open') return 'upstream unreachable';
    if (!cached || clock.now() - cached.at > PROBE_TTL_MS) {
      const state = upstreamState(await client.probe());
      if (state === 'upstream path not found' && cached?.state !== state) {
        logger.warn(
          'the upstream answers 404 for its list path: check UPSTREAM_BASE_URL (e.g. https://app.famulor.de/api)',
        );
      }
      cached = { at: clock.now(), state };
    }
    return cached.state;
  };
  const readiness = useReadinessCheck({
    endpoint: '/health/ready',
    check: async ({ fetchAPI }) => {
      const state = await upstream();
      const sharedStore = shared === null ? undefined : shared.available() ? 'available' : 'unavailable';
      const status = state === 'ready' && sharedStore === 'unavailable' ? 'degraded' : state;
      return new fetchAPI.Response(JSON.stringify({ status, circuit: client.snapshot().breaker, sharedStore }), {
        status: state === 'ready' ? 200 : 503,
        headers: JSON_HEADERS,
      });
    },
  });
  return {
    onYogaInit: readiness.onYogaInit,
    onRequest(payload) {
      const { pathname } = payload.url;
      if (pathname === '/health/live') {
        payload.endResponse(new payload.fetchAPI.Response('{"status":"live"}', { status: 200, headers: JSON_HEADERS }));
      } else if (pathname === '/health/ready') {
        // Only here: yoga's check matches its endpoint with a URLPattern on every request otherwise
        // (about 2.5 µs each on this machine), and no other request has anything to ask it.
        return readiness.onRequest!(payload);
      }
    },
  };
}
