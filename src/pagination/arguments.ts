/**
 * Turns Relay connection arguments into a range of absolute rows (Relay Cursor Connections spec §4.3,
 * "Pagination algorithm": apply `after`/`before` first, then `first`/`last`). Pure; the resolver supplies
 * the cursor decoder so this module knows nothing of filters or secrets.
 */
import { BadUserInputError } from '../errors.js';

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface SizeLimits {
  /** Page size when neither `first` nor `last` is given. @default 20 */
  defaultSize: number;
  /** Largest `first`/`last` accepted. @default 100 */
  maxSize: number;
}

/**
 * Rows `[start, start + size)`, or — for `last` without `before` — the last `size` rows of the list at
 * or after `minStart`, which needs the list's total before the rows can be fetched. `lower` and `upper`
 * are the rows the cursors leave (the first row after `after`, the row of `before`), and `by` says
 * whether `first` or `last` cut them: the Relay spec's HasPreviousPage/HasNextPage (§4.4) read those.
 */
export type RowRange = (
  | { kind: 'range'; start: number; size: number }
  | { kind: 'tail'; size: number; minStart: number }
) & {
  lower?: number;
  upper?: number | null;
  by?: 'first' | 'last';
};

function checkSize(name: 'first' | 'last', value: number, limits: SizeLimits): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new BadUserInputError(`Argument "${name}" must be a non-negative integer.`, {
      details: { argumentName: name },
    });
  }
  if (value > limits.maxSize) {
    throw new BadUserInputError(`Argument "${name}" must not exceed ${limits.maxSize}.`, {
      details: { argumentName: name, maximum: limits.maxSize },
    });
  }
  return value;
}

export function rowRangeForArgs(
  args: ConnectionArgs,
  limits: SizeLimits,
  decode: (cursor: string, argName: 'after' | 'before') => number,
): RowRange {
  const { first, last, after, before } = args;
  if (first != null && last != null) {
    throw new BadUserInputError('Arguments "first" and "last" cannot be used together.', {
      details: { argumentName: 'last' },
    });
  }
  const firstSize = first == null ? null : checkSize('first', first, limits);
  const lastSize = last == null ? null : checkSize('last', last, limits);
  const start = after == null ? 0 : decode(after, 'after') + 1;
  const end = before == null ? null : decode(before, 'before');
  if (end !== null && end < start) {
    throw new BadUserInputError('Argument "before" must point after argument "after".', {
      details: { argumentName: 'before' },
    });
  }
  const bounds = { lower: start, upper: end };
  if (lastSize !== null) {
    if (end === null) return { kind: 'tail', size: lastSize, minStart: start, ...bounds, by: 'last' };
    const from = Math.max(start, end - lastSize);
    return { kind: 'range', start: from, size: end - from, ...bounds, by: 'last' };
  }
  const size = firstSize ?? limits.defaultSize;
  return { kind: 'range', start, size: end === null ? size : Math.min(size, end - start), ...bounds, by: 'first' };
}

/** Resolves a `tail` range once the list's total is known. */
export function rangeWithTotal(range: RowRange, total: number): { start: number; size: number } {
  if (range.kind === 'range') return range;
  const start = Math.max(range.minStart, total - range.size);
  return { start, size: Math.max(0, total - start) };
}
