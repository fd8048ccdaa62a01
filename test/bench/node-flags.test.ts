/**
 * The gateway's V8 flags are written once, in package.json's `start` script; the Dockerfile repeats them
 * and the benchmark reads them from there (bench/compare.ts). A fixed 16 MB young generation was issue
 * 13's second-largest lever (docs/benchmarks.md, "Levers"), so a deployment that lost it would lose it
 * silently: this keeps the three in step and checks that Node takes the flags.
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
    expect(flags).toEqual(['--min-semi-space-size=16', '--max-semi-space-size=16']);
    expect(startScript).toContain(`node ${flags.join(' ')} dist/main.js`);
    expect(dockerCmd).toEqual(['node', ...flags, 'dist/main.js']);
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
