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

export type RedisClientLike = IORedisLike | NodeRedisLike;

export type RedisStoreOptions =
  | {
      /** e.g. `redis://localhost:6379/0`: the store opens (with ioredis) and on `close()` quits its own client. */
      url: string;
      client?: never;
    }
  | {
      /**
       * An ioredis or node-redis client the app owns; the store never quits it.
       * Set it up to fail fast while disconnected (ioredis: `maxRetriesPerRequest: 1`,
       * a `connectTimeout`, a `commandTimeout`; node-redis: `disableOfflineQueue: true`)
       * and without a client-side key prefix (use `keyPrefix` here instead).
       */
      client: RedisClientLike;
      url?: never;
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
}

/** What the store needs from any client: send one command, get the reply. */
type Send = (args: string[]) => Promise<unknown>;

/** The parts of an ioredis instance the store uses on a client it created. */
interface OwnIORedis extends IORedisLike {
  status: string;
  options: { enableOfflineQueue?: boolean };
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

type IORedisConstructor = new (url: string, options: Record<string, unknown>) => OwnIORedis;

async function loadIORedis(): Promise<IORedisConstructor> {
  let module: { default?: unknown; Redis?: unknown };
  try {
    module = (await importOptional("ioredis")) as typeof module;
  } catch (cause) {
    throw new StoreSetupError(
      "redisStore({ url }) needs the optional peer `ioredis` (npm install ioredis), or pass a connected ioredis or node-redis client as redisStore({ client })",
      { cause },
    );
  }
  const Redis = module.Redis ?? module.default;
  if (typeof Redis !== "function") throw new StoreSetupError("redisStore: the installed `ioredis` has no Redis class");
  return Redis as IORedisConstructor;
}

/** The tiny adapter: ioredis's `call(command, ...args)` or node-redis's `sendCommand(args)`. */
function commandsOf(client: RedisClientLike): Send {
  const candidate = client as Partial<IORedisLike & NodeRedisLike> & { options?: { keyPrefix?: string } };
  // Checked first: ioredis also has a `sendCommand`, which takes a Command object.
  if (typeof candidate.call === "function") {
    // ioredis would prefix the keys it can see (KEYS of a script) but not the
    // ones the scripts build from a prefix, splitting one session across two names.
    if (candidate.options?.keyPrefix) throw new TypeError("redisStore: use the `keyPrefix` setting, not a client with ioredis's `keyPrefix` option");
    const call = candidate.call.bind(client);
    return ([command, ...args]) => call(command!, ...args);
  }
  if (typeof candidate.sendCommand === "function") return candidate.sendCommand.bind(client);
  throw new TypeError("redisStore: `client` must be an ioredis client or a node-redis v4/v5 client");
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
// threshold, and every later one sees that and writes nothing.
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
local index = ARGV[5] .. f[1]
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

const DELETE = new Script(`
local u = redis.call('HGET', KEYS[1], 'u')
redis.call('DEL', KEYS[1])
if u then redis.call('ZREM', ARGV[1] .. u, ARGV[2]) end
return 1
`);

const DELETE_BY_USER = new Script(`
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  if redis.call('HGET', key, 'u') == ARGV[2] then n = n + redis.call('DEL', key) end
end
redis.call('DEL', KEYS[1])
return n
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
 * Sessions and the JWT deny-list in Redis, through ioredis (`{ url }`, or an
 * ioredis client) or node-redis v4/v5 (a connected client). A session is a
 * hash whose TTL follows its expiry; each user has a sorted set of their
 * session ids (scored by creation time) for listing and "sign out
 * everywhere", kept alive as long as its longest session and cleaned of
 * stale ids lazily on `listByUser` and `prune`. Touch, update and delete are
 * Lua scripts, so each is one atomic step on the server.
 *
 * Needs a single Redis primary (optionally with replicas or Sentinel), not
 * Redis Cluster: a script reaches a user's index from the session it reads.
 * Use `maxmemory-policy noeviction`: an evicted index would hide sessions
 * from "sign out everywhere".
 *
 * @example
 * ```ts
 * import { createSessionHandler } from "sessionpulse/server";
 * import { redisStore } from "sessionpulse/server/redis";
 *
 * const store = redisStore({ url: "redis://localhost:6379" });
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
  const ownsClient = options.client === undefined;
  if (ownsClient && typeof options.url !== "string") throw new TypeError("redisStore needs { url } or { client }");

  const sessionPrefix = `${prefix}session:`;
  const userPrefix = `${prefix}user:`;
  const denyPrefix = `${prefix}deny:`;
  const valuePrefix = `${prefix}value:`;

  /** A borrowed client is checked now (a wrong one is a TypeError at start-up) and used as it is. */
  const borrowed = options.client ? commandsOf(options.client) : undefined;

  /** The store's own ioredis client, made on first use. */
  async function open(): Promise<{ send: Send; client?: OwnIORedis }> {
    if (borrowed) return { send: borrowed };
    const Redis = await loadIORedis();
    const client = new Redis(options.url!, {
      connectTimeout: connectTimeoutMs,
      commandTimeout: commandTimeoutMs,
      // A command sent while the connection is down is retried once after a
      // reconnection, then rejected, instead of waiting in a queue for as long
      // as Redis is away: the handler answers 503 and grants nothing.
      maxRetriesPerRequest: 1,
      // Reconnect for ever, backing off to a try every 2 s.
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
    });
    // Once connected, a command issued while Redis is away rejects at once
    // rather than queueing: the first connection may still queue the calls
    // made while it is being set up.
    client.once("ready", () => {
      client.options.enableOfflineQueue = false;
    });
    // Connection errors surface as rejected commands; without a listener
    // ioredis would also print each reconnection failure.
    client.on("error", () => undefined);
    return { send: commandsOf(client), client };
  }

  const connection = lazy("redisStore", open, async ({ client }) => {
    // A borrowed client is the app's: it is never quit here.
    if (!client) return;
    if (client.status !== "ready") return client.disconnect();
    // QUIT lets replies in flight arrive; if Redis is away, just drop the connection.
    await client.quit().catch(() => client.disconnect());
  });
  const commands = async () => (connection.current ?? (await connection.ready())).send;

  /**
   * With `revocationReplicas`, waits until that many replicas have the write
   * just sent on this connection (`WAIT` covers it, being on the same one).
   */
  async function replicated(run: Send): Promise<void> {
    if (replicas === 0) return;
    const acknowledged = Number(await run(["WAIT", String(replicas), String(waitMs)]));
    if (acknowledged < replicas) throw new Error(`redisStore: the revocation reached ${acknowledged} of ${replicas} replicas within ${waitMs} ms`);
  }

  /** TTL for a key whose logical expiry is `expires`, measured from the handler's time `from`. */
  function ttl(expires: number, from: number): string {
    return String(Math.max(1, Math.ceil(Math.min(expires, Number.MAX_SAFE_INTEGER) - from) + grace));
  }

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

  return {
    async create(session) {
      const run = connection.current?.send ?? (await commands());
      const from = Math.max(session.createdAt, session.updatedAt);
      await CREATE.run(
        run,
        [sessionPrefix + session.id, userPrefix + session.userId],
        [
          session.userId,
          JSON.stringify(session.data),
          ms(session.createdAt),
          ms(session.updatedAt),
          ms(session.expires),
          session.userAgent === null ? "0" : "1",
          session.userAgent ?? "",
          ttl(session.expires, from),
          session.id,
        ],
      );
    },
    async get(id, now) {
      const run = connection.current?.send ?? (await commands());
      const fields = (await run(["HMGET", sessionPrefix + id, "u", "d", "c", "m", "e", "a"])) as (string | null)[];
      const [u, ...rest] = fields;
      if (u === null || u === undefined) return null;
      const session = toSession(id, u, rest);
      // Redis drops the key a grace period later; until then the stored expiry decides.
      return session.expires <= now ? null : session;
    },
    async touch(id, expires, now, ifExpiresAtMost) {
      const run = connection.current?.send ?? (await commands());
      return (await TOUCH.run(run, [sessionPrefix + id], [ms(expires), ms(now), ms(ifExpiresAtMost), ttl(expires, now), userPrefix, id])) === 1;
    },
    async update(id, data, now) {
      const run = connection.current?.send ?? (await commands());
      return (await UPDATE.run(run, [sessionPrefix + id], [JSON.stringify(data), ms(now)])) === 1;
    },
    async delete(id) {
      const run = connection.current?.send ?? (await commands());
      await DELETE.run(run, [sessionPrefix + id], [userPrefix, id]);
    },
    async deleteByUser(userId) {
      const run = connection.current?.send ?? (await commands());
      return Number(await DELETE_BY_USER.run(run, [userPrefix + userId], [sessionPrefix, userId]));
    },
    async listByUser(userId, now) {
      const run = connection.current?.send ?? (await commands());
      const rows = (await LIST_BY_USER.run(run, [userPrefix + userId], [sessionPrefix, ms(now), userId])) as unknown[][];
      return rows.map(([id, ...fields]) => toSession(String(id), userId, fields));
    },
    async revokeToken(key, expires, revokedAt) {
      const run = connection.current?.send ?? (await commands());
      await REVOKE.run(run, [denyPrefix + key], [ms(revokedAt), ms(expires), ms(revokedAt), String(grace)]);
      await replicated(run);
    },
    async advanceGeneration(key, expires, floor) {
      const run = connection.current?.send ?? (await commands());
      const generation = Number(await ADVANCE_GENERATION.run(run, [denyPrefix + key], [ms(expires), ms(floor), String(grace)]));
      await replicated(run);
      return generation;
    },
    async revokedAt(key, now) {
      const run = connection.current?.send ?? (await commands());
      const value = (await run(["GET", denyPrefix + key])) as string | null;
      const match = value === null ? null : /^(-?\d+):(-?\d+)$/.exec(value);
      if (!match || Number(match[2]) <= now) return null;
      return Number(match[1]);
    },
    async putValue(key, value, expires, now, onlyIfAbsent = false) {
      const run = connection.current?.send ?? (await commands());
      return (await PUT_VALUE.run(run, [valuePrefix + key], [value, ms(expires), ms(now), ttl(expires, now), onlyIfAbsent ? "1" : "0"])) === 1;
    },
    async getValue(key, now) {
      const run = connection.current?.send ?? (await commands());
      const stored = (await run(["GET", valuePrefix + key])) as string | null;
      const colon = stored?.indexOf(":") ?? -1;
      // Redis drops the key a grace period later; until then the stored expiry decides.
      if (stored === null || colon < 0 || Number(stored.slice(0, colon)) <= now) return null;
      return stored.slice(colon + 1);
    },
    async deleteValue(key) {
      const run = connection.current?.send ?? (await commands());
      await run(["DEL", valuePrefix + key]);
    },
    async prune(now) {
      const run = connection.current?.send ?? (await commands());
      // One pass over this store's keys, a page at a time, so Redis never
      // blocks on a long script. Redis's own expiry does most of the work;
      // this removes what lives on within the grace period and stale index entries.
      let cursor = "0";
      let count = 0;
      do {
        const [next, keys] = (await run(["SCAN", cursor, "MATCH", `${globEscape(prefix)}*`, "COUNT", "1000"])) as [string, string[]];
        cursor = next;
        const sessionKeys = keys.filter((key) => key.startsWith(sessionPrefix));
        const denyKeys = keys.filter((key) => key.startsWith(denyPrefix));
        const indexKeys = keys.filter((key) => key.startsWith(userPrefix));
        if (sessionKeys.length > 0) {
          count += Number(await PRUNE_SESSIONS.run(run, sessionKeys, [ms(now), userPrefix, ...sessionKeys.map((key) => key.slice(sessionPrefix.length))]));
        }
        if (denyKeys.length > 0) count += Number(await PRUNE_REVOKED.run(run, denyKeys, [ms(now)]));
        if (indexKeys.length > 0) await PRUNE_INDEXES.run(run, indexKeys, [sessionPrefix]);
      } while (cursor !== "0");
      return count;
    },
    async prepare() {
      if (!borrowed) await loadIORedis();
    },
    close: () => connection.close(),
  };
}
