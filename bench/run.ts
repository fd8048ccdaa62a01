/**
 * `npm run bench -- <name>`: the benchmarks. Each measures against a baseline in the same run and
 * writes its figures to bench/results/.
 *   compare  (default) rest vs minimal proxy vs this gateway vs Mesh, several scenarios (bench/compare.ts)
 *   render   rewrite docs/benchmarks.md from bench/results/latest.json
 *   profile  a CPU profile of one gateway under the distinct-key load, grouped by package (bench/profile.ts)
 *   soak     steady load, heap and sockets sampled (bench/soak.ts)
 *   budget   the upstream budget at work: seven workloads against the rate-limited simulator (bench/budget.ts)
 */
import { budget } from './budget.js';
import { compare, render } from './compare.js';
import { profile } from './profile.js';
import { soak } from './soak.js';

const benches: Record<string, () => Promise<boolean>> = {
  compare,
  profile,
  render,
  soak,
  async budget() {
    const ok = await budget();
    await render();
    return ok;
  },
};
const name = process.argv[2] ?? 'compare';
const run = benches[name];
if (!run) {
  console.error(`unknown benchmark "${name}"; one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
const ok = await run();
process.exit(ok ? 0 : 1);
