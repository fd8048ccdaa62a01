/**
 * Opaque connection cursors (Relay Cursor Connections spec §4: cursors are opaque strings).
 * A cursor carries the absolute row offset it stands for, a tag of the filter it was issued under and a
 * MAC, so that a cursor from another filter, another connection or an edited one is refused before any
 * upstream request. Format, base64url of: `cur1:<offset>:<filterTag>:<mac>`; the `cur1` prefix is the
 * version, so a later format can live next to this one.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BadUserInputError } from '../errors.js';

const VERSION = 'cur1';
const MAC_BYTES = 9;

export interface CursorKey {
  /** Canonical form of the filter the connection was read with (see `filterKey`). */
  filterKey: string;
  /** Server secret; with a private secret cursors cannot be forged, only replayed. */
  secret: string;
}

function filterTag(filterKey: string): string {
  return createHash('sha256').update(filterKey).digest('base64url').slice(0, 11);
}

function mac(body: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, MAC_BYTES);
}

export function encodeCursor(offset: number, key: CursorKey): string {
  const body = `${VERSION}:${offset}:${filterTag(key.filterKey)}`;
  return Buffer.from(`${body}:${mac(body, key.secret).toString('base64url')}`).toString('base64url');
}

/**
 * Returns the offset a cursor stands for, or throws `BAD_USER_INPUT` naming the argument and what is
 * wrong: not one of our cursors, altered, or issued for another filter.
 */
export function decodeCursor(cursor: string, key: CursorKey, argName: string): number {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const parts = decoded.split(':');
  if (parts.length !== 4 || !parts[0]?.startsWith('cur')) {
    throw new BadUserInputError(`Argument "${argName}" is not a cursor of this connection.`, {
      details: { argumentName: argName },
    });
  }
  const [version, offsetText, tag, macText] = parts as [string, string, string, string];
  if (version !== VERSION) {
    throw new BadUserInputError(`Argument "${argName}" is a cursor of an unsupported version; start again without it.`, {
      details: { argumentName: argName },
    });
  }
  const expected = mac(`${version}:${offsetText}:${tag}`, key.secret);
  const given = Buffer.from(macText, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected) || !/^(0|[1-9]\d{0,8})$/.test(offsetText)) {
    throw new BadUserInputError(`Argument "${argName}" is not a valid cursor: it was altered.`, {
      details: { argumentName: argName },
    });
  }
  if (tag !== filterTag(key.filterKey)) {
    throw new BadUserInputError(
      `Argument "${argName}" was issued for a different filter; start again without a cursor after changing the filter.`,
      { details: { argumentName: argName } },
    );
  }
  return Number(offsetText);
}
