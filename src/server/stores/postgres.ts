import type { Store } from "./store.js";
import { StoreInputError } from "./input-error.js";
import { lazy } from "./lazy.js";
import { StoreSetupError } from "./setup-error.js";
import { bind, POSTGRES, PRUNE_BATCH, sessionStatements } from "./sql.js";
import { TABLE_PREFIX, importOptional, integerMillis, rowToSession, sessionValues, type SessionRow } from "./sql-support.js";

const millis = (value: number) => integerMillis(value, "postgresStore");

/** A query as pg takes it; `query_timeout` bounds the wait for this one query's answer. */
export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  query_timeout?: number;
}

export interface PgQueryResult {
  rows: unknown[];
  rowCount: number | null;
}

/** A client checked out of a pool (pg's `PoolClient`). */
export interface PgClientLike {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  /** `release(error)` destroys the client instead of returning it to the pool. */
  release(error?: Error | boolean): void;
}

/**
 * The parts of pg's `Pool` the store uses. Declared here rather than imported
 * so the library build needs neither pg's nor Node's types; a `pg.Pool` fits.
 */
export interface PgPoolLike {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  connect(): Promise<PgClientLike>;
  end(): Promise<void>;
}

export type PostgresStoreOptions =
  | {
      /** e.g. `postgres://user:password@host:5432/db`; the store creates (and on `close()` ends) its own pool. */
      connectionString: string;
      pool?: never;
    }
  | {
      /** A `pg.Pool` the app owns: the store never ends it. Give it an `error` listener and a `connectionTimeoutMillis`. */
      pool: PgPoolLike;
      connectionString?: never;
    };

export interface PostgresStoreSettings {
  /** Prefix of the three table names (`<prefix>sessions`, `<prefix>revoked_tokens`, `<prefix>values`). Default `"sessionpulse_"`. */
  tablePrefix?: string;
  /** Own pool only: how long to wait for a connection (new or free) before the call rejects. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Own pool only: the server cancels a statement running longer than this (`statement_timeout`). Default 2000 ms. */
  statementTimeoutMs?: number;
  /**
   * Every query, own pool or not: the client gives up on an answer after this
   * long (a server that stopped answering without closing the connection), and
   * the pool discards that connection. Default 3000 ms.
   */
  queryTimeoutMs?: number;
  /** Own pool only: at most this many connections. Default 10. */
  maxConnections?: number;
}

interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPoolLike & { on(event: "error", listener: (error: Error) => void): unknown };
}

async function loadPg(): Promise<PgModule> {
  let module: { Pool?: unknown; default?: { Pool?: unknown } };
  try {
    module = (await importOptional("pg")) as typeof module;
  } catch (cause) {
    throw new StoreSetupError("postgresStore({ connectionString }) needs the optional peer `pg` (npm install pg), or pass a pool as postgresStore({ pool })", {
      cause,
    });
  }
  // pg ≥ 8.12 has an ESM entry with a named `Pool`; older ones are CommonJS behind `default`.
  const Pool = module.Pool ?? module.default?.Pool;
  if (typeof Pool !== "function") throw new StoreSetupError("postgresStore: the installed `pg` has no Pool");
  return { Pool: Pool as PgModule["Pool"] };
}

/**
 * Errors that say a value was refused, not that the server is unreachable:
 * SQLSTATE class 22 (data exception: a NUL in text or JSON, a lone surrogate,
 * a number out of range) and 54 (a program limit, e.g. an index row too large).
 */
function isInputError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|54)[0-9A-Z]{3}$/.test(code);
}

/**
 * Sessions and the JWT deny-list in PostgreSQL, through the optional peer
 * `pg`. Tables are created on first use; two servers starting at once
 * serialise that on an advisory lock. Every value travels as a query
 * parameter.
 *
 * Failures reject rather than hang: the store's own pool bounds connecting
 * and each statement, every query has a client-side timeout, and a
 * connection that failed is discarded, so the store recovers by itself when
 * the server is back.
 *
 * @example
 * ```ts
 * import { createSessionHandler } from "sessionpulse/server";
 * import { postgresStore } from "sessionpulse/server/postgres";
 *
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL! });
 * const auth = createSessionHandler({ secret, session: { strategy: "database" }, store });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions, settings: PostgresStoreSettings = {}): Store {
  const prefix = settings.tablePrefix ?? "sessionpulse_";
  if (!TABLE_PREFIX.test(prefix)) throw new TypeError(`postgresStore: tablePrefix must match ${TABLE_PREFIX} (it becomes part of table names)`);
  const connectTimeoutMs = settings.connectTimeoutMs ?? 2000;
  const statementTimeoutMs = settings.statementTimeoutMs ?? 2000;
  const queryTimeoutMs = settings.queryTimeoutMs ?? 3000;
  const ownsPool = options.pool === undefined;
  if (ownsPool && typeof options.connectionString !== "string") throw new TypeError("postgresStore needs { connectionString } or { pool }");

  const sessions = `"${prefix}sessions"`;
  const revoked = `"${prefix}revoked_tokens"`;
  const values = `"${prefix}values"`;

  const sql = sessionStatements(sessions, revoked, values, POSTGRES);

  let pool: PgPoolLike | undefined = options.pool;
  let creating: Promise<PgPoolLike> | undefined;

  async function createPool(): Promise<PgPoolLike> {
    const { Pool } = await loadPg();
    const created = new Pool({
      connectionString: options.connectionString,
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: statementTimeoutMs,
      query_timeout: queryTimeoutMs,
      max: settings.maxConnections ?? 10,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      // An idle pool does not keep a script's process alive.
      allowExitOnIdle: true,
    });
    // An idle connection whose server went away emits `error` on the pool, and
    // an `error` event without a listener would crash the process. The pool has
    // already dropped that connection; the next query opens a fresh one.
    created.on("error", () => undefined);
    return created;
  }

  async function getPool(): Promise<PgPoolLike> {
    if (pool) return pool;
    creating ??= createPool().then(
      (created) => (pool = created),
      (error: unknown) => {
        creating = undefined;
        throw error;
      },
    );
    return creating;
  }

  async function migrate(target: PgPoolLike): Promise<void> {
    // Usually the tables exist: one cheap read, no lock, no DDL (which would also need CREATE rights).
    const existing = await target.query({
      text: "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AS ready",
      values: [sessions, revoked, values],
      query_timeout: queryTimeoutMs,
    });
    if ((existing.rows[0] as { ready: boolean } | undefined)?.ready) return;
    const client = await target.connect();
    let failure: Error | undefined;
    try {
      await client.query({ text: "BEGIN", query_timeout: queryTimeoutMs });
      // Concurrent `CREATE TABLE IF NOT EXISTS` can still fail on a duplicate
      // catalog row; a transaction-scoped advisory lock lets one server create
      // while the other waits, then finds the tables there.
      await client.query({ text: "SELECT pg_advisory_xact_lock(hashtext($1))", values: [`sessionpulse:${prefix}`], query_timeout: queryTimeoutMs });
      await client.query({
        text: `CREATE TABLE IF NOT EXISTS ${sessions} (
          id text PRIMARY KEY,
          user_id text NOT NULL,
          data jsonb NOT NULL,
          created_at bigint NOT NULL,
          updated_at bigint NOT NULL,
          expires bigint NOT NULL,
          user_agent text
        )`,
        query_timeout: queryTimeoutMs,
      });
      await client.query({
        text: `CREATE INDEX IF NOT EXISTS "${prefix}sessions_user_id_idx" ON ${sessions} (user_id, created_at)`,
        query_timeout: queryTimeoutMs,
      });
      await client.query({ text: `CREATE INDEX IF NOT EXISTS "${prefix}sessions_expires_idx" ON ${sessions} (expires)`, query_timeout: queryTimeoutMs });
      await client.query({
        text: `CREATE TABLE IF NOT EXISTS ${revoked} (key text PRIMARY KEY, expires bigint NOT NULL, revoked_at bigint NOT NULL)`,
        query_timeout: queryTimeoutMs,
      });
      await client.query({ text: `CREATE INDEX IF NOT EXISTS "${prefix}revoked_tokens_expires_idx" ON ${revoked} (expires)`, query_timeout: queryTimeoutMs });
      // Added after the first release: a store created before finds it missing and creates it here.
      await client.query({
        text: `CREATE TABLE IF NOT EXISTS ${values} (key text PRIMARY KEY, value text NOT NULL, expires bigint NOT NULL)`,
        query_timeout: queryTimeoutMs,
      });
      await client.query({ text: `CREATE INDEX IF NOT EXISTS "${prefix}values_expires_idx" ON ${values} (expires)`, query_timeout: queryTimeoutMs });
      await client.query({ text: "COMMIT", query_timeout: queryTimeoutMs });
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      // Best effort; if the connection is gone the release below destroys it anyway.
      await client.query({ text: "ROLLBACK", query_timeout: queryTimeoutMs }).catch(() => undefined);
      throw error;
    } finally {
      // Released with the error, a connection in an unknown state is destroyed, never reused.
      client.release(failure);
    }
  }

  /** The pool, once the tables exist. A failed migration is forgotten, so the next call tries again (on the same pool). */
  const connection = lazy("postgresStore", async () => {
    const target = await getPool();
    await migrate(target);
    return target;
  });

  async function query(name: keyof typeof sql, values: Record<string, unknown>): Promise<PgQueryResult> {
    const target = connection.current ?? (await connection.ready());
    const statement = sql[name];
    // `pool.query` checks a connection out and back in (destroying it on error), so nothing leaks.
    return target.query({ text: statement.text, values: bind(statement, values), query_timeout: queryTimeoutMs }).catch((error: unknown) => {
      throw isInputError(error) ? new StoreInputError("PostgreSQL refused a value", { cause: error }) : error;
    });
  }

  return {
    async create(session) {
      await query("insert", sessionValues(session, millis));
    },
    async get(id, now) {
      const row = (await query("select", { id })).rows[0] as SessionRow | undefined;
      if (!row) return null;
      if (Number(row.expires) <= now) {
        await query("deleteExpired", { id, now: millis(now) });
        return null;
      }
      return rowToSession(row);
    },
    async touch(id, expires, now, ifExpiresAtMost) {
      return (await query("touch", { id, expires: millis(expires), now: millis(now), ifExpiresAtMost: millis(ifExpiresAtMost) })).rowCount === 1;
    },
    async update(id, data, now) {
      return (await query("update", { id, data: JSON.stringify(data), now: millis(now) })).rowCount === 1;
    },
    async delete(id) {
      await query("delete", { id });
    },
    async deleteByUser(userId) {
      return (await query("deleteByUser", { userId })).rowCount ?? 0;
    },
    async listByUser(userId, now) {
      return ((await query("listByUser", { userId, now: millis(now) })).rows as SessionRow[]).map(rowToSession);
    },
    async revokeToken(key, expires, revokedAt) {
      await query("revoke", { key, expires: millis(expires), revokedAt: millis(revokedAt) });
    },
    async revokedAt(key, now) {
      const row = (await query("revokedAt", { key, now: millis(now) })).rows[0] as { revoked_at: string | number } | undefined;
      return row ? Number(row.revoked_at) : null;
    },
    async advanceGeneration(key, expires, floor) {
      const { rows } = await query("advanceGeneration", { key, expires: millis(expires), floor: millis(floor) });
      return Number((rows[0] as { revoked_at: string | number }).revoked_at);
    },
    async putValue(key, value, expires, now, onlyIfAbsent = false) {
      return (await query(onlyIfAbsent ? "putValueIfAbsent" : "putValue", { key, value, expires: millis(expires), now: millis(now) })).rowCount === 1;
    },
    async getValue(key, now) {
      const row = (await query("getValue", { key, now: millis(now) })).rows[0] as { value: string } | undefined;
      return row?.value ?? null;
    },
    async deleteValue(key) {
      await query("deleteValue", { key });
    },
    async prune(now) {
      let total = 0;
      for (const name of ["pruneSessions", "pruneRevoked", "pruneValues"] as const) {
        for (;;) {
          const deleted = (await query(name, { now: millis(now) })).rowCount ?? 0;
          total += deleted;
          if (deleted < PRUNE_BATCH) break;
        }
      }
      return total;
    },
    async prepare() {
      if (ownsPool) await loadPg();
    },
    async close() {
      await connection.close();
      if (!ownsPool) return;
      const created = pool ?? (await creating?.catch(() => undefined));
      pool = undefined;
      await created?.end();
    },
  };
}
