import { describe, expect, it } from 'vitest';
import { type PageRequest, planWindow, requestStart } from '../../src/pagination/window.js';

interface Cost {
  requests: number;
  rows: number;
}

const better = (a: Cost, b: Cost) => a.requests < b.requests || (a.requests === b.requests && a.rows < b.rows);

/** Checks that a plan is well-formed and covers [offset, offset + size); returns its cost. */
function costOf(plan: PageRequest[], offset: number, size: number, maxPerPage: number): Cost {
  const blocks = plan
    .map((r) => {
      const valid =
        Number.isInteger(r.perPage) &&
        r.perPage >= 1 &&
        r.perPage <= maxPerPage &&
        Number.isInteger(r.page) &&
        r.page >= 1;
      if (!valid) throw new Error(`invalid request ${JSON.stringify(r)}`);
      return [requestStart(r), requestStart(r) + r.perPage] as const;
    })
    .sort((x, y) => x[0] - y[0]);
  let covered = offset;
  for (const [start, end] of blocks) if (start <= covered) covered = Math.max(covered, end);
  if (covered < offset + size) throw new Error(`plan ${JSON.stringify(plan)} leaves row ${covered} uncovered`);
  return { requests: plan.length, rows: plan.reduce((n, r) => n + r.perPage, 0) };
}

/**
 * Brute force over every plan whose blocks each contain the first row not yet covered (the planner's
 * plan space; the small-universe test below shows it loses nothing against arbitrary block sets).
 * For one end row it fills the optimum for every start at once, walking from the end backwards and
 * trying every page size at every frontier, without the planner's count-first search or pruning.
 * A cost is packed as `requests * 2^20 + rows`, so comparing numbers compares (requests, rows).
 */
const PACK = 2 ** 20;
function optimumTable(end: number, lowest: number, maxPerPage: number): Float64Array {
  const table = new Float64Array(end - lowest);
  for (let frontier = end - 1; frontier >= lowest; frontier--) {
    let best = Infinity;
    for (let perPage = 1; perPage <= maxPerPage; perPage++) {
      const blockEnd = (Math.floor(frontier / perPage) + 1) * perPage;
      const candidate = (blockEnd >= end ? 0 : table[blockEnd - lowest]!) + PACK + perPage;
      if (candidate < best) best = candidate;
    }
    table[frontier - lowest] = best;
  }
  return table;
}

describe('planWindow', () => {
  it.each([
    { name: 'the issue example: offset 30, 15 rows', offset: 30, size: 15, plan: [{ perPage: 15, page: 3 }] },
    { name: 'the issue example: offset 3, 10 rows', offset: 3, size: 10, plan: [{ perPage: 13, page: 1 }] },
    { name: 'first page of 20', offset: 0, size: 20, plan: [{ perPage: 20, page: 1 }] },
    { name: 'a full upstream page', offset: 100, size: 100, plan: [{ perPage: 100, page: 2 }] },
    { name: 'a single row', offset: 999, size: 1, plan: [{ perPage: 1, page: 1000 }] },
    { name: 'empty window', offset: 40, size: 0, plan: [] },
  ])('$name', ({ offset, size, plan }) => {
    expect(planWindow(offset, size)).toEqual(plan);
  });

  it('needs two requests when no page size up to 100 holds the window in one page', () => {
    // Rows 50..100: every p in 51..100 puts row 50 and row 100 on different pages.
    expect(planWindow(50, 51)).toEqual([
      { perPage: 50, page: 2 },
      { perPage: 1, page: 101 },
    ]);
  });

  it('windows larger than one upstream page mix page sizes', () => {
    const plan = planWindow(150, 200);
    expect(costOf(plan, 150, 200, 100)).toEqual({ requests: 3, rows: 200 });
  });

  it.each([
    [-1, 10],
    [0, -1],
    [1.5, 3],
  ])('refuses offset %s size %s', (offset, size) => {
    expect(() => planWindow(offset, size)).toThrow(RangeError);
  });

  it('matches the brute-force optimum for every offset 0..1000 and size 1..250 (request count, then rows)', () => {
    const maxPerPage = 100;
    const mismatches: string[] = [];
    let checked = 0;
    for (let end = 1; end <= 1000 + 250; end++) {
      const lowest = Math.max(0, end - 250);
      const table = optimumTable(end, lowest, maxPerPage);
      for (let offset = lowest; offset < end && offset <= 1000; offset++) {
        const size = end - offset;
        const got = costOf(planWindow(offset, size, maxPerPage), offset, size, maxPerPage);
        const packed = table[offset - lowest]!;
        const want = { requests: Math.floor(packed / PACK), rows: packed % PACK };
        checked++;
        if (got.requests !== want.requests || got.rows !== want.rows) {
          if (mismatches.length < 5)
            mismatches.push(`offset ${offset} size ${size}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
        }
      }
    }
    expect(checked).toBe(1001 * 250);
    expect(mismatches).toEqual([]);
  });

  it('loses nothing against arbitrary sets of blocks in a small universe (max per_page 6)', () => {
    // Every aligned block that touches rows 0..24, for page sizes 1..6.
    const maxPerPage = 6;
    const universe: [number, number, number][] = [];
    for (let p = 1; p <= maxPerPage; p++) for (let s = 0; s < 25; s += p) universe.push([s, s + p, p]);
    for (let offset = 0; offset < 14; offset++) {
      for (let size = 1; size <= 10; size++) {
        const end = offset + size;
        const relevant = universe.filter(([s, e]) => s < end && e > offset);
        let best: Cost | null = null;
        const search = (from: number, chosen: [number, number, number][]) => {
          if (chosen.length > 0) {
            const sorted = [...chosen].sort((a, b) => a[0] - b[0]);
            let covered = offset;
            for (const [s, e] of sorted) if (s <= covered) covered = Math.max(covered, e);
            if (covered >= end) {
              const cost = { requests: chosen.length, rows: chosen.reduce((n, b) => n + b[2], 0) };
              if (!best || better(cost, best)) best = cost;
              return;
            }
          }
          if (chosen.length === 4) return;
          for (let i = from; i < relevant.length; i++) search(i + 1, [...chosen, relevant[i]!]);
        };
        search(0, []);
        expect(costOf(planWindow(offset, size, maxPerPage), offset, size, maxPerPage)).toEqual(best);
      }
    }
  });
});
