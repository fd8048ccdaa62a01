/**
 * Puts the rows of a planned window together from the upstream pages that were fetched for it, and
 * works out the list's total. Pure and generic over the row type.
 */
import { type PageRequest, requestStart } from './window.js';

export interface FetchedPage<T> {
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
  /** The length of the whole list, or null when no response let us know it. */
  total: number | null;
}

/**
 * Total from `total`; failing that (clarifications: "derive it from last_page and the last page's size"),
 * from a page that is the last one, or that came back short, which also marks the end of the list.
 */
export function totalOf<T>(pages: readonly FetchedPage<T>[]): number | null {
  for (const page of pages) if (page.total !== null) return page.total;
  for (const { request, items, lastPage } of pages) {
    const isLast = lastPage !== null ? request.page >= lastPage : items.length < request.perPage;
    if (isLast && (items.length > 0 || request.page === 1)) return requestStart(request) + items.length;
  }
  return null;
}

/** Rows `[start, start + size)`; an item whose id was already seen is dropped (pages can shift between requests). */
export function windowRows<T>(pages: readonly FetchedPage<T>[], start: number, size: number, idOf: (item: T) => unknown): WindowRows<T> {
  const rows: { offset: number; item: T }[] = [];
  const seen = new Set<unknown>();
  for (let offset = start; offset < start + size; offset++) {
    const page = pages.find((p) => offset >= requestStart(p.request) && offset < requestStart(p.request) + p.request.perPage);
    const item = page?.items[offset - requestStart(page.request)];
    if (item === undefined || seen.has(idOf(item))) continue;
    seen.add(idOf(item));
    rows.push({ offset, item });
  }
  return { rows, total: totalOf(pages) };
}
