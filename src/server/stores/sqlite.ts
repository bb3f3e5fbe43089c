import type { Store } from "./store.js";
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
  /** Prefix of the two table names (`<prefix>sessions`, `<prefix>revoked_tokens`). Default `"sessionpulse_"`. */
  tablePrefix?: string;
  /**
   * How long a write waits for another connection's lock before failing with
   * `SQLITE_BUSY` (the handler then answers 503). Only applied to a database the
   * store opens. Both drivers are synchronous, so this wait blocks the event
   * loop: keep it short. Default 1000 ms.
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

/** Opens `path` with the driver asked for, or the first one available. */
async function openDatabase(path: string, driver: "auto" | "node:sqlite" | "better-sqlite3" = "auto"): Promise<SqliteDatabaseLike> {
  if (driver !== "better-sqlite3") {
    const nodeSqlite = await loadNodeSqlite();
    if (nodeSqlite) return new nodeSqlite.DatabaseSync(path);
    if (driver === "node:sqlite") throw new Error("sqliteStore: this runtime has no `node:sqlite` (it needs Node >= 22.13 or 23.4)");
  }
  let BetterSqlite3: BetterSqlite3Constructor;
  try {
    BetterSqlite3 = await loadBetterSqlite3();
  } catch (cause) {
    throw new Error(
      "sqliteStore needs a SQLite driver: Node's built-in `node:sqlite` (Node >= 22.13 or 23.4) or the optional peer " +
        "`better-sqlite3` (npm install better-sqlite3; on Node 20 better-sqlite3@12), or an open database passed as sqliteStore({ database }). " +
        `better-sqlite3 failed to load: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  return new BetterSqlite3(path);
}

const PRUNE_BATCH = 1000;

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
  const columns = "id, user_id, data, created_at, updated_at, expires, user_agent";

  let opening: Promise<Prepared> | undefined;
  let database: SqliteDatabaseLike | undefined;
  /** Set once open: the calls skip an `await` per request. */
  let statements: Prepared | undefined;
  let closed = false;

  type Prepared = ReturnType<typeof prepare>;

  function prepare(db: SqliteDatabaseLike) {
    return {
      insert: db.prepare(
        `INSERT INTO ${sessions} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, created_at = excluded.created_at,
           updated_at = excluded.updated_at, expires = excluded.expires, user_agent = excluded.user_agent`,
      ),
      select: db.prepare(`SELECT ${columns} FROM ${sessions} WHERE id = ?`),
      deleteExpired: db.prepare(`DELETE FROM ${sessions} WHERE id = ? AND expires <= ?`),
      // The whole race lives in this WHERE: the first of many concurrent touches
      // moves `expires` past the threshold and every later one matches no row.
      touch: db.prepare(`UPDATE ${sessions} SET expires = ?, updated_at = ? WHERE id = ? AND expires <= ? AND expires > ?`),
      // Conditional on the row being there and live: a racing delete wins, never an upsert.
      update: db.prepare(`UPDATE ${sessions} SET data = ?, updated_at = ? WHERE id = ? AND expires > ?`),
      delete: db.prepare(`DELETE FROM ${sessions} WHERE id = ?`),
      deleteByUser: db.prepare(`DELETE FROM ${sessions} WHERE user_id = ?`),
      listByUser: db.prepare(`SELECT ${columns} FROM ${sessions} WHERE user_id = ? AND expires > ? ORDER BY created_at, id`),
      // A revocation is never shortened: the entry keeps the later expiry.
      revoke: db.prepare(
        `INSERT INTO ${revoked} (key, expires, revoked_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET expires = MAX(expires, excluded.expires), revoked_at = excluded.revoked_at`,
      ),
      // One statement, so concurrent calls (and other processes) each get their own value. An entry
      // that has expired by the caller's time starts again from the floor.
      advanceGeneration: db.prepare(
        `INSERT INTO ${revoked} (key, expires, revoked_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET
           revoked_at = CASE WHEN expires > ? THEN MAX(revoked_at + 1, ?) ELSE ? END,
           expires = CASE WHEN expires > ? THEN MAX(expires, excluded.expires) ELSE excluded.expires END
         RETURNING revoked_at`,
      ),
      revokedAt: db.prepare(`SELECT revoked_at FROM ${revoked} WHERE key = ? AND expires > ?`),
      // In batches: the drivers are synchronous, so one huge DELETE would hold the
      // event loop and the file's write lock for its whole run.
      pruneSessions: db.prepare(`DELETE FROM ${sessions} WHERE id IN (SELECT id FROM ${sessions} WHERE expires <= ? LIMIT ${PRUNE_BATCH}) AND expires <= ?`),
      pruneRevoked: db.prepare(`DELETE FROM ${revoked} WHERE key IN (SELECT key FROM ${revoked} WHERE expires <= ? LIMIT ${PRUNE_BATCH}) AND expires <= ?`),
    };
  }

  async function open(): Promise<Prepared> {
    const db = options.database ?? (await openDatabase(options.path, options.driver));
    try {
      if (ownsDatabase) {
        // A busy timeout first, so even the schema statements wait for another process's lock.
        db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
        // WAL lets readers run while one process writes; an in-memory database answers "memory" and stays as it is.
        // `synchronous` stays FULL: a revocation must survive a power cut.
        if (options.path !== ":memory:" && options.path !== "") db.exec("PRAGMA journal_mode = WAL");
      }
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
        CREATE INDEX IF NOT EXISTS "${prefix}revoked_tokens_expires" ON ${revoked} (expires);`);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
      const prepared = prepare(db);
      database = db;
      if (!closed) statements = prepared;
      return prepared;
    } catch (error) {
      if (ownsDatabase) db.close();
      throw error;
    }
  }

  function ready(): Promise<Prepared> {
    if (closed) return Promise.reject(new Error("sqliteStore is closed"));
    // A failed open (a locked or unwritable file) is forgotten, so the next call tries again.
    opening ??= open().catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  }

  return {
    async create(session) {
      const q = statements ?? (await ready());
      q.insert.run(...sessionValues(session, millis));
    },
    async get(id, now) {
      const q = statements ?? (await ready());
      const row = q.select.get(id) as SessionRow | undefined;
      if (!row) return null;
      if (Number(row.expires) <= now) {
        q.deleteExpired.run(id, millis(now));
        return null;
      }
      return rowToSession(row);
    },
    async touch(id, expires, now, ifExpiresAtMost) {
      const q = statements ?? (await ready());
      return Number(q.touch.run(millis(expires), millis(now), id, millis(ifExpiresAtMost), millis(now)).changes) === 1;
    },
    async update(id, data, now) {
      const q = statements ?? (await ready());
      return Number(q.update.run(JSON.stringify(data), millis(now), id, millis(now)).changes) === 1;
    },
    async delete(id) {
      const q = statements ?? (await ready());
      q.delete.run(id);
    },
    async deleteByUser(userId) {
      const q = statements ?? (await ready());
      return Number(q.deleteByUser.run(userId).changes);
    },
    async listByUser(userId, now) {
      const q = statements ?? (await ready());
      return (q.listByUser.all(userId, millis(now)) as SessionRow[]).map(rowToSession);
    },
    async revokeToken(key, expires, revokedAt) {
      const q = statements ?? (await ready());
      q.revoke.run(key, millis(expires), millis(revokedAt));
    },
    async revokedAt(key, now) {
      const q = statements ?? (await ready());
      const row = q.revokedAt.get(key, millis(now)) as { revoked_at: number } | undefined;
      return row ? Number(row.revoked_at) : null;
    },
    async advanceGeneration(key, expires, floor) {
      const q = statements ?? (await ready());
      const at = millis(floor);
      const row = q.advanceGeneration.get(key, millis(expires), at, at, at, at, at) as { revoked_at: number | bigint };
      return Number(row.revoked_at);
    },
    async prune(now) {
      const q = statements ?? (await ready());
      let total = 0;
      for (const statement of [q.pruneSessions, q.pruneRevoked]) {
        for (;;) {
          const deleted = Number(statement.run(millis(now), millis(now)).changes);
          total += deleted;
          if (deleted < PRUNE_BATCH) break;
          // Let requests (and other processes' writes) in between batches.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
      return total;
    },
    async close() {
      if (closed) return;
      closed = true;
      statements = undefined;
      await opening?.catch(() => undefined);
      if (ownsDatabase) database?.close();
      database = undefined;
    },
  };
}
