/**
 * Maps a window of rows `[offset, offset + size)` onto the fewest upstream `page`/`per_page` requests.
 * Request `{ perPage: p, page: k }` returns rows `[(k - 1)·p, k·p)`: an aligned block of size p
 * (Laravel LengthAwarePaginator). A plan is a set of such blocks, sizes may differ, whose union covers
 * the window. Order of preference: fewest requests, then fewest rows fetched; rows past the end of the
 * list count as fetched, because the total is unknown until the first response.
 */

export interface PageRequest {
  perPage: number;
  page: number;
}

export const UPSTREAM_MAX_PER_PAGE = 100;

/** First row of a request. */
export function requestStart(request: PageRequest): number {
  return (request.page - 1) * request.perPage;
}

/**
 * Plans the window. Every optimal plan can be written as a sequence of blocks in which each block holds
 * the first row not yet covered (a block that does not can be dropped or moved later in the sequence
 * without changing the union), so the search walks "frontiers": the first uncovered row. It tries the
 * smallest feasible request count first; no window needs more than `ceil(size / maxPerPage) + 1`
 * requests (consecutive blocks of maxPerPage do it), and a frontier is pruned when the requests left
 * cannot reach the end even at maxPerPage rows each, which keeps the search to a few thousand steps.
 */
export function planWindow(offset: number, size: number, maxPerPage = UPSTREAM_MAX_PER_PAGE): PageRequest[] {
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(size) || size < 0) {
    throw new RangeError(`planWindow needs non-negative integers, got offset ${offset}, size ${size}`);
  }
  if (size === 0) return [];
  const end = offset + size;
  for (let perPage = size; perPage <= maxPerPage; perPage++) {
    const page = Math.floor(offset / perPage);
    if (page === Math.floor((end - 1) / perPage)) return [{ perPage, page: page + 1 }];
  }
  for (let count = Math.max(2, Math.ceil(size / maxPerPage)); ; count++) {
    const plan = cheapestPlanOfCount(offset, end, count, maxPerPage);
    if (plan) return plan;
  }
}

/**
 * Cheapest plan of at most `count` requests, or null. Frontiers live in typed arrays indexed by
 * `frontier - start` (all frontiers before completion lie inside the window), one array set per level.
 */
function cheapestPlanOfCount(start: number, end: number, count: number, maxPerPage: number): PageRequest[] | null {
  const width = end - start;
  const rowsAt: Int32Array[] = [];
  const fromAt: Int32Array[] = [];
  const sizeAt: Int32Array[] = [];
  let active = [start];
  let best: { rows: number; level: number; from: number; perPage: number } | null = null;
  for (let level = 0; level < count && !best; level++) {
    const rows = new Int32Array(width).fill(-1);
    const from = new Int32Array(width);
    const size = new Int32Array(width);
    const next: number[] = [];
    const reach = (count - level - 1) * maxPerPage;
    for (const frontier of active) {
      const base = level === 0 ? 0 : rowsAt[level - 1]![frontier - start]!;
      // A block advances the frontier by at most its size, so smaller sizes cannot keep the end in reach.
      for (let perPage = Math.max(1, end - reach - frontier); perPage <= maxPerPage; perPage++) {
        const blockEnd = (Math.floor(frontier / perPage) + 1) * perPage;
        const total = base + perPage;
        if (blockEnd >= end) {
          if (!best || total < best.rows) best = { rows: total, level, from: frontier, perPage };
          // Larger sizes only add rows from this frontier.
          break;
        } else if (end - blockEnd <= reach) {
          const slot = blockEnd - start;
          if (rows[slot] === -1) next.push(blockEnd);
          if (rows[slot] === -1 || total < rows[slot]!) {
            rows[slot] = total;
            from[slot] = frontier;
            size[slot] = perPage;
          }
        }
      }
    }
    rowsAt.push(rows);
    fromAt.push(from);
    sizeAt.push(size);
    active = next;
  }
  if (!best) return null;
  // A completion found at a level ends the search there, so it always uses the fewest requests.
  const plan: PageRequest[] = [{ perPage: best.perPage, page: Math.floor(best.from / best.perPage) + 1 }];
  for (let level = best.level - 1, frontier = best.from; level >= 0; level--) {
    const slot = frontier - start;
    const perPage = sizeAt[level]![slot]!;
    frontier = fromAt[level]![slot]!;
    plan.unshift({ perPage, page: Math.floor(frontier / perPage) + 1 });
  }
  return plan;
}

/**
 * Read-ahead (issue "Live within the upstream's budget", item 3): the window planned as blocks of the
 * largest size the upstream serves, aligned on multiples of it, when that takes no more requests than the
 * cheapest plan. The extra rows cost no budget, land in the page cache, and serve the next pages of a walk
 * (a walk of 1,000 calls with `first: 25` then costs about 10 requests, not 40); aligned blocks are also
 * the ones other queries of the same list ask for. Otherwise the cheapest plan.
 */
export function readAheadPlan(offset: number, size: number, maxPerPage = UPSTREAM_MAX_PER_PAGE): PageRequest[] {
  const cheapest = planWindow(offset, size, maxPerPage);
  if (size === 0) return cheapest;
  const firstPage = Math.floor(offset / maxPerPage);
  const lastPage = Math.floor((offset + size - 1) / maxPerPage);
  if (lastPage - firstPage + 1 > cheapest.length) return cheapest;
  return Array.from({ length: lastPage - firstPage + 1 }, (_, i) => ({ perPage: maxPerPage, page: firstPage + i + 1 }));
}
