/**
 * Drift-proof continuation (issue 7). Offset pagination over a live list shifts when calls are inserted
 * or deleted between two page requests. A cursor therefore also names its anchor call; given rows around
 * the offset where the anchor should be, this decides where the next page really starts. Pure.
 */
import type { CursorAnchor } from './cursor.js';

type DriftStatus = 'CLEAN' | 'SHIFTED' | 'ANCHOR_DELETED' | 'ANCHOR_NOT_FOUND';

export interface AnchoredRow {
  offset: number;
  item: { callId: number; createdAt: Date };
}

export interface Continuation {
  /** Offset of the first row after the anchor. */
  start: number;
  status: DriftStatus;
  /** How far the list moved: the corrected start minus the one the cursor implied. */
  shift: number;
}

/**
 * The list's order, read from the rows themselves (the upstream does not document it): newest first
 * unless some row is older than the row after it.
 */
function newestFirst(rows: readonly AnchoredRow[]): boolean {
  for (let i = 0; i + 1 < rows.length; i++) {
    const a = rows[i]!.item.createdAt.getTime();
    const b = rows[i + 1]!.item.createdAt.getTime();
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * `rows` are consecutive rows of the list, in order, around `expected`, the offset the cursor gave its
 * anchor. Clean when the anchor is still there; when it moved, continue right after it; when it was
 * deleted, continue at the first row that the list order puts after it (creation time, then id);
 * otherwise (outside the searched rows) continue where the cursor said.
 */
export function continueAfter(rows: readonly AnchoredRow[], anchor: CursorAnchor, expected: number): Continuation {
  const planned = expected + 1;
  const found = rows.find((row) => row.item.callId === anchor.callId);
  if (found) {
    const start = found.offset + 1;
    return { start, status: start === planned ? 'CLEAN' : 'SHIFTED', shift: start - planned };
  }
  const descending = newestFirst(rows);
  const comesAfter = (row: AnchoredRow) => {
    const created = row.item.createdAt.getTime();
    if (created !== anchor.createdAtMs) return descending ? created < anchor.createdAtMs : created > anchor.createdAtMs;
    return descending ? row.item.callId < anchor.callId : row.item.callId > anchor.callId;
  };
  const next = rows.find(comesAfter);
  // A first row already after the anchor means the anchor's place lies before the searched rows.
  if (!next || (next === rows[0] && rows[0]!.offset > 0 && !rows.some((row) => !comesAfter(row)))) {
    return { start: planned, status: 'ANCHOR_NOT_FOUND', shift: 0 };
  }
  return { start: next.offset, status: 'ANCHOR_DELETED', shift: next.offset - planned };
}
