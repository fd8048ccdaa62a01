/**
 * Process entry: read the config, start the embedded simulator when no upstream is configured (the
 * demo), build the gateway, listen, and shut everything down on SIGINT/SIGTERM. With WORKERS > 1 the
 * primary process only supervises: it forks the workers (Node cluster, one shared port) and, in the
 * demo, runs the simulator they all use.
 *
 * With `METRICS_PORT`, metrics get a listener of their own on HOST (issue 11 item 11). A single process
 * serves its registry there. With WORKERS > 1 the primary serves it and answers each scrape with the sum of
 * every worker's registry (prom-client's AggregatorRegistry over the cluster's IPC channel): a shared port
 * bound by each worker would hand every scrape to one worker, whose counters alone would look like resets.
 */
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { createScraper, metricsListener, metricsPlacement } from './metrics.js';
import { createGateway } from './server.js';
import { DEMO_TOKEN } from './simulator/data.js';
import { startSimulator } from './simulator/server.js';
import { startTracing } from './tracing.js';

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

/** How the primary hands its workers the URL of the demo's simulator (see primary). */
const DEMO_UPSTREAM_FLAG = '--demo-upstream=';

const shownHost = (host: string) =>
  host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;

/** Listens on HOST and resolves with the bound port (0 picks a free one). */
async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return (server.address() as AddressInfo).port;
}

/** Resolves once the server has closed and its connections ended; idle keep-alive sockets are closed at once. */
function closeServer(server: Server | null): Promise<void> {
  if (server === null) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  return closed;
}

/** Says at start-up why production serves no /metrics, so that a 404 there is no riddle. */
function metricsNotice(config: Config, logger: ReturnType<typeof createLogger>): void {
  if (config.metrics && metricsPlacement(config) === 'off') {
    logger.warn('no /metrics: production serves it only with METRICS_PORT or METRICS_TOKEN');
  }
}

/** The demo's upstream: no request log (it would grow without bound), the upstream's documented rate limits. */
const startDemoSimulator = () => startSimulator({ host: '127.0.0.1', port: 0, recordRequests: false });

/** Supervises the workers: forks them, replaces one that dies, stops them all on a signal. */
async function primary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const simulator = config.upstreamBaseUrl === null ? await startDemoSimulator() : null;
  // The workers learn the demo's upstream from their command line, not from a variable of their own: it is
  // no setting, only the primary telling its workers where the simulator it started listens.
  if (simulator) cluster.setupPrimary({ args: [`${DEMO_UPSTREAM_FLAG}${simulator.url}`] });
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code }, 'worker exited; starting another');
    cluster.fork();
  });
  // Announced once every worker listens, so that whoever waits for the line can send requests.
  // The workers share one port; with PORT=0 the cluster picks it, and the workers' listening says which.
  let port = config.port;
  await new Promise<void>((resolve) => {
    let listening = 0;
    cluster.on('listening', (_worker, address) => {
      port = address.port;
      if (++listening === config.workers) resolve();
    });
  });
  // The workers' registries, summed at each scrape (see the module comment).
  let metricsServer: Server | null = null;
  let metricsUrl: string | undefined;
  if (metricsPlacement(config) === 'metrics-port') {
    const aggregate = new AggregatorRegistry();
    const scrape = createScraper(() => aggregate.clusterMetrics(), aggregate.contentType, config.metricsToken);
    metricsServer = createServer(metricsListener(scrape));
    const metricsPort = await listen(metricsServer, config.metricsPort!, config.host);
    metricsUrl = `http://${shownHost(config.host)}:${metricsPort}/metrics`;
  }
  const url = `http://${shownHost(config.host)}:${port}/graphql`;
  logger.info({ url, workers: config.workers, metricsUrl }, 'calls gateway listening');
  metricsNotice(config, logger);
  logger.flush();
  if (simulator)
    console.log(
      `\nCalls gateway demo is running with ${config.workers} workers.\n  GraphiQL:   ${url}\n` +
        `  Demo token: Authorization: Bearer ${DEMO_TOKEN}\n`,
    );
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const force = setTimeout(() => process.exit(1), 12_000);
    force.unref();
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        void Promise.all([simulator?.close(), closeServer(metricsServer)]).then(() => process.exit(0));
      }
    }, 50);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const stopTracing = await startTracing(process.env);
  if (stopTracing) logger.info('OpenTelemetry tracing on (OTLP/HTTP)');
  const worker = cluster.isWorker;
  const demoUpstream = worker
    ? (process.argv.find((a) => a.startsWith(DEMO_UPSTREAM_FLAG))?.slice(DEMO_UPSTREAM_FLAG.length) ?? null)
    : null;
  const demo = demoUpstream !== null || config.upstreamBaseUrl === null;
  const simulator = demo && demoUpstream === null ? await startDemoSimulator() : null;
  const gateway = createGateway(
    { ...config, upstreamBaseUrl: demoUpstream ?? config.upstreamBaseUrl ?? simulator!.url },
    { logger, graphiqlHeaders: demo ? { Authorization: `Bearer ${DEMO_TOKEN}` } : undefined },
  );
  const server = createServer(gateway.handle);
  const port = await listen(server, config.port, config.host);
  const url = `http://${shownHost(config.host)}:${port}/graphql`;
  // A cluster worker lends its registry to the primary, which serves METRICS_PORT for all of them.
  let metricsServer: Server | null = null;
  let metricsUrl: string | undefined;
  if (gateway.metrics && metricsPlacement(config) === 'metrics-port') {
    if (worker) {
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([gateway.metrics.registry]);
    } else {
      metricsServer = createServer(gateway.metrics.handle);
      const metricsPort = await listen(metricsServer, config.metricsPort!, config.host);
      metricsUrl = `http://${shownHost(config.host)}:${metricsPort}/metrics`;
    }
  }
  if (!worker) {
    if (simulator) {
      logger.info({ url, upstream: 'embedded simulator', metricsUrl }, 'calls gateway (demo) listening');
      console.log(
        `\nCalls gateway demo is running.\n  GraphiQL:   ${url}\n  Demo token: Authorization: Bearer ${DEMO_TOKEN}\n` +
          `  Health:     ${url.replace(/graphql$/, 'health')}\n`,
      );
    } else {
      logger.info({ url, metricsUrl }, 'calls gateway listening');
    }
    metricsNotice(config, logger);
    logger.flush();
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // Live streams end first, without `complete`, so their clients reconnect (to another replica) and
    // resume; the server then drains what is left.
    const streamsEnded = gateway.live.close();
    void streamsEnded
      .then(() => Promise.all([closeServer(server), closeServer(metricsServer)]))
      .then(() => {
        void Promise.all([gateway.close(), simulator?.close(), stopTracing?.()]).then(() => {
          logger.flush();
          process.exit(0);
        });
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const config = readConfig();
void (cluster.isPrimary && config.workers > 1 ? primary(config) : serve(config));
