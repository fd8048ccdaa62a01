import { describe, expect, it } from 'vitest';
import { type AnchoredRow, continueAfter } from '../../src/pagination/drift.js';

/** Rows from `offset` on, newest first: ids descending, one minute apart. */
const newestFirst = (ids: number[], offset = 0): AnchoredRow[] =>
  ids.map((id, i) => ({ offset: offset + i, item: { callId: id, createdAt: new Date(id * 60_000) } }));
const oldestFirst = (ids: number[], offset = 0): AnchoredRow[] =>
  ids.map((id, i) => ({ offset: offset + i, item: { callId: id, createdAt: new Date(id * 60_000) } }));
const anchor = (id: number) => ({ callId: id, createdAtMs: id * 60_000 });

describe('continueAfter', () => {
  it.each([
    [
      'the anchor is where the cursor said',
      newestFirst([20, 19, 18, 17], 10),
      19,
      11,
      { start: 12, status: 'CLEAN', shift: 0 },
    ],
    [
      'two calls were inserted before it',
      newestFirst([20, 19, 18, 17], 10),
      18,
      10,
      { start: 13, status: 'SHIFTED', shift: 2 },
    ],
    [
      'two calls before it were deleted',
      newestFirst([20, 19, 18, 17], 10),
      20,
      12,
      { start: 11, status: 'SHIFTED', shift: -2 },
    ],
    [
      'the anchor was deleted (newest first)',
      newestFirst([20, 18, 17], 10),
      19,
      11,
      { start: 11, status: 'ANCHOR_DELETED', shift: -1 },
    ],
    [
      'the anchor was deleted (oldest first)',
      oldestFirst([16, 17, 19, 20], 10),
      18,
      11,
      { start: 12, status: 'ANCHOR_DELETED', shift: 0 },
    ],
    [
      'the anchor was deleted and calls were inserted (oldest first)',
      oldestFirst([16, 17, 17.5, 17.7, 19], 10),
      18,
      11,
      { start: 14, status: 'ANCHOR_DELETED', shift: 2 },
    ],
    [
      'the anchor is nowhere near',
      newestFirst([10, 9, 8], 50),
      40,
      50,
      { start: 51, status: 'ANCHOR_NOT_FOUND', shift: 0 },
    ],
  ])('%s', (_name, rows, anchorId, expected, continuation) => {
    expect(continueAfter(rows, anchor(anchorId), expected)).toEqual(continuation);
  });

  it('breaks ties of creation time by id, in the list order', () => {
    const same = new Date(1_000_000);
    const rows: AnchoredRow[] = [
      { offset: 0, item: { callId: 9, createdAt: new Date(2_000_000) } },
      { offset: 1, item: { callId: 7, createdAt: same } },
      { offset: 2, item: { callId: 5, createdAt: same } },
    ];
    expect(continueAfter(rows, { callId: 6, createdAtMs: 1_000_000 }, 1)).toEqual({
      start: 2,
      status: 'ANCHOR_DELETED',
      shift: 0,
    });
  });
});
