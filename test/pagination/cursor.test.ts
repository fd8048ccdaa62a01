import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../src/errors.js';
import { cursorCodec, decodeCursor, encodeCursor } from '../../src/pagination/cursor.js';

const keyA = { filterKey: 'status=completed', secret: 'secret-1' };
const keyOtherFilter = { filterKey: 'status=failed', secret: 'secret-1' };
const keyOtherSecret = { filterKey: 'status=completed', secret: 'secret-2' };

const cursorA = encodeCursor(42, keyA);
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const flip = (cursor: string, part: number, replace: (s: string) => string) => {
  const parts = Buffer.from(cursor, 'base64url').toString().split(':');
  parts[part] = replace(parts[part]!);
  return b64(parts.join(':'));
};

function rejection(cursor: string, key = keyA): BadUserInputError {
  try {
    decodeCursor(cursor, key, 'after');
  } catch (error) {
    expect(error).toBeInstanceOf(BadUserInputError);
    return error as BadUserInputError;
  }
  throw new Error('cursor was accepted');
}

describe('cursor codec', () => {
  it('round-trips an anchored cursor (version 2)', () => {
    const codec = cursorCodec(keyA);
    const cursor = codec.encode(42, { callId: 123_456, createdAtMs: 1_754_055_268_525 });
    expect(Buffer.from(cursor, 'base64url').toString()).toMatch(/^cur2:42:/);
    expect(codec.decodeAnchored(cursor, 'after')).toEqual({
      offset: 42,
      anchor: { callId: 123_456, createdAtMs: 1_754_055_268_525 },
    });
    expect(codec.decode(cursor, 'after')).toBe(42);
  });

  it('still accepts version 1 cursors, without an anchor', () => {
    expect(cursorCodec(keyA).decodeAnchored(cursorA, 'after')).toEqual({ offset: 42, anchor: null });
  });

  it('rejects an anchored cursor whose anchor was edited', () => {
    const cursor = cursorCodec(keyA).encode(42, { callId: 123_456, createdAtMs: 1_000 });
    const parts = Buffer.from(cursor, 'base64url').toString().split(':');
    parts[3] = '654321';
    expect(() => decodeCursor(b64(parts.join(':')), keyA, 'after')).toThrow(/altered/);
  });

  it.each([0, 1, 42, 999_999, 123_456_789])('round-trips offset %i', (offset) => {
    expect(decodeCursor(encodeCursor(offset, keyA), keyA, 'after')).toBe(offset);
  });

  it('is opaque: base64url text that does not show the offset or the filter', () => {
    expect(cursorA).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursorA).not.toContain('42');
    expect(cursorA).not.toContain('completed');
  });

  it.each([
    ['an empty string', ''],
    ['a Pothos offset cursor', b64('OffsetConnection:42')],
    ['a Relay global id', b64('Call:42')],
    ['random text', 'hello world'],
    ['non-base64 characters', '!!!'],
    ['an overlong string', 'A'.repeat(500)],
  ])('rejects a foreign cursor: %s', (_name, cursor) => {
    const error = rejection(cursor);
    expect(error.message).toBe('Argument "after" is not a cursor of this connection.');
    expect(error.details).toEqual({ argumentName: 'after' });
  });

  it.each(['x', 'A', '_', 'AA'])('accepts only the exact string it issued, not one with %j appended', (suffix) => {
    // Base64url decoding drops the bits of a trailing partial character; the appended text must not vanish.
    // Cursors of every length modulo 4, so that an appended character either forms a new byte or none.
    const cursors = Array.from({ length: 12 }, (_, i) =>
      encodeCursor(
        10 ** (i % 6) + i,
        keyA,
        i < 6 ? undefined : { callId: 100_001 + i, createdAtMs: 1_767_225_600_000 },
      ),
    );
    expect(new Set(cursors.map((c) => c.length % 4))).toEqual(new Set([0, 2, 3]));
    for (const cursor of cursors) expect(rejection(`${cursor}${suffix}`).details).toEqual({ argumentName: 'after' });
  });

  it('rejects an unknown version', () => {
    expect(rejection(flip(cursorA, 0, () => 'cur9')).message).toMatch(/unsupported version/);
  });

  it.each([
    ['the offset changed', flip(cursorA, 1, () => '43')],
    ['the offset made negative', flip(cursorA, 1, () => '-1')],
    ['the offset made fractional', flip(cursorA, 1, () => '4.2')],
    ['the MAC changed', flip(cursorA, 3, (mac) => (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1))],
    ['the MAC truncated', flip(cursorA, 3, (mac) => mac.slice(0, 4))],
    [
      'the filter tag swapped for another filter',
      flip(cursorA, 2, () => Buffer.from(encodeCursor(42, keyOtherFilter), 'base64url').toString().split(':')[2]!),
    ],
  ])('rejects a tampered cursor: %s', (_name, cursor) => {
    expect(rejection(cursor).message).toBe('Argument "after" is not a valid cursor: it was altered.');
  });

  it('rejects a cursor signed with another secret (another deployment)', () => {
    expect(rejection(encodeCursor(42, keyOtherSecret)).message).toMatch(/altered/);
  });

  it('rejects a cursor issued under another filter', () => {
    expect(rejection(encodeCursor(42, keyOtherFilter)).message).toMatch(/issued for a different filter/);
  });

  it('names the argument it was given in', () => {
    expect(() => decodeCursor('nope', keyA, 'before')).toThrow('Argument "before" is not a cursor of this connection.');
  });
});
