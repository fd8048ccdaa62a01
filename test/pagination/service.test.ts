/**
 * The pagination service in memory: a list of rows behind a page source that answers like the upstream's
 * paginator in each documented envelope variant (../shared/docs/upstream-contract.md §2), including one that caps
 * `per_page`. Walks forward and backward, totals and full scans must give exactly the list, in the fewest
 * requests, whatever the variant.
 */
import { describe, expect, it } from 'vitest';
import { UpstreamRateLimitedError } from '../../src/errors.js';
import type { FetchedPage } from '../../src/pagination/connection.js';
import { type PageEcho, servedBlock } from '../../src/pagination/echo.js';
import { type ConnectionPage, type PageSource, readConnection, scanList } from '../../src/pagination/service.js';
import type { PageRequest } from '../../src/pagination/window.js';

interface Row {
  callId: number;
  createdAt: Date;
}

const T0 = Date.UTC(2026, 10, 1);
const LIST: Row[] = Array.from({ length: 237 }, (_, i) => ({
  callId: 5_000 - i,
  createdAt: new Date(T0 - i * 60_000),
}));
const IDS = LIST.map((r) => r.callId);

interface Dialect {
  /** The paginator sends `total` and `last_page`. */
  totals: boolean;
  /** It echoes `per_page`, `current_page`, `from` and `to`. */
  echo: boolean;
  /** It serves at most this many rows per page, whatever was asked. */
  cap?: number;
}

/** Named fixtures: the envelope variants of ../shared/docs/upstream-contract.md §2 and the clarifications. */
const DIALECTS: Record<string, Dialect> = {
  'the full Laravel paginator': { totals: true, echo: true },
  'the abridged one ({ data, total, last_page })': { totals: true, echo: false },
  '{ data } only: the end shows as a short page': { totals: false, echo: false },
  'the full paginator capping per_page at 50': { totals: true, echo: true, cap: 50 },
  'the full paginator capping per_page at 30': { totals: true, echo: true, cap: 30 },
};

/**
 * A page source over LIST answering as `dialect` does, recording what was asked. Like the gateway's
 * (the operation's own pages, and the page cache between operations), it keeps the pages it read.
 */
function source(dialect: Dialect, options: { refuseAfter?: number } = {}) {
  const asked: PageRequest[] = [];
  const read: FetchedPage<Row>[] = [];
  let maxPerPage = 100;
  const serve = (request: PageRequest): FetchedPage<Row> => {
    const perPage = Math.min(request.perPage, dialect.cap ?? 100);
    const start = (request.page - 1) * perPage;
    const items = LIST.slice(start, start + perPage);
    const echo: PageEcho = dialect.echo
      ? {
          perPage,
          currentPage: request.page,
          from: items.length ? start + 1 : null,
          to: items.length ? start + items.length : null,
        }
      : { perPage: null, currentPage: null, from: null, to: null };
    const served = servedBlock(request, echo, items.length);
    if (served.perPage < request.perPage) maxPerPage = Math.min(maxPerPage, served.perPage);
    return {
      request: served,
      items,
      total: dialect.totals ? LIST.length : null,
      lastPage: dialect.totals ? Math.max(1, Math.ceil(LIST.length / perPage)) : null,
    };
  };
  const pages: PageSource<Row> = {
    maxPerPage: () => maxPerPage,
    known: (start, size) =>
      read.filter(
        (p) => (p.request.page - 1) * p.request.perPage < start + size && p.request.page * p.request.perPage > start,
      ),
    async fetch(requests) {
      return requests.map((request) => {
        asked.push(request);
        if (options.refuseAfter !== undefined && asked.length > options.refuseAfter) {
          return { status: 'rejected', reason: new UpstreamRateLimitedError(10) } as const;
        }
        const page = serve(request);
        read.push(page);
        return { status: 'fulfilled', value: page } as const;
      });
    },
  };
  return { pages, asked };
}

/** Walks forward with `first`, each page after the first anchored on the previous page's last row. */
async function walkForward(pages: PageSource<Row>, first: number) {
  const seen: number[] = [];
  let anchor: { callId: number; createdAtMs: number } | null = null;
  for (let guard = 0; guard <= LIST.length; guard++) {
    const page: ConnectionPage<Row> = await readConnection(pages, {
      range: { kind: 'range', start: seen.length, size: first },
      anchor,
      needRows: true,
      needTotal: true,
      driftSearchRows: 200,
      readAhead: anchor !== null,
    });
    expect(page.drift?.status ?? 'CLEAN').toBe('CLEAN');
    seen.push(...page.rows.map((r) => r.item.callId));
    if (!page.hasNextPage) return seen;
    const last = page.rows.at(-1)!.item;
    anchor = { callId: last.callId, createdAtMs: last.createdAt.getTime() };
  }
  throw new Error('the walk did not end');
}

describe.each(Object.entries(DIALECTS))('the pagination service over %s', (_name, dialect) => {
  it.each([1, 25, 100])('a forward walk with first: %i gives exactly the list', async (first) => {
    const { pages } = source(dialect);
    expect(await walkForward(pages, first)).toEqual(IDS);
  });

  it('a forward walk with first: 25 reads ahead: about one request per 100 rows (or per capped page), not one per page', async () => {
    const { pages, asked } = source(dialect);
    await walkForward(pages, 25);
    // The first page (no cursor yet) takes the cheapest plan; then aligned pages of the largest size the
    // upstream serves; a capped upstream costs one request more, the one that shows the cap.
    const pagesOf = Math.ceil(LIST.length / (dialect.cap ?? 100));
    expect(asked.length).toBeLessThanOrEqual(1 + pagesOf + (dialect.cap ? 1 : 0));
    expect(Math.ceil(LIST.length / 25)).toBe(10);
  });

  it('totalCount alone', async () => {
    const { pages, asked } = source(dialect);
    const page = await readConnection(pages, {
      range: { kind: 'range', start: 0, size: 0 },
      anchor: null,
      needRows: false,
      needTotal: true,
      driftSearchRows: 0,
      readAhead: false,
    });
    // Without `total` nor `last_page` a page of one row cannot say how long the list is.
    expect(page.total).toBe(dialect.totals ? LIST.length : null);
    expect(asked).toEqual([{ perPage: 1, page: 1 }]);
  });

  it('a full scan reads every row once, knows the count and says it is complete', async () => {
    const { pages, asked } = source(dialect);
    const scan = await scanList(pages, 10_000);
    expect(scan.items.map((r) => r.callId)).toEqual(IDS);
    expect(scan).toMatchObject({ count: LIST.length, complete: true });
    const size = dialect.cap ?? 100;
    // Pages of the largest size; a capped upstream costs one extra request, the first, which shows the cap.
    const minimum = Math.ceil(LIST.length / size);
    // Without a total the end shows only as a short page, read two at a time: at most one request past it.
    expect(asked.length).toBeLessThanOrEqual(minimum + (dialect.cap ? 1 : 0) + (dialect.totals ? 0 : 1));
  });

  it('a scan stopped by STATS_MAX_CALLS covers the first rows and says it is not complete', async () => {
    const { pages } = source(dialect);
    const scan = await scanList(pages, 120);
    expect(scan.items.map((r) => r.callId)).toEqual(IDS.slice(0, 120));
    expect(scan.complete).toBe(false);
  });

  it('a scan whose pages are refused for budget keeps what it read, up to the first missing row, and is not complete', async () => {
    const { pages } = source(dialect, { refuseAfter: 2 });
    const scan = await scanList(pages, 10_000);
    expect(scan.complete).toBe(false);
    expect(scan.items.length).toBeGreaterThan(0);
    expect(scan.items.map((r) => r.callId)).toEqual(IDS.slice(0, scan.items.length));
  });
});

// `last` without `before` needs the list's length first, which the `{ data }`-only dialect never tells.
describe.each(Object.entries(DIALECTS).filter(([, dialect]) => dialect.totals))(
  'backwards over %s',
  (_name, dialect) => {
    it('`last` without `before` asks no total when any page at hand tells it', async () => {
      const { pages, asked } = source(dialect);
      await pages.fetch([{ perPage: 50, page: 3 }], 'interactive');
      asked.length = 0;
      await readConnection(pages, {
        range: { kind: 'tail', size: 5, minStart: 0, by: 'last' },
        anchor: null,
        needRows: true,
        needTotal: true,
        driftSearchRows: 0,
        readAhead: false,
      });
      expect(asked.some((r) => r.perPage === 1)).toBe(false);
    });

    it('a backward walk with last: 40 gives exactly the list', async () => {
      const { pages } = source(dialect);
      const collected: number[] = [];
      let before: number | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const page: ConnectionPage<Row> = await readConnection(pages, {
          range:
            before === null
              ? { kind: 'tail', size: 40, minStart: 0 }
              : { kind: 'range', start: Math.max(0, before - 40), size: before - Math.max(0, before - 40) },
          anchor: null,
          needRows: true,
          needTotal: true,
          driftSearchRows: 200,
          readAhead: before !== null,
        });
        collected.unshift(...page.rows.map((r) => r.item.callId));
        if (!page.hasPreviousPage) break;
        before = page.rows[0]!.offset;
      }
      expect(collected).toEqual(IDS);
    });
  },
);

describe('servedBlock: where a page sits, from the paginator echo', () => {
  const none: PageEcho = { perPage: null, currentPage: null, from: null, to: null };
  it.each<[string, PageRequest, PageEcho, number, PageRequest]>([
    ['no echo: as asked', { perPage: 100, page: 2 }, none, 100, { perPage: 100, page: 2 }],
    [
      'an echo that agrees',
      { perPage: 100, page: 2 },
      { perPage: 100, currentPage: 2, from: 101, to: 200 },
      100,
      { perPage: 100, page: 2 },
    ],
    [
      'a capped per_page: rows 50-99, not 100-199',
      { perPage: 100, page: 2 },
      { perPage: 50, currentPage: 2, from: 51, to: 100 },
      50,
      { perPage: 50, page: 2 },
    ],
    [
      'per_page as a string was read as a number',
      { perPage: 15, page: 1 },
      { perPage: 15, currentPage: 1, from: 1, to: 15 },
      15,
      { perPage: 15, page: 1 },
    ],
    [
      'an empty page past the end (from/to null)',
      { perPage: 20, page: 9 },
      { perPage: 20, currentPage: 9, from: null, to: null },
      0,
      { perPage: 20, page: 9 },
    ],
    [
      'only from/to, on a boundary of the size asked',
      { perPage: 25, page: 3 },
      { perPage: null, currentPage: null, from: 51, to: 75 },
      25,
      { perPage: 25, page: 3 },
    ],
    [
      'a current_page other than asked',
      { perPage: 10, page: 7 },
      { perPage: 10, currentPage: 5, from: 41, to: 50 },
      10,
      { perPage: 10, page: 5 },
    ],
    [
      'a per_page larger than asked (the parameter ignored)',
      { perPage: 10, page: 1 },
      { perPage: 15, currentPage: 1, from: 1, to: 15 },
      15,
      { perPage: 15, page: 1 },
    ],
  ])('%s', (_name, asked, echo, rows, expected) => {
    expect(servedBlock(asked, echo, rows)).toEqual(expected);
  });

  it.each<[string, PageRequest, PageEcho, number]>([
    ['more rows than its per_page', { perPage: 50, page: 1 }, { perPage: 50, currentPage: 1, from: 1, to: 60 }, 60],
    [
      'from that is not where its page starts',
      { perPage: 50, page: 2 },
      { perPage: 50, currentPage: 2, from: 7, to: 56 },
      50,
    ],
    ['to that does not match the rows', { perPage: 50, page: 1 }, { perPage: 50, currentPage: 1, from: 1, to: 40 }, 50],
    ['per_page 0', { perPage: 50, page: 1 }, { perPage: 0, currentPage: 1, from: null, to: null }, 0],
    [
      'only from, off any boundary',
      { perPage: 25, page: 3 },
      { perPage: null, currentPage: null, from: 52, to: 76 },
      25,
    ],
  ])('%s is UPSTREAM_BAD_RESPONSE', (_name, asked, echo, rows) => {
    expect(() => servedBlock(asked, echo, rows)).toThrow(expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' }));
  });
});
