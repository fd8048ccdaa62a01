/**
 * The live store in Redis (store.ts), shared by every replica and worker with the same `REDIS_URL`:
 *
 * - the key's log is a Redis Stream, `XADD … MAXLEN <LOG_MAX_ENTRIES>` (exact trimming); stream ids are the
 *   SSE ids, and a client's id that the stream no longer holds means entries after it were dropped;
 * - the snapshot is a hash, callId -> fingerprint, plus the watermark under the field `~`;
 * - both are changed by one Lua script (`apply`), so a poller and a webhook, or two pollers during a lease
 *   hand-over, never publish one change twice; the script also `PUBLISH`es the newest id on the key's
 *   channel, which wakes the replicas with subscribers of that key (one subscriber connection per process);
 * - the poller lease is `SET <lease> <holder> NX PX <ttl>`, renewed and released by compare-and-set scripts.
 *
 * Every key carries the key hash only and a TTL (`LIVE_STATE_TTL_MS`, the lease its own). When a command
 * fails (Redis unreachable), the shared store's `attempt` falls back to the in-process store: events are then
 * delivered to this replica's subscribers with ids of that log, and every replica polls for itself until Redis
 * is back (fail open). A client resuming with an id of the other log gets the resync signal.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SharedStore } from '../shared/store.js';
import type { MemoryLiveStore } from './memory.js';
import {
  type ApplyMode,
  LIVE_STATE_TTL_MS,
  type LiveStore,
  LOG_MAX_ENTRIES,
  type LoggedEvent,
  type LogRead,
  type ObservedCall,
  SNAPSHOT_MAX_CALLS,
} from './store.js';

/** The zero id: the head of a log that holds nothing (yet). */
const ZERO = '0-0';
const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

/**
 * KEYS: snapshot hash, stream. ARGV: mode, maxlen, ttl ms, channel, snapshot cap, page size, then five per call:
 * id, fingerprint, created ms, offset, record. Returns [entry id, kind, call id, …] for the entries appended.
 * The rules are those of memory.ts `apply`, which the tests run against both stores.
 */
const APPLY = `
local snap, stream = KEYS[1], KEYS[2]
local mode, maxlen, ttl, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cap, pageSize = tonumber(ARGV[5]), tonumber(ARGV[6])
local meta = redis.call('HGET', snap, '~')
local wc, wi
if meta and meta ~= '' then
  local sep = string.find(meta, ':', 1, true)
  wc = tonumber(string.sub(meta, 1, sep - 1))
  wi = tonumber(string.sub(meta, sep + 1))
end
local function isNewer(c, i, c2, i2)
  if c ~= c2 then return c > c2 end
  return i > i2
end
local out = {}
local function add(kind, offset, record, callId)
  local id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*', 'k', kind, 'o', offset, 'c', record)
  out[#out + 1] = id
  out[#out + 1] = kind
  out[#out + 1] = callId
end
if mode == 'poll' and not meta and redis.call('EXISTS', stream) == 1 then add('GAP', '0', '', '') end
local created, n = 0, 0
local lowC, lowI, lowText
for a = 7, #ARGV, 5 do
  n = n + 1
  local id, fp, c, off, rec = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4]
  local i = tonumber(id)
  local old = redis.call('HGET', snap, id)
  if old ~= fp then
    local kind = 'UPDATED'
    if not old then
      local fresh = meta == '' or (wc ~= nil and isNewer(c, i, wc, wi))
      if mode == 'poll' then
        if fresh then
          kind = 'CREATED'
          created = created + 1
        else
          kind = nil
        end
      elseif fresh or not meta then
        kind = 'CREATED'
      end
    end
    redis.call('HSET', snap, id, fp)
    if kind then add(kind, off, rec, id) end
  end
  if mode == 'poll' and (lowC == nil or isNewer(lowC, lowI, c, i)) then
    lowC, lowI, lowText = c, i, ARGV[a + 2] .. ':' .. id
  end
end
if mode == 'poll' then
  if created > 0 and created == n and n >= pageSize then add('GAP', '0', '', '') end
  if redis.call('HLEN', snap) > cap then
    redis.call('DEL', snap)
    for a = 7, #ARGV, 5 do redis.call('HSET', snap, ARGV[a], ARGV[a + 1]) end
  end
  redis.call('HSET', snap, '~', lowText or '')
end
redis.call('PEXPIRE', snap, ttl)
if redis.call('EXISTS', stream) == 1 then redis.call('PEXPIRE', stream, ttl) end
if #out > 0 then redis.call('PUBLISH', channel, out[#out - 2]) end
return out
`;

/**
 * KEYS: stream. ARGV: after, count. Returns {'ok', entries} or {'resync', head}. Every id the gateway hands
 * out is an entry of the stream or the zero id, so an id the stream no longer holds was trimmed (entries after
 * it are gone) or is foreign (Redis restarted or flushed, another deployment): resync; so is the zero id once
 * anything was trimmed (`entries-added` > `length`; Redis 7.0 leaves `max-deleted-entry-id` at 0-0 when
 * trimming). Atomic, so trimming cannot slip between the check and the read.
 */
const READ = `
local stream, after = KEYS[1], ARGV[1]
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function cmp(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
if redis.call('EXISTS', stream) == 0 then
  if after == '0-0' then return {'ok', {}} end
  return {'resync', '0-0'}
end
local info = redis.call('XINFO', 'STREAM', stream)
local last, length, added = '0-0', 0, 0
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
  if info[i] == 'length' then length = info[i + 1] end
  if info[i] == 'entries-added' then added = info[i + 1] end
end
if cmp(after, last) > 0 then return {'resync', last} end
if after == '0-0' then
  if added > length then return {'resync', last} end
elseif #redis.call('XRANGE', stream, after, after) == 0 then
  return {'resync', last}
end
return {'ok', redis.call('XRANGE', stream, '(' .. after, '+', 'COUNT', ARGV[2])}
`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type ScriptedRedis = Redis & {
  liveApply(...args: (string | number)[]): Promise<string[]>;
  liveRead(stream: string, after: string, count: number): Promise<['ok', [string, string[]][]] | ['resync', string]>;
  liveRenew(lease: string, holder: string, ttlMs: number): Promise<number>;
  liveRelease(lease: string, holder: string): Promise<number>;
};

function scripted(redis: Redis): ScriptedRedis {
  const commands = redis as ScriptedRedis;
  if (typeof commands.liveApply !== 'function') {
    redis.defineCommand('liveApply', { numberOfKeys: 2, lua: APPLY });
    redis.defineCommand('liveRead', { numberOfKeys: 1, lua: READ });
    redis.defineCommand('liveRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('liveRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  return commands;
}

/** `[id, [field, value, …]]` as XRANGE answers, into a log entry. */
function entryOf([id, fields]: [string, string[]]): LoggedEvent {
  const value = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
  return { id, kind: value('k') as LoggedEvent['kind'], record: value('c'), offset: Number(value('o')) || 0 };
}

export class RedisLiveStore implements LiveStore {
  private readonly redis: ScriptedRedis;
  private readonly subscriber: Redis;
  /** Channel -> listeners of that key. */
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(
    private readonly shared: SharedStore,
    /** Where events go while Redis is unreachable. */
    private readonly local: MemoryLiveStore,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.redis = scripted(shared.redis);
    // Pub/sub needs a connection of its own; it waits for no reply, so no command timeout, and it
    // resubscribes by itself after a reconnection. Notifications sent meanwhile are lost: on every
    // (re)connection each watched key is told to read its log again.
    this.subscriber = shared.redis.duplicate({
      commandTimeout: undefined,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (channel: string) => {
      for (const listener of this.watchers.get(channel) ?? []) listener();
    });
    this.subscriber.on('ready', () => {
      const channels = [...this.watchers.keys()];
      if (channels.length > 0) void this.subscriber.subscribe(...channels).catch(() => {});
      for (const listeners of this.watchers.values()) for (const listener of listeners) listener();
    });
  }

  private key(kind: string, key: string): string {
    return this.shared.key('live', kind, key);
  }

  owns(id: string): boolean {
    return STREAM_ID.test(id) || this.local.owns(id);
  }

  async apply(key: string, calls: readonly ObservedCall[], mode: ApplyMode, pageSize: number): Promise<LoggedEvent[]> {
    const args: (string | number)[] = [
      this.key('snapshot', key),
      this.key('log', key),
      mode,
      LOG_MAX_ENTRIES,
      LIVE_STATE_TTL_MS,
      this.key('channel', key),
      SNAPSHOT_MAX_CALLS,
      pageSize,
    ];
    for (const call of calls)
      args.push(String(call.callId), call.fingerprint, call.createdMs, call.offset, call.record);
    const appended = await this.shared.attempt(
      'live apply',
      async () => {
        const reply = await this.redis.liveApply(...args);
        this.local.mirror(key, calls, mode, pageSize);
        const byId = new Map(calls.map((call) => [String(call.callId), call]));
        const appended: LoggedEvent[] = [];
        for (let i = 0; i + 2 < reply.length; i += 3) {
          const call = byId.get(reply[i + 2]!);
          appended.push({
            id: reply[i]!,
            kind: reply[i + 1] as LoggedEvent['kind'],
            record: call?.record ?? '',
            offset: call?.offset ?? 0,
          });
        }
        return appended;
      },
      () => null,
    );
    return appended ?? this.local.apply(key, calls, mode, pageSize);
  }

  async read(key: string, after: string, limit: number): Promise<LogRead> {
    if (!STREAM_ID.test(after)) return this.local.read(key, after, limit);
    return this.shared.attempt(
      'live read',
      async (): Promise<LogRead> => {
        const reply = await this.redis.liveRead(this.key('log', key), after, limit);
        if (reply[0] === 'resync') return { resync: true, head: reply[1] };
        return { entries: reply[1].map(entryOf) };
      },
      (): LogRead => ({ entries: [], unavailable: true }),
    );
  }

  fallbackHead(key: string): Promise<string> {
    return this.local.head(key);
  }

  async head(key: string): Promise<string | null> {
    // A replica that has just started may still be connecting: worth a short wait, not a fallback.
    if (!this.shared.available() && this.shared.redis.status !== 'end') await this.connected(2_000);
    return this.shared.attempt(
      'live head',
      async () => {
        const [newest] = await this.redis.xrevrange(this.key('log', key), '+', '-', 'COUNT', 1);
        return newest?.[0] ?? ZERO;
      },
      () => null,
    );
  }

  /** Resolves when the shared connection is ready, or after `ms`. */
  private connected(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        this.shared.redis.off('ready', done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.shared.redis.once('ready', done);
    });
  }

  async lease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const lease = this.key('lease', key);
    // Without Redis no replica can know of the others: each polls for itself (fail open).
    return this.shared.attempt(
      'live lease',
      async () =>
        (await this.redis.set(lease, holder, 'PX', ttlMs, 'NX')) === 'OK' ||
        (await this.redis.liveRenew(lease, holder, ttlMs)) === 1,
      () => true,
    );
  }

  async release(key: string, holder: string): Promise<void> {
    await this.shared.attempt(
      'live release',
      async () => void (await this.redis.liveRelease(this.key('lease', key), holder)),
      () => undefined,
    );
  }

  watch(key: string, listener: () => void): () => void {
    const channel = this.key('channel', key);
    let listeners = this.watchers.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.watchers.set(channel, listeners);
      if (this.subscriber.status === 'ready') {
        void this.subscriber.subscribe(channel).then(
          // Entries appended before the subscription took effect would otherwise wait for the next one.
          () => listener(),
          (error: Error) => this.logger.debug({ error: error.message }, 'live: subscribing to a key channel failed'),
        );
      }
    }
    listeners.add(listener);
    const unwatchLocal = this.local.watch(key, listener);
    return () => {
      unwatchLocal();
      listeners.delete(listener);
      if (listeners.size === 0) {
        this.watchers.delete(channel);
        if (this.subscriber.status === 'ready') void this.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    this.watchers.clear();
    this.subscriber.disconnect();
    await this.local.close();
  }
}
