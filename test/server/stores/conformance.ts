import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { Store, StoredSession } from "../../../src/server/stores/store.ts";

/** The time every store test runs at, and an hour: shared so the suites agree. */
export const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
export const HOUR = 3_600_000;

let sequence = 0;
/** A session row; ids look like the handler's (64 hex chars), unique per call. */
export function storedSession(overrides: Partial<StoredSession> = {}): StoredSession {
  sequence++;
  return {
    id: `${sequence.toString(16).padStart(8, "0")}${"ab".repeat(28)}`,
    userId: "user-1",
    data: { sub: "user-1", name: "Ada", nested: { roles: ["admin"], n: 1 } },
    createdAt: NOW,
    updatedAt: NOW,
    expires: NOW + HOUR,
    userAgent: "Mozilla/5.0 (test)",
    ...overrides,
  };
}

export interface StoreUnderTest {
  store: Store;
  /** Empties the store between tests. */
  reset(): Promise<void>;
}

/**
 * The contract every store keeps. Run it with a factory that returns a store
 * connected to its real backend (a SQLite file, a PostgreSQL, a Redis).
 */
export function describeStoreConformance(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`${name} conformance`, () => {
    let subject: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      subject ??= await open();
      await subject.reset();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.store.close();
    });

    it("creates and reads a session with its data intact", async () => {
      const session = storedSession();
      await store.create(session);
      expect(await store.get(session.id, NOW)).toEqual(session);
      expect(await store.get("f".repeat(64), NOW)).toBeNull();
    });

    it("keeps a null user agent and unicode data", async () => {
      const session = storedSession({ userAgent: null, data: { name: "Zoë 🚀", quote: 'it\'s "fine"' } });
      await store.create(session);
      expect(await store.get(session.id, NOW)).toEqual(session);
    });

    it("treats a session as gone at its expiry", async () => {
      const session = storedSession({ expires: NOW + 1000 });
      await store.create(session);
      expect(await store.get(session.id, NOW + 999)).not.toBeNull();
      expect(await store.get(session.id, NOW + 1000)).toBeNull();
      expect(await store.listByUser("user-1", NOW + 1000)).toEqual([]);
    });

    it("touch writes only when the stored expiry is at most the threshold, never moving it back", async () => {
      const session = storedSession();
      await store.create(session);
      expect(await store.touch(session.id, NOW + 2 * HOUR, NOW + 10, NOW + HOUR - 1)).toBe(false);
      expect(await store.touch(session.id, NOW + 2 * HOUR, NOW + 10, NOW + HOUR)).toBe(true);
      expect(await store.get(session.id, NOW)).toMatchObject({ expires: NOW + 2 * HOUR, updatedAt: NOW + 10 });
      // A late, older touch cannot shorten it.
      expect(await store.touch(session.id, NOW + HOUR + 5, NOW + 5, NOW + HOUR)).toBe(false);
      expect((await store.get(session.id, NOW))?.expires).toBe(NOW + 2 * HOUR);
      expect(await store.touch("f".repeat(64), NOW + 2 * HOUR, NOW, Infinity)).toBe(false);
    });

    it("100 concurrent touches of one session write exactly once", async () => {
      const session = storedSession();
      await store.create(session);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.touch(session.id, NOW + 2 * HOUR + i, NOW + i, NOW + HOUR)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.get(session.id, NOW))!.expires).toBeGreaterThanOrEqual(NOW + 2 * HOUR);
    });

    it("update replaces the data and refuses a deleted session", async () => {
      const session = storedSession();
      await store.create(session);
      expect(await store.update(session.id, { theme: "dark" }, NOW + 5)).toBe(true);
      expect(await store.get(session.id, NOW)).toMatchObject({ data: { theme: "dark" }, updatedAt: NOW + 5, expires: session.expires });
      await store.delete(session.id);
      expect(await store.update(session.id, { theme: "light" }, NOW + 6)).toBe(false);
      expect(await store.get(session.id, NOW)).toBeNull();
    });

    it("a delete racing a touch stays deleted", async () => {
      const session = storedSession();
      await store.create(session);
      await Promise.all([store.delete(session.id), store.touch(session.id, NOW + 2 * HOUR, NOW, NOW + HOUR)]);
      expect(await store.get(session.id, NOW)).toBeNull();
    });

    it("lists one user's live sessions, oldest first, and deletes them all", async () => {
      const first = storedSession({ createdAt: NOW - 2000 });
      const second = storedSession({ createdAt: NOW - 1000 });
      const expired = storedSession({ expires: NOW - 1 });
      const other = storedSession({ userId: "user-2" });
      for (const session of [second, first, expired, other]) await store.create(session);
      expect((await store.listByUser("user-1", NOW)).map((session) => session.id)).toEqual([first.id, second.id]);
      expect(await store.deleteByUser("user-1")).toBeGreaterThanOrEqual(2);
      expect(await store.listByUser("user-1", NOW)).toEqual([]);
      expect(await store.get(other.id, NOW)).not.toBeNull();
    });

    it("prunes expired sessions and deny-list entries, and only those", async () => {
      const live = storedSession();
      const dead = storedSession({ expires: NOW - 1 });
      await store.create(live);
      await store.create(dead);
      await store.revokeToken("sid-dead", NOW - 1, NOW - 100);
      await store.revokeToken("sid-live", NOW + HOUR, NOW - 100);
      expect(await store.prune(NOW)).toBe(2);
      expect(await store.get(live.id, NOW)).not.toBeNull();
      expect(await store.revokedAt("sid-live", NOW)).toBe(NOW - 100);
    });

    it("keeps deny-list entries until they expire, with the time of revocation", async () => {
      expect(await store.revokedAt("sid-1", NOW)).toBeNull();
      await store.revokeToken("sid-1", NOW + HOUR, NOW);
      expect(await store.revokedAt("sid-1", NOW + HOUR - 1)).toBe(NOW);
      expect(await store.revokedAt("sid-1", NOW + HOUR)).toBeNull();
      // Revoking again (sign out everywhere, twice) moves the time forward.
      await store.revokeToken("user:user-1", NOW + HOUR, NOW);
      await store.revokeToken("user:user-1", NOW + 2 * HOUR, NOW + 500);
      expect(await store.revokedAt("user:user-1", NOW + 1000)).toBe(NOW + 500);
    });

    it("never shortens a revocation: a second entry with an earlier expiry keeps the later one", async () => {
      await store.revokeToken("sid-2", NOW + 2 * HOUR, NOW);
      await store.revokeToken("sid-2", NOW + HOUR, NOW + 10);
      expect(await store.revokedAt("sid-2", NOW + HOUR + 1)).not.toBeNull();
      expect(await store.revokedAt("sid-2", NOW + 2 * HOUR)).toBeNull();
    });

    it("advances a generation atomically: every call gets a distinct, larger value, whatever the floors", async () => {
      expect(await store.revokedAt("user:g", NOW)).toBeNull();
      const first = await store.advanceGeneration("user:g", NOW + HOUR, NOW);
      expect(first).toBe(NOW);
      // A node whose clock is behind still moves it forward.
      expect(await store.advanceGeneration("user:g", NOW + HOUR, NOW - 60_000)).toBe(NOW + 1);
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => store.advanceGeneration("user:g", NOW + HOUR, NOW - 1)));
      expect(new Set(concurrent).size).toBe(20);
      expect(Math.min(...concurrent)).toBe(NOW + 2);
      expect(await store.revokedAt("user:g", NOW)).toBe(NOW + 21);
    });

    it("keeps a generation's later expiry, and starts again above the floor once it has expired", async () => {
      await store.advanceGeneration("user:h", NOW + 2 * HOUR, NOW);
      await store.advanceGeneration("user:h", NOW + HOUR, NOW);
      expect(await store.revokedAt("user:h", NOW + HOUR + 1)).toBe(NOW + 1);
      expect(await store.revokedAt("user:h", NOW + 2 * HOUR)).toBeNull();
      expect(await store.advanceGeneration("user:h", NOW + 4 * HOUR, NOW + 3 * HOUR)).toBe(NOW + 3 * HOUR);
    });

    it("keeps a value until its expiry, replaces it, and deletes it", async () => {
      const value = 'tokens: {"a":"Zoë 🚀"} : with colons';
      expect(await store.getValue("v:1", NOW)).toBeNull();
      expect(await store.putValue("v:1", value, NOW + HOUR, NOW)).toBe(true);
      expect(await store.getValue("v:1", NOW)).toBe(value);
      expect(await store.getValue("v:1", NOW + HOUR)).toBeNull();
      expect(await store.putValue("v:1", "second", NOW + 2 * HOUR, NOW)).toBe(true);
      expect(await store.getValue("v:1", NOW + HOUR)).toBe("second");
      await store.deleteValue("v:1");
      expect(await store.getValue("v:1", NOW)).toBeNull();
      await store.deleteValue("v:absent");
    });

    it("writes a value only if absent atomically: of concurrent callers exactly one wins, and an expired value counts as absent", async () => {
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putValue("lock:1", `node-${i}`, NOW + 10_000, NOW, true)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      const winner = `node-${wins.indexOf(true)}`;
      expect(await store.getValue("lock:1", NOW)).toBe(winner);
      expect(await store.putValue("lock:1", "late", NOW + 20_000, NOW + 9_999, true)).toBe(false);
      expect(await store.getValue("lock:1", NOW + 9_999)).toBe(winner);
      // Once it has expired by the caller's time, the next caller takes it.
      expect(await store.putValue("lock:1", "next", NOW + 20_000, NOW + 10_000, true)).toBe(true);
      expect(await store.getValue("lock:1", NOW + 10_000)).toBe("next");
      await store.deleteValue("lock:1");
      expect(await store.putValue("lock:1", "after release", NOW + 20_000, NOW, true)).toBe(true);
    });

    it("treats ids and keys as data, never as query syntax", async () => {
      const hostile = storedSession({ id: "x' OR '1'='1", userId: "u'; DROP TABLE sessions;--" });
      await store.create(hostile);
      expect(await store.get("x' OR '1'='1", NOW)).toMatchObject({ userId: "u'; DROP TABLE sessions;--" });
      expect(await store.get("anything", NOW)).toBeNull();
      await store.revokeToken("*", NOW + HOUR, NOW);
      expect(await store.revokedAt("sid-*", NOW)).toBeNull();
      await store.putValue("k' OR '1'='1", "v", NOW + HOUR, NOW);
      expect(await store.getValue("k' OR 'x'='x", NOW)).toBeNull();
      expect(await store.getValue("k' OR '1'='1", NOW)).toBe("v");
    });
  });
}
