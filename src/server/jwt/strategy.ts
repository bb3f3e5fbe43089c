import type { ResolvedConfig } from "../config.js";
import { SessionServerError } from "../errors.js";
import { decodeToken, encodeToken, type DecodeResult } from "./codec.js";
import { createKeyring } from "./keys.js";
import type { RequestContext } from "../http/request-context.js";
import { clearSessionCookie, readSessionCookie, refuseSessionCookie, writeSessionCookie } from "../cookies/session-cookie.js";
import { claimsOf, shapeToken, toSession } from "../session/shaping.js";
import { DATABASE_TOKEN, storeIdOf } from "../database/token.js";
import type { Store } from "../stores/store.js";
import { iso, seconds, type SessionStrategy } from "../session/strategy.js";
import type { JWT } from "../types.js";

/** Deny-list key that revokes every token of a user signed in at or before the entry's time. */
export const userRevocationKey = (userId: string) => `user:${userId}`;

/** Decrypts session-token JWEs with keys derived once per cookie name. Shared with the database strategy's migration. */
export function createJwtDecoder(config: ResolvedConfig) {
  const keyring = createKeyring(config.secrets);
  return {
    keyring,
    async decode(context: RequestContext, value: string): Promise<DecodeResult> {
      const keys = await keyring(context.names.sessionToken);
      return decodeToken(value, keys, seconds(context.now), config.maxCookieSize);
    },
  };
}

/**
 * The JWT strategy: the session lives in an encrypted cookie, re-issued once
 * `updateAge` has passed. With a `store`, sign-out and revocation put the
 * session id (`sid`) or the whole user on a deny-list that every request checks.
 */
export function createJwtSessions(config: ResolvedConfig, store: Store | undefined): SessionStrategy {
  const decoder = createJwtDecoder(config);

  /** Latest `exp` allowed: `maxAge` from now, never past the absolute lifetime. */
  function expiryFor(nowSec: number, authTime: number): number {
    const idle = nowSec + config.maxAge;
    return config.maxLifetime === undefined ? idle : Math.min(idle, authTime + config.maxLifetime);
  }

  /** Encrypts `token` with fresh `iat`/`exp`/`jti` and queues the cookie. */
  async function issue(context: RequestContext, token: Omit<JWT, "iat" | "exp" | "jti"> & Partial<JWT>): Promise<JWT> {
    const nowSec = seconds(context.now);
    const authTime = token.auth_time ?? token.iat ?? nowSec;
    const claims: JWT = {
      ...token,
      iat: nowSec,
      exp: expiryFor(nowSec, authTime),
      jti: crypto.randomUUID(),
      sid: token.sid ?? token.jti ?? crypto.randomUUID(),
      auth_time: authTime,
    };
    const [primary] = await decoder.keyring(context.names.sessionToken);
    writeSessionCookie(config, context, await encodeToken(claims, primary!), new Date(claims.exp * 1000));
    return claims;
  }

  /**
   * A database session cookie arriving after a switch to JWT becomes a token
   * (opt-in `migrateFrom: "database"`). Without `refresh` the row is only read:
   * converting it needs the new cookie to reach the browser.
   */
  async function migrate(context: RequestContext, value: string, refresh: boolean): Promise<{ token: JWT; primaryKey: boolean } | null> {
    const id = storeIdOf(value);
    const row = await store!.get(id, context.now);
    if (!row) return refuseSessionCookie(config, context, "session_unknown");
    const claims = { ...row.data, auth_time: seconds(row.createdAt), sit: row.createdAt };
    if (!refresh) return { token: { ...claims, iat: seconds(row.updatedAt), exp: seconds(row.expires), jti: id, sid: id }, primaryKey: true };
    await store!.delete(id);
    const token = await issue(context, { ...claims, sid: crypto.randomUUID() });
    config.logger.debug("session_migrated", { from: "database" });
    return { token, primaryKey: true };
  }

  /** The request's valid token, or null after clearing a bad cookie. Never throws for bad input. */
  async function read(context: RequestContext, refresh = true): Promise<{ token: JWT; primaryKey: boolean } | null> {
    const cookie = readSessionCookie(config, context);
    if (cookie.kind === "absent") return null;
    if (cookie.kind === "rejected") return refuseSessionCookie(config, context, cookie.reason, cookie.clear);
    if (config.migrateFrom === "database" && DATABASE_TOKEN.test(cookie.value)) return migrate(context, cookie.value, refresh);
    const decoded = await decoder.decode(context, cookie.value);
    if (!decoded.ok) return refuseSessionCookie(config, context, decoded.reason);
    const { token } = decoded;
    const authTime = token.auth_time ?? token.iat;
    if (config.maxLifetime !== undefined && seconds(context.now) >= authTime + config.maxLifetime)
      return refuseSessionCookie(config, context, "session_lifetime_exceeded");
    if (store) {
      const [sessionRevoked, userRevokedAt] = await Promise.all([
        store.revokedAt(token.sid ?? token.jti, context.now),
        token.sub === undefined ? null : store.revokedAt(userRevocationKey(token.sub), context.now),
      ]);
      // Tokens without `sit` (minted by Auth.js) only know the second: one signed in during the revocation's second counts as revoked.
      const signedInAt = typeof token.sit === "number" ? token.sit : authTime * 1000;
      if (sessionRevoked !== null || (userRevokedAt !== null && signedInAt <= userRevokedAt)) return refuseSessionCookie(config, context, "session_revoked");
    }
    return decoded;
  }

  /** Puts the token's session on the deny-list until it would have expired anyway. */
  async function denyList(context: RequestContext, token: JWT) {
    await store?.revokeToken(token.sid ?? token.jti, token.exp * 1000, context.now);
  }

  return {
    async current(context, { refresh = true } = {}) {
      const found = await read(context, refresh);
      if (!found) return null;
      const shaped = await shapeToken(config, found.token, {});
      if (!shaped.token) {
        clearSessionCookie(config, context);
        return null;
      }
      let token = shaped.token;
      if (refresh && (seconds(context.now) - token.iat >= config.updateAge || shaped.changed || !found.primaryKey)) {
        try {
          token = await issue(context, token);
        } catch (error) {
          // A callback that grew the token past the budget must not sign the user out: keep the current cookie.
          if (!(error instanceof SessionServerError && error.code === "session_too_large")) throw error;
          config.logger.error("session_too_large", { path: context.url.pathname, message: error.message });
        }
      }
      return toSession(config, token);
    },

    async update(context, data) {
      const found = await read(context);
      if (!found) throw new SessionServerError("unauthenticated", "no session to update");
      const shaped = await shapeToken(config, found.token, { trigger: "update", session: data });
      if (!shaped.token) {
        clearSessionCookie(config, context);
        throw new SessionServerError("unauthenticated", "the jwt callback ended the session");
      }
      return toSession(config, await issue(context, shaped.token), { trigger: "update", newSession: data });
    },

    async signIn(context, user) {
      const nowSec = seconds(context.now);
      const initial: JWT = {
        ...claimsOf(user),
        iat: nowSec,
        exp: expiryFor(nowSec, nowSec),
        jti: crypto.randomUUID(),
        sid: crypto.randomUUID(),
        auth_time: nowSec,
        sit: context.now,
      };
      const shaped = await shapeToken(config, initial, { user, trigger: "signIn" });
      if (!shaped.token) return false;
      await issue(context, shaped.token);
      return true;
    },

    async signOut(context) {
      const found = await read(context);
      if (found) await denyList(context, found.token);
      clearSessionCookie(config, context);
    },

    async list(context) {
      // A JWT session is stored nowhere: the only one the server can show is the current one.
      const found = await read(context);
      if (!found) throw new SessionServerError("unauthenticated", "sign in to list sessions");
      const { token } = found;
      return [
        {
          id: token.sid ?? token.jti,
          createdAt: iso((token.auth_time ?? token.iat) * 1000),
          updatedAt: iso(token.iat * 1000),
          expires: iso(token.exp * 1000),
          userAgent: null,
          current: true,
        },
      ];
    },

    async revoke(context, target) {
      if (!store) throw new SessionServerError("store_required", "revoking JWT sessions needs a `store` for the deny-list");
      const found = await read(context);
      if (!found) throw new SessionServerError("unauthenticated", "sign in to revoke sessions");
      const { token } = found;
      if ("all" in target) {
        // Every token of this user signed in until now; they would all have expired within maxAge (or maxLifetime).
        const horizon = context.now + Math.min(config.maxAge, config.maxLifetime ?? Infinity) * 1000;
        if (token.sub !== undefined) await store.revokeToken(userRevocationKey(token.sub), horizon, context.now);
        await denyList(context, token);
      } else {
        // Other JWT sessions cannot be listed, so only the current one can be named.
        if (target.id !== (token.sid ?? token.jti)) throw new SessionServerError("session_not_found", "no such session");
        await denyList(context, token);
      }
      clearSessionCookie(config, context);
    },
  };
}
