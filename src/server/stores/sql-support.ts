import type { StoredSession } from "./store.js";

/**
 * Imports an optional peer by name. The specifier is a variable so TypeScript
 * does not pull the driver's (Node) types into the library build, and bundlers
 * leave the import to Node at run time instead of failing on a peer the app
 * did not install.
 */
export function importOptional(specifier: string, options?: ImportCallOptions): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier, options);
}

/** Table names are identifiers, which cannot be query parameters: only a plain prefix is let in. */
export const TABLE_PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/** A session row as the SQL stores read it: `data` as text or parsed JSON, times as numbers or int8 strings. */
export interface SessionRow {
  id: string;
  user_id: string;
  data: unknown;
  created_at: string | number;
  updated_at: string | number;
  expires: string | number;
  user_agent: string | null;
}

export function rowToSession(row: SessionRow): StoredSession {
  return {
    id: row.id,
    userId: row.user_id,
    // pg parses jsonb itself (unless the app's pool overrides that type parser); SQLite stores text.
    data: (typeof row.data === "string" ? JSON.parse(row.data) : row.data) as Record<string, unknown>,
    // pg returns int8 as a string (it could exceed 2^53); ms times never do.
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expires: Number(row.expires),
    userAgent: row.user_agent,
  };
}

/** Times are integer columns: `±Infinity` and fractions are clamped to integers every driver can send. */
export function integerMillis(value: number, store: string): number {
  if (Number.isNaN(value)) throw new TypeError(`${store}: a time is NaN`);
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(value)));
}

/** A session's column values, named as the insert statement (sql.ts) binds them. */
export function sessionValues(session: StoredSession, millis: (value: number) => number): Record<string, string | number | null> {
  return {
    id: session.id,
    userId: session.userId,
    data: JSON.stringify(session.data),
    createdAt: millis(session.createdAt),
    updatedAt: millis(session.updatedAt),
    expires: millis(session.expires),
    userAgent: session.userAgent,
  };
}
