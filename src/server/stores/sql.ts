/**
 * The statements both SQL stores run, written once with named parameters
 * (`:id`) and compiled for each dialect: PostgreSQL numbers them (`$1`, each
 * name once), SQLite takes `?` in order (a name used twice is bound twice).
 * The rules that make the stores correct under concurrency live in these
 * WHERE clauses and upserts, so both stores get them from the same text.
 */

export interface Dialect {
  /** The placeholder for the `index`-th distinct parameter (1-based), or for each occurrence. */
  placeholder(index: number): string;
  /** Whether a parameter used twice is numbered once (PostgreSQL) or bound at each place (SQLite). */
  reusesPlaceholders: boolean;
  /** The larger of two values: `GREATEST` in PostgreSQL, the two-argument `MAX` in SQLite. */
  greatest: "GREATEST" | "MAX";
}

export const POSTGRES: Dialect = { placeholder: (index) => `$${index}`, reusesPlaceholders: true, greatest: "GREATEST" };
export const SQLITE: Dialect = { placeholder: () => "?", reusesPlaceholders: false, greatest: "MAX" };

/** A statement ready for one dialect: its text and the parameter names to bind, in order. */
export interface Compiled {
  text: string;
  names: readonly string[];
}

export function compile(template: string, dialect: Dialect): Compiled {
  const names: string[] = [];
  const text = template.replace(/:([a-z][a-zA-Z]*)/g, (_, name: string) => {
    const known = names.indexOf(name);
    if (dialect.reusesPlaceholders && known >= 0) return dialect.placeholder(known + 1);
    names.push(name);
    return dialect.placeholder(names.length);
  });
  return { text, names };
}

/** The values of a compiled statement's parameters, in binding order. */
export function bind(statement: Compiled, values: Record<string, unknown>): unknown[] {
  return statement.names.map((name) => {
    if (!(name in values)) throw new TypeError(`no value for :${name}`);
    return values[name];
  });
}

export const COLUMNS = "id, user_id, data, created_at, updated_at, expires, user_agent";

/** Rows deleted per prune statement: no statement runs long or holds many row locks. */
export const PRUNE_BATCH = 1000;

/** Every statement of a SQL store, for its three tables. */
export function sessionStatements(sessions: string, revoked: string, values: string, dialect: Dialect) {
  const greatest = dialect.greatest;
  const templates = {
    insert: `INSERT INTO ${sessions} (${COLUMNS}) VALUES (:id, :userId, :data, :createdAt, :updatedAt, :expires, :userAgent)
      ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, created_at = excluded.created_at,
        updated_at = excluded.updated_at, expires = excluded.expires, user_agent = excluded.user_agent`,
    select: `SELECT ${COLUMNS} FROM ${sessions} WHERE id = :id`,
    // Conditional, so it cannot remove a row that a concurrent write just made live again.
    deleteExpired: `DELETE FROM ${sessions} WHERE id = :id AND expires <= :now`,
    // The whole race lives in this WHERE: the first of many concurrent touches moves `expires`
    // past the threshold and every later one matches no row (PostgreSQL re-checks it against the
    // row the first wrote, under READ COMMITTED; SQLite runs one statement at a time).
    touch: `UPDATE ${sessions} SET expires = :expires, updated_at = :now WHERE id = :id AND expires <= :ifExpiresAtMost AND expires > :now`,
    // An UPDATE, never an upsert: a session deleted (or expired) meanwhile stays gone.
    update: `UPDATE ${sessions} SET data = :data, updated_at = :now WHERE id = :id AND expires > :now`,
    delete: `DELETE FROM ${sessions} WHERE id = :id`,
    deleteByUser: `DELETE FROM ${sessions} WHERE user_id = :userId`,
    listByUser: `SELECT ${COLUMNS} FROM ${sessions} WHERE user_id = :userId AND expires > :now ORDER BY created_at, id`,
    // A revocation is never shortened: the entry keeps the later expiry.
    revoke: `INSERT INTO ${revoked} AS r (key, expires, revoked_at) VALUES (:key, :expires, :revokedAt)
      ON CONFLICT (key) DO UPDATE SET expires = ${greatest}(r.expires, excluded.expires), revoked_at = excluded.revoked_at`,
    revokedAt: `SELECT revoked_at FROM ${revoked} WHERE key = :key AND expires > :now`,
    // One statement: concurrent callers queue on the row and each gets its own value. An entry
    // that has expired by the caller's time starts again from the floor.
    advanceGeneration: `INSERT INTO ${revoked} AS r (key, expires, revoked_at) VALUES (:key, :expires, :floor)
      ON CONFLICT (key) DO UPDATE SET
        revoked_at = CASE WHEN r.expires > :floor THEN ${greatest}(r.revoked_at + 1, :floor) ELSE :floor END,
        expires = CASE WHEN r.expires > :floor THEN ${greatest}(r.expires, excluded.expires) ELSE excluded.expires END
      RETURNING revoked_at`,
    putValue: `INSERT INTO ${values} (key, value, expires) VALUES (:key, :value, :expires)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
    // The lock: the conflicting row is replaced only once it has expired, in the same statement, so of
    // concurrent callers exactly one changes a row (PostgreSQL re-checks the WHERE against the winner's row).
    putValueIfAbsent: `INSERT INTO ${values} AS v (key, value, expires) VALUES (:key, :value, :expires)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE v.expires <= :now`,
    getValue: `SELECT value FROM ${values} WHERE key = :key AND expires > :now`,
    deleteValue: `DELETE FROM ${values} WHERE key = :key`,
    pruneValues: `DELETE FROM ${values} WHERE key IN (SELECT key FROM ${values} WHERE expires <= :now LIMIT ${PRUNE_BATCH}) AND expires <= :now`,
    // The outer `expires <= :now` is re-checked on rows a concurrent touch changed meanwhile, so a revived session stays.
    pruneSessions: `DELETE FROM ${sessions} WHERE id IN (SELECT id FROM ${sessions} WHERE expires <= :now LIMIT ${PRUNE_BATCH}) AND expires <= :now`,
    pruneRevoked: `DELETE FROM ${revoked} WHERE key IN (SELECT key FROM ${revoked} WHERE expires <= :now LIMIT ${PRUNE_BATCH}) AND expires <= :now`,
  };
  return Object.fromEntries(Object.entries(templates).map(([name, template]) => [name, compile(template, dialect)])) as Record<
    keyof typeof templates,
    Compiled
  >;
}
