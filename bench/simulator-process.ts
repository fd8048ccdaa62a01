/** The embedded simulator as its own process, for benchmarks: prints its URL, stops on SIGTERM. */
import { startSimulator } from '../src/simulator/server.js';

const latencyMs = Number(process.env.SIM_LATENCY_MS ?? 0);
// Load tests measure the gateway's CPU and memory, not the upstream's budget: no rate limits here.
const simulator = await startSimulator({
  host: '127.0.0.1',
  port: Number(process.env.SIM_PORT ?? 0),
  latencyMs,
  recordRequests: false,
  rateLimits: false,
});
console.log(`SIMULATOR ${simulator.url}`);
const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
