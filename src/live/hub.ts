/**
 * Live calls in one process (issue 12, items 2–4): the subscribers of each API key, one feed per key that
 * reads the key's log (store.ts) and hands each entry to every local subscriber, the key's poller
 * (poller.ts), and the re-read behind a webhook. Built once per gateway in server.ts; the GraphQL side
 * (schema/events.ts) filters what it gets per subscriber, and sse.ts writes it with its ids.
 *
 * Resuming (`Last-Event-ID`): a subscriber joins the feed first (live entries are held back), then reads the
 * log after the id it was given, then gets the held entries it did not read; entries are compared by id, so
 * nothing is lost or repeated. When entries after the id were dropped, the id is not of this log, or the
 * log says changes may be missing (`GAP`), it gets the resync signal instead and continues from there.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { type GatewayError, UpstreamBadResponseError, UpstreamUnavailableError } from '../errors.js';
import type { UpstreamAttemptInfo, UpstreamClient } from '../upstream/client.js';
import type { Call } from '../upstream/model.js';
import { type NormalizeOptions, normalizeCall, unwrapCallRecord } from '../upstream/normalize.js';
import { keyId } from '../upstream/resilience.js';
import { KeyPoller, observed } from './poller.js';
import { type CallEventKind, comesAfter, type LiveStore, type LoggedEvent } from './store.js';

/** What a subscriber receives, in log order. */
export type LiveItem =
  | { type: 'event'; id: string; kind: CallEventKind; call: Call; offset: number }
  /** Entries were missed: read the list again; the stream continues after `id`. */
  | { type: 'resync'; id: string }
  /** The stream ends with this error (the upstream refused the key). */
  | { type: 'error'; error: GatewayError };

/** A subscriber's stream of items, ending when the client leaves, the key is refused, or the gateway stops. */
export interface LiveStream extends AsyncIterableIterator<LiveItem> {
  /** Where the stream starts: the `Last-Event-ID` it resumed from, or the log's head when it joined. */
  readonly startId: string;
  /** Why it ended; `shutdown` means the client should reconnect (to another replica) and resume. */
  readonly endedBy: 'client' | 'shutdown' | 'error' | null;
}

/** What a webhook's re-read of a call led to. */
export type HintOutcome =
  | { outcome: 'published'; kind: CallEventKind; id: string }
  | { outcome: 'unchanged' }
  | { outcome: 'not-found' };

export interface LiveHubOptions {
  client: UpstreamClient;
  store: LiveStore;
  clock: Clock;
  logger: Logger;
  normalize: NormalizeOptions;
  /** The poll interval in force: `LIVE_POLL_INTERVAL_MS`, raised to the budget share's minimum. */
  pollIntervalMs: number;
  /** Rows of the list's head each poll reads. @default 100 */
  pageSize?: number;
  /** Items a subscriber may have waiting; beyond that it gets the resync signal instead. @default 1000 */
  maxQueue?: number;
  onAttempt?: (info: UpstreamAttemptInfo) => void;
}

/** Entries read from the log per round trip. */
const READ_BATCH = 200;

class Subscription implements LiveStream {
  private queue: LiveItem[] = [];
  private wake: (() => void) | null = null;
  private done = false;
  /** Live entries held back while the subscriber reads the log after its id. */
  private held: LoggedEvent[] | null = [];
  endedBy: LiveStream['endedBy'] = null;
  /** The newest entry this subscriber has been given (or skipped); live entries up to it are not repeated. */
  after: string;

  constructor(
    readonly startId: string,
    private readonly maxQueue: number,
    private readonly toItem: (entry: LoggedEvent) => LiveItem | null,
    private readonly onEnd: (subscription: Subscription) => void,
  ) {
    this.after = startId;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** An entry of the key's log, from the feed (held back while catching up) or from the catch-up read. */
  offer(entry: LoggedEvent, live: boolean): void {
    if (this.done) return;
    if (live && this.held) {
      this.held.push(entry);
      return;
    }
    if (!comesAfter(entry.id, this.after)) return;
    this.after = entry.id;
    const item = this.toItem(entry);
    if (item) this.push(item);
  }

  /** Caught up: the held entries it has not read follow. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const entry of held) this.offer(entry, false);
  }

  push(item: LiveItem): void {
    if (this.done) return;
    if (this.queue.length >= this.maxQueue) {
      // Too slow a reader: what it would have read is replaced by the signal to read the list again.
      this.queue = [{ type: 'resync', id: this.after }];
    } else {
      this.queue.push(item);
    }
    this.wake?.();
  }

  end(by: NonNullable<LiveStream['endedBy']>): void {
    if (this.done) return;
    this.done = true;
    this.endedBy = by;
    if (by !== 'error') this.queue = [];
    this.wake?.();
    this.onEnd(this);
  }

  async next(): Promise<IteratorResult<LiveItem>> {
    for (;;) {
      const item = this.queue.shift();
      if (item) return { value: item, done: false };
      if (this.done) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  async return(): Promise<IteratorResult<LiveItem>> {
    this.end('client');
    return { value: undefined, done: true };
  }
}

/** One key's subscribers in this process, the reader of its log, and its poller. */
class KeyFeed {
  readonly subscribers = new Set<Subscription>();
  /** The newest entry read from the log; null while its head could not be read (Redis unreachable). */
  private lastId: string | null = null;
  /** The newest entry read from the store's fallback log in this process (Redis unreachable); null: none. */
  private fallbackId: string | null = null;
  private started = false;
  readonly ready: Promise<void>;
  private reading = false;
  private again = false;
  private closed = false;
  /** Set while the log is unreachable: it is read again every second until it answers. */
  private retry: unknown = null;
  private readonly unwatch: () => void;

  constructor(
    private readonly key: string,
    private readonly store: LiveStore,
    readonly poller: KeyPoller,
    private readonly deliver: (subscribers: Iterable<Subscription>, entry: LoggedEvent) => void,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    // Watch first, then read the head: an entry appended in between is read by the first pull.
    this.unwatch = store.watch(key, () => void this.pull());
    this.ready = Promise.all([store.head(key), store.fallbackHead?.(key) ?? null]).then(([head, fallback]) => {
      this.lastId = head;
      this.fallbackId = fallback;
      this.started = true;
      poller.start();
      void this.pull();
    });
  }

  /** Where a subscriber joining now starts: the newest entry read from the log (or the fallback log's, meanwhile). */
  get position(): string {
    return this.lastId ?? this.fallbackId ?? '';
  }

  /** Reads the entries after `lastId` and hands them on; one read at a time, again when woken meanwhile. */
  async pull(): Promise<void> {
    if (!this.started || this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        if (this.lastId !== null) this.lastId = await this.drain(this.lastId);
        else await this.findHead();
        // While Redis is unreachable the events of this replica's own poller go to the log in this process.
        if (this.fallbackId !== null) this.fallbackId = await this.drain(this.fallbackId);
      } while (this.again && !this.closed);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'live: reading a key log failed');
    } finally {
      this.reading = false;
    }
  }

  /**
   * The log could not be read when the feed started (Redis unreachable): once it can, the feed starts at its
   * head, and its subscribers, who may have missed what other replicas logged meanwhile, are told to resync.
   */
  private async findHead(): Promise<void> {
    const head = await this.store.head(this.key);
    if (head === null) return this.retryLater();
    this.lastId = head;
    this.deliver(this.subscribers, { id: head, kind: 'GAP', record: '', offset: 0 });
  }

  private retryLater(): void {
    this.retry ??= this.clock.setTimeout(() => {
      this.retry = null;
      void this.pull();
    }, 1_000);
  }

  /** Hands on the entries of one log after `from`; returns the new position. */
  private async drain(from: string): Promise<string> {
    let position = from;
    for (;;) {
      const read = await this.store.read(this.key, position, READ_BATCH);
      if (this.closed) return position;
      if ('resync' in read) {
        // This replica's reader fell behind the log (or the log was lost): every subscriber resyncs.
        this.deliver(this.subscribers, { id: read.head, kind: 'GAP', record: '', offset: 0 });
        return read.head;
      }
      // Unreachable: read again from the same place, every second until it answers.
      if (read.unavailable) {
        this.retryLater();
        return position;
      }
      for (const entry of read.entries) {
        position = entry.id;
        this.deliver(this.subscribers, entry);
      }
      if (read.entries.length < READ_BATCH) return position;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.retry);
    this.unwatch();
    await this.poller.stop();
  }
}

export class LiveHub {
  private readonly feeds = new Map<string, KeyFeed>();
  /** When each key was last polled by this process: a poller restarted at once waits for its interval. */
  private readonly lastPolls = new Map<string, number>();
  private readonly pageSize: number;
  private readonly maxQueue: number;
  /** This replica as a lease holder: host, process and a random part (a restarted process is another). */
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private closing = false;

  constructor(private readonly options: LiveHubOptions) {
    this.pageSize = options.pageSize ?? 100;
    this.maxQueue = options.maxQueue ?? 1_000;
  }

  /** The interval each key's poller keeps: `LIVE_POLL_INTERVAL_MS`, raised to the budget share's minimum. */
  get pollIntervalMs(): number {
    return this.options.pollIntervalMs;
  }

  /** Keys with subscribers in this process, and whether this process polls them (for health and tests). */
  snapshot(): { keys: number; subscribers: number; polling: number } {
    let subscribers = 0;
    let polling = 0;
    for (const feed of this.feeds.values()) {
      subscribers += feed.subscribers.size;
      if (feed.poller.holdsLease) polling++;
    }
    return { keys: this.feeds.size, subscribers, polling };
  }

  /** An entry as a subscriber gets it: the call normalised, or the resync signal for a GAP. */
  private itemOf(entry: LoggedEvent): LiveItem | null {
    if (entry.kind === 'GAP') return { type: 'resync', id: entry.id };
    try {
      const call = normalizeCall(JSON.parse(entry.record), this.options.normalize, []);
      return { type: 'event', id: entry.id, kind: entry.kind, call, offset: entry.offset };
    } catch {
      // Records are checked before they are logged; one that cannot be read is skipped, not guessed at.
      return null;
    }
  }

  /**
   * Subscribes to the key of `token`: resumes after `lastEventId` when given, otherwise starts at the head.
   * `signal` (the client's request) ends the stream when it aborts.
   */
  async subscribe(token: string, lastEventId: string | null, signal?: AbortSignal): Promise<LiveStream> {
    if (this.closing) throw new UpstreamUnavailableError('The gateway is shutting down.');
    const key = keyId(token);
    const feed = this.feedFor(key, token);
    await feed.ready;
    // Where the feed stood when the subscriber joined: entries after it are held back for it.
    const joinedAt = feed.position;
    const subscription = new Subscription(
      lastEventId ?? joinedAt,
      this.maxQueue,
      (entry) => this.itemOf(entry),
      (ended) => void this.leave(key, ended),
    );
    feed.subscribers.add(subscription);
    if (lastEventId !== null) await this.catchUp(key, subscription, lastEventId, joinedAt);
    subscription.release();
    if (signal) {
      if (signal.aborted) subscription.end('client');
      else signal.addEventListener('abort', () => subscription.end('client'), { once: true });
    }
    return subscription;
  }

  /** The log after `after`, into the subscription; the resync signal when it cannot be read from there. */
  private async catchUp(key: string, subscription: Subscription, after: string, joinedAt: string): Promise<void> {
    const { store } = this.options;
    let position = after;
    for (;;) {
      const read = store.owns(position)
        ? await store.read(key, position, READ_BATCH)
        : { resync: true as const, head: joinedAt };
      // A log that cannot be read now cannot say what was missed either.
      if ('resync' in read || read.unavailable) {
        // Continue from where the feed stood when the subscriber joined: what it held back comes next.
        subscription.after = joinedAt;
        subscription.push({ type: 'resync', id: joinedAt });
        return;
      }
      for (const entry of read.entries) subscription.offer(entry, false);
      if (read.entries.length < READ_BATCH) return;
      position = read.entries.at(-1)!.id;
    }
  }

  private feedFor(key: string, token: string): KeyFeed {
    let feed = this.feeds.get(key);
    if (feed) return feed;
    const { options } = this;
    const poller: KeyPoller = new KeyPoller({
      key,
      token,
      client: options.client,
      store: options.store,
      clock: options.clock,
      logger: options.logger,
      normalize: options.normalize,
      holder: this.holder,
      intervalMs: options.pollIntervalMs,
      pageSize: this.pageSize,
      lastPollAt: this.lastPolls.get(key) ?? Number.NEGATIVE_INFINITY,
      onPolled: (at) => this.lastPolls.set(key, at),
      onRefused: (error) => this.refuse(key, error),
      onAttempt: options.onAttempt,
    });
    feed = new KeyFeed(
      key,
      options.store,
      poller,
      (subscribers, entry) => {
        for (const subscription of subscribers) subscription.offer(entry, true);
      },
      options.logger,
      options.clock,
    );
    this.feeds.set(key, feed);
    return feed;
  }

  /** The upstream refused the key: its subscribers get the error and their streams end. */
  private refuse(key: string, error: GatewayError): void {
    const feed = this.feeds.get(key);
    for (const subscription of [...(feed?.subscribers ?? [])]) {
      subscription.push({ type: 'error', error });
      subscription.end('error');
    }
  }

  /** A subscriber left; the key's last one stops its feed and poller, and with it drops the token. */
  private async leave(key: string, subscription: Subscription): Promise<void> {
    const feed = this.feeds.get(key);
    if (!feed?.subscribers.delete(subscription) || feed.subscribers.size > 0) return;
    this.feeds.delete(key);
    await feed.close();
    if (this.lastPolls.size > 10_000) this.lastPolls.clear();
  }

  /**
   * A webhook named `callId` for the key of `token`: the call is read again (`GET /user/calls/{id}`, at
   * interactive priority, through the key's scheduler), and the answer, never the webhook's payload, is
   * compared with the key's snapshot and logged. Throws the upstream's GatewayError when it cannot be read.
   */
  async hint(token: string, callId: number): Promise<HintOutcome> {
    const key = keyId(token);
    const { client, normalize, store } = this.options;
    const answer = await client.getCall(callId, {
      token,
      key,
      priority: 'interactive',
      onAttempt: this.options.onAttempt,
    });
    if (answer === null) return { outcome: 'not-found' };
    const record = unwrapCallRecord(answer.body);
    const call = normalizeCall(record, normalize, []);
    if (call.callId !== callId) {
      throw new UpstreamBadResponseError('The upstream answered with another call than the one asked for.');
    }
    const [entry] = await store.apply(
      key,
      [observed(record as Record<string, unknown>, call, 0)],
      'hint',
      this.pageSize,
    );
    return entry && entry.kind !== 'GAP'
      ? { outcome: 'published', kind: entry.kind, id: entry.id }
      : { outcome: 'unchanged' };
  }

  /**
   * Stops every poller (releasing its lease) and ends every stream as `shutdown`, which sse.ts closes without
   * a `complete` message, so clients reconnect (to another replica) and resume with their last id.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    for (const feed of feeds) for (const subscription of [...feed.subscribers]) subscription.end('shutdown');
    await Promise.all(feeds.map((feed) => feed.close()));
    await this.options.store.close();
  }
}
