import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeEach, describe, expect, it, vi, type TestContext } from "vitest";
import { betterSqlite3Mismatch, sqliteStore, type SqliteDatabaseLike } from "../../../src/server/stores/sqlite.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import { missing } from "../services.ts";
import { recordingLogger, SECRET, signIn } from "../helpers.ts";
import { HOUR, NOW, describeStoreConformance, storedSession } from "./conformance.ts";

const dir = mkdtempSync(join(tmpdir(), "sessionpulse-sqlite-"));
let files = 0;
const freshPath = () => join(dir, `sessions-${++files}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A conformance subject that starts every test on a new store (a new file, or a new in-memory database). */
function freshStores(open: () => Store) {
  return async () => {
    let store: Store | undefined;
    return {
      get store() {
        return store!;
      },
      async reset() {
        await store?.close();
        store = open();
      },
    };
  };
}

describeStoreConformance(
  "sqliteStore (file, node:sqlite)",
  freshStores(() => sqliteStore({ path: freshPath() })),
);
describeStoreConformance(
  "sqliteStore (:memory:)",
  freshStores(() => sqliteStore({ path: ":memory:" })),
);
describeStoreConformance(
  "sqliteStore ({ database }: DatabaseSync)",
  freshStores(() => sqliteStore({ database: new DatabaseSync(":memory:") })),
);

/**
 * better-sqlite3 is an optional peer for users and a devDependency here
 * (version 13: N-API prebuilds that load on the Node the tests run on, no build).
 */
// A string specifier, so the type check needs no types for the optional peer.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
const betterSqlite3 = import("better-sqlite3" as string).then(
  (module: { default: new (path: string) => SqliteDatabaseLike }) => module.default,
  (error: unknown) => error as Error,
);
async function needBetterSqlite3(context: Pick<TestContext, "skip">) {
  const loaded = await betterSqlite3;
  if (loaded instanceof Error) missing(`better-sqlite3 cannot be loaded here (${loaded.message.split("\n")[0]}); run npm ci`, context);
  return loaded;
}

describe("with better-sqlite3", () => {
  beforeEach(async (context) => {
    await needBetterSqlite3(context);
  });
  describeStoreConformance(
    "sqliteStore (file, better-sqlite3)",
    freshStores(() => sqliteStore({ path: freshPath(), driver: "better-sqlite3" })),
  );

  it("takes an open better-sqlite3 database and leaves it open", async (context) => {
    const Database = await needBetterSqlite3(context);
    const database = new Database(":memory:");
    const store = sqliteStore({ database });
    const session = storedSession();
    await store.create(session);
    expect(await store.get(session.id, NOW)).toEqual(session);
    await store.close();
    expect(database.prepare("SELECT count(*) AS n FROM sessionpulse_sessions").get()).toEqual({ n: 1 });
    database.close();
  });
});

describe("sqliteStore on a file", () => {
  it("opens nothing until first use, then creates the schema", async () => {
    const path = freshPath();
    const store = sqliteStore({ path });
    expect(existsSync(path)).toBe(false);
    expect(await store.get("f".repeat(64), NOW)).toBeNull();
    const check = new DatabaseSync(path);
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((row) => row.name)).toEqual(["sessionpulse_revoked_tokens", "sessionpulse_sessions", "sessionpulse_values"]);
    check.close();
    await store.close();
  });

  it("puts a file in WAL mode", async () => {
    const path = freshPath();
    const store = sqliteStore({ path });
    await store.prune(NOW);
    const check = new DatabaseSync(path);
    expect(check.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    check.close();
    await store.close();
  });

  it("keeps sessions and revocations across reopening the file", async () => {
    const path = freshPath();
    const session = storedSession({ userAgent: null });
    const first = sqliteStore({ path });
    await first.create(session);
    await first.revokeToken("jti-1", NOW + HOUR, NOW);
    await first.close();
    await expect(first.get(session.id, NOW)).rejects.toThrow(/closed/);

    const second = sqliteStore({ path });
    expect(await second.get(session.id, NOW)).toEqual(session);
    expect(await second.revokedAt("jti-1", NOW)).toBe(NOW);
    await second.close();
  });

  it("two stores on one file (two processes) still touch exactly once", async () => {
    const path = freshPath();
    const a = sqliteStore({ path });
    const b = sqliteStore({ path });
    const session = storedSession();
    await a.create(session);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).touch(session.id, NOW + 2 * HOUR + i, NOW + i, NOW + HOUR)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await a.close();
    await b.close();
  });

  it("rejects with SQLITE_BUSY when another connection holds the write lock past busyTimeoutMs, then recovers", async () => {
    const path = freshPath();
    const store = sqliteStore({ path }, { busyTimeoutMs: 50 });
    const session = storedSession();
    await store.create(session);
    const other = new DatabaseSync(path);
    other.exec("BEGIN IMMEDIATE");
    const started = performance.now();
    await expect(store.touch(session.id, NOW + 2 * HOUR, NOW, NOW + HOUR)).rejects.toThrow(/locked|busy/i);
    expect(performance.now() - started).toBeLessThan(1000);
    // Reads still work in WAL mode while another connection writes.
    expect(await store.get(session.id, NOW)).not.toBeNull();
    other.exec("COMMIT");
    other.close();
    expect(await store.touch(session.id, NOW + 2 * HOUR, NOW, NOW + HOUR)).toBe(true);
    await store.close();
  });

  it("prunes in batches past the batch size", async () => {
    const path = freshPath();
    const store = sqliteStore({ path });
    await store.prune(NOW);
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA busy_timeout = 1000");
    raw
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
       INSERT INTO sessionpulse_sessions (id, user_id, data, created_at, updated_at, expires) SELECT 'dead-' || i, 'u', '{}', 0, 0, ? FROM n`,
      )
      .run(NOW - 1);
    raw.close();
    const live = storedSession();
    await store.create(live);
    expect(await store.prune(NOW)).toBe(2500);
    expect(await store.get(live.id, NOW)).not.toBeNull();
    await store.close();
  });

  it("keeps stores with different table prefixes apart, and refuses a prefix that is not an identifier", async () => {
    const path = freshPath();
    const a = sqliteStore({ path }, { tablePrefix: "app_a_" });
    const b = sqliteStore({ path }, { tablePrefix: "app_b_" });
    const session = storedSession();
    await a.create(session);
    expect(await b.get(session.id, NOW)).toBeNull();
    expect(await a.get(session.id, NOW)).not.toBeNull();
    await a.close();
    await b.close();
    expect(() => sqliteStore({ path }, { tablePrefix: 'x"; DROP TABLE y; --' })).toThrow(/tablePrefix/);
  });

  it("leaves a database it was given open, and retries a failed open", async () => {
    const database = new DatabaseSync(":memory:");
    const store = sqliteStore({ database });
    await store.create(storedSession());
    await store.close();
    expect(database.prepare("SELECT count(*) AS n FROM sessionpulse_sessions").get()).toEqual({ n: 1 });
    database.close();

    const missingDir = join(dir, "not-yet", "sessions.db");
    const later = sqliteStore({ path: missingDir });
    await expect(later.prune(NOW)).rejects.toThrow();
    (await import("node:fs")).mkdirSync(join(dir, "not-yet"));
    expect(await later.prune(NOW)).toBe(0);
    await later.close();
  });

  it("refuses better-sqlite3 13+ on a runtime below N-API 10 (it would segfault there), and only that", () => {
    expect(betterSqlite3Mismatch("13.2.0", 9)).toMatch(/better-sqlite3 13\.2\.0 needs Node 22 or later .*N-API 9.*better-sqlite3@12/);
    expect(betterSqlite3Mismatch("14.0.0-beta.1", 8)).toMatch(/needs Node 22/);
    expect(betterSqlite3Mismatch("12.11.1", 9)).toBeUndefined();
    expect(betterSqlite3Mismatch("13.2.0", 10)).toBeUndefined();
    expect(betterSqlite3Mismatch("13.2.0", Number.NaN)).toBeUndefined();
    expect(betterSqlite3Mismatch("not-a-version", 9)).toBeUndefined();
  });

  it("a driver that cannot load is in the log at start-up, with the fix, and requests get 500 store_misconfigured (not a 503 outage)", async () => {
    vi.resetModules();
    vi.doMock("better-sqlite3", () => {
      throw new Error("Cannot find module 'better-sqlite3'");
    });
    try {
      const server = await import("../../../src/server/index.ts");
      const { sqliteStore: freshSqliteStore } = await import("../../../src/server/stores/sqlite.ts");
      const log = recordingLogger();
      const auth = server.createSessionHandler({
        secret: SECRET,
        session: { strategy: "database" },
        store: freshSqliteStore({ path: ":memory:", driver: "better-sqlite3" }),
        logger: log.logger,
        authorize: () => ({ id: "ada" }),
      });
      await vi.waitFor(() => expect(log.entries.map((entry) => entry.code)).toContain("store_misconfigured"));
      const atStart = log.entries.find((entry) => entry.code === "store_misconfigured")!;
      expect(atStart.level).toBe("error");
      expect((atStart.details as { message: string }).message).toMatch(/npm install better-sqlite3/);
      const { response } = await signIn(auth.handler);
      expect(response.status).toBe(500);
      expect(response.headers.get("retry-after")).toBeNull();
      expect(await response.json()).toMatchObject({ error: "store_misconfigured" });
    } finally {
      vi.doUnmock("better-sqlite3");
      vi.resetModules();
    }
  });

  it("names both drivers when the one asked for cannot load", async () => {
    vi.resetModules();
    vi.doMock("better-sqlite3", () => {
      throw new Error("Could not locate the bindings file");
    });
    try {
      const { sqliteStore: freshSqliteStore } = await import("../../../src/server/stores/sqlite.ts");
      const store = freshSqliteStore({ path: ":memory:", driver: "better-sqlite3" });
      const error = await store.get("x", NOW).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).toMatch(/node:sqlite/);
      expect(error?.message).toMatch(/npm install better-sqlite3/);
      await store.close();
    } finally {
      vi.doUnmock("better-sqlite3");
      vi.resetModules();
    }
  });
});
