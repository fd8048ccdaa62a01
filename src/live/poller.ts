/**
 * The one poller of an API key (issue 12, item 3). It runs on a replica only while that replica has local
 * subscribers of the key (only they hand it the key's token, which is never stored elsewhere), and polls
 * only while it holds the key's lease (`LiveStore.lease`: with Redis one holder in the whole deployment;
 * without, one per process). Each poll reads the head of the unfiltered list, one page, through the key's
 * scheduler at bulk priority (it takes a permit like any request, and never reads the page cache: what it
 * compares must be fresh), and hands the calls to `LiveStore.apply`, which detects new and changed calls
 * against the snapshot the previous holder left and logs the events. So 50 subscribers of a key cost the
 * upstream what one does.
 *
 * Its interval is `LIVE_POLL_INTERVAL_MS`, but never shorter than what keeps the poller within
 * `budgetShare` (30%) of every window of the key's budget: with the documented 100/60 s and 20/10 s that is
 * one poll per 2 s at most. Polls are spaced from the end of the previous one, so a poll that waited for
 * budget (bulk work yields to interactive reads) delays the next; a refusal or a failure backs off, doubling
 * up to a minute, and a refusal's `retryAfter` is honoured.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { GatewayError, UnauthenticatedError, UpstreamRateLimitedError } from '../errors.js';
import type { RateWindow } from '../upstream/budget.js';
import type { UpstreamAttemptInfo, UpstreamClient } from '../upstream/client.js';
import { pageQuery } from '../upstream/filter.js';
import type { Call } from '../upstream/model.js';
import { type NormalizeOptions, normalizeCallPage } from '../upstream/normalize.js';
import { type LiveStore, newer, type ObservedCall } from './store.js';

/** The fastest a poller may go so that its polls stay within `share` of every window of `windows`. */
export function minPollIntervalMs(windows: readonly RateWindow[], share: number): number {
  let interval = 0;
  for (const { limit, windowMs } of windows)
    interval = Math.max(interval, Math.ceil(windowMs / Math.max(1, Math.floor(limit * share))));
  return interval;
}

/** How long a lease lives without renewal: a crashed holder is replaced within this and 2 s. */
export function leaseMsFor(intervalMs: number): number {
  return Math.min(10_000, Math.max(3_000, 2 * intervalMs));
}

/** A call's fingerprint: what must change for an UPDATED event (issue 12: `updated_at` and status). */
function fingerprintOf(record: Record<string, unknown>): string {
  return `${JSON.stringify(record.updated_at ?? null)}|${JSON.stringify(record.status ?? null)}`;
}

/** A call as the live store records it. */
export function observed(record: Record<string, unknown>, call: Call, offset: number): ObservedCall {
  return {
    callId: call.callId,
    fingerprint: fingerprintOf(record),
    createdMs: call.createdAt.getTime(),
    offset,
    record: JSON.stringify(record),
  };
}

export interface PollerOptions {
  key: string;
  token: string;
  client: UpstreamClient;
  store: LiveStore;
  clock: Clock;
  logger: Logger;
  normalize: NormalizeOptions;
  /** This replica's lease holder id. */
  holder: string;
  intervalMs: number;
  /** Rows read per poll (the head). @default 100 */
  pageSize: number;
  /** When the key was last polled in this process (a poller restarted at once does not poll again at once). */
  lastPollAt: number;
  /** A poll finished (its time), for the next poller of the key. */
  onPolled(at: number): void;
  /** The upstream refused the key: the subscribers are told, and the poller stops. */
  onRefused(error: GatewayError): void;
  /** Told about each upstream attempt (metrics, tests). */
  onAttempt?: (info: UpstreamAttemptInfo) => void;
}

const MAX_BACKOFF_MS = 60_000;

export class KeyPoller {
  private stopped = false;
  private holding = false;
  private polling = false;
  private leaseTimer: unknown = null;
  private pollTimer: unknown = null;
  private nextPollAt: number;
  private failures = 0;
  /** The list's order as its rows show it (drift.ts reads it the same way), and its last total. */
  private oldestFirst = false;
  private total: number | null = null;
  /** Rows per page: `pageSize`, or less once the upstream was seen to cap `per_page` (its echo says). */
  private perPage: number;
  private readonly leaseMs: number;

  constructor(private readonly options: PollerOptions) {
    this.leaseMs = leaseMsFor(options.intervalMs);
    this.perPage = options.pageSize;
    this.nextPollAt = options.lastPollAt + options.intervalMs;
  }

  /** Whether this poller holds the key's lease now. */
  get holdsLease(): boolean {
    return this.holding;
  }

  start(): void {
    void this.renew();
  }

  /** Stops polling and gives the lease up (the next replica with subscribers takes it at once). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { clock, store, key, holder } = this.options;
    clock.clearTimeout(this.leaseTimer);
    clock.clearTimeout(this.pollTimer);
    if (this.holding) {
      this.holding = false;
      await store.release(key, holder);
    }
  }

  /** Takes or renews the lease. */
  private async renew(): Promise<void> {
    const { clock, store, key, holder, logger } = this.options;
    let held = false;
    try {
      held = await store.lease(key, holder, this.leaseMs);
    } catch (error) {
      logger.debug({ error: (error as Error).message }, 'live: lease check failed');
    }
    if (this.stopped) {
      if (held) await store.release(key, holder);
      return;
    }
    if (held !== this.holding) {
      logger.info({ holder }, held ? 'live: this replica now polls a key' : 'live: another replica polls a key');
    }
    this.holding = held;
    if (held && !this.polling && this.pollTimer === null) this.schedulePoll();
    // A holder renews at a third of the lease's life; a replica waiting for it asks every 2 s at most, so that a
    // crashed holder is replaced within the lease and 2 s (12 s with the default interval).
    this.leaseTimer = clock.setTimeout(
      () => void this.renew(),
      Math.floor(held ? this.leaseMs / 3 : Math.min(this.leaseMs / 3, 2_000)),
    );
  }

  private schedulePoll(): void {
    const { clock } = this.options;
    clock.clearTimeout(this.pollTimer);
    this.pollTimer = clock.setTimeout(
      () => {
        this.pollTimer = null;
        void this.poll();
      },
      Math.max(0, this.nextPollAt - clock.now()),
    );
  }

  private async poll(): Promise<void> {
    if (this.stopped || !this.holding || this.polling) return;
    const { clock, logger } = this.options;
    this.polling = true;
    let waitMs = this.options.intervalMs;
    try {
      await this.readHead();
      this.failures = 0;
    } catch (error) {
      this.failures++;
      if (error instanceof UnauthenticatedError) {
        // Polling again would be refused again: the key's subscribers are told, and this poller stops.
        this.options.onRefused(error);
        void this.stop();
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, this.options.intervalMs * 2 ** this.failures);
      const retryAfter =
        error instanceof UpstreamRateLimitedError && error.retryAfter !== null ? error.retryAfter * 1000 : 0;
      waitMs = Math.max(backoff, retryAfter);
      const code = error instanceof GatewayError ? error.code : 'INTERNAL';
      // One line per streak of failures, not one per poll.
      if (this.failures === 1) logger.warn({ code, retryInMs: waitMs }, 'live: polling a key failed; backing off');
    } finally {
      this.polling = false;
      this.options.onPolled(clock.now());
    }
    this.nextPollAt = clock.now() + waitMs;
    if (!this.stopped && this.holding) this.schedulePoll();
  }

  /**
   * One page of the head of the unfiltered list, then `apply`. For a list in oldest-first order the head is
   * its last page (from the total of the previous read); the first page of such a list is never applied.
   */
  private async readHead(): Promise<void> {
    const { store, key } = this.options;
    const lastPage = () => Math.max(1, Math.ceil((this.total ?? 0) / this.perPage));
    let page = this.oldestFirst ? lastPage() : 1;
    let read = await this.readPage(page);
    if (page === 1 && isOldestFirst(read.calls.map((entry) => entry.call)) && (this.total ?? 0) > this.perPage) {
      this.oldestFirst = true;
      page = lastPage();
      read = await this.readPage(page);
    }
    const first = (page - 1) * this.perPage;
    const calls = read.calls.map((entry, i) => observed(entry.record, entry.call, first + i));
    // Oldest first, so that calls created between two polls are logged in the order they were created.
    calls.sort((a, b) => (newer(a, b) ? 1 : -1));
    await store.apply(key, calls, 'poll', this.perPage);
  }

  private async readPage(page: number): Promise<{ calls: { call: Call; record: Record<string, unknown> }[] }> {
    const { client, key, token, normalize, logger } = this.options;
    const answer = await client.listCalls(pageQuery('', this.perPage, page), {
      token,
      key,
      priority: 'bulk',
      onAttempt: this.options.onAttempt,
    });
    const warnings: NonNullable<Parameters<typeof normalizeCallPage>[2]> = [];
    // A record without a readable id or created_at fails the page, as everywhere (../shared/docs/clarifications.md).
    const read = normalizeCallPage(answer.body, normalize, warnings);
    if (warnings.length > 0) logger.debug({ warnings: warnings.length }, 'live: repaired malformed upstream values');
    const records = (answer.body as { data: Record<string, unknown>[] }).data;
    this.total = read.total;
    const served = read.echo.perPage;
    if (served !== null && served >= 1 && served < this.perPage && read.calls.length <= served) this.perPage = served;
    return { calls: read.calls.map((call, i) => ({ call, record: records[i]! })) };
  }
}

/** Oldest first when some row is older than the one after it (as drift.ts decides). */
function isOldestFirst(calls: readonly Call[]): boolean {
  for (let i = 0; i + 1 < calls.length; i++) {
    const a = calls[i]!.createdAt.getTime();
    const b = calls[i + 1]!.createdAt.getTime();
    if (a !== b) return a < b;
  }
  return false;
}
