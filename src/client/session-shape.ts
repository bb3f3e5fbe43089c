import type { Session } from "../shared/session.js";

/**
 * Reads a `GET /session` body: `null` and `{}` mean signed out (Auth.js v5 and
 * v4); anything else must look like a session. Returns `undefined` for a body
 * that is neither, so callers can refuse it.
 */
export function readSession(value: unknown): Session | null | undefined {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (Object.keys(record).length === 0) return null;
  const { user, expires } = record;
  if (typeof user !== "object" || user === null || Array.isArray(user)) return undefined;
  if (typeof expires !== "string" || Number.isNaN(Date.parse(expires))) return undefined;
  return record as Session;
}
