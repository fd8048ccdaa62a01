/**
 * Process entry: read the config, start the embedded simulator when no upstream is configured (the
 * demo), build the gateway, listen, and shut everything down on SIGINT/SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { createGateway } from './server.js';
import { DEMO_TOKEN } from './simulator/data.js';
import { startSimulator } from './simulator/server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Written synchronously: the process exits right after.
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const simulator = config.upstreamBaseUrl === null ? await startSimulator({ host: '127.0.0.1', port: 0, recordRequests: false }) : null;
  const gateway = createGateway(
    { ...config, upstreamBaseUrl: config.upstreamBaseUrl ?? simulator!.url },
    { logger, graphiqlHeaders: simulator ? { Authorization: `Bearer ${DEMO_TOKEN}` } : undefined },
  );
  const server = createServer(gateway.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/graphql`;
  if (simulator) {
    logger.info({ url, upstream: 'embedded simulator' }, 'calls gateway (demo) listening');
    console.log(`\nCalls gateway demo is running.\n  GraphiQL:   ${url}\n  Demo token: Authorization: Bearer ${DEMO_TOKEN}\n  Health:     ${url.replace(/graphql$/, 'health')}\n`);
  } else {
    logger.info({ url }, 'calls gateway listening');
  }
  logger.flush();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(() => {
      void Promise.all([gateway.close(), simulator?.close()]).then(() => {
        logger.flush();
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
