/**
 * Puts the rows of a window together from the upstream pages (blocks) at hand, and says what a set of
 * blocks tells about the list: its total, where it ends, and which rows of a window are still missing.
 * Pure and generic over the row type. The rule for a list's total lives here and nowhere else.
 */
import { type PageRequest, requestStart } from './window.js';

export interface FetchedPage<T> {
  /** The block as the upstream served it (which may differ from what was asked; see echo.ts). */
  request: PageRequest;
  items: readonly T[];
  /** The upstream's `total`, when it sent one. */
  total: number | null;
  /** The upstream's `last_page`, when it sent one. */
  lastPage: number | null;
}

export interface WindowRows<T> {
  /** Rows in list order with their absolute offsets; a row the upstream did not return is left out. */
  rows: { offset: number; item: T }[];
  /** The length of the whole list, or null when no block let us know it. */
  total: number | null;
}

/**
 * The list's length, from the first block that tells it (../shared/docs/clarifications.md: `totalCount` comes from
 * `total`; without it, derive it from `last_page` and the last page's size):
 * 1. `total`;
 * 2. `last_page` of a non-empty page of one row per page, which is the number of rows;
 * 3. a block that is the last one (its page is `last_page`, or it came back short): it ends the list.
 * Null when none does, e.g. the `{ data }`-only dialect before the end has been read.
 */
export function totalOf<T>(pages: readonly FetchedPage<T>[]): number | null {
  for (const page of pages) if (page.total !== null) return page.total;
  for (const { request, items, lastPage } of pages) {
    if (request.perPage === 1 && lastPage !== null && items.length > 0) return lastPage;
  }
  for (const { request, items, lastPage } of pages) {
    const isLast = lastPage !== null ? request.page >= lastPage : items.length < request.perPage;
    if (isLast && (items.length > 0 || request.page === 1)) return requestStart(request) + items.length;
  }
  return null;
}

/**
 * Whether two pages read at different times can be put side by side: only if they agree on the list's
 * length. A changed `total` means calls were inserted or deleted in between, so the older page's rows sit
 * at other offsets now, and rows taken from both would repeat or skip calls. Pages without a total cannot
 * tell (the `{ data }`-only dialect) and are taken to agree.
 */
export function sameList<T>(a: FetchedPage<T>, b: FetchedPage<T>): boolean {
  return a.total === null || b.total === null || a.total === b.total;
}

/** Rows `[start, start + size)`; an item whose id was already seen is dropped (pages can shift between requests). */
export function windowRows<T>(
  pages: readonly FetchedPage<T>[],
  start: number,
  size: number,
  idOf: (item: T) => unknown,
): WindowRows<T> {
  const rows: { offset: number; item: T }[] = [];
  const seen = new Set<unknown>();
  for (let offset = start; offset < start + size; offset++) {
    const page = pages.find(
      (p) => offset >= requestStart(p.request) && offset < requestStart(p.request) + p.request.perPage,
    );
    const item = page?.items[offset - requestStart(page.request)];
    if (item === undefined || seen.has(idOf(item))) continue;
    seen.add(idOf(item));
    rows.push({ offset, item });
  }
  return { rows, total: totalOf(pages) };
}

/**
 * The parts of `[start, start + size)` that no block covers, as `[from, to)` ranges in order. A block
 * covers its whole page (a short page also shows that the rows after it do not exist), and nothing past
 * the list's known end is missing.
 */
export function missingRanges<T>(pages: readonly FetchedPage<T>[], start: number, size: number): [number, number][] {
  const total = totalOf(pages);
  const end = total === null ? start + size : Math.min(start + size, total);
  const blocks = pages
    .map((p) => [requestStart(p.request), requestStart(p.request) + p.request.perPage] as const)
    .sort((a, b) => a[0] - b[0]);
  const missing: [number, number][] = [];
  let at = start;
  for (const [from, to] of blocks) {
    if (at >= end) break;
    if (to <= at) continue;
    if (from > at) missing.push([at, Math.min(from, end)]);
    at = Math.max(at, to);
  }
  if (at < end) missing.push([at, end]);
  return missing;
}
