import { describe, expect, it } from 'vitest';
import { CheckPhaseGate, GATED_ANSWER_MAX_CHARS } from '../../src/upstream/turns.js';

/** Lets the microtask queue drain several times over. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** The 15-call page's size, about 27,000 characters. */
const SHORT = 27_000;

describe('CheckPhaseGate', () => {
  it.each([
    ['the 15-call page', SHORT, true],
    ['an empty page', 200, true],
    ['just under the limit', GATED_ANSWER_MAX_CHARS - 1, true],
    ['at the limit', GATED_ANSWER_MAX_CHARS, false],
    ['the 100-call page with transcripts', 180_000, false],
  ])('holds %s (%i characters): %s', (_name, chars, held) => {
    expect(new CheckPhaseGate().wait(chars) !== null).toBe(held);
  });

  it('releases nobody within the microtasks of the turn that asked', async () => {
    const gate = new CheckPhaseGate();
    let released = false;
    void gate.wait(SHORT)!.then(() => (released = true));
    await microtasks();
    expect(released).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(true);
  });

  it('releases every waiter of a turn in that turn, before a later immediate', async () => {
    const gate = new CheckPhaseGate();
    const order: string[] = [];
    const waiters = Array.from({ length: 50 }, (_, i) => gate.wait(SHORT)!.then(() => order.push(`answer ${i}`)));
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        order.push('later immediate');
        resolve();
      }),
    );
    await Promise.all(waiters);
    expect(order.indexOf('later immediate')).toBe(50);
    expect(order.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `answer ${i}`));
  });

  it('takes a waiter that comes while a turn is being released at the next turn', async () => {
    const gate = new CheckPhaseGate();
    const order: string[] = [];
    await gate.wait(SHORT)!;
    // Now inside the gate's turn: an immediate registered first runs first in the next turn.
    setImmediate(() => order.push('registered first'));
    await gate.wait(SHORT)!.then(() => order.push('waiter'));
    expect(order).toEqual(['registered first', 'waiter']);
  });
});
