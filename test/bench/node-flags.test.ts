/**
 * The gateway's V8 flags are written once, in package.json's `start` script; the Dockerfile repeats them
 * and the benchmark reads them from there (bench/compare.ts). Two are issue 13's levers (docs/benchmarks.md,
 * "Levers"): a fixed 16 MB young generation (throughput) and an old generation allowed to grow to twice
 * its live size before the next full collection, where V8 allows up to 4× (peak memory). A deployment that
 * lost them would lose them silently: this keeps the three in step and checks that Node takes the flags.
 * The suite runs on Node 20 and 24, and Node refuses to start on a V8 flag it does not know, so a renamed
 * flag fails here, not in production.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatewayNodeFlags } from '../../bench/compare.js';

const startScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
const dockerCmd = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))![1]!) as string[];

describe('the gateway process flags', () => {
  it('are the same in npm start, the Dockerfile and the benchmark', () => {
    const flags = gatewayNodeFlags();
    expect(flags).toEqual(['--min-semi-space-size=16', '--max-semi-space-size=16', '--heap-growing-percent=100']);
    expect(startScript).toContain(`node ${flags.join(' ')} dist/main.js`);
    expect(dockerCmd).toEqual(['node', ...flags, 'dist/main.js']);
  });

  it('are each known to this Node', () => {
    for (const flag of gatewayNodeFlags()) {
      expect(() => execFileSync(process.execPath, [flag, '-e', '0'], { stdio: 'pipe' }), flag).not.toThrow();
    }
    // The check can fail: a flag this Node does not know stops it with "bad option".
    expect(() =>
      execFileSync(process.execPath, ['--heap-growing-percentage=100', '-e', '0'], { stdio: 'pipe' }),
    ).toThrow(/bad option/);
  });

  it('give this Node a 16 MB semi-space from the start', () => {
    const script =
      "console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)";
    const withFlags = Number(
      execFileSync(process.execPath, [...gatewayNodeFlags(), '-e', script], { encoding: 'utf8' }),
    );
    const without = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(withFlags).toBe(16 * 2 ** 20);
    expect(without).toBeLessThan(withFlags);
  });
});
