/**
 * The simulator is the test oracle, so it must not share code with what it tests (issue 14, item 3): it
 * imports nothing from the gateway's modules. Where both sides read the same document (the status and type
 * spellings), the two readings are compared here, so a misspelling on either side fails a test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CALL_STATUSES, CALL_TYPES } from '../../src/simulator/wire.js';
import { UPSTREAM_CALL_STATUSES, UPSTREAM_CALL_TYPES } from '../../src/upstream/model.js';

const dir = 'src/simulator';
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('the simulator stands on its own', () => {
  it.each(files)('%s imports only node built-ins, packages and other simulator files', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...source.matchAll(/\b(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
    const outside = specifiers.filter((s) => s.startsWith('.') && !/^\.\/[\w.-]+$/.test(s));
    expect(outside).toEqual([]);
  });

  it("the gateway's and the simulator's readings of the documented statuses and types agree", () => {
    expect([...UPSTREAM_CALL_STATUSES].sort()).toEqual([...CALL_STATUSES].sort());
    expect([...UPSTREAM_CALL_TYPES].sort()).toEqual([...CALL_TYPES].sort());
  });
});
