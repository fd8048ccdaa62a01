/** The embedded simulator as its own process, for benchmarks: prints its URL, stops on SIGTERM. */
import { startSimulator } from '../src/simulator/server.js';

const latencyMs = Number(process.env.SIM_LATENCY_MS ?? 0);
const simulator = await startSimulator({ host: '127.0.0.1', port: Number(process.env.SIM_PORT ?? 0), latencyMs, recordRequests: false });
console.log(`SIMULATOR ${simulator.url}`);
const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
