import { describe, expect, it } from 'vitest';
import { type CpuProfile, category, summarise } from '../../bench/profile.js';

const frame = (functionName: string, url: string) => ({ functionName, url });

describe('category: where a profiled frame’s code lives', () => {
  it.each([
    ['the garbage collector', frame('(garbage collector)', ''), 'garbage collector'],
    ['idle', frame('(idle)', ''), 'idle'],
    ['JSON.parse', frame('parse', ''), 'JSON.parse'],
    ['JSON.stringify', frame('stringify', ''), 'JSON.stringify'],
    ['a builtin', frame('writev', ''), 'no URL: writev'],
    ['a function made by new Function', frame('', ''), 'no URL: (anonymous)'],
    ['a package', frame('f', 'file:///w/node_modules/undici/lib/api/readable.js'), 'undici'],
    ['a scoped package', frame('f', 'file:///w/node_modules/@whatwg-node/server/esm/a.js'), '@whatwg-node/server'],
    ['the innermost of nested packages', frame('f', 'file:///w/node_modules/a/node_modules/@s/b/index.js'), '@s/b'],
    ['a folder of src', frame('exchange', 'file:///w/dist-bench/src/upstream/client.js'), 'src/upstream'],
    ['a file at the top of src', frame('f', 'file:///w/dist-bench/src/server.js'), 'src/'],
    ['a Node core module', frame('hash', 'node:internal/crypto/hash'), 'node:crypto'],
    ['a public Node module', frame('emit', 'node:events'), 'node:events'],
  ])('%s', (_name, callFrame, expected) => {
    expect(category(callFrame)).toBe(expected);
  });
});

/** Four frames; samples at 1 ms steps from t = 1000 µs: idle, parse, parse, GC, exchange, idle. */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4, 5] },
    { id: 2, callFrame: frame('(idle)', '') },
    { id: 3, callFrame: frame('parse', '') },
    { id: 4, callFrame: frame('(garbage collector)', '') },
    { id: 5, callFrame: frame('exchange', 'file:///w/dist-bench/src/upstream/client.js') },
  ],
  startTime: 0,
  samples: [2, 3, 3, 4, 5, 2],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
};

describe('summarise', () => {
  it('shares are of the busy samples, idle left out, most first', () => {
    const summary = summarise(PROFILE);
    expect(summary).toMatchObject({ samples: 6, idleSamples: 2 });
    expect(summary.categories).toEqual([
      { name: 'JSON.parse', samples: 2, share: 50 },
      { name: 'garbage collector', samples: 1, share: 25 },
      { name: 'src/upstream', samples: 1, share: 25 },
    ]);
    expect(summary.functions[2]).toEqual({
      name: 'exchange src/upstream/client.js',
      category: 'src/upstream',
      samples: 1,
      share: 25,
    });
  });

  it('counts each sample once, whatever its time delta (preemption is not running time)', () => {
    const preempted = { ...PROFILE, timeDeltas: [1000, 1000, 1000, 50_000, 1000, 1000] };
    expect(summarise(preempted).categories.find((c) => c.name === 'garbage collector')?.share).toBe(25);
  });

  it('keeps only the samples inside the window', () => {
    // Samples fall at 1000, 2000, …, 6000 µs; the window holds the third to the fifth.
    const summary = summarise(PROFILE, { fromUs: 3000, toUs: 5000 });
    expect(summary.samples).toBe(3);
    expect(summary.categories.map((c) => c.name)).toEqual(['JSON.parse', 'garbage collector', 'src/upstream']);
  });

  it('keeps the top functions only', () => {
    expect(summarise(PROFILE, undefined, 1).functions.map((f) => f.name)).toEqual(['parse']);
  });
});
