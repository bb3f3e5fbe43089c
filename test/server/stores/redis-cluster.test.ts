import { Cluster, Redis } from "ioredis";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { redisStore, type RedisClientLike } from "../../../src/server/stores/redis.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import { CookieJar, createTestHandler, get, manualClock, postJson, signIn } from "../helpers.ts";
import { HOUR, NOW, describeStoreConformance, storedSession } from "./conformance.ts";
import { needService, REDIS, REDIS_CLUSTER, runId, tcpRelay } from "../services.ts";

// A real Redis Cluster: three masters on loopback, started by scripts/redis-cluster.sh (.ci/run runs it).
// Every key this run writes starts with this, so parallel runs on one cluster never meet.
const RUN = `sessionpulse-test:${runId()}:`;
let prefixes = 0;
const freshPrefix = () => `${RUN}${++prefixes}:`;

/** A cluster client for the tests' own checks and clean-up; opened only once a test needs it. */
let admin: Cluster | undefined;
const adminClient = () => (admin ??= new Cluster([REDIS_CLUSTER.url], { redisOptions: { maxRetriesPerRequest: 1 } }));

/** Every key under `prefix`, on every master, each with the master that holds it. */
async function keysUnder(prefix: string): Promise<{ key: string; node: string }[]> {
  const cluster = adminClient();
  await cluster.ping();
  const found: { key: string; node: string }[] = [];
  for (const node of cluster.nodes("master")) {
    let cursor = "0";
    do {
      const [next, page] = await node.scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 1000);
      cursor = next;
      found.push(...page.map((key) => ({ key, node: `${node.options.host}:${node.options.port}` })));
    } while (cursor !== "0");
  }
  return found;
}

async function deleteUnder(prefix: string) {
  // One DEL per key: they are in different slots.
  await Promise.all((await keysUnder(prefix)).map(({ key }) => adminClient().del(key)));
}

afterAll(async () => {
  if (!admin) return;
  await deleteUnder(RUN);
  admin.disconnect();
});

function subject(open: (keyPrefix: string) => Store) {
  return async () => {
    const keyPrefix = freshPrefix();
    return { store: open(keyPrefix), reset: () => deleteUnder(keyPrefix) };
  };
}

describe("on a Redis Cluster", () => {
  beforeEach(async (context) => {
    await needService(REDIS_CLUSTER, context);
  });

  describeStoreConformance(
    "redisStore ({ cluster })",
    subject((keyPrefix) => redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix })),
  );

  const appCluster = new Cluster([REDIS_CLUSTER.url], { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 1 } });
  describeStoreConformance(
    "redisStore ({ client }: ioredis Cluster)",
    subject((keyPrefix) => {
      const store = redisStore({ client: appCluster }, { keyPrefix });
      return {
        ...store,
        async close() {
          await store.close();
          // The store leaves an app's client alone.
          expect(await appCluster.ping()).toBe("PONG");
          appCluster.disconnect();
        },
      };
    }),
  );

  describe("with node-redis createCluster", () => {
    type NodeRedisCluster = RedisClientLike & { connect(): Promise<unknown>; close?(): Promise<void>; quit(): Promise<unknown> };
    let cluster: NodeRedisCluster | undefined;
    beforeEach(async (context) => {
      let module: { createCluster(options: { rootNodes: { url: string }[] }): NodeRedisCluster };
      try {
        module = await import("redis");
      } catch (error) {
        return context.skip(`the \`redis\` package cannot be loaded here (${String(error).split("\n")[0]}); the node-redis cluster adapter was not exercised`);
      }
      if (cluster) return;
      cluster = module.createCluster({ rootNodes: [{ url: REDIS_CLUSTER.url }] });
      await cluster.connect();
    });
    afterAll(async () => {
      await (cluster?.close?.() ?? cluster?.quit());
    });
    describeStoreConformance(
      "redisStore ({ client }: node-redis cluster)",
      subject((keyPrefix) => redisStore({ client: cluster! }, { keyPrefix })),
    );

    it("waits for replicas on the master of the revoked key (none here: it rejects, fail closed)", async () => {
      const store = redisStore({ client: cluster! }, { keyPrefix: freshPrefix(), revocationReplicas: 1, revocationWaitMs: 50 });
      await expect(store.revokeToken("jti-r", NOW + HOUR, NOW)).rejects.toThrow(/0 of 1 replicas/);
      expect(await store.revokedAt("jti-r", NOW)).toBe(NOW);
      await store.close();
    });
  });

  it("keeps a user's sessions and index in one slot, spreads users over the masters, and finds a session by its owner key", async () => {
    const keyPrefix = freshPrefix();
    const store = redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix, ttlGraceMs: 1000 });
    const redis = adminClient();
    const sessions = Array.from({ length: 30 }, (_, i) => storedSession({ userId: `spread-${i % 10}` }));
    for (const session of sessions) await store.create(session);
    const keys = await keysUnder(keyPrefix);
    // 30 sessions, 10 indexes, 30 owner keys.
    expect(keys).toHaveLength(70);
    expect(new Set(keys.map(({ node }) => node)).size).toBe(3);
    for (let user = 0; user < 10; user++) {
      const slots = await Promise.all(
        keys.filter(({ key }) => key.startsWith(`${keyPrefix}{u:spread-${user}}:`)).map(({ key }) => redis.call("CLUSTER", "KEYSLOT", key)),
      );
      expect(slots).toHaveLength(4);
      expect(new Set(slots).size).toBe(1);
    }
    const [session] = sessions;
    const sessionKey = `${keyPrefix}{u:${session!.userId}}:session:${session!.id}`;
    const ownerKey = `${keyPrefix}{s:${session!.id}}:owner`;
    expect(await redis.get(ownerKey)).toBe(session!.userId);
    // The owner key outlives its session, before and after a touch.
    expect(await redis.pttl(ownerKey)).toBeGreaterThanOrEqual(await redis.pttl(sessionKey));
    expect(await store.touch(session!.id, NOW + 5 * HOUR, NOW + 1000, NOW + HOUR)).toBe(true);
    const touched = await redis.pttl(sessionKey);
    // Touched at NOW + 1 s to NOW + 5 h, with a grace of 1 s: about 5 h.
    expect(touched).toBeGreaterThan(5 * HOUR - 500);
    expect(await redis.pttl(ownerKey)).toBeGreaterThanOrEqual(touched);
    expect(await redis.pttl(`${keyPrefix}{u:${session!.userId}}:user`)).toBeGreaterThanOrEqual(touched - 50);
    // delete and deleteByUser take the owner keys with them.
    await store.delete(session!.id);
    expect([await redis.exists(ownerKey), await redis.exists(sessionKey)]).toEqual([0, 0]);
    expect(await store.deleteByUser("spread-1")).toBe(3);
    expect((await keysUnder(keyPrefix)).filter(({ key }) => key.includes("spread-1}"))).toEqual([]);
    expect(await keysUnder(keyPrefix)).toHaveLength(70 - 2 - 7);
    await store.close();
  });

  it("keeps users apart whose ids hold braces or percent signs", async () => {
    const store = redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix: freshPrefix() });
    const users = ["a}b", "a%7Db", "a", "{a}", "a}:session:x", "%", "}{"];
    const sessions = users.map((userId) => storedSession({ userId }));
    for (const session of sessions) await store.create(session);
    for (const session of sessions) {
      expect(await store.get(session.id, NOW)).toEqual(session);
      expect(await store.listByUser(session.userId, NOW)).toEqual([session]);
    }
    expect(await store.deleteByUser("a}b")).toBe(1);
    for (const session of sessions.slice(1)) expect(await store.listByUser(session.userId, NOW)).toEqual([session]);
    await store.close();
  });

  it("prunes on every master: expired sessions of many users and deny-list entries, their owner keys and stale index entries", async () => {
    const keyPrefix = freshPrefix();
    const store = redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix });
    const dead = Array.from({ length: 20 }, (_, i) => storedSession({ userId: `prune-${i}`, expires: NOW - 1 }));
    const live = Array.from({ length: 20 }, (_, i) => storedSession({ userId: `prune-${i}` }));
    for (const session of [...dead, ...live]) await store.create(session);
    for (let i = 0; i < 20; i++) await store.revokeToken(`jti-dead-${i}`, NOW - 1, NOW - 100);
    await store.revokeToken("jti-live", NOW + HOUR, NOW - 100);
    const deadNodes = new Set(
      (await keysUnder(keyPrefix)).filter(({ key }) => key.includes("deny:jti-dead") || dead.some((s) => key.endsWith(s.id))).map(({ node }) => node),
    );
    expect(deadNodes.size).toBe(3);
    // As if Redis had expired a live session but not yet its index.
    await adminClient().del(`${keyPrefix}{u:prune-0}:session:${live[0]!.id}`);

    expect(await store.prune(NOW)).toBe(40);
    const left = (await keysUnder(keyPrefix)).map(({ key }) => key);
    for (const session of dead) expect(left.filter((key) => key.includes(session.id))).toEqual([]);
    expect(left.filter((key) => key.includes("jti-dead"))).toEqual([]);
    for (const session of live.slice(1)) expect(await store.get(session.id, NOW)).toEqual(session);
    expect(await store.revokedAt("jti-live", NOW)).toBe(NOW - 100);
    expect(await adminClient().zrange(`${keyPrefix}{u:prune-0}:user`, 0, -1)).toEqual([]);
    expect(await store.prune(NOW)).toBe(0);
    await store.close();
  });

  it("sign out everywhere never misses a session: sessions created while deleteByUser runs are either deleted or listed, never live and unlisted", async () => {
    const store = redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix: freshPrefix() });
    for (let round = 0; round < 5; round++) {
      const userId = `race-${round}`;
      const sessions = Array.from({ length: 40 }, () => storedSession({ userId }));
      const before = sessions.slice(0, 10);
      for (const session of before) await store.create(session);
      // Started a little later each round, so it lands among the creates at different points.
      const signOutEverywhere = new Promise((resolve) => setTimeout(resolve, round)).then(() => store.deleteByUser(userId));
      const [deleted] = await Promise.all([signOutEverywhere, ...sessions.slice(10).map((session) => store.create(session))]);
      expect(deleted).toBeGreaterThanOrEqual(before.length);
      for (const session of before) expect(await store.get(session.id, NOW)).toBeNull();
      const listed = new Set((await store.listByUser(userId, NOW)).map((session) => session.id));
      for (const session of sessions) {
        if ((await store.get(session.id, NOW)) !== null) expect(listed.has(session.id)).toBe(true);
      }
      expect(await store.deleteByUser(userId)).toBe(listed.size);
      for (const session of sessions) expect(await store.get(session.id, NOW)).toBeNull();
    }
    await store.close();
  });

  it("with revocationReplicas on an ioredis Cluster, WAIT runs on the key's master (none here: it rejects, fail closed)", async () => {
    const store = redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix: freshPrefix(), revocationReplicas: 1, revocationWaitMs: 50 });
    await expect(store.revokeToken("jti-r", NOW + HOUR, NOW)).rejects.toThrow(/0 of 1 replicas/);
    await expect(store.advanceGeneration("user:r", NOW + HOUR, NOW)).rejects.toThrow(/0 of 1 replicas/);
    expect(await store.revokedAt("jti-r", NOW)).toBe(NOW);
    await store.close();
  });

  it("with its own client, rejects within connectTimeoutMs while no node answers, and connects by itself once one does", async () => {
    // The store starts from the relay's port; the cluster then tells it the nodes' own addresses.
    const relay = await tcpRelay(REDIS_CLUSTER);
    await relay.stop();
    const store = redisStore({ cluster: [relay.url("redis")] }, { keyPrefix: freshPrefix(), connectTimeoutMs: 300 });
    const session = storedSession();
    for (let attempt = 0; attempt < 2; attempt++) {
      const started = performance.now();
      await expect(store.create(session)).rejects.toThrow(/not ready/);
      expect(performance.now() - started).toBeLessThan(1500);
    }
    await relay.start();
    await eventually(() => store.create(session));
    expect(await store.get(session.id, NOW)).toEqual(session);
    await store.close();
    await relay.stop();
  });

  it("refuses the single layout on a cluster, a prefix with braces, and an empty node list", () => {
    const cluster = new Cluster([REDIS_CLUSTER.url], { lazyConnect: true });
    expect(() => redisStore({ client: cluster }, { cluster: false })).toThrow(/cluster key layout/);
    expect(() => redisStore({ cluster: [REDIS_CLUSTER.url] }, { cluster: false })).toThrow(/cluster key layout/);
    expect(() => redisStore({ client: cluster }, { keyPrefix: "{app}:" })).toThrow(/keyPrefix/);
    expect(() => redisStore({ cluster: [] })).toThrow(/at least one node/);
    const prefixed = new Cluster([REDIS_CLUSTER.url], { lazyConnect: true, keyPrefix: "x:" });
    expect(() => redisStore({ client: prefixed })).toThrow(/keyPrefix/);
    cluster.disconnect();
    prefixed.disconnect();
  });

  describe("two server nodes sharing the cluster", () => {
    const stores: Store[] = [];
    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close()));
    });
    function twoNodes(strategy: "jwt" | "database") {
      const clock = manualClock();
      const keyPrefix = freshPrefix();
      const node = () => {
        const store = redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix });
        stores.push(store);
        return createTestHandler({ clock: clock.now, session: { strategy, maxAge: 3600, updateAge: 600 }, store }).auth;
      };
      return { a: node(), b: node(), clock };
    }

    it("database sessions: sign in on one, use on the other, revoke on the other, refused on the first", async () => {
      const { a, b } = twoNodes("database");
      const { jar, csrfToken } = await signIn(a.handler, new CookieJar());
      expect(await (await b.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
      expect((await b.handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar))).status).toBe(200);
      const stale = new CookieJar();
      stale.cookies.set("authjs.session-token", jar.cookies.get("authjs.session-token")!);
      expect(await (await a.handler(get("/session", stale))).json()).toBeNull();
    });

    it("JWT sessions with the deny-list: a sign-out on one node is honoured by the other", async () => {
      const { a, b } = twoNodes("jwt");
      const { jar, csrfToken } = await signIn(a.handler, new CookieJar());
      const copy = jar.header();
      expect(await (await b.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
      await b.handler(postJson("/signout", { csrfToken }, jar));
      expect(await (await a.handler(get("/session", undefined, { cookie: copy }))).json()).toBeNull();
    });

    it("touches once across both nodes when updateAge has passed", async () => {
      const { a, b, clock } = twoNodes("database");
      const { jar } = await signIn(a.handler, new CookieJar());
      clock.advance(601);
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).handler(get("/session", jar))));
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(responses.filter((response) => response.headers.getSetCookie().length > 0)).toHaveLength(1);
    });
  });
});

describe("the cluster layout on a single Redis ({ cluster: true })", () => {
  beforeEach(async (context) => {
    await needService(REDIS, context);
  });
  const single = new Redis(REDIS.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  afterAll(() => single.disconnect());
  describeStoreConformance("redisStore ({ url }, { cluster: true })", async () => {
    const keyPrefix = freshPrefix();
    return {
      store: redisStore({ url: REDIS.url }, { keyPrefix, cluster: true }),
      async reset() {
        const keys: string[] = [];
        let cursor = "0";
        do {
          const [next, page] = await single.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
          cursor = next;
          keys.push(...page);
        } while (cursor !== "0");
        if (keys.length > 0) await single.del(...keys);
      },
    };
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
