import pg from "pg";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { postgresStore, type PgPoolLike } from "../../../src/server/stores/postgres.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import { HOUR, NOW, describeStoreConformance, storedSession } from "./conformance.ts";
import { needService, POSTGRES, runId, tcpRelay } from "../services.ts";

// Every table this run creates starts with this, so parallel runs on one server never meet.
const RUN = `sp${runId()}_`;
let prefixes = 0;
const freshPrefix = () => `${RUN}${++prefixes}_`;

/** An admin pool for the tests' own checks and clean-up; opened only once a test needs it. */
let admin: pg.Pool | undefined;
const adminPool = () => (admin ??= new pg.Pool({ connectionString: POSTGRES.url, max: 2 }));

beforeEach(async (context) => {
  await needService(POSTGRES, context);
});

afterAll(async () => {
  if (!admin) return;
  const { rows } = await admin.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1", [
    `${RUN.replace(/_/g, "\\_")}%`,
  ]);
  for (const { name } of rows) await admin.query(`DROP TABLE IF EXISTS "${name}"`);
  await admin.end();
});

/** A conformance subject on one set of tables, emptied between tests. */
function subject(open: (tablePrefix: string) => Store, onClose?: () => Promise<void>) {
  return async () => {
    const tablePrefix = freshPrefix();
    const store = open(tablePrefix);
    await store.prune(0); // creates the tables
    return {
      store: {
        ...store,
        async close() {
          await store.close();
          await onClose?.();
        },
      },
      async reset() {
        await adminPool().query(`TRUNCATE "${tablePrefix}sessions", "${tablePrefix}revoked_tokens", "${tablePrefix}values"`);
      },
    };
  };
}

describeStoreConformance(
  "postgresStore ({ connectionString })",
  subject((tablePrefix) => postgresStore({ connectionString: POSTGRES.url }, { tablePrefix })),
);

const appPool = new pg.Pool({ connectionString: POSTGRES.url, max: 5 });
appPool.on("error", () => undefined);
describeStoreConformance(
  "postgresStore ({ pool })",
  subject(
    (tablePrefix) => postgresStore({ pool: appPool }, { tablePrefix }),
    () => appPool.end(),
  ),
);

describe("postgresStore against a real server", () => {
  it("types: a pg.Pool is a PgPoolLike", () => {
    const check: PgPoolLike = appPool;
    expect(check).toBe(appPool);
  });

  it("adds the values table to a schema created before it existed (sessions and deny-list only)", async () => {
    const tablePrefix = freshPrefix();
    const admin = adminPool();
    await admin.query(`CREATE TABLE "${tablePrefix}sessions" (id text PRIMARY KEY, user_id text NOT NULL, data jsonb NOT NULL,
      created_at bigint NOT NULL, updated_at bigint NOT NULL, expires bigint NOT NULL, user_agent text)`);
    await admin.query(`CREATE TABLE "${tablePrefix}revoked_tokens" (key text PRIMARY KEY, expires bigint NOT NULL, revoked_at bigint NOT NULL)`);
    const session = storedSession();
    await admin.query(`INSERT INTO "${tablePrefix}sessions" VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      session.id,
      session.userId,
      JSON.stringify(session.data),
      session.createdAt,
      session.updatedAt,
      session.expires,
      session.userAgent,
    ]);
    const store = postgresStore({ connectionString: POSTGRES.url }, { tablePrefix });
    try {
      expect(await store.putValue("k", "v", NOW + HOUR, NOW)).toBe(true);
      expect(await store.getValue("k", NOW)).toBe("v");
      expect(await store.get(session.id, NOW)).toEqual(session);
    } finally {
      await store.close();
    }
  });

  it("creates its tables on first use, once, even when two servers start at the same moment", async () => {
    const tablePrefix = freshPrefix();
    const exists = async () =>
      (
        await adminPool().query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1", [
          `${tablePrefix}%`,
        ])
      ).rows[0]!.n;
    const stores = Array.from({ length: 4 }, () => postgresStore({ connectionString: POSTGRES.url }, { tablePrefix }));
    expect(await exists()).toBe("0");
    const session = storedSession();
    await Promise.all(stores.map((store, i) => (i === 0 ? store.create(session) : store.listByUser("nobody", NOW))));
    expect(await exists()).toBe("3");
    expect(await stores[3]!.get(session.id, NOW)).toEqual(session);
    const columns = await adminPool().query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
      [`${tablePrefix}sessions`],
    );
    expect(Object.fromEntries(columns.rows.map((row) => [row.column_name, row.data_type]))).toEqual({
      id: "text",
      user_id: "text",
      data: "jsonb",
      created_at: "bigint",
      updated_at: "bigint",
      expires: "bigint",
      user_agent: "text",
    });
    await Promise.all(stores.map((store) => store.close()));
  });

  it("closes only a pool it created", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES.url, max: 2 });
    const store = postgresStore({ pool }, { tablePrefix: freshPrefix() });
    await store.prune(NOW);
    await store.close();
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    // No connection was left checked out.
    expect(pool.totalCount).toBe(pool.idleCount);
    await pool.end();
    await expect(store.get("x", NOW)).rejects.toThrow(/closed/);
  });

  it("rejects fast while the server is unreachable and recovers by itself when it is back", async () => {
    const relay = await tcpRelay(POSTGRES);
    const tablePrefix = freshPrefix();
    await relay.stop();
    const store = postgresStore({ connectionString: relay.url("postgres", "/test") }, { tablePrefix });
    const session = storedSession();

    let started = performance.now();
    await expect(store.create(session)).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(performance.now() - started).toBeLessThan(3000);

    await relay.start();
    await store.create(session);
    expect(await store.get(session.id, NOW)).toEqual(session);

    // The server goes away under open connections, then returns.
    await relay.stop();
    started = performance.now();
    await expect(store.get(session.id, NOW)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3000);
    await relay.start();
    expect(await store.get(session.id, NOW)).toEqual(session);
    await store.close();
    await relay.stop();
  });

  it("rejects within its timeouts when the server accepts but never answers, then recovers", async () => {
    const relay = await tcpRelay(POSTGRES);
    const store = postgresStore(
      { connectionString: relay.url("postgres", "/test") },
      { tablePrefix: freshPrefix(), connectTimeoutMs: 300, queryTimeoutMs: 500 },
    );
    const session = storedSession();
    await store.create(session);
    relay.hang();
    // On the open (now silent) connection: the query timeout; the pool then discards that connection.
    let started = performance.now();
    await expect(store.get(session.id, NOW)).rejects.toThrow(/timeout/i);
    expect(performance.now() - started).toBeLessThan(2000);
    // On a new connection: the connect timeout.
    started = performance.now();
    await expect(store.get(session.id, NOW)).rejects.toThrow(/timeout/i);
    expect(performance.now() - started).toBeLessThan(2000);
    await relay.start();
    expect(await store.get(session.id, NOW)).toEqual(session);
    await store.close();
    await relay.stop();
  });

  it("an app pool with a statement_timeout: a statement stuck behind a lock is cancelled, no connection leaks, the next call works", async () => {
    // statement_timeout (server side) below queryTimeoutMs (client side): the server cancels the statement,
    // so it cannot run later once the lock is gone.
    const pool = new pg.Pool({ connectionString: POSTGRES.url, max: 3, statement_timeout: 200 });
    const tablePrefix = freshPrefix();
    const store = postgresStore({ pool }, { tablePrefix, queryTimeoutMs: 1000 });
    const session = storedSession();
    await store.create(session);

    const locker = await adminPool().connect();
    await locker.query("BEGIN");
    await locker.query(`SELECT * FROM "${tablePrefix}sessions" WHERE id = $1 FOR UPDATE`, [session.id]);
    const started = performance.now();
    await expect(store.touch(session.id, NOW + 2 * HOUR, NOW, NOW + HOUR)).rejects.toThrow(/statement timeout/);
    expect(performance.now() - started).toBeLessThan(2000);
    await locker.query("ROLLBACK");
    locker.release();

    expect(await store.touch(session.id, NOW + 2 * HOUR, NOW, NOW + HOUR)).toBe(true);
    expect(pool.totalCount).toBe(pool.idleCount);
    await store.close();
    await pool.end();
  });

  it("the server-side statement timeout of its own pool cancels a long statement", async () => {
    const tablePrefix = freshPrefix();
    const store = postgresStore({ connectionString: POSTGRES.url }, { tablePrefix, statementTimeoutMs: 200, queryTimeoutMs: 5000 });
    const session = storedSession();
    await store.create(session);
    const locker = await adminPool().connect();
    await locker.query("BEGIN");
    await locker.query(`SELECT * FROM "${tablePrefix}sessions" WHERE id = $1 FOR UPDATE`, [session.id]);
    await expect(store.update(session.id, { a: 1 }, NOW)).rejects.toThrow(/statement timeout/);
    await locker.query("ROLLBACK");
    locker.release();
    expect(await store.update(session.id, { a: 1 }, NOW)).toBe(true);
    await store.close();
  });

  it("prunes in batches past the batch size", async () => {
    const tablePrefix = freshPrefix();
    const store = postgresStore({ connectionString: POSTGRES.url }, { tablePrefix });
    await store.prune(NOW);
    await adminPool().query(
      `INSERT INTO "${tablePrefix}sessions" (id, user_id, data, created_at, updated_at, expires)
       SELECT 'dead-' || n, 'u', '{}', 0, 0, $1 FROM generate_series(1, 12000) n`,
      [NOW - 1],
    );
    const live = storedSession();
    await store.create(live);
    expect(await store.prune(NOW)).toBe(12000);
    expect(await store.get(live.id, NOW)).not.toBeNull();
    await store.close();
  });

  it("refuses a table prefix that is not a plain identifier", () => {
    expect(() => postgresStore({ connectionString: POSTGRES.url }, { tablePrefix: 'x"; DROP TABLE y; --' })).toThrow(/tablePrefix/);
  });
});
