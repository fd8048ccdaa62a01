/**
 * `npm run bench -- <name>`: the benchmarks. Each measures against a baseline in the same run and
 * writes its figures to bench/results/.
 *   soak   steady load, heap and sockets sampled (bench/soak.ts)
 */
import { soak } from './soak.js';

const benches: Record<string, () => Promise<boolean>> = { soak };
const name = process.argv[2] ?? 'soak';
const run = benches[name];
if (!run) {
  console.error(`unknown benchmark "${name}"; one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
const ok = await run();
process.exit(ok ? 0 : 1);
