/**
 * Where an upstream page really sits in the list, from the paginator's echo (issue "Live within the
 * upstream's budget", item 6). Laravel echoes `per_page`, `current_page`, `from` and `to`; an upstream that
 * caps `per_page` (`->paginate(min($request->per_page, 50))`, a common pattern) answers `per_page=100&page=2`
 * with rows 50–99, and placing them at 100–199 would serve calls from the wrong position. Pure.
 */
import { UpstreamBadResponseError } from '../errors.js';
import type { PageRequest } from './window.js';

/** The paginator's echo of the page it served; null where the upstream did not say (not every dialect does). */
export interface PageEcho {
  perPage: number | null;
  currentPage: number | null;
  /** 1-based position of the first row; null on an empty page. */
  from: number | null;
  /** 1-based position of the last row. */
  to: number | null;
}

const inconsistent = (what: string) =>
  new UpstreamBadResponseError('The upstream answered with a page whose position does not add up.', {
    cause: new RangeError(`paginator echo: ${what}`),
  });

/**
 * The block the upstream served for `asked`: the echoed `per_page` and `current_page` where it sent them,
 * else what was asked, checked against `from`/`to` and the number of rows. Throws UPSTREAM_BAD_RESPONSE
 * when the echo contradicts itself (rows that cannot sit where it says), since no position can be trusted.
 */
export function servedBlock(asked: PageRequest, echo: PageEcho, rows: number): PageRequest {
  let perPage = echo.perPage ?? asked.perPage;
  let page = echo.currentPage ?? asked.page;
  if (perPage < 1 || page < 1) throw inconsistent(`per_page ${perPage}, current_page ${page}`);
  // Only `from` was echoed: it still tells the block, if it starts on a boundary of the size asked.
  if (echo.perPage === null && echo.currentPage === null && echo.from !== null && rows > 0) {
    if ((echo.from - 1) % asked.perPage !== 0) throw inconsistent(`from ${echo.from} for per_page ${asked.perPage}`);
    perPage = asked.perPage;
    page = (echo.from - 1) / asked.perPage + 1;
  }
  if (rows > perPage) throw inconsistent(`${rows} rows on a page of ${perPage}`);
  const first = (page - 1) * perPage + 1;
  if (rows > 0 && echo.from !== null && echo.from !== first) throw inconsistent(`from ${echo.from}, expected ${first}`);
  if (rows > 0 && echo.to !== null && echo.to !== (echo.from ?? first) + rows - 1) {
    throw inconsistent(`to ${echo.to} for ${rows} rows from ${echo.from ?? first}`);
  }
  return { perPage, page };
}
