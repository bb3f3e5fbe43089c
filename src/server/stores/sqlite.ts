import type { Store } from "./store.js";
import { lazy } from "./lazy.js";
import { StoreSetupError } from "./setup-error.js";
import { retryWhileBusy } from "./sqlite-busy.js";
import { bind, PRUNE_BATCH, sessionStatements, SQLITE } from "./sql.js";
import { TABLE_PREFIX, importOptional, integerMillis, rowToSession, sessionValues, type SessionRow } from "./sql-support.js";

const millis = (value: number) => integerMillis(value, "sqliteStore");

/**
 * A value SQLite binds. Both drivers take these; typed here (not imported) so
 * the library build needs neither Node's types nor better-sqlite3's.
 */
type SqliteValue = string | number | null;

/** The parts of a prepared statement that `node:sqlite` and better-sqlite3 share. */
export interface SqliteStatementLike {
  run(...params: SqliteValue[]): { changes: number | bigint };
  get(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): unknown[];
}

/**
 * An open SQLite database: a `node:sqlite` `DatabaseSync` or a better-sqlite3
 * `Database`. Both have this synchronous shape, so one store serves both.
 */
export interface SqliteDatabaseLike {
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatementLike;
  close(): unknown;
}

export type SqliteStoreOptions =
  | {
      /** A file path, or `":memory:"` for a database that lives as long as the store. */
      path: string;
      /**
       * Which driver opens `path`. Default: `node:sqlite` where the runtime has it,
       * else better-sqlite3. Naming one uses only that one.
       */
      driver?: "node:sqlite" | "better-sqlite3";
      database?: never;
    }
  | {
      /**
       * An open `node:sqlite` `DatabaseSync` or better-sqlite3 `Database`. The store
       * creates its tables in it but sets no pragmas (`journal_mode`, `busy_timeout`
       * are the app's) and never closes it.
       */
      database: SqliteDatabaseLike;
      path?: never;
      driver?: never;
    };

export interface SqliteStoreSettings {
  /** Prefix of the three table names (`<prefix>sessions`, `<prefix>revoked_tokens`, `<prefix>values`). Default `"sessionpulse_"`. */
  tablePrefix?: string;
  /**
   * How long a call waits for another connection's lock before failing with
   * `SQLITE_BUSY` (the handler then answers 503). Only applied to a database the
   * store opens. The store waits on a timer, trying again every few ms (backing
   * off to 50 ms), not in SQLite's busy handler, which would sleep inside the
   * synchronous call and hold the event loop, and every other request, for
   * the whole wait. Default 1000 ms.
   */
  busyTimeoutMs?: number;
}

interface NodeSqliteModule {
  DatabaseSync: new (path: string) => SqliteDatabaseLike;
}

type BetterSqlite3Constructor = new (path: string) => SqliteDatabaseLike;

/**
 * `node:sqlite` when the runtime has it (Node ≥ 22.13 / 23.4 without a flag),
 * else undefined. `process.getBuiltinModule` answers undefined for a builtin the
 * runtime lacks instead of throwing at import, which is what keeps Node 20 alive.
 */
async function loadNodeSqlite(): Promise<NodeSqliteModule | undefined> {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const module = typeof runtime?.getBuiltinModule === "function" ? runtime.getBuiltinModule("node:sqlite") : await importOptional("node:sqlite");
    const candidate = module as Partial<NodeSqliteModule> | undefined;
    return typeof candidate?.DatabaseSync === "function" ? (candidate as NodeSqliteModule) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why this runtime cannot use this better-sqlite3, or undefined. From version
 * 13 it ships binaries for N-API 10 (Node 22 and later), and on Node 20 (N-API 9)
 * they load but crash the process at the first database they open: a
 * segmentation fault, not an error anyone can catch.
 */
export function betterSqlite3Mismatch(betterSqlite3Version: string, napiVersion: number): string | undefined {
  const major = Number.parseInt(betterSqlite3Version, 10);
  if (!(major >= 13) || !(napiVersion < 10)) return undefined;
  return `better-sqlite3 ${betterSqlite3Version} needs Node 22 or later (N-API 10) and would crash this runtime (N-API ${napiVersion}); on Node 20 install better-sqlite3@12`;
}

/**
 * better-sqlite3's constructor. Throws when it is installed but cannot load
 * (typically a native build for another Node ABI) or would crash this
 * runtime, so the error says why.
 */
async function loadBetterSqlite3(): Promise<BetterSqlite3Constructor> {
  const module = (await importOptional("better-sqlite3")) as { default?: unknown };
  if (typeof module.default !== "function") throw new Error("better-sqlite3 has no default export");
  const napi = Number((globalThis as { process?: { versions?: { napi?: string } } }).process?.versions?.napi);
  if (napi < 10) {
    const manifest = (await importOptional("better-sqlite3/package.json", { with: { type: "json" } }).catch(() => undefined)) as
      { default?: { version?: unknown } } | undefined;
    const version = manifest?.default?.version;
    const mismatch = typeof version === "string" ? betterSqlite3Mismatch(version, napi) : undefined;
    if (mismatch) throw new Error(mismatch);
  }
  return module.default as BetterSqlite3Constructor;
}

/** The driver asked for, or the first one available, as a function opening a path; a `StoreSetupError` saying what to install when there is none. */
async function loadDriver(driver: "auto" | "node:sqlite" | "better-sqlite3" = "auto"): Promise<(path: string) => SqliteDatabaseLike> {
  if (driver !== "better-sqlite3") {
    const nodeSqlite = await loadNodeSqlite();
    if (nodeSqlite) return (path) => new nodeSqlite.DatabaseSync(path);
    if (driver === "node:sqlite") throw new StoreSetupError("sqliteStore: this runtime has no `node:sqlite` (it needs Node >= 22.13 or 23.4)");
  }
  let BetterSqlite3: BetterSqlite3Constructor;
  try {
    BetterSqlite3 = await loadBetterSqlite3();
  } catch (cause) {
    throw new StoreSetupError(
      "sqliteStore needs a SQLite driver: Node's built-in `node:sqlite` (Node >= 22.13 or 23.4) or the optional peer " +
        "`better-sqlite3` (npm install better-sqlite3; on Node 20 better-sqlite3@12), or an open database passed as sqliteStore({ database }). " +
        `better-sqlite3 failed to load: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  return (path) => new BetterSqlite3(path);
}

/**
 * Sessions and the JWT deny-list in SQLite: one file shared by every process
 * on a machine (WAL mode), or `":memory:"` for tests. With `path` it uses
 * Node's built-in `node:sqlite` where the runtime has it, else the optional
 * peer `better-sqlite3`; or pass an open database of either driver. Tables are
 * created on first use.
 *
 * Both drivers are synchronous: each call runs to completion on the event
 * loop, and every conditional write is a single statement, so concurrent calls
 * (and other processes on the same file) cannot interleave inside one.
 *
 * @example
 * ```ts
 * import { createSessionHandler } from "sessionpulse/server";
 * import { sqliteStore } from "sessionpulse/server/sqlite";
 *
 * const auth = createSessionHandler({ secret, session: { strategy: "database" }, store: sqliteStore({ path: "sessions.db" }) });
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions, settings: SqliteStoreSettings = {}): Store {
  const prefix = settings.tablePrefix ?? "sessionpulse_";
  if (!TABLE_PREFIX.test(prefix)) throw new TypeError(`sqliteStore: tablePrefix must match ${TABLE_PREFIX} (it becomes part of table names)`);
  const busyTimeoutMs = settings.busyTimeoutMs ?? 1000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new TypeError("sqliteStore: busyTimeoutMs must be a non-negative integer");
  const ownsDatabase = options.database === undefined;
  if (ownsDatabase && typeof options.path !== "string") throw new TypeError("sqliteStore needs { path } or { database }");

  const sessions = `"${prefix}sessions"`;
  const revoked = `"${prefix}revoked_tokens"`;
  const values = `"${prefix}values"`;
  const sql = sessionStatements(sessions, revoked, values, SQLITE);

  /** An open database with every statement prepared once. */
  interface Prepared {
    db: SqliteDatabaseLike;
    statements: Record<keyof typeof sql, SqliteStatementLike>;
  }

  function createSchema(db: SqliteDatabaseLike) {
    // One transaction, taken as a writer at once, so two processes creating the schema cannot interleave.
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(`CREATE TABLE IF NOT EXISTS ${sessions} (
        id TEXT NOT NULL PRIMARY KEY,
        user_id TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        user_agent TEXT
      );
      CREATE INDEX IF NOT EXISTS "${prefix}sessions_user_id" ON ${sessions} (user_id, created_at);
      CREATE INDEX IF NOT EXISTS "${prefix}sessions_expires" ON ${sessions} (expires);
      CREATE TABLE IF NOT EXISTS ${revoked} (
        key TEXT NOT NULL PRIMARY KEY,
        expires INTEGER NOT NULL,
        revoked_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS "${prefix}revoked_tokens_expires" ON ${revoked} (expires);
      CREATE TABLE IF NOT EXISTS ${values} (
        key TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL,
        expires INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS "${prefix}values_expires" ON ${values} (expires);`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }

  const connection = lazy<Prepared>(
    "sqliteStore",
    async () => {
      const db = options.database ?? (await loadDriver(options.driver))(options.path);
      try {
        if (ownsDatabase) {
          // No busy wait inside SQLite (it would block the event loop): a busy statement fails at once
          // and retryWhileBusy tries the call again on a timer, the schema statements included.
          db.exec("PRAGMA busy_timeout = 0");
          // WAL lets readers run while one process writes; an in-memory database answers "memory" and stays as it is.
          // `synchronous` stays FULL: a revocation must survive a power cut.
          if (options.path !== ":memory:" && options.path !== "") db.exec("PRAGMA journal_mode = WAL");
        }
        createSchema(db);
        const statements = Object.fromEntries(Object.entries(sql).map(([name, statement]) => [name, db.prepare(statement.text)]));
        return { db, statements: statements as Prepared["statements"] };
      } catch (error) {
        if (ownsDatabase) db.close();
        throw error;
      }
    },
    ({ db }) => {
      if (ownsDatabase) db.close();
    },
  );

  /** Runs one statement with named values; both drivers are synchronous, so each runs to completion here. */
  async function statement(name: keyof typeof sql) {
    const { statements } = connection.current ?? (await connection.ready());
    const prepared = statements[name];
    const compiled = sql[name];
    const args = (values: Record<string, SqliteValue>) => bind(compiled, values) as SqliteValue[];
    return {
      run: (values: Record<string, SqliteValue>) => Number(prepared.run(...args(values)).changes),
      get: <T>(values: Record<string, SqliteValue>) => prepared.get(...args(values)) as T | undefined,
      all: <T>(values: Record<string, SqliteValue>) => prepared.all(...args(values)) as T[],
    };
  }

  const store: Store = {
    async create(session) {
      (await statement("insert")).run(sessionValues(session, millis));
    },
    async get(id, now) {
      const row = (await statement("select")).get<SessionRow>({ id });
      if (!row) return null;
      if (Number(row.expires) <= now) {
        (await statement("deleteExpired")).run({ id, now: millis(now) });
        return null;
      }
      return rowToSession(row);
    },
    async touch(id, expires, now, ifExpiresAtMost) {
      return (await statement("touch")).run({ id, expires: millis(expires), now: millis(now), ifExpiresAtMost: millis(ifExpiresAtMost) }) === 1;
    },
    async update(id, data, now) {
      return (await statement("update")).run({ id, data: JSON.stringify(data), now: millis(now) }) === 1;
    },
    async delete(id) {
      (await statement("delete")).run({ id });
    },
    async deleteByUser(userId) {
      return (await statement("deleteByUser")).run({ userId });
    },
    async listByUser(userId, now) {
      return (await statement("listByUser")).all<SessionRow>({ userId, now: millis(now) }).map(rowToSession);
    },
    async revokeToken(key, expires, revokedAt) {
      (await statement("revoke")).run({ key, expires: millis(expires), revokedAt: millis(revokedAt) });
    },
    async revokedAt(key, now) {
      const row = (await statement("revokedAt")).get<{ revoked_at: number | bigint }>({ key, now: millis(now) });
      return row ? Number(row.revoked_at) : null;
    },
    async advanceGeneration(key, expires, floor) {
      const row = (await statement("advanceGeneration")).get<{ revoked_at: number | bigint }>({ key, expires: millis(expires), floor: millis(floor) });
      return Number(row!.revoked_at);
    },
    async putValue(key, value, expires, now, onlyIfAbsent = false) {
      return (await statement(onlyIfAbsent ? "putValueIfAbsent" : "putValue")).run({ key, value, expires: millis(expires), now: millis(now) }) === 1;
    },
    async getValue(key, now) {
      return (await statement("getValue")).get<{ value: string }>({ key, now: millis(now) })?.value ?? null;
    },
    async deleteValue(key) {
      (await statement("deleteValue")).run({ key });
    },
    async prune(now) {
      let total = 0;
      for (const name of ["pruneSessions", "pruneRevoked", "pruneValues"] as const) {
        for (;;) {
          // In batches: the drivers are synchronous, so one huge DELETE would hold the
          // event loop and the file's write lock for its whole run.
          const deleted = (await statement(name)).run({ now: millis(now) });
          total += deleted;
          if (deleted < PRUNE_BATCH) break;
          // Let requests (and other processes' writes) in between batches.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
      return total;
    },
    async prepare() {
      if (ownsDatabase) await loadDriver(options.driver);
    },
    close: () => connection.close(),
  };
  return ownsDatabase ? retryWhileBusy(store, busyTimeoutMs) : store;
}
