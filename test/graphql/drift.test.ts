/**
 * Drift-proof pagination (issue 7): while a client walks the list, the simulator inserts and deletes
 * calls between page requests — at the head, inside the walked range and right at the anchor — in both
 * list orders. Every call that existed throughout must come exactly once, in order. Each walk runs with
 * the page cache off (every page read fresh, so every change is seen) and on (pages within the TTL come
 * from one snapshot of the list, read ahead; a change shows when the walk reads past the cached rows,
 * where pages of an older version of the list are dropped rather than mixed with newer ones).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { planWindow } from '../../src/pagination/window.js';
import { generateCalls, type SimCall } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const TOKEN = 'drift-token';
const PAGE = `query Page($first: Int, $after: String) {
  calls(first: $first, after: $after) {
    drift { status shift }
    pageInfo { hasNextPage endCursor }
    edges { node { callId } }
  }
}`;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

type Order = 'newest-first' | 'oldest-first';

/** A call created before every other (oldest-first head) or after every other (newest-first head). */
function fresh(template: SimCall, id: number, order: Order, n: number): SimCall {
  const createdAt = new Date(
    order === 'newest-first' ? Date.UTC(2027, 0, 1) + n * 1000 : Date.UTC(2020, 0, 1) - n * 1000,
  );
  return {
    ...template,
    createdAt,
    raw: { ...template.raw, id, created_at: createdAt.toISOString(), updated_at: createdAt.toISOString() },
  };
}

async function walk(
  order: Order,
  cacheTtlMs: number,
  mutate: (step: number, calls: SimCall[], lastSeen: number[]) => void,
) {
  const calls = generateCalls({ seed: 11, count: 230, firstId: 700_001 });
  gw = await startTestGateway({
    simulator: { tenants: { [TOKEN]: calls }, order },
    config: { upstreamCacheTtlMs: cacheTtlMs },
  });
  const initial = new Set(calls.map((c) => c.raw.id));
  const deleted = new Set<number>();
  const seen: number[] = [];
  const statuses: string[] = [];
  let after: string | null = null;
  let extra = 0;
  for (let step = 0; step < 40; step++) {
    mutate(step, calls, seen);
    for (const id of initial) if (!calls.some((c) => c.raw.id === id)) deleted.add(id);
    gw.resetUpstream();
    const response: { body: { errors?: unknown; data?: unknown } } = await gw.query(
      PAGE,
      { first: 20, after },
      { token: TOKEN },
    );
    expect(response.body.errors).toBeUndefined();
    const page: {
      drift: { status: string; shift: number } | null;
      pageInfo: { hasNextPage: boolean; endCursor: string };
      edges: { node: { callId: number } }[];
    } = (
      response.body.data as {
        calls: {
          drift: { status: string; shift: number } | null;
          pageInfo: { hasNextPage: boolean; endCursor: string };
          edges: { node: { callId: number } }[];
        };
      }
    ).calls;
    if (page.drift) statuses.push(page.drift.status);
    // Cost bound: the anchored window, plus at most one search of 2 x 200 + 21 rows.
    const planned = after === null ? planWindow(seen.length, 20).length : planWindow(seen.length - 1, 21).length;
    extra = Math.max(extra, gw.upstream().length - planned);
    expect(gw.upstream().length).toBeLessThanOrEqual(planned + planWindow(0, 421).length);
    seen.push(...page.edges.map((e) => e.node.callId));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const survivors = [...initial].filter((id) => !deleted.has(id));
  // Each call that existed throughout exactly once, in the list's final order.
  const order_ = calls
    .slice()
    .sort((a, b) =>
      order === 'newest-first'
        ? b.createdAt.getTime() - a.createdAt.getTime() || b.raw.id - a.raw.id
        : a.createdAt.getTime() - b.createdAt.getTime() || a.raw.id - b.raw.id,
    )
    .map((c) => c.raw.id);
  const seenSurvivors = seen.filter((id) => survivors.includes(id));
  expect(seenSurvivors).toEqual(order_.filter((id) => survivors.includes(id)));
  expect(new Set(seen).size).toBe(seen.length);
  return { statuses, extra };
}

describe.each<[Order, string, number]>([
  ['newest-first', 'without the cache', 0],
  ['oldest-first', 'without the cache', 0],
  ['newest-first', 'with the cache', 5_000],
  ['oldest-first', 'with the cache', 5_000],
])('walking %s %s while the list changes', (order, _cache, cacheTtlMs) => {
  const fresh_ = cacheTtlMs === 0;
  it('calls inserted at the head between pages: no duplicates, nothing missed', async () => {
    let next = 800_001;
    const { statuses } = await walk(order, cacheTtlMs, (step, calls) => {
      if (step > 0 && step % 2 === 1) for (let i = 0; i < 3; i++) calls.push(fresh(calls[0]!, next++, order, next));
    });
    expect(statuses).toContain('SHIFTED');
  });

  it('walked calls deleted between pages: no gaps', async () => {
    const { statuses } = await walk(order, cacheTtlMs, (step, calls, seen) => {
      if (step > 0 && step % 2 === 0) {
        for (const id of seen.slice(0, 2)) {
          const index = calls.findIndex((c) => c.raw.id === id);
          if (index >= 0) calls.splice(index, 1);
        }
      }
    });
    expect(statuses).toContain('SHIFTED');
  });

  it('the anchor itself deleted between pages: resynchronised on creation time', async () => {
    const { statuses } = await walk(order, cacheTtlMs, (step, calls, seen) => {
      if (step === 2 || step === 5) {
        const index = calls.findIndex((c) => c.raw.id === seen.at(-1));
        if (index >= 0) calls.splice(index, 1);
      }
    });
    // From the cache, the page after the first deletion still comes from the snapshot that holds the
    // anchor; the second deletion is seen when the walk reads past the cached rows.
    expect(statuses.filter((s) => s === 'ANCHOR_DELETED')).toHaveLength(fresh_ ? 2 : 1);
  });

  it('everything at once: inserts at the head, deletions inside the walked range and of the anchor', async () => {
    let next = 900_001;
    const { statuses } = await walk(order, cacheTtlMs, (step, calls, seen) => {
      if (step === 0) return;
      calls.push(fresh(calls[0]!, next++, order, next));
      const walked = calls.findIndex((c) => c.raw.id === seen[step]);
      if (walked >= 0) calls.splice(walked, 1);
      if (step % 3 === 0) {
        const anchor = calls.findIndex((c) => c.raw.id === seen.at(-1));
        if (anchor >= 0) calls.splice(anchor, 1);
      }
    });
    expect(statuses.length).toBeGreaterThan(5);
  });

  it('an undisturbed walk is CLEAN on every page and costs no extra upstream request', async () => {
    const { statuses, extra } = await walk(order, cacheTtlMs, () => {});
    expect(new Set(statuses)).toEqual(new Set(['CLEAN']));
    expect(extra).toBe(0);
  });
});

describe('drift field', () => {
  it('is null when nothing was checked: no after cursor, or first: 0', async () => {
    gw = await startTestGateway({
      simulator: { tenants: { [TOKEN]: generateCalls({ seed: 3, count: 40, firstId: 1 }) } },
    });
    const start = await gw.query(PAGE, { first: 5 }, { token: TOKEN });
    const page = (start.body.data as { calls: { drift: unknown; pageInfo: { endCursor: string } } }).calls;
    expect(page.drift).toBeNull();
    const empty = await gw.query(PAGE, { first: 0, after: page.pageInfo.endCursor }, { token: TOKEN });
    expect((empty.body.data as { calls: { drift: unknown } }).calls.drift).toBeNull();
    const next = await gw.query(PAGE, { first: 5, after: page.pageInfo.endCursor }, { token: TOKEN });
    expect((next.body.data as { calls: { drift: unknown } }).calls.drift).toEqual({ status: 'CLEAN', shift: 0 });
  });
});
