import type { ResolvedConfig } from "../config.js";
import { SessionServerError } from "../errors.js";
import { createJwtDecoder } from "../jwt/strategy.js";
import type { RequestContext } from "../http/request-context.js";
import { clearSessionCookie, readSessionCookie, refuseSessionCookie, writeSessionCookie } from "../cookies/session-cookie.js";
import { claimsOf, shapeToken, toSession, userClaims } from "../session/shaping.js";
import { DATABASE_TOKEN, newDatabaseToken, storeIdOf } from "./token.js";
import type { Store, StoredSession } from "../stores/store.js";
import { iso, seconds, userAgentOf, type SessionListing, type SessionStrategy } from "../session/strategy.js";
import type { JWT } from "../types.js";

/** The row seen as a token, so the callbacks look the same whatever the strategy. */
function tokenOf(row: StoredSession): JWT {
  return { ...row.data, iat: seconds(row.updatedAt), exp: seconds(row.expires), jti: row.id, sid: row.id, auth_time: seconds(row.createdAt) };
}

function listing(row: StoredSession, currentId: string): SessionListing {
  return {
    id: row.id,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    expires: iso(row.expires),
    userAgent: row.userAgent,
    current: row.id === currentId,
  };
}

/**
 * The database strategy: the cookie holds a random 256-bit token, the store
 * keeps its SHA-256 with the session. The expiry slides with a conditional
 * write at most once per `updateAge`, so concurrent requests write once.
 */
export function createDatabaseSessions(config: ResolvedConfig, store: Store): SessionStrategy {
  const jwt = createJwtDecoder(config);
  const ms = (secondsValue: number) => secondsValue * 1000;

  /** Latest expiry allowed: `maxAge` from now, never past the absolute lifetime. */
  const expiryFor = (now: number, createdAt: number) =>
    Math.min(now + ms(config.maxAge), config.maxLifetime === undefined ? Infinity : createdAt + ms(config.maxLifetime));

  /** Stores a new session and queues its cookie. */
  async function create(context: RequestContext, data: Record<string, unknown>, userId: string, createdAt: number): Promise<StoredSession> {
    const token = newDatabaseToken();
    const row: StoredSession = {
      id: storeIdOf(token),
      userId,
      data,
      createdAt,
      updatedAt: context.now,
      expires: expiryFor(context.now, createdAt),
      userAgent: userAgentOf(context),
    };
    await store.create(row);
    writeSessionCookie(config, context, token, new Date(row.expires));
    return row;
  }

  /**
   * A valid JWT cookie arriving after a switch to the database strategy becomes
   * a row (opt-in `migrateFrom: "jwt"`). Without `refresh` the token is only
   * read: the row would be useless without its cookie reaching the browser.
   */
  async function migrate(context: RequestContext, value: string, refresh: boolean): Promise<StoredSession | null> {
    const decoded = await jwt.decode(context, value);
    if (!decoded.ok) return refuseSessionCookie(config, context, decoded.reason);
    const { token } = decoded;
    if (token.sub === undefined) return refuseSessionCookie(config, context, "token_claims");
    const createdAt = ms(token.auth_time ?? token.iat);
    if (!refresh) {
      return {
        id: token.sid ?? token.jti,
        userId: token.sub,
        data: userClaims(token),
        createdAt,
        updatedAt: ms(token.iat),
        expires: ms(token.exp),
        userAgent: null,
      };
    }
    config.logger.debug("session_migrated", { from: "jwt" });
    return create(context, userClaims(token), token.sub, createdAt);
  }

  /** The request's live session row, or null after clearing a bad or unknown cookie. */
  async function read(context: RequestContext, refresh = true): Promise<StoredSession | null> {
    const cookie = readSessionCookie(config, context);
    if (cookie.kind === "absent") return null;
    if (cookie.kind === "rejected") return refuseSessionCookie(config, context, cookie.reason, cookie.clear);
    if (!DATABASE_TOKEN.test(cookie.value)) {
      return config.migrateFrom === "jwt" ? migrate(context, cookie.value, refresh) : refuseSessionCookie(config, context, "token_malformed");
    }
    const row = await store.get(storeIdOf(cookie.value), context.now);
    if (!row) return refuseSessionCookie(config, context, "session_unknown");
    if (config.maxLifetime !== undefined && context.now >= row.createdAt + ms(config.maxLifetime)) {
      await store.delete(row.id);
      return refuseSessionCookie(config, context, "session_lifetime_exceeded");
    }
    return row;
  }

  /** Ends the session the request arrived with, if it has one of ours. */
  async function endIncoming(context: RequestContext): Promise<void> {
    const cookie = readSessionCookie(config, context);
    if (cookie.kind === "present" && DATABASE_TOKEN.test(cookie.value)) await store.delete(storeIdOf(cookie.value));
  }

  async function mustRead(context: RequestContext): Promise<StoredSession> {
    const row = await read(context);
    if (!row) throw new SessionServerError("unauthenticated", "no session");
    return row;
  }

  return {
    async current(context, { refresh = true } = {}) {
      const row = await read(context, refresh);
      if (!row) return null;
      // Slide the expiry once `updateAge` has passed since it was last set; of concurrent requests only one writes.
      const extended = expiryFor(context.now, row.createdAt);
      const due = context.now + ms(config.maxAge - config.updateAge);
      if (refresh && row.expires <= due && extended > row.expires && (await store.touch(row.id, extended, context.now, due))) {
        row.expires = extended;
        row.updatedAt = context.now;
        const cookie = readSessionCookie(config, context);
        if (cookie.kind === "present") writeSessionCookie(config, context, cookie.value, new Date(extended));
      }
      return toSession(config, tokenOf(row));
    },

    async update(context, data) {
      const row = await mustRead(context);
      const shaped = await shapeToken(config, tokenOf(row), { trigger: "update", session: data });
      if (!shaped.token) {
        await store.delete(row.id);
        clearSessionCookie(config, context);
        throw new SessionServerError("unauthenticated", "the jwt callback ended the session");
      }
      const claims = userClaims(shaped.token);
      if (JSON.stringify(claims).length > config.maxCookieSize) throw new SessionServerError("session_too_large", "session data over the size budget");
      // A sign-out racing this update wins: the update of a deleted row reports false.
      if (!(await store.update(row.id, claims, context.now))) throw new SessionServerError("unauthenticated", "the session ended");
      return toSession(config, { ...shaped.token, iat: seconds(context.now) }, { trigger: "update", newSession: data });
    },

    async signIn(context, user) {
      const nowSec = seconds(context.now);
      const initial: JWT = { ...claimsOf(user), iat: nowSec, exp: nowSec + config.maxAge, jti: "", sid: "", auth_time: nowSec };
      const shaped = await shapeToken(config, initial, { user, trigger: "signIn" });
      if (!shaped.token) return false;
      // Never adopt the incoming session id (fixation): end it and mint a new one.
      await endIncoming(context);
      await create(context, userClaims(shaped.token), String(user.id), context.now);
      return true;
    },

    async signOut(context) {
      await endIncoming(context);
      clearSessionCookie(config, context);
    },

    async list(context) {
      const row = await mustRead(context);
      return (await store.listByUser(row.userId, context.now)).map((session) => listing(session, row.id));
    },

    async revoke(context, target) {
      const row = await mustRead(context);
      if ("all" in target) {
        await store.deleteByUser(row.userId);
      } else {
        const victim = typeof target.id === "string" && target.id.length <= 128 ? await store.get(target.id, context.now) : null;
        // Only the user's own sessions; anything else looks like a session that does not exist.
        if (!victim || victim.userId !== row.userId) throw new SessionServerError("session_not_found", "no such session");
        await store.delete(victim.id);
        if (victim.id !== row.id) return;
      }
      clearSessionCookie(config, context);
    },
  };
}
