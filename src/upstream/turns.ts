/**
 * Upstream answers are taken up in the event loop's check phase, after its poll phase, not inside it
 * (issue 13; bench/levers.md).
 *
 * Node runs I/O callbacks in the poll phase and `setImmediate` callbacks in the check phase right after it
 * (Node's guide "The Node.js Event Loop"). Turning an upstream body into a GraphQL response is most of a
 * request's CPU: `JSON.parse`, normalisation, execution, `JSON.stringify`. Done inside the poll phase, where
 * the body ends, it makes the requests that arrived in the same round wait for every answer of the round.
 * With answers that come back together, the gateway then moves in waves: all answers processed, then all
 * new requests sent upstream, then nothing to do until they come back. At 20 ms of upstream latency it ran
 * about 570 req/s with a core 55% busy. Taken up in the check phase, a round's new requests are read and
 * sent upstream first, so the upstream works while the gateway builds responses.
 *
 * One immediate per turn releases every answer waiting, so a busy gateway pays one callback per turn of
 * the loop, not one per answer. The gate changes when an answer is processed, never whether: every waiter
 * is released at the next turn.
 *
 * Long answers are not held: gating the 100-call page with transcripts (about 180,000 characters) cost it
 * 5–10% of throughput, a fifth more p99 and 15 MB more peak RSS, while the 15-call page (about 27,000)
 * gained a quarter (bench/levers.md). The limit sits between the two; sizes in between were not measured.
 */
export const GATED_ANSWER_MAX_CHARS = 64 * 1024;

export class CheckPhaseGate {
  private waiting: (() => void)[] = [];

  /**
   * For an answer of `chars` characters: a promise that resolves in the check phase of the current turn of
   * the event loop, after the poll phase; null for a long answer, which is taken up at once.
   */
  wait(chars: number): Promise<void> | null {
    return chars < GATED_ANSWER_MAX_CHARS ? this.next() : null;
  }

  private next(): Promise<void> {
    return new Promise((resolve) => {
      // The first waiter of a turn schedules its release; the others join it.
      if (this.waiting.push(resolve) === 1) setImmediate(this.release);
    });
  }

  private readonly release = (): void => {
    const released = this.waiting;
    this.waiting = [];
    for (const resolve of released) resolve();
  };
}
