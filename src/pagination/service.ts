/**
 * The pagination service: what a `calls` connection or a `callStats` scan needs from the list, read
 * through an injected page source (in production the key's page cache and scheduler behind one interface,
 * upstream/pages.ts; in tests a list in memory). No I/O of its own and no GraphQL: it decides which rows
 * are needed, which pages to ask for (fewest requests, pages at hand first), where a page really starts
 * (drift), and what the list's total is.
 */
import { UpstreamBadResponseError, UpstreamRateLimitedError } from '../errors.js';
import type { Priority } from '../upstream/scheduler.js';
import { type RowRange, rangeWithTotal } from './arguments.js';
import { type FetchedPage, missingRanges, sameList, totalOf, type WindowRows, windowRows } from './connection.js';
import type { CursorAnchor } from './cursor.js';
import { type AnchoredRow, type Continuation, continueAfter } from './drift.js';
import { type PageRequest, planWindow, readAheadPlan } from './window.js';

/** Where the pages of one list (one key, one filter) come from. */
export interface PageSource<T> {
  /** Largest `per_page` the upstream serves: 100, or less once it was seen to cap it. */
  maxPerPage(): number;
  /**
   * Pages of the list already at hand that overlap rows `[start, start + size)`: no upstream request
   * (a promise when they are kept in a store shared by several processes).
   */
  known(start: number, size: number): readonly FetchedPage<T>[] | Promise<readonly FetchedPage<T>[]>;
  /** Asks for these pages; each result is the page as the upstream served it (possibly smaller than asked). */
  fetch(requests: readonly PageRequest[], priority: Priority): Promise<PromiseSettledResult<FetchedPage<T>>[]>;
}

interface ReadOptions {
  priority: Priority;
  /** Plan aligned pages of the largest size when that costs no extra request (walks, scans, searches). */
  readAhead: boolean;
  /** Keep what was read when pages are refused for budget, instead of failing (callStats). */
  partial?: boolean;
}

interface WindowRead<T> {
  pages: FetchedPage<T>[];
  /** False when a page was refused for budget (only with `partial`). */
  complete: boolean;
}

/** Re-planning rounds after the upstream served less than asked; the cap it showed is used from the next. */
const MAX_ROUNDS = 4;

/**
 * The pages that cover rows `[start, start + size)`: those at hand first, then the missing rows planned
 * with the fewest requests (read-ahead: aligned full pages when no dearer). A page served smaller than
 * asked (a capped `per_page`) leaves rows missing, which the next round plans again at the new size.
 */
async function readWindow<T>(
  source: PageSource<T>,
  start: number,
  size: number,
  options: ReadOptions,
): Promise<WindowRead<T>> {
  let pages = [...(await source.known(start, size))];
  const plan = options.readAhead ? readAheadPlan : planWindow;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const missing = missingRanges(pages, start, size);
    if (missing.length === 0) break;
    const requests = missing.flatMap(([from, to]) => plan(from, to - from, source.maxPerPage()));
    const fetched: FetchedPage<T>[] = [];
    let refused = false;
    for (const result of await source.fetch(requests, options.priority)) {
      if (result.status === 'fulfilled') fetched.push(result.value);
      else if (options.partial && result.reason instanceof UpstreamRateLimitedError) refused = true;
      else throw result.reason;
    }
    // Pages at hand that a fresh read shows to describe an older list are dropped, and their rows read
    // again in the next round; newest first, so where pages overlap the latest read wins.
    pages = [...fetched, ...pages.filter((held) => fetched.every((page) => sameList(held, page)))];
    if (refused) return { pages, complete: false };
  }
  return { pages, complete: true };
}

type Item = AnchoredRow['item'];
const idOf = (item: Item) => item.callId;

/** What a connection field selected, and where its `after` cursor pointed. */
export interface ConnectionQuery {
  range: RowRange;
  /** The call the `after` cursor points at; its row is checked to detect a list that moved (drift). */
  anchor: CursorAnchor | null;
  /** `edges` or `pageInfo` selected. */
  needRows: boolean;
  /** `totalCount` selected (or rows, which need it for `hasNextPage`). */
  needTotal: boolean;
  /** Rows read on each side of a moved anchor (200, `FIXED.driftSearchRows` in config.ts). */
  driftSearchRows: number;
  /** The client is walking the list (a cursor was given): read ahead. */
  readAhead: boolean;
}

export interface ConnectionPage<T> {
  rows: { offset: number; item: T }[];
  /** The filtered list's length; null when the upstream did not say. */
  total: number | null;
  /** Null when nothing was checked: no anchored `after` cursor, or no rows asked for. */
  drift: Continuation | null;
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

/** A page of a Relay connection: Relay arguments (already turned into a row range) in, rows out. */
export async function readConnection<T extends Item>(
  source: PageSource<T>,
  query: ConnectionQuery,
): Promise<ConnectionPage<T>> {
  const { range, needRows, needTotal } = query;
  // Whether a page read said neither `total` nor `last_page` (the `{ data }`-only dialect): then a
  // one-row probe cannot tell the length either, and is not worth a request.
  let untold = false;
  const rowsOf = async (from: number, count: number, priority: Priority): Promise<WindowRows<T>> => {
    const { pages } = await readWindow(source, from, count, {
      priority,
      readAhead: query.readAhead || priority === 'bulk',
    });
    untold ||= pages.some((page) => page.total === null && page.lastPage === null);
    return windowRows(pages, from, count, idOf);
  };
  let total: number | null = null;
  let totalRead = false;
  const readTotal = async () => {
    totalRead = true;
    // Any page of the list at hand tells its total, not only one holding its first row.
    total = totalOf(await source.known(0, Number.MAX_SAFE_INTEGER));
    if (total !== null) return;
    // The smallest request that tells the length: with one row per page, `last_page` is the total too.
    const [result] = await source.fetch([{ perPage: 1, page: 1 }], 'interactive');
    if (result!.status === 'rejected') throw result!.reason;
    total = totalOf([result!.value]);
  };

  if (range.kind === 'tail' && needTotal) await readTotal();
  if (range.kind === 'tail' && needRows && total === null) {
    throw new UpstreamBadResponseError(
      'The upstream does not say how many calls match, which `last` without `before` needs; page forward with ' +
        '`first` and `after`.',
    );
  }
  const { start, size } = range.kind === 'tail' ? rangeWithTotal(range, total ?? 0) : range;

  let window: WindowRows<T> = { rows: [], total: null };
  let first = start;
  let drift: Continuation | null = null;
  if (needRows && size > 0 && query.anchor && range.kind === 'range') {
    // Drift-proof continuation (issue 7): read the anchor's row too, which the planner can usually fold
    // into the same requests; only when the anchor moved, search driftSearchRows around it, as bulk
    // work and with the rows at hand first.
    const expected = start - 1;
    const withAnchor = await rowsOf(expected, size + 1, 'interactive');
    drift = continueAfter(
      withAnchor.rows.filter((row) => row.offset === expected),
      query.anchor,
      expected,
    );
    let around = withAnchor;
    if (drift.status !== 'CLEAN') {
      const from = Math.max(0, expected - query.driftSearchRows);
      around = await rowsOf(from, expected + query.driftSearchRows + size + 1 - from, 'bulk');
      drift = continueAfter(around.rows, query.anchor, expected);
    }
    first = drift.start;
    window = {
      rows: around.rows.filter((row) => row.offset >= first && row.offset < first + size),
      total: around.total,
    };
  } else if (needRows && size > 0 && (range.kind === 'range' || total !== null)) {
    window = await rowsOf(start, size, 'interactive');
  }
  if (!totalRead) total = window.total;
  if (total === null && needTotal && !totalRead && !untold) await readTotal();

  const end = first + size;
  // Rows asked for and none came back: the list ends here, whatever its `total` says. Saying there is a
  // next page would leave the client a walk with no end cursor to continue from (issue 11, item 4).
  const ended = needRows && size > 0 && window.rows.length === 0;
  const upper = range.upper ?? null;
  // Without a total, a full window is taken to mean more may follow.
  const moreInList = total !== null ? end < total : window.rows.length === size && size > 0;
  return {
    rows: window.rows,
    total,
    drift,
    // Relay spec §4.4: paging with `last`, a previous page exists only within the cursors' bounds (MUST);
    // paging with `first` the server may say whether rows come before `after`, which it knows.
    hasPreviousPage: range.by === 'last' ? first > (range.lower ?? 0) : first > 0,
    // Paging with `first`, a next page exists only before `before` (MUST); paging with `last` the server
    // may say whether rows follow, which it knows (the row of `before` at least).
    hasNextPage:
      !ended &&
      (range.by === 'last'
        ? total !== null
          ? end < total
          : upper !== null
        : upper !== null
          ? end < upper
          : moreInList),
  };
}

/** What a scan of the whole list read. */
export interface ListScan<T> {
  /** The rows read, in list order, each call once. */
  items: T[];
  /** The list's length; when the upstream does not say, the rows read (a lower bound unless complete). */
  count: number;
  /** Every row of the list was read. */
  complete: boolean;
}

/**
 * Pages of the largest size read at once while looking for the end of a list without a total: the
 * request past the end is wasted budget, so few at a time.
 */
const SCAN_BATCH = 2;

/**
 * Reads the list from the start, at most `maxItems` rows, as bulk work paced by the key's scheduler.
 * Pages refused for budget end the scan early: the result then covers the rows read up to the first
 * missing one and says `complete: false`; other failures fail it (totals over a list with a hole would
 * look complete and be wrong).
 */
export async function scanList<T extends Item>(source: PageSource<T>, maxItems: number): Promise<ListScan<T>> {
  const options: ReadOptions = { priority: 'bulk', readAhead: true, partial: true };
  let upTo = Math.min(source.maxPerPage(), maxItems);
  let read = await readWindow(source, 0, upTo, options);
  let total = totalOf(read.pages);
  // The `{ data }`-only dialect says no total: read on, a few pages at a time, until a page shows the end.
  while (read.complete && total === null && upTo < maxItems) {
    upTo = Math.min(maxItems, upTo + source.maxPerPage() * SCAN_BATCH);
    read = await readWindow(source, 0, upTo, options);
    total = totalOf(read.pages);
  }
  if (read.complete && total !== null && upTo < Math.min(total, maxItems)) {
    upTo = Math.min(total, maxItems);
    read = await readWindow(source, 0, upTo, options);
  }
  const gap = missingRanges(read.pages, 0, upTo)[0];
  const scanned = gap ? gap[0] : Math.min(upTo, total ?? upTo);
  const { rows } = windowRows(read.pages, 0, scanned, idOf);
  return {
    items: rows.map((row) => row.item),
    count: total ?? rows.length,
    complete: total !== null && scanned >= total,
  };
}
