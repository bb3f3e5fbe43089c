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

/** The claims without the managed ones: what a database session stores as its data. */
export function userClaims(token: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...token };
  for (const claim of MANAGED_CLAIMS) delete rest[claim];
  return rest;
}

/** The session as a token: what the `jwt` and `session` callbacks see, and what a JWT cookie seals. */
export function toToken(record: SessionRecord): JWT {
  return {
    ...record.claims,
    ...(record.userId !== undefined && { sub: record.userId }),
    iat: seconds(record.refreshedAt),
    exp: seconds(record.expires),
    jti: record.tokenId,
    sid: record.id,
    auth_time: seconds(record.signedInAt),
    gen: record.generation,
    ...(record.databaseToken !== undefined && { dbt: record.databaseToken }),
  };
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
