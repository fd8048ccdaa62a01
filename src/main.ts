/**
 * Process entry: read the config, start the embedded simulator when no upstream is configured (the
 * demo), build the gateway, listen, and shut everything down on SIGINT/SIGTERM. With WORKERS > 1 the
 * primary process only supervises: it forks the workers (Node cluster, one shared port) and, in the
 * demo, runs the simulator they all use.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { createGateway } from './server.js';
import { startTracing } from './tracing.js';
import { DEMO_TOKEN } from './simulator/data.js';
import { startSimulator } from './simulator/server.js';

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

const shownHost = (host: string) => (host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host);

/** The demo's upstream: no request log (it would grow without bound), rate limits from SIMULATOR_RATE_LIMITS. */
const startDemoSimulator = (config: Config) =>
  startSimulator({ host: '127.0.0.1', port: 0, recordRequests: false, rateLimits: config.simulatorRateLimits });

/** Supervises the workers: forks them, replaces one that dies, stops them all on a signal. */
async function primary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const simulator = config.upstreamBaseUrl === null ? await startDemoSimulator(config) : null;
  const env = simulator ? { UPSTREAM_BASE_URL: simulator.url, CALLS_GATEWAY_DEMO: '1' } : {};
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork(env);
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code }, 'worker exited; starting another');
    cluster.fork(env);
  });
  // Announced once every worker listens, so that whoever waits for the line can send requests.
  await new Promise<void>((resolve) => {
    let listening = 0;
    cluster.on('listening', () => {
      if (++listening === config.workers) resolve();
    });
  });
  const url = `http://${shownHost(config.host)}:${config.port}/graphql`;
  logger.info({ url, workers: config.workers }, 'calls gateway listening');
  logger.flush();
  if (simulator) console.log(`\nCalls gateway demo is running with ${config.workers} workers.\n  GraphiQL:   ${url}\n  Demo token: Authorization: Bearer ${DEMO_TOKEN}\n`);
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const force = setTimeout(() => process.exit(1), 12_000);
    force.unref();
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        void Promise.resolve(simulator?.close()).then(() => process.exit(0));
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
  const demo = worker ? process.env.CALLS_GATEWAY_DEMO === '1' : config.upstreamBaseUrl === null;
  const simulator = !worker && demo ? await startDemoSimulator(config) : null;
  const gateway = createGateway(
    { ...config, upstreamBaseUrl: config.upstreamBaseUrl ?? simulator!.url },
    { logger, graphiqlHeaders: demo ? { Authorization: `Bearer ${DEMO_TOKEN}` } : undefined },
  );
  const server = createServer(gateway.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${shownHost(config.host)}:${port}/graphql`;
  if (!worker) {
    if (simulator) {
      logger.info({ url, upstream: 'embedded simulator' }, 'calls gateway (demo) listening');
      console.log(`\nCalls gateway demo is running.\n  GraphiQL:   ${url}\n  Demo token: Authorization: Bearer ${DEMO_TOKEN}\n  Health:     ${url.replace(/graphql$/, 'health')}\n`);
    } else {
      logger.info({ url }, 'calls gateway listening');
    }
    logger.flush();
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(() => {
      void Promise.all([gateway.close(), simulator?.close(), stopTracing?.()]).then(() => {
        logger.flush();
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const config = readConfig();
void (cluster.isPrimary && config.workers > 1 ? primary(config) : serve(config));
