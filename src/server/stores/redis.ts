import type { Store, StoredSession } from "./store.js";
import { lazy } from "./lazy.js";
import { StoreSetupError } from "./setup-error.js";
import { importOptional, integerMillis } from "./sql-support.js";

/** An ioredis client (`Redis`): the store sends raw commands through `call`. */
export interface IORedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A node-redis v4 or v5 client, already connected: the store sends raw commands through `sendCommand`. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * An ioredis `Cluster` (`new Redis.Cluster([...])`): commands go through `call`, routed by their key;
 * `prune` scans every master (`nodes("master")`).
 */
export interface IORedisClusterLike extends IORedisLike {
  readonly isCluster: boolean;
  nodes(role: "master"): IORedisLike[];
  pipeline(): IORedisPipelineLike;
}

/** The parts of an ioredis pipeline the store uses (for `WAIT` on a cluster). */
export interface IORedisPipelineLike {
  call(command: string, ...args: string[]): IORedisPipelineLike;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** A node-redis v4 or v5 cluster (`createCluster`), already connected: commands go through `sendCommand(firstKey, isReadonly, args)`. */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  readonly masters: readonly object[];
  nodeClient(node: never): Promise<NodeRedisLike> | NodeRedisLike;
}

export type RedisClientLike = IORedisLike | NodeRedisLike | IORedisClusterLike | NodeRedisClusterLike;

/** A Redis Cluster node to start from: `{ host, port }` or a `redis://` (`rediss://`) URL. */
export type RedisClusterNode = { host: string; port: number } | string;

export type RedisStoreOptions =
  | {
      /** e.g. `redis://localhost:6379/0`: the store opens (with ioredis) and on `close()` quits its own client. */
      url: string;
      client?: never;
      cluster?: never;
    }
  | {
      /**
       * An ioredis or node-redis client the app owns, or a cluster client (ioredis
       * `Redis.Cluster`, node-redis `createCluster`, connected); the store never quits it.
       * Set it up to fail fast while disconnected (ioredis: `maxRetriesPerRequest: 1`,
       * a `connectTimeout`, a `commandTimeout`, in `redisOptions` for a Cluster;
       * node-redis: `disableOfflineQueue: true`) and without a client-side key prefix
       * (use `keyPrefix` here instead).
       */
      client: RedisClientLike;
      url?: never;
      cluster?: never;
    }
  | {
      /**
       * Some nodes of a Redis Cluster (the store finds the rest): the store opens an ioredis `Cluster`
       * and on `close()` quits it. Credentials in the first URL apply to every node.
       */
      cluster: readonly RedisClusterNode[];
      url?: never;
      client?: never;
    };

export interface RedisStoreSettings {
  /** Put before every key. Default `"sessionpulse:"`. */
  keyPrefix?: string;
  /**
   * Keys outlive their `expires` by this much before Redis drops them. Expiry
   * is decided by the handler's clock against the stored `expires`; Redis's TTL
   * is garbage collection, computed from the handler's time so that Redis's
   * clock does not matter. The grace keeps an app server whose clock lags from
   * seeing a deny-list entry vanish before it considers the token expired.
   * Default 60000 ms.
   */
  ttlGraceMs?: number;
  /** Own client only: how long a connection attempt may take. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Own client only: a command without an answer after this long rejects. Default 2000 ms. */
  commandTimeoutMs?: number;
  /**
   * After a revocation, wait until this many replicas have it (`WAIT`), and
   * reject if they do not within `revocationWaitMs`, so a failover cannot
   * silently drop a "sign out everywhere". Even `WAIT` is not a guarantee
   * under every failure (Redis is not strongly consistent). Default 0: no wait.
   */
  revocationReplicas?: number;
  /** How long `WAIT` may take. Default 500 ms. */
  revocationWaitMs?: number;
  /**
   * The key layout for Redis Cluster, where every script touches one slot (see {@link redisStore}).
   * Default: on with `{ cluster }` and with a cluster client (ioredis `Redis.Cluster`, node-redis
   * `createCluster`), off otherwise, so a single Redis keeps the layout it always had. `true` with a
   * single Redis uses the cluster layout there (a cluster proxy, or a Redis about to move into a
   * cluster); `false` with a cluster is refused. The two layouts do not read each other's keys.
   */
  cluster?: boolean;
}

/** What the store needs from any client: send one command, get the reply. */
type Send = (args: string[]) => Promise<unknown>;

/** A client as the store drives it. */
interface Commands {
  /** One command; a cluster routes it by its key (the first key of a script). */
  send: Send;
  /** Whether this is a cluster: the keys then need the cluster layout. */
  cluster: boolean;
  /** One sender per primary, for `SCAN`: every master of a cluster, or the one connection. */
  masters(): Promise<Send[]>;
  /** `WAIT replicas ms` on the connection that wrote `key` (in a cluster, the key's master). */
  wait(key: string, replicas: number, ms: number): Promise<unknown>;
}

/** The parts of an ioredis instance the store uses on a client it created. */
interface OwnIORedis extends IORedisLike {
  status: string;
  options: { enableOfflineQueue?: boolean };
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

type IORedisConstructor = new (url: string, options: Record<string, unknown>) => OwnIORedis;
type IORedisClusterConstructor = new (nodes: RedisClusterNode[], options: Record<string, unknown>) => OwnIORedis & IORedisClusterLike;

async function loadIORedis(): Promise<{ Redis: IORedisConstructor; Cluster: IORedisClusterConstructor }> {
  let module: { default?: { Cluster?: unknown }; Redis?: unknown; Cluster?: unknown };
  try {
    module = (await importOptional("ioredis")) as typeof module;
  } catch (cause) {
    throw new StoreSetupError(
      "redisStore({ url }) needs the optional peer `ioredis` (npm install ioredis), or pass a connected ioredis or node-redis client as redisStore({ client })",
      { cause },
    );
  }
  const Redis = module.Redis ?? module.default;
  const Cluster = module.Cluster ?? module.default?.Cluster;
  if (typeof Redis !== "function") throw new StoreSetupError("redisStore: the installed `ioredis` has no Redis class");
  if (typeof Cluster !== "function") throw new StoreSetupError("redisStore: the installed `ioredis` has no Cluster class");
  return { Redis: Redis as IORedisConstructor, Cluster: Cluster as IORedisClusterConstructor };
}

/** The key a cluster routes a command by: a script's first key, otherwise the command's first argument. */
function routingKey(args: string[]): string | undefined {
  const command = args[0]!.toUpperCase();
  if (command === "EVAL" || command === "EVALSHA") return Number(args[2]) > 0 ? args[3] : undefined;
  return args[1];
}

/**
 * The tiny adapter: ioredis's `call(command, ...args)` (a `Redis` or a `Cluster`), node-redis's
 * `sendCommand(args)`, or a node-redis cluster's `sendCommand(firstKey, isReadonly, args)`.
 */
function commandsOf(client: RedisClientLike): Commands {
  const candidate = client as Partial<IORedisClusterLike & NodeRedisClusterLike> & { options?: { keyPrefix?: string; redisOptions?: { keyPrefix?: string } } };
  // Checked first: ioredis also has a `sendCommand`, which takes a Command object.
  if (typeof candidate.call === "function") {
    // ioredis would prefix the keys it can see (KEYS of a script) but not the
    // ones the scripts build from a prefix, splitting one session across two names.
    if (candidate.options?.keyPrefix || candidate.options?.redisOptions?.keyPrefix)
      throw new TypeError("redisStore: use the `keyPrefix` setting, not a client with ioredis's `keyPrefix` option");
    const over = (target: IORedisLike): Send => {
      const call = target.call.bind(target);
      return ([command, ...args]) => call(command!, ...args);
    };
    const send = over(client as IORedisLike);
    if (candidate.isCluster === true && typeof candidate.nodes === "function") {
      const cluster = client as IORedisClusterLike;
      return {
        send,
        cluster: true,
        masters: async () => {
          // Routed to any node, it waits for the cluster to be connected, which is when the masters are known.
          await send(["PING"]);
          return cluster.nodes("master").map(over);
        },
        // A pipeline goes to the one node that holds its keys, over the connection the write took.
        async wait(key, replicas, ms) {
          const replies = await cluster.pipeline().call("EXISTS", key).call("WAIT", String(replicas), String(ms)).exec();
          const [error, acknowledged] = replies?.[1] ?? [new Error("redisStore: WAIT got no reply"), 0];
          if (error) throw error;
          return acknowledged;
        },
      };
    }
    return { send, cluster: false, masters: async () => [send], wait: (_key, replicas, ms) => send(["WAIT", String(replicas), String(ms)]) };
  }
  if (typeof candidate.sendCommand === "function" && Array.isArray(candidate.masters) && typeof candidate.nodeClient === "function") {
    const cluster = client as NodeRedisClusterLike;
    // Every command goes to the master of its key (never a replica: a read must see the last write).
    const to = (key: string | undefined, args: string[]) => cluster.sendCommand(key, false, args);
    return {
      send: (args) => to(routingKey(args), args),
      cluster: true,
      masters: () =>
        Promise.all(
          cluster.masters.map(async (master) => {
            const node = await cluster.nodeClient(master as never);
            return (args: string[]) => node.sendCommand(args);
          }),
        ),
      wait: (key, replicas, ms) => to(key, ["WAIT", String(replicas), String(ms)]),
    };
  }
  if (typeof candidate.sendCommand === "function") {
    const send: Send = (client as NodeRedisLike).sendCommand.bind(client);
    return { send, cluster: false, masters: async () => [send], wait: (_key, replicas, ms) => send(["WAIT", String(replicas), String(ms)]) };
  }
  throw new TypeError("redisStore: `client` must be an ioredis client or cluster, or a node-redis v4/v5 client or cluster");
}

/** A Lua script run by SHA, falling back to its source when the server does not have it (a restart, `SCRIPT FLUSH`). */
class Script {
  private sha: Promise<string> | undefined;
  constructor(private readonly source: string) {}

  private digest(): Promise<string> {
    this.sha ??= crypto.subtle
      .digest("SHA-1", new TextEncoder().encode(this.source))
      .then((hash) => Array.from(new Uint8Array(hash), (byte) => byte.toString(16).padStart(2, "0")).join(""));
    return this.sha;
  }

  async run(send: Send, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await send(["EVALSHA", await this.digest(), ...tail]);
    } catch (error) {
      if (!String((error as Error | undefined)?.message).includes("NOSCRIPT")) throw error;
      return send(["EVAL", this.source, ...tail]);
    }
  }
}

// Sessions are hashes: u userId, d data (JSON), c createdAt, m updatedAt, e expires, a userAgent (absent when null).
// Every script takes the time from the caller and compares it with `e`: the
// key's TTL only collects garbage, it never decides whether a session is live.

const CREATE = new Script(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'd', ARGV[2], 'c', ARGV[3], 'm', ARGV[4], 'e', ARGV[5])
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'a', ARGV[7]) end
local ttl = tonumber(ARGV[8])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[9])
-- The user's index must outlive every session in it, or "sign out everywhere" would miss one.
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`);

// Atomic on the server: of many concurrent touches the first moves 'e' past the
// threshold, and every later one sees that and writes nothing. The user's index
// is KEYS[2] in the cluster layout, else named from the session's user.
const TOUCH = new Script(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e then return 0 end
e = tonumber(e)
if e <= tonumber(ARGV[2]) then return 0 end
if e > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'm', ARGV[2])
local ttl = tonumber(ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl)
local f = redis.call('HMGET', KEYS[1], 'u', 'c')
local index = KEYS[2] or (ARGV[5] .. f[1])
local pttl = redis.call('PTTL', index)
if pttl == -2 then redis.call('ZADD', index, f[2], ARGV[6]) end
if pttl < ttl then redis.call('PEXPIRE', index, ttl) end
return 1
`);

// Never an upsert: a session deleted (or expired) meanwhile stays gone, and the TTL is left as it is.
const UPDATE = new Script(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e or tonumber(e) <= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'm', ARGV[2])
return 1
`);

// The user's index is KEYS[2] in the cluster layout, else named from the session's user.
const DELETE = new Script(`
local u = redis.call('HGET', KEYS[1], 'u')
redis.call('DEL', KEYS[1])
if u then redis.call('ZREM', KEYS[2] or (ARGV[1] .. u), ARGV[2]) end
return 1
`);

// Returns the ids of the sessions it deleted.
const DELETE_BY_USER = new Script(`
local gone = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  if redis.call('HGET', key, 'u') == ARGV[2] and redis.call('DEL', key) == 1 then gone[#gone + 1] = id end
end
redis.call('DEL', KEYS[1])
return gone
`);

// Oldest first: the index is scored by createdAt (ties by id). Entries whose
// session is gone are removed on the way: the lazy half of index upkeep.
const LIST_BY_USER = new Script(`
local now = tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'u', 'd', 'c', 'm', 'e', 'a')
  if f[1] ~= ARGV[3] then
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(f[5]) > now then
    out[#out + 1] = {id, f[2], f[3], f[4], f[5], f[6]}
  end
end
return out
`);

const PRUNE_SESSIONS = new Script(`
local now = tonumber(ARGV[1])
local n = 0
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'u', 'e')
  if f[2] and tonumber(f[2]) <= now then
    redis.call('DEL', key)
    if f[1] then redis.call('ZREM', ARGV[2] .. f[1], ARGV[2 + i]) end
    n = n + 1
  end
end
return n
`);

// Cluster layout: KEYS[1] is a user's index, KEYS[2..] sessions of that user (one slot), ARGV[i] the id
// of KEYS[i]. Returns the ids of the sessions it deleted, so their owner keys can go too.
const PRUNE_USER_SESSIONS = new Script(`
local now = tonumber(ARGV[1])
local gone = {}
for i = 2, #KEYS do
  local e = redis.call('HGET', KEYS[i], 'e')
  if e and tonumber(e) <= now then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
    gone[#gone + 1] = ARGV[i]
  end
end
return gone
`);

// Cluster layout: a session's owner key (its user id, in the session id's own slot), read, and kept at
// least as long as the TTL a touch is about to give the session (ARGV[1]), before the touch writes it.
const OWNER_FOR_TOUCH = new Script(`
local u = redis.call('GET', KEYS[1])
if not u then return false end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return u
`);

const PRUNE_REVOKED = new Script(`
local now = tonumber(ARGV[1])
local n = 0
for _, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  local e = v and tonumber(string.match(v, ':(%-?%d+)$'))
  if e and e <= now then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
`);

const PRUNE_INDEXES = new Script(`
for _, key in ipairs(KEYS) do
  for _, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if redis.call('EXISTS', ARGV[1] .. id) == 0 then redis.call('ZREM', key, id) end
  end
end
return 0
`);

// Deny-list entries are strings "value:expires". Both scripts keep the later
// expiry (a revocation is never shortened) and set the TTL from it, measured
// from the caller's time, as every other key's is.
const REVOKE = new Script(`
local expires = tonumber(ARGV[2])
local v = redis.call('GET', KEYS[1])
local e = v and tonumber(string.match(v, ':(%-?%d+)$'))
if e and e > expires then expires = e end
local ttl = expires - tonumber(ARGV[3]) + tonumber(ARGV[4])
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. string.format('%d', expires), 'PX', string.format('%d', ttl))
return 1
`);

// Atomic on the server: each caller gets its own value, max(current + 1, floor).
// An entry whose expiry has passed by the caller's time starts again from the floor.
const ADVANCE_GENERATION = new Script(`
local expires = tonumber(ARGV[1])
local floor = tonumber(ARGV[2])
local generation = floor
local v = redis.call('GET', KEYS[1])
if v then
  local g, e = string.match(v, '^(%-?%d+):(%-?%d+)$')
  g = tonumber(g)
  e = tonumber(e)
  if g and e and e > floor then
    if g + 1 > generation then generation = g + 1 end
    if e > expires then expires = e end
  end
end
local ttl = expires - floor + tonumber(ARGV[3])
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%d', generation) .. ':' .. string.format('%d', expires), 'PX', string.format('%d', ttl))
return generation
`);

// Values are strings "expires:value", the logical expiry first (the value may hold any character). With
// ARGV[5] = '1' the write happens only when no live value is there: a lock, one atomic step on the server.
const PUT_VALUE = new Script(`
if ARGV[5] == '1' then
  local v = redis.call('GET', KEYS[1])
  local e = v and tonumber(string.match(v, '^(%-?%d+):'))
  if e and e > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[1], 'PX', ARGV[4])
return 1
`);

/** Integer ms as Redis and Lua read them, clamped as the SQL stores clamp theirs. */
const ms = (value: number) => String(integerMillis(value, "redisStore"));

/** `SCAN MATCH` reads glob syntax: a prefix is matched literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * A user id or session id inside a hash tag. Redis hashes only what lies between a key's first `{` and
 * the first `}` after it, so `%`, `{` and `}` are percent-encoded: an id can neither end the tag early
 * nor make two names one (the encoding is one-to-one, and leaves every other character as it is).
 */
function tagged(text: string): string {
  return text.replace(/[%{}]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The owner key outlives its session by this much more than the session's own TTL, as it is written
 * (create) or extended (touch) a round trip before the session's TTL is set.
 */
const OWNER_MARGIN_MS = 1000;

/**
 * Sessions and the JWT deny-list in Redis, through ioredis (`{ url }`,
 * `{ cluster }`, or an ioredis `Redis` or `Cluster` client) or node-redis v4/v5
 * (a connected client or cluster). A session is a hash whose TTL follows its
 * expiry; each user has a sorted set of their session ids (scored by creation
 * time) for listing and "sign out everywhere", kept alive as long as its
 * longest session and cleaned of stale ids lazily on `listByUser` and
 * `prune`. Touch, update and delete are Lua scripts, so each is one atomic
 * step on the server.
 *
 * **Single Redis** (a primary, optionally with replicas or Sentinel): the
 * session is `<prefix>session:<id>`, the index `<prefix>user:<userId>`, and a
 * script reaches the index from the session it reads. This is the layout the
 * store has always had; it stays the default there, so existing data stays
 * readable with no migration.
 *
 * **Redis Cluster** (`{ cluster }`, a cluster client, or `cluster: true`): a
 * script may touch one slot only, so everything "sign out everywhere" must see
 * lives in the user's slot: the session `<prefix>{u:<userId>}:session:<id>`
 * and the index `<prefix>{u:<userId>}:user`. Creating a session (hash and
 * index entry), touching it, deleting it, listing and deleting all of a user's
 * sessions are each one script in that slot, so `deleteByUser` is exactly as
 * atomic as on one Redis: a session whose creation finished before it started
 * is in the index and goes; one created after is a later sign-in. Only the
 * session id is known to `get`, `touch`, `update` and `delete`, so a small
 * owner key `<prefix>{s:<id>}:owner` (in the id's slot, holding the user id)
 * is read first: one more round trip for each of those calls. It is routing,
 * never authority: the session hash alone says whether a session lives, and
 * the owner key is written before the hash and deleted after it, and kept at
 * least as long (extended before a touch extends the hash), so a live hash is
 * always found, and an owner key without a hash (a create that failed half
 * way, a session deleted by `deleteByUser`) reads as no session and expires.
 * `prune` scans every master. The deny-list and values are single keys in
 * both layouts. A deployment moving from one Redis to a cluster starts with
 * an empty cluster (its users sign in again); the layouts do not read each
 * other's keys.
 *
 * Use `maxmemory-policy noeviction`: an evicted index would hide sessions
 * from "sign out everywhere".
 *
 * @example
 * ```ts
 * import { createSessionHandler } from "sessionpulse/server";
 * import { redisStore } from "sessionpulse/server/redis";
 *
 * const store = redisStore({ url: "redis://localhost:6379" });
 * // or, on Redis Cluster: redisStore({ cluster: ["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"] })
 * const auth = createSessionHandler({ secret, session: { strategy: "database" }, store });
 * ```
 */
export function redisStore(options: RedisStoreOptions, settings: RedisStoreSettings = {}): Store {
  const prefix = settings.keyPrefix ?? "sessionpulse:";
  const grace = settings.ttlGraceMs ?? 60_000;
  const connectTimeoutMs = settings.connectTimeoutMs ?? 2000;
  const commandTimeoutMs = settings.commandTimeoutMs ?? 2000;
  const replicas = settings.revocationReplicas ?? 0;
  const waitMs = settings.revocationWaitMs ?? 500;
  for (const [name, value] of Object.entries({
    ttlGraceMs: grace,
    connectTimeoutMs,
    commandTimeoutMs,
    revocationReplicas: replicas,
    revocationWaitMs: waitMs,
  })) {
    if (!Number.isInteger(value) || value < 0) throw new TypeError(`redisStore: ${name} must be a non-negative integer`);
  }
  if (settings.cluster !== undefined && typeof settings.cluster !== "boolean") throw new TypeError("redisStore: cluster must be a boolean");
  const ownsClient = options.client === undefined;
  if (options.cluster !== undefined && (!Array.isArray(options.cluster) || options.cluster.length === 0)) {
    throw new TypeError("redisStore: `cluster` must list at least one node ({ host, port } or a redis:// URL)");
  }
  if (ownsClient && typeof options.url !== "string" && options.cluster === undefined)
    throw new TypeError("redisStore needs { url }, { cluster } or { client }");

  /** A borrowed client is checked now (a wrong one is a TypeError at start-up) and used as it is. */
  const borrowed = options.client ? commandsOf(options.client) : undefined;
  const onCluster = options.cluster !== undefined || borrowed?.cluster === true;
  if (settings.cluster === false && onCluster) throw new TypeError("redisStore: a Redis Cluster needs the cluster key layout (drop `cluster: false`)");
  const clusterLayout = settings.cluster ?? onCluster;
  if (clusterLayout && /[{}]/.test(prefix))
    throw new TypeError("redisStore: with the cluster layout, keyPrefix may not contain { or } (the keys' hash tags come after it)");

  // Single layout.
  const sessionPrefix = `${prefix}session:`;
  const userPrefix = `${prefix}user:`;
  // Both layouts: single keys.
  const denyPrefix = `${prefix}deny:`;
  const valuePrefix = `${prefix}value:`;
  // Cluster layout: a user's keys share the slot of `{u:<userId>}`.
  const userBase = (userId: string) => `${prefix}{u:${tagged(userId)}}:`;
  const ownerKey = (id: string) => `${prefix}{s:${tagged(id)}}:owner`;
  const clusterUserTag = `${prefix}{u:`;

  /** The store's own ioredis client (a `Redis`, or a `Cluster` for `{ cluster }`), made on first use. */
  async function open(): Promise<{ commands: Commands; client?: OwnIORedis }> {
    if (borrowed) return { commands: borrowed };
    const { Redis, Cluster } = await loadIORedis();
    const nodeOptions = {
      connectTimeout: connectTimeoutMs,
      commandTimeout: commandTimeoutMs,
      // A command sent while the connection is down is retried once after a
      // reconnection, then rejected, instead of waiting in a queue for as long
      // as Redis is away: the handler answers 503 and grants nothing.
      maxRetriesPerRequest: 1,
    };
    // Reconnect for ever, backing off to a try every second: under the default storeTimeout (2 s), so the
    // store serves again within storeTimeout of Redis coming back, however long it was away.
    const backOff = (attempt: number) => Math.min(attempt * 100, 1000);
    if (options.cluster) {
      // The nodes the cluster reports are reached with the first URL's credentials and TLS.
      const first = options.cluster.find((node) => typeof node === "string");
      const url = first === undefined ? undefined : new URL(first);
      const cluster = new Cluster([...options.cluster], {
        clusterRetryStrategy: backOff,
        slotsRefreshTimeout: connectTimeoutMs,
        // Never a queue, not even for the first connection: a Cluster's would wait for as long as no
        // node answers. A call waits for the cluster to be ready instead, for at most connectTimeoutMs
        // (below), and a command for a node that is down rejects at once.
        enableOfflineQueue: false,
        redisOptions: {
          ...nodeOptions,
          ...(url?.username ? { username: decodeURIComponent(url.username) } : {}),
          ...(url?.password ? { password: decodeURIComponent(url.password) } : {}),
          ...(url?.protocol === "rediss:" ? { tls: {} } : {}),
        },
      });
      cluster.on("error", () => undefined);
      const ready = () =>
        cluster.status === "ready"
          ? undefined
          : new Promise<void>((resolve, reject) => {
              const onReady = () => {
                clearTimeout(timer);
                resolve();
              };
              const timer = setTimeout(() => {
                cluster.off("ready", onReady);
                reject(new Error(`redisStore: the Redis Cluster is not ready (no node reached within ${connectTimeoutMs} ms)`));
              }, connectTimeoutMs);
              cluster.once("ready", onReady);
            });
      const routed = commandsOf(cluster);
      const commands: Commands = {
        ...routed,
        async send(args) {
          await ready();
          return routed.send(args);
        },
        async masters() {
          await ready();
          return routed.masters();
        },
        async wait(key, count, ms) {
          await ready();
          return routed.wait(key, count, ms);
        },
      };
      return { commands, client: cluster };
    }
    const client = new Redis(options.url!, { ...nodeOptions, retryStrategy: backOff });
    // Once connected, a command issued while Redis is away rejects at once
    // rather than queueing: the first connection may still queue the calls
    // made while it is being set up.
    client.once("ready", () => {
      client.options.enableOfflineQueue = false;
    });
    // Connection errors surface as rejected commands; without a listener
    // ioredis would also print each reconnection failure.
    client.on("error", () => undefined);
    return { commands: commandsOf(client), client };
  }

  const connection = lazy("redisStore", open, async ({ client }) => {
    // A borrowed client is the app's: it is never quit here.
    if (!client) return;
    if (client.status !== "ready") return client.disconnect();
    // QUIT lets replies in flight arrive; if Redis is away, just drop the connection.
    await client.quit().catch(() => client.disconnect());
  });
  const commands = async () => (connection.current ?? (await connection.ready())).commands;

  /**
   * With `revocationReplicas`, waits until that many replicas have the write
   * just sent to `key` (`WAIT` covers it, being on the same connection).
   */
  async function replicated(client: Commands, key: string): Promise<void> {
    if (replicas === 0) return;
    const acknowledged = Number(await client.wait(key, replicas, waitMs));
    if (acknowledged < replicas) throw new Error(`redisStore: the revocation reached ${acknowledged} of ${replicas} replicas within ${waitMs} ms`);
  }

  /** TTL for a key whose logical expiry is `expires`, measured from the handler's time `from`. */
  function ttl(expires: number, from: number): string {
    return String(Math.max(1, Math.ceil(Math.min(expires, Number.MAX_SAFE_INTEGER) - from) + grace));
  }
  const ownerTtl = (sessionTtl: string) => String(Number(sessionTtl) + OWNER_MARGIN_MS);

  /** A row from its fields `d c m e a` (as HMGET and the listing script return them). */
  function toSession(id: string, userId: string, fields: unknown[]): StoredSession {
    const [d, c, m, e, a] = fields as [string, string, string, string, string | null];
    return {
      id,
      userId,
      data: JSON.parse(d) as Record<string, unknown>,
      createdAt: Number(c),
      updatedAt: Number(m),
      expires: Number(e),
      userAgent: a ?? null,
    };
  }

  /** Cluster layout: the user a session id belongs to, from its owner key (null: no such session). */
  async function ownerOf(run: Send, id: string): Promise<string | null> {
    return (await run(["GET", ownerKey(id)])) as string | null;
  }

  /** Cluster layout: one page of `prune`'s scan of one master. */
  async function pruneClusterPage(run: Send, keys: string[], now: number): Promise<number> {
    const users = new Map<string, { sessions: string[]; ids: string[]; index: boolean }>();
    const denyKeys: string[] = [];
    for (const key of keys) {
      if (key.startsWith(denyPrefix)) denyKeys.push(key);
      if (!key.startsWith(clusterUserTag)) continue;
      // The tag ends at the first `}`: user ids are encoded without one.
      const base = key.slice(0, key.indexOf("}", clusterUserTag.length) + 2);
      const rest = key.slice(base.length);
      let user = users.get(base);
      if (!user) users.set(base, (user = { sessions: [], ids: [], index: false }));
      if (rest === "user") user.index = true;
      else if (rest.startsWith("session:")) {
        user.sessions.push(key);
        user.ids.push(rest.slice("session:".length));
      }
    }
    // Each deny-list entry is its own slot, and each user's keys one slot: one script each.
    const counts = await Promise.all([
      ...denyKeys.map(async (key) => Number(await PRUNE_REVOKED.run(run, [key], [ms(now)]))),
      ...[...users].map(async ([base, user]) => {
        let gone: string[] = [];
        if (user.sessions.length > 0) {
          gone = (await PRUNE_USER_SESSIONS.run(run, [`${base}user`, ...user.sessions], [ms(now), ...user.ids])) as string[];
          await Promise.all(gone.map((id) => run(["DEL", ownerKey(String(id))])));
        }
        if (user.index) await PRUNE_INDEXES.run(run, [`${base}user`], [`${base}session:`]);
        return gone.length;
      }),
    ]);
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Single layout: one page of `prune`'s scan. */
  async function prunePage(run: Send, keys: string[], now: number): Promise<number> {
    let count = 0;
    const sessionKeys = keys.filter((key) => key.startsWith(sessionPrefix));
    const denyKeys = keys.filter((key) => key.startsWith(denyPrefix));
    const indexKeys = keys.filter((key) => key.startsWith(userPrefix));
    if (sessionKeys.length > 0) {
      count += Number(await PRUNE_SESSIONS.run(run, sessionKeys, [ms(now), userPrefix, ...sessionKeys.map((key) => key.slice(sessionPrefix.length))]));
    }
    if (denyKeys.length > 0) count += Number(await PRUNE_REVOKED.run(run, denyKeys, [ms(now)]));
    if (indexKeys.length > 0) await PRUNE_INDEXES.run(run, indexKeys, [sessionPrefix]);
    return count;
  }

  return {
    async create(session) {
      const client = connection.current?.commands ?? (await commands());
      const run = client.send;
      const from = Math.max(session.createdAt, session.updatedAt);
      const sessionTtl = ttl(session.expires, from);
      let keys = [sessionPrefix + session.id, userPrefix + session.userId];
      if (clusterLayout) {
        const base = userBase(session.userId);
        keys = [`${base}session:${session.id}`, `${base}user`];
        // The owner key first: whenever a session hash exists, so does the key that finds it.
        await run(["SET", ownerKey(session.id), session.userId, "PX", ownerTtl(sessionTtl)]);
      }
      // Hash and index entry in one script, one slot: "sign out everywhere" never sees one without the other.
      await CREATE.run(run, keys, [
        session.userId,
        JSON.stringify(session.data),
        ms(session.createdAt),
        ms(session.updatedAt),
        ms(session.expires),
        session.userAgent === null ? "0" : "1",
        session.userAgent ?? "",
        sessionTtl,
        session.id,
      ]);
    },
    async get(id, now) {
      const run = (connection.current?.commands ?? (await commands())).send;
      let key = sessionPrefix + id;
      if (clusterLayout) {
        const owner = await ownerOf(run, id);
        if (owner === null) return null;
        key = `${userBase(owner)}session:${id}`;
      }
      const fields = (await run(["HMGET", key, "u", "d", "c", "m", "e", "a"])) as (string | null)[];
      const [u, ...rest] = fields;
      if (u === null || u === undefined) return null;
      const session = toSession(id, u, rest);
      // Redis drops the key a grace period later; until then the stored expiry decides.
      return session.expires <= now ? null : session;
    },
    async touch(id, expires, now, ifExpiresAtMost) {
      const run = (connection.current?.commands ?? (await commands())).send;
      const sessionTtl = ttl(expires, now);
      const args = [ms(expires), ms(now), ms(ifExpiresAtMost), sessionTtl, userPrefix, id];
      if (!clusterLayout) return (await TOUCH.run(run, [sessionPrefix + id], args)) === 1;
      // The owner key is extended before the hash, so it never expires first; a touch that then does not
      // write (another won, or the session went) leaves only an owner key that lives a little longer.
      const owner = (await OWNER_FOR_TOUCH.run(run, [ownerKey(id)], [ownerTtl(sessionTtl)])) as string | null;
      if (owner === null) return false;
      const base = userBase(owner);
      return (await TOUCH.run(run, [`${base}session:${id}`, `${base}user`], args)) === 1;
    },
    async update(id, data, now) {
      const run = (connection.current?.commands ?? (await commands())).send;
      let key = sessionPrefix + id;
      if (clusterLayout) {
        const owner = await ownerOf(run, id);
        if (owner === null) return false;
        key = `${userBase(owner)}session:${id}`;
      }
      return (await UPDATE.run(run, [key], [JSON.stringify(data), ms(now)])) === 1;
    },
    async delete(id) {
      const run = (connection.current?.commands ?? (await commands())).send;
      if (!clusterLayout) {
        await DELETE.run(run, [sessionPrefix + id], [userPrefix, id]);
        return;
      }
      const owner = await ownerOf(run, id);
      if (owner === null) return;
      const base = userBase(owner);
      // The hash (the session itself) first, then the owner key that found it.
      await DELETE.run(run, [`${base}session:${id}`, `${base}user`], ["", id]);
      await run(["DEL", ownerKey(id)]);
    },
    async deleteByUser(userId) {
      const run = (connection.current?.commands ?? (await commands())).send;
      if (!clusterLayout) return ((await DELETE_BY_USER.run(run, [userPrefix + userId], [sessionPrefix, userId])) as unknown[]).length;
      const base = userBase(userId);
      // One script in the user's slot: every session whose creation finished before it is in the index.
      const gone = (await DELETE_BY_USER.run(run, [`${base}user`], [`${base}session:`, userId])) as string[];
      // The sessions are gone; their owner keys now find nothing, so removing them is only tidying up
      // (each is in a slot of its own), and a failure there does not fail the sign-out.
      await Promise.all(gone.map((id) => run(["DEL", ownerKey(String(id))]).catch(() => undefined)));
      return gone.length;
    },
    async listByUser(userId, now) {
      const run = (connection.current?.commands ?? (await commands())).send;
      const [index, sessions] = clusterLayout ? [`${userBase(userId)}user`, `${userBase(userId)}session:`] : [userPrefix + userId, sessionPrefix];
      const rows = (await LIST_BY_USER.run(run, [index], [sessions, ms(now), userId])) as unknown[][];
      return rows.map(([id, ...fields]) => toSession(String(id), userId, fields));
    },
    async revokeToken(key, expires, revokedAt) {
      const client = connection.current?.commands ?? (await commands());
      await REVOKE.run(client.send, [denyPrefix + key], [ms(revokedAt), ms(expires), ms(revokedAt), String(grace)]);
      await replicated(client, denyPrefix + key);
    },
    async advanceGeneration(key, expires, floor) {
      const client = connection.current?.commands ?? (await commands());
      const generation = Number(await ADVANCE_GENERATION.run(client.send, [denyPrefix + key], [ms(expires), ms(floor), String(grace)]));
      await replicated(client, denyPrefix + key);
      return generation;
    },
    async revokedAt(key, now) {
      const run = (connection.current?.commands ?? (await commands())).send;
      const value = (await run(["GET", denyPrefix + key])) as string | null;
      const match = value === null ? null : /^(-?\d+):(-?\d+)$/.exec(value);
      if (!match || Number(match[2]) <= now) return null;
      return Number(match[1]);
    },
    async putValue(key, value, expires, now, onlyIfAbsent = false) {
      const run = (connection.current?.commands ?? (await commands())).send;
      return (await PUT_VALUE.run(run, [valuePrefix + key], [value, ms(expires), ms(now), ttl(expires, now), onlyIfAbsent ? "1" : "0"])) === 1;
    },
    async getValue(key, now) {
      const run = (connection.current?.commands ?? (await commands())).send;
      const stored = (await run(["GET", valuePrefix + key])) as string | null;
      const colon = stored?.indexOf(":") ?? -1;
      // Redis drops the key a grace period later; until then the stored expiry decides.
      if (stored === null || colon < 0 || Number(stored.slice(0, colon)) <= now) return null;
      return stored.slice(colon + 1);
    },
    async deleteValue(key) {
      const run = (connection.current?.commands ?? (await commands())).send;
      await run(["DEL", valuePrefix + key]);
    },
    async prune(now) {
      const client = connection.current?.commands ?? (await commands());
      // One pass over this store's keys on every primary (each master of a
      // cluster), a page at a time, so Redis never blocks on a long script.
      // Redis's own expiry does most of the work; this removes what lives on
      // within the grace period and stale index entries. Scripts go through the
      // routed connection, so each reaches the master of its keys.
      let count = 0;
      for (const scan of await client.masters()) {
        let cursor = "0";
        do {
          const [next, keys] = (await scan(["SCAN", cursor, "MATCH", `${globEscape(prefix)}*`, "COUNT", "1000"])) as [string, string[]];
          cursor = next;
          count += await (clusterLayout ? pruneClusterPage(client.send, keys, now) : prunePage(client.send, keys, now));
        } while (cursor !== "0");
      }
      return count;
    },
    async prepare() {
      if (!borrowed) await loadIORedis();
    },
    close: () => connection.close(),
  };
}
