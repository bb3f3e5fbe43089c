import type { StoredSession } from "../stores/store.js";
import type { JWT } from "../types.js";
import { seconds } from "./time.js";

/**
 * One session as the lifecycle sees it, whichever cookie carries it. Times
 * are milliseconds since epoch, so one set of rules (policy.ts) serves both
 * strategies; a JWT's whole seconds are converted at this boundary only.
 */
export interface SessionRecord {
  /** Stable id of the session: a JWT's `sid`, a database row's id. Revocations name it. */
  id: string;
  /** Id of this token (`jti`); the row id for database sessions. */
  tokenId: string;
  /** The user (`sub`). A JWT minted elsewhere may lack one; a database session never does. */
  userId: string | undefined;
  /** What the callbacks shaped, without the claims the server manages. */
  claims: Record<string, unknown>;
  signedInAt: number;
  /** When the expiry was last set (a JWT's `iat`). */
  refreshedAt: number;
  expires: number;
  /** The user's generation when the session started: "sign out everywhere" ends every session below the store's. */
  generation: number;
  /** A database session converted from a JWT: that JWT's session id, which it continues (kept in the row's data as `sid`). */
  origin?: string | undefined;
  /**
   * A JWT converted from a database session: that session's cookie value (the `dbt` claim, inside the
   * encrypted token), so converting back lands on the same row and every copy of either cookie keeps working.
   */
  databaseToken?: string | undefined;
}

/** Claims the server owns. Callbacks may read them; whatever they do to them is undone, and `update` data never reaches them. */
export const MANAGED_CLAIMS = ["sub", "iat", "exp", "jti", "sid", "auth_time", "gen", "sit", "dbt"] as const;
const MANAGED: ReadonlySet<string> = new Set(MANAGED_CLAIMS);

/**
 * The claims without the managed ones: what a database session stores as its data.
 * Copied key by key rather than spread and `delete`d: this runs on every request,
 * and deleting properties sends V8's objects to its slow dictionary mode.
 */
export function userClaims(token: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const key in token) if (Object.hasOwn(token, key) && !MANAGED.has(key)) rest[key] = token[key];
  return rest;
}

/** The session as a token: what the `jwt` and `session` callbacks see, and what a JWT cookie seals. */
export function toToken(record: SessionRecord): JWT {
  // Object.assign, then one assignment each: on every request, and in V8 an object spread followed by
  // added properties costs ten times this (measured: ~9 µs against ~1 µs a call).
  const token = Object.assign({}, record.claims) as JWT;
  if (record.userId !== undefined) token.sub = record.userId;
  token.iat = seconds(record.refreshedAt);
  token.exp = seconds(record.expires);
  token.jti = record.tokenId;
  token.sid = record.id;
  token.auth_time = seconds(record.signedInAt);
  token.gen = record.generation;
  if (record.databaseToken !== undefined) token.dbt = record.databaseToken;
  return token;
}

/** A decoded token as a session. Tokens minted by Auth.js have no `sid`, `auth_time` or `gen`: the fallbacks are theirs. */
export function fromToken(token: JWT): SessionRecord {
  const signedInAt = (token.auth_time ?? token.iat) * 1000;
  return {
    id: token.sid ?? token.jti,
    tokenId: token.jti,
    userId: token.sub,
    claims: userClaims(token),
    signedInAt,
    refreshedAt: token.iat * 1000,
    expires: token.exp * 1000,
    // Before generations, tokens carried their sign-in time in ms (`sit`) and "sign out everywhere" stored
    // the revocation time where the generation now lives: comparing the two keeps those revocations.
    generation: typeof token.gen === "number" ? token.gen : typeof token.sit === "number" ? token.sit : signedInAt,
    databaseToken: typeof token.dbt === "string" ? token.dbt : undefined,
  };
}

/** A database row as a session. */
export function fromRow(row: StoredSession): SessionRecord {
  const origin = row.data.sid;
  return {
    origin: typeof origin === "string" ? origin : undefined,
    id: row.id,
    tokenId: row.id,
    userId: row.userId,
    claims: userClaims(row.data),
    signedInAt: row.createdAt,
    refreshedAt: row.updatedAt,
    expires: row.expires,
    generation: 0,
  };
}
