import { Redis } from "ioredis";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { redisStore, type RedisClientLike } from "../../../src/server/stores/redis.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import { HOUR, NOW, describeStoreConformance, storedSession } from "./conformance.ts";
import { needService, REDIS, runId, tcpRelay } from "../services.ts";

// Every key this run writes starts with this, so parallel runs on one server never meet.
const RUN = `sessionpulse-test:${runId()}:`;
let prefixes = 0;
const freshPrefix = () => `${RUN}${++prefixes}:`;

/** A client for the tests' own checks and clean-up; opened only once a test needs it. */
let admin: Redis | undefined;
const adminClient = () => (admin ??= new Redis(REDIS.url, { maxRetriesPerRequest: 1 }));

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await adminClient().scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 1000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== "0");
  return keys;
}

async function deleteUnder(prefix: string) {
  const keys = await keysUnder(prefix);
  if (keys.length > 0) await adminClient().del(...keys);
}

beforeEach(async (context) => {
  await needService(REDIS, context);
});

afterAll(async () => {
  if (!admin) return;
  await deleteUnder(RUN);
  admin.disconnect();
});

function subject(open: (keyPrefix: string) => Store) {
  return async () => {
    const keyPrefix = freshPrefix();
    return {
      store: open(keyPrefix),
      reset: () => deleteUnder(keyPrefix),
    };
  };
}

describeStoreConformance(
  "redisStore ({ url })",
  subject((keyPrefix) => redisStore({ url: REDIS.url }, { keyPrefix })),
);

const appClient = new Redis(REDIS.url, { maxRetriesPerRequest: 1, lazyConnect: true });
describeStoreConformance(
  "redisStore ({ client }: ioredis)",
  subject((keyPrefix) => {
    const store = redisStore({ client: appClient }, { keyPrefix });
    return {
      ...store,
      async close() {
        await store.close();
        // The store leaves an app's client alone.
        expect(await appClient.ping()).toBe("PONG");
        appClient.disconnect();
      },
    };
  }),
);

/** node-redis is an optional peer the project does not install; its adapter runs wherever `redis` loads. */
const nodeRedis = import("redis").then(
  (module: { createClient(options: { url: string }): RedisClientLike & { connect(): Promise<unknown>; close?(): Promise<void>; quit(): Promise<unknown> } }) =>
    module,
  (error: unknown) => error as Error,
);
describe("with node-redis", () => {
  let client: Awaited<ReturnType<Exclude<Awaited<typeof nodeRedis>, Error>["createClient"]>> | undefined;
  beforeEach(async (context) => {
    const loaded = await nodeRedis;
    if (loaded instanceof Error)
      context.skip(`the \`redis\` package cannot be loaded here (${loaded.message.split("\n")[0]}); the node-redis adapter was not exercised`);
  });
  afterAll(async () => {
    await (client?.close?.() ?? client?.quit());
  });
  describeStoreConformance(
    "redisStore ({ client }: node-redis)",
    subject((keyPrefix) => {
      const store = redisStore({ client: client! }, { keyPrefix });
      return store;
    }),
  );
  beforeEach(async () => {
    const loaded = await nodeRedis;
    if (loaded instanceof Error || client) return;
    client = loaded.createClient({ url: REDIS.url });
    await client.connect();
  });
});

describe("redisStore against a real server", () => {
  it("types: an ioredis client is a RedisClientLike", () => {
    const check: RedisClientLike = appClient;
    expect(check).toBe(appClient);
  });

  it("sets TTLs from the handler's clock: expiry plus grace, the user's index as long as its longest session", async () => {
    const keyPrefix = freshPrefix();
    const store = redisStore({ url: REDIS.url }, { keyPrefix, ttlGraceMs: 1000 });
    const redis = adminClient();
    const session = storedSession({ userId: "ttl-user", createdAt: NOW - 5000, updatedAt: NOW, expires: NOW + HOUR });
    await store.create(session);
    const sessionTtl = await redis.pttl(`${keyPrefix}session:${session.id}`);
    expect(sessionTtl).toBeGreaterThan(HOUR + 1000 - 500);
    expect(sessionTtl).toBeLessThanOrEqual(HOUR + 1000);
    expect(await redis.pttl(`${keyPrefix}user:ttl-user`)).toBeGreaterThan(HOUR);

    // A touch at NOW + 10 min to NOW + 2 h: TTL ≈ 1 h 50 min + grace, and the index follows.
    expect(await store.touch(session.id, NOW + 2 * HOUR, NOW + 600_000, NOW + HOUR)).toBe(true);
    const touched = await redis.pttl(`${keyPrefix}session:${session.id}`);
    expect(touched).toBeGreaterThan(2 * HOUR - 600_000 + 1000 - 500);
    expect(touched).toBeLessThanOrEqual(2 * HOUR - 600_000 + 1000);
    expect(await redis.pttl(`${keyPrefix}user:ttl-user`)).toBeGreaterThanOrEqual(touched - 50);

    await store.revokeToken("jti-ttl", NOW + 30_000, NOW);
    const denyTtl = await redis.pttl(`${keyPrefix}deny:jti-ttl`);
    expect(denyTtl).toBeGreaterThan(31_000 - 500);
    expect(denyTtl).toBeLessThanOrEqual(31_000);
    expect(await redis.get(`${keyPrefix}deny:jti-ttl`)).toBe(`${NOW}:${NOW + 30_000}`);
    await store.close();
  });

  it("refuses every call once closed, with its own client or the app's (which stays open)", async () => {
    const session = storedSession({ userId: "closing" });
    const own = redisStore({ url: REDIS.url }, { keyPrefix: freshPrefix() });
    await own.create(session);
    expect(await own.get(session.id, NOW)).toEqual(session);
    await own.close();
    await expect(own.get(session.id, NOW)).rejects.toThrow(/closed/);

    const borrowed = redisStore({ client: adminClient() }, { keyPrefix: freshPrefix() });
    await borrowed.create(session);
    await borrowed.close();
    await expect(borrowed.get(session.id, NOW)).rejects.toThrow(/closed/);
    await expect(borrowed.touch(session.id, NOW + 2 * HOUR, NOW, Infinity)).rejects.toThrow(/closed/);
    expect(await adminClient().ping()).toBe("PONG");
  });

  it("runs its scripts again after Redis forgot them (a restart, SCRIPT FLUSH)", async () => {
    const store = redisStore({ url: REDIS.url }, { keyPrefix: freshPrefix() });
    const session = storedSession({ userId: "flushed", updatedAt: NOW, expires: NOW + HOUR });
    await store.create(session);
    await adminClient().script("FLUSH");
    expect(await store.touch(session.id, NOW + 2 * HOUR, NOW + 1000, NOW + HOUR)).toBe(true);
    expect((await store.get(session.id, NOW + 1000))?.expires).toBe(NOW + 2 * HOUR);
    await store.close();
  });

  it("Redis itself drops an expired session and its index", async () => {
    const keyPrefix = freshPrefix();
    const store = redisStore({ url: REDIS.url }, { keyPrefix, ttlGraceMs: 0 });
    const session = storedSession({ userId: "short", updatedAt: NOW, expires: NOW + 60 });
    await store.create(session);
    expect(await adminClient().exists(`${keyPrefix}session:${session.id}`, `${keyPrefix}user:short`)).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await adminClient().exists(`${keyPrefix}session:${session.id}`, `${keyPrefix}user:short`)).toBe(0);
    await store.close();
  });

  it("cleans index entries of vanished sessions lazily, on listByUser and on prune", async () => {
    const keyPrefix = freshPrefix();
    const store = redisStore({ url: REDIS.url }, { keyPrefix });
    const redis = adminClient();
    const [a, b] = [storedSession({ userId: "lazy" }), storedSession({ userId: "lazy", createdAt: NOW + 1, userAgent: null })];
    const c = storedSession({ userId: "idle" });
    for (const session of [a, b, c]) await store.create(session);
    // As if Redis had expired them.
    await redis.del(`${keyPrefix}session:${a.id}`, `${keyPrefix}session:${c.id}`);
    expect(await redis.zcard(`${keyPrefix}user:lazy`)).toBe(2);
    expect(await store.listByUser("lazy", NOW)).toEqual([b]);
    expect(await redis.zrange(`${keyPrefix}user:lazy`, 0, -1)).toEqual([b.id]);

    expect(await redis.zcard(`${keyPrefix}user:idle`)).toBe(1);
    expect(await store.prune(NOW)).toBe(0);
    expect(await redis.exists(`${keyPrefix}user:idle`)).toBe(0);
    // delete() takes the id out of the index at once.
    await store.delete(b.id);
    expect(await redis.exists(`${keyPrefix}user:lazy`)).toBe(0);
    await store.close();
  });

  it("prune and key names treat the prefix literally, even with glob characters", async () => {
    const base = freshPrefix();
    const globby = redisStore({ url: REDIS.url }, { keyPrefix: `${base}a*:` });
    const other = redisStore({ url: REDIS.url }, { keyPrefix: `${base}ab:` });
    const dead = storedSession({ expires: NOW - 1 });
    await other.create(dead);
    expect(await globby.prune(NOW)).toBe(0);
    expect(await adminClient().exists(`${base}ab:session:${dead.id}`)).toBe(1);
    expect(await other.prune(NOW)).toBe(1);
    await globby.close();
    await other.close();
  });

  it("rejects fast while Redis is unreachable and reconnects by itself when it is back", async () => {
    const relay = await tcpRelay(REDIS);
    await relay.stop();
    const store = redisStore({ url: relay.url("redis") }, { keyPrefix: freshPrefix() });
    const session = storedSession();

    let started = performance.now();
    await expect(store.create(session)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3000);

    await relay.start();
    await eventually(() => store.create(session));
    expect(await store.get(session.id, NOW)).toEqual(session);

    // Connected, then Redis goes away: calls reject at once instead of queueing.
    await relay.stop();
    started = performance.now();
    await expect(store.get(session.id, NOW)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1000);
    await relay.start();
    expect(await eventually(() => store.get(session.id, NOW))).toEqual(session);
    await store.close();
    await relay.stop();
  });

  it("a Redis that stops answering makes calls reject within the command timeout", async () => {
    const relay = await tcpRelay(REDIS);
    const store = redisStore({ url: relay.url("redis") }, { keyPrefix: freshPrefix(), commandTimeoutMs: 300 });
    const session = storedSession();
    await store.create(session);
    relay.hang();
    const started = performance.now();
    await expect(store.get(session.id, NOW)).rejects.toThrow(/timed out/i);
    expect(performance.now() - started).toBeLessThan(1500);
    await relay.start();
    expect(await eventually(() => store.get(session.id, NOW))).toEqual(session);
    await store.close();
    await relay.stop();
  });

  it("with revocationReplicas, a revocation no replica confirmed rejects (fail closed)", async () => {
    const keyPrefix = freshPrefix();
    const store = redisStore({ url: REDIS.url }, { keyPrefix, revocationReplicas: 1, revocationWaitMs: 50 });
    await expect(store.revokeToken("jti-r", NOW + HOUR, NOW)).rejects.toThrow(/0 of 1 replicas/);
    // The primary has it all the same.
    expect(await store.revokedAt("jti-r", NOW)).toBe(NOW);
    await store.close();
  });

  it("refuses an ioredis client with its own keyPrefix, and a non-client", () => {
    const prefixed = new Redis(REDIS.url, { keyPrefix: "x:", lazyConnect: true });
    expect(() => redisStore({ client: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
    expect(() => redisStore({ client: {} as RedisClientLike })).toThrow(/ioredis|node-redis/);
  });
});

/** Retries `run` until it resolves (a reconnection takes a back-off step), for at most 5 s. */
async function eventually<T>(run: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + 5000;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
